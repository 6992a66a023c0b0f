"""Pure parsers of Android command outputs: text in, typed frozen dataclass out; no device access.

Each parser raises :class:`harness.errors.ParseError` (with ``command`` set) for text that is not that
command's output, and returns a valid "empty" answer for legitimate empty results (``Unable to find package``,
an empty ``pm list packages -d``). The corpus of real outputs each parser is tested against is
``/work/shared/corpus/README.md`` (copied to ``tests/fixtures/corpus/``). Command line: ``python -m harness.parsers``.
"""

from harness.parsers.am import AmStartResult, parse_am_start, parse_resolve_activity
from harness.parsers.devices import AdbDeviceEntry, parse_devices
from harness.parsers.dumpsys import dumpsys_cut_marker, require_complete
from harness.parsers.dumpsys_package import PackageDump, dumpsys_package_names, parse_dumpsys_package
from harness.parsers.focus import Focus, FocusWindow, focus_windows, parse_focus
from harness.parsers.getprop import parse_getprop
from harness.parsers.logcat import CrashRecord, parse_logcat_crash
from harness.parsers.pm import AndroidUser, PmPackage, parse_pm_list_packages, parse_pm_list_users, parse_pm_path

__all__ = [
    "AdbDeviceEntry", "AmStartResult", "AndroidUser", "CrashRecord", "Focus", "FocusWindow", "PackageDump",
    "PmPackage", "dumpsys_cut_marker", "dumpsys_package_names", "focus_windows", "parse_am_start", "parse_devices",
    "parse_dumpsys_package", "parse_focus", "parse_getprop", "parse_logcat_crash", "parse_pm_list_packages",
    "parse_pm_list_users", "parse_pm_path", "parse_resolve_activity", "require_complete",
]
