"""``dumpsys`` services: package, window, activity, display, power, battery.

An unknown service prints ``Can't find service: <name>`` on stderr (exit 0 on every level we model, as
``cmds/dumpsys`` does for a missing service). ``dumpsys activity <pkg>`` for a package without a resumed
activity prints the three lines of corpus ``dumpsys-activity-pkg_no-activities-match_*``.
"""

from __future__ import annotations

from virtual_device.render import activity as ract
from virtual_device.render import package as rpkg
from virtual_device.render import system as rsys
from virtual_device.shell.interp import Ctx

COMMANDS: dict = {}


def dumpsys(ctx: Ctx, argv: list[str]) -> int:
    """``dumpsys SERVICE [ARGS]``."""
    args = argv[1:]
    st = ctx.state
    if not args or args[0] in ("-l",):
        ctx.out("Currently running services:\n  activity\n  battery\n  display\n  package\n  power\n  window\n")
        return 0
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
