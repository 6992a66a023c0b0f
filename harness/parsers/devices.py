"""Parser for ``adb devices [-l]`` (host side).

Shapes (corpus ``/work/shared/corpus/README.md`` § adb devices):

* plain: ``List of devices attached`` then ``<serial>\\t<state>`` (``adb-devices_two-devices_tab-separated.txt``,
  ``adb-devices_emulator-offline_tab-separated.txt`` with ``offline``);
* ``-l``: serial padded to 22 columns, state, then ``key:value`` fields: ``usb:``, ``product:``, ``model:``,
  ``device:``, ``transport_id:`` (adb ≥ 1.0.39; absent in ``adb-devices-l_nexus7_device.txt``),
  ``features:`` (``adb-devices-l_android-n_features-field.txt``). An ``unauthorized`` device has only ``usb:``
  and ``transport_id:`` (``adb-devices-l_wahoo-elemnt_unauthorized-and-device.txt``).

States: ``device``, ``offline``, ``unauthorized``, ``authorizing``, ``connecting``, ``bootloader``,
``recovery``, ``rescue``, ``sideload``, ``host``, ``detached``, ``unknown``, and ``no permissions (…)`` which
contains spaces. Daemon chatter (``* daemon not running; starting now at tcp:…``) is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.errors import ParseError
from harness.parsers._text import excerpt, normalize, reject_binary

STATES = frozenset({"device", "offline", "unauthorized", "authorizing", "connecting", "bootloader", "recovery",
                    "rescue", "sideload", "host", "detached", "unknown", "no permissions"})

_ENTRY = re.compile(
    r"^(?P<serial>\S+)\s+(?P<state>no permissions(?: \([^)]*\))?(?:; see \[[^\]]*\])?|[a-z]+)(?P<rest>.*)$"
)


@dataclass(frozen=True)
class AdbDeviceEntry:
    """One device line of ``adb devices [-l]``.

    Attributes:
        serial: the serial (``emulator-5554``, ``192.168.1.5:5555``, USB serial).
        state: ``device``, ``offline``, ``unauthorized``, … (``no permissions`` without its explanation).
        model / product / device: ``-l`` fields, None when absent (always absent for unauthorized devices).
        transport_id: ``transport_id:`` as int, None when absent.
        extra: the other ``key:value`` fields (``usb``, ``features``).
    """

    serial: str
    state: str
    model: str | None = None
    product: str | None = None
    device: str | None = None
    transport_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def parse_devices(text: str) -> list[AdbDeviceEntry]:
    """Parse ``adb devices`` or ``adb devices -l`` output into entries, in output order.

    Returns:
        The devices; an empty list when only the header is printed (no device attached).

    Raises:
        ParseError: (command ``adb devices``) neither the ``List of devices attached`` header nor any valid
            device line, or a line whose state is unknown.
    """
    command = "adb devices"
    reject_binary(text, command)
    header = False
    out: list[AdbDeviceEntry] = []
    for raw in normalize(text).split("\n"):
        line = raw.strip()
        if not line or line.startswith("* ") or line.startswith("adb server"):
            continue
        if line.startswith("List of devices attached"):
            header = True
            continue
        m = _ENTRY.match(line)
        state = m.group("state") if m else ""
        base_state = "no permissions" if state.startswith("no permissions") else state
        if not m or base_state not in STATES:
            raise ParseError(f"unexpected line {line[:200]!r}", command=command, excerpt=excerpt(text))
        kv: dict[str, str] = {}
        for token in m.group("rest").split():
            key, sep, value = token.partition(":")
            if sep:
                kv[key] = value
        tid = kv.pop("transport_id", None)
        out.append(AdbDeviceEntry(
            serial=m.group("serial"), state=base_state, model=kv.pop("model", None), product=kv.pop("product", None),
            device=kv.pop("device", None), transport_id=int(tid) if tid and tid.isdigit() else None, extra=kv,
        ))
    if not header and not out:
        raise ParseError("no 'List of devices attached' header", command=command, excerpt=excerpt(text))
    return out
