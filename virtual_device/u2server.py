"""The uiautomator2 side of the virtual device: ``u2.jar`` set-up, the ``app_process`` server, and the screen.

What ``uiautomator2.connect(adbutils_device)`` 3.7.1 needs from a device (notes uiautomator2-device-needs.md §1.4,
§3): ``toybox md5sum /data/local/tmp/u2.jar`` (answered by the shell's toybox, from the pushed bytes), a ``sync:``
push of ``u2.jar`` (transport), ``CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main -p 9008``
(:func:`cmd_app_process`: a long-running command that registers ``tcp:<port>`` while its stream is open) and the
HTTP/JSON-RPC server behind ``tcp:9008`` (:class:`U2Server`).

The screen is derived from :attr:`DeviceState.focus` on every request (:func:`current_screen`):

* an app in front with its window: one window of the app's package holding its ``first_screen`` texts and
  resource ids (image ``packages[].first_screen``), under the status bar;
* ``Application Error: <pkg>`` focused: the crash dialog (``android:id/aerr_close`` from SDK 24, the AlertDialog
  ``Unfortunately, X has stopped.`` with ``android:id/button1`` before) over the launcher;
* ``Application Not Responding: <pkg>`` focused: the ANR dialog (``aerr_wait``/``aerr_close``; ``button2`` Wait /
  ``button1`` OK before SDK 24) over the app's window;
* otherwise (launcher, or an app that never got a window) the launcher.

``dumpWindowHierarchy`` renders it in the ``AccessibilityNodeInfoDumper`` format (notes §2.3) and
``takeScreenshot`` draws it with Pillow (base64 JPEG, visibly different per app and dialog).

Launch timing (:func:`wrap_am`): ``am start -W`` of a package whose image ``launch.cold_start_ms`` exceeds
:data:`HOLD_THRESHOLD_MS` keeps its stream open for that long (the device stays responsive meanwhile), so a slow
cold start costs real time as on a phone; faster launches answer at once so the farm stays quick. A crash or ANR
dialog that is showing stays on top (keeps focus) when another app is launched, until it is dismissed by
``am force-stop <its package>``, ``pressKey back|home`` or a click on one of its buttons.

Registration: :func:`install` adds/wraps the shell commands (``app_process``, ``am``); the shell calls it once when
it loads its command table.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

from virtual_device.image import PAGE_CELLS
from virtual_device.state import DeviceState, Focus

log = logging.getLogger(__name__)

U2_JAR = "/data/local/tmp/u2.jar"
U2_MAIN = "com.wetest.uia2.Main"
DEFAULT_PORT = 9008
HOLD_THRESHOLD_MS = 1000
"""``am start -W`` is held for ``cold_start_ms`` only when that exceeds this many milliseconds."""

ERROR_PREFIX = "Application Error: "
ANR_PREFIX = "Application Not Responding: "

_MAX_REQUEST = 4 * 1024 * 1024

DEFAULT_HOTSEAT = ("com.android.contacts", "com.android.mms", "com.android.browser", "com.android.camera")
"""The dock of an image without ``home_screen``: Phone, Messages, Browser, Camera (as on the MIUI home screen
XiaoMi/MobileBench lists: 电话, 短信, 浏览器, 相机)."""


# -- the screen model --------------------------------------------------------------------------------------------
@dataclass
class Node:
    """One accessibility node: ``cls`` (class name), ``bounds`` ``(left, top, right, bottom)`` in pixels."""

    cls: str
    package: str
    bounds: tuple[int, int, int, int]
    text: str = ""
    resource_id: str = ""
    desc: str = ""
    clickable: bool = False
    focusable: bool = False
    focused: bool = False
    scrollable: bool = False
    selected: bool = False
    children: list[Node] = field(default_factory=list)
    action: tuple[str, str] = ()
    """What a tap on this node does on the launcher (not rendered): ``("app", package)``, ``("folder", name)``,
    ``("page", index)``, ``("close", "")``; empty for nothing."""

    def walk(self) -> Iterator[tuple[Node, int]]:
        """Depth-first ``(node, index among siblings)``, the root first with index 0."""
        yield self, 0
        for i, child in enumerate(self.children):
            for node, idx in child.walk():
                yield node, (i if node is child else idx)


@dataclass
class Screen:
    """What is on the display: ``kind`` (app | crash | anr | launcher), the foreground ``package`` and its
    ``label``, the dialog ``title`` if any, and the window roots (active window first)."""

    kind: str
    package: str
    label: str
    title: str
    windows: list[Node]
    sdk: int
    width: int
    height: int
    detail: str = ""
    """What else tells two renderings apart (the launcher's page, open folder and icons)."""

    @property
    def key(self) -> str:
        """Identity of the rendering (for caching screenshots)."""
        return f"{self.kind}|{self.package}|{self.title}|{self.width}x{self.height}|{len(self.windows)}|{self.detail}"


def _label(state: DeviceState, package: str) -> str:
    pkg = state.package(package)
    return (pkg.label if pkg is not None and pkg.label else None) or package.rsplit(".", 1)[-1].capitalize()


def _dp(state: DeviceState, value: int) -> int:
    return value * state.image.display.density // 160


def _status_bar(state: DeviceState, w: int) -> Node:
    h = _dp(state, 24)
    return Node("android.widget.FrameLayout", "com.android.systemui", (0, 0, w, h), children=[
        Node("android.widget.TextView", "com.android.systemui", (_dp(state, 8), 0, _dp(state, 64), h), text="12:00",
             resource_id="com.android.systemui:id/clock"),
        Node("android.widget.ImageView", "com.android.systemui", (w - _dp(state, 48), 0, w - _dp(state, 8), h),
             resource_id="com.android.systemui:id/battery", desc="Battery 80 percent.")])


@dataclass(frozen=True)
class HomeIcon:
    """One icon of the home screen: an app (``package``) or a folder (``folder`` name and its ``apps``)."""

    label: str
    package: str | None = None
    folder: str | None = None
    apps: tuple[tuple[str, str], ...] = ()
    """``(package, label)`` of each app inside a folder."""


def _shown(state: DeviceState, package: str) -> bool:
    """A launcher shows an icon for an installed, enabled app with a launcher activity (user 0)."""
    return state.resolve_launcher(package) is not None


def home_layout(state: DeviceState) -> tuple[list[list[HomeIcon]], list[HomeIcon]]:
    """``(pages, hotseat)`` the launcher shows now: the image's ``home_screen`` without the apps that get no icon
    (a folder with no app left disappears), or the default layout (image docstring)."""
    home_pkg = state.launcher.split("/", 1)[0]
    layout = state.image.home_screen
    if layout is None:
        dock = [p for p in DEFAULT_HOTSEAT if _shown(state, p)]
        rest = [p for p in state.packages if p != home_pkg and p not in dock and _shown(state, p)]
        pages = [[HomeIcon(_label(state, p), package=p) for p in rest[i:i + PAGE_CELLS]]
                 for i in range(0, max(1, len(rest)), PAGE_CELLS)]
        return pages, [HomeIcon(_label(state, p), package=p) for p in dock]
    out: list[list[HomeIcon]] = []
    for page in layout.pages:
        icons: list[HomeIcon] = []
        for item in page:
            if isinstance(item, str):
                if _shown(state, item):
                    icons.append(HomeIcon(_label(state, item), package=item))
                continue
            apps = tuple((p, _label(state, p)) for p in item.apps if _shown(state, p))
            if apps:
                icons.append(HomeIcon(item.folder, folder=item.folder, apps=apps))
        out.append(icons)
    return out, [HomeIcon(_label(state, p), package=p) for p in layout.hotseat if _shown(state, p)]


def _icon_node(home_pkg: str, icon: HomeIcon, box: tuple[int, int, int, int], icon_px: int,
               title: bool = True) -> Node:
    """A MIUI ShortcutIcon / FolderIcon (RelativeLayout) with ``icon_container`` and ``icon_title_container``
    (Little-W/miui-home-sourse ``res/layout/application.xml``, ``folder_icon.xml``, ``icon_title.xml``)."""
    left, top, right, bottom = box
    cx = (left + right) // 2
    img = (cx - icon_px // 2, top + icon_px // 6, cx + icon_px // 2, top + icon_px // 6 + icon_px)
    rid = f"{home_pkg}:id/"
    inner: list[Node] = [Node("android.widget.ImageView", home_pkg, img, resource_id=rid + "icon_icon",
                              desc=icon.label)]
    if icon.folder is not None:
        cell = (img[2] - img[0]) // 3
        previews = [Node("android.widget.ImageView", home_pkg,
                         (img[0] + (i % 3) * cell, img[1] + (i // 3) * cell,
                          img[0] + (i % 3 + 1) * cell, img[1] + (i // 3 + 1) * cell), desc=label)
                    for i, (_pkg, label) in enumerate(icon.apps[:9])]
        inner.append(Node("android.widget.FrameLayout", home_pkg, img, resource_id=rid + "preview_icons_container",
                          children=previews))
    container = Node("android.widget.FrameLayout", home_pkg, (img[0], top, img[2], img[3]),
                     resource_id=rid + "icon_container",
                     children=[Node("android.widget.FrameLayout", home_pkg, (img[0], top, img[2], img[3]),
                                    children=inner)])
    kids = [container]
    if title:
        text_box = (left, img[3], right, bottom)
        kids.append(Node("android.widget.FrameLayout", home_pkg, text_box, resource_id=rid + "icon_title_container",
                         children=[Node("android.widget.TextView", home_pkg, text_box, text=icon.label,
                                        resource_id=rid + "icon_title")]))
    action = ("folder", icon.folder) if icon.folder is not None else ("app", icon.package or "")
    return Node("android.widget.RelativeLayout", home_pkg, box, clickable=True, focusable=True, children=kids,
                action=action)


def _launcher_window(state: DeviceState, w: int, h: int) -> Node:
    """The MIUI launcher's window: workspace (current page only), page indicator, hotseat, or an open folder.

    Shape (checked against real MIUI dumps; see ``tests/virtual_device/test_launcher_render.py``):

    * the node sequence of a real MIUI home screen as XiaoMi/MobileBench's UI-agent prompts list it (uiautomator
      dump → leaf and scrollable nodes in document order, ``agent_for_ui/xml_to_html.py``):
      ``com.miui.home:id/workspace`` ScreenView (scrollable), a nested ScreenView page indicator with one
      clickable ImageView per screen ("第1屏"), then per app ``icon_icon`` ImageView (content-desc = label) +
      ``icon_title`` TextView, per folder ``icon_icon`` + one unnamed preview ImageView per app + ``icon_title``,
      then ``hotseat_content_screen`` ScreenView with title-less ``icon_icon`` ImageViews;
    * the containers that listing leaves out, from the MIUI Home layouts (Little-W/miui-home-sourse:
      ``drag_layer.xml`` workspace + ``hotseat`` siblings; ``application.xml`` / ``folder_icon.xml`` icon =
      RelativeLayout with ``icon_container`` and ``icon_title_container``; ``folder.xml``, ``folder_header.xml``,
      ``folder_grid.xml``: an open folder's ``title`` TextView and ``folder_content`` GridView) and from real
      xpaths of public uiautomator2/Appium scripts (``workspace/FrameLayout[1]/ScreenView`` is the indicator,
      ``workspace/FrameLayout[2]/ViewGroup/RelativeLayout/FrameLayout[2]/TextView`` an icon title,
      ``…:id/cell_layout`` the page grid);
    * only the page on screen is in the dump (uiautomator skips invisible children, notes §2.3), as on a phone.
      A real AOSP/Pixel launcher dump (``tests/fixtures/launcher/``, Matth33w/js-adb) is the counterpart the
      harness also reads.
    """
    home_pkg = state.launcher.split("/", 1)[0]
    rid = f"{home_pkg}:id/"
    top = _dp(state, 24)
    pages, dock = home_layout(state)
    page_index = min(max(0, state.launcher_page), len(pages) - 1)
    cell_w, cell_h = w // 4, _dp(state, 96)
    icon_px = _dp(state, 56)
    dock_h = _dp(state, 96)
    dock_top = h - dock_h
    ind_top, ind_bottom = dock_top - _dp(state, 18), dock_top
    grid_top = top + _dp(state, 16)
    folder = next((i for i in pages[page_index] if i.folder is not None and i.folder == state.open_folder), None)
    if folder is not None:
        return _folder_window(state, home_pkg, folder, w, h)
    items = [_icon_node(home_pkg, icon, (col * cell_w, grid_top + row * cell_h, (col + 1) * cell_w,
                                         grid_top + (row + 1) * cell_h), icon_px)
             for n, icon in enumerate(pages[page_index][:PAGE_CELLS]) for row, col in (divmod(n, 4),)]
    cell_layout = Node("android.view.ViewGroup", home_pkg, (0, grid_top, w, grid_top + 5 * cell_h),
                       resource_id=rid + "cell_layout", children=items)
    dot = _dp(state, 12)
    first = w // 2 - len(pages) * dot // 2
    dots = [Node("android.widget.ImageView", home_pkg, (first + i * dot, ind_top, first + (i + 1) * dot, ind_bottom),
                 desc=f"第{i + 1}屏", clickable=True, selected=i == page_index, action=("page", str(i)))
            for i in range(len(pages))]
    indicator = Node("android.widget.FrameLayout", home_pkg, (0, ind_top, w, ind_bottom), children=[
        Node("com.miui.home.launcher.ScreenView", home_pkg, (0, ind_top, w, ind_bottom), scrollable=True,
             children=dots)])
    screen = Node("android.widget.FrameLayout", home_pkg, (0, top, w, dock_top), children=[cell_layout])
    workspace = Node("com.miui.home.launcher.ScreenView", home_pkg, (0, 0, w, h), resource_id=rid + "workspace",
                     scrollable=True, children=[indicator, screen])
    slot = w // max(4, len(dock) or 4)
    dock_items = [_icon_node(home_pkg, icon, (i * slot, dock_top, (i + 1) * slot, h), icon_px, title=False)
                  for i, icon in enumerate(dock)]
    hotseat = Node("android.widget.FrameLayout", home_pkg, (0, dock_top, w, h), resource_id=rid + "hotseat",
                   children=[Node("com.miui.home.launcher.ScreenView", home_pkg, (0, dock_top, w, h),
                                  resource_id=rid + "hotseat_content_screen", scrollable=True, children=dock_items)])
    content = Node("android.widget.FrameLayout", home_pkg, (0, 0, w, h), resource_id=rid + "screen_content",
                   children=[workspace, hotseat])
    drag = Node("android.widget.FrameLayout", home_pkg, (0, 0, w, h), resource_id=rid + "drag_layer",
                children=[content])
    return Node("android.widget.FrameLayout", home_pkg, (0, 0, w, h), children=[
        Node("android.widget.FrameLayout", home_pkg, (0, 0, w, h), resource_id="android:id/content",
             children=[drag])])


def _folder_window(state: DeviceState, home_pkg: str, folder: HomeIcon, w: int, h: int) -> Node:
    """An open MIUI folder (``folder_cling`` → Folder → header ``title`` + GridView ``folder_content``); a tap
    outside its panel closes it."""
    rid = f"{home_pkg}:id/"
    fl = "android.widget.FrameLayout"
    left, right = _dp(state, 24), w - _dp(state, 24)
    rows = (len(folder.apps) + 2) // 3
    cell_w, cell_h, icon_px = (right - left) // 3, _dp(state, 96), _dp(state, 56)
    top = h // 3 - _dp(state, 40)
    grid_top = top + _dp(state, 64)
    bottom = grid_top + max(1, rows) * cell_h + _dp(state, 16)
    icons = []
    for n, (pkg, label) in enumerate(folder.apps):
        row, col = divmod(n, 3)
        box = (left + col * cell_w, grid_top + row * cell_h, left + (col + 1) * cell_w, grid_top + (row + 1) * cell_h)
        icons.append(_icon_node(home_pkg, HomeIcon(label, package=pkg), box, icon_px))
    title = Node("android.widget.TextView", home_pkg, (left + _dp(state, 16), top, right, grid_top),
                 text=folder.label, resource_id=rid + "title")
    header = Node(fl, home_pkg, (left, top, right, grid_top), resource_id=rid + "folder_header", children=[title])
    grid_box = (left, grid_top, right, bottom)
    grid = Node("android.widget.GridView", home_pkg, grid_box, resource_id=rid + "folder_content", focusable=True,
                children=icons)
    container = Node(fl, home_pkg, grid_box, children=[Node(fl, home_pkg, grid_box, children=[grid])])
    background = Node("android.widget.LinearLayout", home_pkg, (left, top, right, bottom),
                      resource_id=rid + "background", children=[header, container])
    panel = Node("android.widget.LinearLayout", home_pkg, (left, top, right, bottom), resource_id=rid + "folder",
                 clickable=True, children=[background])
    cling = Node(fl, home_pkg, (0, 0, w, h), resource_id=rid + "folder_cling", clickable=True, children=[panel],
                 action=("close", ""))
    drag = Node(fl, home_pkg, (0, 0, w, h), resource_id=rid + "drag_layer", children=[cling])
    return Node(fl, home_pkg, (0, 0, w, h), children=[
        Node(fl, home_pkg, (0, 0, w, h), resource_id="android:id/content", children=[drag])])


def _app_window(state: DeviceState, package: str, w: int, h: int) -> Node:
    pkg = state.package(package)
    top = _dp(state, 24)
    rows: list[Node] = []
    y = top + _dp(state, 56)
    texts = list(pkg.first_screen.texts) if pkg is not None else []
    ids = list(pkg.first_screen.resource_ids) if pkg is not None else []
    if not texts and not ids:
        texts = [_label(state, package)]
    for i in range(max(len(texts), len(ids))):
        text = texts[i] if i < len(texts) else ""
        rid = ids[i] if i < len(ids) else ""
        box = (_dp(state, 16), y, w - _dp(state, 16), y + _dp(state, 48))
        rows.append(Node("android.widget.TextView", package, box, text=text, resource_id=rid,
                         clickable=bool(rid), focusable=bool(rid)))
        y += _dp(state, 64)
    toolbar = Node("android.view.ViewGroup", package, (0, top, w, top + _dp(state, 56)),
                   resource_id=f"{package}:id/toolbar")
    content = Node("android.widget.LinearLayout", package, (0, top, w, h), resource_id="android:id/content",
                   children=[toolbar, *rows])
    return Node("android.widget.FrameLayout", package, (0, 0, w, h), children=[content])


def _dialog_window(state: DeviceState, kind: str, label: str, w: int, h: int) -> tuple[Node, str]:
    sdk = state.sdk
    left, right = _dp(state, 24), w - _dp(state, 24)
    top, bottom = h // 2 - _dp(state, 110), h // 2 + _dp(state, 110)
    btn_h = _dp(state, 48)
    title_box = (left + _dp(state, 24), top + _dp(state, 24), right - _dp(state, 24), top + _dp(state, 80))
    if sdk >= 24:
        title = f"{label} has stopped" if kind == "crash" else f"{label} isn't responding"
        buttons = ([("android:id/aerr_restart", "Open app again"), ("android:id/aerr_close", "Close app")]
                   if kind == "crash" else [("android:id/aerr_close", "Close app"), ("android:id/aerr_wait", "Wait")])
        head = Node("android.widget.TextView", "android", title_box, text=title, resource_id="android:id/alertTitle")
    else:
        title = (f"Unfortunately, {label} has stopped." if kind == "crash"
                 else f"{label} isn't responding. Do you want to close it?")
        buttons = ([("android:id/button1", "OK")] if kind == "crash"
                   else [("android:id/button2", "Wait"), ("android:id/button1", "OK")])
        head = Node("android.widget.TextView", "android", title_box, text=title, resource_id="android:id/message")
    y = top + _dp(state, 96)
    nodes = [head]
    for rid, text in buttons:
        nodes.append(Node("android.widget.Button", "android", (left, y, right, y + btn_h), text=text, resource_id=rid,
                          clickable=True, focusable=True))
        y += btn_h
    panel = Node("android.widget.LinearLayout", "android", (left, top, right, bottom),
                 resource_id="android:id/parentPanel", children=nodes)
    return Node("android.widget.FrameLayout", "android", (left, top, right, bottom), children=[panel]), title


def current_screen(state: DeviceState) -> Screen:
    """Derive the screen from ``state.focus`` (see the module docstring); takes ``state.lock``."""
    with state.lock:
        w, h = state.image.display.width, state.image.display.height
        if state.rotation % 2:
            w, h = h, w
        focus: Focus | None = state.focus
        bar = _status_bar(state, w)
        home_pkg = state.launcher.split("/", 1)[0]
        window = focus.window if focus is not None else None
        if window and window.startswith((ERROR_PREFIX, ANR_PREFIX)):
            kind = "crash" if window.startswith(ERROR_PREFIX) else "anr"
            owner = window.split(": ", 1)[1]
            label = _label(state, owner)
            dialog, title = _dialog_window(state, kind, label, w, h)
            below_pkg = focus.package if focus is not None else home_pkg
            below = (_app_window(state, below_pkg, w, h) if below_pkg != home_pkg
                     else _launcher_window(state, w, h))
            return Screen(kind, owner, label, title, [dialog, below, bar], state.sdk, w, h)
        if focus is not None and window and focus.package != home_pkg and window == focus.component:
            return Screen("app", focus.package, _label(state, focus.package), "",
                          [_app_window(state, focus.package, w, h), bar], state.sdk, w, h)
        pages, dock = home_layout(state)
        detail = f"page {state.launcher_page}|folder {state.open_folder}|{pages!r}|{dock!r}"
        return Screen("launcher", home_pkg, "Home", "", [_launcher_window(state, w, h), bar], state.sdk, w, h,
                      detail=detail)


# -- hierarchy XML (AccessibilityNodeInfoDumper) ------------------------------------------------------------------
_INVALID_XML = re.compile(r"[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


def _attr(value: str) -> str:
    return quoteattr(_INVALID_XML.sub(".", value))


def _node_xml(node: Node, index: int, depth: int, max_depth: int, sdk: int, display_w: int, display_h: int,
              out: list[str], order: list[int]) -> None:
    pad = "  " * (depth + 1)
    left, top, right, bottom = node.bounds
    vb = (max(0, left), max(0, top), min(display_w, right), min(display_h, bottom))
    attrs = []
    if node.clickable and not node.text and not node.desc and not any(c.text or c.desc for c, _ in node.walk()):
        attrs.append('NAF="true"')
    attrs += [f'index="{index}"', f"text={_attr(node.text)}", f"resource-id={_attr(node.resource_id)}",
              f"class={_attr(node.cls)}", f"package={_attr(node.package)}", f"content-desc={_attr(node.desc)}",
              'checkable="false"', 'checked="false"', f'clickable="{str(node.clickable).lower()}"', 'enabled="true"',
              f'focusable="{str(node.focusable).lower()}"', f'focused="{str(node.focused).lower()}"',
              f'scrollable="{str(node.scrollable).lower()}"', f'long-clickable="{str(node.clickable).lower()}"',
              'password="false"', f'selected="{str(node.selected).lower()}"', 'visible-to-user="true"',
              f'bounds="[{vb[0]},{vb[1]}][{vb[2]},{vb[3]}]"']
    order[0] += 1
    if sdk >= 24:
        attrs.append(f'drawing-order="{order[0]}"')
    if sdk >= 26:
        attrs.append('hint=""')
    if sdk >= 30:
        attrs.append('display-id="0"')
    head = f"{pad}<node {' '.join(attrs)}"
    kids = node.children if depth + 1 < max_depth else []
    if not kids:
        out.append(head + " />")
        return
    out.append(head + ">")
    for i, child in enumerate(kids):
        _node_xml(child, i, depth + 1, max_depth, sdk, display_w, display_h, out, order)
    out.append(f"{pad}</node>")


def hierarchy_xml(state: DeviceState, max_depth: int = 50, root_in_active: bool = False) -> str:
    """The window hierarchy as the u2.jar server returns it: CRLF, 2-space indent, one root node per window
    (active window first; only that one with ``root_in_active``)."""
    screen = current_screen(state)
    windows = screen.windows[:1] if root_in_active else screen.windows
    out = ["<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>", f'<hierarchy rotation="{state.rotation}">']
    for i, root in enumerate(windows):
        _node_xml(root, i, 0, max(1, max_depth), screen.sdk, screen.width, screen.height, out, [0])
    out.append("</hierarchy>")
    return "\r\n".join(out)


# -- screenshot --------------------------------------------------------------------------------------------------
_shot_cache: dict[tuple[str, float, int], bytes] = {}


def _colour(package: str) -> tuple[int, int, int]:
    digest = hashlib.md5(package.encode()).digest()
    return (40 + digest[0] % 160, 40 + digest[1] % 160, 40 + digest[2] % 160)


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: fixed bitmap font
        return ImageFont.load_default()


def render_screen(screen: Screen, scale: float = 1.0) -> Any:
    """A Pillow RGB image of ``screen`` (status bar, app colour and texts, dialog box), scaled by ``scale``."""
    from PIL import Image, ImageDraw

    w, h = screen.width, screen.height
    img = Image.new("RGB", (w, h), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    big, small = _font(max(16, w // 14)), _font(max(12, w // 30))
    app_root = screen.windows[1] if screen.kind in ("crash", "anr") else screen.windows[0]
    if app_root.package != "com.miui.home":
        draw.rectangle((0, 0, w, h // 4), fill=_colour(app_root.package))
        title = screen.label if screen.kind == "app" else app_root.package.rsplit(".", 1)[-1].capitalize()
        draw.text((w // 20, h // 12), title, fill=(255, 255, 255), font=big)
        for node, _ in app_root.walk():
            if node.text:
                draw.text((node.bounds[0] + 8, node.bounds[1] + h // 8), node.text, fill=(20, 20, 20), font=big)
    else:
        _draw_launcher(draw, app_root, w, h, small)
    draw.rectangle((0, 0, w, screen.windows[-1].bounds[3]), fill=(0, 0, 0))
    draw.text((8, 4), "12:00", fill=(255, 255, 255), font=small)
    if screen.kind in ("crash", "anr"):
        overlay = Image.new("RGB", (w, h), (0, 0, 0))
        img = Image.blend(img, overlay, 0.5)
        draw = ImageDraw.Draw(img)
        dialog = screen.windows[0]
        draw.rounded_rectangle(dialog.bounds, radius=w // 60, fill=(255, 255, 255))
        for node, _ in dialog.walk():
            if node.text:
                colour = (200, 30, 30) if node.cls.endswith("TextView") else (0, 120, 200)
                draw.text((node.bounds[0] + 12, node.bounds[1] + 8), node.text, fill=colour, font=small)
    if scale != 1.0:
        img = img.resize((max(1, int(w * scale)), max(1, int(h * scale))))
    return img


def _draw_launcher(draw: Any, root: Node, w: int, h: int, font: Any) -> None:
    """The launcher: wallpaper, icons (a coloured tile per app, a grey tile with mini tiles per folder), titles,
    page dots (the current one filled), the dock, or an open folder's panel over a dimmed wallpaper."""
    folder_open = any(n.resource_id.endswith(":id/folder_content") for n, _ in root.walk())
    draw.rectangle((0, 0, w, h), fill=(18, 36, 66) if folder_open else (30, 60, 110))

    def visit(node: Node, in_preview: bool) -> None:
        rid = node.resource_id.rsplit(":id/", 1)[-1] if ":id/" in node.resource_id else ""
        x0, y0, x1, y1 = node.bounds
        if rid == "background":
            draw.rounded_rectangle(node.bounds, radius=w // 30, fill=(235, 238, 245))
        elif rid == "icon_icon":
            folder = any(c.resource_id.endswith(":id/preview_icons_container") for c in node_parent_kids(node))
            draw.rounded_rectangle(node.bounds, radius=w // 50, fill=(150, 150, 160) if folder
                                   else _colour(node.desc))
        elif in_preview and node.desc:
            pad = max(1, (x1 - x0) // 8)
            draw.rounded_rectangle((x0 + pad, y0 + pad, x1 - pad, y1 - pad), radius=pad, fill=_colour(node.desc))
        elif rid in ("icon_title", "title") and node.text:
            colour = (20, 20, 20) if folder_open else (255, 255, 255)
            draw.text((x0 + 8, y0 + 4), node.text[:14], fill=colour, font=font)
        elif node.desc and node.action[:1] == ("page",):
            cx, cy, r = (x0 + x1) // 2, (y0 + y1) // 2, max(2, (x1 - x0) // 4)
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 255, 255) if node.selected else None,
                         outline=(255, 255, 255))
        for child in node.children:
            visit(child, in_preview or rid == "preview_icons_container")

    parents: dict[int, Node] = {}
    for node, _ in root.walk():
        for child in node.children:
            parents[id(child)] = node

    def node_parent_kids(node: Node) -> list[Node]:
        parent = parents.get(id(node))
        return parent.children if parent is not None else []

    visit(root, False)


def screenshot_jpeg(state: DeviceState, scale: float = 1.0, quality: int = 80) -> bytes:
    """JPEG bytes of the current screen (cached per rendering)."""
    screen = current_screen(state)
    key = (screen.key, float(scale), int(quality))
    data = _shot_cache.get(key)
    if data is None:
        buf = io.BytesIO()
        render_screen(screen, scale).save(buf, format="JPEG", quality=max(1, min(100, int(quality))))
        data = buf.getvalue()
        if len(_shot_cache) > 256:
            _shot_cache.clear()
        _shot_cache[key] = data
    return data


# -- selectors ---------------------------------------------------------------------------------------------------
_STRING_FIELDS = {
    "text": ("text", "eq"), "textContains": ("text", "contains"), "textMatches": ("text", "matches"),
    "textStartsWith": ("text", "startswith"), "className": ("cls", "eq"), "classNameMatches": ("cls", "matches"),
    "description": ("desc", "eq"), "descriptionContains": ("desc", "contains"),
    "descriptionMatches": ("desc", "matches"), "descriptionStartsWith": ("desc", "startswith"),
    "packageName": ("package", "eq"), "packageNameMatches": ("package", "matches"),
    "resourceId": ("resource_id", "eq"), "resourceIdMatches": ("resource_id", "matches"),
}
_BOOL_FIELDS = {"clickable": "clickable", "longClickable": "clickable", "scrollable": "scrollable",
                "focusable": "focusable", "focused": "focused", "selected": "selected"}


def _string_op(op: str, have: str, want: str) -> bool:
    if op == "eq":
        return have == want
    if op == "contains":
        return want in have
    if op == "startswith":
        return have.startswith(want)
    try:
        return re.fullmatch(want, have, re.S) is not None
    except re.error:
        return False


def _matches(selector: dict[str, Any], node: Node, index: int) -> bool:
    for key, value in selector.items():
        if key in _STRING_FIELDS:
            attr, op = _STRING_FIELDS[key]
            if not _string_op(op, getattr(node, attr), str(value)):
                return False
        elif key in _BOOL_FIELDS:
            if bool(getattr(node, _BOOL_FIELDS[key])) != bool(value):
                return False
        elif key in ("checkable", "checked"):
            if bool(value):
                return False
        elif key == "enabled":
            if not bool(value):
                return False
        elif key == "index":
            if index != int(value):
                return False
    return True


def find(state: DeviceState, selector: dict[str, Any]) -> list[Node]:
    """Nodes of the current screen matching a uiautomator2 selector dict (``mask``, ``childOrSibling`` and
    ``instance`` handled; unknown fields ignored)."""
    fields = {k: v for k, v in selector.items() if k not in ("mask", "childOrSibling", "childOrSiblingSelector",
                                                            "instance")}
    found = [node for root in current_screen(state).windows for node, idx in root.walk()
             if _matches(fields, node, idx)]
    if "instance" in selector:
        n = int(selector["instance"])
        return found[n:n + 1]
    return found


def _obj_info(node: Node) -> dict[str, Any]:
    left, top, right, bottom = node.bounds
    bounds = {"left": left, "top": top, "right": right, "bottom": bottom}
    return {"bounds": bounds, "visibleBounds": bounds, "childCount": len(node.children), "className": node.cls,
            "contentDescription": node.desc or None, "packageName": node.package,
            "resourceName": node.resource_id or None, "text": node.text, "checkable": False, "checked": False,
            "clickable": node.clickable, "enabled": True, "focusable": node.focusable, "focused": node.focused,
            "longClickable": node.clickable, "scrollable": node.scrollable, "selected": node.selected}


# -- keys and dialog dismissal -----------------------------------------------------------------------------------
def dismiss_dialog(state: DeviceState) -> bool:
    """Close a crash/ANR dialog that has focus (its app is killed, the launcher comes back). True if one was."""
    with state.lock:
        window = state.focus.window if state.focus is not None else None
        if not window or not window.startswith((ERROR_PREFIX, ANR_PREFIX)):
            return False
        owner = window.split(": ", 1)[1]
        state.running.pop(owner, None)
        below = state.focus
        if below is not None and below.package != owner and below.package in state.running:
            state.focus = Focus(below.package, below.activity, below.component)
        else:
            state.go_home()
        return True


def press_key(state: DeviceState, key: str) -> bool:
    """``pressKey``: ``back`` closes a dialog, else an open launcher folder, else leaves the app (launcher);
    ``home`` goes home (default page, folder closed); others no-op."""
    with state.lock:
        if key == "back":
            if dismiss_dialog(state):
                return True
            on_launcher = state.focus is not None and state.focus.package == state.launcher.split("/", 1)[0]
            if on_launcher and state.open_folder is not None:
                state.open_folder = None
            else:
                state.go_home()
        elif key == "home":
            dismiss_dialog(state)
            state.press_home()
    return True


_KEYCODES = {3: "home", 4: "back"}


def _hit(root: Node, x: float, y: float) -> Node | None:
    """The deepest node with a launcher ``action`` under ``(x, y)``."""
    left, top, right, bottom = root.bounds
    if not (left <= x <= right and top <= y <= bottom):
        return None
    for child in reversed(root.children):
        found = _hit(child, x, y)
        if found is not None:
            return found
    return root if root.action else None


def click(state: DeviceState, x: float, y: float) -> bool:
    """``click``: a dialog button closes the dialog; on the launcher a tap opens a folder, starts an app, jumps to
    a page (indicator) or, outside an open folder, closes it; other clicks change nothing."""
    screen = current_screen(state)
    if screen.kind in ("crash", "anr"):
        for node, _ in screen.windows[0].walk():
            left, top, right, bottom = node.bounds
            if node.cls.endswith("Button") and left <= x <= right and top <= y <= bottom:
                if node.resource_id not in ("android:id/aerr_wait", "android:id/button2"):
                    dismiss_dialog(state)
                return True
        return True
    if screen.kind != "launcher":
        return True
    target = _hit(screen.windows[0], x, y)
    if target is None:
        return True
    kind, value = target.action
    with state.lock:
        if kind == "folder":
            state.open_folder = value
        elif kind == "close":
            state.open_folder = None
        elif kind == "page":
            state.launcher_page = int(value)
        elif kind == "app":
            activity = state.resolve_launcher(value)
            if activity is not None:
                state.open_folder = None
                state.launch(value, activity)
    return True


def swipe(state: DeviceState, sx: float, sy: float, ex: float, ey: float) -> bool:
    """``swipe``: on the launcher (no folder open) a horizontal swipe of more than a fifth of the screen turns the
    page (finger to the left: the next page, if any; to the right: the previous one, never before the first)."""
    screen = current_screen(state)
    if screen.kind != "launcher":
        return True
    dx, dy = ex - sx, ey - sy
    if abs(dx) < screen.width / 5 or abs(dx) <= abs(dy):
        return True
    with state.lock:
        if state.open_folder is not None:
            return True
        pages, _dock = home_layout(state)
        step = 1 if dx < 0 else -1
        state.launcher_page = min(max(0, state.launcher_page + step), len(pages) - 1)
    return True


# -- JSON-RPC ----------------------------------------------------------------------------------------------------
class RpcError(Exception):
    """A JSON-RPC error answer: ``code``, ``message`` (a Java exception class name, as the real server sends)."""

    def __init__(self, code: int, message: str, data: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


def device_info(state: DeviceState) -> dict[str, Any]:
    """``deviceInfo``: the keys of the server's DeviceInfo bean."""
    screen = current_screen(state)
    density = state.image.display.density
    current = "android" if screen.kind in ("crash", "anr") else screen.package
    return {"currentPackageName": current, "displayWidth": screen.width, "displayHeight": screen.height,
            "displayRotation": state.rotation, "displaySizeDpX": screen.width * 160 // density,
            "displaySizeDpY": screen.height * 160 // density,
            "productName": state.props.get("ro.product.name", ""), "naturalOrientation": state.rotation % 2 == 0,
            "screenOn": bool(state.screen_on), "sdkInt": state.sdk}


def _selector(params: list[Any], pos: int = 0) -> dict[str, Any]:
    if len(params) <= pos or not isinstance(params[pos], dict):
        raise RpcError(-32602, "java.lang.IllegalArgumentException", "a selector object is required")
    return params[pos]


class U2Server:
    """The HTTP/JSON-RPC server of one device (a transport ``TcpServiceFactory``: called once per stream).

    ``GET /ping`` answers ``pong``; ``POST /jsonrpc/0`` dispatches :attr:`methods`; other paths get 404.
    ``calls`` counts JSON-RPC calls per method (tests assert on it).
    """

    def __init__(self, state: DeviceState) -> None:
        self.state = state
        self.calls: dict[str, int] = {}

    async def __call__(self, reader: asyncio.StreamReader, writer: Any) -> None:
        """Serve HTTP requests on one stream until the client closes it."""
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, *_ = (lines[0].split(" ") + ["", ""])[:3]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                length = int(headers.get("content-length", "0") or 0)
                if length > _MAX_REQUEST:
                    await self._respond(writer, 413, b"Request too large", "text/plain")
                    return
                body = await reader.readexactly(length) if length else b""
                status, payload, ctype = await self.handle(method, path, body)
                await self._respond(writer, status, payload, ctype)
                if headers.get("connection", "").lower() != "keep-alive":
                    return

    @staticmethod
    async def _respond(writer: Any, status: int, payload: bytes, ctype: str) -> None:
        reason = {200: "OK", 404: "Not Found", 413: "Payload Too Large", 500: "Internal Server Error"}.get(status, "?")
        writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(payload)}\r\n"
                     f"Connection: close\r\n\r\n".encode() + payload)
        await writer.drain()

    async def handle(self, method: str, path: str, body: bytes) -> tuple[int, bytes, str]:
        """``(status, body, content type)`` for one request."""
        if method == "GET" and path == "/ping":
            return 200, b"pong", "text/plain"
        if method != "POST" or path != "/jsonrpc/0":
            return 404, b"Not Found!!!", "text/plain"
        try:
            req = json.loads(body or b"{}")
            name = req.get("method")
            params = req.get("params") or []
        except (ValueError, AttributeError):
            return 500, b"Invalid http post data", "text/plain"
        if isinstance(params, dict):
            params = []
        rid = req.get("id", 1)
        self.calls[name] = self.calls.get(name, 0) + 1
        try:
            result = await self.call(str(name), list(params))
        except RpcError as exc:
            answer = {"jsonrpc": "2.0", "id": rid,
                      "error": {"code": exc.code, "message": exc.message, "data": exc.data}}
        else:
            answer = {"jsonrpc": "2.0", "id": rid, "result": result}
        return 200, json.dumps(answer).encode(), "application/json"

    async def call(self, name: str, params: list[Any]) -> Any:
        """Run JSON-RPC method ``name``; raises :class:`RpcError` (-32601 for an unknown method)."""
        state = self.state
        if name == "deviceInfo":
            return device_info(state)
        if name == "dumpWindowHierarchy":
            max_depth = int(params[1]) if len(params) > 1 and params[1] else 50
            return hierarchy_xml(state, max_depth, bool(params[2]) if len(params) > 2 else False)
        if name == "takeScreenshot":
            scale = float(params[0]) if params else 1.0
            quality = int(params[1]) if len(params) > 1 else 80
            jpeg = screenshot_jpeg(state, scale, quality)
            return base64.encodebytes(jpeg).decode("ascii")  # Android Base64.DEFAULT: with line breaks
        if name == "exist":
            return bool(find(state, _selector(params)))
        if name == "count":
            return len(find(state, _selector(params)))
        if name in ("waitForExists", "waitUntilGone"):
            selector = _selector(params)
            timeout_ms = int(params[1]) if len(params) > 1 else 0
            want = name == "waitForExists"
            return await self._wait(lambda: bool(find(state, selector)) == want, timeout_ms)
        if name in ("objInfo", "objInfoOfAllInstances"):
            nodes = find(state, _selector(params))
            if name == "objInfoOfAllInstances":
                return [_obj_info(n) for n in nodes]
            if not nodes:
                raise RpcError(-32002, "androidx.test.uiautomator.UiObjectNotFoundException",
                               f"UiSelector[{json.dumps(params[0])}]")
            return _obj_info(nodes[0])
        if name == "pressKey":
            return press_key(state, str(params[0]).lower() if params else "")
        if name == "pressKeyCode":
            return press_key(state, _KEYCODES.get(int(params[0]), "") if params else "")
        if name == "swipe":
            if len(params) < 4 or not all(isinstance(p, int | float) for p in params[:4]):
                raise RpcError(-32602, "java.lang.IllegalArgumentException", "swipe needs sx, sy, ex, ey, steps")
            return swipe(state, *(float(p) for p in params[:4]))
        if name == "click":
            if len(params) >= 2 and all(isinstance(p, int | float) for p in params[:2]):
                return click(state, float(params[0]), float(params[1]))
            nodes = find(state, _selector(params))
            if not nodes:
                return False
            left, top, right, bottom = nodes[0].bounds
            return click(state, (left + right) / 2, (top + bottom) / 2)
        if name in ("setOrientation", "freezeRotation", "wakeUp", "sleep", "clearLastTraversedText"):
            return True
        raise RpcError(-32601, "method not found", name)

    @staticmethod
    async def _wait(condition: Callable[[], bool], timeout_ms: int) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0, timeout_ms) / 1000.0
        while True:
            if condition():
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))


# -- shell commands ----------------------------------------------------------------------------------------------
class _ServeWhileOpen:
    """``keep_open`` object of ``app_process``: keeps ``tcp:<port>`` registered until the host closes the stream."""

    def __init__(self, state: DeviceState, port: int, server: U2Server) -> None:
        self.state, self.port, self.server = state, port, server

    async def __call__(self, io_: Any) -> int | None:
        try:
            await io_.closed.wait()
        finally:
            with self.state.lock:
                if self.state.tcp_services.get(self.port) is self.server:
                    del self.state.tcp_services[self.port]
        return 0


def cmd_app_process(ctx: Any, argv: list[str]) -> int:
    """``CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main [-p PORT]``.

    Starts the uiautomator2 server when ``u2.jar`` was pushed; a second server on the same port fails with the
    real ``already registered`` message; other classes are "not found" (this device has no other dex).
    """
    state = ctx.state
    args = argv[1:]
    main = next((a for a in args if not a.startswith("-") and a != "/" and "." in a), None)
    classpath = ctx.env.get("CLASSPATH", "")
    if main != U2_MAIN or U2_JAR not in classpath.split(":") or not state.fs.exists(U2_JAR):
        ctx.err(f"Error: Could not find or load main class {main or ''}\n")
        return 1
    port = DEFAULT_PORT
    if "-p" in args:
        try:
            port = int(args[args.index("-p") + 1])
        except (IndexError, ValueError):
            ctx.err("Error: -p needs a port number\n")
            return 1
    ctx.out("[server] INFO: [UiAutomator2Server] Starting Server\n")
    with state.lock:
        if port in state.tcp_services:
            ctx.err("java.lang.IllegalStateException: UiAutomationService "
                    "android.accessibilityservice.IAccessibilityServiceClient$Stub$Proxy@5deffd5already registered!\n")
            return 1
        server = U2Server(state)
        state.tcp_services[port] = server
    ctx.keep_open.append(_ServeWhileOpen(state, port, server))
    return 0


class _Hold:
    """``keep_open`` object of a slow ``am start -W``: the stream stays open ``seconds`` before it ends."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def __call__(self, io_: Any) -> int | None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(io_.closed.wait(), self.seconds)
        return None


def _started_component(argv: list[str]) -> str | None:
    if "-n" in argv:
        i = argv.index("-n")
        return argv[i + 1] if i + 1 < len(argv) else None
    return None


def _dialog_of(state: DeviceState) -> str | None:
    window = state.focus.window if state.focus is not None else None
    return window if window and window.startswith((ERROR_PREFIX, ANR_PREFIX)) else None


def wrap_am(original: Callable[[Any, list[str]], int]) -> Callable[[Any, list[str]], int]:
    """Wrap the shell's ``am``: slow cold starts hold ``-W``; a showing crash/ANR dialog keeps focus."""

    def am(ctx: Any, argv: list[str]) -> int:
        state = ctx.state
        sub = argv[1] if len(argv) > 1 else ""
        if sub not in ("start", "start-activity"):
            return original(ctx, argv)
        comp = _started_component(argv)
        package = comp.split("/", 1)[0] if comp else None
        with state.lock:
            dialog = _dialog_of(state)
            was_running = package in state.running if package else True
            code = original(ctx, argv)
            pkg = state.package(package) if package else None
            if dialog is not None and state.focus is not None and _dialog_of(state) is None:
                owner = dialog.split(": ", 1)[1]
                if owner != package or dialog.startswith(ANR_PREFIX):
                    state.focus = Focus(state.focus.package, state.focus.activity, dialog)
        if ("-W" in argv and pkg is not None and not was_running and code == 0
                and pkg.launch.cold_start_ms > HOLD_THRESHOLD_MS and pkg.launch.outcome != "not_found"):
            ctx.keep_open.append(_Hold(pkg.launch.cold_start_ms / 1000.0))
        return code

    am.__wrapped__ = original  # type: ignore[attr-defined]
    return am


def cmd_date(ctx: Any, argv: list[str]) -> int:
    """``date [+FORMAT]``: the host's local time (the virtual device's clock; logcat stamps use the same)."""
    import time

    fmt = next((a[1:] for a in argv[1:] if a.startswith("+")), "%a %b %d %H:%M:%S %Z %Y")
    ctx.out(time.strftime(fmt, time.localtime()) + "\n")
    return 0


def install(commands: dict[str, Any]) -> None:
    """Register ``app_process`` (and ``date`` if the shell lacks it) and wrap ``am`` in a command table
    (idempotent)."""
    commands["app_process"] = cmd_app_process
    commands.setdefault("date", cmd_date)
    am = commands.get("am")
    if am is not None and not hasattr(am, "__wrapped__"):
        commands["am"] = wrap_am(am)
