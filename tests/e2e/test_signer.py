"""End to end: the signer suite through the real adb server and virtual devices serving real signed APKs.

A compliant image passes; the same image with an APK signed by another vendor's key fails ``[wrong signer]``;
with an APK signed by AOSP's public testkey it fails ``[test-key signed]`` even when the contract lists that key;
an APK without a signature is broken, not failed; an app without agreed signers is a not-applicable skip.
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.e2e.conftest import IMAGES, run_suites, variant_image
from virtual_device.apk_fixtures import cert_digest
from virtual_device.testing import AdbServer, Farm

SUITE = ("suites/test_signer.py",)
WORD, EXCEL, SKYPE = "com.microsoft.office.word", "com.microsoft.office.excel", "com.skype.raider"


def _packages(base: str, **apks: str) -> list[dict]:
    packages = yaml.safe_load((IMAGES / f"{base}.yaml").read_text())["packages"]
    for pkg in packages:
        if pkg["package"] in apks:
            pkg["apk"] = apks[pkg["package"]]
    return packages


@pytest.fixture(scope="module")
def signer_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("signer")
    images = {
        "good": variant_image(tmp, "mi5-cn", "sig-good", packages=_packages("mi5-cn")),
        "wrong": variant_image(tmp, "mi5-cn", "sig-wrong", packages=_packages("mi5-cn", **{WORD: "other-v1v2"})),
        "testkey": variant_image(tmp, "mi5-cn", "sig-testkey",
                                 packages=_packages("mi5-cn", **{EXCEL: "testkey-v1v2"})),
        "unsigned": variant_image(tmp, "mi5-cn", "sig-unsigned", packages=_packages("mi5-cn", **{SKYPE: "unsigned"})),
    }
    # distinct models so that each image matches its own copy of the Mi 5 profile
    for key, path in images.items():
        data = yaml.safe_load(path.read_text())
        data["props"]["ro.product.model"] = f"MI 5 {key}"
        data["props"]["ro.serialno"] = f"sig{key}"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    profiles = tmp / "profiles"
    (profiles / "apps").mkdir(parents=True)
    app_set = yaml.safe_load((IMAGES.parent.parent / "device_profiles/apps/microsoft-office.yaml").read_text())
    for app in app_set["apps"]:
        app.pop("version_by_region", None)  # these profiles agree CN only: a rule for IN would be a contradiction
        if app["package"] == EXCEL:  # listing the test key does not make it acceptable
            app["signers"] = [cert_digest("aosp-testkey"), cert_digest("partner")]
        if app["package"] == "com.microsoft.office.powerpoint":
            app.pop("signers")  # no signer agreed: not applicable
    (profiles / "apps" / "microsoft-office.yaml").write_text(yaml.safe_dump(app_set, sort_keys=False))
    for key in images:
        (profiles / f"mi5-{key}.yaml").write_text(yaml.safe_dump({
            "profile": f"mi5-{key}", "name": f"Mi 5 {key}", "match": {"model": [f"MI 5 {key}"]}, "regions": ["CN"],
            "include": ["apps/microsoft-office.yaml"]}))
    with AdbServer() as server, Farm(list(images.values()), server):
        run = run_suites(tmp, f"127.0.0.1:{server.port}", "--profiles", str(profiles), suites=SUITE)
    by_image = {}
    for r in run.records:
        by_image.setdefault(r["model"].removeprefix("MI 5 "), {})[r["app"]] = r
    return run, by_image


def test_compliant_image_passes(signer_run):
    run, by = signer_run
    assert {app: r["outcome"] for app, r in by["good"].items()} == {
        "Word": "passed", "Excel": "passed", "PowerPoint": "skipped", "Outlook": "passed", "Skype": "passed"}, \
        run.output[-3000:]
    assert by["good"]["Word"]["found"].startswith(cert_digest("partner") + " (O=preload-harness fixtures,CN=Partner")
    assert "valid 2016-01-01..2046-01-01" in by["good"]["Word"]["found"]
    assert by["good"]["PowerPoint"]["reason"] == "the agreement names no signing certificate for PowerPoint"


def test_wrong_key_fails_wrong_signer_with_expected_and_found_digests(signer_run):
    run, by = signer_run
    word = by["wrong"]["Word"]
    assert word["outcome"] == "failed" and word["category"] == "Wrong signer"
    assert word["reason"].startswith("[wrong signer] Word is signed with a certificate the agreement does not name")
    assert cert_digest("partner") in word["expected"] and cert_digest("other") in word["found"]
    assert "CN=Other vendor signer" in word["found"]
    assert {a: r["outcome"] for a, r in by["wrong"].items() if a != "Word"} == {
        "Excel": "passed", "PowerPoint": "skipped", "Outlook": "passed", "Skype": "passed"}


def test_test_key_fails_whatever_the_contract_says(signer_run):
    run, by = signer_run
    excel = by["testkey"]["Excel"]
    assert excel["outcome"] == "failed" and excel["category"] == "Test-key signed", run.output[-3000:]
    assert cert_digest("aosp-testkey") in excel["expected"]  # the contract listed it, and it still fails
    assert "[test-key signed] Excel" in excel["reason"] and cert_digest("aosp-testkey") in excel["found"]


def test_unreadable_signature_is_broken_for_that_app_only(signer_run):
    run, by = signer_run
    skype = by["unsigned"]["Skype"]
    assert skype["outcome"] == "broken" and skype["category"] == "Harness error"
    assert "carries no signature" in skype["reason"] and "dd if=/system/data-app/Skype/Skype.apk" in skype["reason"]
    assert by["unsigned"]["Word"]["outcome"] == "passed"


def test_signatures_cost_a_constant_number_of_round_trips(signer_run):
    run, _by = signer_run
    line = next(ln for ln in run.output.splitlines() if ln.startswith("adb round trips per device"))
    trips = {int(v) for v in re.findall(r"=(\d+)", line)}
    # getprop + inventory + pm path + sizes + one dd round (small APKs fit in the 64 KiB tail), for five apps
    assert trips == {5}, line


def test_allure_categories_include_the_signer_failures(signer_run):
    import json

    run, _by = signer_run
    names = {c["name"] for c in json.loads((run.results_dir / "categories.json").read_text())}
    assert {"Wrong signer", "Test-key signed"} <= names
