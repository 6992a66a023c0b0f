"""Observation sources other than a live phone: verdicts from a ROM build or a bugreport.

A live device, a ROM build (``target_files`` zip or unpacked partitions) and a bugreport all yield the same two
things: *facts* (system properties → model, region, build) and *package states* (version, install kind,
partition, enabled, signer) for the packages the contract names. Checks, records, the matrix and the gate do not
know which one spoke: a source is turned into :class:`OfflineDevice` objects that stand where a
:class:`~harness.device.Device` stands (``facts()``, ``inventory(packages)``), and the same suites run on them.
Checks that need a live device (launch, home screen) see ``live = False`` and report "not applicable".

A source kind is a module with ``load(path: Path) -> list[Target]`` registered in :data:`KINDS`; it raises
:class:`~harness.errors.SourceError` (file, member, line) for input it cannot read — broken, never passed.
The pytest plugin takes them with ``--build PATH`` / ``--bugreport PATH`` (repeatable) instead of adb servers.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import DeviceUnavailable, ParseError, SourceError
from harness.facts import DeviceFacts
from harness.inventory import Inventory, PackageState
from harness.signatures import PackageSigners, SignerInventory

KINDS: dict[str, str] = {
    "build": "harness.sources.build",
    "bugreport": "harness.sources.bugreport",
}
"""Source kind → module providing ``load(path) -> list[Target]``."""


@dataclass(frozen=True)
class Target:
    """One thing to judge from a source: a build variant (one region of a MIUI build), or a bugreport's device.

    Attributes:
        serial: the row's identity in reports (``build:<file>`` or ``build:<file>#<region>``,
            ``bugreport:<file>``); ASCII, no spaces.
        host: what stands where a farm host stands (``rom-build``, ``bugreport``).
        props: the system properties (as ``getprop`` would print them, after the source resolved partitions).
        packages: ``package → PackageState`` for every package the source can say something about, or a callable
            giving the state of a requested package (``None`` when the source has nothing: not installed).
        source: the file or directory read (for messages).
        evidence: per package, text to attach when a check fails (e.g. the APK path and manifest values).
        signers: per package, the signatures of its APKs (:class:`~harness.signatures.PackageSigners`) or the
            :class:`~harness.errors.ParseError` saying why they cannot be read; None when the source holds no APK
            (a bugreport): the signer check is then not applicable.
        problem: set when this one target could not be read while its siblings could (one region's build of a
            folder of builds): the row is reported broken with this error, the others are judged.
        notes: what the reader passed over and the user should know (children of a folder of builds that are not
            builds: ``global-V12.5.tgz``); shown by the tools and added to the evidence of every package state.
    """

    serial: str
    host: str
    props: Mapping[str, str]
    packages: Mapping[str, PackageState] | Callable[[str], PackageState | None]
    source: str
    evidence: Mapping[str, str] = field(default_factory=dict)
    signers: Mapping[str, PackageSigners | ParseError] | None = None
    problem: SourceError | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    """Stands for :class:`harness.adb.DeviceEntry` in reports."""

    serial: str
    state: str
    server: str
    model: str | None = None


class _NoLink:
    """Stands for :class:`harness.adb.DeviceLink`: there is no link to wait for or count."""

    round_trips = 0

    def __init__(self, serial: str) -> None:
        self.serial = serial

    def wait_for_device(self, timeout: float) -> float | None:  # noqa: ARG002 - same signature as DeviceLink
        """An offline source never comes back: None."""
        return None


class OfflineDevice:
    """A :class:`~harness.device.Device` stand-in for a :class:`Target` (facts and inventory, no adb).

    ``live`` is False: checks that need to drive a phone (launch, home screen) are not applicable.
    ``shell``/``screenshot`` raise :class:`~harness.errors.DeviceUnavailable` ("not a live device").
    """

    live = False

    def __init__(self, target: Target, *, region_override: str | None = None,
                 operator_override: str | None = None) -> None:
        self.target = target
        self.serial = target.serial
        self.server = target.host
        self.entry = _Entry(target.serial, "device", target.host, target.props.get("ro.product.model"))
        self.link = _NoLink(target.serial)
        self.gone: DeviceUnavailable | None = None
        self.region_override = region_override
        self.log = logging.LoggerAdapter(logging.getLogger(f"harness.device.{self.serial}"), {"serial": self.serial})
        self._facts = DeviceFacts.from_props(dict(target.props), region_override=region_override,
                                             operator_override=operator_override)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OfflineDevice({self.serial!r} from {self.target.source})"

    @property
    def label(self) -> str:
        """``<model> (<serial>)``."""
        return f"{self._facts.model} ({self.serial})" if self._facts.model else self.serial

    def check_reachable(self) -> None:
        """Always reachable: the data is on the host."""

    def preset_facts(self, facts: DeviceFacts) -> None:
        """Use facts computed elsewhere (the pytest-xdist controller)."""
        self._facts = facts

    def facts(self) -> DeviceFacts:
        """The facts of the target's properties."""
        return self._facts

    def inventory(self, packages: Sequence[str]) -> Inventory:
        """Package states of ``packages``: the source's, or "not installed" for a package it does not have; the
        target's :attr:`Target.notes` are added to each state's evidence and section."""
        states: dict[str, PackageState] = {}
        for pkg in sorted(set(packages)):
            found = (self.target.packages(pkg) if callable(self.target.packages)
                     else self.target.packages.get(pkg))
            states[pkg] = found if found is not None else PackageState(
                package=pkg, known=False, installed=False, listed=False,
                evidence=(f"{self.target.source}: no APK of {pkg}",),
                section=self.target.evidence.get(pkg, f"{self.target.source}: no APK of {pkg}"))
            if self.target.notes:
                st = states[pkg]
                states[pkg] = dataclasses.replace(st, evidence=(*st.evidence, *self.target.notes),
                                                  section="\n".join([st.section.rstrip("\n"), *self.target.notes])
                                                  + "\n")
        return Inventory(serial=self.serial, packages=states, command=f"read {self.target.source}", round_trips=0)

    def apk_signers(self, states: Mapping[str, PackageState]) -> SignerInventory:
        """The signatures of ``states``' installed packages from the source's APKs (as
        :meth:`harness.device.Device.apk_signers` reads them from a phone); nothing for a source without APKs."""
        inv = SignerInventory(serial=self.serial, sdk=self._facts.sdk)
        if self.target.signers is None:
            return inv
        for pkg, state in states.items():
            found = self.target.signers.get(pkg) if state.installed else None
            if isinstance(found, ParseError):
                inv.errors[pkg] = found
            elif found is not None:
                inv.packages[pkg] = found
        return inv

    def shell(self, argv: Sequence[str], *, timeout: float | None = None) -> object:  # noqa: ARG002
        """No shell: raises DeviceUnavailable."""
        raise DeviceUnavailable("not a live device (judged from a file)", serial=self.serial)

    def screenshot(self) -> bytes:
        """No screen: raises DeviceUnavailable."""
        raise DeviceUnavailable("not a live device (judged from a file)", serial=self.serial)


def row_id(text: str) -> str:
    """``text`` as a row identity: every character outside ``[A-Za-z0-9._:@/+#-]`` replaced by ``_``, at most 200."""
    return re.sub(r"[^A-Za-z0-9._:@/+#-]", "_", text)[:200] or "_"


def source_labels(paths: Sequence[str | Path]) -> list[str]:
    """A name per input path for its rows (``build:<name>``): the file or folder name, with as many parent folder
    names in front as it takes to tell apart inputs that share a name (``builds/xiaomi-redmi8a-cn`` and
    ``x/xiaomi-redmi8a-cn``); the same path given twice gets ``~2``, ``~3`` … Same order as ``paths``."""
    parts = [Path(os.path.abspath(p)).parts for p in paths]
    depth = [1] * len(parts)
    while True:
        labels = ["/".join(pp[-d:]) for pp, d in zip(parts, depth, strict=True)]
        clash = [i for i, label in enumerate(labels) if labels.count(label) > 1 and depth[i] < len(parts[i]) - 1]
        if not clash:
            break
        for i in clash:
            depth[i] += 1
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}~{seen[label]}")
    return out


def load_targets(kind: str, path: str | Path, *, label: str | None = None) -> list[Target]:
    """The targets of one ``--build`` / ``--bugreport`` argument.

    ``label`` (from :func:`source_labels`) replaces the path's name in the rows' identity (``build:<label>…``) when
    several inputs of a run share a name.

    Raises:
        SourceError: the path does not exist or cannot be read as that kind (names file, member, line).
    """
    if kind not in KINDS:
        raise SourceError(f"unknown source kind {kind!r}; known: {', '.join(sorted(KINDS))}", path=str(path))
    p = Path(path)
    if not p.exists():
        raise SourceError("no such file or directory", path=str(p),
                          remedy="give the path of a target_files zip, an unpacked build or a bugreport")
    module = importlib.import_module(KINDS[kind])
    targets: list[Target] = module.load(p)
    if not targets:
        raise SourceError(f"nothing to judge in this {kind}", path=str(p))
    if label is not None and label != p.name:
        old, new = row_id(f"{kind}:{p.name}"), row_id(f"{kind}:{label}")
        targets = [dataclasses.replace(t, serial=row_id(new + t.serial[len(old):]))
                   if t.serial.startswith(old) else t for t in targets]
    return targets


__all__ = ["KINDS", "OfflineDevice", "Target", "load_targets", "row_id", "source_labels"]
