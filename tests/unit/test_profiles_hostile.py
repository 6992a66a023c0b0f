"""Issue 9, items 11, 12 and 13: hostile profile files give one clear error each (file, line where there is
one, key, remedy), never a traceback, a wrong message or a silent skip; a fingerprint pattern cannot hang a run;
overlapping profiles are reported once per group.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.errors import ProfileError, ProfileErrors
from harness.profiles import load_profiles
from harness.profiles.models import MatchSpec
from harness.yamlsource import MAX_EXPANDED_NODES, load_yaml

ROOT = Path(__file__).resolve().parents[2]
GOOD = ROOT / "tests" / "fixtures" / "profiles" / "good-mini.yaml"
MINI_SET = ROOT / "tests" / "fixtures" / "profiles" / "apps" / "mini.yaml"


def errors_of(paths: object) -> list[ProfileError]:
    with pytest.raises(ProfileErrors) as exc:
        load_profiles(paths)  # type: ignore[arg-type]
    return exc.value.errors


def profile_dir(tmp_path: Path) -> Path:
    """A directory with the good mini profile and its app set (valid as it is)."""
    d = tmp_path / "profiles"
    (d / "apps").mkdir(parents=True)
    (d / "apps" / "mini.yaml").write_text(MINI_SET.read_text())
    (d / "good-mini.yaml").write_text(GOOD.read_text())
    load_profiles(d)  # sanity: the base is valid
    return d


# ---------------------------------------------------------------- item 11: size, bytes, NUL, links, directories

def test_a_plain_huge_list_is_not_called_an_alias_bomb():
    text = "profile: big\nname: Big\nmatch: {model: [X]}\nregions:\n" + "  - CN\n" * 400_000
    start = time.perf_counter()
    with pytest.raises(ProfileError) as exc:
        load_yaml("big.yaml", text)
    assert time.perf_counter() - start < 30
    err = exc.value
    assert "alias" not in err.message
    assert (err.path, err.line, err.key) == ("big.yaml", 4, "regions")
    assert "400000" in err.message and err.hint


def test_an_alias_bomb_names_its_key_and_line():
    lines = ["profile: bomb", 'a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(ProfileError) as exc:
        load_yaml("bomb.yaml", "\n".join(lines) + "\n")
    err = exc.value
    assert "alias" in err.message and str(MAX_EXPANDED_NODES) in err.message
    assert err.key == "e" and err.line == 6 and err.hint  # the first key whose value passes the limit (111111)


@pytest.mark.parametrize(("data", "line"), [
    (b"profile: x\nname: caf\xe9\n", 2),  # Latin-1, not UTF-8
    (b"profile: x\nname: ok\n\xff\xfe\x00\x01binary\n", 3),
])
def test_non_utf8_file_names_line_and_remedy(tmp_path: Path, data: bytes, line: int):
    f = tmp_path / "bad.yaml"
    f.write_bytes(data)
    with pytest.raises(ProfileError) as exc:
        load_yaml(f)
    err = exc.value
    assert err.line == line and "UTF-8" in err.message and "position" not in err.message
    assert err.hint and "UTF-8" in err.hint


def test_binary_file_is_named_binary(tmp_path: Path):
    f = tmp_path / "blob.yaml"
    f.write_bytes(bytes(range(256)) * 16)
    with pytest.raises(ProfileError) as exc:
        load_yaml(f)
    assert "binary" in exc.value.message and exc.value.hint


def test_nul_character_is_a_clear_error_not_pyyaml_text():
    with pytest.raises(ProfileError) as exc:
        load_yaml("nul.yaml", "profile: x\nname: a\x00b\n")
    err = exc.value
    assert (err.line, err.key) == (2, "name")
    assert "NUL" in err.message and "special characters" not in err.message and "<unicode string>" not in str(err)
    assert err.hint


def test_dangling_yaml_link_in_a_directory_is_an_error(tmp_path: Path):
    d = profile_dir(tmp_path)
    (d / "xiaomi-gone.yaml").symlink_to(d / "no-such-target.yaml")
    errs = errors_of(d)
    assert len(errs) == 1
    assert errs[0].path is not None and errs[0].path.endswith("xiaomi-gone.yaml")
    assert "dangling" in errs[0].message and errs[0].hint


def test_directory_named_like_a_profile_is_an_error(tmp_path: Path):
    d = profile_dir(tmp_path)
    (d / "xiaomi-dir.yaml").mkdir()
    errs = errors_of(d)
    assert len(errs) == 1 and errs[0].path is not None and errs[0].path.endswith("xiaomi-dir.yaml")
    assert "directory" in errs[0].message and errs[0].hint


def test_cli_reports_hostile_files_without_traceback(tmp_path: Path):
    d = profile_dir(tmp_path)
    (d / "latin1.yaml").write_bytes(b"profile: latin1\nname: caf\xe9\n")
    (d / "nul.yaml").write_bytes(b"profile: nul\nname: a\x00b\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "harness.profiles", "check", str(d)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr + proc.stdout
    out = proc.stdout + proc.stderr
    assert "latin1.yaml:2:" in out and "nul.yaml:2: name:" in out


# ---------------------------------------------------------------- item 12: fingerprint patterns cannot hang

def test_catastrophic_pattern_matches_in_linear_time():
    spec = MatchSpec(model=["X"], fingerprint="^(a+)+b")
    props = {"ro.product.model": "X", "ro.build.fingerprint": "a" * 27}
    start = time.perf_counter()
    assert spec.matches(props) is False
    assert time.perf_counter() - start < 0.5
    assert MatchSpec(model=["X"], fingerprint="^Xiaomi/olivelite/").matches(
        {"ro.product.model": "X", "ro.build.fingerprint": "Xiaomi/olivelite/olivelite:10/QKQ1/V12:user/release-keys"})


@pytest.mark.parametrize("pattern", ["(?=Xiaomi)Xiaomi/", "(?!x)Xiaomi", "(a)(?P=a)"])
def test_unsupported_pattern_is_a_load_error(tmp_path: Path, pattern: str):
    d = profile_dir(tmp_path)
    text = (d / "good-mini.yaml").read_text()
    (d / "good-mini.yaml").write_text(text.replace("match: {model: [Mini 1]}\n",
                                                   f"match:\n  model: [Mini 1]\n  fingerprint: '{pattern}'\n", 1))
    errs = errors_of(d)
    assert len(errs) == 1 and errs[0].key == "match.fingerprint" and errs[0].line is not None
    assert "RE2" in (errs[0].hint or "") and pattern in errs[0].message


# ---------------------------------------------------------------- item 13: overlaps grouped

def test_many_overlapping_profiles_give_one_error_per_group(tmp_path: Path):
    d = profile_dir(tmp_path)
    base = (d / "good-mini.yaml").read_text()
    for i in range(60):
        (d / f"clone-{i:03d}.yaml").write_text(base.replace("profile: good-mini", f"profile: clone-{i:03d}"))
    errs = errors_of(d)
    overlaps = [e for e in errs if "overlap" in e.message]
    assert len(overlaps) == 1 == len(errs)
    msg = overlaps[0].message
    assert "61 profiles" in msg and "good-mini.yaml" in msg and "clone-059.yaml" in msg
    assert overlaps[0].key == "match" and overlaps[0].hint


def test_two_separate_overlap_groups(tmp_path: Path):
    d = profile_dir(tmp_path)
    base = (d / "good-mini.yaml").read_text()
    (d / "twin.yaml").write_text(base.replace("profile: good-mini", "profile: twin"))
    other = base.replace("profile: good-mini", "profile: other-a").replace("[Mini 1]", "[Other]")
    (d / "other-a.yaml").write_text(other)
    (d / "other-b.yaml").write_text(other.replace("profile: other-a", "profile: other-b"))
    overlaps = [e for e in errors_of(d) if "overlap" in e.message]
    assert len(overlaps) == 2
    assert {("twin.yaml" in e.message, "other-b.yaml" in e.message) for e in overlaps} == {(True, False), (False, True)}


# ---------------------------------------------------------------- symbolic link loops under the profiles folder

def test_link_loop_beside_a_mistyped_include_is_named_not_a_crash(tmp_path: Path):
    d = profile_dir(tmp_path)
    (d / "apps" / "loop.yaml").symlink_to("loop.yaml")
    (d / "good-mini.yaml").write_text(GOOD.read_text().replace("apps/mini.yaml", "apps/mni.yaml"))
    errs = errors_of(d)
    loop = [e for e in errs if "symbolic link loop" in e.message]
    assert len(loop) == 1 and loop[0].path is not None and loop[0].path.endswith("apps/loop.yaml")
    assert loop[0].hint
    typo = [e for e in errs if "not found" in e.message]
    assert len(typo) == 1 and typo[0].line == 5 and typo[0].hint == "did you mean `apps/mini.yaml`?"


def test_include_of_a_link_loop_is_an_error_at_the_include(tmp_path: Path):
    d = profile_dir(tmp_path)
    (d / "apps" / "loop.yaml").symlink_to("loop.yaml")
    (d / "good-mini.yaml").write_text(GOOD.read_text().replace("apps/mini.yaml", "apps/loop.yaml"))
    [err] = errors_of(d)
    assert (err.line, err.key) == (5, "include[0]") and "symbolic link loop" in err.message
    assert err.path is not None and err.path.endswith("good-mini.yaml") and err.hint and "loop.yaml" in err.hint


def test_link_loop_in_the_profiles_folder_is_called_a_loop(tmp_path: Path):
    d = profile_dir(tmp_path)
    (d / "a.yaml").symlink_to("b.yaml")
    (d / "b.yaml").symlink_to("a.yaml")
    errs = errors_of(d)
    assert len(errs) == 2 and all("symbolic link loop" in e.message and "dangling" not in e.message for e in errs)


def test_job_reports_a_link_loop_as_a_usage_error(tmp_path: Path):
    d = profile_dir(tmp_path)
    (d / "apps" / "loop.yaml").symlink_to("loop.yaml")
    (d / "good-mini.yaml").write_text(GOOD.read_text().replace("apps/mini.yaml", "apps/mni.yaml"))
    from tools import job

    args = job.build_parser().parse_args(["--profiles", str(d)])
    problems = job.validate(args)[0]
    assert len(problems) == 1 and "apps/loop.yaml: symbolic link loop" in problems[0]


# ---------------------------------------------------------------- file size limit, before any YAML parsing

def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path):
    from harness.profiles.loader import MAX_FILE_BYTES

    d = profile_dir(tmp_path)
    big = d / "good-mini.yaml"
    big.write_text(GOOD.read_text() + "# " + "x" * MAX_FILE_BYTES + "\n")  # one huge comment line: valid YAML
    start = time.perf_counter()
    [err] = errors_of(d)
    assert time.perf_counter() - start < 2
    assert err.path is not None and err.path.endswith("good-mini.yaml") and err.line is None
    assert str(big.stat().st_size) in err.message and "1 MiB" in err.message and err.hint


def test_an_included_app_set_over_the_size_limit_is_named(tmp_path: Path):
    from harness.profiles.loader import MAX_FILE_BYTES

    d = profile_dir(tmp_path)
    entry = "  - {package: com.example.gen%d, name: Gen}\n"
    count = MAX_FILE_BYTES // len(entry % 0) + 1
    (d / "apps" / "mini.yaml").write_text(MINI_SET.read_text() + "".join(entry % i for i in range(count)))
    errs = errors_of(d)
    assert any(e.path is not None and e.path.endswith("apps/mini.yaml") and "MiB" in e.message for e in errs)


def test_a_file_just_under_the_size_limit_is_read(tmp_path: Path):
    from harness.profiles.loader import MAX_FILE_BYTES

    d = profile_dir(tmp_path)
    text = GOOD.read_text()
    (d / "good-mini.yaml").write_text(text + "# " + "x" * (MAX_FILE_BYTES - len(text) - 3) + "\n")
    assert (d / "good-mini.yaml").stat().st_size == MAX_FILE_BYTES
    assert load_profiles(d).ids == ["good-mini"]
