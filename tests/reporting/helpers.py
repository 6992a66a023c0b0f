"""Hand-made records for unit tests."""

from __future__ import annotations

from harness.reporting.records import Record

DEVICES = {
    "s1": {"model": "MI 5", "region": "CN", "profile": "xiaomi-mi5", "android": "7.0", "sdk": 24,
           "fingerprint": "Xiaomi/gemini/gemini:7.0/NRD90M/V8.2.1.0.NAACNEB:user/release-keys"},
    "s2": {"model": "MI 4S", "region": "CN", "profile": "xiaomi-mi4s", "android": "7.0", "sdk": 24,
           "fingerprint": "Xiaomi/aqua/aqua:7.0/NRD90M/V8.5.1.0.NAJCNED:user/release-keys"},
}
APPS = {"Word": "com.microsoft.office.word", "Excel": "com.microsoft.office.excel",
        "PowerPoint": "com.microsoft.office.powerpoint", None: None}


def rec(serial: str = "s1", app: str | None = "Word", check: str = "presence", outcome: str = "passed",
        severity: str = "critical", reason: str = "ok", category: str | None = None, nodeid: str | None = None,
        **kw: object) -> Record:
    """A record for ``serial`` × ``app`` × ``check``; nodeid derived unless given."""
    return Record(nodeid=nodeid or f"suites/test_x.py::test_{check}[{serial}-{app or 'device'}]", check=check,
                  serial=serial, host="127.0.0.1:5037", package=APPS[app], app=app, severity=severity,
                  outcome=outcome, category=category, reason=reason, duration_s=0.1,
                  **{**DEVICES.get(serial, {}), **kw})
