"""Which market (region) a device is provisioned for, from its system properties.

Region is multi-signal and OEM-specific (``/work/shared/notes/domain-and-anchors.md`` §4.3). The resolver
reads only properties, is pure, and reports every signal it saw, the one it used, and the contradictions.

Precedence (first family whose properties are present decides; inside a family, first usable property wins):

1. **Xiaomi MIUI / HyperOS** (any ``ro.miui.*``, ``ro.mi.os.*`` or ``ro.product.mod_device``):

   a. ``ro.miui.region`` — ISO 3166-1 alpha-2 sales region, what ``miui.os.Build.getRegion()`` returns;
   b. ``ro.vendor.miui.region`` — vendor copy of the same;
   c. ``ro.product.mod_device`` country suffix: ``<device>_<cc>_global`` (``_in_global`` → IN,
      ``_ru_global`` → RU, ``_id_global`` …); ``_eea_global`` and plain ``_global`` name a ROM flavour only;
   d. ``ro.miui.build.region`` when it is a country (``cn``, ``in``, ``ru`` …; ``global``/``eea`` are flavours);
   e. ``ro.miui.cust_variant`` leading country (``hk``, ``cn_chinatelecom`` → CN).

   ``ro.boot.hwc`` is the *hardware* SKU country from the bootloader, never the market: it is recorded in
   ``signals`` and never used or compared (corpus Redmi 10 2022: region HK, hwc CN, no conflict).
   ROM flavour: the ``mod_device`` suffix (``_global`` → ``global``, ``_in_global`` → ``in``, no suffix → ``cn``),
   made specific by ``ro.miui.build.region``.

2. **Samsung One UI** (``persist.omc.sales_code``, ``ro.csc.*``): the active sales code is
   ``persist.omc.sales_code`` if non-empty else ``ro.csc.sales_code`` (``OmcCode.get()``); its country is
   ``ro.csc.countryiso_code``, else a small built-in table of well-known CSC codes (:data:`CSC_COUNTRY`).
   ``source`` names the sales-code property; ``rom_flavour`` is the sales code (``CHC``).

3. **OPPO / realme / OnePlus ColorOS**: ``persist.sys.oppo.region``, ``ro.oppo.regionmark``,
   ``ro.vendor.oplus.regionmark`` (``CN``, ``IN`` …; ``EUEX`` is the EEA flavour with no single country).

4. **Generic, weak** (user- or build-locale driven), only when no OEM property gave a country:
   ``persist.sys.country``, ``ro.product.locale`` region subtag, ``ro.product.locale.region``,
   ``persist.sys.locale`` region subtag. They are used **only when all present ones agree**; the result's
   ``source`` is then ``weak:<property>`` (:attr:`RegionResult.weak` is True). When they disagree the region
   is None and a conflict explains why. Decision for the stock Pixel 6 (corpus
   ``getprop_android15_google_pixel6.txt``): ``ro.product.locale=en-US`` vs ``persist.sys.locale=zh-Hans-CN``
   disagree → region **None** ("not determinable"), never ``CN`` from ``ro.boot.hardware.coo``.

Never used as a region: ``ro.boot.hardware.coo`` (country of *origin*, where it was made), ``ro.boot.hwc``,
SIM/network ISO countries (``gsm.sim.operator.iso-country``: where the SIM comes from). They are kept in
``signals`` for the report.

Corpus answers (``/work/shared/corpus/README.md`` § getprop): Redmi 10 2022 → HK (flavour global); Xiaomi 14
HyperOS → CN; Redmi 8A → CN; Galaxy S24 SM-S9210 → CN via CSC CHC; Pixel 6 → None; RK322x TV box → BR (weak,
``persist.sys.locale=pt-BR`` is its only locale signal).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from harness.errors import UsageError

_CC_RE = re.compile(r"^[A-Za-z]{2}$")

# ISO 3166-1 user-assigned / common non-ISO aliases seen in ROM properties.
_ALIASES = {"UK": "GB", "EL": "GR"}

CSC_COUNTRY: dict[str, str] = {
    # China / HK / TW
    "CHC": "CN", "CHN": "CN", "CHM": "CN", "TGY": "HK", "BRI": "TW",
    # Americas
    "XAA": "US", "ATT": "US", "TMB": "US", "VZW": "US", "XAC": "CA", "ZTO": "BR",
    # Europe
    "BTU": "GB", "DBT": "DE", "XEF": "FR", "ITV": "IT", "PHE": "ES", "XEO": "PL", "SER": "RU", "TUR": "TR",
    # Asia-Pacific
    "INS": "IN", "KOO": "KR", "XSA": "AU", "XNZ": "NZ", "XID": "ID", "THL": "TH", "XXV": "VN",
}
"""Well-known Samsung CSC sales codes → ISO country, used only when ``ro.csc.countryiso_code`` is absent."""

SIGNAL_PROPS: tuple[str, ...] = (
    "ro.miui.region", "ro.vendor.miui.region", "ro.product.mod_device", "ro.miui.build.region",
    "ro.miui.cust_variant", "ro.boot.hwc", "ro.carrier.name", "ro.mi.os.version.incremental",
    "persist.omc.sales_code", "ro.csc.sales_code", "ro.csc.countryiso_code", "ro.csc.country_code",
    "ro.csc.omcnw_code", "ro.boot.carrierid",
    "persist.sys.oppo.region", "ro.oppo.regionmark", "ro.vendor.oplus.regionmark",
    "persist.sys.country", "ro.product.locale", "ro.product.locale.region", "persist.sys.locale",
    "gsm.sim.operator.iso-country", "gsm.operator.iso-country", "ro.boot.wificountrycode",
    "ro.boot.hardware.coo",
)
"""Every property the resolver looks at; those present (non-empty) are copied to ``RegionResult.signals``."""

_WEAK_PROPS = ("persist.sys.country", "ro.product.locale", "ro.product.locale.region", "persist.sys.locale")


@dataclass(frozen=True)
class RegionResult:
    """The resolved market of one device.

    Attributes:
        region: ISO 3166-1 alpha-2 in upper case (``CN``, ``HK``), or None when not determinable.
        source: the property that gave ``region`` (``ro.miui.region``, ``ro.csc.sales_code``,
            ``weak:persist.sys.locale``, ``override``), or None.
        rom_flavour: ROM build flavour: MIUI ``cn``/``global``/``in``/``eea``/``ru``…, Samsung sales code
            (``CHC``), ColorOS region mark in lower case; None when unknown.
        conflicts: human sentences, one per contradiction between signals (empty when consistent).
        signals: every region-related property present on the device (``SIGNAL_PROPS``), name → value.
        oem: which rule family decided: ``miui``, ``samsung``, ``coloros``, ``generic`` or None.
    """

    region: str | None
    source: str | None
    rom_flavour: str | None = None
    conflicts: list[str] = field(default_factory=list)
    signals: dict[str, str] = field(default_factory=dict)
    oem: str | None = None

    @property
    def weak(self) -> bool:
        """True when ``region`` comes only from locale-type signals (``source`` starts with ``weak:``)."""
        return bool(self.source and self.source.startswith("weak:"))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict of all fields plus ``weak``."""
        return {"region": self.region, "source": self.source, "rom_flavour": self.rom_flavour,
                "conflicts": list(self.conflicts), "signals": dict(self.signals), "oem": self.oem,
                "weak": self.weak}


def country_code(value: str | None) -> str | None:
    """``value`` as an upper-case ISO alpha-2 code if it is two letters (``hk`` → ``HK``, ``UK`` → ``GB``)."""
    if not value:
        return None
    v = value.strip()
    if not _CC_RE.match(v):
        return None
    v = v.upper()
    return _ALIASES.get(v, v)


def locale_region(locale: str | None) -> str | None:
    """Region subtag of a BCP-47 / Java locale: ``zh-Hans-CN`` → ``CN``, ``en_US`` → ``US``, ``en`` → None."""
    if not locale:
        return None
    parts = re.split(r"[-_]", locale.strip())
    for sub in parts[1:]:
        if _CC_RE.match(sub):
            return country_code(sub)
    return None


def _mod_device(mod: str | None) -> tuple[str | None, str | None]:
    """``ro.product.mod_device`` → (flavour, country): ``x_global`` → (global, None), ``x_in_global`` → (in, IN),
    ``x_eea_global`` → (eea, None), ``houji`` → (cn, None); None when absent."""
    if not mod:
        return None, None
    m = re.search(r"_(?:(?P<tag>[a-z]{2,3})_)?global(?:_alpha)?$", mod.strip().lower())
    if not m:
        return "cn", None
    tag = m.group("tag")
    if tag is None:
        return "global", None
    return tag, country_code(tag) if len(tag) == 2 else None


def _miui(get: _Getter, signals: dict[str, str]) -> RegionResult:
    conflicts: list[str] = []
    mod = get("ro.product.mod_device")
    mod_flavour, mod_cc = _mod_device(mod)
    build_region = (get("ro.miui.build.region") or "").lower() or None
    build_cc = country_code(build_region)

    flavour = mod_flavour
    if build_region:
        if flavour is None or (flavour == "global" and build_region != "cn"):
            flavour = build_region
        elif flavour != build_region and not (build_region == "global" and flavour not in ("cn",)):
            conflicts.append(f"ROM flavour disagrees: ro.product.mod_device={mod} says {flavour!r} but "
                             f"ro.miui.build.region={build_region}")

    cust = get("ro.miui.cust_variant")
    cust_cc = country_code(cust.split("_", 1)[0]) if cust else None

    candidates: list[tuple[str, str | None, str | None]] = [
        ("ro.miui.region", country_code(get("ro.miui.region")), get("ro.miui.region")),
        ("ro.vendor.miui.region", country_code(get("ro.vendor.miui.region")), get("ro.vendor.miui.region")),
        ("ro.product.mod_device", mod_cc, mod),
        ("ro.miui.build.region", build_cc, build_region),
        ("ro.miui.cust_variant", cust_cc, cust),
    ]
    region = source = None
    for prop, cc, _raw in candidates:
        if cc:
            region, source = cc, prop
            break
    for prop, raw in (("ro.miui.region", get("ro.miui.region")), ("ro.vendor.miui.region",
                                                                   get("ro.vendor.miui.region"))):
        if raw and not country_code(raw):
            conflicts.append(f"{prop}={raw!r} is not an ISO 3166-1 alpha-2 code; ignored")
    if region:
        # Signals that name a country must agree with the one used (cust_variant is a default-ish
        # customisation and hwc is hardware: neither is compared).
        for prop, cc, raw in candidates[:4]:
            if cc and cc != region and prop != source:
                conflicts.append(f"{source}={region} but {prop}={raw} implies {cc}")
        if flavour == "cn" and region != "CN":
            conflicts.append(f"{source}={region} on a China ROM (flavour cn: "
                             f"ro.product.mod_device={mod}, ro.miui.build.region={build_region})")
        if region == "CN" and flavour not in (None, "cn"):
            conflicts.append(f"{source}=CN on an international ROM (flavour {flavour}); international builds set "
                             "ro.miui.region when the user picks a region in setup, CN is the unprovisioned "
                             "default")
    return RegionResult(region, source, flavour, conflicts, signals, "miui")


def _samsung(get: _Getter, signals: dict[str, str]) -> RegionResult:
    conflicts: list[str] = []
    omc, csc = get("persist.omc.sales_code"), get("ro.csc.sales_code")
    sales, sales_prop = (omc, "persist.omc.sales_code") if omc else (csc, "ro.csc.sales_code")
    if omc and csc and omc != csc:
        conflicts.append(f"active OMC sales code persist.omc.sales_code={omc} differs from ro.csc.sales_code={csc}; "
                         f"{omc} is used")
    iso_raw = get("ro.csc.countryiso_code")
    iso = country_code(iso_raw)
    table = CSC_COUNTRY.get(sales.upper()) if sales else None
    region: str | None
    source: str | None
    if iso:
        region, source = iso, sales_prop if sales else "ro.csc.countryiso_code"
        if table and table != iso:
            conflicts.append(f"CSC {sales} is a {table} code but ro.csc.countryiso_code={iso_raw}")
    elif table:
        region, source = table, sales_prop
    else:
        region, source = None, None
        if iso_raw:
            conflicts.append(f"ro.csc.countryiso_code={iso_raw!r} is not an ISO 3166-1 alpha-2 code")
        if sales:
            conflicts.append(f"CSC sales code {sales} has no ro.csc.countryiso_code and is not in the built-in "
                             "table; region unknown")
    return RegionResult(region, source, sales.upper() if sales else None, conflicts, signals, "samsung")


def _coloros(get: _Getter, signals: dict[str, str]) -> RegionResult:
    conflicts: list[str] = []
    region = source = flavour = None
    seen: list[tuple[str, str]] = []
    for prop in ("persist.sys.oppo.region", "ro.oppo.regionmark", "ro.vendor.oplus.regionmark"):
        raw = get(prop)
        if not raw:
            continue
        cc = country_code(raw)
        mark = raw.strip().upper()
        if flavour is None:
            flavour = "eea" if mark.startswith("EU") else mark.lower()
        if cc:
            seen.append((prop, cc))
            if region is None:
                region, source = cc, prop
    for prop, cc in seen:
        if cc != region:
            conflicts.append(f"{source}={region} but {prop}={cc}")
    return RegionResult(region, source, flavour, conflicts, signals, "coloros")


def _weak(get: _Getter, signals: dict[str, str], base: RegionResult | None) -> RegionResult:
    found: list[tuple[str, str, str]] = []
    for prop in _WEAK_PROPS:
        raw = get(prop)
        if not raw:
            continue
        cc = country_code(raw) if prop in ("persist.sys.country", "ro.product.locale.region") else locale_region(raw)
        if cc:
            found.append((prop, raw, cc))
    conflicts = list(base.conflicts) if base else []
    flavour = base.rom_flavour if base else None
    oem = base.oem if base else "generic"
    if not found:
        return RegionResult(None, None, flavour, conflicts, signals, oem)
    countries = {cc for _p, _r, cc in found}
    if len(countries) == 1:
        prop, _raw, cc = found[0]
        return RegionResult(cc, f"weak:{prop}", flavour, conflicts, signals, oem)
    listing = ", ".join(f"{p}={r} ({cc})" for p, r, cc in found)
    conflicts.append(f"no OEM region property and the weak locale signals disagree: {listing}; region not "
                     "determinable")
    return RegionResult(None, None, flavour, conflicts, signals, oem)


class _Getter:
    """Property lookup that treats missing, empty and whitespace-only values alike (None)."""

    def __init__(self, props: Mapping[str, str]) -> None:
        self._props = props

    def __call__(self, key: str) -> str | None:
        value = self._props.get(key)
        if value is None:
            return None
        value = str(value).strip()
        return value or None


def resolve_region(props: Mapping[str, str]) -> RegionResult:
    """Resolve the device's market from ``props`` (``getprop`` output as parsed by ``parse_getprop``).

    Applies the precedence in this module's docstring: MIUI/HyperOS, then Samsung CSC/OMC, then ColorOS,
    then agreeing weak locale signals. Never raises for missing properties: an undeterminable region is
    ``region=None`` with the reason in ``conflicts`` when signals contradict each other.

    Returns:
        A :class:`RegionResult`; ``signals`` holds every present property of :data:`SIGNAL_PROPS`.
    """
    get = _Getter(props)
    signals_s: dict[str, str] = {k: v for k in SIGNAL_PROPS if (v := get(k)) is not None}

    families: list[RegionResult] = []
    if any(k.startswith(("ro.miui.", "ro.mi.os.")) for k in props) or get("ro.product.mod_device"):
        families.append(_miui(get, signals_s))
    if get("persist.omc.sales_code") or get("ro.csc.sales_code") or get("ro.csc.countryiso_code"):
        families.append(_samsung(get, signals_s))
    if get("persist.sys.oppo.region") or get("ro.oppo.regionmark") or get("ro.vendor.oplus.regionmark"):
        families.append(_coloros(get, signals_s))

    decided = next((f for f in families if f.region), None)
    if decided is None:
        return _weak(get, signals_s, families[0] if families else None)
    conflicts = list(decided.conflicts)
    for other in families:
        if other is not decided and other.region and other.region != decided.region:
            conflicts.append(f"{other.oem} properties say {other.region} ({other.source}) but {decided.oem} "
                             f"properties say {decided.region} ({decided.source}); {decided.oem} wins")
    return replace(decided, conflicts=conflicts)


def apply_override(result: RegionResult, override: str | None) -> RegionResult:
    """Return ``result`` with ``override`` as the region (``source="override"``), or ``result`` when None.

    The derived region is kept in ``signals["derived.region"]`` / ``signals["derived.source"]`` and a
    conflict sentence records a disagreement, so a report shows both.

    Raises:
        UsageError: ``override`` is not a two-letter ISO 3166-1 alpha-2 code.
    """
    if override is None:
        return result
    cc = country_code(override)
    if cc is None:
        raise UsageError(f"region override {override!r} is not an ISO 3166-1 alpha-2 code; "
                         "use two letters as in ro.miui.region, e.g. CN, IN, HK")
    signals = dict(result.signals)
    conflicts = list(result.conflicts)
    if result.region:
        signals["derived.region"] = result.region
        signals["derived.source"] = result.source or ""
        if result.region != cc:
            conflicts.append(f"region overridden to {cc}; the device's properties say {result.region} "
                             f"({result.source})")
    return replace(result, region=cc, source="override", conflicts=conflicts, signals=signals)
