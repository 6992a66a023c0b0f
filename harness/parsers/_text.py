"""Text helpers shared by the parsers (internal).

Every parser first calls :func:`normalize`: real outputs arrive with a UTF-8 byte-order mark (corpus
``dumpsys-package_android4.4_lufthansa_…``), Windows line endings (corpus
``getprop_android15_hyperos2_xiaomi14_crlf.txt``) or old-Mac/pty ``\\r`` line ends, and sometimes with NUL
bytes when a binary file was fed by mistake. :func:`reject_binary` turns the last case into a
:class:`~harness.errors.ParseError` instead of a silent empty answer.
"""

from __future__ import annotations

import re

from harness.errors import ParseError

_BOM = "\ufeff"

PACKAGE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+$")
"""An Android package name (``com.example.app``): dotted Java identifiers, at least two segments."""


def normalize(text: str) -> str:
    """Return ``text`` with a leading BOM removed and CRLF / lone CR line ends turned into ``\\n``."""
    if text.startswith(_BOM):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def excerpt(text: str, limit: int = 300) -> str:
    """The first ``limit`` characters of ``text`` (for ParseError excerpts), with an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def reject_binary(text: str, command: str) -> None:
    """Raise ParseError when ``text`` looks like binary data rather than command output.

    Binary means: a NUL character, or more than 10 % of the first 4 KiB being C0 control characters other
    than tab/newline/carriage return (command outputs are text; ``adb shell`` never emits NULs).
    """
    if "\x00" in text:
        raise ParseError("output contains NUL bytes (binary data, not command output)", command=command,
                         excerpt=excerpt(text.replace("\x00", "\\0")))
    head = text[:4096]
    if head:
        ctl = sum(1 for ch in head if ord(ch) < 32 and ch not in "\t\n\r")
        if ctl * 10 > len(head):
            raise ParseError("output is mostly control characters (binary data, not command output)",
                             command=command, excerpt=excerpt(head))


def fq_class(package: str, cls: str) -> str:
    """Fully-qualified activity class: ``(".Main", "com.a")`` → ``com.a.Main``; full names are kept."""
    return package + cls if cls.startswith(".") else cls


def package_of_component(component: str) -> str:
    """``pkg/cls`` → ``pkg``; a bare package name is returned as is."""
    return component.split("/", 1)[0].strip()
