"""General shell commands: echo, true/false, getprop/setprop, file commands (toybox style), grep/head/tail,
id, ps, pidof, input, wm, settings, screencap, uiautomator, logcat, sleep, toybox.

Error texts follow toybox (Android 6+): ``<cmd>: <path>: No such file or directory`` on stderr, exit 1.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import time
from datetime import UTC, datetime

from virtual_device.render import system as rsys
from virtual_device.shell.interp import SH, Ctx

COMMANDS: dict = {}


def command(*names: str):  # noqa: ANN201 - decorator factory
    """Register the decorated function under ``names``."""
    def deco(fn):  # noqa: ANN001, ANN202
        for n in names:
            COMMANDS[n] = fn
        return fn
    return deco


def _abs(path: str) -> str:
    return path if path.startswith("/") else posixpath.join("/", path)


def _split_flags(args: list[str], known: str) -> tuple[set[str], list[str], str | None]:
    """Split ``-abc`` style flags; returns (flags, operands, first unknown flag or None)."""
    flags: set[str] = set()
    rest: list[str] = []
    bad = None
    only_operands = False
    for a in args:
        if not only_operands and a == "--":
            only_operands = True
        elif not only_operands and a.startswith("-") and len(a) > 1:
            for ch in a[1:]:
                if ch in known:
                    flags.add(ch)
                elif bad is None:
                    bad = ch
        else:
            rest.append(a)
    return flags, rest, bad


@command("true", ":")
def _true(ctx: Ctx, argv: list[str]) -> int:
    return 0


@command("false")
def _false(ctx: Ctx, argv: list[str]) -> int:
    return 1


@command("echo")
def _echo(ctx: Ctx, argv: list[str]) -> int:
    args = argv[1:]
    newline = True
    while args and args[0] in ("-n", "-e", "-E"):
        if args[0] == "-n":
            newline = False
        args = args[1:]
    ctx.out(" ".join(args) + ("\n" if newline else ""))
    return 0


@command("sleep")
def _sleep(ctx: Ctx, argv: list[str]) -> int:
    """Validates its argument; virtual time does not pass (the harness must poll real conditions)."""
    if len(argv) != 2 or not re.fullmatch(r"\d+(\.\d+)?", argv[1]):
        ctx.err("sleep: Need 1 argument\n" if len(argv) != 2 else f"sleep: invalid number '{argv[1]}'\n")
        return 1
    return 0


@command("getprop")
def _getprop(ctx: Ctx, argv: list[str]) -> int:
    props = ctx.state.props
    if len(argv) == 1:
        ctx.out("".join(f"[{k}]: [{v}]\n" for k, v in sorted(props.items())))
    else:
        default = argv[2] if len(argv) > 2 else ""
        ctx.out(props.get(argv[1], default) + "\n")
    return 0


@command("setprop")
def _setprop(ctx: Ctx, argv: list[str]) -> int:
    if len(argv) != 3:
        ctx.err("usage: setprop NAME VALUE\n\nSets an Android system property.\n")
        return 1
    key, value = argv[1], argv[2]
    if key.startswith("ro.") and key in ctx.state.props:
        ctx.err(f"setprop: failed to set property '{key}' to '{value}'\n")
        return 1
    ctx.state.props[key] = value
    return 0


@command("date")
def _date(ctx: Ctx, argv: list[str]) -> int:
    """``date [-u] [+FORMAT]`` (toybox): the device clock; setting the date is refused (not root)."""
    args = argv[1:]
    now = ctx.state.now()
    if args[:1] == ["-u"]:
        now, args = now.astimezone(UTC), args[1:]
    if not args:
        ctx.out(now.strftime("%a %b %e %H:%M:%S %Z %Y") + "\n")
        return 0
    if len(args) == 1 and args[0].startswith("+"):
        ctx.out(now.strftime(args[0][1:]) + "\n")
        return 0
    ctx.err("date: cannot set date: Operation not permitted\n" if not args[0].startswith("-")
            else f"date: Unknown option '{args[0]}'\n")
    return 1


@command("id")
def _id(ctx: Ctx, argv: list[str]) -> int:
    ctx.out(rsys.ID_LINE + "\n")
    return 0


@command("whoami")
def _whoami(ctx: Ctx, argv: list[str]) -> int:
    ctx.out("shell\n")
    return 0


# -- files -----------------------------------------------------------------------------------------------------

@command("ls")
def _ls(ctx: Ctx, argv: list[str]) -> int:
    flags, paths, bad = _split_flags(argv[1:], "laRd1htrsS")
    if bad:
        ctx.err(f"ls: Unknown option '{bad}'\n")
        return 1
    fs = ctx.state.fs
    rc = 0
    paths = paths or ["/"]
    for n, path in enumerate(paths):
        p = _abs(path)
        st = fs.stat(p)
        if st is None:
            ctx.err(f"ls: {path}: No such file or directory\n")
            rc = 1
            continue
        if st.is_dir and "d" not in flags:
            entries = fs.listdir(p)
            if len(paths) > 1:
                ctx.out(("\n" if n else "") + f"{path}:\n")
            if "l" in flags:
                ctx.out(f"total {len(entries)}\n")
            for name, est in entries:
                if name.startswith(".") and "a" not in flags:
                    continue
                ctx.out(_long(name, est, ctx.sdk) if "l" in flags else name + "\n")
        else:
            ctx.out(_long(path, st, ctx.sdk) if "l" in flags else path + "\n")
    return rc


def _long(name: str, st: object, sdk: int = 99) -> str:
    """One ``ls -l`` line: toybox (Android 6+) ``-rw-r--r-- 1 root root     1234 2009-01-01 00:00 name``; toolbox
    (Android 5 and older, ``listfile_long``) has no link count: ``-rw-r--r-- root     root         1234 ...``."""
    mode = st.mode  # type: ignore[attr-defined]
    kind = "d" if st.is_dir else "-"  # type: ignore[attr-defined]
    perms = "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    t = time.strftime("%Y-%m-%d %H:%M", time.localtime(st.mtime))  # type: ignore[attr-defined]
    if sdk < 23:
        size = "" if st.is_dir else f"{st.size:>8} "  # type: ignore[attr-defined]
        return f"{kind}{perms} {'root':<8} {'root':<8} {size}{t} {name}\n"
    return f"{kind}{perms} 1 root root {st.size:>8} {t} {name}\n"  # type: ignore[attr-defined]


@command("cat")
def _cat(ctx: Ctx, argv: list[str]) -> int:
    if len(argv) == 1:
        ctx.out(ctx.stdin)
        return 0
    rc = 0
    for path in argv[1:]:
        if path == "-":
            ctx.out(ctx.stdin)
            continue
        try:
            ctx.out(ctx.state.fs.read(_abs(path)))
        except FileNotFoundError:
            ctx.err(f"cat: {path}: No such file or directory\n")
            rc = 1
        except IsADirectoryError:
            ctx.err(f"cat: {path}: Is a directory\n")
            rc = 1
    return rc


_SUFFIXES = {"": 1, "b": 512, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def _dd_number(text: str) -> int | None:
    """A dd operand: digits with an optional ``k``/``m``/``g`` (x1024) or ``b`` (x512) suffix, ``AxB`` products
    (toybox ``argxarg``/``atolx``); None when malformed."""
    total = 1
    for part in text.split("x"):
        num = part.rstrip("bkmgBKMG")
        unit = part[len(num):].lower()
        if not num.isdigit() or unit not in _SUFFIXES:
            return None
        total *= int(num) * _SUFFIXES[unit]
    return total


def _human(n: float) -> str:
    """toybox ``human_readable(..., HR_SPACE|HR_B)``, close enough: ``512 B``, ``4.0 K``, ``12 M``."""
    for unit in ("B", "K", "M", "G", "T"):
        if n < 1000 or unit == "T":
            if unit == "B":
                return f"{int(n)} B"
            return f"{n:.1f} {unit}" if n < 10 else f"{int(n)} {unit}"
        n /= 1024
    return f"{int(n)} T"  # pragma: no cover


@command("dd")
def _dd(ctx: Ctx, argv: list[str]) -> int:
    """``dd [if=FILE] [of=FILE] [bs=N] [ibs=N] [obs=N] [skip=N] [count=N] [status=noxfer|none]``.

    toybox ``toys/posix/dd.c`` semantics: ``skip``/``count`` are in input blocks (``ibs``, default 512; ``bs``
    sets both block sizes); output is the input bytes ``[skip*ibs, skip*ibs + count*ibs)`` cut at end of file;
    the summary (``N+M records in/out``, bytes copied) goes to stderr. Android 5 and older run toolbox ``dd``,
    whose summary line is ``N bytes transferred in T secs (R bytes/sec)``. Errors: ``dd: bad arg X``,
    ``dd: FILE: No such file or directory`` (exit 1).
    """
    opts: dict[str, str] = {}
    for arg in argv[1:]:
        key, eq, value = arg.partition("=")
        if not eq or key not in ("if", "of", "bs", "ibs", "obs", "skip", "count", "status", "conv", "iflag"):
            ctx.err(f"dd: bad arg {arg}\n")
            return 1
        opts[key] = value
    nums: dict[str, int] = {}
    for key in ("bs", "ibs", "obs", "skip", "count"):
        if key in opts:
            value = _dd_number(opts[key])
            if value is None or (key in ("bs", "ibs", "obs") and value < 1):
                ctx.err(f"dd: bad {opts[key]}\n")
                return 1
            nums[key] = value
    status = opts.get("status", "")
    if status not in ("", "noxfer", "none"):
        ctx.err(f"dd: unknown status '{status}'\n")
        return 1
    ibs = nums.get("bs", nums.get("ibs", 512))
    obs = nums.get("bs", nums.get("obs", 512))
    src = opts.get("if")
    if src is None:
        data = ctx.stdin
    else:
        try:
            data = ctx.state.fs.read(_abs(src))
        except FileNotFoundError:
            ctx.err(f"dd: {src}: No such file or directory\n")
            return 1
        except IsADirectoryError:
            ctx.err(f"dd: {src}: read error: Is a directory\n")
            return 1
    start = nums.get("skip", 0) * ibs
    end = len(data) if "count" not in nums else min(len(data), start + nums["count"] * ibs)
    chunk = data[start:end] if start < len(data) else b""
    dest = opts.get("of")
    if dest is None:
        ctx.out(chunk)
    else:
        path = _abs(dest)
        if not ctx.state.fs.isdir(posixpath.dirname(path)):
            ctx.err(f"dd: {dest}: No such file or directory\n")
            return 1
        ctx.state.fs.write(path, chunk)
    if status != "none":
        full_in, part_in = divmod(len(chunk), ibs)
        full_out, part_out = divmod(len(chunk), obs)
        ctx.err(f"{full_in}+{1 if part_in else 0} records in\n{full_out}+{1 if part_out else 0} records out\n")
        if status != "noxfer":
            if ctx.sdk < 23:
                ctx.err(f"{len(chunk)} bytes transferred in 0.001 secs ({len(chunk) * 1000} bytes/sec)\n")
            else:
                ctx.err(f"{len(chunk)} bytes ({_human(len(chunk))}) copied, 0.001 s, "
                        f"{_human(len(chunk) * 1000)}/s\n")
    return 0


_STAT_DEFAULT = ("  File: `%n'\n  Size: %s\t Blocks: %b\t IO Blocks: %B\t%F\n"
                 "Device: %Dh/%dd\t Inode: %i\t Links: %h\n"
                 "Access: (%a/%A)\tUid: (%u/%U)\tGid: (%g/%G)\n"
                 "Access: %x\nModify: %y\nChange: %z")


@command("stat")
def _stat(ctx: Ctx, argv: list[str]) -> int:
    """``stat [-L] [-c FORMAT] FILE...`` (toybox ``toys/other/stat.c``, Android 6+; toolbox has no stat).

    ``-c`` escapes: ``%s`` size in bytes, ``%n`` the name as given, ``%a`` octal permissions, ``%A`` ``-rw-r--r--``,
    ``%f`` raw mode (hex), ``%F`` file type, ``%b`` 512-byte blocks, ``%B`` 512, ``%h`` links, ``%i`` inode,
    ``%u``/``%g`` 0, ``%U``/``%G`` root, ``%X``/``%Y``/``%Z`` epoch times, ``%x``/``%y``/``%z`` dates, ``%d``/
    ``%D`` device; others print ``?``. Each file's line ends with a newline. A missing file prints
    ``stat: 'FILE': No such file or directory`` on stderr and makes the exit code 1; the others are still shown.
    """
    if ctx.sdk < 23:
        ctx.err(f"{SH}: stat: inaccessible or not found\n")
        return 127
    args = argv[1:]
    fmt: str | None = None
    files: list[str] = []
    k = 0
    while k < len(args):
        a = args[k]
        if a == "-c" and k + 1 < len(args):
            fmt, k = args[k + 1], k + 2
            continue
        if a.startswith("-c") and len(a) > 2:
            fmt = a[2:]
        elif a in ("-L", "-t", "-f") or (a.startswith("-") and len(a) > 1):
            if a not in ("-L",):
                ctx.err(f"stat: Unknown option '{a.lstrip('-')[:1]}'\n")
                return 1
        else:
            files.append(a)
        k += 1
    if not files:
        ctx.err("stat: Need 1 argument\n")
        return 1
    rc = 0
    for name in files:
        st = ctx.state.fs.stat(_abs(name))
        if st is None:
            ctx.err(f"stat: '{name}': No such file or directory\n")
            rc = 1
            continue
        ctx.out(_stat_format(fmt if fmt is not None else _STAT_DEFAULT, name, st) + "\n")
    return rc


def _stat_format(fmt: str, name: str, st: object) -> str:
    mode, size, mtime = st.mode, st.size, st.mtime  # type: ignore[attr-defined]
    is_dir = st.is_dir  # type: ignore[attr-defined]
    date = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime)) + ".000000000"
    perms = ("d" if is_dir else "-") + "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    kind = "directory" if is_dir else ("regular file" if size else "regular empty file")
    values = {"s": str(size), "n": name, "N": f"`{name}'", "a": f"{mode & 0o7777:o}", "A": perms, "f": f"{mode:x}",
              "F": kind, "b": str((size + 511) // 512), "B": "512", "h": "1", "i": str(abs(hash(name)) % 100000),
              "u": "0", "g": "0", "U": "    root", "G": "    root", "X": str(mtime), "Y": str(mtime),
              "Z": str(mtime), "x": date, "y": date, "z": date, "d": "64769", "D": "fd01", "o": "4096"}
    out: list[str] = []
    k = 0
    while k < len(fmt):
        c = fmt[k]
        if c == "%" and k + 1 < len(fmt):
            out.append(values.get(fmt[k + 1], "?"))
            k += 2
        else:
            out.append(c)
            k += 1
    return "".join(out)


@command("rm")
def _rm(ctx: Ctx, argv: list[str]) -> int:
    flags, paths, bad = _split_flags(argv[1:], "frRv")
    if bad:
        ctx.err(f"rm: Unknown option '{bad}'\n")
        return 1
    if not paths:
        if "f" in flags:
            return 0
        ctx.err("rm: Need 1 argument\n")
        return 1
    rc = 0
    for path in paths:
        p = _abs(path)
        st = ctx.state.fs.stat(p)
        if st is None:
            if "f" not in flags:
                ctx.err(f"rm: {path}: No such file or directory\n")
                rc = 1
            continue
        if st.is_dir and not ({"r", "R"} & flags):
            ctx.err(f"rm: {path}: is a directory\n")
            rc = 1
            continue
        ctx.state.fs.remove(p, recursive=True)
    return rc


@command("mkdir")
def _mkdir(ctx: Ctx, argv: list[str]) -> int:
    flags, paths, bad = _split_flags(argv[1:], "pv")
    if bad or not paths:
        ctx.err(f"mkdir: Unknown option '{bad}'\n" if bad else "mkdir: Need 1 argument\n")
        return 1
    rc = 0
    for path in paths:
        p = _abs(path)
        fs = ctx.state.fs
        if fs.exists(p):
            if "p" not in flags or not fs.isdir(p):
                ctx.err(f"mkdir: '{path}': File exists\n")
                rc = 1
            continue
        if not fs.isdir(posixpath.dirname(p)) and "p" not in flags:
            ctx.err(f"mkdir: '{path}': No such file or directory\n")
            rc = 1
            continue
        fs.mkdir(p, parents=True)
    return rc


@command("md5sum")
def _md5sum(ctx: Ctx, argv: list[str]) -> int:
    _, paths, _ = _split_flags(argv[1:], "bcs")
    if not paths:
        ctx.out(f"{hashlib.md5(ctx.stdin).hexdigest()}  -\n")
        return 0
    rc = 0
    for path in paths:
        try:
            data = ctx.state.fs.read(_abs(path))
        except FileNotFoundError:
            ctx.err(f"md5sum: {path}: No such file or directory\n")
            rc = 1
            continue
        except IsADirectoryError:
            ctx.err(f"md5sum: {path}: Is a directory\n")
            rc = 1
            continue
        ctx.out(f"{hashlib.md5(data).hexdigest()}  {path}\n")
    return rc


@command("toybox")
def _toybox(ctx: Ctx, argv: list[str]) -> int:
    if len(argv) == 1:
        ctx.out(" ".join(sorted(n for n in COMMANDS if n not in ("toybox", ":"))) + "\n")
        return 0
    fn = COMMANDS.get(argv[1])
    if fn is None or ctx.sdk < 23:
        ctx.err(f"toybox: Unknown command {argv[1]}\n")
        return 1
    return fn(ctx, argv[1:])


# -- text filters ----------------------------------------------------------------------------------------------

@command("grep")
def _grep(ctx: Ctx, argv: list[str]) -> int:
    """grep [-E -F -i -v -c -q -o -w -x] [-e PATTERN]... [PATTERN] [FILE...] (Python re for -E and basic)."""
    patterns: list[str] = []
    flags: set[str] = set()
    operands: list[str] = []
    args = argv[1:]
    k = 0
    while k < len(args):
        a = args[k]
        if a == "-e" and k + 1 < len(args):
            patterns.append(args[k + 1])
            k += 2
            continue
        if a.startswith("-") and len(a) > 1 and not operands:
            for ch in a[1:]:
                if ch not in "EFivcqowxsnH":
                    ctx.err(f"grep: Unknown option '{ch}'\n")
                    return 2
                flags.add(ch)
        else:
            operands.append(a)
        k += 1
    if not patterns:
        if not operands:
            ctx.err("usage: grep [-EFivcqowx] [-e PATTERN] PATTERN [FILE...]\n")
            return 2
        patterns.append(operands.pop(0))
    regexes = []
    for p in patterns:
        if "F" in flags:
            expr = re.escape(p)
        elif "E" in flags:
            expr = p
        else:  # basic regular expression: \| \( \) \+ \? are the operators, bare ones are literals
            expr = re.sub(r"\\([|()+?{}])|([|()+?{}])",
                          lambda m: m.group(1) if m.group(1) else "\\" + m.group(2), p)
        if "w" in flags:
            expr = rf"\b(?:{expr})\b"
        if "x" in flags:
            expr = rf"^(?:{expr})$"
        try:
            regexes.append(re.compile(expr, re.IGNORECASE if "i" in flags else 0))
        except re.error as exc:
            ctx.err(f"grep: bad regex '{p}': {exc}\n")
            return 2
    sources: list[tuple[str, bytes]] = []
    rc_missing = False
    if operands:
        for path in operands:
            try:
                sources.append((path, ctx.state.fs.read(_abs(path))))
            except (FileNotFoundError, IsADirectoryError):
                if "s" not in flags:
                    ctx.err(f"grep: {path}: No such file or directory\n")
                rc_missing = True
    else:
        sources.append(("(standard input)", ctx.stdin))
    found = 0
    for name, data in sources:
        count = 0
        for line in data.decode("utf-8", "replace").splitlines(keepends=True):
            body = line.rstrip("\n")
            hit = any(r.search(body) for r in regexes)
            if hit != ("v" in flags):
                count += 1
                if "q" in flags or "c" in flags:
                    continue
                prefix = f"{name}:" if len(sources) > 1 or "H" in flags else ""
                if "o" in flags and "v" not in flags:
                    for r in regexes:
                        for m in r.finditer(body):
                            ctx.out(prefix + m.group(0) + "\n")
                else:
                    ctx.out(prefix + body + "\n")
        if "c" in flags:
            ctx.out(f"{name + ':' if len(sources) > 1 else ''}{count}\n")
        found += count
    if rc_missing:
        return 2
    return 0 if found else 1


def _count_arg(ctx: Ctx, argv: list[str], name: str) -> tuple[int, list[str]] | None:
    n, rest = 10, []
    args = argv[1:]
    k = 0
    while k < len(args):
        a = args[k]
        if a == "-n" and k + 1 < len(args):
            a, k = "-n" + args[k + 1], k + 1
        if a.startswith("-n") and a[2:].lstrip("+-").isdigit():
            n = int(a[2:].lstrip("+"))
        elif re.fullmatch(r"-\d+", a):
            n = int(a[1:])
        elif a.startswith("-"):
            ctx.err(f"{name}: Unknown option '{a}'\n")
            return None
        else:
            rest.append(a)
        k += 1
    return n, rest


@command("head", "tail")
def _head_tail(ctx: Ctx, argv: list[str]) -> int:
    parsed = _count_arg(ctx, argv, argv[0])
    if parsed is None:
        return 1
    n, paths = parsed
    data = ctx.stdin
    if paths:
        try:
            data = ctx.state.fs.read(_abs(paths[0]))
        except (FileNotFoundError, IsADirectoryError):
            ctx.err(f"{argv[0]}: {paths[0]}: No such file or directory\n")
            return 1
    lines = data.splitlines(keepends=True)
    ctx.out(b"".join(lines[:n] if argv[0] == "head" else lines[-n:] if n else []))
    return 0


@command("wc")
def _wc(ctx: Ctx, argv: list[str]) -> int:
    if argv[1:] != ["-l"]:
        ctx.err("wc: only `wc -l` on stdin is supported by the virtual device\n")
        return 1
    ctx.out(str(ctx.stdin.count(b"\n")) + "\n")
    return 0


# -- processes, input, window manager, settings ----------------------------------------------------------------

@command("ps")
def _ps(ctx: Ctx, argv: list[str]) -> int:
    toybox = ctx.sdk >= 26
    lines = rsys.ps_lines(ctx.state, toybox)
    args = argv[1:]
    if toybox:
        if "-A" in args or "-e" in args:
            ctx.out("\n".join(lines) + "\n")
        else:  # toybox ps without -A shows only this terminal's processes
            ctx.out(lines[0] + "\n" + "shell         4242  4100   10820   2400 0                   0 S sh\n")
        return 0
    # toolbox ps (Android <= 7): non-option arguments filter by name; unknown flags are taken as filters too
    filters = [a for a in args if not a.startswith("-") or a not in ("-t", "-x", "-P", "-p", "-c", "--abi")]
    rows = lines[1:]
    if filters:
        rows = [r for r in rows if any(r.split()[-1].startswith(f) or r.split()[1] == f for f in filters)]
    ctx.out("\n".join([lines[0], *rows]) + "\n")
    return 0


@command("pidof")
def _pidof(ctx: Ctx, argv: list[str]) -> int:
    pids = [str(ctx.state.running[n]) for n in argv[1:] if n in ctx.state.running]
    if argv[1:] and "system_server" in argv[1:]:
        pids.append("1180")
    if not pids:
        return 1
    ctx.out(" ".join(pids) + "\n")
    return 0


_KEYCODES = {"KEYCODE_HOME": 3, "KEYCODE_BACK": 4, "KEYCODE_POWER": 26, "KEYCODE_WAKEUP": 224,
             "KEYCODE_SLEEP": 223, "KEYCODE_MENU": 82, "KEYCODE_ENTER": 66, "KEYCODE_APP_SWITCH": 187}


@command("input")
def _input(ctx: Ctx, argv: list[str]) -> int:
    args = argv[1:]
    if args and args[0] in ("touchscreen", "keyboard", "trackball", "touchpad", "dpad"):
        args = args[1:]
    if not args:
        ctx.err("Usage: input [<source>] <command> [<arg>...]\n")
        return 1
    sub = args[0]
    st = ctx.state
    if sub == "keyevent" and len(args) > 1:
        for key in args[1:]:
            if key == "--longpress":
                continue
            code = int(key) if key.isdigit() else _KEYCODES.get(key, -1 if not key.startswith("KEYCODE_") else 0)
            if code < 0:
                ctx.err(f"Error: Unknown keycode: {key}\n")
                return 1
            if code == 3 and st.focus is not None:
                st.press_home()
            elif code == 4 and st.focus is not None:
                with st.lock:
                    if st.open_folder is not None and st.focus.package == st.launcher.split("/", 1)[0]:
                        st.open_folder = None  # BACK closes an open launcher folder
                    else:
                        st.go_home()
            elif code == 26:
                st.screen_on = not st.screen_on
            elif code == 224:
                st.screen_on = True
            elif code == 223:
                st.screen_on = False
        return 0
    if sub in ("tap", "swipe", "text", "draganddrop", "press", "roll", "motionevent") and len(args) > 1:
        return 0
    ctx.err(f"Error: Unknown command: {sub}\n" if sub not in ("keyevent", "tap", "swipe", "text")
            else f"Error: Invalid arguments for command: {sub}\n")
    return 1


@command("wm")
def _wm(ctx: Ctx, argv: list[str]) -> int:
    d = ctx.state.image.display
    sub = argv[1] if len(argv) > 1 else ""
    override = getattr(ctx.state, "wm_size_override", None)
    if sub == "size":
        if len(argv) == 2:
            ctx.out(f"Physical size: {d.width}x{d.height}\n" + (f"Override size: {override}\n" if override else ""))
            return 0
        if argv[2] == "reset":
            ctx.state.wm_size_override = None  # type: ignore[attr-defined]
            return 0
        if re.fullmatch(r"\d+x\d+", argv[2]):
            ctx.state.wm_size_override = argv[2]  # type: ignore[attr-defined]
            return 0
        ctx.err(f"Error: bad size {argv[2]}\n")
        return 1
    if sub == "density":
        if len(argv) == 2:
            ctx.out(f"Physical density: {d.density}\n")
            return 0
        ctx.err("Error: changing density is not supported by the virtual device\n")
        return 1
    ctx.err(f"Unknown command: {sub}\n" if sub else "usage: wm [subcommand] [options]\n")
    return 255 if ctx.sdk >= 24 else 1


@command("settings")
def _settings(ctx: Ctx, argv: list[str]) -> int:
    args = argv[1:]
    if args[:1] == ["--user"] and len(args) > 2:
        args = args[2:]
    if len(args) >= 2 and args[0] in ("get", "put", "delete", "list") and args[1] in ("global", "system", "secure"):
        verb, ns = args[0], args[1]
        store = ctx.state.settings
        if verb == "get" and len(args) == 3:
            ctx.out(store.get((ns, args[2]), "null") + "\n")
            return 0
        if verb == "put" and len(args) >= 4:
            store[(ns, args[2])] = args[3]
            return 0
        if verb == "delete" and len(args) == 3:
            ctx.out(f"Deleted {1 if store.pop((ns, args[2]), None) is not None else 0} rows\n")
            return 0
        if verb == "list" and len(args) == 2:
            ctx.out("".join(f"{k}={v}\n" for (n, k), v in sorted(store.items()) if n == ns))
            return 0
    ctx.err("usage:  settings [--user <USER_ID> | current] get namespace key\n"
            "        settings [--user <USER_ID> | current] put namespace key value\n")
    return 1 if ctx.sdk < 24 else 255


# -- screen ----------------------------------------------------------------------------------------------------

@command("screencap")
def _screencap(ctx: Ctx, argv: list[str]) -> int:
    flags, rest, bad = _split_flags(argv[1:], "phd")
    if bad:
        ctx.err(f"screencap: unknown option -{bad}\n")
        return 1
    if "h" in flags:
        ctx.err("usage: screencap [-hp] [-d display-id] [FILENAME]\n")
        return 0
    d = ctx.state.image.display
    w, h = (d.height, d.width) if ctx.state.rotation % 2 else (d.width, d.height)
    png = rsys.png(w, h)
    if rest:
        path = _abs(rest[-1])
        if not ctx.state.fs.isdir(posixpath.dirname(path)):
            ctx.err(f"Error opening file: {rest[-1]} (No such file or directory)\n")
            return 1
        ctx.state.fs.write(path, png if ("p" in flags or path.endswith(".png")) else _raw(w, h))
        return 0
    ctx.out(png if "p" in flags else _raw(w, h))
    return 0


def _raw(w: int, h: int) -> bytes:
    """``screencap`` raw format: width, height, format (1 = RGBA_8888) as u32le, then pixels."""
    return w.to_bytes(4, "little") + h.to_bytes(4, "little") + (1).to_bytes(4, "little") + b"\xf2\xf2\xf2\xff" * (w * h)


@command("uiautomator")
def _uiautomator(ctx: Ctx, argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "dump":
        opts = [a for a in argv[2:] if a.startswith("--")]
        paths = [a for a in argv[2:] if not a.startswith("--")]
        path = _abs(paths[0]) if paths else "/sdcard/window_dump.xml"
        if not ctx.state.fs.isdir(posixpath.dirname(path)):
            ctx.err(f"ERROR: could not write to {path}\n")
            return 1
        del opts
        ctx.state.fs.write(path, rsys.hierarchy_xml(ctx.state).encode())
        ctx.out(f"UI hierchary dumped to: {path}\n")
        return 0
    ctx.err("Usage: uiautomator <subcommand> [options]\n\nAvailable subcommands:\n\n"
            "help: displays help message\n\nruntest: executes UI automation tests\n\ndump: creates an XML dump of "
            "current UI hierarchy\n\nevents: prints out accessibility events until terminated\n")
    return 1


# -- logcat ----------------------------------------------------------------------------------------------------

_TIME_RE = re.compile(r"^(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?$")


def _parse_time(text: str, now: datetime) -> float | None:
    """``MM-DD HH:MM:SS[.mmm]`` in the device time zone (this year) → epoch seconds."""
    m = _TIME_RE.match(text.strip())
    if not m:
        return None
    mon, day, hh, mm, ss, ms = m.groups()
    try:
        when = now.replace(month=int(mon), day=int(day), hour=int(hh), minute=int(mm), second=int(ss),
                           microsecond=int(ms.ljust(3, "0")) * 1000 if ms else 0)
    except ValueError:
        return None
    return when.timestamp()


@command("logcat")
def _logcat(ctx: Ctx, argv: list[str]) -> int:
    """logcat [-d] [-c] [-b BUF]... [-t N|TIME] [-T N|TIME] [-v threadtime] [TAG:LEVEL ...].

    Always dumps and exits (as with -d): the virtual device has no live log to follow.
    """
    st = ctx.state
    buffers: list[str] = []
    count: int | None = None
    since: float | None = None
    clear = False
    specs: list[str] = []
    args = argv[1:]
    k = 0
    while k < len(args):
        a = args[k]
        nxt = args[k + 1] if k + 1 < len(args) else None
        if a in ("-d", "-D"):
            pass
        elif a == "-c":
            clear = True
        elif a in ("-b", "-t", "-T", "-v") or a.startswith(("-b", "-t", "-T", "-v")) and len(a) > 2:
            opt, val = (a[:2], a[2:]) if len(a) > 2 else (a, nxt)
            if len(a) == 2:
                k += 1
            if val is None:
                ctx.err(f"logcat: option requires an argument -- {opt[1]}\n")
                return 1
            if opt == "-b":
                for b in val.split(","):
                    if b == "all":
                        buffers += list(st.logcat)
                    elif b == "default":
                        buffers += ["main", "system", "crash"]
                    elif b in st.logcat:
                        buffers.append(b)
                    else:
                        ctx.err(f"unknown buffer {b}\n")
                        return 1
            elif opt in ("-t", "-T"):
                if val.isdigit():
                    count = int(val)
                else:
                    since = _parse_time(val, st.now())
                    if since is None:
                        ctx.err(f"logcat: -t \"{val}\" invalid time format (use MM-DD HH:MM:SS.mmm)\n")
                        return 1
            elif opt == "-v" and val not in ("threadtime", "time", "brief", "long", "color", "printable", "uid",
                                            "usec", "UTC", "year", "epoch", "monotonic"):
                ctx.err(f"logcat: Unknown format '{val}'\n")
                return 1
        elif a.startswith("-"):
            ctx.err(f"logcat: unknown option -- {a.lstrip('-')}\n")
            return 1
        else:
            specs.append(a)
        k += 1
    buffers = buffers or ["main", "system", "crash"]
    if clear:
        for b in buffers:
            st.logcat[b].clear()
        return 0
    selected = {b: [e for e in st.logcat[b] if (since is None or e.time >= since) and _spec_ok(e, specs)]
                for b in dict.fromkeys(buffers)}
    if count is not None:  # the last N lines over the selected buffers, in time order
        merged = sorted(((e.time, n, b) for b, es in selected.items() for n, e in enumerate(es)),
                        key=lambda t: (t[0], t[1]))
        kept = {(b, n) for _, n, b in (merged[-count:] if count else [])}
        selected = {b: [e for n, e in enumerate(es) if (b, n) in kept] for b, es in selected.items()}
    text = rsys.logcat_dump(selected, st.tz)
    ctx.out(text)
    return 0


_LEVELS = "VDIWEFS"


def _spec_ok(e: object, specs: list[str]) -> bool:
    if not specs:
        return True
    default = "V"
    for s in specs:
        tag, _, lvl = s.partition(":")
        if tag == "*":
            default = (lvl or "V").upper()
    for s in specs:
        tag, _, lvl = s.partition(":")
        if tag == e.tag:  # type: ignore[attr-defined]
            return _LEVELS.index(e.level) >= _LEVELS.index((lvl or "V").upper())  # type: ignore[attr-defined]
    return default != "S" and _LEVELS.index(e.level) >= _LEVELS.index(default)  # type: ignore[attr-defined]
