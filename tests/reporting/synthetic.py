"""A throwaway allure-pytest suite that produces real allure-results and records.jsonl for the reporting tests.

It emulates the lead's plugin: every test carries parameters serial/model/region, labels epic = "<model> · <region>",
feature = app, story = check, a severity, and appends one record per test with
:class:`harness.reporting.records.RecordWriter`. It runs in a subprocess (real allure-pytest, real pytest) in its
own directory, with plugin autoload off so nothing from the project's conftest/plugins interferes.

Devices and outcomes (variant 1; variant 2 fixes the Word version so the trend moves):

* MI 5 · CN (``mi5-cn-0001``): everything passes.
* MI 4S · CN (``mi4s-cn-0002``): Excel presence FAILS "[missing app]" with a text evidence and a PNG screenshot.
* Redmi Note 3 · IN (``rn3-in-0003``): Word version FAILS "[version mismatch]" (variant 1 only);
  PowerPoint launch FAILS "[slow launch]" at severity normal (below the default gate).
* Redmi 3 · ID (``redmi3-id-0004``): Outlook launch BROKEN by ``harness.errors.AdbTimeout``; Skype app_region SKIPPED.
* Redmi Note 3 · RU (``rn3-ru-0005``): device region FAILS "[region not agreed]".
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CONFTEST = '''
import json, os, pytest
from harness.reporting.records import ExpectedCheck, RecordWriter, RunHeader, new_run_id

_WRITER = RecordWriter(os.environ["SYNTH_RECORDS"])
_RUN_ID = new_run_id()

def pytest_collection_modifyitems(items):
    cases = [it.callspec.params["case"] for it in items if getattr(it, "callspec", None)]
    _WRITER.write_header(RunHeader(run_id=_RUN_ID, started="2026-11-29T21:53:45Z", expected=[
        ExpectedCheck(host="127.0.0.1:5037", serial=c["serial"], check=c["check"], package=c.get("package"),
                      app=c.get("app"), severity=c["severity"], model=c["model"], region=c["region"])
        for c in cases]))

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    case = getattr(item, "callspec", None) and item.callspec.params.get("case")
    if not case:
        return
    done = (rep.when == "call") or (rep.when == "setup" and not rep.passed)
    if not done:
        return
    if rep.skipped:
        status = "skipped"
    elif rep.passed:
        status = "passed"
    elif call.excinfo is not None and call.excinfo.errisinstance(AssertionError):
        status = "failed"
    else:
        status = "broken"
    msg = str(call.excinfo.value) if call.excinfo is not None else case.get("pass_reason", "ok")
    if rep.skipped and isinstance(rep.longrepr, tuple):
        msg = rep.longrepr[2]
    _WRITER.write({
        "nodeid": item.nodeid, "check": case["check"], "serial": case["serial"], "host": "127.0.0.1:5037",
        "model": case["model"], "profile": case["profile"], "region": case["region"],
        "fingerprint": case["fingerprint"], "android": case["android"], "sdk": case["sdk"],
        "package": case.get("package"), "app": case.get("app"), "severity": case["severity"],
        "outcome": status, "category": case.get("category") if status != "passed" else None,
        "reason": " ".join(msg.split()), "expected": case.get("expected"), "found": case.get("found"),
        "duration_s": round(rep.duration, 3), "run_id": _RUN_ID,
    })
'''

SUITE = '''
import io, allure, pytest
from PIL import Image, ImageDraw
from harness.errors import AdbTimeout

VARIANT = {variant}
DEVICES = {{
    "mi5-cn-0001": ("MI 5", "xiaomi-mi5", "CN", "7.0", 24,
                    "Xiaomi/gemini/gemini:7.0/NRD90M/V8.2.1.0.NAACNEB:user/release-keys"),
    "mi4s-cn-0002": ("MI 4S", "xiaomi-mi4s", "CN", "7.0", 24,
                     "Xiaomi/aqua/aqua:7.0/NRD90M/V8.5.1.0.NAJCNED:user/release-keys"),
    "rn3-in-0003": ("Redmi Note 3", "xiaomi-redmi-note3", "IN", "6.0.1", 23,
                    "Xiaomi/kenzo/kenzo:6.0.1/MMB29M/V8.1.6.0.MHOINDI:user/release-keys"),
    "redmi3-id-0004": ("Redmi 3", "xiaomi-redmi3", "ID", "5.1.1", 22,
                       "Xiaomi/ido/ido:5.1.1/LMY47V/V8.1.3.0.LAIMIDI:user/release-keys"),
    "rn3-ru-0005": ("Redmi Note 3", "xiaomi-redmi-note3", "RU", "6.0.1", 23,
                    "Xiaomi/kenzo/kenzo:6.0.1/MMB29M/V8.1.6.0.MHORUDI:user/release-keys"),
}}
APPS = {{"Word": ("com.microsoft.office.word", "critical"), "Excel": ("com.microsoft.office.excel", "critical"),
        "PowerPoint": ("com.microsoft.office.powerpoint", "normal"),
        "Outlook": ("com.microsoft.office.outlook", "critical"), "Skype": ("com.skype.raider", "blocker")}}

def case(serial, check, app=None, **kw):
    model, profile, region, android, sdk, fp = DEVICES[serial]
    c = dict(serial=serial, check=check, model=model, profile=profile, region=region, android=android, sdk=sdk,
             fingerprint=fp, app=app, package=APPS[app][0] if app else None,
             severity=kw.pop("severity", APPS[app][1] if app else "critical"))
    c.update(kw)
    return c

CASES = []
for serial in DEVICES:
    CASES.append(case(serial, "region"))
    for app in ("Word", "Excel", "PowerPoint", "Outlook", "Skype"):
        CASES.append(case(serial, "presence", app))
        CASES.append(case(serial, "launch", app))
CASES.append(case("rn3-in-0003", "version", "Word"))
CASES.append(case("redmi3-id-0004", "app_region", "Skype"))
ID = lambda c: f"{{c['serial']}}-{{c['app'] or 'device'}}-{{c['check']}}"

def png(text):
    img = Image.new("RGB", (360, 640), (250, 250, 250))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, 360, 60), fill=(30, 90, 200))
    d.text((12, 20), text, fill=(255, 255, 255))
    buf = io.BytesIO(); img.save(buf, format="PNG"); return buf.getvalue()

@pytest.mark.parametrize("case", CASES, ids=ID)
def test_check(case):
    title = f"{{case['app'] or 'Device'}} {{case['check']}} on {{case['model']}} ({{case['serial']}})"
    allure.dynamic.title(title)
    allure.dynamic.epic(f"{{case['model']}} · {{case['region']}}")
    allure.dynamic.feature(case["app"] or "device")
    allure.dynamic.story(case["check"])
    allure.dynamic.severity(case["severity"])
    for k in ("serial", "model", "region"):
        allure.dynamic.parameter(k, case[k])
    key = (case["serial"], case["app"], case["check"])
    if key == ("mi4s-cn-0002", "Excel", "presence"):
        allure.attach("$ pm list packages com.microsoft.office.excel\\n(no output)\\nEXCEL-EVIDENCE-MARKER",
                      name="pm list packages", attachment_type=allure.attachment_type.TEXT)
        allure.attach(png("MI 4S home screen: no Excel"), name="screenshot", attachment_type=allure.attachment_type.PNG)
        case["category"] = "Missing app"
        raise AssertionError("[missing app] Excel (com.microsoft.office.excel) is not installed for user 0")
    if key == ("mi4s-cn-0002", "Excel", "launch"):
        pytest.skip("Excel is not installed; launch not applicable")
    if key == ("rn3-in-0003", "Word", "version") and VARIANT == 1:
        case.update(category="Version mismatch", expected="16.0.7070.2036", found="16.0.6925.1000")
        raise AssertionError("[version mismatch] Word version_name 16.0.6925.1000, agreed exactly 16.0.7070.2036")
    if key == ("rn3-in-0003", "PowerPoint", "launch"):
        case["category"] = "Slow launch"
        raise AssertionError("[slow launch] PowerPoint cold start 6000 ms > limit 4000 ms")
    if key == ("redmi3-id-0004", "Outlook", "launch"):
        case["category"] = "adb timeout"
        raise AdbTimeout("am start -W did not return", serial="redmi3-id-0004", timeout=20.0,
                         remedy="check the device link and rerun")
    if key == ("redmi3-id-0004", "Skype", "app_region"):
        pytest.skip("Skype has no region rule for ID")
    if key == ("rn3-ru-0005", None, "region"):
        case["category"] = "Region not agreed"
        raise AssertionError("[region not agreed] region RU is not among CN, IN, TW, HK, SG, MY, PH, ID, BR")
'''


def run_synthetic(workdir: Path, results: Path, records: Path, *, variant: int = 1,
                  timeout_s: float = 180.0) -> subprocess.CompletedProcess[str]:
    """Run the synthetic suite in ``workdir``, writing allure results to ``results`` and records to ``records``.

    Returns the completed pytest process (exit code 1: the suite has failures on purpose).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    (workdir / "test_synthetic_farm.py").write_text(SUITE.format(variant=variant))
    (workdir / "pytest.ini").write_text("[pytest]\n")
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", SYNTH_RECORDS=str(records),
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "allure_pytest.plugin", "-p", "no:cacheprovider",
         f"--rootdir={workdir}", f"--alluredir={results}", "--clean-alluredir", "test_synthetic_farm.py"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout_s, check=False,
    )
