"""categories.json patterns and environment.properties encoding."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.reporting.allure_env import (
    INFRA_CATEGORIES,
    PRODUCT_CATEGORIES,
    categories,
    devices_from_records,
    environment_lines,
    write_categories,
    write_environment,
)

from .helpers import rec


def matching(status: str, message: str) -> list[str]:
    """Categories that Allure 2 would give a result: whole-string match (Java String.matches ≈ re.fullmatch)."""
    return [c["name"] for c in categories()
            if status in c["matchedStatuses"] and re.fullmatch(c["messageRegex"], message)]


@pytest.mark.parametrize(("tag", "name"), [(t, n) for n, tags in PRODUCT_CATEGORIES for t in tags])
def test_each_product_tag_selects_exactly_its_category(tag: str, name: str) -> None:
    assert matching("failed", f"AssertionError: {tag} Excel (com.microsoft.office.excel): details\nmore") == [name]
    assert matching("broken", f"RuntimeError: {tag}") == ["Harness error"]  # a tag on a broken test is not a defect


@pytest.mark.parametrize(("cls", "name"), [
    ("DeviceUnavailable", "Device offline or unauthorized"),
    ("AdbTimeout", "adb timeout"),
    ("LaunchInfraError", "uiautomator2 server"),
    ("AdbError", "Harness error"),
    ("ParseError", "Harness error"),
    ("Error", "Harness error"),
])
def test_each_infra_exception_selects_exactly_one_category(cls: str, name: str) -> None:
    assert matching("broken", f"harness.errors.{cls}: [SERIAL] something — remedy\nsecond line") == [name]


def test_other_broken_results_are_harness_errors_and_passed_match_nothing() -> None:
    assert matching("broken", "KeyError: 'ro.product.model'") == ["Harness error"]
    assert matching("passed", "harness.errors.AdbTimeout: x") == []
    assert matching("failed", "AssertionError: no tag") == []
    assert matching("skipped", "harness.errors.DeviceUnavailable: [s] gone") == ["Device offline or unauthorized"]


def test_all_category_names_are_present_once(tmp_path: Path) -> None:
    path = write_categories(tmp_path)
    names = [c["name"] for c in json.loads(path.read_text())]
    assert names == [n for n, _ in PRODUCT_CATEGORIES] + [n for n, _ in INFRA_CATEGORIES]
    assert len(names) == 16  # 12 product categories (issue 10 added Wrong signer, Test-key signed) + 4 infrastructure


def java_properties_load(text: str) -> dict[str, str]:
    """Enough of java.util.Properties.load for these files (one logical line per line, escapes)."""
    def unescape(s: str) -> str:
        out, i = [], 0
        while i < len(s):
            ch = s[i]
            if ch == "\\":
                nxt = s[i + 1]
                if nxt == "u":
                    out.append(chr(int(s[i + 2:i + 6], 16)))
                    i += 6
                    continue
                out.append({"n": "\n", "r": "\r", "t": "\t"}.get(nxt, nxt))
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16")

    props = {}
    for line in text.splitlines():
        m = re.match(r"((?:\\.|[^=:\s\\])+)\s*[=:]\s*(.*)$", line)
        assert m, line
        props[unescape(m.group(1))] = unescape(m.group(2))
    return props


def test_environment_every_device_every_field_unique_keys(tmp_path: Path) -> None:
    devices = [
        {"serial": "127.0.0.1:5556", "model": "Redmi Note 3", "region": "IN", "android": "6.0.1", "sdk": 23,
         "fingerprint": "Xiaomi/kenzo/kenzo:6.0.1/MMB29M/V8.1.6.0.MHOINDI:user/release-keys",
         "host": "farm-a:5037", "profile": "xiaomi-redmi-note3"},
        {"serial": "abc 1", "model": "MI 5 · 中国 😀", "region": None},
        {"serial": "127.0.0.1:5556", "model": "duplicate"},
    ]
    path = write_environment(tmp_path, devices, extra={"run.devices": 2})
    text = path.read_text(encoding="ascii")
    props = java_properties_load(text)
    assert props["127.0.0.1:5556.model"] == "Redmi Note 3"
    assert props["127.0.0.1:5556.fingerprint"].endswith(":user/release-keys")
    assert props["127.0.0.1:5556.farm_host"] == "farm-a:5037"
    assert props["abc 1.model"] == "MI 5 · 中国 😀"
    assert props["abc 1.region"] == "unknown"
    assert props["run.devices"] == "2"
    assert len(props) == len(text.splitlines()) == 2 * 7 + 1


def test_devices_from_records() -> None:
    devs = devices_from_records([rec("s2"), rec("s1", None, "region"), rec("s2", "Excel")])
    assert [d["serial"] for d in devs] == ["s2", "s1"]  # MI 4S before MI 5
    assert devs[1] == {"serial": "s1", "model": "MI 5", "region": "CN", "android": "7.0", "sdk": 24,
                       "fingerprint": "Xiaomi/gemini/gemini:7.0/NRD90M/V8.2.1.0.NAACNEB:user/release-keys",
                       "profile": "xiaomi-mi5", "host": "127.0.0.1:5037"}
    assert environment_lines([]) == []
