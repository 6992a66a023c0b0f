"""The device object (layer 2): one attached device, its facts, inventory and evidence services.

A :class:`Device` wraps a :class:`~harness.adb.DeviceLink` with a per-device logger
(``harness.device.<serial>``) and caches what a run reads once: the build facts (one ``getprop``
round trip) and the package inventory (one round trip for all required packages). Once a device
has failed with :class:`~harness.errors.DeviceUnavailable` or :class:`~harness.errors.AdbTimeout`, it is
marked gone and every later call raises the same error at once, so a vanished device costs one
timeout, not one per test.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Mapping, Sequence

from harness.adb import DEFAULT_EXEC_MAX_BYTES, CommandResult, DeviceEntry, DeviceLink, ExecResult, ShellScript
from harness.errors import AdbTimeout, DeviceError, DeviceUnavailable, ParseError
from harness.facts import DeviceFacts
from harness.inventory import Inventory, PackageState, collect_inventory
from harness.parsers import parse_getprop
from harness.signatures import SignerInventory, collect_signers


class Device:
    """One device under test.

    ``entry`` is the adb server's listing (serial, state, server); ``link`` runs commands.
    ``region_override`` (from ``--region``) replaces the region read from properties, ``operator_override``
    (``--operator``, MCC-MNC) the operator.
    """

    def __init__(self, entry: DeviceEntry, link: DeviceLink, *, region_override: str | None = None,
                 operator_override: str | None = None) -> None:
        self.entry = entry
        self.link = link
        self.serial = entry.serial
        self.server = str(entry.server)
        self.region_override = region_override
        self.operator_override = operator_override
        self.log = logging.LoggerAdapter(logging.getLogger(f"harness.device.{self.serial}"), {"serial": self.serial})
        self._lock = threading.RLock()
        self._facts: DeviceFacts | None = None
        self._inventories: dict[tuple[str, ...], Inventory | ParseError] = {}
        self.gone: DeviceError | None = None

    def __repr__(self) -> str:
        return f"Device({self.serial!r} on {self.server})"

    @property
    def label(self) -> str:
        """``<model> (<serial>)`` once facts are known, else the serial."""
        model = self._facts.model if self._facts else self.entry.model
        return f"{model} ({self.serial})" if model else self.serial

    def check_reachable(self) -> None:
        """Raise the stored error if the device is gone, or :class:`DeviceUnavailable` if not in state ``device``."""
        if self.gone is not None:
            raise self.gone
        if self.entry.state != "device":
            remedy = {
                "unauthorized": "accept the USB debugging prompt on the device (or install this host's adbkey)",
                "offline": "reconnect the device (cable or `adb connect`), then rerun",
            }.get(self.entry.state, "check the device and the adb server")
            raise DeviceUnavailable(f"device is {self.entry.state}", serial=self.serial, remedy=remedy)

    def await_online(self, timeout: float) -> float:
        """A device the adb server listed ``offline`` is often only reconnecting (a cable wiggle, Wi-Fi): wait up
        to ``timeout`` seconds for it (:meth:`~harness.adb.DeviceLink.wait_for_device`, bounded backoff); return
        the seconds waited (0 when it was not offline).

        Raises :class:`DeviceUnavailable` ("offline for N s") when it stays offline.
        """
        if self.entry.state != "offline":
            return 0.0
        waited = self.link.wait_for_device(timeout) if timeout > 0 else None
        if waited is None:
            raise DeviceUnavailable(f"offline for {timeout:.0f} s: listed offline when the run started and not back "
                                    f"within --device-wait {timeout:g} s", serial=self.serial,
                                    remedy="reconnect the device (cable, `adb connect`), then rerun")
        self.entry = dataclasses.replace(self.entry, state="device")
        self.log.warning("was offline; back after %.1f s", waited)
        return waited

    def _guarded(self, func, *args, **kwargs):  # noqa: ANN001, ANN202 - internal
        self.check_reachable()
        try:
            return func(*args, **kwargs)
        except (DeviceUnavailable, AdbTimeout) as exc:
            # a device that vanished or stopped answering costs one timeout per run, not one per test
            self.gone = exc
            self.log.error("device gone: %s", exc)
            raise

    def preset_facts(self, facts: DeviceFacts) -> None:
        """Use facts read elsewhere (the pytest-xdist controller) instead of a ``getprop`` round trip."""
        with self._lock:
            self._facts = facts

    def facts(self) -> DeviceFacts:
        """Build facts from one ``getprop`` call (cached). Raises DeviceError / ParseError."""
        with self._lock:
            if self._facts is None:
                result = self._guarded(self.link.shell, ["getprop"])
                if result.exit_code != 0:
                    raise ParseError(f"exit code {result.exit_code}: {result.output.strip()[:200]}",
                                     command="getprop", serial=self.serial)
                try:
                    props = parse_getprop(result.stdout)
                    self._facts = DeviceFacts.from_props(props, region_override=self.region_override,
                                                         operator_override=self.operator_override)
                except ParseError as exc:
                    raise exc.with_context(command="getprop", serial=self.serial,
                                           excerpt=result.stdout[:300]) from None
                self.log.info("facts: %s sdk=%s region=%s", self._facts.model, self._facts.sdk,
                              self._facts.region.region)
            return self._facts

    def inventory(self, packages: Sequence[str]) -> Inventory:
        """Package states of ``packages`` for user 0 (cached per package set). Raises DeviceError / ParseError.

        A :class:`~harness.errors.ParseError` is cached like a result: the device said what it says, so every
        later call raises the same error without running the inventory script again (one round trip per run).
        """
        key = tuple(sorted(set(packages)))
        with self._lock:
            if key not in self._inventories:
                sdk = self.facts().sdk
                try:
                    self._inventories[key] = self._guarded(collect_inventory, self.link, key, sdk)
                except ParseError as exc:
                    self._inventories[key] = exc
            cached = self._inventories[key]
            if isinstance(cached, ParseError):
                raise cached.with_context() from None  # a fresh instance: no traceback piles up across raises
            return cached

    def apk_signers(self, states: Mapping[str, PackageState]) -> SignerInventory:
        """The APK signatures of the installed packages of ``states`` (:func:`harness.signatures.collect_signers`:
        byte ranges read with ``dd``, a constant number of round trips for all packages). Not cached.

        Raises the :mod:`harness.errors` device errors; per-package read problems are in the result's ``errors``.
        """
        sdk = self.facts().sdk
        return self._guarded(collect_signers, self.link, states, sdk)

    def shell(self, argv: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        """Run one command (argv list, quoted) on the device; marks the device gone on loss or timeout.

        Returns the :class:`~harness.adb.CommandResult`; raises the :mod:`harness.errors` device errors.
        """
        return self._guarded(self.link.shell, list(argv), timeout=timeout)

    def exec_out(self, argv: Sequence[str] | ShellScript, *, timeout: float | None = None,
                 max_bytes: int = DEFAULT_EXEC_MAX_BYTES) -> ExecResult:
        """Run a command or script through ``exec:`` (raw bytes, binary-safe; :meth:`DeviceLink.exec_out`).

        Marks the device gone on loss or timeout; raises the :mod:`harness.errors` device errors.
        """
        script = argv if isinstance(argv, ShellScript) else list(argv)
        return self._guarded(self.link.exec_out, script, timeout=timeout, max_bytes=max_bytes)

    def screenshot(self) -> bytes:
        """PNG bytes of the current screen. Raises DeviceError."""
        return self._guarded(self.link.screencap_png)
