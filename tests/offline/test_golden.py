"""tools.golden capture: from a ROM build, a bugreport and a live (virtual) device; the result validates, the same
source passes against it, and an existing profile is never overwritten without --force."""

from __future__ import annotations

import yaml

from harness.profiles import load_profiles
from tests.e2e.conftest import run_suites
from tests.offline.conftest import ROOT
from tools import bugreportcheck, golden, romcheck
from virtual_device.apk_fixtures import cert_digest
from virtual_device.testing import AdbServer, Farm

EXAMPLES = ROOT / "examples"
IMAGES = ROOT / "virtual_device" / "images"


def test_capture_from_a_build_then_the_build_passes_it(builds, tmp_path):
    out = tmp_path / "profiles"
    assert golden.main(["capture", "--build", str(builds["good"]), "--out", str(out)]) == 0
    path = out / "xiaomi-redmi-8a.yaml"
    (profile,) = load_profiles([path]).profiles
    assert profile.regions == ["CN"] and profile.match.model == ["Redmi 8A"]
    word = profile.app("com.microsoft.office.word")
    assert word.version.exact == "16.0.7070.2036" and word.install_kind == "system" and word.partitions == ["system"]
    assert profile.app("com.skype.raider").install_kind == "removable_preload"
    assert word.signers == [builds["signer"].read_text().strip()]  # read from the APK by the signer check's reader
    assert "product/build.prop:" in path.read_text()
    assert romcheck.main([str(builds["good"]), "--profiles", str(path), "--out", str(tmp_path / "r"),
                          "--no-html"]) == 0
    # the next run of a different build fails against the golden contract (Excel's version differs)
    assert romcheck.main([str(builds["wrong-version"]), "--profiles", str(path), "--out", str(tmp_path / "r2"),
                          "--no-html"]) == 1


def test_never_makes_a_profile_folder_invalid(builds, tmp_path, capsys):
    folder = tmp_path / "profiles"  # a copy of device_profiles/: xiaomi-redmi8a.yaml already matches the Redmi 8A
    import shutil

    shutil.copytree(ROOT / "device_profiles", folder)
    before = sorted(p.name for p in folder.rglob("*"))
    assert golden.main(["capture", "--build", str(builds["good"]), "--out", str(folder)]) == 4
    err = capsys.readouterr().err
    assert "xiaomi-redmi8a.yaml already matches this model (Redmi 8A)" in err and "--out /tmp/golden" in err
    assert sorted(p.name for p in folder.rglob("*")) == before
    load_profiles([folder])  # still valid
    # elsewhere it is written, and the tool names the default profile that also matches
    assert golden.main(["capture", "--build", str(builds["good"]), "--out", str(tmp_path / "g")]) == 0
    assert "device_profiles/xiaomi-redmi8a.yaml also matches this model" in capsys.readouterr().out


def test_never_overwrites_without_force(builds, tmp_path, capsys):
    out = tmp_path / "p"
    out.mkdir()
    (out / "xiaomi-redmi-8a.yaml").write_text("# mine\n")
    assert golden.main(["capture", "--build", str(builds["good"]), "--out", str(out)]) == 4
    assert (out / "xiaomi-redmi-8a.yaml").read_text() == "# mine\n" and "not overwritten" in capsys.readouterr().err
    assert golden.main(["capture", "--build", str(builds["good"]), "--out", str(out), "--force"]) == 0
    assert "profile: xiaomi-redmi-8a" in (out / "xiaomi-redmi-8a.yaml").read_text()


def test_capture_from_a_bugreport_lists_absent_apps_and_passes(tmp_path):
    report = EXAMPLES / "bugreports" / "bugreport-redmi8a-cn.txt"  # Outlook uninstalled for user 0
    assert golden.main(["capture", "--bugreport", str(report), "--out", str(tmp_path)]) == 0
    text = (tmp_path / "xiaomi-redmi-8a.yaml").read_text()
    data = yaml.safe_load(text)
    assert "com.microsoft.office.outlook" not in [a["package"] for a in data["apps"]]
    assert not any("signers" in a for a in data["apps"])  # a bugreport holds no APK: no signer is claimed
    assert "not installed on the golden source" in text and "Outlook" in text.split("not installed")[1]
    assert bugreportcheck.main([str(report), "--profiles", str(tmp_path), "--out", str(tmp_path / "r"),
                                "--no-html"]) == 0


def test_unreadable_source_exits_10(tmp_path, capsys):
    bad = ROOT / "tests" / "fixtures" / "corpus" / "bugreports" / "bugreport_10_mvt-fixture-samsung.txt"
    assert golden.main(["capture", "--bugreport", str(bad), "--out", str(tmp_path)]) == 10
    assert "no SYSTEM PROPERTIES section" in capsys.readouterr().err and not list(tmp_path.iterdir())


def test_capture_from_a_live_device_reads_the_same_as_a_run(tmp_path):
    with AdbServer() as server, Farm([str(IMAGES / "mimax-in-updated.yaml")],
                                     server) as farm:
        serial = farm.serials[0]
        rc = golden.main(["capture", "--serial", serial, "--adb-server", f"127.0.0.1:{server.port}",
                          "--out", str(tmp_path)])
        assert rc == 0
        own = yaml.safe_load((IMAGES / "mimax-in-updated.yaml").read_text())["props"]["ro.serialno"]
        assert golden.main(["capture", "--serial", own, "--adb-server", f"127.0.0.1:{server.port}",
                            "--out", str(tmp_path / "by-own-serial")]) == 0  # the serial reports show works too
        # the same device passes its golden contract: every suite, so the gate can say ship
        run = run_suites(tmp_path / "run", f"127.0.0.1:{server.port}", "--profiles", str(tmp_path))
    assert run.returncode == 0, run.output[-3000:]
    assert {r["check"] for r in run.records if r["outcome"] == "passed"} >= {
        "presence", "version", "install_kind", "enabled", "region", "signer", "launch"}
    (path,) = tmp_path.glob("*.yaml")
    (profile,) = load_profiles([path]).profiles
    assert profile.match.model == ["MI MAX"] and profile.regions == ["IN"]
    word = profile.app("com.microsoft.office.word")  # an updated system app on this image
    assert word.install_kind == "system" and word.allow_updated and word.partitions == ["system"]
    assert "factory copy at" in path.read_text()
    partner_a = cert_digest("partner")
    assert profile.app("com.microsoft.office.excel").signers == [partner_a]
    # Skype's APK is v3-rotated to key B, but this is Android 6 (API 23): v3 is read from API 28, so v2's key A
    assert profile.app("com.skype.raider").signers == [partner_a]
