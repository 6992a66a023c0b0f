"""``am`` (start, start-activity, force-stop, kill, broadcast), ``monkey -p`` and the ``cmd`` dispatcher.

``am start [-W] [-S] [-a ACTION] [-c CATEGORY]... [-n] pkg/act``: prints ``Starting: Intent { .. }`` and, with
``-W``, the wait result (render/activity.py). A component that cannot be resolved (missing or disabled
package, unknown activity, ``launch.outcome: not_found``) prints ``Error type 3`` and
``Error: Activity class {pkg/pkg.Act} does not exist.`` on stderr; like AOSP ``runStartActivity`` the exit code
stays 0. Launch outcomes are applied by :meth:`virtual_device.state.DeviceState.launch`.
``start-activity`` exists from SDK 24 (before: ``Error: Unknown command: start-activity``).
``monkey -p PKG -c android.intent.category.LAUNCHER 1``: ``Events injected: 1`` and the network stats line, or
``** No activities found to run, monkey aborted.`` on stderr with exit 251 (Monkey returns -5). Monkey applies
the same launch outcome but does not print ``// CRASH:`` reports (the crash shows in logcat and the focus).
"""

from __future__ import annotations

from virtual_device.render import activity as ract
from virtual_device.shell.interp import SH, Ctx

COMMANDS: dict = {}

_FLAG_OPTS_WITH_ARG = {"-a", "-c", "-n", "-d", "-t", "-f", "-p", "--user", "--es", "--ei", "--ez", "--el", "--ef",
                       "--eu", "--esn", "--ecn", "--eia", "--ela", "--efa", "--esa", "-e", "--display",
                       "--windowingMode", "--activityType", "-P", "--start-profiler", "--sampling", "-R"}


def _start(ctx: Ctx, args: list[str]) -> int:
    wait = stop_first = False
    action: str | None = None
    categories: list[str] = []
    component: str | None = None
    package: str | None = None
    user = 0
    k = 0
    while k < len(args):
        a = args[k]
        nxt = args[k + 1] if k + 1 < len(args) else None
        if a == "-W":
            wait = True
        elif a == "-S":
            stop_first = True
        elif a in ("-D", "-N", "--activity-clear-top", "--activity-new-task", "--activity-single-top",
                   "--activity-clear-task", "--activity-no-history", "--activity-reorder-to-front",
                   "--track-allocation"):
            pass
        elif a in _FLAG_OPTS_WITH_ARG:
            if nxt is None:
                ctx.err(f"Error: Argument expected after \"{a}\"\n")
                return 255 if ctx.sdk >= 24 else 1
            if a == "-a":
                action = nxt
            elif a == "-c":
                categories.append(nxt)
            elif a == "-n":
                component = nxt
            elif a == "-p":
                package = nxt
            elif a == "--user":
                user = 0 if nxt in ("current", "cur") else int(nxt) if nxt.isdigit() else -99
            elif a in ("--es", "--ei", "--ez", "--el", "--ef", "--eu", "-e"):
                k += 1  # key and value
            k += 1
        elif a.startswith("-"):
            ctx.err(f"Error: Unknown option: {a}\n")
            return 255 if ctx.sdk >= 24 else 1
        else:
            if "/" in a:
                component = a
            else:
                package = a
        k += 1
    st = ctx.state
    if component is None:
        if package is not None:
            act = st.resolve_launcher(package, user)
            if act is not None and action in (None, "android.intent.action.MAIN"):
                component = f"{package}/{act}"
        if component is None:
            desc = " ".join(x for x in [f"act={action}" if action else "",
                                        f"cat=[{','.join(categories)}]" if categories else "",
                                        f"pkg={package}" if package else ""] if x)
            ctx.err(f"Error: Activity not started, unable to resolve Intent {{ {desc} flg=0x10000000 }}\n")
            return 0
    pkg_name, _, act = component.partition("/")
    if not act:
        ctx.err(f"Error: Bad component name: {component}\n")
        return 255 if ctx.sdk >= 24 else 1
    if act.startswith("."):
        act = pkg_name + act
    elif "." not in act:
        act = f"{pkg_name}.{act}"
    ctx.out(ract.starting_line(pkg_name, act, action, categories) + "\n")
    if stop_first:
        st.force_stop(pkg_name)
    result = st.launch(pkg_name, act, user)
    if result.status == "not_found":
        ctx.err(ract.am_start_not_found(pkg_name, act))
        return 0
    if wait:
        ctx.out(ract.am_start_wait(ctx.sdk, result))
    elif result.brought_to_front:
        ctx.out("Warning: Activity not started, its current task has been brought to the front\n")
    return 0


def am(ctx: Ctx, argv: list[str]) -> int:
    """``am <subcommand> ...``."""
    args = argv[1:]
    sdk = ctx.sdk
    if not args:
        ctx.err("usage: am [subcommand] [options]\n")
        return 1 if sdk < 24 else 255
    sub, rest = args[0], args[1:]
    if sub == "start" or (sub == "start-activity" and sdk >= 24):
        return _start(ctx, rest)
    if sub == "force-stop":
        names = [a for a in rest if not a.startswith("-")]
        if rest[:1] == ["--user"]:
            names = rest[2:]
        if len(names) != 1:
            ctx.err("Error: Argument expected after \"force-stop\"\n" if not names else "Error: too many arguments\n")
            return 255 if sdk >= 24 else 1
        ctx.state.force_stop(names[0])
        return 0
    if sub == "kill":
        names = [a for a in rest if not a.startswith("-")]
        if names and ctx.state.focus is not None and ctx.state.focus.package == names[-1]:
            return 0  # a foreground app is not killed by `am kill`
        if names:
            ctx.state.running.pop(names[-1], None)
            return 0
    if sub == "broadcast":
        action = rest[rest.index("-a") + 1] if "-a" in rest and rest.index("-a") + 1 < len(rest) else None
        ctx.out(f"Broadcasting: Intent {{ {'act=' + action + ' ' if action else ''}flg=0x400000 }}\n"
                "Broadcast completed: result=0\n")
        return 0
    if sub == "get-current-user" and sdk >= 24:
        ctx.out("0\n")
        return 0
    if sdk >= 24:
        ctx.err(f"Unknown command: {sub}\n")
        return 255
    ctx.err(f"Error: Unknown command: {sub}\n")
    return 1


def monkey(ctx: Ctx, argv: list[str]) -> int:
    """``monkey -p PKG [-c CATEGORY]... [-v] COUNT`` — launches the package's launcher activity once."""
    args = argv[1:]
    packages: list[str] = []
    k = 0
    count: int | None = None
    while k < len(args):
        a = args[k]
        if a == "-p" and k + 1 < len(args):
            packages.append(args[k + 1])
            k += 1
        elif a in ("-c", "-s", "--throttle", "--pct-syskeys", "--seed") and k + 1 < len(args):
            k += 1
        elif a in ("-v", "-vv", "-vvv", "--ignore-crashes", "--ignore-timeouts", "--kill-process-after-error"):
            pass
        elif a.isdigit():
            count = int(a)
        else:
            ctx.err(f"** Error: Unknown option: {a}\n")
            return 255
        k += 1
    if count is None:
        ctx.err("** Error: Count not specified\n")
        return 255
    st = ctx.state
    targets = [(p, st.resolve_launcher(p)) for p in packages]
    targets = [(p, a) for p, a in targets if a is not None]
    if not targets:
        ctx.err("** No activities found to run, monkey aborted.\n")
        return 251
    p, a = targets[0]
    result = st.launch(p, a)  # type: ignore[arg-type]
    if count >= 1:
        ctx.out("Events injected: 1\n")
    elapsed = (result.total_ms or 0) + 35
    ctx.out(f"## Network stats: elapsed time={elapsed}ms (0ms mobile, 0ms wifi, {elapsed}ms not connected)\n")
    return 0


def cmd(ctx: Ctx, argv: list[str]) -> int:
    """``cmd SERVICE ...`` (SDK >= 24): package → pm, activity → am, window → wm, settings."""
    if ctx.sdk < 24:
        ctx.err(f"{SH}: cmd: inaccessible or not found\n")
        return 127
    if len(argv) < 2:
        ctx.err("cmd: No service specified; use -l to list all services\n")
        return 20
    service = argv[1]
    from virtual_device.shell import builtins, pm

    if service == "package":
        return pm.pm(ctx, ["pm", *argv[2:]])
    if service == "activity":
        return am(ctx, ["am", *argv[2:]])
    if service == "window":
        return builtins.COMMANDS["wm"](ctx, ["wm", *argv[2:]])
    if service == "settings":
        return builtins.COMMANDS["settings"](ctx, ["settings", *argv[2:]])
    if service == "-l":
        ctx.out("Currently running services:\n  activity\n  package\n  settings\n  window\n")
        return 0
    ctx.err(f"cmd: Can't find service: {service}\n")
    return 20


COMMANDS.update({"am": am, "monkey": monkey, "cmd": cmd})
