"""Pure reading of a launcher's home screen from a uiautomator hierarchy dump: which icons and folders it shows.

No device, no adb, no pytest: XML text in, a :class:`LauncherView` out (and :class:`HomeScreenSurvey`, what one
device's launcher showed page by page, for :func:`harness.checks.check_home_screen`).

What a launcher dump looks like (the rules below rest on these public sources):

* **MIUI launcher** (``com.miui.home``). A real MIUI home screen as XiaoMi/MobileBench lists it (UI-agent prompt
  examples; leaf and scrollable nodes of a uiautomator dump in document order, Apache-2.0; transcribed in
  ``tests/fixtures/launcher/``): the workspace is ``com.miui.home:id/workspace`` (class
  ``com.miui.home.launcher.ScreenView``, scrollable); a nested ScreenView is the page indicator (one clickable
  ImageView per screen, ``content-desc`` "第1屏" = "screen 1"); each app is an ImageView ``…:id/icon_icon``
  (``content-desc`` = label) and a TextView ``…:id/icon_title`` (``text`` = label); a folder has the same two
  nodes named after the folder with unnamed ImageViews between them, one per app in its closed preview
  (``content-desc`` = app label); the dock is ``…:id/hotseat_content_screen`` whose icons have no title. The
  layouts of the MIUI Home APK (Little-W/miui-home-sourse ``res/layout/application.xml``, ``folder_icon.xml``,
  ``icon_title.xml``, ``folder.xml``, ``folder_header.xml``, ``folder_grid.xml``) give the containers the listing
  leaves out: an icon is a ``ShortcutIcon`` (RelativeLayout) holding ``icon_container`` and
  ``icon_title_container``; a folder icon holds ``preview_icons_container``; an open folder shows its name in
  ``…:id/title`` and its icons in the GridView ``…:id/folder_content``.
* **AOSP Launcher3 / Pixel Launcher**. A real Pixel Launcher dump (Matth33w/js-adb ``window_dump.xml`` @ 6c2c763,
  copied to ``tests/fixtures/launcher/``): ``…:id/workspace`` (``android.widget.ScrollView``) holding CellLayouts
  (``android.view.ViewGroup``); ``…:id/hotseat``; icons are ``android.widget.TextView`` with ``text`` and
  ``content-desc`` = label and no resource id; ``…:id/page_indicator`` is a leaf View. Launcher3 folders are read
  from the same ``folder_content`` id, their name from ``…:id/folder_name``; a closed folder icon is recognised by a
  ``content-desc`` starting "Folder" (not checked against a real dump: treat Launcher3 folders as best effort).

uiautomator skips children that are not visible (notes ``uiautomator2-device-needs.md`` §2.3), so a dump holds the
*current* workspace page only; the harness reads other pages by swiping (see
:mod:`harness.homescreen_survey`). Rules:

* areas: the workspace (id ``workspace``), the dock (``hotseat`` / ``hotseat_content_screen``) and an open folder
  (``folder_content``); a node belongs to its nearest area;
* inside the workspace, a nested ``…ScreenView`` that is not an area (MIUI's page indicator), the
  ``page_indicator`` and a folder's closed preview (``preview_icons_container`` / ``folder_preview_icon``) are not
  icons (the preview's labels are kept as the folder's ``preview``);
* an icon is the nearest ancestor-or-self of a node with text or content-desc that holds an ``icon_container`` /
  ``icon_title_container`` child (MIUI), else the nearest clickable one; only MIUI icons, TextViews (Launcher3's
  icons) and folders count (a clock or search widget on the page is not an icon); its label is, in order,
  the text of its ``icon_title`` / ``folder_icon_name`` node, its own text, its own content-desc, the first text
  or content-desc inside it. Labels compare after collapsing white space; nothing else is normalised.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from harness.errors import ParseError

Area = Literal["workspace", "hotseat", "folder"]
Kind = Literal["app", "folder"]

WORKSPACE_IDS = ("workspace",)
HOTSEAT_IDS = ("hotseat", "hotseat_content_screen")
FOLDER_CONTENT_IDS = ("folder_content",)
FOLDER_TITLE_IDS = ("title", "folder_name", "folder_title")
PREVIEW_IDS = ("preview_icons_container", "folder_preview_icon")
TITLE_IDS = ("icon_title", "folder_icon_name")
INDICATOR_IDS = ("page_indicator",)
ITEM_CHILD_IDS = ("icon_container", "icon_title_container")

_BOUNDS_RE = re.compile(r"\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]")
_FOLDER_DESC_RE = re.compile(r"^Folder:\s*(?P<name>.*?)(?:,\s*\d+\s+items?)?$", re.I)
_EVIDENCE_ATTRS = ("text", "resource-id", "class", "content-desc", "selected", "bounds")


def normalize_label(text: str | None) -> str:
    """``text`` with runs of white space collapsed to one space and the ends stripped ("" for None)."""
    return " ".join((text or "").split())


def _suffix(node: ET.Element) -> str:
    rid = node.get("resource-id") or ""
    return rid.split(":id/", 1)[1] if ":id/" in rid else ""


def _bounds(node: ET.Element) -> tuple[int, int, int, int]:
    m = _BOUNDS_RE.fullmatch((node.get("bounds") or "").strip())
    if m is None:
        return (0, 0, 0, 0)
    left, top, right, bottom = (int(g) for g in m.groups())
    return left, top, right, bottom


def node_line(node: ET.Element) -> str:
    """One node as evidence: its identifying attributes, ``<node text="Word" resource-id="…" … bounds="[…]">``."""
    parts = [f'{a}="{node.get(a)}"' for a in _EVIDENCE_ATTRS if node.get(a) not in (None, "", "false")]
    return "<node " + " ".join(parts) + ">"


@dataclass(frozen=True)
class LauncherItem:
    """One icon on the launcher.

    Attributes:
        label: the icon's label (white space collapsed).
        kind: ``app`` or ``folder``.
        area: ``workspace`` (the current page), ``hotseat`` (the dock) or ``folder`` (inside an open folder).
        bounds: ``(left, top, right, bottom)`` in screen pixels of the icon's clickable node.
        node: the node that names it, as one evidence line (:func:`node_line`).
        preview: for a folder, the labels its closed icon previews (MIUI lists up to 9); else empty.
    """

    label: str
    kind: Kind
    area: Area
    bounds: tuple[int, int, int, int]
    node: str
    preview: tuple[str, ...] = ()

    @property
    def center(self) -> tuple[int, int]:
        """The middle of :attr:`bounds` (where a tap opens it), in pixels."""
        left, top, right, bottom = self.bounds
        return (left + right) // 2, (top + bottom) // 2

    def describe(self) -> str:
        """``Word`` for an app, ``folder "Microsoft" (Word, Excel)`` for a folder (its preview, if any)."""
        if self.kind == "folder":
            return f'folder "{self.label}"' + (f" ({', '.join(self.preview)})" if self.preview else "")
        return self.label


@dataclass(frozen=True)
class LauncherView:
    """What one hierarchy dump shows of the launcher.

    Attributes:
        package: the package of the workspace (or of the open folder) node, e.g. ``com.miui.home``; None when the
            dump has no launcher area (another app or a dialog is in front).
        workspace: bounds of the workspace node, or None when it is not on screen (e.g. while a folder is open).
        items: every icon of the workspace page on screen, the dock and an open folder, in document order.
        folder_title: the title of an open folder ("" when one is open but shows no title), None when none is open.
        indicator: ``(position of the selected point, number of points)`` of MIUI's page indicator (a point may
            stand for the -1 screen, so this is not a page number), or None when the dump has none marked.
    """

    package: str | None
    workspace: tuple[int, int, int, int] | None
    items: tuple[LauncherItem, ...] = ()
    folder_title: str | None = None
    indicator: tuple[int, int] | None = None

    @property
    def is_launcher(self) -> bool:
        """True when the dump shows a launcher workspace or an open launcher folder."""
        return self.workspace is not None or self.folder_title is not None

    @property
    def folder_open(self) -> bool:
        """True when a folder is open (its ``folder_content`` is on screen)."""
        return self.folder_title is not None

    def in_area(self, *areas: Area) -> list[LauncherItem]:
        """The items of these areas (all items when none is given)."""
        return [i for i in self.items if not areas or i.area in areas]

    def find_app(self, label: str, areas: Iterable[Area] = ("workspace", "hotseat")) -> LauncherItem | None:
        """The first app icon labelled ``label`` (white space collapsed) in ``areas``, or None."""
        return next(iter(self.find_apps(label, areas)), None)

    def find_apps(self, label: str, areas: Iterable[Area] = ("workspace", "hotseat")) -> list[LauncherItem]:
        """Every app icon labelled ``label`` (white space collapsed) in ``areas``, in screen order."""
        want = normalize_label(label)
        wanted_areas = tuple(areas)
        return [i for i in self.items if i.kind == "app" and i.area in wanted_areas and i.label == want]

    def find_folder(self, name: str) -> LauncherItem | None:
        """The first folder icon named ``name`` on the workspace page or the dock, or None."""
        want = normalize_label(name)
        return next((i for i in self.items if i.kind == "folder" and i.area != "folder" and i.label == want), None)

    def folder_apps(self) -> list[str]:
        """Labels of the app icons inside the open folder (empty when none is open)."""
        return [i.label for i in self.items if i.area == "folder" and i.kind == "app"]

    def summary(self) -> str:
        """One line: ``workspace: Phone, folder "Microsoft" (Word, Excel); hotseat: Camera`` (areas with icons)."""
        parts = []
        for area in ("workspace", "hotseat", "folder"):
            shown = [i.describe() for i in self.items if i.area == area]
            if shown:
                name = f'open folder "{self.folder_title}"' if area == "folder" else area
                parts.append(f"{name}: {', '.join(shown)}")
        return "; ".join(parts) or "no launcher icon"

    def signature(self) -> tuple[object, ...]:
        """Identity of what the page shows (every icon's label, kind, area and bounds, and the page indicator):
        equal after a swipe means the swipe changed nothing (there is no further page)."""
        return (self.indicator, *((i.label, i.kind, i.area, i.bounds) for i in self.items))


def _parse(xml: str) -> ET.Element:
    try:
        return ET.fromstring(xml.encode("utf-8"))
    except ET.ParseError as exc:
        raise ParseError(f"hierarchy XML does not parse: {exc}", command="dumpWindowHierarchy",
                         excerpt=xml[:300]) from None


def _walk(node: ET.Element, parents: dict[ET.Element, ET.Element]) -> Iterator[ET.Element]:
    for child in node.findall("node"):
        parents[child] = node
        yield child
        yield from _walk(child, parents)


def _label_of(root: ET.Element, named: list[ET.Element]) -> str:
    for node in [root, *root.iter("node")]:
        if _suffix(node) in TITLE_IDS and normalize_label(node.get("text")):
            return normalize_label(node.get("text"))
    own = normalize_label(root.get("text")) or normalize_label(root.get("content-desc"))
    if own:
        m = _FOLDER_DESC_RE.match(own)
        return normalize_label(m.group("name")) if m and m.group("name") else own
    for node in named:
        text = normalize_label(node.get("text")) or normalize_label(node.get("content-desc"))
        if text:
            return text
    return ""


def _is_icon(root: ET.Element) -> bool:
    """An icon, not a widget: MIUI's icon layout, a Launcher3 TextView icon, or a folder."""
    return (any(_suffix(child) in ITEM_CHILD_IDS for child in root.findall("node"))
            or (root.get("class") or "").endswith("TextView") or _is_folder(root))


def _is_folder(root: ET.Element) -> bool:
    if any(_suffix(n) in PREVIEW_IDS for n in root.iter("node")):
        return True
    cls = root.get("class") or ""
    return "Folder" in cls.rsplit(".", 1)[-1] or bool(_FOLDER_DESC_RE.match(normalize_label(root.get("content-desc"))))


def _preview(root: ET.Element) -> tuple[str, ...]:
    out: list[str] = []
    for node in root.iter("node"):
        if _suffix(node) in PREVIEW_IDS:
            for child in node.iter("node"):
                label = normalize_label(child.get("content-desc")) or normalize_label(child.get("text"))
                if child is not node and label:
                    out.append(label)
    return tuple(out)


@dataclass
class _Scan:
    parents: dict[ET.Element, ET.Element] = field(default_factory=dict)
    area_of: dict[ET.Element, tuple[Area, ET.Element]] = field(default_factory=dict)


def read_launcher(xml: str) -> LauncherView:
    """Read the launcher icons a hierarchy dump shows (module docstring for the rules and their sources).

    Args:
        xml: the ``dumpWindowHierarchy`` text (all windows, as uiautomator2 returns it).

    Returns:
        The :class:`LauncherView`; ``package`` None and no items when no launcher area is on screen.

    Raises:
        ParseError: the text is not XML.
    """
    root = _parse(xml)
    scan = _Scan()
    nodes = list(_walk(root, scan.parents))
    workspace = folder_root = None
    for node in nodes:
        sfx = _suffix(node)
        area: Area | None = ("workspace" if sfx in WORKSPACE_IDS else "hotseat" if sfx in HOTSEAT_IDS
                             else "folder" if sfx in FOLDER_CONTENT_IDS else None)
        parent = scan.parents.get(node)
        inherited = scan.area_of.get(parent) if parent is not None else None
        if area is not None and not (inherited is not None and inherited[0] == area):
            scan.area_of[node] = (area, node)
            if area == "workspace" and workspace is None:
                workspace = node
            elif area == "folder" and folder_root is None:
                folder_root = node
        elif inherited is not None:
            scan.area_of[node] = inherited
    skipped: set[ET.Element] = set()
    indicator = None
    for node, (area, area_root) in scan.area_of.items():
        if node is area_root:
            continue
        cls = node.get("class") or ""
        if _suffix(node) in PREVIEW_IDS + INDICATOR_IDS or (area == "workspace" and cls.endswith("ScreenView")):
            skipped.add(node)
            points = node.findall("node")
            marked = [n for n, point in enumerate(points, 1) if point.get("selected") == "true"]
            if indicator is None and marked:
                indicator = (marked[0], len(points))
    groups: dict[ET.Element, list[ET.Element]] = {}
    group_area: dict[ET.Element, Area] = {}
    for node in nodes:
        if node not in scan.area_of:
            continue
        area, area_root = scan.area_of[node]
        if node is area_root or _inside(node, skipped, scan.parents, area_root):
            continue
        if not (normalize_label(node.get("text")) or normalize_label(node.get("content-desc"))):
            continue
        item_root = _item_root(node, area_root, scan.parents)
        groups.setdefault(item_root, []).append(node)
        group_area[item_root] = area
    items: list[LauncherItem] = []
    for item_root, named in groups.items():
        label = _label_of(item_root, named)
        if not label or not _is_icon(item_root):
            continue
        kind: Kind = "folder" if _is_folder(item_root) else "app"
        title = next((n for n in named if _suffix(n) in TITLE_IDS), None)
        items.append(LauncherItem(label=label, kind=kind, area=group_area[item_root], bounds=_bounds(item_root),
                                  node=node_line(title if title is not None else item_root),
                                  preview=_preview(item_root) if kind == "folder" else ()))
    folder_title = _folder_title(folder_root, scan.parents) if folder_root is not None else None
    package_node = workspace if workspace is not None else folder_root
    return LauncherView(package=package_node.get("package") if package_node is not None else None,
                        workspace=_bounds(workspace) if workspace is not None else None,
                        items=tuple(items), folder_title=folder_title, indicator=indicator)


def _inside(node: ET.Element, skipped: set[ET.Element], parents: dict[ET.Element, ET.Element],
            stop: ET.Element) -> bool:
    cur: ET.Element | None = node
    while cur is not None and cur is not stop:
        if cur in skipped:
            return True
        cur = parents.get(cur)
    return False


def _item_root(node: ET.Element, area_root: ET.Element, parents: dict[ET.Element, ET.Element]) -> ET.Element:
    """The icon a labelled node belongs to: the nearest ancestor-or-self holding an ``icon_container`` /
    ``icon_title_container`` child (MIUI's ShortcutIcon/FolderIcon layouts), else the nearest clickable one."""
    chain: list[ET.Element] = []
    cur: ET.Element | None = node
    while cur is not None and cur is not area_root:
        chain.append(cur)
        cur = parents.get(cur)
    for candidate in chain:
        if any(_suffix(child) in ITEM_CHILD_IDS for child in candidate.findall("node")):
            return candidate
    return next((c for c in chain if c.get("clickable") == "true"), node)


def _folder_title(folder_root: ET.Element, parents: dict[ET.Element, ET.Element]) -> str:
    """The open folder's name: the nearest ``title``/``folder_name`` node in the folder's enclosing views."""
    cur: ET.Element | None = parents.get(folder_root)
    while cur is not None:
        for node in cur.iter("node"):
            if _suffix(node) in FOLDER_TITLE_IDS and (node.get("text") or node.get("content-desc")):
                return normalize_label(node.get("text")) or normalize_label(node.get("content-desc"))
        cur = parents.get(cur)
    return ""


# -- what one device's launcher showed ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PageRead:
    """One workspace page as read: its view, the raw hierarchy and a JPEG screenshot (None if not taken)."""

    page: int
    view: LauncherView
    xml: str
    screenshot: bytes | None = None


@dataclass(frozen=True)
class FolderRead:
    """One folder opened on a page: its view while open (``view.folder_title``, ``view.folder_apps()``), the raw
    hierarchy and a JPEG screenshot."""

    page: int
    name: str
    view: LauncherView
    xml: str
    screenshot: bytes | None = None


@dataclass(frozen=True)
class HomeScreenSurvey:
    """What the launcher of one device showed, read once for all its apps.

    Attributes:
        launcher: the launcher package (``com.miui.home``).
        pages: page number (1 = the default home screen) → :class:`PageRead`, for the pages read.
        last_page: the last page that exists, when a swipe past it changed nothing; None when every page asked for
            existed.
        folders: ``(page, folder name)`` → :class:`FolderRead` for each folder opened.
        actions: what the harness did on the device, in order (``HOME``, ``swipe to page 2``, ``open folder …``).
        opened: ``(page, folder name or None, label)`` → the package each icon of that label there brought to the
            front when tapped, in screen order (None: nothing came to the front in time): an icon is proven to be
            the app only by what it opens, as another app may carry the same label.
    """

    launcher: str | None
    pages: dict[int, PageRead]
    last_page: int | None = None
    folders: dict[tuple[int, str], FolderRead] = field(default_factory=dict)
    actions: tuple[str, ...] = ()
    opened: dict[tuple[int, str | None, str], tuple[str | None, ...]] = field(default_factory=dict)

    def where_is(self, label: str) -> list[str]:
        """Every place the survey saw an app icon labelled ``label``: ``page 2 workspace``, ``folder "Tools" on page
        1``, ``hotseat``, ``preview of folder "X" on page 1`` (a closed folder's preview only)."""
        want = normalize_label(label)
        out: list[str] = []
        for number, read in sorted(self.pages.items()):
            for item in read.view.items:
                if item.kind == "app" and item.label == want and item.area in ("workspace", "hotseat"):
                    place = "hotseat" if item.area == "hotseat" else f"page {number} workspace"
                    if place not in out:
                        out.append(place)
                if item.kind == "folder" and want in item.preview and (number, item.label) not in self.folders:
                    out.append(f'preview of folder "{item.label}" on page {number}')
        for (number, name), folder in sorted(self.folders.items()):
            if want in folder.view.folder_apps():
                out.append(f'folder "{name}" on page {number}')
        return out
