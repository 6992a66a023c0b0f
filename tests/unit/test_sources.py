"""The offline-source seam (harness.sources): a ROM build or bugreport target stands where a device stands."""

from __future__ import annotations

import sys
import types

import pytest

from harness.errors import DeviceUnavailable, SourceError
from harness.inventory import PackageState
from harness.plugin.session import discover_offline
from harness.profiles import load_profiles
from harness.sources import KINDS, OfflineDevice, Target, load_targets, source_labels

PROPS = {"ro.product.model": "MI 5", "ro.product.device": "gemini", "ro.product.name": "gemini",
         "ro.build.version.sdk": "24", "ro.build.version.release": "7.0", "ro.miui.region": "CN",
         "ro.build.fingerprint": "Xiaomi/gemini/gemini:7.0/NRD90M/V8.2.1.0.NAACNEB:user/release-keys"}
WORD = PackageState(package="com.microsoft.office.word", known=True, installed=True, listed=True,
                    version_name="16.0.7070.2036", version_code=2002707036, code_path="/system/app/Word",
                    partition="system", install_kind="system", system=True, enabled=True, enabled_state=0)


def _target(**kw):
    kw = {"serial": "build:mi5.zip", **kw}
    return Target(host="rom-build", props=PROPS, packages={"com.microsoft.office.word": WORD}, source="mi5.zip", **kw)


def test_an_offline_device_has_facts_and_an_inventory_but_no_shell():
    dev = OfflineDevice(_target())
    assert dev.facts().model == "MI 5" and dev.facts().region.region == "CN" and dev.live is False
    inv = dev.inventory(["com.microsoft.office.word", "com.skype.raider"])
    assert inv.packages["com.microsoft.office.word"] is WORD
    skype = inv.packages["com.skype.raider"]
    assert not skype.known and not skype.installed and "no APK of com.skype.raider" in skype.section
    with pytest.raises(DeviceUnavailable, match="not a live device"):
        dev.shell(["echo"])


def test_discover_offline_matches_profiles_and_reports_unreadable_sources(monkeypatch, tmp_path):
    module = types.ModuleType("fake_source")
    module.load = lambda path: [_target()] if path.name == "good" else (_ for _ in ()).throw(
        SourceError("corrupt zip", path=str(path), member="SYSTEM/build.prop"))
    monkeypatch.setitem(sys.modules, "fake_source", module)
    monkeypatch.setitem(KINDS, "fake", "fake_source")
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    ctx = discover_offline([("fake", str(tmp_path / "good")), ("fake", str(tmp_path / "bad"))],
                           profiles=load_profiles())
    good, bad = ctx.devices
    assert good.problem is None and good.profile.id == "xiaomi-mi5" and not good.live
    assert "com.microsoft.office.word" in good.all_packages()
    assert isinstance(bad.problem, SourceError) and "bad!SYSTEM/build.prop: corrupt zip" in str(bad.problem)
    with pytest.raises(SourceError, match="no such file"):
        load_targets("fake", tmp_path / "missing")


def test_inputs_that_share_a_name_get_unique_rows(monkeypatch, tmp_path):
    """examples/builds/x and /tmp/x/x used to be one row 'build:x' (test ids suffixed 0/1): parent folder names
    are added until the names differ."""
    assert source_labels(["/a/builds/x", "/tmp/x/x", "/a/other"]) == ["builds/x", "x/x", "other"]
    assert source_labels(["/a/b/x", "/c/b/x"]) == ["a/b/x", "c/b/x"]
    assert source_labels(["/a/x", "/a/x"]) == ["a/x", "a/x~2"]  # the same path twice
    module = types.ModuleType("fake_source2")
    module.load = lambda path: [_target(serial=f"build:{path.name}#CN")] if path.parent.name == "one" else (
        _ for _ in ()).throw(SourceError("corrupt zip", path=str(path)))
    monkeypatch.setitem(sys.modules, "fake_source2", module)
    monkeypatch.setitem(KINDS, "build", "fake_source2")
    for d in ("one", "two"):
        (tmp_path / d / "mi5").mkdir(parents=True)
    ctx = discover_offline([("build", str(tmp_path / "one" / "mi5")), ("build", str(tmp_path / "two" / "mi5"))],
                           profiles=load_profiles())
    assert [c.serial for c in ctx.devices] == ["build:one/mi5#CN", "build:two/mi5"]
