"""Make small but real ROM builds and bugreports to check: the test fixtures and the README's examples.

``python -m tools.sample_builds OUT [--only NAME ...]`` writes into ``OUT``:

* ``apks/``: real APKs — a binary ``AndroidManifest.xml`` compiled by Debian's ``aapt`` against
  ``framework-res.apk``, ``zipalign``-ed and signed by Debian's ``apksigner`` (v1+v2+v3) with the fixture partner key of
  :mod:`virtual_device.apk_fixtures` (the key the seed contract agrees; certificate SHA-256 in ``apks/signer.sha256``);
* one build per :data:`BUILDS` entry, as unpacked partitions (``<name>/system/…``) and, for ``good``, also as a
  ``target_files`` zip (``good-target_files.zip``); ``region-builds/`` holds a CN and an IN build (two rows);
* ``broken-zip.zip`` (not a zip), ``no-build-prop/`` (no ``system/build.prop``), ``bad-manifest/`` (an APK whose
  manifest is garbage).

The builds are a Xiaomi Redmi 8A (``olivelite``, Android 10, MIUI 12.5 China, the identity of the corpus getprop
dump ``getprop_android10_miui12.5-cn_redmi8a.txt``) carrying the five apps of ``device_profiles/apps/microsoft-
office.yaml``: ``good`` passes ``device_profiles/xiaomi-redmi8a.yaml``; every other build breaks one check.

``python -m tools.sample_builds --bugreport IMAGE OUT.txt`` renders a bugreport (dumpstate text: header, ``SYSTEM
PROPERTIES (getprop)``, ``DUMP OF SERVICE package:``) of a virtual-device image (``virtual_device/images``), in
the Android 8+ layout of the corpus Android 8.1 bugreport.

Needs ``aapt``, ``zipalign``, ``apksigner`` and ``android-framework-res`` (``bash tools/setup_apk_tools.sh``)
and the ``cryptography`` package (the signing key). Exit 0, or 1 naming what is missing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

FRAMEWORK_RES = Path("/usr/share/android-framework-res/framework-res.apk")


@dataclass(frozen=True)
class App:
    """One APK to make: package, label, versions, whether the manifest disables it, which fixture key signs it
    (a name of :data:`virtual_device.apk_fixtures.KEYS`)."""

    key: str
    package: str
    label: str
    version_name: str
    version_code: int
    enabled: bool = True
    signer: str = "partner"


APPS: dict[str, App] = {a.key: a for a in (
    App("word", "com.microsoft.office.word", "Word", "16.0.7070.2036", 2002707036),
    App("excel", "com.microsoft.office.excel", "Excel", "16.0.7070.2036", 2002707037),
    App("powerpoint", "com.microsoft.office.powerpoint", "PowerPoint", "16.0.7070.2036", 2002707038),
    App("outlook", "com.microsoft.office.outlook", "Outlook", "2.1.108", 173),
    App("skype", "com.skype.raider", "Skype", "7.06.0.582", 67000582),
    App("excel-old", "com.microsoft.office.excel", "Excel", "16.0.6925.1000", 2002692510),
    App("word-disabled", "com.microsoft.office.word", "Word", "16.0.7070.2036", 2002707036, enabled=False),
    App("skype-new", "com.skype.raider", "Skype", "7.07.0.611", 67000611),
    App("excel-other-signer", "com.microsoft.office.excel", "Excel", "16.0.7070.2036", 2002707037, signer="other"),
)}

SYSTEM_PROP = """# begin build properties (sample build made by tools/sample_builds.py)
ro.build.id=QKQ1.191014.001
ro.build.display.id=QKQ1.191014.001 test-keys
ro.build.version.incremental={incremental}
ro.build.version.sdk=29
ro.build.version.release=10
ro.build.type=user
ro.build.tags=release-keys
ro.product.system.brand=Xiaomi
ro.product.system.device=olivelite
ro.product.system.manufacturer=Xiaomi
ro.product.system.model=Redmi 8A
ro.product.system.name=olivelite
ro.miui.ui.version.code=11
ro.miui.ui.version.name=V125
ro.product.locale=zh-CN
ro.build.fingerprint=Xiaomi/olivelite/olivelite:10/QKQ1.191014.001/{incremental}:user/release-keys
"""
VENDOR_PROP = """ro.product.vendor.brand=Xiaomi
ro.product.vendor.device=olivelite
ro.product.vendor.manufacturer=Xiaomi
ro.product.vendor.model=Redmi 8A
ro.product.vendor.name=olivelite
ro.vendor.build.fingerprint=Xiaomi/olivelite/olivelite:10/QKQ1.191014.001/{incremental}:user/release-keys
"""
PRODUCT_PROP = """ro.product.product.brand=Xiaomi
ro.product.product.model=Redmi 8A
ro.product.product.device=olivelite
ro.product.product.name=olivelite
ro.product.product.manufacturer=Xiaomi
ro.miui.build.region={region}
ro.product.mod_device={mod_device}
"""

GOOD_LAYOUT = {"word": "system/app/Word/Word.apk", "excel": "system/app/Excel/Excel.apk",
               "powerpoint": "system/app/PowerPoint/PowerPoint.apk", "outlook": "system/app/Outlook/Outlook.apk",
               "skype": "system/data-app/Skype/Skype.apk"}


@dataclass(frozen=True)
class Build:
    """One sample build: which APK goes where (``{app key: path under the build}``), region, what it breaks."""

    name: str
    layout: dict[str, str] = field(default_factory=lambda: dict(GOOD_LAYOUT))
    region: str = "cn"
    incremental: str = "V12.5.3.0.QCPCNXM"
    breaks: str = "nothing: passes device_profiles/xiaomi-redmi8a.yaml"


def _without(key: str) -> dict[str, str]:
    return {k: v for k, v in GOOD_LAYOUT.items() if k != key}


BUILDS: tuple[Build, ...] = (
    Build("good"),
    Build("missing-app", _without("word"), breaks="presence: Word is not in the build"),
    Build("wrong-version", {**_without("excel"), "excel-old": GOOD_LAYOUT["excel"]},
          breaks="version: Excel 16.0.6925.1000"),
    Build("wrong-kind", {**_without("skype"), "skype": "system/app/Skype/Skype.apk"},
          breaks="install_kind: Skype is a system app, not a removable preload"),
    Build("wrong-partition", {**_without("word"), "word": "vendor/app/Word/Word.apk"},
          breaks="install_kind: Word on /vendor (tests/fixtures/offline_profiles wants system)"),
    Build("disabled", {**_without("word"), "word-disabled": GOOD_LAYOUT["word"]},
          breaks='enabled: Word\'s manifest says <application android:enabled="false">'),
    Build("wrong-signer", {**_without("excel"), "excel-other-signer": GOOD_LAYOUT["excel"]},
          breaks="signer: Excel is signed by a key that is not the partner's"),
    Build("region-ru", region="ru", incremental="V12.5.3.0.QCPRUXM", breaks="region: RU is not an agreed market"),
    Build("next-release", {**_without("skype"), "skype-new": GOOD_LAYOUT["skype"]}, incremental="V12.5.4.0.QCPCNXM",
          breaks="nothing: Skype 7.07.0.611 (an allowed version) — the 'after' side of the diff example"),
)


class ToolMissing(RuntimeError):
    """aapt, zipalign, apksigner or framework-res.apk is not installed."""


def _run(argv: list[str]) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise ToolMissing(f"{argv[0]} not found: run `bash tools/setup_apk_tools.sh` (as root)") from None
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"{' '.join(argv)} failed: {exc.stderr.strip()}") from None


def make_key(out: Path, name: str = "partner") -> tuple[Path, Path, str]:
    """The fixture signing key ``name`` (:data:`virtual_device.apk_fixtures.KEYS`; default the partner key A that
    ``device_profiles/apps/microsoft-office.yaml`` lists under ``signers``) written for apksigner:
    ``(key.pk8, cert.pem, cert SHA-256 hex)``."""
    from virtual_device.apk_fixtures import cert_digest, write_key

    pk8, pem = write_key(name, out)
    return pk8, pem, cert_digest(name)


def make_apk(app: App, out: Path, key: Path, cert: Path) -> Path:
    """Compile, align and sign one APK (``<out>/<key>.apk``)."""
    if not FRAMEWORK_RES.is_file():
        raise ToolMissing(f"{FRAMEWORK_RES} not found: run `bash tools/setup_apk_tools.sh` (as root)")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        enabled = "" if app.enabled else ' android:enabled="false"'
        (t / "AndroidManifest.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<manifest xmlns:android="http://schemas.android.com/apk/res/android"\n'
            f'    package="{app.package}" android:versionCode="{app.version_code}"'
            f' android:versionName="{app.version_name}">\n'
            '    <uses-sdk android:minSdkVersion="19" android:targetSdkVersion="28"/>\n'
            f'    <application android:label="{app.label}" android:hasCode="false"{enabled}/>\n'
            '</manifest>\n')
        _run(["aapt", "package", "-f", "-M", str(t / "AndroidManifest.xml"), "-I", str(FRAMEWORK_RES),
              "-F", str(t / "unsigned.apk")])
        _run(["zipalign", "-f", "4", str(t / "unsigned.apk"), str(t / "aligned.apk")])
        apk = out / f"{app.key}.apk"
        _run(["apksigner", "sign", "--key", str(key), "--cert", str(cert), "--out", str(apk), str(t / "aligned.apk")])
        apk.with_name(apk.name + ".idsig").unlink(missing_ok=True)
    return apk


def write_build(build: Build, apks: dict[str, Path], out: Path) -> Path:
    """Write ``build`` as unpacked partitions under ``out/<name>``."""
    root = out / build.name
    shutil.rmtree(root, ignore_errors=True)
    fmt = {"incremental": build.incremental, "region": build.region,
           "mod_device": "olivelite" if build.region == "cn" else f"olivelite_{build.region}_global"}
    for rel, text in (("system/build.prop", SYSTEM_PROP), ("vendor/build.prop", VENDOR_PROP),
                      ("product/build.prop", PRODUCT_PROP)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text.format(**fmt))
    for key, rel in build.layout.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(apks[key], root / rel)
    return root


def to_target_files(tree: Path, zip_path: Path) -> Path:
    """Pack unpacked partitions as a ``target_files`` zip (``system/x`` → ``SYSTEM/x``, deflated)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(p for p in tree.rglob("*") if p.is_file()):
            rel = f.relative_to(tree)
            z.write(f, "/".join([rel.parts[0].upper(), *rel.parts[1:]]))
    return zip_path


def make_all(out: Path, only: Sequence[str] = ()) -> dict[str, Path]:
    """Make the APKs and every sample build under ``out``; returns ``{name: path}`` (also the broken ones)."""
    out.mkdir(parents=True, exist_ok=True)
    apk_dir = out / "apks"
    apk_dir.mkdir(exist_ok=True)
    keys = {name: make_key(apk_dir, name) for name in sorted({a.signer for a in APPS.values()})}
    digest = keys["partner"][2]  # what the good builds are signed with
    apks = {k: make_apk(a, apk_dir, *keys[a.signer][:2]) for k, a in APPS.items()}
    made: dict[str, Path] = {}
    for build in BUILDS:
        if not only or build.name in only:
            made[build.name] = write_build(build, apks, out)
    if not only:
        made["good-target_files.zip"] = to_target_files(made["good"], out / "good-target_files.zip")
        regions = out / "region-builds"
        shutil.rmtree(regions, ignore_errors=True)
        regions.mkdir()
        write_build(replace(BUILDS[0], name="cn"), apks, regions)
        write_build(replace(BUILDS[0], name="in", region="in", incremental="V12.5.3.0.QCPINXM"), apks, regions)
        made["region-builds"] = regions
        (out / "broken-zip.zip").write_bytes(b"PK\x03\x04 this is not a zip")
        made["broken-zip.zip"] = out / "broken-zip.zip"
        nobp = write_build(replace(BUILDS[0], name="no-build-prop"), apks, out)
        (nobp / "system" / "build.prop").unlink()
        made["no-build-prop"] = nobp
        bad = write_build(replace(BUILDS[0], name="bad-manifest"), apks, out)
        with zipfile.ZipFile(bad / GOOD_LAYOUT["outlook"], "w") as z:
            z.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00garbage, not binary XML" * 4)
        made["bad-manifest"] = bad
    (out / "signer.sha256").write_text(digest + "\n")
    return made


def render_bugreport(image: str, out: Path) -> Path:
    """A bugreport text of a virtual-device image (Android 8+ dumpstate layout; see the module docstring)."""
    from virtual_device.image import load_named_image
    from virtual_device.render.package import package_block
    from virtual_device.state import DeviceState

    state = DeviceState.from_image(load_named_image(image))
    props = state.props
    lines = ["=" * 56, "== dumpstate: 2026-12-01 03:00:00", "=" * 56, "",
             f"Build: {props.get('ro.build.display.id', '')}",
             f"Build fingerprint: '{props.get('ro.build.fingerprint', '')}'", "Bootloader: unknown",
             "Bugreport format version: 2.0", "",
             "------ SYSTEM PROPERTIES (getprop) ------"]
    lines += [f"[{k}]: [{v}]" for k, v in sorted(props.items())]
    lines += ["------ 0.045s was the duration of 'SYSTEM PROPERTIES' ------", "-" * 79, "DUMP OF SERVICE package:",
              "Packages:"]
    for pkg in state.packages.values():
        lines += package_block(state, pkg)
    lines += ["--------- 0.373s was the duration of dumpsys package, ending at: 2026-12-01 03:00:01", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (module docstring)."""
    p = argparse.ArgumentParser(prog="python -m tools.sample_builds", description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, help="output directory (builds), or output .txt with --bugreport")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help=f"make only these builds ({', '.join(b.name for b in BUILDS)}); repeatable")
    p.add_argument("--bugreport", metavar="IMAGE", help="render a bugreport of this virtual-device image instead")
    args = p.parse_args(argv)
    try:
        if args.bugreport:
            print(render_bugreport(args.bugreport, args.out))
            return 0
        for name, path in make_all(args.out, args.only).items():
            print(f"{name}: {path}")
    except ToolMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
