"""Which mobile operator a device is for, from its system properties (MCC-MNC, e.g. ``405-857``).

Preload agreements vary by operator as well as by market ("offerings may vary by device, market and mobile
operator"). An operator is named by its MCC-MNC (mobile country code, 3 digits; mobile network code, 2 or 3
digits), written with a dash: ``460-11``. The resolver is pure, reads only properties, and reports every signal,
the one it used and the contradictions, like :mod:`harness.region`.

Precedence (first usable signal wins):

1. ``stated``: ``--operator`` on the command line (recorded as source ``override``).
2. **The ROM's carrier customisation** (what decides an operator variant's preloads): MIUI ``ro.carrier.name``
   ``ct`` / ``cm`` / ``cu`` (China Telecom / Mobile / Unicom, see :data:`CARRIER_CODES`) and a generic
   ``ro.carrier`` that holds an MCC-MNC. ``ro.carrier=unknown`` (every corpus phone) means "none". When the SIM
   belongs to the customisation's operator its exact code is used, else the operator's first code, and the SIM
   is reported as a conflict (an operator variant carrying another operator's SIM).
3. **The SIM**: ``gsm.sim.operator.numeric``, one MCC+MNC per SIM slot, comma separated (``46011`` or
   ``46000,46001``; empty slots are empty). Two SIMs of different operators give no operator (a conflict):
   which one the agreement means cannot be told.
4. **The network**: ``gsm.operator.numeric`` (where the phone is registered), only when no SIM says anything.
   It differs from the SIM when roaming (corpus Pixel 6: SIM 45412, network 46000): then the SIM is used and the
   network is only a signal.

No SIM and no customisation: operator None, with "no SIM" in ``conflicts`` (an operator rule is then not
applicable, never passed). Corpus answers (``/work/shared/corpus/samples/getprop_*``): Redmi 8A → 460-09 (SIM);
Redmi 10 2022 → 460-11 (SIM; the network slots are empty); Xiaomi 14 HyperOS → 460-11 (``ro.carrier.name=ct``
and a China Telecom SIM agree); Pixel 6 → 454-12 (SIM; roaming on 460-00); Galaxy S24 → 460-00 (no SIM,
registered on 46000); RK322x TV box → None (no SIM, no network).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

_CODE_RE = re.compile(r"([0-9]{3})-?([0-9]{2,3})")
"""MCC, optional dash, MNC in ASCII digits (``\\d`` would also take full-width or Arabic-Indic digits)."""

CARRIER_CODES: dict[str, tuple[str, ...]] = {
    "ct": ("460-03", "460-05", "460-11"),
    "cm": ("460-00", "460-02", "460-04", "460-07", "460-08"),
    "cu": ("460-01", "460-06", "460-09"),
}
"""MIUI carrier customisations (``ro.carrier.name``) → the MCC-MNC codes of that operator (first = home code)."""

SIGNAL_PROPS: tuple[str, ...] = ("ro.carrier.name", "ro.carrier", "gsm.sim.operator.numeric",
                                 "gsm.sim.operator.alpha", "gsm.operator.numeric", "gsm.operator.alpha",
                                 "gsm.sim.state", "ro.miui.cust_variant")
"""Every property the resolver looks at; those present (non-empty) are kept in ``OperatorResult.signals``."""


def normalize_code(value: str | None) -> str | None:
    """``"405857"`` / ``"405-857"`` / ``" 46011 "`` → ``"405-857"`` / ``"460-11"``; None for anything else.

    Android prints MCC and MNC run together (``gsm.sim.operator.numeric``); the MCC is always 3 digits.
    """
    if not value:
        return None
    m = _CODE_RE.fullmatch(value.strip())
    return f"{m.group(1)}-{m.group(2)}" if m else None


def ascii_digits_hint(value: str) -> str | None:
    """For an MCC-MNC written with non-ASCII digits (full-width ``４０５-８５７``, Arabic-Indic ``٤٠٥-٨٥٧``): the remedy
    ``write it with ASCII digits: 405-857``; None when ``value`` has no such digit or is no MCC-MNC even in ASCII."""
    if value.isascii() or not any(c.isdecimal() for c in value):
        return None
    ascii_text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in value)
    code = normalize_code(ascii_text)
    return f"write it with ASCII digits: {code}" if code else None


@dataclass(frozen=True)
class OperatorResult:
    """The resolved operator of one device.

    Attributes:
        operator: MCC-MNC (``460-11``) or None when not determinable.
        source: the property that gave it (``gsm.sim.operator.numeric``, ``ro.carrier.name``, ``override``), or None.
        conflicts: human sentences, one per contradiction or gap ("no SIM", two SIMs of different operators).
        signals: every operator-related property present (:data:`SIGNAL_PROPS`), name → value.
        name: the operator's name as the device shows it (``gsm.sim.operator.alpha`` of the slot used), or None.
    """

    operator: str | None
    source: str | None
    conflicts: list[str] = field(default_factory=list)
    signals: dict[str, str] = field(default_factory=dict)
    name: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict of all fields."""
        return {"operator": self.operator, "source": self.source, "conflicts": list(self.conflicts),
                "signals": dict(self.signals), "name": self.name}


def _slots(value: str | None) -> list[str | None]:
    """A per-slot comma list → normalized codes (None for an empty or unreadable slot)."""
    if value is None:
        return []
    return [normalize_code(part) for part in value.split(",")]


def resolve_operator(props: Mapping[str, str], stated: str | None = None) -> OperatorResult:
    """Resolve the device's operator from ``props`` (see the module docstring for the rules).

    Args:
        props: ``getprop`` values.
        stated: an MCC-MNC given by the user (``--operator``), or None.
    """
    signals = {k: props[k] for k in SIGNAL_PROPS if (props.get(k) or "").strip()}
    sims = _slots(props.get("gsm.sim.operator.numeric"))
    sim_codes = [c for c in sims if c]
    alphas = [a.strip() for a in (props.get("gsm.sim.operator.alpha") or "").split(",")]

    def sim_name(code: str) -> str | None:
        idx = sims.index(code) if code in sims else -1
        return alphas[idx] if 0 <= idx < len(alphas) and alphas[idx] else None

    conflicts: list[str] = []
    if stated is not None:
        code = normalize_code(stated)
        return OperatorResult(code, "override", [] if code else [f"--operator {stated!r} is not an MCC-MNC"],
                              signals, None)
    carrier_name = (props.get("ro.carrier.name") or "").strip().lower()
    carrier = (props.get("ro.carrier") or "").strip()
    custom: tuple[str, tuple[str, ...]] | None = None
    if carrier_name in CARRIER_CODES:
        custom = ("ro.carrier.name", CARRIER_CODES[carrier_name])
    elif normalize_code(carrier):
        custom = ("ro.carrier", (normalize_code(carrier) or "",))
    if custom is not None:
        prop, codes = custom
        on_sim = next((c for c in sim_codes if c in codes), None)
        if on_sim is not None:
            return OperatorResult(on_sim, prop, conflicts, signals, sim_name(on_sim))
        if sim_codes:
            conflicts.append(f"{prop}={props.get(prop)} (operator {codes[0]}) but the SIM is "
                             f"{', '.join(sim_codes)} (gsm.sim.operator.numeric): the ROM's customisation is used")
        return OperatorResult(codes[0], prop, conflicts, signals, None)
    distinct = sorted(set(sim_codes))
    if len(distinct) > 1:
        conflicts.append("SIMs of different operators: " + ", ".join(
            f"slot {i + 1} {c}" for i, c in enumerate(sims) if c) + " (gsm.sim.operator.numeric); which one the "
            "agreement means cannot be told: state it with --operator")
        return OperatorResult(None, None, conflicts, signals, None)
    network = [c for c in _slots(props.get("gsm.operator.numeric")) if c]
    if distinct:
        code = distinct[0]
        if network and code not in network:
            conflicts.append(f"SIM {code} registered on network {', '.join(sorted(set(network)))} "
                             "(gsm.operator.numeric): roaming; the SIM's operator is used")
        return OperatorResult(code, "gsm.sim.operator.numeric", conflicts, signals, sim_name(code))
    if len(set(network)) == 1:
        return OperatorResult(network[0], "gsm.operator.numeric", ["no SIM (gsm.sim.operator.numeric empty): the "
                                                                   "network the phone is registered on is used"],
                              signals, None)
    conflicts.append("no SIM and no carrier customisation (gsm.sim.operator.numeric, ro.carrier.name empty)")
    return OperatorResult(None, None, conflicts, signals, None)


__all__ = ["CARRIER_CODES", "OperatorResult", "ascii_digits_hint", "normalize_code", "resolve_operator"]
