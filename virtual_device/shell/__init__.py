"""The virtual device's shell: ``run(state, cmdline) -> ShellResult``.

Used by the transport for ``shell:``, ``shell,v2:`` and ``exec:`` (exec keeps stdout only). The interpreter
(:mod:`virtual_device.shell.interp`) handles lists, pipes, ``$?``, assignments, redirections and ``exit``; the
commands live in :mod:`.builtins`, :mod:`.pm`, :mod:`.am` and :mod:`.dumpsys`, and render per Android version
through :mod:`virtual_device.render`. An unknown command writes
``/system/bin/sh: <cmd>: inaccessible or not found`` to stderr and exits 127.

Extending: ``register_command("app_process", fn)`` adds or replaces a command for every device, where
``fn(ctx: Ctx, argv: list[str]) -> int``; a command that must keep its stream open (the uiautomator2 server of
issue 4) appends an object to ``ctx.keep_open`` — see :class:`ShellResult.keep_open`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from virtual_device.shell.interp import SH, Command, Ctx, Interpreter
from virtual_device.state import DeviceState

__all__ = ["SH", "Command", "Ctx", "ShellResult", "register_command", "run", "COMMANDS"]


@dataclass
class ShellResult:
    """Output of one command line.

    ``chunks``: ``(1 = stdout | 2 = stderr, data)`` in emission order (consecutive chunks of one fd merged);
    ``exit_code``: 0..255. ``keep_open``: None, or an object a command left for the transport (e.g. an async
    callable that serves the stream until it returns); the transport documents the protocol.
    """

    chunks: list[tuple[int, bytes]]
    exit_code: int
    keep_open: Any = None

    @property
    def stdout(self) -> bytes:
        """All stdout bytes."""
        return b"".join(d for fd, d in self.chunks if fd == 1)

    @property
    def stderr(self) -> bytes:
        """All stderr bytes."""
        return b"".join(d for fd, d in self.chunks if fd == 2)

    @property
    def merged(self) -> bytes:
        """stdout and stderr interleaved in emission order (what a v1 ``shell:`` stream carries)."""
        return b"".join(d for _, d in self.chunks)


COMMANDS: dict[str, Command] = {}


def register_command(name: str, fn: Command) -> None:
    """Add or replace the command ``name`` (for every device)."""
    COMMANDS[name] = fn


def _load() -> None:
    from virtual_device.shell import am, builtins, dumpsys, pm

    for mod in (builtins, pm, am, dumpsys):
        for name, fn in mod.COMMANDS.items():
            COMMANDS.setdefault(name, fn)
    from virtual_device import u2server  # uiautomator2 server, slow-launch hold, dialogs (issue 4)

    u2server.install(COMMANDS)


def run(state: DeviceState, cmdline: str) -> ShellResult:
    """Run ``cmdline`` (the text after ``shell:``/``exec:``) on ``state`` under its lock.

    Never raises for bad input: syntax errors, unknown commands and command failures become stderr text and
    a non-zero exit code. An unexpected internal error is reported as ``/system/bin/sh: internal error: ..``
    (exit 255) so the transport keeps serving.
    """
    if not COMMANDS:
        _load()
    interp = Interpreter(state, COMMANDS)
    with state.lock:
        try:
            code = interp.run_line(cmdline)
        except Exception as exc:  # noqa: BLE001 - a device must answer, never crash the transport
            interp.emit(2, f"{SH}: internal error: {type(exc).__name__}: {exc}\n".encode())
            code = 255
    return ShellResult(interp.chunks, code & 0xFF, interp.keep_open[0] if interp.keep_open else None)
