"""YAML loading that remembers where every key and value came from.

Used by the device-profile loader and by the virtual device's image loader, so that every bad
input is reported as ``file:line: key: message (hint)`` and never as a traceback.

* Duplicate keys in a mapping are errors (PyYAML silently keeps the last one).
* :func:`load_yaml` returns plain Python data plus a :class:`Locations` map from key paths
  (tuples such as ``("apps", 2, "package")``) to 1-based line numbers.
* :func:`validation_errors` turns a pydantic ``ValidationError`` into :class:`ProfileError` s with
  the line of the offending key and, for unknown keys, a "did you mean" hint.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import ProfileError

KeyPath = tuple[str | int, ...]


class Locations(dict[KeyPath, int]):
    """Map of key path → 1-based line number; :meth:`line_for` falls back to the nearest parent."""

    def line_for(self, path: Sequence[str | int]) -> int | None:
        """Line of ``path`` or of its closest ancestor that has one; None for an empty document."""
        p = tuple(path)
        while True:
            if p in self:
                return self[p]
            if not p:
                return None
            p = p[:-1]


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys; nodes keep their marks for :func:`_walk`."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain name, not a list or mapping (`? [a, b]` / `? {a: 1}`)",
                key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None,
                f"duplicate key {key!r} (first at line {seen[key]}); remove one of them",
                key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


MAX_EXPANDED_NODES = 100_000
"""Upper bound of values (nodes) a document may hold once every alias is expanded: a "billion laughs" guard, and
a bound on documents that are simply huge (a profile has a few hundred values)."""


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Number of nodes ``node`` stands for once every alias is expanded (memoised per node: linear time)."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # cycles (recursive aliases) count once; PyYAML refuses them when constructing anyway
    total = 1
    if isinstance(node, yaml.MappingNode):
        total += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_size(v, memo) for v in node.value)
    memo[key] = min(total, MAX_EXPANDED_NODES + 1)
    return memo[key]


def _children(node: yaml.Node) -> list[tuple[str | int, yaml.Node, int]]:
    """``(key, child, line)`` of a mapping's values or a sequence's items, in document order."""
    if isinstance(node, yaml.MappingNode):
        return [(k.value if isinstance(k, yaml.ScalarNode) else str(k.value), v, k.start_mark.line + 1)
                for k, v in node.value]
    if isinstance(node, yaml.SequenceNode):
        return [(i, v, v.start_mark.line + 1) for i, v in enumerate(node.value)]
    return []


def _literal_size(node: yaml.Node) -> int:
    """Number of distinct nodes under ``node`` as written (each anchored node once; mapping keys count, as in
    :func:`_expanded_size`), up to the limit + 1."""
    seen: set[int] = set()
    stack = [node]
    while stack and len(seen) <= MAX_EXPANDED_NODES:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            stack.extend(part for pair in n.value for part in pair)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return len(seen)


def _size_error(root: yaml.Node, memo: dict[int, int], path: str) -> ProfileError:
    """The error for a document over :data:`MAX_EXPANDED_NODES`: it names the first key (in document order) whose
    value is over the limit, as deep as one child still is, and says whether it is big as written or through
    aliases."""
    node, keys, line = root, [], root.start_mark.line + 1
    while True:
        over = next(((k, c, ln) for k, c, ln in _children(node) if _expanded_size(c, memo) > MAX_EXPANDED_NODES),
                    None)
        if over is None:
            break
        keys.append(over[0])
        node, line = over[1], over[2]
    key = format_key(keys) or None
    what = f"`{key}`" if key else "the document"
    if _literal_size(node) > MAX_EXPANDED_NODES:
        count = len(node.value) if isinstance(node, yaml.MappingNode | yaml.SequenceNode) else 0
        return ProfileError(f"{what} holds {count} values (a profile has a few hundred; the limit is "
                            f"{MAX_EXPANDED_NODES} in all)", path=path, line=line, key=key,
                            hint="remove the generated list; share apps between profiles with `include:`")
    return ProfileError(f"{what} expands to more than {MAX_EXPANDED_NODES} values through YAML aliases (`*name`)",
                        path=path, line=line, key=key,
                        hint="write the values out, or share apps with `include:` instead of anchors")


def _line_col(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of character ``position`` in ``text``."""
    head = text[:position]
    return head.count("\n") + 1, position - (head.rfind("\n") + 1) + 1


def _control_char_error(text: str, position: int, path: str) -> ProfileError:
    """A clear error for a character YAML refuses (NUL, other C0 controls, U+FFFE …) at ``position``: line, column,
    the key of that line (read from the document with such characters blanked out) and a remedy."""
    line, col = _line_col(text, position)
    ch = text[position] if position < len(text) else "\x00"
    name = {"\x00": "NUL", "\x1b": "ESC", "\x7f": "DEL"}.get(ch, "control character")
    key = None
    cleaned = "".join(c if c in "\t\n\r" or c.isprintable() else " " for c in text)
    try:
        locs = Locations()
        node = yaml.compose(cleaned, Loader=_Loader)
        if node is not None:
            _walk(node, (), locs)
        on_line = [p for p, ln in locs.items() if ln == line and p]
        if on_line:
            key = format_key(max(on_line, key=len))
    except (yaml.YAMLError, RecursionError):
        pass
    return ProfileError(f"{name} (U+{ord(ch):04X}) at line {line}, column {col}: YAML text cannot hold it",
                        path=path, line=line, key=key,
                        hint="remove it; a profile is plain UTF-8 text (was a binary file saved under this name?)")


def _decode(data: bytes, path: str) -> str:
    """``data`` as UTF-8 text, or a ProfileError naming the line of the first undecodable byte (or "binary")."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = data[:4096]
        controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
        if controls * 10 > len(head):
            raise ProfileError("this is a binary file, not YAML text", path=path,
                               hint="give a device profile or app set (a UTF-8 YAML text file)") from None
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ProfileError(f"not UTF-8 text: byte 0x{data[exc.start]:02X} at line {line}, column {col}", path=path,
                           line=line, hint="save the file as UTF-8 (a profile is a UTF-8 YAML text file)") from None


def _walk(node: yaml.Node, path: KeyPath, locs: Locations) -> None:
    locs.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            locs[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), locs)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            locs[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), locs)


def load_yaml(path: str | Path, text: str | None = None) -> tuple[Any, Locations]:
    """Parse one YAML document from ``path`` (or from ``text``, reported as ``path``).

    Returns ``(data, locations)``. Raises :class:`ProfileError` with file and line for unreadable
    files, YAML syntax errors and duplicate keys.
    """
    path = str(path)
    if text is None:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ProfileError("file not found", path=path, hint="check the path") from None
        except IsADirectoryError:
            raise ProfileError("is a directory, not a YAML file", path=path,
                               hint="give the profile files or the directory holding them") from None
        except OSError as exc:
            raise ProfileError(f"cannot read file: {exc.strerror or exc}", path=path,
                               hint="check the file's permissions") from None
        text = _decode(data, path)
    try:
        node = yaml.compose(text, Loader=_Loader)
        memo: dict[int, int] = {}
        if node is not None and _expanded_size(node, memo) > MAX_EXPANDED_NODES:
            raise _size_error(node, memo, path)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.reader.ReaderError as exc:
        raise _control_char_error(text, exc.position, path) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        if exc.context and "duplicate" not in problem:
            problem = f"{exc.context}; {problem}"
        hint = None if "duplicate key" in problem else "fix the indentation or quoting on that line"
        raise ProfileError(f"invalid YAML: {problem}", path=path, line=line, hint=hint) from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"invalid YAML: {exc}", path=path) from None
    except RecursionError:
        raise ProfileError("the document is nested too deeply", path=path,
                           hint="a profile needs a few levels of nesting; remove the runaway brackets") from None
    locs = Locations()
    if node is not None:
        try:
            _walk(node, (), locs)
        except RecursionError:
            raise ProfileError("the document is nested too deeply", path=path) from None
    return data, locs


def _model_fields(model: type[BaseModel] | None, loc: Sequence[str | int]) -> list[str]:
    """Field names (aliases first) allowed at ``loc`` inside ``model``, for did-you-mean hints."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            # descend into list / dict item types
            continue
        ann = fields[part].annotation
        current = _unwrap_model(ann)
    fields = getattr(current, "model_fields", None) or {}
    return [f.alias or name for name, f in fields.items()]


def _unwrap_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def format_key(loc: Iterable[str | int]) -> str:
    """``("apps", 2, "package")`` → ``apps[2].package``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_errors(exc: ValidationError, *, path: str, locations: Locations,
                      model: type[BaseModel] | None = None,
                      prefix: KeyPath = ()) -> list[ProfileError]:
    """Convert a pydantic ``ValidationError`` into ProfileErrors with file, line, key and a hint.

    ``prefix`` is the key path of the validated object inside the YAML document (when a sub-tree
    was validated). Unknown keys (``extra_forbidden``) get "did you mean `x`?" or the list of
    valid keys.
    """
    out: list[ProfileError] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        full = prefix + tuple(loc)
        line = locations.line_for(full)
        key = format_key(full) or None
        hint = None
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            bad = str(loc[-1]) if loc else ""
            allowed = _model_fields(model, loc[:-1])
            close = difflib.get_close_matches(bad, allowed, n=1, cutoff=0.6)
            msg = f"unknown key `{bad}`"
            if close:
                hint = f"did you mean `{close[0]}`?"
            elif allowed:
                hint = "valid keys: " + ", ".join(sorted(allowed))
        elif err["type"] == "missing":
            msg = "required key is missing"
            hint = f"add `{loc[-1]}`" if loc else None
        else:
            inp = err.get("input")
            if isinstance(inp, (str, int, float)) and not isinstance(inp, bool):
                msg = f"{msg} (got {inp!r})"
        out.append(ProfileError(msg, path=path, line=line, key=key, hint=hint))
    return out
