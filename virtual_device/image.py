"""Virtual device images: the YAML model of one phone (props, users, display, packages, faults).

An image file (``virtual_device/images/<name>.yaml``) describes what a virtual device reports. It is validated
with pydantic (``extra="forbid"``); every error is an :class:`ImageError` (a ``harness.errors.ProfileError``)
naming the file, line, dotted key and a hint ("did you mean `version_code`?"), never a traceback.

Props may come from a real ``adb shell getprop`` dump (``props_from: props/<file>.txt``, relative to the image's
directory); keys given in ``props`` win over the dump. :func:`import_getprop` reads such a dump (CRLF-safe, UTF-8,
the ``[key]: [value]`` format of every Android version; see corpus ``getprop_android15_hyperos2_xiaomi14_crlf.txt``).

Command line: ``python -m virtual_device import-getprop DUMP [--image IMAGE.yaml]`` (:func:`cli_import_getprop`).
"""

from __future__ import annotations

import argparse
import difflib
import posixpath
import re
import sys
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.errors import ParseError, ProfileError, ProfileErrors
from harness.parsers.getprop import parse_getprop  # the harness's parser reads dumps for images too
from harness.yamlsource import Locations, load_yaml, validation_errors

#: Directory holding the shipped seed images.
IMAGES_DIR = Path(__file__).resolve().parent / "images"

_PKG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$|^android$")
_CLASS_RE = re.compile(r"^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)+$")

PAGE_CELLS = 20
"""Items one home-screen page holds (MIUI's default 4 x 5 grid)."""
HOTSEAT_CELLS = 5
"""Icons the hotseat (dock) holds."""

#: props every image must end up with (after ``props_from`` is merged), with the reason.
REQUIRED_PROPS = {
    "ro.build.version.sdk": "selects the per-Android-version output formats",
    "ro.build.version.release": "read by device_info / profiles",
    "ro.product.model": "profiles match on it; part of the adb banner",
    "ro.product.device": "part of the adb banner",
    "ro.product.name": "part of the adb banner",
}


class ImageError(ProfileError):
    """An image file is invalid: ``path``, ``line``, ``key`` and ``hint`` say where and how to fix it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class User(_Strict):
    """One Android user (``pm list users``: ``UserInfo{id:name:flags}``); flags hex as in UserInfo.FLAG_*."""

    id: int = Field(ge=0)
    name: str
    flags: int = 0x13


class Display(_Strict):
    """Physical display size in pixels and density in dpi (``wm size`` / ``wm density`` / ``dumpsys display``)."""

    width: int = Field(1080, gt=0, le=8192)
    height: int = Field(1920, gt=0, le=8192)
    density: int = Field(480, gt=0, le=1000)


class Behaviour(_Strict):
    """Transport faults (implemented by the transport): added latency, going offline, hanging, refusing auth."""

    latency_ms: float = Field(0, ge=0)
    offline_after: int | None = Field(None, ge=0)
    back_after_s: float | None = Field(None, gt=0, le=600)
    """With ``offline_after``: the device comes back (accepts connections again) this many seconds after it
    dropped, once; without it the device stays away."""
    hang_on: str | None = None
    refuse_auth: bool = False
    dumpsys_ms: dict[str, int] = Field(default_factory=dict)
    """Milliseconds a system service takes to dump itself, by service name (``package: 15000``). ``dumpsys`` cuts
    a dump that outlasts its timeout (10 s, or ``-t``/``-T``; API 24+) and prints the timeout marker (see
    ``virtual_device/shell/dumpsys.py``); nothing sleeps."""

    @field_validator("dumpsys_ms")
    @classmethod
    def _non_negative(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [k for k, ms in v.items() if ms < 0]
        if bad:
            raise ValueError(f"dump times must be >= 0 ms (service {bad[0]})")
        return v


class Factory(_Strict):
    """The factory (hidden) copy of an updated system app, as listed under ``Hidden system packages:``.

    ``version_name`` null: the manifest has no ``android:versionName`` (dumpsys prints ``versionName=null``).
    ``apk``: the file served at ``code_path`` (a fixture name or a path, as for :attr:`Package.apk`).
    """

    version_name: str | None
    version_code: int = Field(ge=0)
    code_path: str
    apk: str | None = None


class UserState(_Strict):
    """Per-user package state: ``installed`` and ``enabled`` (COMPONENT_ENABLED_STATE_*: 0 default, 1 enabled,
    2 disabled, 3 disabled-user, 4 disabled-until-used)."""

    installed: bool = True
    enabled: int = Field(0, ge=0, le=4)


class Launch(_Strict):
    """What happens when the launcher activity is started (see ``virtual_device/shell/launch.py``)."""

    outcome: Literal["ok", "crash", "anr", "not_found", "no_window", "overlay"] = "ok"
    cold_start_ms: int = Field(500, ge=0)
    exception: str | None = None


class FirstScreen(_Strict):
    """Texts and resource ids of the first screen (``uiautomator dump`` hierarchy)."""

    texts: list[str] = Field(default_factory=list)
    resource_ids: list[str] = Field(default_factory=list)


class Package(_Strict):
    """One installed package.

    ``code_path`` is the base APK file (``/system/app/Word/Word.apk``, ``/data/app/<pkg>-1/base.apk``); dumpsys
    reports its directory as ``codePath=``. ``kind``: ``system`` (SYSTEM flag), ``updated_system`` (SYSTEM +
    UPDATED_SYSTEM_APP, live copy in /data/app, ``factory`` required), ``removable_preload`` (MIUI
    /system/data-app, no SYSTEM flag), ``user``. ``version_name`` is the manifest string as is (a newline in it is
    printed raw by dumpsys, as AOSP ``pw.println`` does) or null for a manifest without one (``versionName=null``).

    ``apk``: the real APK file served at ``code_path`` (and at each split's path): the name of a fixture of
    :mod:`virtual_device.apk_fixtures` (``partner-v1v2``; built on demand) or a file path relative to the image.
    Without it the device serves a few stable filler bytes that are no ZIP (enough for ``md5sum`` and ``ls``).
    """

    package: str
    label: str | None = None
    version_name: str | None
    version_code: int = Field(ge=0)
    code_path: str
    kind: Literal["system", "updated_system", "removable_preload", "user"] = "user"
    factory: Factory | None = None
    splits: list[str] = Field(default_factory=list)
    launcher_activity: str | None = None
    users: dict[int, UserState] = Field(default_factory=dict)
    launch: Launch = Field(default_factory=Launch)
    first_screen: FirstScreen = Field(default_factory=FirstScreen)
    min_sdk: int = Field(21, ge=1)
    target_sdk: int = Field(23, ge=1)
    uid: int | None = Field(None, ge=1000)
    privileged: bool = False
    installer: str | None = None
    apk: str | None = None

    @field_validator("package")
    @classmethod
    def _package_name(cls, v: str) -> str:
        if not _PKG_RE.match(v):
            raise ValueError("not a valid Android package name (e.g. com.microsoft.office.word)")
        return v

    @field_validator("launcher_activity")
    @classmethod
    def _activity_name(cls, v: str | None) -> str | None:
        if v is not None and not _CLASS_RE.match(v):
            raise ValueError("must be a fully qualified class name (e.g. com.skype.raider.Main)")
        return v

    @field_validator("code_path")
    @classmethod
    def _apk_path(cls, v: str) -> str:
        if not v.startswith("/") or not v.endswith(".apk"):
            raise ValueError("must be the absolute path of the base APK file, ending in .apk")
        return v

    @model_validator(mode="after")
    def _kind_rules(self) -> Package:
        if self.kind == "updated_system":
            if self.factory is None:
                raise ValueError("kind updated_system needs `factory` (the hidden /system copy)")
            if not self.code_path.startswith("/data/app/"):
                raise ValueError("an updated_system package's live code_path must be under /data/app/")
        elif self.factory is not None:
            raise ValueError("`factory` is only allowed with kind: updated_system")
        if self.kind == "user" and not self.code_path.startswith("/data/app/"):
            raise ValueError("a user package's code_path must be under /data/app/")
        return self

    # -- derived values used by the renderers ----------------------------------------------------------------
    @property
    def code_dir(self) -> str:
        """``codePath=`` of dumpsys: the APK's directory (Android 5+ package directories)."""
        return posixpath.dirname(self.code_path)

    @property
    def is_system(self) -> bool:
        """True when the package carries ApplicationInfo.FLAG_SYSTEM."""
        return self.kind in ("system", "updated_system")

    def apk_paths(self) -> list[str]:
        """Base APK then split APKs (``split_<name>.apk`` beside the base), as ``pm path`` lists them."""
        return [self.code_path] + [f"{self.code_dir}/split_{s}.apk" for s in self.splits]

    def user_state(self, user: int) -> UserState | None:
        """The state for ``user``; packages are installed and default-enabled for every user unless said."""
        return self.users.get(user, UserState())


class HomeFolder(_Strict):
    """A folder on the home screen: its ``folder`` name and the ``apps`` (packages) inside, in order."""

    folder: str = Field(min_length=1)
    apps: list[str] = Field(min_length=1)


def _home_item_kind(value: object) -> str:
    # The tags start with "function-" so error keys leave them out, as they leave out pydantic's function
    # validators (harness.yamlsource.validation_errors): `pages[0][1].apps`, not `pages[0][1].folder.apps`.
    return "function-folder" if isinstance(value, dict | HomeFolder) else "function-app"


HomeItem = Annotated[Annotated[str, Tag("function-app")] | Annotated[HomeFolder, Tag("function-folder")],
                     Discriminator(_home_item_kind)]
"""One home-screen page item: a package name (an app icon) or a :class:`HomeFolder` (a mapping)."""


class HomeScreenLayout(_Strict):
    """The launcher's home screen (rendered by ``virtual_device/u2server.py`` as MIUI's launcher does).

    ``pages``: workspace pages left to right; the first is the default home screen (what HOME shows). Each page
    lists up to :data:`PAGE_CELLS` items: a package (an app icon) or a :class:`HomeFolder`. ``hotseat``: up to
    :data:`HOTSEAT_CELLS` packages in the dock, shown on every page. An app that is not installed or not enabled for
    user 0, or has no launcher activity, gets no icon (as on a phone).
    """

    pages: list[list[HomeItem]] = Field(min_length=1)
    hotseat: list[str] = Field(default_factory=list)

    @field_validator("pages")
    @classmethod
    def _page_size(cls, v: list[list[str | HomeFolder]]) -> list[list[str | HomeFolder]]:
        for i, page in enumerate(v):
            if len(page) > PAGE_CELLS:
                raise ValueError(f"page {i + 1} has {len(page)} items; a page holds at most {PAGE_CELLS} (4 x 5)")
        return v

    @field_validator("hotseat")
    @classmethod
    def _hotseat_size(cls, v: list[str]) -> list[str]:
        if len(v) > HOTSEAT_CELLS:
            raise ValueError(f"the hotseat holds at most {HOTSEAT_CELLS} icons ({len(v)} given)")
        return v

    def packages(self) -> list[tuple[str, tuple[str | int, ...]]]:
        """Every package the layout names with its key path (``("pages", 0, 2, "apps", 1)``), in order."""
        out: list[tuple[str, tuple[str | int, ...]]] = []
        for p, page in enumerate(self.pages):
            for i, item in enumerate(page):
                if isinstance(item, HomeFolder):
                    out += [(pkg, ("pages", p, i, "apps", j)) for j, pkg in enumerate(item.apps)]
                else:
                    out.append((item, ("pages", p, i)))
        out += [(pkg, ("hotseat", i)) for i, pkg in enumerate(self.hotseat)]
        return out


class Image(_Strict):
    """A whole virtual device image (see module docstring and specs/vd-interface.md).

    Beyond the interface: ``launcher`` is the home activity (``pkg/fully.qualified.Class``) that has focus after
    boot, HOME and force-stops; ``home_screen`` its icon layout (:class:`HomeScreenLayout`; None: every launchable
    app in listing order, :data:`PAGE_CELLS` per page, Phone/Messages/Browser/Camera in the dock); packages may also
    set ``min_sdk``, ``target_sdk``, ``uid``, ``privileged`` and ``installer`` (rendered by ``dumpsys package``).
    """

    name: str
    description: str = ""
    props: dict[str, str] = Field(default_factory=dict)
    props_from: str | None = None
    users: list[User] = Field(default_factory=lambda: [User(id=0, name="Owner")])
    display: Display = Field(default_factory=Display)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    packages: list[Package] = Field(default_factory=list)
    base_packages: bool = True
    launcher: str = "com.miui.home/com.miui.home.launcher.Launcher"
    home_screen: HomeScreenLayout | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(r"^[a-z0-9][a-z0-9-]*$", v):
            raise ValueError("use lower-case letters, digits and dashes (e.g. mi5-cn)")
        return v

    @property
    def sdk(self) -> int:
        """``ro.build.version.sdk`` as int."""
        return int(self.props["ro.build.version.sdk"])

    def package(self, name: str) -> Package | None:
        """The package named ``name`` or None."""
        for p in self.packages:
            if p.package == name:
                return p
        return None


# -- getprop dumps ---------------------------------------------------------------------------------------------

def import_getprop(path: str | Path) -> dict[str, str]:
    """Read a getprop dump file (UTF-8, CRLF-safe) into ``{key: value}``; ImageError if unreadable or empty."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise ImageError(f"cannot read getprop dump: {exc.strerror}", path=str(p), hint="check the path") from None
    try:
        return parse_getprop(text)
    except ParseError as exc:
        # the parser says either "no '[key]: [value]' line found" or that the last value is never closed
        what = "no `[key]: [value]` lines found" if not exc.detail.startswith("value of") else exc.detail
        raise ImageError(what, path=str(p), hint="capture it with `adb shell getprop > dump.txt`") from None


def write_image_props(image_path: str | Path, dump_path: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """Copy a real getprop dump into an image: the dump goes to ``images/props/<name>``, ``props_from`` is set.

    Inline ``props`` win over ``props_from`` (see images/README.md), so importing removes every inline prop the
    dump also has: after the import the device reports the dump's values. Inline props the dump lacks stay. The
    image YAML is rewritten keeping its other keys; the dump is parsed first so a bad dump changes nothing.
    Returns ``(imported props, {key: old inline value} for each inline prop the dump replaced)``.
    """
    image_path = Path(image_path)
    props = import_getprop(dump_path)
    data, _ = load_yaml(image_path)
    if not isinstance(data, dict):
        raise ImageError("the image must be a mapping", path=str(image_path), line=1)
    props_dir = image_path.parent / "props"
    props_dir.mkdir(exist_ok=True)
    target = props_dir / Path(dump_path).name
    if Path(dump_path).resolve() != target.resolve():
        target.write_bytes(Path(dump_path).read_bytes())
    data["props_from"] = f"props/{target.name}"
    replaced: dict[str, str] = {}
    inline = data.get("props")
    if isinstance(inline, dict):
        replaced = {str(k): str(v) for k, v in inline.items() if str(k) in props}
        kept = {k: v for k, v in inline.items() if str(k) not in props}
        if kept:
            data["props"] = kept
        else:
            data.pop("props")
    image_path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return props, replaced


def cli_import_getprop(argv: list[str]) -> int:
    """``python -m virtual_device import-getprop DUMP [--image IMAGE.yaml]``.

    Without ``--image`` prints the parsed props as ``key: value`` YAML (quoted) to paste into an image's
    ``props``; with ``--image`` copies the dump beside the image and sets ``props_from``. Returns an exit code
    (0 ok, 2 bad input, message on stderr).
    """
    ap = argparse.ArgumentParser(prog="python -m virtual_device import-getprop",
                                 description="Import a real `adb shell getprop` dump into a virtual device image.")
    ap.add_argument("dump", help="getprop output file (UTF-8; CRLF is fine)")
    ap.add_argument("--image", help="image YAML to point at the dump (props_from)")
    args = ap.parse_args(argv)
    try:
        if args.image:
            props, replaced = write_image_props(args.image, args.dump)
            print(f"{args.image}: props_from set; {len(props)} props imported")
            if replaced:
                shown = ", ".join(f"{k} ({v!r} -> {props[k]!r})" for k, v in sorted(replaced.items())[:8])
                more = f" and {len(replaced) - 8} more" if len(replaced) > 8 else ""
                print(f"removed {len(replaced)} inline props the dump now gives (inline props win): {shown}{more}")
        else:
            props = import_getprop(args.dump)
            sys.stdout.write(yaml.safe_dump({"props": props}, sort_keys=True, allow_unicode=True,
                                             default_style=None, width=1000))
    except ProfileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


# -- loading ---------------------------------------------------------------------------------------------------

def load_image(path: str | Path) -> Image:
    """Load and validate one image file.

    Raises:
        ImageError: unreadable file, bad YAML, duplicate key, unknown key (with did-you-mean), bad value,
            duplicate package, unknown user id, missing required prop — each with file, line and key.
        ProfileErrors: several of the above at once (its ``errors`` are ImageErrors).
    """
    path = str(path)
    try:
        data, locs = load_yaml(path)
    except ImageError:
        raise
    except ProfileError as exc:
        raise ImageError(exc.message, path=exc.path, line=exc.line, key=exc.key, hint=exc.hint) from None
    if not isinstance(data, dict):
        raise ImageError("an image must be a YAML mapping (name:, props:, packages:, ...)", path=path, line=1)
    try:
        image = Image.model_validate(data)
    except ValidationError as exc:
        errs = [ImageError(e.message, path=e.path, line=e.line, key=e.key, hint=e.hint)
                for e in validation_errors(exc, path=path, locations=locs, model=Image)]
        raise (errs[0] if len(errs) == 1 else ProfileErrors(errs)) from None
    errors = _semantic_errors(image, path, locs)
    if errors:
        raise errors[0] if len(errors) == 1 else ProfileErrors(errors)
    return image


def _semantic_errors(image: Image, path: str, locs: Locations) -> list[ProfileError]:
    errors: list[ProfileError] = []
    if image.props_from:
        dump = Path(path).parent / image.props_from
        try:
            imported = import_getprop(dump)
        except ImageError as exc:
            errors.append(ImageError(exc.message, path=path, line=locs.line_for(("props_from",)), key="props_from",
                                     hint=f"file {dump} must be a getprop dump relative to the image"))
            imported = {}
        image.props = {**imported, **image.props}
    for key, why in REQUIRED_PROPS.items():
        if key not in image.props:
            errors.append(ImageError(f"required prop `{key}` is missing ({why})", path=path,
                                     line=locs.line_for(("props",)), key="props",
                                     hint=f"add `{key}: ...` or a props_from dump that has it"))
    sdk = image.props.get("ro.build.version.sdk", "")
    if sdk and (not sdk.isdigit() or not 1 <= int(sdk) <= 99):
        errors.append(ImageError(f"ro.build.version.sdk must be an API level from 1 to 99 (got {sdk!r})",
                                 path=path, line=locs.line_for(("props", "ro.build.version.sdk")),
                                 key="props.ro.build.version.sdk", hint="e.g. 23 for Android 6.0, 29 for Android 10"))
    user_ids = [u.id for u in image.users]
    for i, uid in enumerate(user_ids):
        if uid in user_ids[:i]:
            errors.append(ImageError(f"user {uid} is defined twice", path=path, line=locs.line_for(("users", i)),
                                     key=f"users[{i}].id", hint="user ids must be unique"))
    if 0 not in user_ids:
        errors.append(ImageError("user 0 (the system user) is required", path=path,
                                 line=locs.line_for(("users",)), key="users"))
    seen: dict[str, int] = {}
    for i, pkg in enumerate(image.packages):
        errors += _resolve_apks(pkg, i, path, locs)
        if pkg.package in seen:
            errors.append(ImageError(f"package {pkg.package} is listed twice (first as packages[{seen[pkg.package]}])",
                                     path=path, line=locs.line_for(("packages", i, "package")),
                                     key=f"packages[{i}].package", hint="remove one entry"))
        seen.setdefault(pkg.package, i)
        for uid in pkg.users:
            if uid not in user_ids:
                errors.append(ImageError(f"user {uid} is not defined in `users`", path=path,
                                         line=locs.line_for(("packages", i, "users", str(uid))),
                                         key=f"packages[{i}].users.{uid}",
                                         hint="known users: " + ", ".join(str(u) for u in user_ids)))
    if image.home_screen is not None:
        errors += _layout_errors(image, path, locs)
    return errors


def _layout_errors(image: Image, path: str, locs: Locations) -> list[ProfileError]:
    """The home-screen layout may only name known packages (the image's, plus the base set), each once."""
    from virtual_device.state import base_packages  # state imports this module

    assert image.home_screen is not None
    known = [p.package for p in image.packages] + ([p.package for p in base_packages(image)]
                                                   if image.base_packages else [])
    errors: list[ProfileError] = []
    seen: dict[str, str] = {}
    for pkg, loc in image.home_screen.packages():
        full = ("home_screen", *loc)
        key = "home_screen." + ".".join(f"[{x}]" if isinstance(x, int) else x for x in loc).replace(".[", "[")
        if pkg not in known:
            close = difflib.get_close_matches(pkg, known, n=1)
            errors.append(ImageError(f"package {pkg} is not on this image", path=path, line=locs.line_for(full),
                                     key=key, hint=f"did you mean `{close[0]}`?" if close
                                     else "list it under `packages` first (or use a base package)"))
        elif pkg in seen:
            errors.append(ImageError(f"package {pkg} has a second icon here (first at {seen[pkg]})", path=path,
                                     line=locs.line_for(full), key=key,
                                     hint="a launcher shows one icon per app: remove one"))
        seen.setdefault(pkg, key)
    return errors


def _resolve_apks(pkg: Package, index: int, path: str, locs: Locations) -> list[ProfileError]:
    """Replace ``apk`` (and ``factory.apk``) by the absolute path of the file to serve; errors for unknown ones."""
    from virtual_device.apk_fixtures import ApkFixtureError, resolve  # builds fixture APKs on first use

    errors: list[ProfileError] = []
    for owner, loc in ((pkg, ("packages", index, "apk")), (pkg.factory, ("packages", index, "factory", "apk"))):
        if owner is None or owner.apk is None:
            continue
        try:
            owner.apk = str(resolve(owner.apk, Path(path).parent))
        except ApkFixtureError as exc:
            key = f"packages[{index}]." + ".".join(str(p) for p in loc[2:])
            errors.append(ImageError(str(exc), path=path, line=locs.line_for(loc), key=key,
                                     hint="name a fixture of virtual_device/apk_fixtures.py or an APK file"))
    return errors


def list_images(directory: str | Path = IMAGES_DIR) -> list[Path]:
    """The image files (``*.yaml``) in ``directory``, sorted by name."""
    return sorted(Path(directory).glob("*.yaml"))


def load_named_image(name: str, directory: str | Path = IMAGES_DIR) -> Image:
    """Load ``<directory>/<name>.yaml``; ImageError with the list of known names when it does not exist."""
    p = Path(directory) / f"{name}.yaml"
    if not p.exists():
        known = [q.stem for q in list_images(directory)]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean `{close[0]}`?" if close else "known images: " + ", ".join(known)
        raise ImageError(f"no image named {name!r}", path=str(p), hint=hint)
    return load_image(p)
