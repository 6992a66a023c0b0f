"""Package manager output formats per Android version: ``pm list packages``, ``pm path``, ``pm list users``,
``dumpsys package <pkg>``, ``cmd package resolve-activity --brief``.

Real samples imitated (``/work/shared/corpus/samples``; copies in ``tests/fixtures/corpus``):

* ``dumpsys package`` package block: SDK <= 22 ``dumpsys-package-packages-section_android5-era_wahoo-elemnt_*``
  (``userId=N gids=[..]``, no minSdk, ``permissionsFixed=true haveGids=true installStatus=1``, double space in
  ``User 0:  installed=``); SDK 29 ``dumpsys-package-packages-section_android10_samsung_system-apps.txt``
  (``ceDataInode``, ``instant``/``virtual``, ``signatures=PackageSignatures{h version:2, signatures:[..], past
  signatures:[]}``); SDK >= 30 adds ``distractionFlags`` (``..._android11_pixel_*``); ``Hidden system packages:``
  after ``Packages:`` for an updated system app (``dumpsys-package_wearos_updated-vendor-app_*``). SDK 23-28 follow
  AOSP ``PackageManagerService.dumpPackageLPr`` of those releases (N added minSdk, ceDataInode, suspended,
  apkSigningVersion, Dexopt/Compiler sections; O added instant; P added virtual and the v2 signature format).
* Missing package: ``Unable to find package: <pkg>`` on SDK >= 26 (``dumpsys-package_not-installed_*``); older
  releases print only the sections that are always printed: ``App verification status:`` / ``App linkages for
  user N:`` (app links, M..Q; also printed for found packages, after the resolver tables) and, on N,
  ``Dexopt state:`` / ``Compiler stats:`` each with ``  Unable to find package: <pkg>`` (AOSP N
  ``dumpDexoptStateLPr``). Lollipop prints nothing.
* ``pm list packages``: ``package:[<apk>=]<pkg>[ versionCode:N][  installer=X][ uid:U]``
  (``pm-list-packages-f_android7-8_genymotion_excerpt.txt``, ``pm-list-packages-show-versioncode_android9_*``;
  order as AOSP ``PackageManagerShellCommand.runListPackages``).
* ``pm path``: one ``package:<apk>`` per line, base first (``pm-path_split-apks_android7-9_*``).
* ``pm list users``: ``Users:`` then ``\\tUserInfo{id:name:flags} running`` (``pm-list-users_samsung_*``; the
  post shows the tab as spaces, AOSP ``runListUsers`` prints ``\\t``).
"""

from __future__ import annotations

from virtual_device.image import Package
from virtual_device.state import DeviceState, short_hash

SYSTEM_TIME = "2009-01-01 08:00:00"


def _flags(pkg: Package, hidden: bool) -> str:
    names = []
    if pkg.is_system:
        names.append("SYSTEM")
    names += ["HAS_CODE", "ALLOW_CLEAR_USER_DATA"]
    if pkg.kind == "updated_system" and not hidden:
        names.append("UPDATED_SYSTEM_APP")
    names.append("ALLOW_BACKUP")
    return "[ " + " ".join(names) + " ]"


def _private_flags(pkg: Package, sdk: int) -> str:
    names = []
    if sdk >= 26:
        names.append("PRIVATE_FLAG_ACTIVITIES_RESIZE_MODE_RESIZEABLE_VIA_SDK_VERSION")
    if sdk >= 29:
        names.append("ALLOW_AUDIO_PLAYBACK_CAPTURE")
    if pkg.privileged and pkg.is_system:
        names.append("PRIVILEGED")
    return "[ " + " ".join(names) + (" ]" if names else "]")


def _times(pkg: Package, hidden: bool) -> tuple[str, str, str]:
    """(timeStamp, firstInstallTime, lastUpdateTime) — factory images carry the build epoch."""
    if hidden or pkg.kind == "system" or pkg.code_path.startswith("/system/"):
        return SYSTEM_TIME, SYSTEM_TIME, SYSTEM_TIME
    first = "2009-01-01 08:00:00" if pkg.kind == "updated_system" else "2017-03-01 10:12:33"
    last = "2017-06-20 14:02:11"
    return last, first, last


def package_block(state: DeviceState, pkg: Package, *, hidden: bool = False) -> list[str]:
    """Lines of one ``  Package [name] (hash):`` block for ``state.sdk``; ``hidden`` renders the factory copy
    of an updated system app (``Hidden system packages:``)."""
    sdk = state.sdk
    i = "    "
    if hidden:
        assert pkg.factory is not None
        vname, vcode, apk = pkg.factory.version_name, pkg.factory.version_code, pkg.factory.code_path
    else:
        vname, vcode, apk = pkg.version_name, pkg.version_code, pkg.code_path
    code_dir = apk.rsplit("/", 1)[0]
    if code_dir in ("/system/framework", "/system/app", "/system/priv-app", "/data/app"):
        code_dir = apk
    uid = state.uid_of(pkg)
    h_setting = short_hash(pkg.package, "setting", hidden)
    h_pkg = short_hash(pkg.package, "pkg", hidden)
    abi = state.props.get("ro.product.cpu.abi", "armeabi-v7a")
    out = [f"  Package [{pkg.package}] ({h_setting}):"]
    out.append(f"{i}userId={uid} gids=[3003]" if sdk <= 22 else f"{i}userId={uid}")
    if uid == 1000:
        out.append(f"{i}sharedUser=SharedUserSetting{{{short_hash('uid.system')} android.uid.system/1000}}")
    out += [f"{i}pkg=Package{{{h_pkg} {pkg.package}}}",
            f"{i}codePath={code_dir}",
            f"{i}resourcePath={code_dir}",
            f"{i}legacyNativeLibraryDir={code_dir}/lib",
            f"{i}primaryCpuAbi={abi if pkg.package != 'android' else 'null'}",
            f"{i}secondaryCpuAbi=null"]
    if sdk >= 24:
        out.append(f"{i}versionCode={vcode} minSdk={pkg.min_sdk} targetSdk={pkg.target_sdk}")
    else:
        out.append(f"{i}versionCode={vcode} targetSdk={pkg.target_sdk}")
    out.append(f"{i}versionName={'null' if vname is None else vname}")  # AOSP pw.println(null) -> "null"
    splits = ["base"] + ([] if hidden else list(pkg.splits))
    out.append(f"{i}splits=[{', '.join(splits)}]")
    if sdk >= 24:
        out.append(f"{i}apkSigningVersion={2 if sdk >= 26 else 1}")
    out.append(f"{i}applicationInfo=ApplicationInfo{{{h_pkg} {pkg.package}}}")
    out.append(f"{i}flags={_flags(pkg, hidden)}")
    if sdk >= 23:
        out.append(f"{i}privateFlags={_private_flags(pkg, sdk)}")
    out.append(f"{i}dataDir=/data/user/0/{pkg.package}" if sdk >= 24 else f"{i}dataDir=/data/data/{pkg.package}")
    out.append(f"{i}supportsScreens=[small, medium, large, xlarge, resizeable, anyDensity]")
    ts, first, last = _times(pkg, hidden)
    out += [f"{i}timeStamp={ts}", f"{i}firstInstallTime={first}", f"{i}lastUpdateTime={last}"]
    if pkg.installer and not hidden:
        out.append(f"{i}installerPackageName={pkg.installer}")
    sig = short_hash(pkg.package, "signature", n=8)
    h_sigs = short_hash(pkg.package, "sigs", hidden)
    if sdk >= 28:
        out.append(f"{i}signatures=PackageSignatures{{{h_sigs} version:2, signatures:[{sig}], past signatures:[]}}")
    else:
        out.append(f"{i}signatures=PackageSignatures{{{h_sigs} [{sig}]}}")
    if sdk <= 22:
        out.append(f"{i}permissionsFixed=true haveGids=true installStatus=1")
    elif sdk <= 27:
        out.append(f"{i}installPermissionsFixed=true installStatus=1")
    else:
        out.append(f"{i}installPermissionsFixed=true")
    out.append(f"{i}pkgFlags={_flags(pkg, hidden)}")
    if sdk >= 23:
        out += [f"{i}install permissions:", f"{i}  android.permission.INTERNET: granted=true",
                f"{i}  android.permission.ACCESS_NETWORK_STATE: granted=true"]
    for user in state.user_ids():
        st = pkg.user_state(user)
        assert st is not None
        installed = "true" if st.installed else "false"
        if sdk <= 23:
            line = (f"{i}User {user}:  installed={installed} hidden=false stopped=false notLaunched=false "
                    f"enabled={st.enabled}")
        else:
            inode = int(short_hash(pkg.package, user, n=5), 16) % 90000 + 1000 if st.installed else 0
            line = f"{i}User {user}: ceDataInode={inode} installed={installed} hidden=false suspended=false"
            if sdk >= 30:
                line += " distractionFlags=0"
            line += f" stopped=false notLaunched=false enabled={st.enabled}"
            if sdk >= 26:
                line += " instant=false"
            if sdk >= 28:
                line += " virtual=false"
        out.append(line)
        if st.enabled in (2, 3, 4) and not hidden:
            out.append(f"{i}  lastDisabledCaller: com.android.shell")
    if sdk <= 22:
        out += [f"{i}grantedPermissions:", f"{i}  android.permission.INTERNET"]
    return out


def dumpsys_package(state: DeviceState, name: str) -> str:
    """Full ``dumpsys package <name>`` text for ``state.sdk`` (sections separated by one blank line)."""
    pkg = state.package(name)
    sdk = state.sdk
    if pkg is None and sdk >= 26:
        return f"Unable to find package: {name}\n"
    sections: list[list[str]] = []
    if 23 <= sdk <= 29:  # app links (M..Q): printed for every `dumpsys package <pkg>`, no autoVerify filters here
        sections.append(["App verification status:", "", "  No app verification established."])
        for user in state.user_ids():
            sections.append([f"App linkages for user {user}:", "", "  No configured app linkages."])
    if pkg is None:
        if sdk >= 24:  # N: dumpDexoptStateLPr / dumpCompilerStatsLPr report the unknown package
            sections.append(["Dexopt state:", f"  Unable to find package: {name}"])
            sections.append(["Compiler stats:", f"  Unable to find package: {name}"])
        return "\n\n".join("\n".join(s) for s in sections) + "\n" if sections else ""
    if pkg.launcher_activity and pkg.launch.outcome != "not_found":
        act = pkg.launcher_activity
        short = act[len(pkg.package):] if act.startswith(pkg.package + ".") else act
        res = ["Activity Resolver Table:", "  Non-Data Actions:", "      android.intent.action.MAIN:",
               f"        {short_hash(pkg.package, 'act')} {pkg.package}/{short} "
               f"filter {short_hash(pkg.package, 'flt')}"]
        if sdk >= 24:
            res += ['          Action: "android.intent.action.MAIN"',
                    '          Category: "android.intent.category.LAUNCHER"']
        sections.append(res)
    if sections and sections[0][0] == "App verification status:":
        sections = sections[len(state.user_ids()) + 1:] + sections[:len(state.user_ids()) + 1]
    sections.append(["Key Set Manager:", f"  [{pkg.package}]",
                     f"      Signing KeySets: {int(short_hash(pkg.package, 'ks', n=2), 16) % 60 + 1}"])
    sections.append(["Packages:"] + package_block(state, pkg))
    if pkg.kind == "updated_system" and pkg.factory is not None:
        sections.append(["Hidden system packages:"] + package_block(state, pkg, hidden=True))
    if sdk >= 24:
        dex = ["Dexopt state:", f"  [{pkg.package}]"]
        for apk in pkg.apk_paths()[:1]:
            dex += [f"    path: {apk}",
                    "      arm: [status=speed-profile] [reason=install]" if sdk >= 28 else "      arm: speed-profile"]
        sections.append(dex)
        sections.append(["Compiler stats:", f"  [{pkg.package}]",
                         f"     {pkg.code_path.rsplit('/', 1)[-1]} - {int(short_hash(pkg.package, 'cs', n=4), 16)}"])
    return "\n\n".join("\n".join(s) for s in sections) + "\n"


def pm_list_line(state: DeviceState, pkg: Package, *, show_path: bool, show_versioncode: bool,
                 show_installer: bool, show_uid: bool) -> str:
    """One ``pm list packages`` line (AOSP runListPackages field order)."""
    line = "package:"
    if show_path:
        line += pkg.code_path + "="
    line += pkg.package
    if show_versioncode:
        line += f" versionCode:{pkg.version_code}"
    if show_installer:
        line += f"  installer={pkg.installer or 'null'}"
    if show_uid:
        line += f" uid:{state.uid_of(pkg)}"
    return line


def pm_list_users(state: DeviceState) -> str:
    """``pm list users``: ``Users:`` + ``\\tUserInfo{id:name:flags} running`` (flags in hex)."""
    lines = ["Users:"] + [f"\tUserInfo{{{u.id}:{u.name}:{u.flags:x}}} running" for u in state.users]
    return "\n".join(lines) + "\n"


def resolve_activity_brief(state: DeviceState, pkg_name: str, activity: str) -> str:
    """``cmd package resolve-activity --brief``: the ResolveInfo summary line then the short component
    (AOSP PackageManagerShellCommand.printResolveInfo with brief=true)."""
    short = activity[len(pkg_name):] if activity.startswith(pkg_name + ".") else activity
    return (f"priority=0 preferredOrder=0 match=0x108000 specificIndex=-1 isDefault=true\n"
            f"{pkg_name}/{short}\n")
