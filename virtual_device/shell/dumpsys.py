"""``dumpsys`` services: package, window, activity, display, power, battery.

An unknown service prints ``Can't find service: <name>`` on stderr (exit 0 on every level we model, as
``cmds/dumpsys`` does for a missing service). ``dumpsys activity <pkg>`` for a package without a resumed
activity prints the three lines of corpus ``dumpsys-activity-pkg_no-activities-match_*``.

Options and the dump timeout follow AOSP ``frameworks/native/cmds/dumpsys/dumpsys.cpp``: from API 24 dumpsys reads
``-t SECONDS`` (and, from API 28 here, ``-T MILLISECONDS``; both in the Android 10 source, only ``-t`` in the 7.1
one) before the service name and copies the service's dump for at most that long (10 s by default). A service
whose dump takes longer (image ``behaviour.dumpsys_ms``) is cut: the part read so far, cut mid-line, then the
marker on its own line after an empty one and followed by one, as the sources print it:

* API 24-25: ``*** SERVICE DUMP TIMEOUT EXPIRED ***`` (7.x ``main()``);
* API 26-27: ``*** SERVICE 'package' DUMP TIMEOUT (10000ms) EXPIRED ***`` once (the ``class Dumpsys`` rewrite;
  that it came with O is an inference);
* API 28+: the same marker twice, once from ``Dumpsys::writeDump`` and once from ``Dumpsys::main`` (as in the
  Android 10+ sources read).

Below API 24 dumpsys has no options and no timeout: ``dumpsys -t 30 package`` asks for a service named ``-t``.
"""

from __future__ import annotations

from virtual_device.render import activity as ract
from virtual_device.render import package as rpkg
from virtual_device.render import system as rsys
from virtual_device.shell.interp import Ctx

COMMANDS: dict = {}


DEFAULT_TIMEOUT_MS = 10000
"""dumpsys' default dump timeout (``timeoutArgMs = 10000`` in the sources)."""


def timeout_marker(sdk: int, service: str, timeout_ms: int) -> str:
    """What dumpsys appends to a dump it cut at ``timeout_ms`` (module docstring), empty lines included."""
    if sdk < 26:
        return "\n*** SERVICE DUMP TIMEOUT EXPIRED ***\n\n"
    marker = f"\n*** SERVICE '{service}' DUMP TIMEOUT ({timeout_ms}ms) EXPIRED ***\n\n"
    return marker * (2 if sdk >= 28 else 1)


def dumpsys(ctx: Ctx, argv: list[str]) -> int:
    """``dumpsys [-t SECONDS | -T MS] [-l] SERVICE [ARGS]`` (options from API 24)."""
    args = argv[1:]
    timeout_ms = DEFAULT_TIMEOUT_MS
    while ctx.sdk >= 24 and args and args[0] in ("-t", "-T", "-l") and not (args[0] == "-T" and ctx.sdk < 28):
        if args[0] == "-l":
            args = []
            break
        if len(args) < 2 or not args[1].isdigit() or int(args[1]) <= 0:
            what = "seconds" if args[0] == "-t" else "milliseconds"
            ctx.err(f"Error: invalid timeout({what}) number: '{args[1] if len(args) > 1 else ''}'\n")
            return 255
        timeout_ms = int(args[1]) * (1000 if args[0] == "-t" else 1)
        args = args[2:]
    if not args or args[0] in ("-l",):
        ctx.out("Currently running services:\n  activity\n  battery\n  display\n  package\n  power\n  window\n")
        return 0
    dump_ms = ctx.state.image.behaviour.dumpsys_ms.get(args[0])
    if ctx.sdk < 24 or dump_ms is None or dump_ms <= timeout_ms:
        return _service(ctx, args)
    parts: list[bytes] = []
    sub = Ctx(ctx.state, ctx.stdin, ctx.env, parts.append, ctx._err)
    rc = _service(sub, args)
    text = b"".join(parts)
    ctx.out(text[: len(text) * timeout_ms // dump_ms])
    ctx.out(timeout_marker(ctx.sdk, args[0], timeout_ms))
    return rc


def _service(ctx: Ctx, args: list[str]) -> int:
    """Dump one service (``args[0]``) with its arguments."""
    st = ctx.state
    service, rest = args[0], args[1:]
    if service == "package":
        names = [a for a in rest if not a.startswith("-")]
        if not names:
            blocks = ["Packages:"]
            for pkg in st.packages.values():
                blocks += rpkg.package_block(st, pkg)
            hidden = [p for p in st.packages.values() if p.kind == "updated_system"]
            text = "\n".join(blocks) + "\n"
            if hidden:
                text += "\nHidden system packages:\n" + "".join(
                    "\n".join(rpkg.package_block(st, p, hidden=True)) + "\n" for p in hidden)
            ctx.out(text)
            return 0
        name = names[0]
        if name in ("packages", "p", "l", "libraries", "f", "features", "perm", "permissions"):
            name = names[1] if len(names) > 1 else ""
        ctx.out(rpkg.dumpsys_package(st, name) if name else "")
        return 0
    if service == "window":
        what = rest[0] if rest else "all"
        if what not in ("windows", "w", "displays", "d", "-a", "a", "all"):
            ctx.out(f"Unknown window dump: {what}\n" if ctx.sdk >= 24 else "")
            return 0
        ctx.out(ract.dumpsys_window(st, what))
        return 0
    if service == "activity":
        what = rest[0] if rest else "activities"
        if what in ("activities", "a"):
            ctx.out(ract.dumpsys_activity_activities(st))
        elif what == "top":
            ctx.out(ract.dumpsys_activity_top(st))
        elif st.focus is not None and what == st.focus.package:
            ctx.out(ract.dumpsys_activity_top(st))
        else:
            ctx.out(f"Unknown command: {what}\nBad activity command, or no activities match: {what}\n"
                    "Use -h for help.\n")
        return 0
    if service == "display":
        ctx.out(rsys.dumpsys_display(st))
        return 0
    if service == "power":
        ctx.out(rsys.dumpsys_power(st))
        return 0
    if service == "battery":
        ctx.out("Current Battery Service state:\n  AC powered: false\n  USB powered: true\n  Wireless powered: false\n"
                "  Max charging current: 500000\n  status: 2\n  health: 2\n  present: true\n  level: 87\n  scale: 100\n"
                "  voltage: 4215\n  temperature: 298\n  technology: Li-poly\n")
        return 0
    ctx.err(f"Can't find service: {service}\n")
    return 0


COMMANDS["dumpsys"] = dumpsys
