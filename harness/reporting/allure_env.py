"""Allure side files: ``environment.properties`` (every device) and ``categories.json`` (defect vs infrastructure).

allure-pytest writes neither file; the pytest plugin calls these once, on the xdist controller, at session end
(see shared/notes/allure-toolchain.md §1). Allure 2.46.1 reads both from the results directory.

Categories. Allure 2 matches ``messageRegex``/``traceRegex`` against the whole string (Java ``matches``), so
every pattern is wrapped in ``[\\s\\S]*`` and works on multi-line messages; Allure 2 puts a result in *every*
category that matches, so the patterns are disjoint:

* Product defects (status ``failed``): the assertion message starts with a stable tag, e.g.
  ``AssertionError: [missing app] Excel (com.microsoft.office.excel) is not installed for user 0``.
* Infrastructure (status ``broken``): ``harness.errors`` exceptions, recognised by class name in the message
  (allure-pytest formats it as ``harness.errors.AdbTimeout: [SERIAL] ...``). "Harness error" is every other
  broken result, so nothing broken falls into Allure's generic "Test defects".
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

ANY = r"[\s\S]*"

#: Product-defect categories: (name, message tags that select it). A failing check's message starts with a tag.
PRODUCT_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Missing app", ("[missing app]",)),
    ("Present where not agreed", ("[present where not agreed]",)),
    ("Version mismatch", ("[version mismatch]",)),
    ("Wrong install kind or partition", ("[wrong install kind]", "[wrong partition]")),
    ("Disabled", ("[disabled]",)),
    ("Region not agreed", ("[region not agreed]",)),
    ("Operator not agreed", ("[operator not agreed]",)),
    ("Launch crash", ("[launch crash]",)),
    ("ANR", ("[ANR]",)),
    ("No first screen", ("[no first screen]",)),
    ("Slow launch", ("[slow launch]",)),
    ("Not on home screen", ("[not on home screen]",)),
    ("Not in folder", ("[not in folder]",)),
    ("Wrong signer", ("[wrong signer]",)),
    ("Test-key signed", ("[test-key signed]",)),
)

#: Infrastructure categories: (name, harness.errors class names that select it). The last one is a catch-all.
INFRA_CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Device offline or unauthorized", ("DeviceUnavailable",)),
    ("adb timeout", ("AdbTimeout",)),
    ("uiautomator2 server", ("LaunchInfraError",)),
    ("Harness error", ("AdbError", "ParseError", "Error")),
)

PRODUCT_CATEGORY_NAMES: frozenset[str] = frozenset(name for name, _ in PRODUCT_CATEGORIES)
INFRA_CATEGORY_NAMES: frozenset[str] = frozenset(name for name, _ in INFRA_CATEGORIES)


def _escape_literal(text: str) -> str:
    """Regex-escape ``text`` so Java and JavaScript both read it literally (no Python-only escapes)."""
    return "".join("\\" + ch if ch in r"\^$.|?*+()[]{}" else ch for ch in text)


def categories() -> list[dict[str, object]]:
    """The categories.json content: a list of ``{name, matchedStatuses, messageRegex}`` dicts (Allure 2 format).

    Product categories match ``failed`` results whose message contains their tag (case-sensitive, as the
    plugin writes it). Infrastructure categories match ``broken`` results by exception class name; "Device
    offline or unauthorized" also matches ``skipped`` results (a device that vanished skips its remaining
    checks with a DeviceUnavailable message). "Harness error" takes every broken result the others do not.
    """
    cats: list[dict[str, object]] = []
    for name, tags in PRODUCT_CATEGORIES:
        alt = "|".join(_escape_literal(t) for t in tags)
        cats.append({"name": name, "matchedStatuses": ["failed"], "messageRegex": f"{ANY}(?:{alt}){ANY}"})
    specific: list[str] = []
    for name, classes in INFRA_CATEGORIES[:-1]:
        alt = "|".join(classes)
        specific.extend(classes)
        statuses = ["broken", "skipped"] if name == "Device offline or unauthorized" else ["broken"]
        cats.append({"name": name, "matchedStatuses": statuses, "messageRegex": f"{ANY}\\b(?:{alt})\\b{ANY}"})
    name, _ = INFRA_CATEGORIES[-1]
    not_specific = "|".join(specific)
    cats.append({"name": name, "matchedStatuses": ["broken"],
                 "messageRegex": f"^(?!{ANY}\\b(?:{not_specific})\\b){ANY}$"})
    return cats


def write_categories(results_dir: str | os.PathLike[str]) -> Path:
    """Write ``<results_dir>/categories.json`` (see :func:`categories`); return its path."""
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "categories.json"
    path.write_text(json.dumps(categories(), indent=2) + "\n", encoding="utf-8")
    return path


def _escape_properties(text: str, *, key: bool) -> str:
    """Escape for java.util.Properties.load (ISO-8859-1 file): ``\\``, ``=``, ``:``, ``#``, ``!``, spaces in keys,
    control characters, and every non-Latin-1 character as ``\\uXXXX`` (UTF-16 surrogate pairs above U+FFFF)."""
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch in "=:#!" and (key or i == 0):
            out.append("\\" + ch)
        elif ch == " " and (key or i == 0):
            out.append("\\ ")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) > 0x7E:
            units = ch.encode("utf-16-be").hex().upper()
            out.extend(f"\\u{units[j:j + 4]}" for j in range(0, len(units), 4))
        else:
            out.append(ch)
    return "".join(out)


#: Per-device keys of environment.properties, in display order: (key suffix, device dict keys tried in order).
DEVICE_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("model", ("model",)),
    ("region", ("region",)),
    ("android", ("android",)),
    ("sdk", ("sdk",)),
    ("fingerprint", ("fingerprint",)),
    ("profile", ("profile",)),
    ("build", ("build",)),
    ("adb_serial", ("serial",)),
    ("farm_host", ("host", "farm_host")),
)


def environment_lines(devices: Sequence[Mapping[str, object]],
                      extra: Mapping[str, object] | None = None) -> list[str]:
    """Lines of environment.properties for ``devices``: ``<device serial>.<field>=<value>`` for every device and
    field.

    ``devices`` is a list of dicts with at least ``serial`` (the adb serial) and any of ``device_serial`` (the
    device's own serial, ``ro.serialno``: the key when given, stable across runs, unlike a network device's
    ``host:port``), ``model``, ``region``, ``android``, ``sdk``, ``fingerprint``, ``profile``, ``build``,
    ``host`` (or ``farm_host``); missing or None values show as ``unknown`` so every device lists every field.
    A duplicate key is listed once (the first wins). ``extra`` adds run-wide keys (e.g. ``run.devices=8``).
    """
    lines: list[str] = []
    seen: set[str] = set()
    for dev in devices:
        serial = str(dev.get("device_serial") or dev.get("serial") or "unknown")
        if serial in seen:
            continue
        seen.add(serial)
        for suffix, keys in DEVICE_FIELDS:
            value = next((dev[k] for k in keys if dev.get(k) is not None), "unknown")
            lines.append(f"{_escape_properties(f'{serial}.{suffix}', key=True)}="
                         f"{_escape_properties(str(value), key=False)}")
    for k, v in (extra or {}).items():
        lines.append(f"{_escape_properties(str(k), key=True)}={_escape_properties(str(v), key=False)}")
    return lines


def write_environment(results_dir: str | os.PathLike[str], devices: Sequence[Mapping[str, object]],
                      extra: Mapping[str, object] | None = None) -> Path:
    """Write ``<results_dir>/environment.properties`` listing every device (see :func:`environment_lines`).

    Returns the path. The file is ASCII (non-ASCII escaped as ``\\uXXXX``), as java.util.Properties expects.
    """
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "environment.properties"
    path.write_text("\n".join(environment_lines(devices, extra)) + "\n", encoding="ascii")
    return path


def devices_from_records(records: Sequence[object]) -> list[dict[str, object]]:
    """Device dicts for :func:`write_environment` from :class:`~harness.reporting.records.Record` objects.

    One dict per device (farm host and adb serial; the first record with a non-null value wins per field), sorted by
    model, region, serial.
    """
    devices: dict[tuple[str, str], dict[str, object]] = {}
    for rec in records:
        dev = devices.setdefault((rec.host, rec.serial), {"serial": rec.serial})  # type: ignore[attr-defined]
        for key in ("model", "region", "android", "sdk", "fingerprint", "profile", "host", "device_serial", "build"):
            if dev.get(key) is None and getattr(rec, key, None) is not None:
                dev[key] = getattr(rec, key)
    return sorted(devices.values(), key=lambda d: (str(d.get("model") or ""), str(d.get("region") or ""),
                                                   str(d["serial"])))
