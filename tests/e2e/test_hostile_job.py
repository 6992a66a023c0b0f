"""Hostile devices through the main job: huge, binary, HTML, ANSI, NUL and newline values end to end.

A phone decides what it prints. Whatever it prints, the job must end with the right exit code and records, never a
traceback, and no device string may reach a terminal, the matrix or JUnit raw (an escape sequence retitles or
clears a terminal; ``<script>`` is live HTML in Markdown viewers).
"""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from tests.e2e.conftest import IMAGES, ROOT

WORD, EXCEL, POWERPOINT, OUTLOOK = ("com.microsoft.office.word", "com.microsoft.office.excel",
                                    "com.microsoft.office.powerpoint", "com.microsoft.office.outlook")
ESC_TITLE = "\x1b]0;pwned\x07\x1b[2J"
C1_CSI = "\x9b31m"
HOSTILE = {
    # image name: (ro.serialno, {package: versionName}, extra props)
    "hostile-ansi": ("ansi0001", {WORD: ESC_TITLE}, {"ro.build.fingerprint": f"Xiaomi/gemini/gemini:7.0/{C1_CSI}"}),
    "hostile-html": ("html0002", {EXCEL: "<script>alert(1)</script>"}, {"ro.product.marketname": "<b>MI</b>"}),
    "hostile-newline": ("newl0003", {WORD: "RED\nNEWLINE"}, {}),
    "hostile-huge": ("huge0004", {POWERPOINT: "9." * 20000}, {}),
    "hostile-nul": ("nul00005", {OUTLOOK: "2.1.\x00108"}, {}),
}


def _image(tmp_path, name, serial, versions, extra):
    data = yaml.safe_load((IMAGES / "mi5-cn.yaml").read_text())
    data["name"] = name
    data["props"].update({"ro.serialno": serial, "ro.boot.serialno": serial, **extra})
    for pkg in data["packages"]:
        if pkg["package"] in versions:
            pkg["version_name"] = versions[pkg["package"]]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=False))
    return path


def test_hostile_values_give_verdicts_not_escapes(tmp_path):
    images = [str(_image(tmp_path, name, *spec)) for name, spec in HOSTILE.items()]
    reports = tmp_path / "reports"
    done = subprocess.run([sys.executable, "-m", "tools.job", "--reports", str(reports), "--farm", "always",
                           "--no-html", "--images", *images, "--", "--device-wait", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]  # the hostile versions are not the agreed ones: product defects
    assert "Traceback" not in out and "INTERNALERROR" not in out
    for raw in ("\x1b", "\x07", "\x9b", "\x00"):  # (HTML in a terminal is only text)
        assert raw not in out, repr(raw)
    records = [json.loads(line) for line in (reports / "records.jsonl").read_text().splitlines()]
    recs = [r for r in records if r.get("type") != "run"]
    version = {(r["device_serial"], r["package"]): r for r in recs if r["check"] == "version"}
    assert version[("ansi0001", WORD)]["outcome"] == "failed"
    assert version[("html0002", EXCEL)]["outcome"] == "failed"
    newline = version[("newl0003", WORD)]
    assert newline["outcome"] == "failed" and "RED\nNEWLINE" in newline["found"]  # read whole, not cut at the line
    kind = {(r["device_serial"], r["package"]): r for r in recs if r["check"] == "install_kind"}
    assert kind[("newl0003", WORD)]["outcome"] == "passed"  # still a system app: no verdict from a cut block
    assert version[("huge0004", POWERPOINT)]["outcome"] == "failed"
    nul = version[("nul00005", OUTLOOK)]  # binary output: a parse problem (broken), never a verdict
    assert nul["outcome"] == "broken" and "NUL bytes" in nul["reason"]
    assert not [r for r in recs if r["outcome"] == "broken" and r["device_serial"] != "nul00005"], \
        [r["reason"] for r in recs if r["outcome"] == "broken"]
    for name in ("compliance.md", "compliance.html", "junit.xml"):
        text = (reports / name).read_text(encoding="utf-8")
        for raw in ("\x1b", "\x07", "\x9b", "\x00"):
            assert raw not in text, (name, repr(raw))
    md = (reports / "compliance.md").read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "\\x1b" in md  # shown, escaped
    html = (reports / "compliance.html").read_text()
    assert "<script>" not in html and "<b>MI</b>" not in html
