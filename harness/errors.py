"""The one error hierarchy of preload-harness.

Two families never mix:

* :class:`ProfileError` and :class:`UsageError` are bad input from the user (a profile, an option);
  they stop the run before any report is written, with file, line, key and a remedy.
* :class:`DeviceError` and its children are infrastructure faults (device offline, unauthorized,
  adb timeout, unparsable output). In pytest they become *errors* (Allure "broken"), never
  assertion failures, and may be retried.

Product defects (missing app, wrong version) are not exceptions here: they are verdicts from
:mod:`harness.checks` that the suites turn into assertion failures.
"""

from __future__ import annotations


class Error(Exception):
    """Base of every error the harness raises on purpose."""


class UsageError(Error):
    """A command-line option or environment setting is wrong; the message says how to fix it."""


class ProfileError(Error):
    """A device profile (YAML contract) is invalid.

    Attributes:
        path: the YAML file, as given.
        line: 1-based line of the offending key or value, or None when unknown.
        key: dotted key path inside the document (e.g. ``apps[2].package``), or None.
        hint: what would be valid (e.g. "did you mean `package`?").
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 key: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.key = key
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.path or "<profile>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: {self.key + ': ' if self.key else ''}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ProfileErrors(ProfileError):
    """Several profile errors found in one pass; ``errors`` holds each one."""

    def __init__(self, errors: list[ProfileError]) -> None:
        self.errors = list(errors)
        Error.__init__(self, "\n".join(str(e) for e in self.errors))
        self.message, self.path, self.line, self.key, self.hint = str(self), None, None, None, None

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class DeviceError(Error):
    """An infrastructure fault tied to one device (Allure "broken"); ``serial`` names it."""

    def __init__(self, message: str, *, serial: str | None = None, remedy: str | None = None) -> None:
        self.serial = serial
        self.remedy = remedy
        text = f"[{serial}] {message}" if serial else message
        if remedy:
            text += f" — {remedy}"
        super().__init__(text)


class DeviceUnavailable(DeviceError):
    """The device is offline, unauthorized, or gone from the adb server."""


class AdbError(DeviceError):
    """An adb call failed: ``cmd`` is the argv sent, ``rc`` the exit code (None if unknown), ``output`` the text."""

    def __init__(self, message: str, *, serial: str | None = None, cmd: list[str] | str | None = None,
                 rc: int | None = None, output: str | None = None, remedy: str | None = None) -> None:
        self.cmd = cmd
        self.rc = rc
        self.output = output
        super().__init__(message, serial=serial, remedy=remedy)


class AdbTimeout(AdbError):
    """An adb call did not finish within its timeout (seconds in ``timeout``)."""

    def __init__(self, message: str, *, timeout: float, **kwargs: object) -> None:
        self.timeout = timeout
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class ParseError(DeviceError):
    """A device's command output could not be parsed; ``command`` names the command that produced it."""

    def __init__(self, message: str, *, command: str, serial: str | None = None, excerpt: str | None = None) -> None:
        self.detail = message
        self.command = command
        self.excerpt = excerpt
        text = f"cannot parse output of `{command}`: {message}"
        if excerpt and excerpt.strip() and excerpt.strip()[:60] not in message:
            shown = " ".join(excerpt.strip().split())
            text += f" (device printed: {shown[:160]!r}{'…' if len(shown) > 160 else ''})"
        super().__init__(text, serial=serial)


    def with_context(self, *, command: str | None = None, serial: str | None = None,
                     excerpt: str | None = None) -> ParseError:
        """The same parse failure with the device's serial, the exact command and its output added.

        For callers that run a command and parse it with a device-agnostic parser.
        """
        return type(self)(self.detail, command=command or self.command, serial=serial or self.serial,
                          excerpt=excerpt if excerpt is not None else self.excerpt)


class DumpIncomplete(ParseError):
    """A ``dumpsys`` output was cut short: the service did not finish its dump in time, or failed while dumping.

    ``dumpsys`` prints what it had read, then a marker (``*** SERVICE 'package' DUMP TIMEOUT (10000ms) EXPIRED ***``,
    ``Failure while dumping the activity: …``; see :func:`harness.parsers.dumpsys_cut_marker`). What came before the
    marker is not the whole state, so it is "unknown": callers run the dump once more with a longer ``dumpsys -t``
    and raise this error (Allure "broken") when it is cut again.
    """


class LaunchInfraError(DeviceError):
    """The launch check could not run for a harness or link reason (uiautomator2 server, device gone)."""


class HomeScreenError(LaunchInfraError):
    """The home screen could not be read: the launcher is not in front after HOME, or a folder would not open or
    close. Infrastructure ("broken"), never a placement failure."""


class AdbServerError(DeviceError):
    """An adb server (a farm host, ``host:port``) cannot be reached or refused a host request."""


class SourceError(DeviceError):
    """A ROM build or bugreport cannot be read (corrupt zip, missing ``build.prop``, unparsable manifest or a
    section missing): the target is *broken*, never passed. ``path``, ``member`` (inside a zip or bugreport) and
    ``line`` say where."""

    def __init__(self, message: str, *, path: str | None = None, member: str | None = None, line: int | None = None,
                 remedy: str | None = None, serial: str | None = None) -> None:
        self.path = path
        self.member = member
        self.line = line
        where = path or ""
        if member:
            where += f"!{member}"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {message}" if where else message, serial=serial, remedy=remedy)


class ProfileMatchError(Error):
    """A device matches no device profile, or more than one; reported as an error for that device."""
