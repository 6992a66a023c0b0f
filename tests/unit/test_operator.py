"""Operator resolution (harness.operator) on the real getprop corpus and on the cases around it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.operator import ascii_digits_hint, normalize_code, resolve_operator
from harness.parsers import parse_getprop

CORPUS = Path("/work/shared/corpus/samples")


def _props(name: str) -> dict[str, str]:
    return parse_getprop((CORPUS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(("sample", "operator", "source"), [
    ("getprop_android10_miui12.5-cn_redmi8a.txt", "460-09", "gsm.sim.operator.numeric"),
    ("getprop_android13_miui14-global_redmi10-2022.txt", "460-11", "gsm.sim.operator.numeric"),
    ("getprop_android15_hyperos2_xiaomi14_crlf.txt", "460-11", "ro.carrier.name"),
    ("getprop_android15_google_pixel6.txt", "454-12", "gsm.sim.operator.numeric"),
    ("getprop_android14_oneui6.1_samsung-galaxy-s24.txt", "460-00", "gsm.operator.numeric"),
    ("getprop_android7.1.2-reports-9.1_rockchip-rk322x-tvbox.txt", None, None),
])
def test_corpus_operators(sample, operator, source):
    r = resolve_operator(_props(sample))
    assert (r.operator, r.source) == (operator, source)


def test_roaming_keeps_the_sim_and_says_so():
    r = resolve_operator(_props("getprop_android15_google_pixel6.txt"))
    assert r.conflicts and "roaming" in r.conflicts[0] and "460-00" in r.conflicts[0]


def test_two_sims_of_different_operators_give_no_operator():
    r = resolve_operator({"gsm.sim.operator.numeric": "405857,40410"})
    assert r.operator is None and "slot 1 405-857, slot 2 404-10" in r.conflicts[0]
    assert resolve_operator({"gsm.sim.operator.numeric": "405857,405857"}).operator == "405-857"


def test_no_sim_is_unknown_with_a_reason():
    r = resolve_operator({"gsm.sim.operator.numeric": ",", "ro.carrier": "unknown"})
    assert r.operator is None and "no SIM" in r.conflicts[0]


def test_carrier_customisation_wins_over_another_operators_sim():
    r = resolve_operator({"ro.carrier.name": "cm", "gsm.sim.operator.numeric": "46011"})
    assert (r.operator, r.source) == ("460-00", "ro.carrier.name")
    assert "the SIM is 460-11" in r.conflicts[0]


def test_stated_operator_wins():
    r = resolve_operator({"gsm.sim.operator.numeric": "46011"}, stated="405857")
    assert (r.operator, r.source) == ("405-857", "override")


def test_normalize_code():
    assert [normalize_code(v) for v in ("405857", "405-857", " 46011 ", "4601", "abc", "", None)] == [
        "405-857", "405-857", "460-11", None, None, None, None]


@pytest.mark.parametrize("value", ["４０５８５７", "４０５-８５７", "٤٠٥-٨٥٧", "۴۰۵۸۵۷", "405-８５７", "46011\n7"])
def test_normalize_code_takes_ascii_digits_only(value):
    assert normalize_code(value) is None
    assert resolve_operator({"gsm.sim.operator.numeric": value}).operator is None


def test_ascii_digits_hint():
    assert ascii_digits_hint("４０５-８５７") == "write it with ASCII digits: 405-857"
    assert ascii_digits_hint("٤٠٥٨٥٧") == "write it with ASCII digits: 405-857"
    assert ascii_digits_hint("405857") is None and ascii_digits_hint("Jio") is None
    assert ascii_digits_hint("４０") is None  # not an MCC-MNC in ASCII either


def test_operator_option_with_non_ascii_digits_is_a_usage_error():
    from harness.plugin.session import option_problems

    [problem] = option_problems(operator="４０５８５７")
    assert "--operator '４０５８５７'" in problem and "write it with ASCII digits: 405-857" in problem
