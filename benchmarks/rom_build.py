"""Seconds and peak memory to check a ~3 GB ROM build (unpacked tree, and the same as a target_files zip).

``python benchmarks/rom_build.py [--size-gb 3] [--apps 300] [--zip] [--keep DIR]``

The build is ``examples/builds/xiaomi-redmi8a-cn`` padded to the size: ``--apps`` more APKs (copies of its
system APKs under ``system/app/AppN/`` and ``product/priv-app/PrivN/``; the build still passes), two 400 MB APKs
(a stored 400 MB asset after the manifest, in ``product/app``, signed again with apksigner so that their v2/v3
content digests — which the build reader verifies over every byte — hold), and zero-filled ``.so`` padding files in
``system/lib64``, ``vendor/lib64`` and ``product/media`` up to ``--size-gb``. It prints, each in a fresh process:

* ``load``: :func:`harness.sources.load_targets` (properties + every APK's manifest and signers);
* ``romcheck``: ``python -m tools.romcheck BUILD --no-html`` end to end (pytest on the suites, records, matrix,
  gate) — the process tree's peak RSS is the largest single process (``RUSAGE_CHILDREN`` ``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "builds" / "xiaomi-redmi8a-cn"
CHUNK = 8 * 1024 * 1024


def _zeros(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = b"\0" * CHUNK
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            fh.write(block[: min(CHUNK, left)])
            left -= CHUNK


def _big_apk(src: Path, dst: Path, size: int) -> None:
    """``src`` with a stored ``size``-byte asset added, signed again (apksigner, the fixture partner key) so that
    it stays an APK Android installs: adding a member moves the central directory away from the APK Signing
    Block, and a v1-only fallback whose .SF names v2/v3 is refused as "signature stripped"."""
    if sys.path[0] != str(ROOT):  # this checkout's tools/ and virtual_device/ (not benchmarks/virtual_device.py)
        sys.path.insert(0, str(ROOT))
    from tools.sample_builds import _run, make_key

    dst.parent.mkdir(parents=True, exist_ok=True)
    padded = dst.with_suffix(".padded")
    shutil.copyfile(src, padded)
    block = b"\0" * CHUNK
    with zipfile.ZipFile(padded, "a") as z, z.open(zipfile.ZipInfo("assets/padding.bin"), "w") as fh:
        left = size
        while left > 0:
            fh.write(block[: min(CHUNK, left)])
            left -= CHUNK
    with tempfile.TemporaryDirectory() as tmp:
        key, cert, _digest = make_key(Path(tmp))
        _run(["apksigner", "sign", "--key", str(key), "--cert", str(cert), "--out", str(dst), str(padded)])
    padded.unlink()
    dst.with_name(dst.name + ".idsig").unlink(missing_ok=True)


def make_tree(out: Path, size_gb: float, apps: int) -> int:
    """Write the padded build; returns its size in bytes."""
    shutil.copytree(SAMPLE, out)
    apks = sorted(a for a in SAMPLE.rglob("*.apk") if "data-app" not in a.parts)  # copies keep Skype removable
    for i in range(apps):
        src = apks[i % len(apks)]
        where = f"system/app/App{i}/App{i}.apk" if i % 3 else f"product/priv-app/Priv{i}/Priv{i}.apk"
        (out / where).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / where)
    for i in range(2):
        _big_apk(apks[i], out / f"product/app/Big{i}/Big{i}.apk", 400 * 1024 * 1024)
    target = int(size_gb * 1024**3)
    used = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    part = 256 * 1024 * 1024
    i = 0
    while used < target:
        folder = ("system/lib64", "vendor/lib64", "product/media")[i % 3]
        size = min(part, target - used)
        _zeros(out / folder / f"pad{i}.so", size)
        used += size
        i += 1
    return used


def measure(argv: list[str]) -> tuple[float, float, int]:
    """``(seconds, peak RSS MiB of the largest child, exit code)`` of one command in a fresh process tree."""
    code = ("import resource,subprocess,sys,time;t=time.perf_counter();"
            "rc=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL).returncode;"
            "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)")
    out = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, check=True)
    secs, rss_kb, rc = out.stdout.split()
    return float(secs), int(rss_kb) / 1024, int(rc)


def main() -> int:
    """Build, measure, print."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size-gb", type=float, default=3.0, help="total size of the build tree in GiB (default 3)")
    p.add_argument("--apps", type=int, default=300,
                   help="extra APKs (copies of the sample's system APKs) in the build (default 300)")
    p.add_argument("--zip", action="store_true", help="also measure the same build as a target_files zip")
    p.add_argument("--keep", type=Path, help="build here and keep it (default: a temporary directory)")
    args = p.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="rombench-"))
    tree = base / "tree"
    try:
        t = time.perf_counter()
        if not tree.exists():
            size = make_tree(tree, args.size_gb, args.apps)
        else:
            size = sum(f.stat().st_size for f in tree.rglob("*") if f.is_file())
        print(f"build tree: {size / 1024**3:.2f} GiB, {sum(1 for _ in tree.rglob('*.apk'))} APKs "
              f"(made in {time.perf_counter() - t:.1f} s)")
        inputs = [("tree", tree)]
        if args.zip:
            zpath = base / "target_files.zip"
            if not zpath.exists():
                t = time.perf_counter()
                with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
                    for f in sorted(tree.rglob("*")):
                        if f.is_file():
                            rel = f.relative_to(tree)
                            z.write(f, "/".join([rel.parts[0].upper(), *rel.parts[1:]]))
                print(f"target_files zip: {zpath.stat().st_size / 1024**3:.2f} GiB compressed "
                      f"(made in {time.perf_counter() - t:.1f} s)")
            inputs.append(("zip", zpath))
        loader = "from harness.sources import load_targets;import sys;print(len(load_targets('build', sys.argv[1])))"
        for name, path in inputs:
            secs, rss, rc = measure([sys.executable, "-c", loader, str(path)])
            print(f"load     {name:4}: {secs:6.1f} s, peak RSS {rss:6.0f} MiB (exit {rc})")
            secs, rss, rc = measure([sys.executable, "-m", "tools.romcheck", str(path), "--out",
                                     str(base / f"out-{name}"), "--no-html"])
            print(f"romcheck {name:4}: {secs:6.1f} s, peak RSS {rss:6.0f} MiB (exit {rc})")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this benchmark process: {own:.0f} MiB")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
