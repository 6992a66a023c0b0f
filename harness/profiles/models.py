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

import re2
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from harness.operator import ascii_digits_hint

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


_OPERATOR_RE = re.compile(r"[0-9]{3}-[0-9]{2,3}")  # ASCII digits only: \\d would take ４０５-８５７ too


def _digits(text: str) -> str:
    return f"{len(text)} digit" + ("s" if len(text) != 1 else "")


def _check_operator(value: str) -> str:
    """Validate an operator code written MCC-MNC: 3-digit mobile country code, dash, 2- or 3-digit network code
    (ASCII digits, as ``gsm.sim.operator.numeric`` gives them)."""
    if _OPERATOR_RE.fullmatch(value):
        return value
    hint = ascii_digits_hint(value)
    if hint:
        raise fail(f"operator {value!r} is written with non-ASCII digits (a device reports ASCII digits)", hint)
    mcc, dash, mnc = value.partition("-")
    if dash and mcc.isdigit() and mnc.isdigit() and mcc.isascii() and mnc.isascii():
        bare = mcc.lstrip("0").rjust(3, "0") if len(mcc) > 3 else mcc
        guess = f"{bare}-{mnc}"
        syntax = "write MCC-MNC as gsm.sim.operator.numeric gives it: 3 digits, a dash, 2 or 3 digits, e.g. 460-00"
        if len(mcc) != 3:
            raise fail(f"operator {value!r}: the MCC {mcc} has {_digits(mcc)} (a mobile country code has 3)",
                       f"did you mean `{guess}`?" if _OPERATOR_RE.fullmatch(guess) else syntax)
        raise fail(f"operator {value!r}: the MNC {mnc} has {_digits(mnc)} (a mobile network code has 2 or 3)", syntax)
    digits = re.sub(r"[^0-9]", "", value)
    if re.fullmatch(r"[0-9]{5,6}", digits):
        raise fail(f"operator {value!r} must be written MCC-MNC with a dash", f"write `{digits[:3]}-{digits[3:]}`")
    raise fail(f"{value!r} is not an operator code",
               "name operators by MCC-MNC as gsm.sim.operator.numeric gives them, with a dash: e.g. 405-857, 460-11")


def _operators_map(value: Any) -> Any:
    """``operators`` is a map MCC-MNC → display name; a plain list (the old form) gets a precise hint."""
    if isinstance(value, list):
        raise fail("operators must map each MCC-MNC code to a display name",
                   "write e.g. `operators: {405-857: Jio, 404-10: Airtel}` (one code per line in block style)")
    return value


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error is reported as a profile error, not logged to stderr by the library


def compile_fingerprint(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (google-re2): matching takes time linear in the fingerprint's length, whatever
    the pattern (``^(a+)+b`` cannot backtrack). Raises ``re2.error`` for syntax RE2 does not have (look-around,
    backreferences) or a malformed pattern."""
    return re2.compile(pattern, _RE2_OPTIONS)


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
        compile_fingerprint(value)
    except re2.error as exc:
        why = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise fail(f"fingerprint pattern {value!r} is not supported: {why}",
                   "write an RE2 regular expression (Python `re` syntax without look-around or backreferences, "
                   "e.g. ^Xiaomi/olivelite/); it is searched in ro.build.fingerprint") from None
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


def _not_blank(value: str) -> str:
    if value.strip():
        return value
    raise fail(f"{value!r} is blank", "write the text as the launcher or the report shows it, or remove the key")


NonEmptyStr = Annotated[str, Field(min_length=1)]
NonBlankStr = Annotated[str, Field(min_length=1), AfterValidator(_not_blank)]
"""A text that must show something (labels compared with what the launcher shows): white space alone is refused."""
PackageName = Annotated[str, AfterValidator(_check_package)]
"""An Android package name, validated (see :func:`_check_package`)."""
ClassName = Annotated[str, AfterValidator(_check_class)]
Region = Annotated[str, AfterValidator(_check_region)]
"""An ISO 3166-1 alpha-2 code in upper case."""
OperatorCode = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v),
                         AfterValidator(_check_operator)]
"""A mobile operator as MCC-MNC (``405-857``)."""
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

    text: NonBlankStr | None = None
    resource_id: NonBlankStr | None = None

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


MAX_PAGE = 50
"""Highest home-screen page a placement may name (launchers have a handful; the check swipes page by page)."""


def _check_page(value: int) -> int:
    if value > MAX_PAGE:
        raise fail(f"page {value} is beyond any launcher (at most {MAX_PAGE} pages)",
                   "count pages from the default home screen (page 1, the page HOME shows) to the right, e.g. page: 2")
    if value >= 1:
        return value
    raise fail(f"page {value} does not exist: pages are counted from 1",
               "page 1 is the default home screen (the page HOME shows), page 2 the one to its right")


class Placement(BaseModel):
    """Where the app's icon must be on the launcher (GTS HomescreenLayoutTest's idea, for partner apps).

    Exactly one of ``home_screen: true`` (the icon directly on the home screen, or in its hotseat/dock) or
    ``folder: <name>`` (the icon inside a folder of that name on the home screen). ``page`` (>= 1, default 1) is
    the workspace page counted from the *default* home screen (the page HOME shows) to the right: page 1 is the
    default home screen. ``label`` is the icon's text on the launcher when it differs from the app's ``name``.
    """

    model_config = _FORBID

    home_screen: StrictBool | None = None
    folder: NonBlankStr | None = None
    page: Annotated[int, Field(strict=True), AfterValidator(_check_page)] | None = None
    label: NonBlankStr | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Placement:
        if self.home_screen is False:
            raise fail("`home_screen: false` agrees nothing",
                       "write `home_screen: true`, or `folder: <name>`, or remove `placement` (no placement agreed)")
        if self.home_screen and self.folder is not None:
            raise fail("`home_screen` and `folder` cannot be used together",
                       "`folder: <name>` already means a folder on the home screen; keep one of the two")
        if not self.home_screen and self.folder is None:
            raise fail("placement names no place",
                       "give `home_screen: true` or `folder: <name>` (optionally with `page: N`)")
        return self

    @property
    def target_page(self) -> int:
        """The workspace page the icon (or its folder) must be on: ``page``, default 1 (the default home screen)."""
        return self.page or 1

    def describe(self, label: str) -> str:
        """One-line text of the agreement, e.g. ``icon "Word" in folder "Microsoft" on home screen page 1``."""
        where = f"home screen page {self.target_page}" + (" (the default home screen)" if self.target_page == 1
                                                           else "")
        if self.folder is not None:
            return f'icon "{label}" in folder "{self.folder}" on {where}'
        return f'icon "{label}" on {where} or its hotseat'


class AppSpec(BaseModel):
    """One contracted app as written in an app set or a profile (before region resolution).

    Defaults: ``required_in`` None (= every region of the profile), ``elsewhere`` any, ``install_kind`` any,
    ``allow_updated`` true, ``enabled`` true, ``severity`` normal; ``version``, ``partitions``,
    ``launcher_activity``, ``launch``, ``placement`` and ``signers`` None (not checked / resolved by the harness).

    Per operator, the counterparts of the region rules: ``required_on`` (operators on which the app is required,
    where its region requires it; None = every operator), ``other_operators`` (presence on the other operators:
    ``absent`` or ``any``) and ``version_by_operator`` (wins over ``version_by_region``).

    ``signers``: the agreed signing certificates, each the SHA-256 of the certificate (64 hex digits, as
    ``apksigner verify --print-certs`` prints it). The app passes when the certificate Android uses for its APKs
    is one of them, or when that certificate was rotated from one of them (APK Signature Scheme v3 lineage).
    """

    model_config = _FORBID

    package: PackageName
    name: NonBlankStr
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
    required_on: Annotated[list[OperatorCode], Field(min_length=1), AfterValidator(_unique)] | None = None
    other_operators: Literal["absent", "any"] = "any"
    version_by_operator: dict[OperatorCode, VersionSpec] = Field(default_factory=dict)
    placement: Placement | None = None
    signers: Annotated[list[CertDigest], Field(min_length=1), AfterValidator(_unique)] | None = None

    _source: str = PrivateAttr(default="")
    _override_source: str | None = PrivateAttr(default=None)

    @field_validator("launch", "placement")
    @classmethod
    def _not_when_disabled(cls, value: Any, info: ValidationInfo) -> Any:
        """``enabled: false`` with ``launch`` or ``placement``: a disabled app has no launcher icon and cannot be
        launched, so those checks would be skipped on every device and the agreed launch/placement never checked."""
        if value is not None and info.data.get("enabled") is False:
            what = "be launched" if info.field_name == "launch" else "have a launcher icon"
            raise fail(f"`enabled: false` contradicts `{info.field_name}`: a disabled app cannot {what}, so the "
                       f"agreed {info.field_name} would never be checked",
                       f"remove `{info.field_name}` - in a profile override write `{info.field_name}: null` - "
                       "or agree `enabled: true`")
        return value

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
    ``ro.product.name``; ``fingerprint`` is an RE2 regular expression (linear-time matching, see
    :func:`compile_fingerprint`) searched in ``ro.build.fingerprint``.
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
            if fp is None or compile_fingerprint(self.fingerprint).search(fp) is None:
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
    operators: Annotated[dict[OperatorCode, NonEmptyStr], BeforeValidator(_operators_map),
                         Field(min_length=1)] | None = None
    include: list[NonEmptyStr] = Field(default_factory=list)
    apps: list[AppSpec] = Field(default_factory=list)
    overrides: dict[PackageName, dict[str, Any]] = Field(default_factory=dict)


class AppRequirement(BaseModel):
    """What one app must look like on a device of one region (immutable).

    ``package`` is after ``package_by_region``; ``version`` after ``version_by_region`` (None: any version);
    ``presence`` is ``required`` (must be installed for user 0), ``absent`` (must not be installed) or ``any``.
    ``placement`` is where its launcher icon must be (None: no placement agreed).
    ``source`` is ``path:line`` of the app entry, ``override_source`` that of the profile override, if any.
    ``operator`` is the device's operator (MCC-MNC) the requirement was resolved for; ``operator_rule`` names the
    operator rule that decided presence or version (``required on 405-857 (Jio)``), for failure tags;
    ``operator_unknown`` is True when such a rule exists but the device's operator is unknown: the checks that
    depend on it are then not applicable (never passed).
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
    placement: Placement | None = None
    region: str | None = None
    profile: str = ""
    operator: str | None = None
    operator_rule: str | None = None
    operator_unknown: bool = False
    presence_rule: str | None = None
    """The operator rule that set ``presence`` instead of the region (``any on operators other than 405-857
    (Jio)``), or None when the region decided it."""
    signers: tuple[str, ...] | None = None


class DeviceProfile(BaseModel):
    """A validated device profile with its app list resolved (includes, then own apps, then overrides).

    Attributes:
        id: the profile id (= file stem), e.g. ``xiaomi-mi5``.
        name: display name.
        path: the YAML file it was loaded from.
        match: which devices it applies to.
        regions: agreed regions (ISO alpha-2), in file order.
        operators: agreed operators, MCC-MNC → display name, or None when the agreement does not name any.
        apps: resolved :class:`AppSpec` list, never empty.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    id: str
    name: str
    path: Path
    match: MatchSpec
    regions: list[str]
    operators: dict[str, str] | None = None
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
            operator: the device's operator as MCC-MNC (``405-857``), or None when unknown.

        Returns:
            Requirements in :attr:`apps` order. Presence: ``required`` when ``region`` is in the app's
            ``required_in`` (default: all profile regions), else the app's ``elsewhere``; for an unknown
            region ``required`` if the app is required in every profile region, else ``any``. Then, for an
            app with ``required_on``, a required app on another operator gets the app's ``other_operators``.
            Version and package use the region's ``version_by_region``/``package_by_region`` entry when there
            is one; ``version_by_operator`` wins over both. An operator rule with an unknown operator sets
            ``operator_unknown``.
        """
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
            rule: str | None = None
            unknown = False
            by_operator: str | None = None
            if spec.required_on is not None or spec.version_by_operator:
                if operator is None:
                    unknown = True
                    rule = "rules per operator (" + ", ".join(
                        [*(spec.required_on or []), *spec.version_by_operator]) + ")"
                else:
                    if spec.required_on is not None:
                        if operator in spec.required_on:
                            rule = f"required on {self.operator_label(operator)}"
                        elif presence == "required":
                            presence = spec.other_operators
                            rule = by_operator = (f"{spec.other_operators} on operators other than "
                                                  + ", ".join(self.operator_label(o) for o in spec.required_on))
                    if operator in spec.version_by_operator:
                        version = spec.version_by_operator[operator]
                        rule = f"version for {self.operator_label(operator)}"
            out.append(AppRequirement(
                package=package, name=spec.name, presence=presence, version=version,
                install_kind=spec.install_kind, allow_updated=spec.allow_updated,
                partitions=list(spec.partitions) if spec.partitions is not None else None,
                enabled=spec.enabled, launcher_activity=spec.launcher_activity, severity=spec.severity,
                launch=spec.launch, placement=spec.placement, source=spec.source,
                override_source=spec.override_source,
                region=reg, profile=self.id, operator=operator, operator_rule=rule, operator_unknown=unknown,
                presence_rule=by_operator, signers=tuple(spec.signers) if spec.signers is not None else None))
        return out

    def operator_label(self, code: str | None) -> str:
        """``405-857 (Jio)`` with the profile's display name, or the code alone; ``unknown`` for None."""
        if code is None:
            return "unknown"
        name = (self.operators or {}).get(code)
        return f"{code} ({name})" if name else code
