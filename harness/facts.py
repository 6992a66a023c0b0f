"""DeviceFacts: what the harness knows about one device, derived from its ``getprop`` output only.

Pure: build it with :meth:`DeviceFacts.from_props` from ``parse_getprop`` output (or :meth:`from_getprop`
from the raw text). Every field cites the property it comes from; see the corpus rows of
``/work/shared/corpus/README.md`` § getprop for real values (Android 7.1 to 15; MIUI 12.5, MIUI 14, HyperOS 2,
One UI 6.1, stock Pixel, a Rockchip TV box whose release string lies).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from harness.errors import ParseError
from harness.operator import OperatorResult, resolve_operator
from harness.parsers.getprop import parse_getprop
from harness.region import RegionResult, apply_override, resolve_region

_EMULATOR_HARDWARE = frozenset({"goldfish", "ranchu", "cutf_cvm", "vsoc_x86", "vsoc_x86_64", "vsoc_arm64"})


def _first(props: Mapping[str, str], *keys: str) -> str | None:
    for key in keys:
        value = props.get(key)
        if value is not None and value.strip():
            return value.strip()
    return None


def _product(props: Mapping[str, str], field: str) -> str | None:
    """``ro.product.<field>``, falling back to the vendor/odm/product partition copies (Android 10+ builds
    may leave the plain one out). The ``system`` copy is deliberately not used: on GSI-style system images it
    says ``mainline``/``generic`` (corpus Xiaomi 14, Pixel 6)."""
    return _first(props, f"ro.product.{field}", f"ro.product.vendor.{field}", f"ro.product.odm.{field}",
                  f"ro.product.product.{field}")


def _is_emulator(props: Mapping[str, str], fingerprint: str | None) -> bool:
    if (props.get("ro.kernel.qemu") or "").strip() == "1" or (props.get("ro.boot.qemu") or "").strip() == "1":
        return True
    if (props.get("ro.hardware") or "").strip() in _EMULATOR_HARDWARE:
        return True
    if "emulator" in (props.get("ro.build.characteristics") or ""):
        return True
    if fingerprint:
        brand, _, rest = fingerprint.partition("/")
        product = rest.split("/", 1)[0]
        if brand == "generic" or product.startswith(("sdk_gphone", "sdk_", "generic_")) or product == "sdk":
            return True
    return False


@dataclass(frozen=True)
class DeviceFacts:
    """Identity and build facts of one device.

    Attributes:
        sdk: API level from ``ro.build.version.sdk`` (never from the release string: the corpus RK322x TV box
            says release ``9.1`` on SDK 25).
        release: ``ro.build.version.release`` as printed (may lie, see above), or None.
        model: ``ro.product.model`` (vendor copy as fallback), e.g. ``21121119SG``.
        device: ``ro.product.device``, e.g. ``selene``.
        name: ``ro.product.name``, e.g. ``selene_global``.
        manufacturer: ``ro.product.manufacturer``, e.g. ``Xiaomi``.
        brand: ``ro.product.brand``, e.g. ``Redmi``.
        fingerprint: ``ro.build.fingerprint``.
        region: :class:`~harness.region.RegionResult`; with an override its ``source`` is ``override``.
        operator: :class:`~harness.operator.OperatorResult`: the MCC-MNC (``460-11``) from the ROM's carrier
            customisation, the SIM or the network, with its source and conflicts; with an override its source is
            ``override``.
        emulator: ``ro.kernel.qemu=1``, ``ro.boot.qemu=1``, an emulator ``ro.hardware`` (goldfish, ranchu,
            cuttlefish), ``ro.build.characteristics`` containing ``emulator``, or a ``generic``/``sdk_gphone``
            fingerprint.
        miui_version: ``ro.miui.ui.version.name`` (``V125``, ``V140``; HyperOS still says ``V816``) or None.
        miui_version_code: ``ro.miui.ui.version.code`` as int (``11``, ``14``, ``816``) or None.
        hyperos_version: ``ro.mi.os.version.name`` (``OS2.0``) or None.
        marketname: ``ro.product.marketname`` (``Redmi 10 2022``) or None.
        props: every property, read-only.
    """

    sdk: int
    release: str | None
    model: str | None
    device: str | None
    name: str | None
    manufacturer: str | None
    brand: str | None
    fingerprint: str | None
    region: RegionResult
    operator: OperatorResult
    emulator: bool
    miui_version: str | None
    props: Mapping[str, str]
    miui_version_code: int | None = None
    hyperos_version: str | None = None
    marketname: str | None = None

    @classmethod
    def from_props(cls, props: Mapping[str, str], *, region_override: str | None = None,
                   operator_override: str | None = None) -> DeviceFacts:
        """Derive the facts from ``props`` (``{key: value}`` as returned by ``parse_getprop``).

        Args:
            props: the device's properties.
            region_override: ISO alpha-2 region that replaces the derived one (``--region``); recorded in
                ``region.source == "override"`` with the derived value kept in ``region.signals``.
            operator_override: MCC-MNC that replaces the derived operator (``--operator``).

        Raises:
            ParseError: (command ``getprop``) ``ro.build.version.sdk`` is missing or not a positive integer —
                the output is not a usable getprop dump.
            UsageError: ``region_override`` is not a two-letter code.
        """
        sdk_raw = (props.get("ro.build.version.sdk") or "").strip()
        if not re.fullmatch(r"[0-9]{1,3}", sdk_raw) or int(sdk_raw) == 0:
            what = "missing" if not sdk_raw else f"not a positive integer ({sdk_raw!r})"
            raise ParseError(f"ro.build.version.sdk is {what}", command="getprop",
                             excerpt=f"[ro.build.version.sdk]: [{sdk_raw}]")
        fingerprint = _first(props, "ro.build.fingerprint", "ro.vendor.build.fingerprint")
        code = _first(props, "ro.miui.ui.version.code")
        region = apply_override(resolve_region(props), region_override)
        return cls(
            sdk=int(sdk_raw),
            release=_first(props, "ro.build.version.release"),
            model=_product(props, "model"),
            device=_product(props, "device"),
            name=_product(props, "name"),
            manufacturer=_product(props, "manufacturer"),
            brand=_product(props, "brand"),
            fingerprint=fingerprint,
            region=region,
            operator=resolve_operator(props, operator_override),
            emulator=_is_emulator(props, fingerprint),
            miui_version=_first(props, "ro.miui.ui.version.name"),
            props=MappingProxyType(dict(props)),
            miui_version_code=int(code) if code and code.isdigit() else None,
            hyperos_version=_first(props, "ro.mi.os.version.name"),
            marketname=_product(props, "marketname"),
        )

    @classmethod
    def from_getprop(cls, text: str, *, region_override: str | None = None,
                     operator_override: str | None = None) -> DeviceFacts:
        """``from_props(parse_getprop(text))``; raises ParseError for text that is not getprop output."""
        return cls.from_props(parse_getprop(text), region_override=region_override,
                              operator_override=operator_override)

    def to_dict(self, *, include_props: bool = True) -> dict[str, object]:
        """JSON-ready dict: every field, ``region`` as :meth:`RegionResult.to_dict`, ``props`` when asked."""
        data: dict[str, object] = {
            "sdk": self.sdk, "release": self.release, "model": self.model, "device": self.device,
            "name": self.name, "manufacturer": self.manufacturer, "brand": self.brand,
            "fingerprint": self.fingerprint, "region": self.region.to_dict(), "operator": self.operator.to_dict(),
            "emulator": self.emulator, "miui_version": self.miui_version,
            "miui_version_code": self.miui_version_code, "hyperos_version": self.hyperos_version,
            "marketname": self.marketname,
        }
        if include_props:
            data["props"] = dict(self.props)
        return data

    def to_json(self, *, include_props: bool = True, indent: int | None = None) -> str:
        """:meth:`to_dict` as a JSON string (UTF-8 text kept, not escaped)."""
        return json.dumps(self.to_dict(include_props=include_props), ensure_ascii=False, indent=indent)
