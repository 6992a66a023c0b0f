"""harness.yamlsource: line numbers, duplicate keys, unsafe documents (alias bombs, non-scalar keys)."""

import pytest

from harness.errors import ProfileError
from harness.yamlsource import load_yaml


def test_locations_of_keys_and_items():
    data, locs = load_yaml("p.yaml", "a: 1\nlist:\n  - x: 1\n  - x: 2\n")
    assert data == {"a": 1, "list": [{"x": 1}, {"x": 2}]}
    assert locs[("list", 1, "x")] == 4
    assert locs.line_for(("list", 1, "x", "missing")) == 4


def test_duplicate_key_names_both_lines():
    with pytest.raises(ProfileError) as err:
        load_yaml("p.yaml", "a: 1\nb: 2\na: 3\n")
    assert err.value.line == 3 and "first at line 1" in str(err.value)


def test_non_scalar_key_is_an_error_not_a_traceback():
    with pytest.raises(ProfileError) as err:
        load_yaml("p.yaml", "profile: x\n? [a, b]\n: x\n")
    assert err.value.line == 2 and "plain name" in str(err.value)


def test_alias_bomb_is_refused_quickly():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    with pytest.raises(ProfileError, match="expands to more than"):
        load_yaml("bomb.yaml", "\n".join(lines) + "\n")


def test_small_anchors_still_work():
    data, _ = load_yaml("p.yaml", "base: &b {x: 1}\nother: *b\n")
    assert data["other"] == {"x": 1}


def test_runaway_nesting_is_an_error_not_a_traceback():
    with pytest.raises(ProfileError, match="nested too deeply"):
        load_yaml("deep.yaml", "deep: " + "[" * 5000 + "]" * 5000 + "\n")
