"""Typed models of the device-profile contract (``device_profiles/*.yaml``).

Two YAML file kinds are validated into these models by :mod:`harness.profiles.loader`:

* an **app set** (``device_profiles/apps/<set>.yaml``) → :class:`AppSetFile`: ``app_set`` + ``apps``;
* a **device profile** (``device_profiles/<vendor>-<model>.yaml``) → :class:`ProfileFile`: ``profile``,
  ``name``, ``match``, ``regions``, ``operators``, ``include``, ``apps``, ``overrides``.

The loader resolves includes and overrides into a :class:`DeviceProfile`, whose
:meth:`DeviceProfile.requirements` gives one :class:`AppRequirement` per app for the device's region.

Every model forbids unknown keys. Values that the harness may later put on an adb shell command line
(package and class names) are validated against Java naming rules; the loader separately rejects shell
metacharacters in *every* string of a contract (see :data:`SHELL_METACHARACTERS`).

Custom validation failures are raised as ``PydanticCustomError("profile_value", ...)`` whose context
carries ``message`` and ``hint``; the loader turns them into :class:`harness.errors.ProfileError` with
file, line and key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

CUSTOM_ERROR = "profile_value"
"""pydantic error type used for this module's own validation failures (context: message, hint)."""

SHELL_METACHARACTERS = ";&|`$<>\\\"'\n\r"
"""Characters no contract string may contain: the harness passes package names and other values to
``adb shell`` (always quoted, but a contract has no reason to carry them), so they are rejected at load."""

MAX_PACKAGE_LENGTH = 255
"""Longest package name Android accepts (``PackageParser`` rejects longer names)."""

PARTITIONS = ("system", "product", "system_ext", "vendor", "odm", "data")
"""Partition names a requirement may list; the device side derives them from the APK code path
(``/system/app/...`` → system, ``/product/priv-app/...`` → product, ``/data/app/...`` → data)."""

ISO_REGIONS = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())
"""The 249 officially assigned ISO 3166-1 alpha-2 codes (what MIUI's ``ro.miui.region`` reports)."""

_COMMON_REGION_MISTAKES = {"UK": "GB", "EL": "GR", "EN": "GB", "KO": "KR", "JA": "JP"}

_PACKAGE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+")
_SEGMENT_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CLASS_RE = re.compile(r"\.?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def fail(message: str, hint: str | None = None) -> PydanticCustomError:
    """Build the pydantic error this module raises: ``raise fail("bad thing", "what to write instead")``."""
    return PydanticCustomError(CUSTOM_ERROR, "{message}", {"message": message, "hint": hint})


def is_package_name(value: object) -> bool:
    """True for a Java/Android package name as Android accepts it: ``com.example.app`` (≥ 2 segments of
    letters, digits and ``_``, each starting with a letter; ≤ 255 chars). The one rule the profiles and the
    inventory share, so nothing else can reach a device shell."""
    return isinstance(value, str) and len(value) <= MAX_PACKAGE_LENGTH and _PACKAGE_RE.fullmatch(value) is not None


def _check_package(value: str) -> str:
    """Validate a Java/Android package name: ``com.example.app`` (≥ 2 segments, ≤ 255 chars)."""
    if is_package_name(value):
        return value
    example = ("write it like com.example.app: dot-separated segments of letters, digits and _, "
               "each starting with a letter")
    if len(value) > MAX_PACKAGE_LENGTH:
        raise fail(f"package name is {len(value)} characters long", f"Android allows at most {MAX_PACKAGE_LENGTH}")
    if not value.strip():
        raise fail("package name is empty", example)
    if value != value.strip() or any(c.isspace() for c in value):
        raise fail(f"package name {value!r} contains white space", "remove the spaces")
    if "-" in value:
        raise fail(f"package name {value!r} contains '-'",
                   f"Android package names use '_' not '-': did you mean `{value.replace('-', '_')}`?")
    segments = value.split(".")
    if len(segments) < 2:
        raise fail(f"package name {value!r} has a single segment", "a package name has at least two segments, "
                   "e.g. com.example.app (check `pm list packages` on a device for the exact name)")
    for seg in segments:
        if not seg:
            raise fail(f"package name {value!r} has an empty segment", "remove the doubled, leading or trailing dot")
        if not _SEGMENT_RE.fullmatch(seg):
            raise fail(f"package name {value!r}: segment {seg!r} is not a Java identifier", example)
    raise fail(f"invalid package name {value!r}", example)  # pragma: no cover - every branch above covers a cause


def _check_class(value: str) -> str:
    """Validate a Java class name, optionally relative to the package (``.MainActivity``)."""
    if _CLASS_RE.fullmatch(value):
        return value
    raise fail(f"invalid activity class name {value!r}",
               "write a Java class name such as com.example.app.MainActivity or .MainActivity "
               "(no component `pkg/` prefix, no spaces); or leave launcher_activity out so the harness resolves it")


def _check_region(value: str) -> str:
    """Validate an ISO 3166-1 alpha-2 region code in upper case (``IN``, ``CN``)."""
    if value in ISO_REGIONS:
        return value
    up = value.strip().upper()
    if up in ISO_REGIONS:
        raise fail(f"region {value!r} must be written in upper case", f"write `{up}`")
    if up in _COMMON_REGION_MISTAKES:
        good = _COMMON_REGION_MISTAKES[up]
        raise fail(f"{value!r} is not an ISO 3166-1 alpha-2 region code", f"did you mean `{good}`?")
    raise fail(f"{value!r} is not an ISO 3166-1 alpha-2 region code",
               "use two upper-case letters as in ro.miui.region, e.g. CN, IN, ID, BR")


_HEX64 = re.compile(r"[0-9a-fA-F]{64}")


def _check_cert_digest(value: str) -> str:
    """Validate a signing-certificate SHA-256 digest: 64 hex digits (returned in lower case)."""
    text = value.strip()
    if _HEX64.fullmatch(text):
        return text.lower()
    bare = text.replace(":", "").replace(" ", "")
    if _HEX64.fullmatch(bare):
        raise fail(f"signer digest {value!r} has separators",
                   f"write the 64 hex digits without colons or spaces: `{bare.lower()}`")
    if re.fullmatch(r"[0-9a-fA-F]+", bare) and len(bare) in (32, 40):
        kind = "MD5" if len(bare) == 32 else "SHA-1"
        raise fail(f"signer digest {value!r} looks like an {kind} digest ({len(bare)} hex digits)",
                   "give the certificate's SHA-256: 64 hex digits, as `apksigner verify --print-certs` prints "
                   "\"certificate SHA-256 digest\"")
    raise fail(f"signer digest {value!r} is not 64 hex digits ({len(text)} characters)",
               "give the SHA-256 of the signing certificate, as `apksigner verify --print-certs` prints "
               "\"certificate SHA-256 digest\" (64 hex digits, e.g. a40da80a...f5dc)")


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise fail(f"invalid regular expression {value!r}: {exc}",
                   "write a Python regular expression; it is searched in ro.build.fingerprint") from None
    return value


def _one_or_list(value: Any) -> Any:
    """Accept ``model: MI 5`` as shorthand for ``model: [MI 5]``."""
    return [value] if isinstance(value, str) else value


def _unique(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise fail(f"{v!r} is listed twice", "remove the duplicate")
        seen.add(v)
    return values


NonEmptyStr = Annotated[str, Field(min_length=1)]
PackageName = Annotated[str, AfterValidator(_check_package)]
"""An Android package name, validated (see :func:`_check_package`)."""
ClassName = Annotated[str, AfterValidator(_check_class)]
Region = Annotated[str, AfterValidator(_check_region)]
"""An ISO 3166-1 alpha-2 code in upper case."""
CertDigest = Annotated[str, AfterValidator(_check_cert_digest)]
"""SHA-256 of a signing certificate (DER), 64 hex digits, normalised to lower case."""
StrictBool = Annotated[bool, Field(strict=True)]
Severity = Literal["blocker", "critical", "normal", "minor"]
InstallKind = Literal["system", "removable_preload", "any"]
Presence = Literal["required", "absent", "any"]
Partition = Literal["system", "product", "system_ext", "vendor", "odm", "data"]

_FORBID = ConfigDict(extra="forbid", frozen=True)


class VersionSpec(BaseModel):
    """An agreed version rule: exactly one of ``exact``, ``allowed``, or a ``code_min``/``code_max`` range.

    Names are compared exactly as ``dumpsys package`` prints ``versionName`` (a string; ``7.06.0.582``
    is not ``7.6.0.582``); codes numerically against ``versionCode`` (long since Android 9).
    """

    model_config = _FORBID

    exact: NonEmptyStr | None = None
    allowed: Annotated[tuple[NonEmptyStr, ...], Field(min_length=1), AfterValidator(_unique)] | None = None
    code_min: Annotated[int, Field(strict=True, ge=0)] | None = None
    code_max: Annotated[int, Field(strict=True, ge=0)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> VersionSpec:
        by_name = [k for k in ("exact", "allowed") if getattr(self, k) is not None]
        by_code = [k for k in ("code_min", "code_max") if getattr(self, k) is not None]
        if not by_name and not by_code:
            raise fail("empty version rule",
                       "give one of `exact: \"1.2.3\"`, `allowed: [\"1.2.3\", \"1.2.4\"]` or `code_min`/`code_max`; "
                       "or remove `version` to accept any version")
        if len(by_name) == 2:
            raise fail("`exact` and `allowed` cannot be used together",
                       "keep `exact` for a single version, or put every accepted version under `allowed`")
        if by_name and by_code:
            raise fail(f"`{by_name[0]}` cannot be combined with `{by_code[0]}`",
                       "a version rule compares either version_name (exact/allowed) or version_code "
                       "(code_min/code_max), not both")
        if self.code_min is not None and self.code_max is not None and self.code_min > self.code_max:
            raise fail(f"code_min {self.code_min} is greater than code_max {self.code_max}", "swap the two values")
        return self

    def matches(self, version_name: str | None, version_code: int | None) -> bool:
        """True when the observed version satisfies the rule.

        Args:
            version_name: ``versionName`` as printed by ``dumpsys package`` (None when not reported).
            version_code: ``versionCode`` (None when not reported).

        Returns:
            For ``exact``/``allowed``: exact string equality of ``version_name``; for a code range: numeric
            comparison of ``version_code`` (bounds inclusive). A missing observed value never matches.
        """
        if self.exact is not None:
            return version_name is not None and version_name == self.exact
        if self.allowed is not None:
            return version_name is not None and version_name in self.allowed
        if version_code is None:
            return False
        if self.code_min is not None and version_code < self.code_min:
            return False
        return not (self.code_max is not None and version_code > self.code_max)

    def describe(self) -> str:
        """One-line text of the rule, e.g. ``version_name == 16.0.7070.2036`` or ``version_code >= 173``."""
        if self.exact is not None:
            return f"version_name == {self.exact}"
        if self.allowed is not None:
            return "version_name in [" + ", ".join(self.allowed) + "]"
        if self.code_min is not None and self.code_max is not None:
            return f"{self.code_min} <= version_code <= {self.code_max}"
        if self.code_min is not None:
            return f"version_code >= {self.code_min}"
        return f"version_code <= {self.code_max}"


class FirstScreen(BaseModel):
    """What the first screen after launch must show (a uiautomator hierarchy ``text`` and/or ``resource-id``)."""

    model_config = _FORBID

    text: NonEmptyStr | None = None
    resource_id: NonEmptyStr | None = None

    @model_validator(mode="after")
    def _something(self) -> FirstScreen:
        if self.text is None and self.resource_id is None:
            raise fail("first_screen is empty", "give `text` (visible text) and/or `resource_id` (e.g. com.x:id/title)")
        return self


class LaunchSpec(BaseModel):
    """Launch expectations: ``cold_start_ms`` limit (milliseconds, > 0) and the ``first_screen`` content."""

    model_config = _FORBID

    cold_start_ms: Annotated[int, Field(strict=True, gt=0)] | None = None
    first_screen: FirstScreen | None = None


class AppSpec(BaseModel):
    """One contracted app as written in an app set or a profile (before region resolution).

    Defaults: ``required_in`` None (= every region of the profile), ``elsewhere`` any, ``install_kind`` any,
    ``allow_updated`` true, ``enabled`` true, ``severity`` normal; ``version``, ``partitions``,
    ``launcher_activity``, ``launch`` and ``signers`` None (not checked / resolved by the harness).

    ``signers``: the agreed signing certificates, each the SHA-256 of the certificate (64 hex digits, as
    ``apksigner verify --print-certs`` prints it). The app passes when the certificate Android uses for its APKs
    is one of them, or when that certificate was rotated from one of them (APK Signature Scheme v3 lineage).
    """

    model_config = _FORBID

    package: PackageName
    name: NonEmptyStr
    version: VersionSpec | None = None
    version_by_region: dict[Region, VersionSpec] = Field(default_factory=dict)
    required_in: Annotated[list[Region], Field(min_length=1), AfterValidator(_unique)] | None = None
    elsewhere: Literal["absent", "any"] = "any"
    package_by_region: dict[Region, PackageName] = Field(default_factory=dict)
    install_kind: InstallKind = "any"
    allow_updated: StrictBool = True
    partitions: Annotated[list[Partition], Field(min_length=1), AfterValidator(_unique)] | None = None
    enabled: StrictBool = True
    launcher_activity: ClassName | None = None
    severity: Severity = "normal"
    launch: LaunchSpec | None = None
    signers: Annotated[list[CertDigest], Field(min_length=1), AfterValidator(_unique)] | None = None

    _source: str = PrivateAttr(default="")
    _override_source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str:
        """``path:line`` of the app entry in its YAML file."""
        return self._source

    @property
    def override_source(self) -> str | None:
        """``path:line`` of the profile override that changed this app, or None."""
        return self._override_source


class MatchSpec(BaseModel):
    """Which devices a profile applies to, compared with ``getprop`` values.

    ``model``/``device``/``name`` are compared exactly with ``ro.product.model`` / ``ro.product.device`` /
    ``ro.product.name``; ``fingerprint`` is a regular expression searched in ``ro.build.fingerprint``.
    """

    model_config = _FORBID

    model: Annotated[list[NonEmptyStr], BeforeValidator(_one_or_list), Field(min_length=1)] | None = None
    device: Annotated[list[NonEmptyStr], BeforeValidator(_one_or_list), Field(min_length=1)] | None = None
    name: Annotated[list[NonEmptyStr], BeforeValidator(_one_or_list), Field(min_length=1)] | None = None
    fingerprint: Annotated[NonEmptyStr, AfterValidator(_check_regex)] | None = None

    @model_validator(mode="after")
    def _needs_identity(self) -> MatchSpec:
        if self.model is None and self.device is None and self.name is None:
            raise fail("match needs at least one of `model`, `device`, `name`",
                       "e.g. `model: [MI 5]` (the value of ro.product.model)")
        return self

    PROPS: ClassVar[dict[str, str]] = {
        "model": "ro.product.model", "device": "ro.product.device", "name": "ro.product.name"}
    """Match key → system property it is compared with."""

    def matches(self, props: Mapping[str, str]) -> bool:
        """True when every given key matches one of its values and the fingerprint regex (if any) is found.

        Args:
            props: ``getprop`` output as a mapping (``ro.product.model`` → ``MI 5``); a missing property
                never matches.
        """
        for key, prop in self.PROPS.items():
            wanted = getattr(self, key)
            if wanted is not None and props.get(prop) not in wanted:
                return False
        if self.fingerprint is not None:
            fp = props.get("ro.build.fingerprint")
            if fp is None or re.search(self.fingerprint, fp) is None:
                return False
        return True

    def describe(self) -> str:
        """``model=MI 5 device=gemini`` (only the keys given)."""
        parts = [f"{k}={'|'.join(getattr(self, k))}" for k in self.PROPS if getattr(self, k) is not None]
        if self.fingerprint is not None:
            parts.append(f"fingerprint~{self.fingerprint}")
        return " ".join(parts)


class AppSetFile(BaseModel):
    """The YAML contract of a shared app set: ``app_set: <name>`` (= file stem) and ``apps``."""

    model_config = _FORBID

    app_set: NonEmptyStr
    apps: list[AppSpec]


class ProfileFile(BaseModel):
    """The YAML contract of one device profile, before includes and overrides are resolved.

    ``overrides`` values stay raw mappings here: the loader validates each one merged onto the app it
    changes, so that field errors point at the override's own line.
    """

    model_config = _FORBID

    profile: NonEmptyStr
    name: NonEmptyStr
    match: MatchSpec
    regions: Annotated[list[Region], Field(min_length=1), AfterValidator(_unique)]
    operators: Annotated[list[NonEmptyStr], Field(min_length=1), AfterValidator(_unique)] | None = None
    include: list[NonEmptyStr] = Field(default_factory=list)
    apps: list[AppSpec] = Field(default_factory=list)
    overrides: dict[PackageName, dict[str, Any]] = Field(default_factory=dict)


class AppRequirement(BaseModel):
    """What one app must look like on a device of one region (immutable).

    ``package`` is after ``package_by_region``; ``version`` after ``version_by_region`` (None: any version);
    ``presence`` is ``required`` (must be installed for user 0), ``absent`` (must not be installed) or ``any``.
    ``source`` is ``path:line`` of the app entry, ``override_source`` that of the profile override, if any.
    ``signers``: agreed signing-certificate SHA-256 digests (lower-case hex), or None when none is agreed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    package: str
    name: str
    presence: Presence
    version: VersionSpec | None
    install_kind: InstallKind
    allow_updated: bool
    partitions: list[str] | None
    enabled: bool
    launcher_activity: str | None
    severity: Severity
    launch: LaunchSpec | None
    source: str
    override_source: str | None = None
    region: str | None = None
    profile: str = ""
    signers: tuple[str, ...] | None = None


class DeviceProfile(BaseModel):
    """A validated device profile with its app list resolved (includes, then own apps, then overrides).

    Attributes:
        id: the profile id (= file stem), e.g. ``xiaomi-mi5``.
        name: display name.
        path: the YAML file it was loaded from.
        match: which devices it applies to.
        regions: agreed regions (ISO alpha-2), in file order.
        operators: agreed operators, or None when the agreement does not name any.
        apps: resolved :class:`AppSpec` list, never empty.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    name: str
    path: Path
    match: MatchSpec
    regions: list[str]
    operators: list[str] | None = None
    apps: list[AppSpec]

    def app(self, package: str) -> AppSpec:
        """The resolved app with this (base) package name; KeyError if the profile has none."""
        for spec in self.apps:
            if spec.package == package:
                return spec
        raise KeyError(package)

    def requirements(self, region: str | None, operator: str | None = None) -> list[AppRequirement]:
        """One :class:`AppRequirement` per app, for a device in ``region``.

        Args:
            region: the device's region (ISO alpha-2, e.g. from ``ro.miui.region``), or None when unknown.
                A region outside :attr:`regions` is "not agreed": every app then gets its ``elsewhere``
                presence (the caller reports the region itself as a defect).
            operator: the device's operator; accepted for the API's stability, no app rule depends on it yet.

        Returns:
            Requirements in :attr:`apps` order. Presence: ``required`` when ``region`` is in the app's
            ``required_in`` (default: all profile regions), else the app's ``elsewhere``; for an unknown
            region ``required`` if the app is required in every profile region, else ``any``. Version and
            package use the region's ``version_by_region``/``package_by_region`` entry when there is one.
        """
        del operator  # reserved: no per-operator rule exists in the contract yet
        reg = region.strip().upper() if region else None
        out: list[AppRequirement] = []
        for spec in self.apps:
            required_in = spec.required_in if spec.required_in is not None else self.regions
            presence: Presence
            if reg is None:
                presence = "required" if set(self.regions) <= set(required_in) else "any"
            elif reg in required_in:
                presence = "required"
            else:
                presence = spec.elsewhere
            version = spec.version_by_region.get(reg, spec.version) if reg else spec.version
            package = spec.package_by_region.get(reg, spec.package) if reg else spec.package
            out.append(AppRequirement(
                package=package, name=spec.name, presence=presence, version=version,
                install_kind=spec.install_kind, allow_updated=spec.allow_updated,
                partitions=list(spec.partitions) if spec.partitions is not None else None,
                enabled=spec.enabled, launcher_activity=spec.launcher_activity, severity=spec.severity,
                launch=spec.launch, source=spec.source, override_source=spec.override_source,
                region=reg, profile=self.id,
                signers=tuple(spec.signers) if spec.signers is not None else None))
        return out
