"""Pure checks: ``f(requirement, observed state) -> Verdict``. No adb, no pytest, no device.

Each check returns a :class:`Verdict` whose status is ``pass``, ``fail`` (a product defect: the
suite turns it into an assertion failure, Allure "failed") or ``not_applicable`` (the suite skips,
saying why). Infrastructure faults never reach here: they are exceptions raised while collecting
the observed state.

Failure messages start with a stable category tag (``[missing app]``, ``[version mismatch]``, ...)
that Allure categories and the compliance matrix match on; see :data:`CATEGORIES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

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
    "wrong signer": "An APK of the app is signed with a certificate the agreement does not name",
    "test-key signed": "An APK of the app is signed with a public AOSP test key",
}
"""Product-defect categories of the placement/presence/version/region checks (tag → meaning)."""


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
        tag = f"[{self.category}] " if self.category else ""
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
        return f"installed for user 0 ({state.version_name} / {state.version_code}) at {where}"
    if state.known:
        return f"NOT installed for user 0, but still known to the package manager at {state.code_path or '?'}"
    return "not installed (unknown to the package manager)"


def check_presence(req: Requirement, state: PackageState) -> Verdict:
    """A required app must be installed for user 0 (``dumpsys package`` User 0 ``installed=true``).

    Not applicable when the agreement requires nothing in this region (``presence`` ``any``/``absent``:
    absence is the region suite's business, :func:`check_app_region`).
    """
    if req.presence != "required":
        return _na("presence", f"{req.name} is not required in this region (presence: {req.presence})")
    if state.installed:
        return Verdict("presence", "pass", "installed for user 0", _installed_text(state),
                       f"{req.name} is installed", evidence=state.evidence)
    reason = (f"{req.name} is on the image but uninstalled for user 0" if state.known
              else f"{req.name} ({req.package}) is not installed")
    return Verdict("presence", "fail", "installed for user 0", _installed_text(state), reason,
                   category="missing app", evidence=state.evidence)


def check_app_region(req: Requirement, state: PackageState) -> Verdict:
    """An app whose agreement says ``absent`` in this region must not be installed for user 0."""
    if req.presence == "required":
        return _na("app_region", f"{req.name} is required in this region (absence rules do not apply)")
    if req.presence != "absent":
        return _na("app_region", f"{req.name} may or may not be present in this region (presence: any)")
    if not state.installed:
        return Verdict("app_region", "pass", "absent", _installed_text(state), f"{req.name} is absent",
                       evidence=state.evidence)
    return Verdict("app_region", "fail", "absent in this region", _installed_text(state),
                   f"{req.name} is installed in a market where it is not agreed", category="present where not agreed",
                   evidence=state.evidence)


def _needs_installed(check: str, req: Requirement, state: PackageState) -> Verdict | None:
    if req.presence != "required":
        return _na(check, f"{req.name} is not required in this region")
    if not state.installed:
        return _na(check, f"{req.name} is not installed for user 0 (reported by the presence check)")
    return None


def _version_text(state: PackageState) -> str:
    text = f"version_name {state.version_name} (version_code {state.version_code})"
    if state.updated_system:
        text += (f"; updated system app, factory copy {state.factory_version_name} "
                 f"({state.factory_version_code}) at {state.factory_code_path}")
    return text


def check_version(req: Requirement, state: PackageState) -> Verdict:
    """The ACTIVE copy's version must satisfy the agreed rule (exact name, allowed names, code range).

    For an updated system app the active copy is the one in ``Packages:``, not the factory copy in
    ``Hidden system packages:`` (corpus: dumpsys-package_wearos_updated-vendor-app_*).
    """
    skip = _needs_installed("version", req, state)
    if skip:
        return skip
    if req.version is None:
        return _na("version", f"the agreement names no version for {req.name}")
    expected = req.version.describe()
    found = _version_text(state)
    if req.version.matches(state.version_name, state.version_code):
        return Verdict("version", "pass", expected, found, "version agreed", evidence=state.evidence)
    return Verdict("version", "fail", expected, found, f"{req.name} is at a version that is not agreed",
                   category="version mismatch", evidence=state.evidence)


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
