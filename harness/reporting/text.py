"""Device-controlled text made safe for people: terminals, Markdown, HTML, JUnit.

A phone decides what its ``versionName``, labels, properties and logs say. Printed raw, ``\\x1b]0;…\\x07``
retitles the terminal and ``\\x1b[2J`` clears it; in Markdown ``<script>`` is live HTML. Every string that came
from a device goes through :func:`neutralize` before it reaches a person: control characters (C0 except tab,
DEL, C1) and the Unicode bidirectional controls that reorder what a reader sees (U+202A–202E, U+2066–2069,
U+200E/U+200F) are shown as escapes (``\\x1b``, ``\\u202e``); everything else is kept.
"""

from __future__ import annotations

import html
import re

_UNSAFE_RE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralize(text: object) -> str:
    """``text`` with control and bidi-control characters shown escaped (``\\x1b``); None → ``""``.

    Newlines become ``\\x0a`` too: one device string is one line in a summary or a table cell.
    """
    if text is None:
        return ""
    return _UNSAFE_RE.sub(_escape, str(text))


def md_text(text: object) -> str:
    """For a Markdown table cell: neutralized, HTML-escaped (Markdown renders raw HTML), ``|`` and ``\\`` escaped."""
    return html.escape(neutralize(text), quote=False).replace("\\", "\\\\").replace("|", "\\|")


def html_text(text: object) -> str:
    """For HTML: neutralized and HTML-escaped (quotes too, so it is safe inside attributes)."""
    return html.escape(neutralize(text), quote=True)
