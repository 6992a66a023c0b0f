"""``pm`` and ``cmd package``: list packages/users, path, resolve-activity, enable/disable, clear, uninstall.

Version behaviour:

* SDK >= 24: ``pm`` is a wrapper of ``cmd package`` (PackageManagerShellCommand); an unknown option prints
  ``Error: Unknown option: <opt>`` on **stdout** and exits 255 (``return -1``); an unknown subcommand prints
  ``Unknown command: <cmd>`` on stderr, exit 255.
* SDK <= 23: ``pm`` is ``Pm.java``; an unknown option prints ``Error: Unknown option: <opt>`` on **stderr**
  and exits 1; ``cmd`` does not exist (``/system/bin/sh: cmd: inaccessible or not found``, 127).
* Options by level: ``-f -d -e -s -3 -i -u --user N`` always; ``-U`` from 24 (mvt-project/mvt #211);
  ``--show-versioncode`` from 28 (appium-adb); ``--apex-only`` from 29 (no APEX packages here → empty).
* ``pm path``: base then splits, nothing and exit 1 when missing or not installed for the user.
* ``cmd package resolve-activity --brief [-c CAT] [-a ACT] <pkg>`` (24+): two lines, or ``No activity found``.
"""

from __future__ import annotations

import zlib

from virtual_device.render import package as rpkg
from virtual_device.shell.interp import Ctx

COMMANDS: dict = {}


def _opt_error(ctx: Ctx, opt: str) -> int:
    if ctx.sdk >= 24:
        ctx.out(f"Error: Unknown option: {opt}\n")
        return 255
    ctx.err(f"Error: Unknown option: {opt}\n")
    return 1


def _parse_user(ctx: Ctx, value: str | None) -> int | None:
    if value is None:
        ctx.err("Error: no user id specified\n" if ctx.sdk < 24 else "Error: Argument expected after \"--user\"\n")
        return None
    if value in ("current", "cur"):
        return 0
    if value == "all":
        return -1
    if value.lstrip("-").isdigit():
        return int(value)
    ctx.err(f"Error: Bad user number: {value}\n")
    return None


def _order_key(name: str) -> int:
    """Listing order: PackageManager returns a hash-map order, not sorted; keep it stable per name."""
    return zlib.crc32(name.encode())


def list_packages(ctx: Ctx, args: list[str]) -> int:
    """``pm list packages [options] [FILTER]``."""
    sdk = ctx.sdk
    show_path = show_uid = show_vc = show_inst = False
    only_sys = only_3p = only_dis = only_en = with_uninstalled = apex_only = False
    user = 0
    filt: str | None = None
    k = 0
    while k < len(args):
        a = args[k]
        if a.startswith("-") and filt is None:
            if a == "-f":
                show_path = True
            elif a == "-d":
                only_dis = True
            elif a == "-e":
                only_en = True
            elif a == "-s":
                only_sys = True
            elif a == "-3":
                only_3p = True
            elif a == "-i":
                show_inst = True
            elif a == "-u":
                with_uninstalled = True
            elif a == "-l":
                pass
            elif a == "-U" and sdk >= 24:
                show_uid = True
            elif a == "--show-versioncode" and sdk >= 28:
                show_vc = True
            elif a == "--apex-only" and sdk >= 29:
                apex_only = True
            elif a == "--user":
                u = _parse_user(ctx, args[k + 1] if k + 1 < len(args) else None)
                if u is None:
                    return 255 if sdk >= 24 else 1
                user = u
                k += 1
            else:
                return _opt_error(ctx, a)
        else:
            filt = a
        k += 1
    st = ctx.state
    if apex_only or user not in st.user_ids():
        return 0
    lines = []
    for pkg in sorted(st.packages.values(), key=lambda p: _order_key(p.package)):
        if filt is not None and filt not in pkg.package:
            continue
        if not st.installed_for(pkg, user) and not with_uninstalled:
            continue
        enabled = st.enabled_for(pkg, user)
        if (only_dis and enabled) or (only_en and not enabled):
            continue
        if (only_sys and not pkg.is_system) or (only_3p and pkg.is_system):
            continue
        lines.append(rpkg.pm_list_line(st, pkg, show_path=show_path, show_versioncode=show_vc,
                                       show_installer=show_inst, show_uid=show_uid))
    ctx.out("".join(line + "\n" for line in lines))
    return 0


def pm_path(ctx: Ctx, args: list[str]) -> int:
    """``pm path [--user N] PKG``."""
    user = 0
    if args[:1] == ["--user"]:
        u = _parse_user(ctx, args[1] if len(args) > 1 else None)
        if u is None:
            return 255 if ctx.sdk >= 24 else 1
        user, args = u, args[2:]
    if len(args) != 1:
        if args and args[0].startswith("-"):
            return _opt_error(ctx, args[0])
        ctx.err("Error: package name not specified\n" if not args else "Error: too many arguments\n")
        return 255 if ctx.sdk >= 24 else 1
    pkg = ctx.state.package(args[0])
    if pkg is None or not ctx.state.installed_for(pkg, user):
        return 1
    ctx.out("".join(f"package:{p}\n" for p in pkg.apk_paths()))
    return 0


def resolve_activity(ctx: Ctx, args: list[str]) -> int:
    """``cmd package resolve-activity [--brief|--components] [--user N] [-a ACTION] [-c CAT]... <pkg|comp>``."""
    brief = False
    user = 0
    categories: list[str] = []
    action: str | None = None
    target: str | None = None
    k = 0
    while k < len(args):
        a = args[k]
        nxt = args[k + 1] if k + 1 < len(args) else None
        if a in ("--brief", "--components"):
            brief = True
        elif a == "--user":
            u = _parse_user(ctx, nxt)
            if u is None:
                return 255
            user, k = u, k + 1
        elif a in ("-c", "-a", "-p") and nxt is not None:
            if a == "-c":
                categories.append(nxt)
            elif a == "-a":
                action = nxt
            else:
                target = nxt
            k += 1
        elif a.startswith("-"):
            ctx.err(f"Error: Unknown option: {a}\n")
            return 255
        else:
            target = a
        k += 1
    st = ctx.state
    if target is None:
        ctx.out("No activity found\n")
        return 0
    pkg_name = target.split("/", 1)[0]
    activity = st.resolve_launcher(pkg_name, user)
    ok_intent = (action in (None, "android.intent.action.MAIN")
                 and all(c in ("android.intent.category.LAUNCHER", "android.intent.category.DEFAULT")
                         for c in categories))
    if "/" in target:
        comp_act = target.split("/", 1)[1]
        if comp_act.startswith("."):
            comp_act = pkg_name + comp_act
        if comp_act != activity:
            activity = None
    if activity is None or not ok_intent:
        ctx.out("No activity found\n")
        return 0
    if brief:
        ctx.out(rpkg.resolve_activity_brief(st, pkg_name, activity))
    else:
        ctx.out(f"Activity:\n  name={activity}\n  packageName={pkg_name}\n  enabled=true exported=true\n"
                f"priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=true\n")
    return 0


def _set_enabled(ctx: Ctx, args: list[str], state: int, label: str) -> int:
    user = 0
    if args[:1] == ["--user"]:
        u = _parse_user(ctx, args[1] if len(args) > 1 else None)
        if u is None:
            return 255
        user, args = u, args[2:]
    if len(args) != 1:
        ctx.err("Error: no package or component specified\n")
        return 255 if ctx.sdk >= 24 else 1
    st = ctx.state
    pkg = st.package(args[0])
    if pkg is None:
        msg = f"Unknown package: {args[0]}"
        ctx.err(f"Exception occurred while executing:\njava.lang.IllegalArgumentException: {msg}\n"
                if ctx.sdk >= 24 else f"Error: java.lang.IllegalArgumentException: {msg}\n")
        return 255 if ctx.sdk >= 24 else 1
    users = dict(pkg.users)
    cur = pkg.user_state(user)
    assert cur is not None
    users[user] = cur.model_copy(update={"enabled": state})
    st.packages[pkg.package] = pkg.model_copy(update={"users": users})
    ctx.out(f"Package {pkg.package} new state: {label}\n")
    return 0


def pm(ctx: Ctx, argv: list[str], via_cmd: bool = False) -> int:
    """Entry point of ``pm`` (and ``cmd package``)."""
    args = argv[1:]
    sdk = ctx.sdk
    if not args:
        ctx.err("usage: pm path [--user USER_ID] PACKAGE\n       pm list packages [-f] [-d] [-e] [-s] [-3] [-i] "
                "[-u] [--user USER_ID] [FILTER]\n")
        return 1 if sdk < 24 else 255
    sub, rest = args[0], args[1:]
    if sub == "list":
        what = rest[0] if rest else ""
        if what in ("packages", "package"):
            return list_packages(ctx, rest[1:])
        if what == "users":
            ctx.out(rpkg.pm_list_users(ctx.state))
            return 0
        if what in ("features",):
            ctx.out("feature:android.hardware.touchscreen\nfeature:android.hardware.wifi\n")
            return 0
        ctx.err(f"Error: unknown list type '{what}'\n")
        return 255 if sdk >= 24 else 1
    if sub == "path":
        return pm_path(ctx, rest)
    if sub == "resolve-activity" and sdk >= 24:
        return resolve_activity(ctx, rest)
    if sub in ("disable-user", "disable", "enable", "default-state", "disable-until-used"):
        target = {"disable-user": (3, "disabled-user"), "disable": (2, "disabled"), "enable": (1, "enabled"),
                  "default-state": (0, "default"), "disable-until-used": (4, "disabled-until-used")}[sub]
        return _set_enabled(ctx, rest, *target)
    if sub == "clear":
        pkg = ctx.state.package(rest[-1]) if rest else None
        if pkg is None:
            ctx.out("Failed\n")
            return 255 if sdk >= 24 else 1
        ctx.state.force_stop(pkg.package)
        ctx.out("Success\n")
        return 0
    if sub == "uninstall":
        names = [a for a in rest if not a.startswith("-") and not a.isdigit()]
        pkg = ctx.state.package(names[-1]) if names else None
        if pkg is None or pkg.kind == "system":
            ctx.out("Failure [DELETE_FAILED_INTERNAL_ERROR]\n")
            return 255 if sdk >= 24 else 1
        users = {u: (pkg.user_state(u) or pkg.users.get(u)).model_copy(update={"installed": False})  # type: ignore[union-attr]
                 for u in ctx.state.user_ids()}
        ctx.state.force_stop(pkg.package)
        ctx.state.packages[pkg.package] = pkg.model_copy(update={"users": users})
        ctx.out("Success\n")
        return 0
    if sub in ("install", "install-create", "install-write", "install-commit"):
        ctx.out("Failure [INSTALL_FAILED_INVALID_APK: the virtual device cannot install packages]\n")
        return 1 if sdk < 24 else 255
    if sub == "dump" and rest:
        from virtual_device.render.package import dumpsys_package

        ctx.out(dumpsys_package(ctx.state, rest[0]))
        return 0
    ctx.err(f"Unknown command: {sub}\n" if sdk >= 24 else f"Error: unknown command '{sub}'\n")
    return 255 if sdk >= 24 else 1


COMMANDS["pm"] = pm
