"""Mutable state of one virtual device, built from an :class:`~virtual_device.image.Image`.

:class:`DeviceState` is what the shell commands read and change: props, packages (the image's plus a MIUI
platform base set), the in-memory file system (APK files at their code paths, so ``ls``/``md5sum``/``cat``
work), the foreground focus, running processes, settings and logcat buffers. Every change happens under
``state.lock`` (an RLock): the transport's asyncio thread and a test thread may both touch it.

Launch model (``launch()``, used by ``am start``, ``am start-activity``, ``monkey``), by the package's
``launch.outcome``:

* ``ok``: the process starts (pid), the activity is resumed and its window focused. A second start while the
  process runs is a HOT start ("brought to the front").
* ``crash``: the process starts and dies: ``FATAL EXCEPTION`` in the ``crash`` buffer (threadtime format, as
  corpus ``logcat-crash_android14_emulator_fatal-exception-npe_*.txt``), the launcher is resumed again and the
  focused window is the dialog ``Application Error: <pkg>``.
* ``anr``: the process runs, its activity is resumed, ``ANR in <pkg>`` is logged by ActivityManager in the
  ``system`` buffer (corpus ``logcat-anr_android14plus_*``) and the focused window is
  ``Application Not Responding: <pkg>``.
* ``no_window``: the process runs and the activity is resumed, but no window gets focus
  (``mCurrentFocus=null``); ``am start -W`` reports ``Status: timeout``.
* ``not_found``: the launcher activity does not exist (``Error type 3``, ``No activity found``).
* ``overlay``: the process runs, its activity is resumed and is the focused app (``mFocusedApp``), but the
  launcher keeps input focus with a window over it (``mCurrentFocus`` is the launcher's window), as Android 4.4
  head units with an always-on-top launcher overlay show it; ``am start -W`` reports ``Status: ok``.

``cold_start_ms`` is reported as TotalTime; nothing sleeps (issue 4 decides about holding).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from virtual_device.fs import MemFS
from virtual_device.image import Image, Launch, Package, UserState

#: Features advertised in the CNXN banner (adb-transport.md §1.8: only what is implemented).
FEATURES = "shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,apex,fixed_push_symlink_timestamp,remount_shell,track_app"

#: A device-side TCP service (see virtual_device/transport.py for the protocol); keyed by port.
TcpServiceFactory = Callable[..., Any]

LOG_BUFFERS = ("main", "system", "crash", "events", "radio")


@dataclass(frozen=True)
class Focus:
    """What is in front.

    ``package``/``activity``: the resumed activity (fully qualified class), as ``mResumedActivity`` /
    ``mFocusedApp`` show it. ``window``: the title of the focused window (``mCurrentFocus``): ``pkg/activity``
    for an activity window, ``Application Error: pkg`` for a crash dialog, None when no window has focus.
    """

    package: str
    activity: str
    window: str | None

    @property
    def component(self) -> str:
        """``pkg/fully.qualified.Activity``."""
        return f"{self.package}/{self.activity}"


@dataclass
class LogEntry:
    """One logcat line: wall-clock ``time`` (epoch seconds), ``pid``, ``tid``, ``level`` (V/D/I/W/E/F), ``tag``,
    ``message`` (one line)."""

    time: float
    pid: int
    tid: int
    level: str
    tag: str
    message: str


@dataclass
class LaunchResult:
    """Outcome of :meth:`DeviceState.launch` for the renderers (``am start -W`` fields).

    ``status``: ``ok`` | ``timeout`` | ``not_found``; ``launch_state``: ``COLD`` | ``WARM`` | ``HOT`` | None;
    ``reported``: component reported as ``Activity:``; ``total_ms``/``wait_ms``: TotalTime/WaitTime in ms;
    ``brought_to_front``: prints the "its current task has been brought to the front" warning.
    """

    status: str
    launch_state: str | None = None
    reported: str | None = None
    total_ms: int | None = None
    wait_ms: int = 0
    brought_to_front: bool = False


def short_hash(*parts: object, n: int = 7) -> str:
    """Deterministic hex id (like ``Package{5be8c47 ...}`` identity hashes) from ``parts``."""
    return hashlib.md5("|".join(str(p) for p in parts).encode()).hexdigest()[:n].lstrip("0") or "1"


# -- the platform base set -------------------------------------------------------------------------------------
# (package, apk path, version_name, launcher activity or None, uid or None, privileged)
_BASE: list[tuple[str, str, str | None, str | None, int | None, bool]] = [
    ("android", "/system/framework/framework-res.apk", None, None, 1000, True),
    ("com.android.settings", "/system/priv-app/Settings/Settings.apk", None, "com.android.settings.Settings",
     1000, True),
    ("com.android.systemui", "/system/priv-app/MiuiSystemUI/MiuiSystemUI.apk", None, None, 10020, True),
    ("com.miui.home", "/system/priv-app/MiuiHome/MiuiHome.apk", "4.18.2", "com.miui.home.launcher.Launcher",
     10025, True),
    ("com.android.phone", "/system/priv-app/TeleService/TeleService.apk", None, None, 1001, True),
    ("com.android.providers.settings", "/system/priv-app/SettingsProvider/SettingsProvider.apk", None, None,
     1000, True),
    ("com.android.providers.media", "/system/priv-app/MediaProvider/MediaProvider.apk", None, None, 10010, True),
    ("com.android.providers.contacts", "/system/priv-app/ContactsProvider/ContactsProvider.apk", None, None,
     10001, True),
    ("com.android.providers.downloads", "/system/priv-app/DownloadProvider/DownloadProvider.apk", None, None,
     10010, True),
    ("com.android.shell", "/system/priv-app/Shell/Shell.apk", None, None, 2000, True),
    ("com.android.packageinstaller", "/system/priv-app/PackageInstaller/PackageInstaller.apk", None, None,
     10011, True),
    ("com.android.contacts", "/system/priv-app/Contacts/Contacts.apk", "7.2.0",
     "com.android.contacts.activities.PeopleActivity",
     10001, True),
    ("com.android.mms", "/system/priv-app/Mms/Mms.apk", "7.2.13", "com.android.mms.ui.MmsTabActivity", 10013,
     True),
    ("com.android.camera", "/system/priv-app/MiuiCamera/MiuiCamera.apk", "2.0.1", "com.android.camera.Camera",
     10034, True),
    ("com.miui.gallery", "/system/priv-app/MiuiGallery/MiuiGallery.apk", "1.8.5",
     "com.miui.gallery.activity.HomePageActivity",
     10035, True),
    ("com.miui.securitycenter", "/system/priv-app/SecurityCenter/SecurityCenter.apk", "2.1.0",
     "com.miui.securityscan.MainActivity", 1000, True),
    ("com.android.keychain", "/system/app/KeyChain/KeyChain.apk", None, None, 1000, False),
    ("com.android.bluetooth", "/system/app/Bluetooth/Bluetooth.apk", None, None, 1002, False),
    ("com.android.externalstorage", "/system/priv-app/ExternalStorageProvider/ExternalStorageProvider.apk", None,
     None, 10009, True),
    ("com.android.webview", "/system/app/webview/webview.apk", "51.0.2704.81", None, 10051, False),
    ("com.android.deskclock", "/system/app/DeskClock/DeskClock.apk", "8.1.0",
     "com.android.deskclock.DeskClockTabActivity",
     10042, False),
    ("com.miui.calculator", "/system/app/Calculator/Calculator.apk", "10.0.4",
     "com.miui.calculator.cal.CalculatorActivity",
     10043, False),
    ("com.android.browser", "/system/priv-app/Browser/Browser.apk", "8.5.6", "com.android.browser.BrowserActivity",
     10044, True),
    ("com.xiaomi.market", "/system/app/MiuiAppStore/MiuiAppStore.apk", "1.9.1",
     "com.xiaomi.market.ui.MarketTabActivity",
     10045, False),
]


_BASE_LABELS = {"com.android.settings": "Settings", "com.android.contacts": "Phone", "com.android.mms": "Messages",
                "com.android.camera": "Camera", "com.miui.gallery": "Gallery", "com.miui.securitycenter": "Security",
                "com.android.deskclock": "Clock", "com.miui.calculator": "Calculator", "com.android.browser": "Browser",
                "com.xiaomi.market": "App Store"}
"""Launcher labels of the launchable base apps (MIUI 8 English names)."""


def base_packages(image: Image) -> list[Package]:
    """Platform packages of a MIUI phone for ``image`` (version = release / sdk unless a MIUI app version)."""
    release = image.props.get("ro.build.version.release", "")
    sdk = image.sdk
    out = []
    for name, apk, vname, launcher, uid, priv in _BASE:
        code = sdk if vname is None else int(hashlib.md5(name.encode()).hexdigest()[:6], 16) % 900 + 100
        out.append(Package(package=name, label=_BASE_LABELS.get(name), version_name=vname or release,
                           version_code=code, code_path=apk, kind="system", launcher_activity=launcher, uid=uid,
                           privileged=priv, target_sdk=sdk, min_sdk=min(sdk, 21), launch=Launch(cold_start_ms=350)))
    return out


def _apk_bytes(pkg: str, version_code: int, path: str) -> bytes:
    """Deterministic fake APK content (a ZIP local-header magic, then filler) so md5sum is stable."""
    seed = hashlib.sha256(f"{pkg}:{version_code}:{path}".encode()).digest()
    return b"PK\x03\x04" + seed * 64


_APK_CACHE: dict[str, bytes] = {}


def _read_apk(path: str) -> bytes:
    """The bytes of a real APK file, read once per process (a farm serves the same fixture many times)."""
    data = _APK_CACHE.get(path)
    if data is None:
        data = _APK_CACHE[path] = Path(path).read_bytes()
    return data


class DeviceState:
    """The mutable device (see module docstring). Build with :meth:`from_image`.

    Attributes:
        image: the validated Image (read-only by convention).
        props: ``getprop`` values (mutable; ``setprop`` changes it).
        packages: ``{name: Package}`` in listing order (base set, then image packages overriding).
        fs: the MemFS holding APKs and files pushed by adb.
        tcp_services: ``{port: TcpServiceFactory}`` for ``tcp:<port>`` streams.
        lock: RLock guarding every compound change.
        focus: the resumed activity and focused window, or None (screen off / nothing).
        running: ``{package: pid}`` of app processes.
        logcat: ``{buffer: [LogEntry]}`` for main/system/crash/events/radio.
        settings: ``{(namespace, key): value}`` for ``settings get/put``.
        commands_run: shell/exec commands answered so far (the transport counts for ``offline_after``).
        screen_on, rotation: display power state and rotation (0..3).
        launcher_page: the home-screen page the launcher shows (0 = the default home screen, the first page).
        open_folder: the name of the home-screen folder that is open, or None.
    """

    def __init__(self, image: Image) -> None:
        self.image = image
        self.props: dict[str, str] = dict(image.props)
        self.lock = threading.RLock()
        self.fs = MemFS()
        self.tcp_services: dict[int, TcpServiceFactory] = {}
        self.commands_run = 0
        self.packages: dict[str, Package] = {}
        if image.base_packages:
            for p in base_packages(image):
                self.packages[p.package] = p
        for p in image.packages:
            self.packages[p.package] = p
        self.users = list(image.users)
        self.logcat: dict[str, list[LogEntry]] = {b: [] for b in LOG_BUFFERS}
        self.running: dict[str, int] = {}
        self._next_pid = 3100
        self.screen_on = True
        self.rotation = 0
        self.settings: dict[tuple[str, str], str] = {
            ("global", "adb_enabled"): "1",
            ("global", "package_verifier_enable"): "1",
            ("global", "development_settings_enabled"): "1",
            ("secure", "android_id"): short_hash(image.name, "android_id", n=16),
            ("secure", "default_input_method"): "com.sohu.inputmethod.sogou.xiaomi/.SogouIME",
            ("system", "screen_brightness"): "102",
            ("system", "screen_off_timeout"): "600000",
        }
        self.launcher = image.launcher
        self.launcher_page = 0
        self.open_folder: str | None = None
        self._populate_fs()
        home_pkg, home_act = self.launcher.split("/", 1)
        self.running[home_pkg] = self._new_pid()
        self.focus: Focus | None = Focus(home_pkg, home_act, f"{home_pkg}/{home_act}")

    @classmethod
    def from_image(cls, image: Image) -> DeviceState:
        """Build the state of a freshly booted device from ``image``."""
        return cls(image)

    # -- identity --------------------------------------------------------------------------------------------
    @property
    def sdk(self) -> int:
        """``ro.build.version.sdk`` as int (selects output formats)."""
        return int(self.props.get("ro.build.version.sdk", "0") or 0)

    def banner(self) -> str:
        """CNXN banner ``device::ro.product.name=..;ro.product.model=..;ro.product.device=..;features=..``."""
        p = self.props
        return (f"device::ro.product.name={p.get('ro.product.name', '')};"
                f"ro.product.model={p.get('ro.product.model', '')};"
                f"ro.product.device={p.get('ro.product.device', '')};features={FEATURES}")

    @property
    def tz(self) -> tzinfo:
        """The device time zone (``persist.sys.timezone``; UTC when unset or unknown)."""
        try:
            return ZoneInfo(self.props.get("persist.sys.timezone") or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    def now(self) -> datetime:
        """Device wall clock (real time in the device time zone): what ``date`` and logcat timestamps show."""
        return datetime.now(self.tz)

    # -- packages --------------------------------------------------------------------------------------------
    def package(self, name: str) -> Package | None:
        """The package ``name`` (installed for any user or not) or None."""
        return self.packages.get(name)

    def user_ids(self) -> list[int]:
        """Ids of the device's users."""
        return [u.id for u in self.users]

    def installed_for(self, pkg: Package, user: int = 0) -> bool:
        """True when ``pkg`` is installed for ``user``."""
        st = pkg.user_state(user)
        return st is not None and st.installed and user in self.user_ids()

    def enabled_for(self, pkg: Package, user: int = 0) -> bool:
        """ApplicationInfo.enabled for ``user``: states 2, 3, 4 are disabled."""
        st = pkg.user_state(user) or UserState()
        return st.enabled not in (2, 3, 4)

    def uid_of(self, pkg: Package) -> int:
        """The package's app id (``userId=``): the image's ``uid`` or a stable 10xxx value."""
        if pkg.uid is not None:
            return pkg.uid
        return 10060 + list(self.packages).index(pkg.package)

    def set_package(self, pkg: Package) -> None:
        """Add or replace a package (tests, ``pm install``) and write its APK files."""
        with self.lock:
            self.packages[pkg.package] = pkg
            self._write_apks(pkg)

    def _populate_fs(self) -> None:
        for d in ("/system/priv-app", "/system/framework", "/data/local/tmp", "/sdcard/Download", "/data/system"):
            self.fs.mkdir(d)
        for pkg in self.packages.values():
            self._write_apks(pkg)

    def _write_apks(self, pkg: Package) -> None:
        """Write the package's APK files: the image's real APK (``apk``) where given, else filler bytes."""
        paths = pkg.apk_paths() + ([pkg.factory.code_path] if pkg.factory else [])
        for path in paths:
            self.fs.mkdir(path.rsplit("/", 1)[0] or "/")
            factory = pkg.factory is not None and path == pkg.factory.code_path
            real = pkg.factory.apk if factory and pkg.factory else pkg.apk
            if real is not None:
                data = _read_apk(real)
            else:
                code = pkg.factory.version_code if factory and pkg.factory else pkg.version_code
                data = _apk_bytes(pkg.package, code, path)
            self.fs.write(path, data, mode=0o100644, mtime=1230768000)

    # -- processes -------------------------------------------------------------------------------------------
    def _new_pid(self) -> int:
        self._next_pid += 17
        return self._next_pid

    def pid_of(self, package: str) -> int | None:
        """pid of the package's process or None."""
        return self.running.get(package)

    # -- logcat ----------------------------------------------------------------------------------------------
    def log(self, buffer: str, level: str, tag: str, message: str, pid: int, tid: int | None = None,
            when: float | None = None) -> None:
        """Append one line per line of ``message`` to ``buffer`` (threadtime fields; wall-clock time)."""
        t = time.time() if when is None else when
        with self.lock:
            for line in message.split("\n"):
                self.logcat[buffer].append(LogEntry(t, pid, pid if tid is None else tid, level, tag, line))

    # -- focus and launching ---------------------------------------------------------------------------------
    def go_home(self) -> None:
        """Press HOME: the launcher is resumed and focused."""
        with self.lock:
            home_pkg, home_act = self.launcher.split("/", 1)
            if home_pkg not in self.running:
                self.running[home_pkg] = self._new_pid()
            self.focus = Focus(home_pkg, home_act, f"{home_pkg}/{home_act}")

    def press_home(self) -> None:
        """The HOME key: the launcher comes to the front on its default page, with any open folder closed."""
        with self.lock:
            self.go_home()
            self.launcher_page = 0
            self.open_folder = None

    def force_stop(self, package: str) -> None:
        """``am force-stop``: kill the process; if it was in front the launcher comes back."""
        with self.lock:
            self.running.pop(package, None)
            if self.focus is not None and (self.focus.package == package or
                                           (self.focus.window or "").endswith(f": {package}")):
                self.go_home()

    def resolve_launcher(self, package: str, user: int = 0) -> str | None:
        """Fully qualified launcher activity of ``package`` for ``user``, or None (missing, not installed,
        disabled, no launcher activity, or outcome ``not_found``)."""
        pkg = self.package(package)
        if pkg is None or not self.installed_for(pkg, user) or not self.enabled_for(pkg, user):
            return None
        if pkg.launcher_activity is None or pkg.launch.outcome == "not_found":
            return None
        return pkg.launcher_activity

    def launch(self, package: str, activity: str, user: int = 0) -> LaunchResult:
        """Start ``package/activity`` (fully qualified) and apply the image's launch outcome (module docstring)."""
        with self.lock:
            if self.resolve_launcher(package, user) != activity:
                return LaunchResult(status="not_found")
            pkg = self.packages[package]
            comp = f"{package}/{activity}"
            outcome = pkg.launch.outcome
            if package in self.running and outcome in ("ok", "anr"):
                self.focus = Focus(package, activity, comp if outcome == "ok" else
                                   f"Application Not Responding: {package}")
                hot = max(40, pkg.launch.cold_start_ms // 10)
                return LaunchResult("ok", "HOT", comp, hot, hot + 6, brought_to_front=True)
            cold = pkg.launch.cold_start_ms
            pid = self._new_pid()
            if outcome == "crash":
                self._log_crash(pkg, pid)
                home_pkg, home_act = self.launcher.split("/", 1)
                self.focus = Focus(home_pkg, home_act, f"Application Error: {package}")
                self.running.pop(package, None)
                return LaunchResult("ok", "COLD", self.launcher, cold, cold + 9)
            self.running[package] = pid
            if outcome == "anr":
                self._log_anr(pkg, pid, activity)
                self.focus = Focus(package, activity, f"Application Not Responding: {package}")
                return LaunchResult("ok", "COLD", comp, cold, cold + 9)
            if outcome == "no_window":
                self.focus = Focus(package, activity, None)
                return LaunchResult("timeout", None, comp, None, 10000 + cold)
            if outcome == "overlay":
                self.focus = Focus(package, activity, self.launcher)
                return LaunchResult("ok", "COLD", comp, cold, cold + 9)
            self.focus = Focus(package, activity, comp)
            return LaunchResult("ok", "COLD", comp, cold, cold + 9)

    def _log_crash(self, pkg: Package, pid: int) -> None:
        exc = pkg.launch.exception or (
            "java.lang.NullPointerException: Attempt to invoke virtual method "
            "'void android.view.View.setVisibility(int)'"
            " on a null object reference")
        act = pkg.launcher_activity or f"{pkg.package}.MainActivity"
        cls = act.rsplit(".", 1)[-1]
        lines = [
            "FATAL EXCEPTION: main",
            f"Process: {pkg.package}, PID: {pid}",
            f"java.lang.RuntimeException: Unable to start activity ComponentInfo{{{pkg.package}/{act}}}: {exc}",
            "\tat android.app.ActivityThread.performLaunchActivity(ActivityThread.java:2665)",
            "\tat android.app.ActivityThread.handleLaunchActivity(ActivityThread.java:2726)",
            "\tat android.os.Handler.dispatchMessage(Handler.java:102)",
            "\tat android.os.Looper.loop(Looper.java:154)",
            "\tat android.app.ActivityThread.main(ActivityThread.java:6119)",
            "\tat java.lang.reflect.Method.invoke(Native Method)",
            f"Caused by: {exc}",
            f"\tat {act}.onCreate({cls}.java:87)",
            "\tat android.app.Activity.performCreate(Activity.java:6679)",
            "\t... 9 more",
        ]
        self.log("main", "D", "AndroidRuntime", "Shutting down VM", pid)
        self.log("crash", "E", "AndroidRuntime", "\n".join(lines), pid)

    def _log_anr(self, pkg: Package, pid: int, activity: str) -> None:
        short = activity[len(pkg.package):] if activity.startswith(pkg.package + ".") else activity
        lines = [
            f"ANR in {pkg.package} ({pkg.package}/{short})",
            f"PID: {pid}",
            "Reason: Input dispatching timed out (Waiting to send non-key event because the touched window has not "
            "finished processing certain input events that were delivered to it over 500.0ms ago.)",
            "Load: 9.23 / 6.11 / 5.35",
            "CPU usage from 0ms to 5012ms later:",
            f"  98% {pid}/{pkg.package}: 95% user + 3% kernel",
        ]
        system_pid = 1180
        self.log("system", "E", "ActivityManager", "\n".join(lines), system_pid, system_pid + 23)

