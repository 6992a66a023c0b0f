"""System command output formats: logcat, ps, display, power, id, screencap PNG, uiautomator hierarchy.

* logcat ``threadtime`` (the default format since Android 7): ``MM-DD HH:MM:SS.mmm  PID  TID L Tag: message``
  with PID/TID right-aligned in 5 columns and a ``--------- beginning of <buffer>`` line before each buffer's
  first line (corpus ``logcat-crash_android14_emulator_fatal-exception-npe_*``; stack lines keep their tab).
* ``ps -A`` (toybox, SDK >= 26): ``USER PID PPID VSZ RSS WCHAN ADDR S NAME``; older toolbox ``ps``:
  ``USER PID PPID VSIZE RSS WCHAN PC NAME`` with the state letter before the name — 9 columns either way
  (uiautomator2 needs >= 9, pid in column 2, name last).
* ``dumpsys display``: ``mDefaultViewport=DisplayViewport{.. orientation=N ..}`` and ``DisplayDeviceInfo``
  (adbutils parses the first ``orientation=(\\d+)``); ``wm size``: ``Physical size: WxH``.
* ``dumpsys power``: ``mWakefulness=Awake`` and ``mHoldingDisplaySuspendBlocker=true`` (adbutils
  ``is_screen_on``).
* ``uiautomator dump``: ``<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation="0">``
  with ``<node index= text= resource-id= class= package= ... bounds="[l,t][r,b]">`` (UiAutomator
  ``AccessibilityNodeInfoDumper``), stdout ``UI hierchary dumped to: <path>`` (the typo is real).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from xml.sax.saxutils import quoteattr

from virtual_device.state import DeviceState, LogEntry


def threadtime(e: LogEntry, tz: tzinfo = UTC) -> str:
    """One logcat line in threadtime format (time in the device time zone ``tz``)."""
    lt = datetime.fromtimestamp(e.time, tz)
    return (f"{lt:%m-%d %H:%M:%S}.{lt.microsecond // 1000:03d} "
            f"{e.pid:5d} {e.tid:5d} {e.level} {e.tag}: {e.message}")


def logcat_dump(buffers: dict[str, list[LogEntry]], tz: tzinfo = UTC) -> str:
    """Merge entries of several buffers by time, with ``--------- beginning of X`` markers, as logcat -d."""
    merged = sorted(((e.time, i, name, e) for name, entries in buffers.items() for i, e in enumerate(entries)),
                    key=lambda t: (t[0], t[1]))
    out, seen = [], set()
    for _, _, name, e in merged:
        if name not in seen:
            seen.add(name)
            out.append(f"--------- beginning of {name}")
        out.append(threadtime(e, tz))
    return "".join(line + "\n" for line in out)


def ps_lines(state: DeviceState, toybox: bool) -> list[str]:
    """Header + process rows (init, zygote, system_server, apps)."""
    rows = [("root", 1, 0, "init"), ("root", 580, 1, "zygote"), ("system", 1180, 580, "system_server"),
            ("shell", 4100, 1, "/system/bin/adbd")]
    for name, pid in sorted(state.running.items(), key=lambda kv: kv[1]):
        rows.append((f"u0_a{pid % 300}", pid, 580, name))
    if toybox:
        out = ["USER           PID  PPID     VSZ    RSS WCHAN            ADDR S NAME"]
        out += [f"{u:<10} {p:>7} {pp:>5} {1843200 + p:>7} {65432:>6} SyS_epoll_wait      0 S {n}"
                for u, p, pp, n in rows]
    else:
        out = ["USER      PID   PPID  VSIZE  RSS   WCHAN              PC  NAME"]
        out += [f"{u:<9} {p:<5} {pp:<5} {1843200 + p:<6} {65432:<5} SyS_epoll_ 00000000 S {n}"
                for u, p, pp, n in rows]
    return out


def dumpsys_display(state: DeviceState) -> str:
    """A ``dumpsys display`` excerpt with the viewport orientation and the display device info."""
    d = state.image.display
    w, h = (d.height, d.width) if state.rotation % 2 else (d.width, d.height)
    return (
        "DISPLAY MANAGER (dumpsys display)\n"
        "  mOnlyCode=false\n"
        "  mSafeMode=false\n"
        "  mPendingTraversal=false\n"
        "  mGlobalDisplayState=" + ("ON" if state.screen_on else "OFF") + "\n"
        "  mNextNonDefaultDisplayId=1\n"
        f"  mDefaultViewport=DisplayViewport{{valid=true, displayId=0, orientation={state.rotation}, "
        f"logicalFrame=Rect(0, 0 - {w}, {h}), physicalFrame=Rect(0, 0 - {w}, {h}), deviceWidth={w}, "
        f"deviceHeight={h}}}\n"
        "\n"
        "Display Devices: size=1\n"
        f"  DisplayDeviceInfo{{\"Built-in Screen\": uniqueId=\"local:0\", {d.width} x {d.height}, modeId 1, "
        f"defaultModeId 1, supportedModes [{{id=1, width={d.width}, height={d.height}, fps=60.0}}], "
        f"density {d.density}, {d.density}.0 x {d.density}.0 dpi, appVsyncOff 0, presDeadline 17666666, "
        "touch INTERNAL, rotation 0, type BUILT_IN, state " + ("ON" if state.screen_on else "OFF") +
        ", FLAG_DEFAULT_DISPLAY, FLAG_ROTATES_WITH_CONTENT, FLAG_SECURE, FLAG_SUPPORTS_PROTECTED_BUFFERS}\n"
    )


def dumpsys_power(state: DeviceState) -> str:
    """A ``dumpsys power`` excerpt (wakefulness and the display suspend blocker)."""
    on = "true" if state.screen_on else "false"
    return ("POWER MANAGER (dumpsys power)\n\n"
            "Power Manager State:\n"
            f"  mDirty=0x0\n  mWakefulness={'Awake' if state.screen_on else 'Asleep'}\n"
            "  mWakefulnessChanging=false\n  mIsPowered=true\n  mPlugType=2\n  mBatteryLevel=87\n"
            f"  mHoldingWakeLockSuspendBlocker={on}\n  mHoldingDisplaySuspendBlocker={on}\n"
            f"  Display Power: state={'ON' if state.screen_on else 'OFF'}\n")


ID_LINE = ("uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),"
           "1028(sdcard_r),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc) "
           "context=u:r:shell:s0")


@lru_cache(maxsize=16)
def png(width: int, height: int, color: tuple[int, int, int] = (242, 242, 242)) -> bytes:
    """A real PNG of ``width``x``height`` (cached per size), generated with Pillow."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    img = PILImage.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(img)
    draw.rectangle([0, 0, width, max(1, height // 30)], fill=(30, 30, 30))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=1)
    return buf.getvalue()


def _node(index: int, text: str, rid: str, cls: str, pkg: str, bounds: str, children: str = "",
          clickable: bool = False) -> str:
    attrs = (f'index="{index}" text={quoteattr(text)} resource-id={quoteattr(rid)} class="{cls}" package="{pkg}" '
             f'content-desc="" checkable="false" checked="false" clickable="{str(clickable).lower()}" '
             f'enabled="true" focusable="{str(clickable).lower()}" focused="false" scrollable="false" '
             f'long-clickable="false" password="false" selected="false" bounds="{bounds}"')
    return f"<node {attrs}>{children}</node>" if children else f"<node {attrs} />"


def hierarchy_xml(state: DeviceState) -> str:
    """UI hierarchy of the focused window (first_screen texts/resource ids of the app; dialogs for crash/ANR)."""
    d = state.image.display
    w, h = d.width, d.height
    f = state.focus
    full = f"[0,0][{w},{h}]"
    kids: list[str] = []
    if f is None or f.window is None:
        pkg = f.package if f else "com.android.systemui"
    elif f.window.startswith(("Application Error: ", "Application Not Responding: ")):
        pkg = "android"
        app = f.window.split(": ", 1)[1]
        p = state.package(app)
        label = (p.label if p and p.label else app)
        msg = f"{label} has stopped" if f.window.startswith("Application Error") else f"{label} isn't responding"
        kids = [_node(0, msg, "android:id/alertTitle", "android.widget.TextView", pkg,
                      f"[80,{h // 2 - 120}][{w - 80},{h // 2 - 40}]"),
                _node(1, "Close app" if "Error" in f.window else "Wait", "android:id/aerr_close" if "Error" in f.window
                      else "android:id/aerr_wait", "android.widget.Button", pkg,
                      f"[80,{h // 2}][{w - 80},{h // 2 + 100}]", clickable=True)]
    else:
        pkg = f.package
        p = state.package(pkg)
        texts = list(p.first_screen.texts) if p else []
        rids = list(p.first_screen.resource_ids) if p else []
        if p is not None and not texts and not rids and p.label:
            texts = [p.label]
        n = max(len(texts), len(rids))
        for k in range(n):
            top = 200 + k * 140
            kids.append(_node(k, texts[k] if k < len(texts) else "", rids[k] if k < len(rids) else "",
                              "android.widget.TextView", pkg, f"[60,{top}][{w - 60},{top + 120}]"))
    content = _node(0, "", "android:id/content", "android.widget.FrameLayout", pkg, full, "".join(kids))
    root = _node(0, "", "", "android.widget.FrameLayout", pkg, full, content)
    return ("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
            f'<hierarchy rotation="{state.rotation}">{root}</hierarchy>')
