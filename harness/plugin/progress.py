"""Progress of a farm run that people can follow: per device, not per test.

With devices worked on concurrently, pytest's own dots stall on the first test while every device works, then
race. This module shows what the devices do:

* **lines** (the default when the output is not a terminal, e.g. CI): one plain line when a device has finished
  all its device work (its inventory, its launches: what takes time), and one when a device drops or comes back::

      preload-harness: [ 3/32 devices · 81/864 checks] MI 5 · CN (8c2b2ca4): device work done in 4.2 s (6 jobs)
      preload-harness: [ 3/32 devices · 81/864 checks] Redmi 3 · ID (e5c3a1f0) dropped during launch Outlook: …

* **live** (the default on a terminal): the same lines, plus, while a test waits for its device, a status
  after the cursor that names what every busy device is doing (``launch Excel``), redrawn in place on
  stderr and erased before pytest writes again, so pytest's own line is never disturbed;
* **off**: nothing.

``--progress auto|live|lines|off`` chooses. Events come from the device workers' threads
(:class:`~harness.workers.WorkerEvent`) into a queue; only pytest's main thread prints (between tests, and
while a test waits), with output capture suspended through pytest's capture manager. With pytest-xdist the
controller prints the device lines from the scheduler (workers cannot print).
"""

from __future__ import annotations

import contextlib
import queue
import sys
import time
from dataclasses import dataclass, field

import pytest

from harness.workers import WorkerEvent

LIVE_AFTER_S = 0.5
"""A test must have waited this long before the live status is drawn (short waits stay silent)."""
REDRAW_S = 0.25
"""Least seconds between two redraws of the live status."""


@dataclass
class _Device:
    label: str
    checks: int = 0
    done_checks: int = 0
    current: str = ""
    started: float | None = None
    finished: bool = False
    jobs: int = 0


@dataclass
class Progress:
    """Progress of one pytest process (see module docstring). ``mode`` is ``live``, ``lines`` or ``off``."""

    config: pytest.Config
    mode: str
    devices: dict[str, _Device] = field(default_factory=dict)
    _events: queue.SimpleQueue[WorkerEvent] = field(default_factory=queue.SimpleQueue)
    by_checks: bool = False
    """True in the pytest-xdist controller: no device worker runs here, a device is done when its tests are."""
    _drawn: bool = False
    _last_draw: float = 0.0
    _wait_started: float | None = None

    @classmethod
    def from_option(cls, config: pytest.Config, option: str) -> Progress:
        """``auto`` → ``live`` when stdout and stderr are terminals, else ``lines``."""
        mode = option
        if option == "auto":
            mode = "live" if sys.stdout.isatty() and sys.stderr.isatty() else "lines"
        if config.getoption("verbose", 0) < -1:  # -qq: quiet
            mode = "off"
        return cls(config, mode)

    # -- registration (main thread) ---------------------------------------------------------------------------
    def add_device(self, serial: str, label: str, checks: int, jobs: int | None = None) -> None:
        """Expect ``checks`` tests of the device ``serial`` (the run's device id, as worker events name it);
        ``jobs``: device jobs planned for it (0: nothing to wait for, it counts as done at once)."""
        dev = self.devices.setdefault(serial, _Device(label))
        dev.checks += checks
        if jobs == 0 and not self.by_checks:
            dev.finished = True

    @property
    def total_checks(self) -> int:
        """Tests expected over all devices."""
        return sum(d.checks for d in self.devices.values())

    # -- inputs ---------------------------------------------------------------------------------------------------
    def on_event(self, event: WorkerEvent) -> None:
        """Worker thread side: queue the event (never prints)."""
        if self.mode != "off":
            self._events.put(event)

    def check_done(self, serial: str) -> None:
        """Main thread: one test of ``serial`` reported. Without device workers in this process (the xdist
        controller), a device is done when its last test reported; otherwise when its worker ran out of work."""
        dev = self.devices.get(serial)
        if dev is None or self.mode == "off":
            return
        dev.done_checks += 1
        self._drain()
        if self.by_checks and dev.done_checks == dev.checks and not dev.finished:
            dev.finished = True
            self._line(f"{dev.label}: all {dev.checks} checks reported")

    def poll(self) -> None:
        """Main thread, while a test waits for its device: apply events, print lines, redraw the live status."""
        if self.mode == "off":
            return
        now = time.monotonic()
        if self._wait_started is None:
            self._wait_started = now
        self._drain()
        if self.mode == "live" and now - self._wait_started >= LIVE_AFTER_S and now - self._last_draw >= REDRAW_S:
            self._draw(self._status())
            self._last_draw = now

    def end_wait(self) -> None:
        """Main thread: the test got its result; erase the live status before pytest writes."""
        self._wait_started = None
        if self._drawn:
            self._raw("\x1b[K")
            self._drawn = False
        self._drain()

    # -- output ---------------------------------------------------------------------------------------------------
    def _drain(self) -> None:
        while True:
            try:
                ev = self._events.get_nowait()
            except queue.Empty:
                return
            dev = self.devices.setdefault(ev.device, _Device(ev.device))
            if ev.kind == "job_started":
                dev.current = ev.label
                if dev.started is None:
                    dev.started = time.monotonic()
            elif ev.kind == "job_finished":
                dev.current = ""
                dev.jobs += 1
            elif ev.kind == "device_done" and dev.jobs and not dev.finished:
                dev.finished = True
                took = f" in {time.monotonic() - dev.started:.1f} s" if dev.started is not None else ""
                self._line(f"{dev.label}: device work done{took} ({dev.jobs} job{'s' if dev.jobs != 1 else ''})")
            elif ev.kind == "device_waiting":
                self._line(f"{dev.label} dropped during {ev.label}: {ev.detail}")
            elif ev.kind == "device_back":
                self._line(f"{dev.label} is back: {ev.detail}")

    def _status(self) -> str:
        done = sum(1 for d in self.devices.values() if d.finished)
        busy = [f"{d.current} on {d.label}" for d in self.devices.values() if d.current]
        head = (f"devices {done}/{len(self.devices)} done · checks "
                f"{sum(d.done_checks for d in self.devices.values())}/{self.total_checks}")
        return head + (" · " + ", ".join(busy) if busy else "")

    def _counts(self) -> str:
        done = sum(1 for d in self.devices.values() if d.finished)
        width = len(str(len(self.devices)))
        return (f"[{done:>{width}}/{len(self.devices)} devices · "
                f"{sum(d.done_checks for d in self.devices.values())}/{self.total_checks} checks]")

    def _line(self, text: str) -> None:
        if self.mode == "off":
            return
        if self._drawn:
            self._raw("\x1b[K")
            self._drawn = False
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is None:
            return
        with self._uncaptured():
            if self.config.get_terminal_writer().width_of_current_line:
                tr.write("\n")  # pytest's dots line: our line goes on a line of its own
            tr.write_line(f"preload-harness: {self._counts()} {text}")

    def _draw(self, status: str) -> None:
        tw = self.config.get_terminal_writer()
        room = tw.fullwidth - tw.width_of_current_line - 3
        if room < 20:
            return
        text = status if len(status) <= room else status[: room - 1] + "…"
        self._raw("\x1b7  " + text + "\x1b8")  # save cursor, draw, restore: pytest's line stays as it was
        self._drawn = True

    def _raw(self, text: str) -> None:
        with self._uncaptured():
            try:
                sys.stderr.write(text)
                sys.stderr.flush()
            except (OSError, ValueError):
                pass

    def _uncaptured(self) -> contextlib.AbstractContextManager[object]:
        capman = self.config.pluginmanager.get_plugin("capturemanager")
        if capman is None:
            return contextlib.nullcontext()
        return capman.global_and_fixture_disabled()
