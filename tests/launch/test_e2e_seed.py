"""End to end: suites/test_launch.py on the eight seed images (the main job's farm).

Exactly the three agreed launch faults fail, each under its own category with its own message, evidence and
screenshot; every other required, installed and enabled app launches; nothing is broken.
"""

from __future__ import annotations

import time

from tests.launch.test_e2e_launch import allure_results, run_launch_suite

SEED = ["mi5-cn", "mimax-in", "mi4s-cn", "redmi-note3-in", "redmi3-id", "redmi-note3-ru", "redmi8a-cn-real",
        "mimax-in-updated"]
EXPECTED = {  # image -> {app: (category, words of the reason)}
    "mimax-in": {"Excel": ("Slow launch", "over the 4000 ms limit")},
    "mi4s-cn": {"PowerPoint": ("Launch crash", "crashed on launch: java.lang.RuntimeException")},
    "redmi3-id": {"Outlook": ("ANR", "not responding after launch (ANR)")},
}


def test_seed_farm_fails_exactly_the_three_launch_faults(tmp_path, virtual_farm):
    farm = virtual_farm(*SEED)
    image_of = {d.serial: d.name for d in farm.devices}
    start = time.monotonic()
    rc, output, records, results = run_launch_suite(tmp_path, f"127.0.0.1:{farm.adb_server.port}")
    elapsed = time.monotonic() - start
    assert records, output[-3000:]
    assert not [r for r in records if r["outcome"] == "broken"], output[-3000:]
    failed = {(image_of[r["serial"]], r["app"]): r for r in records if r["outcome"] == "failed"}
    assert set(failed) == {(img, app) for img, apps in EXPECTED.items() for app in apps}, \
        [r["reason"] for r in failed.values()]
    for (img, app), r in failed.items():
        category, words = EXPECTED[img][app]
        assert r["category"] == category and words in r["reason"], r
    passed = [r for r in records if r["outcome"] == "passed"]
    assert len(passed) >= 25  # every required, installed, enabled app on the compliant images
    allure = allure_results(results)
    for r in failed.values():
        attachments = {a["name"] for a in allure[f"{r['serial']}|{r['package']}"]["attachments"]}
        assert {"screen after launch", "evidence", "logcat since launch", "window hierarchy"} <= attachments
    assert rc == 1
    print(f"\nlaunch suite on the 8-image seed farm: {elapsed:.1f} s, {len(records)} tests")
