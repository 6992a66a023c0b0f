"""Parser for ``adb shell getprop`` (all properties).

Output shape (every Android version since 1.x; toybox and toolbox print the same): one property per line,
``[key]: [value]``, sorted by key. A value may contain newlines, in which case it continues on the following
lines until the line that ends with ``]`` (corpus ``getprop_android13_miui14-global_redmi10-2022.txt``:
``persist.sys.boot.reason.history`` spans four lines and ``persist.vendor.sys.pq.picmode`` is ``0\\n``).

Handled variants, each shown by a corpus row of ``/work/shared/corpus/README.md`` § getprop:

* CRLF line ends from a Windows capture (``getprop_android15_hyperos2_xiaomi14_crlf.txt``): no value ends
  in ``\\r``;
* UTF-8 non-ASCII values, e.g. Chinese operator names (``getprop_android10_miui12.5-cn_redmi8a.txt``);
* a partial dump that does not start at the alphabetical beginning (same Redmi 8A file);
* an odd first key that is not a dotted Android property, ``[Build.BRAND]: [MTK]`` (Redmi 10 2022 file):
  kept as an ordinary key;
* empty values ``[persist.sys.country]: []`` (kept as ``""``).
"""

from __future__ import annotations

import re

from harness.errors import ParseError
from harness.parsers._text import excerpt, normalize, reject_binary

COMMAND = "getprop"

_LINE_RE = re.compile(r"^\[(?P<key>[^\[\]\n]+)\]: \[(?P<rest>.*)$")


def parse_getprop(text: str) -> dict[str, str]:
    """Parse the full output of ``getprop`` into ``{key: value}``.

    Args:
        text: the command's stdout, as decoded UTF-8 (any line ending).

    Returns:
        Properties in output order; a multi-line value keeps its inner ``\\n`` (never ``\\r``); a key that
        occurs twice keeps its last value. Lines outside any ``[key]: [value]`` record (blank lines, a stray
        ``WARNING: linker`` line on old builds) are ignored.

    Raises:
        ParseError: (command ``getprop``) when the text holds no ``[key]: [value]`` line at all (empty output,
            an error message such as ``/system/bin/sh: getprop: not found``, binary data), or when the last
            value is never closed by ``]`` (output cut short).
    """
    reject_binary(text, COMMAND)
    props: dict[str, str] = {}
    key: str | None = None
    parts: list[str] = []
    for line in normalize(text).split("\n"):
        if key is not None:
            # Inside a multi-line value: this line continues it, up to a line ending in "]".
            if line.endswith("]"):
                parts.append(line[:-1])
                props[key] = "\n".join(parts)
                key, parts = None, []
            else:
                parts.append(line)
            continue
        m = _LINE_RE.match(line)
        if not m:
            continue
        rest = m.group("rest")
        if rest.endswith("]"):
            props[m.group("key")] = rest[:-1]
        else:
            key, parts = m.group("key"), [rest]
    if key is not None:
        raise ParseError(f"value of [{key}] is not closed by ']' (output cut short?)", command=COMMAND,
                         excerpt=excerpt("\n".join(parts)))
    if not props:
        raise ParseError("no '[key]: [value]' line found", command=COMMAND, excerpt=excerpt(text))
    return props
