"""Pure checks: ``f(requirement, observed state) -> Verdict``. No adb, no pytest, no device.

Each check returns a :class:`Verdict` whose status is ``pass``, ``fail`` (a product defect: the
suite turns it into an assertion failure, Allure "failed") or ``not_applicable`` (the suite skips,
saying why). Infrastructure faults never reach here: they are exceptions raised while collecting
the observed state.

Failure messages start with a stable category tag (``[missing app]``, ``[version mismatch]``, ...)
that Allure categories and the compliance matrix match on; see :data:`CATEGORIES`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from harness.errors import HomeScreenError
from harness.homescreen import HomeScreenSurvey, normalize_label
from harness.inventory import PackageState
from harness.reporting.text import neutralize
from harness.signatures import PackageSigners

Status = Literal["pass", "fail", "not_applicable"]

CATEGORIES = {
    "missing app": "A required app is not installed for user 0",
    "present where not agreed": "An app is installed in a market where the agreement says it must be absent",
    "version mismatch": "The active version differs from the agreed version",
    "wrong install kind": "The app is not preinstalled the agreed way (system / updated system / removable preload)",
    "wrong partition": "The app's APK is not on an agreed partition",
    "disabled": "The app is disabled for user 0",
    "region not agreed": "The device's market/region is not one the agreement covers",
    "operator not agreed": "The device's mobile operator (MCC-MNC) is not one the agreement covers",
    "not on home screen": "The app's icon is not on the agreed home-screen page (nor its hotseat)",
    "not in folder": "The app's icon is not inside the agreed home-screen folder",
    "wrong signer": "An APK of the app is signed with a certificate the agreement does not name",
    "test-key signed": "An APK of the app is signed with a public AOSP test key",
}
"""Product-defect categories of the placement/presence/version/region/home-screen checks (tag → meaning)."""


class VersionRule(Protocol):
    """What a check needs of a profile's version spec (``harness.profiles.VersionSpec``)."""

    def matches(self, version_name: str | None, version_code: int | None) -> bool: ...  # noqa: D102

    def describe(self) -> str: ...  # noqa: D102


class Requirement(Protocol):
    """What a check needs of a resolved app requirement (``harness.profiles.AppRequirement``)."""

    package: str
    name: str
    presence: str
    version: VersionRule | None
    install_kind: str
    allow_updated: bool
    partitions: list[str] | None
    enabled: bool
    severity: str
    signers: tuple[str, ...] | None


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check.

    ``expected`` and ``found`` are one-line human texts; ``evidence`` the exact output lines that
    decided; ``category`` a key of :data:`CATEGORIES` (or a launch category) when failed.
    """

    check: str
    status: Status
    expected: str
    found: str
    reason: str
    category: str | None = None
    evidence: tuple[str, ...] = field(default_factory=tuple)
    rule_tag: str | None = None
    """A second tag naming the contract rule that decided (``operator rule: required on 405-857 (Jio)``)."""

    @property
    def tags(self) -> str:
        """``[category] [rule tag] `` as failure messages start (empty when neither is set)."""
        return (f"[{self.category}] " if self.category else "") + (f"[{self.rule_tag}] " if self.rule_tag else "")

    @property
    def failed(self) -> bool:
        """True for a product defect."""
        return self.status == "fail"

    def message(self, device: str, subject: str | None = None) -> str:
        """The failure message: ``[category] device: subject: reason; expected …; found …; evidence: …``.

        Device-controlled text (versions, paths, log lines, labels) is neutralized
        (:func:`harness.reporting.text.neutralize`): the message reaches terminals, JUnit and Allure as is.
        """
        n = neutralize
        tag = self.tags
        who = f"{n(device)}: {n(subject)}" if subject else n(device)
        text = f"{tag}{who}: {n(self.reason)}\n  expected: {n(self.expected)}\n  found:    {n(self.found)}"
        if self.evidence:
            text += "\n  evidence: " + "\n            ".join(n(line) for line in self.evidence[:6])
        return text


def _na(check: str, reason: str, expected: str = "-", found: str = "-") -> Verdict:
    return Verdict(check=check, status="not_applicable", expected=expected, found=found, reason=reason)


def _installed_text(state: PackageState) -> str:
    if state.installed:
        where = state.code_path or "unknown path"
        name = "no versionName" if state.version_name is None else state.version_name
        return f"installed for user 0 ({name} / {state.version_code}) at {where}"
    if state.known:
        return f"NOT installed for user 0, but still known to the package manager at {state.code_path or '?'}"
    return "not installed (unknown to the package manager)"


def _operator_gate(check: str, req: Requirement) -> Verdict | None:
    """Not applicable when the requirement depends on an operator rule and the device's operator is unknown."""
    if getattr(req, "operator_unknown", False):
        return _na(check, f"{req.name} has {getattr(req, 'operator_rule', None) or 'rules per operator'}, and the "
                          "device's operator is unknown (no SIM, or SIMs of different operators): state it with "
                          "--operator")
    return None


def _rule_tag(req: Requirement) -> str | None:
    rule = getattr(req, "operator_rule", None)
    return f"operator rule: {rule}" if rule else None


def not_required_reason(req: Requirement) -> str:
    """Why a check does not apply to an app the agreement does not require here, naming what decided it: the
    region (``Skype is not required in this region (presence: any)``) or the operator rule (``Skype is not
    required on operator 404-20 (any on operators other than 405-857 (Jio))``)."""
    rule = getattr(req, "presence_rule", None)
    if rule:
        return f"{req.name} is not required on operator {getattr(req, 'operator', None)} ({rule})"
    return f"{req.name} is not required in this region (presence: {req.presence})"


def check_presence(req: Requirement, state: PackageState) -> Verdict:
    """A required app must be installed for user 0 (``dumpsys package`` User 0 ``installed=true``).

    Not applicable when the agreement requires nothing in this region (``presence`` ``any``/``absent``:
    absence is the region suite's business, :func:`check_app_region`), or when an operator rule decides and the
    device's operator is unknown. A failure decided by an operator rule carries that rule as a second tag.
    """
    gate = _operator_gate("presence", req)
    if gate:
        return gate
    if req.presence != "required":
        return _na("presence", not_required_reason(req))
    if state.installed:
        return Verdict("presence", "pass", "installed for user 0", _installed_text(state),
                       f"{req.name} is installed", evidence=state.evidence)
    reason = (f"{req.name} is on the image but uninstalled for user 0" if state.known
              else f"{req.name} ({req.package}) is not installed")
    return Verdict("presence", "fail", "installed for user 0", _installed_text(state), reason,
                   category="missing app", evidence=state.evidence, rule_tag=_rule_tag(req))


def check_app_region(req: Requirement, state: PackageState) -> Verdict:
    """An app whose agreement says ``absent`` in this region (or on this operator) must not be installed for
    user 0."""
    gate = _operator_gate("app_region", req)
    if gate:
        return gate
    if req.presence == "required":
        return _na("app_region", f"{req.name} is required in this region (absence rules do not apply)")
    if req.presence != "absent":
        return _na("app_region", f"{req.name} may or may not be present in this region (presence: any)")
    if not state.installed:
        return Verdict("app_region", "pass", "absent", _installed_text(state), f"{req.name} is absent",
                       evidence=state.evidence)
    return Verdict("app_region", "fail", "absent in this region", _installed_text(state),
                   f"{req.name} is installed in a market where it is not agreed", category="present where not agreed",
                   evidence=state.evidence, rule_tag=_rule_tag(req))


def _needs_installed(check: str, req: Requirement, state: PackageState) -> Verdict | None:
    if req.presence != "required":
        return _na(check, not_required_reason(req))
    if not state.installed:
        return _na(check, f"{req.name} is not installed for user 0 (reported by the presence check)")
    return None


def _name_text(name: str | None) -> str:
    """``version_name 1.0`` or ``no versionName`` (``versionName=null``: the manifest sets none)."""
    return "no versionName" if name is None else f"version_name {name}"


def _version_text(state: PackageState) -> str:
    text = f"{_name_text(state.version_name)} (version_code {state.version_code})"
    if state.updated_system:
        factory = "no versionName" if state.factory_version_name is None else state.factory_version_name
        text += (f"; updated system app, factory copy {factory} "
                 f"({state.factory_version_code}) at {state.factory_code_path}")
    return text


def check_version(req: Requirement, state: PackageState) -> Verdict:
    """The ACTIVE copy's version must satisfy the agreed rule (exact name, allowed names, code range).

    For an updated system app the active copy is the one in ``Packages:``, not the factory copy in
    ``Hidden system packages:`` (corpus: dumpsys-package_wearos_updated-vendor-app_*).
    """
    skip = _operator_gate("version", req) or _needs_installed("version", req, state)
    if skip:
        return skip
    if req.version is None:
        return _na("version", f"the agreement names no version for {req.name}")
    expected = req.version.describe()
    found = _version_text(state)
    if req.version.matches(state.version_name, state.version_code):
        return Verdict("version", "pass", expected, found, "version agreed", evidence=state.evidence)
    return Verdict("version", "fail", expected, found, f"{req.name} is at a version that is not agreed",
                   category="version mismatch", evidence=state.evidence, rule_tag=_rule_tag(req))


def check_install_kind(req: Requirement, state: PackageState) -> Verdict:
    """The app must be preinstalled the agreed way and, if partitions are agreed, on one of them.

    ``system``: factory system app (an updated system app passes only with ``allow_updated``);
    ``removable_preload``: APK in a data-app folder; ``any``: anything installed. The partition of an
    updated system app is its factory copy's.
    """
    skip = _needs_installed("install_kind", req, state)
    if skip:
        return skip
    kind = state.install_kind or "unknown"
    found = f"{kind} at {state.code_path}" + (f" (factory copy at {state.factory_code_path})"
                                               if state.updated_system else "")
    if req.install_kind == "system":
        ok = kind == "system" or (kind == "updated_system" and req.allow_updated)
        expected = "factory system app" + (" (updated copy accepted)" if req.allow_updated else ", not updated")
    elif req.install_kind == "removable_preload":
        ok, expected = kind == "removable_preload", "removable preload (data-app folder of the image)"
    else:
        ok, expected = True, "any install kind"
    if not ok:
        return Verdict("install_kind", "fail", expected, found, f"{req.name} is not preinstalled as agreed",
                       category="wrong install kind", evidence=state.evidence)
    partitions: Sequence[str] | None = req.partitions
    if partitions:
        part = state.factory_partition if state.updated_system else state.partition
        if part not in partitions:
            return Verdict("install_kind", "fail", f"on partition {' or '.join(partitions)}",
                           f"on partition {part} ({found})", f"{req.name} is on a partition that is not agreed",
                           category="wrong partition", evidence=state.evidence)
    return Verdict("install_kind", "pass", expected, found, "preinstalled as agreed", evidence=state.evidence)


def check_enabled(req: Requirement, state: PackageState) -> Verdict:
    """The app must be enabled for user 0 (``enabled=`` 0 default or 1 enabled; 2/3/4 are disabled)."""
    skip = _needs_installed("enabled", req, state)
    if skip:
        return skip
    found = f"enabled state {state.enabled_state} ({state.enabled_state_name}) for user 0"
    if not req.enabled:
        return _na("enabled", "the agreement does not require the app to be enabled", found=found)
    if state.enabled:
        return Verdict("enabled", "pass", "enabled for user 0", found, "enabled", evidence=state.evidence)
    return Verdict("enabled", "fail", "enabled for user 0", found, f"{req.name} is disabled for user 0",
                   category="disabled", evidence=state.evidence)


def check_device_region(agreed_regions: Sequence[str], region: str | None, *, source: str | None = None,
                        conflicts: Sequence[str] = (), signals: dict[str, str] | None = None) -> Verdict:
    """The device's market (resolved region) must be one of the profile's agreed regions."""
    evidence = tuple(f"{k}={v}" for k, v in sorted((signals or {}).items()))
    evidence += tuple(f"conflict: {c}" for c in conflicts)
    expected = "one of " + ", ".join(agreed_regions)
    found = f"{region} (from {source})" if region else "unknown (no region property found)"
    if region and region in agreed_regions:
        return Verdict("region", "pass", expected, found, "region agreed", evidence=evidence)
    reason = (f"device region {region} is not in the agreed regions" if region
              else "the device's region cannot be determined from its properties; pass --region to state it")
    return Verdict("region", "fail", expected, found, reason, category="region not agreed", evidence=evidence)


def check_device_operator(agreed: Mapping[str, str] | None, operator: str | None, *, source: str | None = None,
                          conflicts: Sequence[str] = (), signals: Mapping[str, str] | None = None,
                          name: str | None = None) -> Verdict:
    """The device's mobile operator (MCC-MNC, :mod:`harness.operator`) must be one the profile agrees.

    Not applicable when the profile names no operators, or when the device's operator is unknown (no SIM,
    SIMs of different operators: the conflicts say which) — never passed on an unknown.
    """
    evidence = tuple(f"{k}={v}" for k, v in sorted((signals or {}).items()))
    evidence += tuple(f"conflict: {c}" for c in conflicts)
    if not agreed:
        return _na("operator", "the agreement names no operators")
    expected = "one of " + ", ".join(f"{code} ({label})" for code, label in agreed.items())
    if operator is None:
        return _na("operator", "the device's operator is unknown: " + ("; ".join(conflicts) or "no operator "
                   "property") + "; state it with --operator", expected=expected)
    found = f"{operator}" + (f" ({name})" if name else "") + f" (from {source})"
    if operator in agreed:
        return Verdict("operator", "pass", expected, found, "operator agreed", evidence=evidence)
    return Verdict("operator", "fail", expected, found, f"device operator {operator} is not in the agreed operators",
                   category="operator not agreed", evidence=evidence)


# -- home screen (GTS HomescreenLayoutTest's idea) -----------------------------------------------------------------
class PlacementRule(Protocol):
    """What the home-screen check needs of a profile's placement (``harness.profiles.Placement``)."""

    home_screen: bool | None
    folder: str | None
    label: str | None

    @property
    def target_page(self) -> int: ...  # noqa: D102

    def describe(self, label: str) -> str: ...  # noqa: D102


class PlacedRequirement(Protocol):
    """What the home-screen check needs of a resolved requirement."""

    package: str
    name: str
    presence: str
    placement: PlacementRule | None


def home_screen_precondition(req: PlacedRequirement, state: PackageState, *, live: bool = True) -> Verdict | None:
    """A ``not_applicable`` verdict when the home-screen check does not apply, else None.

    Not applicable: no live device (a ROM build or bugreport has no launcher to read), no placement agreed for the
    app, the app not required in this region, not installed for user 0 (the presence check reports it) or disabled
    (the enabled check reports it; a launcher shows no icon for a disabled app).
    """
    check = "home_screen"
    if not live:
        return _na(check, f"reading the home screen for {req.name} needs a live device; this verdict comes from a "
                          "file (ROM build or bugreport)")
    if req.placement is None:
        return _na(check, f"the agreement names no home-screen placement for {req.name}")
    if req.presence != "required":
        return _na(check, not_required_reason(req))
    if not state.installed:
        return _na(check, f"{req.name} is not installed for user 0 (reported by the presence check)",
                   expected="installed for user 0", found="not installed")
    if state.enabled is False:
        return _na(check, f"{req.name} is disabled for user 0 (reported by the enabled check)",
                   expected="enabled for user 0", found=f"enabled state {state.enabled_state}")
    return None


def check_home_screen(req: PlacedRequirement, survey: HomeScreenSurvey) -> Verdict:
    """The app's launcher icon is where the agreement places it (GTS HomescreenLayoutTest's idea).

    ``home_screen: true``: an app icon labelled ``label`` (default: the app's ``name``) on workspace page
    ``page`` (default 1, the default home screen) or in the hotseat; an icon inside a folder does not count.
    ``folder: F``: a folder named F on that page (or in the hotseat) whose open view lists the icon.

    Args:
        req: the requirement; its ``placement`` must be set (:func:`home_screen_precondition` first).
        survey: what the device's launcher showed (:class:`harness.homescreen.HomeScreenSurvey`).

    Returns:
        ``pass``, or ``fail`` with category ``not on home screen`` / ``not in folder``; ``found`` says what the page
        (and the folder) showed and where else the icon was seen; ``evidence`` holds the page summary and the nodes
        that decided.

    Raises:
        HomeScreenError: a folder the placement needs was on the page but the survey has no reading of it.
    """
    placement = req.placement
    assert placement is not None, "check_home_screen needs a placement (home_screen_precondition first)"
    check = "home_screen"
    label = normalize_label(placement.label or req.name)
    page = placement.target_page
    expected = placement.describe(label)
    seen = survey.where_is(label)
    read_pages = ", ".join(str(n) for n in sorted(survey.pages)) or "none"
    seen_text = ("; seen at: " + ", ".join(seen)) if seen else (
        f"; no icon of it on the pages read ({read_pages}) nor in the folders opened")
    category = "not in folder" if placement.folder is not None else "not on home screen"
    read = survey.pages.get(page)
    if read is None:
        count = survey.last_page if survey.last_page is not None else max(survey.pages, default=0)
        found = f"the home screen has {count} page{'s' if count != 1 else ''}, no page {page}{seen_text}"
        return Verdict(check, "fail", expected, found, f"{req.name}: there is no home screen page {page}",
                       category=category, evidence=tuple(f"page {n}: {r.view.summary()}"
                                                         for n, r in sorted(survey.pages.items())))
    view = read.view
    page_line = f"page {page}: {view.summary()}"
    if placement.folder is None:
        item = view.find_app(label)
        if item is not None:
            where = "hotseat" if item.area == "hotseat" else f"page {page}"
            other = _opens_other_app(req, survey, (page, None, label), f'the icon "{label}" on {where}')
            if other is not None:
                return Verdict(check, "fail", expected, other, f"{req.name}: the icon labelled {label!r} on {where} "
                               "is another app's", category=category, evidence=(f"{where}: {item.node}", page_line))
            return Verdict(check, "pass", expected, f'icon "{label}" on the home screen ({where})'
                           + _opened_text(req, survey, (page, None, label)),
                           "icon on the home screen as agreed", evidence=(f"{where}: {item.node}", page_line))
        return Verdict(check, "fail", expected, f"not on page {page} nor the hotseat{seen_text}",
                       f"{req.name} has no icon on home screen page {page}", category=category,
                       evidence=(page_line,))
    folder = normalize_label(placement.folder)
    icon = view.find_folder(folder)
    if icon is None:
        folders = [i.label for i in view.items if i.kind == "folder" and i.area != "folder"]
        there = (f'folders there: {", ".join(folders)}' if folders else "no folder there")
        return Verdict(check, "fail", expected, f'no folder "{folder}" on page {page} ({there}){seen_text}',
                       f'{req.name}: no folder "{folder}" on home screen page {page}', category=category,
                       evidence=(page_line,))
    opened = survey.folders.get((page, folder))
    if opened is None:
        raise HomeScreenError(f'folder "{folder}" is on page {page} but was not opened and read',
                              remedy="rerun; if it persists, report a harness bug")
    apps = opened.view.folder_apps()
    holds = f'folder "{folder}" holds: {", ".join(apps) if apps else "nothing"}'
    evidence = (f"page {page}: {icon.node}", f'open folder "{opened.view.folder_title}": {", ".join(apps)}',
                page_line)
    if label in apps:
        other = _opens_other_app(req, survey, (page, folder, label), f'the icon "{label}" in folder "{folder}"')
        if other is not None:
            return Verdict(check, "fail", expected, f"{other} ({holds})", f"{req.name}: the icon labelled "
                           f"{label!r} in folder {folder!r} is another app's", category=category, evidence=evidence)
        return Verdict(check, "pass", expected, f'icon "{label}" in folder "{folder}" on page {page} ({holds})'
                       + _opened_text(req, survey, (page, folder, label)), "icon in the agreed folder",
                       evidence=evidence)
    return Verdict(check, "fail", expected, f"{holds}{seen_text}", f'{req.name} is not in folder "{folder}"',
                   category=category, evidence=evidence)


def _opens_other_app(req: PlacedRequirement, survey: HomeScreenSurvey, key: tuple[int, str | None, str],
                     what: str) -> str | None:
    """The "found" text when the tapped icon(s) of ``key`` opened other apps and never ``req.package``; None when
    one opened the app, or when the survey tapped nothing there (an older reading).

    Raises:
        HomeScreenError: no tap of an icon there brought any app to the front (nothing proven either way).
    """
    opened = survey.opened.get(key)
    if not opened or req.package in opened:
        return None
    others = [p for p in opened if p is not None]
    if not others:
        raise HomeScreenError(f"tapping {what} brought no app to the front", remedy="check the device's screen "
                              "(a dialog or lock screen in front?); rerun")
    return f"{what} opens {', '.join(dict.fromkeys(others))}, not {req.package}"


def _opened_text(req: PlacedRequirement, survey: HomeScreenSurvey, key: tuple[int, str | None, str]) -> str:
    return f"; tapped, it opens {req.package}" if req.package in survey.opened.get(key, ()) else ""


def _signer_found(observed: PackageSigners, sdk: int | None) -> tuple[str, list[str]]:
    """One-line "found" text (the distinct certificates Android uses, with subject and validity) and evidence."""
    seen: dict[str, str] = {}
    evidence: list[str] = []
    for role, sig in observed.apks():
        scheme, signers = sig.effective(sdk)
        for s in signers:
            seen.setdefault(s.cert.sha256, s.cert.describe())
            rotated = f"; rotated from {' -> '.join(c.sha256 for c in s.lineage[:-1])}" if s.lineage else ""
            evidence.append(f"{role} {sig.path}: {scheme} signer {s.cert.sha256}{rotated}")
    found = "; ".join(seen.values()) or "no signer"
    return found, evidence


def check_signer(req: Requirement, state: PackageState, observed: PackageSigners | None,
                 sdk: int | None) -> Verdict:
    """Every APK of the app (base, splits; the factory copy of an updated system app too) is signed by an agreed
    certificate, and none by a public AOSP test key.

    The certificate that counts is the one Android uses on API level ``sdk`` (:meth:`harness.apksig.ApkSignature.
    effective`: v3.1 / v3 / v2 / v1). It is accepted when its SHA-256 is in ``req.signers``, or when its verified
    v3 lineage contains an agreed certificate (the partner rotated its key). Fails ``[test-key signed]`` when any
    signer of any scheme of any APK is an AOSP test key (:data:`harness.apksig.AOSP_TEST_CERTIFICATES`), whatever
    the agreement says; ``[wrong signer]`` when an APK's certificate is not agreed. Not applicable when the app is
    not required or not installed, or when no signer is agreed and no test key is found.

    Args:
        req: the app's requirement (``signers``: agreed digests or None).
        state: its inventory state. observed: its APK signatures (None when not read: not installed).
        sdk: the device's API level.
    """
    skip = _needs_installed("signer", req, state)
    if skip:
        return skip
    if observed is None:
        return _na("signer", f"no APK of {req.name} was read")
    found, evidence = _signer_found(observed, sdk)
    test_keys = sorted({f"{c.test_key} {c.sha256} in {sig.path}" for _role, sig in observed.apks()
                        for c in sig.all_signer_certs() if c.test_key})
    agreed = tuple(req.signers or ())
    expected = ("signed by one of SHA-256 " + ", ".join(agreed)) if agreed else "not signed with an AOSP test key"
    if test_keys:
        return Verdict("signer", "fail", expected, found,
                       f"{req.name} is signed with a public AOSP test key (a test-key build, not the vendor's)",
                       category="test-key signed", evidence=tuple(f"test key: {t}" for t in test_keys)
                       + tuple(evidence))
    if not agreed:
        return _na("signer", f"the agreement names no signing certificate for {req.name}", found=found)
    wrong = []
    for role, sig in observed.apks():
        _scheme, signers = sig.effective(sdk)
        names = {s.cert.sha256 for s in signers} | {c.sha256 for s in signers for c in s.lineage}
        if not names & set(agreed):
            wrong.append(f"{role} {sig.path}")
    if wrong:
        return Verdict("signer", "fail", expected, found,
                       f"{req.name} is signed with a certificate the agreement does not name ({', '.join(wrong)})",
                       category="wrong signer", evidence=tuple(evidence))
    return Verdict("signer", "pass", expected, found, "signed by an agreed certificate", evidence=tuple(evidence))
