"""The command-list interpreter of the virtual device's ``/system/bin/sh`` (a small subset of mksh).

Supported: words with ``'single'``/``"double"`` quotes and backslash escapes; ``$?``, ``$VAR`` and ``${VAR}``
(expanded when the command runs, so ``false; echo $?`` prints 1); ``VAR=x`` (shell variable) and ``VAR=x cmd``
(environment of one command); lists with ``;``, newline, ``&`` (run in the foreground here), ``&&``, ``||``;
pipelines ``a | b`` (stdout of ``a`` is the stdin of ``b``; stderr is not piped); redirections ``>``, ``>>``,
``2>``, ``2>>``, ``2>&1``, ``>&2``, ``<`` to/from the in-memory file system (``/dev/null`` discards);
``exit [N]`` ends the whole list (so adbutils' ``; echo X4EXIT:$?`` suffix does not print, as on a real
phone); ``# comments``. Anything else (``$(..)``, backticks, ``if``/``for``) is a syntax error reported like
mksh: ``/system/bin/sh: syntax error: ... unsupported by the virtual device`` with exit 2.

Lexing is hand-written rather than :mod:`shlex` because expansions must stay unexpanded until run time and
redirection operators need their file-descriptor prefix.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from virtual_device.state import DeviceState

SH = "/system/bin/sh"


class ShellSyntaxError(Exception):
    """Unsupported or malformed syntax; the message is printed after ``/system/bin/sh: ``."""


@dataclass(frozen=True)
class Var:
    """A ``$NAME`` / ``$?`` expansion inside a word."""

    name: str


Word = list[str | Var]


@dataclass
class Redir:
    """``fd`` ``op`` target: op is ``>``, ``>>``, ``<`` or ``>&`` (target is then an fd number)."""

    fd: int
    op: str
    target: Word


@dataclass
class Simple:
    """One simple command: ``assigns`` (``VAR=x``), argument words, redirections."""

    assigns: list[tuple[str, Word]] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    redirs: list[Redir] = field(default_factory=list)


Pipeline = list[Simple]

_UNSUPPORTED_WORDS = {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
                      "function", "{", "}", "((", "[["}


def _lex(line: str) -> list[tuple[str, object]]:
    """Tokens: ("word", Word, quoted:bool) as ("word", (Word, quoted)), ("op", str), ("redir", (fd, op))."""
    toks: list[tuple[str, object]] = []
    i, n = 0, len(line)
    cur: Word = []
    buf: list[str] = []
    in_word = False
    quoted = False

    def flush_buf() -> None:
        if buf:
            cur.append("".join(buf))
            buf.clear()

    def end_word() -> None:
        nonlocal cur, in_word, quoted
        flush_buf()
        if in_word:
            toks.append(("word", (cur, quoted)))
        cur, in_word, quoted = [], False, False

    def read_var(j: int) -> tuple[Var | None, int]:
        # line[j] == "$"
        if j + 1 >= n:
            return None, j + 1
        c = line[j + 1]
        if c in "?#$!0123456789":
            return Var(c), j + 2
        if c == "{":
            k = line.find("}", j + 2)
            if k < 0:
                raise ShellSyntaxError("${: missing }")
            return Var(line[j + 2:k]), k + 1
        if c == "(":
            raise ShellSyntaxError("$(...) command substitution is unsupported by the virtual device")
        k = j + 1
        while k < n and (line[k].isalnum() or line[k] == "_"):
            k += 1
        if k == j + 1:
            return None, j + 1
        return Var(line[j + 1:k]), k

    def take_dollar(j: int) -> int:
        # line[j] == "$": a variable becomes its own word part, a lone "$" stays text; returns the next index
        var, after = read_var(j)
        if var is None:
            buf.append("$")
        else:
            flush_buf()
            cur.append(var)
        return after

    while i < n:
        c = line[i]
        if c in " \t":
            end_word()
            i += 1
        elif c == "\n":
            end_word()
            toks.append(("op", ";"))
            i += 1
        elif c == "#" and not in_word:
            while i < n and line[i] != "\n":
                i += 1
        elif c == "'":
            in_word = quoted = True
            k = line.find("'", i + 1)
            if k < 0:
                raise ShellSyntaxError("unterminated '")
            buf.append(line[i + 1:k])
            i = k + 1
        elif c == '"':
            in_word = quoted = True
            i += 1
            while True:
                if i >= n:
                    raise ShellSyntaxError('unterminated "')
                c = line[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\" and i + 1 < n and line[i + 1] in '"\\$`\n':
                    buf.append(line[i + 1])
                    i += 2
                elif c == "$":
                    i = take_dollar(i)
                elif c == "`":
                    raise ShellSyntaxError("`...` command substitution is unsupported by the virtual device")
                else:
                    buf.append(c)
                    i += 1
        elif c == "\\":
            in_word = True
            if i + 1 < n:
                if line[i + 1] != "\n":
                    buf.append(line[i + 1])
                i += 2
            else:
                i += 1
        elif c == "$":
            in_word = True
            i = take_dollar(i)
        elif c == "`":
            raise ShellSyntaxError("`...` command substitution is unsupported by the virtual device")
        elif c in ";&|":
            end_word()
            two = line[i:i + 2]
            if two in ("&&", "||"):
                toks.append(("op", two))
                i += 2
            elif two == ";;":
                raise ShellSyntaxError("unexpected ';;'")
            elif c == "&" and line[i:i + 2] == "&>":
                toks.append(("redir", (1, ">&>")))
                i += 2
            else:
                toks.append(("op", c))
                i += 1
        elif c in "<>":
            fd = 1 if c == ">" else 0
            if in_word and not quoted and not cur and "".join(buf).isdigit():
                fd = int("".join(buf))
                buf.clear()
                in_word = False
            end_word()
            if line[i:i + 2] == ">>":
                op, i = ">>", i + 2
            elif line[i:i + 2] in (">&", "<&"):
                op, i = ">&", i + 2
            else:
                op, i = c, i + 1
            toks.append(("redir", (fd, op)))
        elif c in "()":
            raise ShellSyntaxError(f"'{c}' unexpected (subshells are unsupported by the virtual device)")
        else:
            in_word = True
            buf.append(c)
            i += 1
    end_word()
    return toks


def parse(line: str) -> list[tuple[str, Pipeline]]:
    """Parse a command line into ``[(connector, pipeline)]``; the first connector is ``;``."""
    toks = _lex(line)
    items: list[tuple[str, Pipeline]] = []
    conn = ";"
    pipeline: Pipeline = []
    cmd = Simple()
    k = 0

    def close_cmd() -> None:
        nonlocal cmd
        if cmd.words or cmd.assigns or cmd.redirs:
            pipeline.append(cmd)
        cmd = Simple()

    while k < len(toks):
        kind, val = toks[k]
        if kind == "word":
            word, quoted = val  # type: ignore[misc]
            text = "".join(p for p in word if isinstance(p, str))
            if not cmd.words and not quoted and len(word) >= 1 and isinstance(word[0], str) and "=" in word[0] \
                    and word[0].split("=", 1)[0].isidentifier():
                name, first = word[0].split("=", 1)
                cmd.assigns.append((name, [first, *word[1:]]))
            else:
                if not cmd.words and not quoted and text in _UNSUPPORTED_WORDS and len(word) == 1:
                    raise ShellSyntaxError(f"'{text}' is unsupported by the virtual device")
                cmd.words.append(word)
        elif kind == "redir":
            fd, op = val  # type: ignore[misc]
            if k + 1 >= len(toks) or toks[k + 1][0] != "word":
                raise ShellSyntaxError("syntax error: redirection without a target")
            target, _ = toks[k + 1][1]  # type: ignore[misc]
            if op == ">&>":
                cmd.redirs.append(Redir(1, ">", target))
                cmd.redirs.append(Redir(2, ">&", ["1"]))
            else:
                cmd.redirs.append(Redir(fd, op, target))
            k += 1
        elif kind == "op":
            if val == "|":
                if not (cmd.words or cmd.assigns):
                    raise ShellSyntaxError("syntax error: '|' unexpected")
                close_cmd()
            else:
                close_cmd()
                if not pipeline:
                    if val in ("&&", "||"):
                        raise ShellSyntaxError(f"syntax error: '{val}' unexpected")
                else:
                    items.append((conn, pipeline))
                pipeline = []
                conn = val if val in ("&&", "||") else ";"
        k += 1
    close_cmd()
    if pipeline:
        items.append((conn, pipeline))
    elif conn in ("&&", "||"):
        raise ShellSyntaxError(f"syntax error: unexpected end of input after '{conn}'")
    return items


# -- execution -------------------------------------------------------------------------------------------------

class ExitShell(Exception):
    """``exit N``: stops the whole command list."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Ctx:
    """What a command sees: the device ``state``, its ``stdin`` bytes, ``env`` and output functions.

    ``out``/``err`` accept str (UTF-8 encoded) or bytes. A command that must keep its stream open appends an
    object to ``keep_open``; it reaches the transport as ``ShellResult.keep_open``.
    """

    state: DeviceState
    stdin: bytes
    env: dict[str, str]
    _out: Callable[[bytes], None]
    _err: Callable[[bytes], None]
    keep_open: list[object] = field(default_factory=list)

    def out(self, data: str | bytes) -> None:
        """Write to stdout."""
        self._out(data.encode() if isinstance(data, str) else data)

    def err(self, data: str | bytes) -> None:
        """Write to stderr."""
        self._err(data.encode() if isinstance(data, str) else data)

    @property
    def sdk(self) -> int:
        """The device's API level."""
        return self.state.sdk


Command = Callable[[Ctx, list[str]], int]


class Interpreter:
    """Runs one command line against a state with a command table; collects ``(fd, bytes)`` chunks."""

    def __init__(self, state: DeviceState, commands: dict[str, Command]) -> None:
        self.state = state
        self.commands = commands
        self.vars: dict[str, str] = {"?": "0", "$": "4242", "#": "0", "0": SH, "HOME": "/", "PATH":
                                     "/sbin:/system/sbin:/system/bin:/system/xbin:/vendor/bin:/vendor/xbin",
                                     "USER": "shell", "HOSTNAME": state.props.get("ro.product.device", "localhost")}
        self.chunks: list[tuple[int, bytes]] = []
        self.keep_open: list[object] = []

    def emit(self, fd: int, data: bytes) -> None:
        """Append output, merging consecutive chunks of the same fd."""
        if not data:
            return
        if self.chunks and self.chunks[-1][0] == fd:
            self.chunks[-1] = (fd, self.chunks[-1][1] + data)
        else:
            self.chunks.append((fd, data))

    def expand(self, word: Word) -> str:
        """Expand ``$?``/``$VAR`` in ``word``."""
        return "".join(p if isinstance(p, str) else self.vars.get(p.name, "") for p in word)

    def run_line(self, line: str) -> int:
        """Run a whole command line; returns the exit code (of ``exit N`` or the last pipeline)."""
        try:
            items = parse(line)
        except ShellSyntaxError as exc:
            self.emit(2, f"{SH}: {exc}\n".encode())
            return 2
        last = 0
        try:
            for conn, pipeline in items:
                if conn == "&&" and last != 0:
                    continue
                if conn == "||" and last == 0:
                    continue
                last = self.run_pipeline(pipeline)
                self.vars["?"] = str(last)
        except ExitShell as ex:
            return ex.code
        return last

    def run_pipeline(self, pipeline: Pipeline) -> int:
        """Run ``a | b | c``: each stage's stdout feeds the next; returns the last stage's code."""
        stdin = b""
        rc = 0
        for idx, cmd in enumerate(pipeline):
            last = idx == len(pipeline) - 1
            captured: list[bytes] = []
            sink = (lambda d: self.emit(1, d)) if last else captured.append
            rc = self.run_simple(cmd, stdin, sink)
            stdin = b"".join(captured)
        return rc

    def _open_target(self, path: str, append: bool) -> Callable[[bytes], None] | None:
        if path == "/dev/null":
            return lambda d: None
        fs = self.state.fs
        full = path if path.startswith("/") else posixpath.join("/", path)
        if not fs.isdir(posixpath.dirname(full)) or fs.isdir(full):
            return None
        if not append or not fs.exists(full):
            fs.write(full, b"")

        def write(d: bytes) -> None:
            fs.write(full, fs.read(full) + d)
        return write

    def run_simple(self, cmd: Simple, stdin: bytes, stdout: Callable[[bytes], None]) -> int:
        """Run one simple command with its assignments and redirections."""
        argv = [self.expand(w) for w in cmd.words]
        env = {name: self.expand(w) for name, w in cmd.assigns}
        if not argv:
            self.vars.update(env)
            return 0
        out: Callable[[bytes], None] = stdout
        err: Callable[[bytes], None] = lambda d: self.emit(2, d)  # noqa: E731
        for r in cmd.redirs:
            target = self.expand(r.target)
            if r.op == ">&":
                if target not in ("1", "2"):
                    self.emit(2, f"{SH}: {target}: bad file descriptor\n".encode())
                    return 1
                if r.fd == 2 and target == "1":
                    err = out
                elif r.fd == 1 and target == "2":
                    out = err
                continue
            if r.op == "<":
                try:
                    stdin = self.state.fs.read(target) if target != "/dev/null" else b""
                except (FileNotFoundError, IsADirectoryError, ValueError):
                    self.emit(2, f"{SH}: can't open {target}: No such file or directory\n".encode())
                    return 1
                continue
            sink = self._open_target(target, r.op == ">>")
            if sink is None:
                self.emit(2, f"{SH}: can't create {target}: No such file or directory\n".encode())
                return 1
            if r.fd == 1:
                out = sink
            elif r.fd == 2:
                err = sink
        name = argv[0]
        if name == "exit":
            code = 0
            if len(argv) > 1:
                try:
                    code = int(argv[1]) & 0xFF
                except ValueError:
                    self.emit(2, f"{SH}: exit: {argv[1]}: bad number\n".encode())
                    code = 2
            else:
                code = int(self.vars.get("?", "0"))
            raise ExitShell(code)
        base = name.rsplit("/", 1)[-1] if name.startswith(("/system/bin/", "/system/xbin/")) else name
        fn = self.commands.get(base)
        if fn is None:
            err(f"{SH}: {name}: inaccessible or not found\n".encode())
            return 127
        ctx = Ctx(self.state, stdin, {**self.vars, **env}, out, err, self.keep_open)
        return fn(ctx, argv)
