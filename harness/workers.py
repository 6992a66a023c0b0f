"""Device workers: every device's work runs in order on its own thread; devices run concurrently.

A compliance run is waiting, not computing: a ``dumpsys`` on a 2016 phone takes hundreds of milliseconds, a
cold start seconds. So each device gets one :class:`DeviceWorker` (a thread) that runs the device's *jobs*
strictly one after another (one screen, one uiautomator2 server, one launch at a time), while the workers of
all devices run at the same time. The pytest items stay the unit of reporting: the plugin hands each worker
the jobs of its device's items, in test order, before the first test runs (:meth:`DeviceWorker.plan`); a test
then only waits for the job its verdict rests on (:meth:`DeviceWorker.result`). Because a worker runs its
jobs in the same order as pytest runs the tests, a test never waits behind another test's job.

Jobs are keyed: the package inventory of a device is one job that every package check of the device shares;
a launch is one job per launch test. Each job records when it ran on the device (``started`` / ``finished``,
epoch seconds), which the reports show as the test's duration instead of the time the test waited.

Infrastructure recovery: a job that fails with :class:`~harness.errors.DeviceUnavailable` or
:class:`~harness.errors.AdbTimeout` makes the worker wait for the device to come back (``device_wait``
seconds, polling the adb server's ``get-state`` with a bounded backoff, :meth:`~harness.adb.DeviceLink.
wait_for_device`), reset the device's services (the uiautomator2 server died with the link) and run the job
once more. A device that stays away is marked gone with "offline for N s": every later job of that device
fails at once with that error, the other devices go on. Product verdicts are results, not exceptions, so they
are never retried. The retry policy is tenacity's, not a loop of ours.

Nothing here imports pytest; :mod:`harness.plugin.farm` wires it to the items.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from harness.errors import AdbTimeout, DeviceUnavailable, Error

if TYPE_CHECKING:
    from harness.device import Device

_log = logging.getLogger("harness.workers")

DEFAULT_DEVICE_WAIT_S = 30.0
"""How long a worker waits for a device that dropped off the adb server before giving up on it (seconds)."""


class RunCancelled(Error):
    """The run stopped (``-x``, Ctrl-C, a fatal error) before this job of the device ran."""


@dataclass(frozen=True)
class WorkerEvent:
    """What a worker reports for progress displays (delivered on the worker's thread; keep handlers quick).

    ``device``: the worker's name (the run's device id). ``kind``: ``job_started``, ``job_finished``,
    ``device_waiting`` (the device dropped; ``detail`` says how long the worker waits), ``device_back``,
    ``device_done`` (no job left). ``label``: the job's label (``inventory``, ``launch Excel``); ``ok``: for
    ``job_finished``, False when the job raised.
    """

    kind: str
    device: str
    label: str = ""
    ok: bool = True
    detail: str = ""


@dataclass
class Job:
    """One unit of device work.

    Attributes:
        key: identity of the job on its device (``("inventory", packages)``, ``("launch", nodeid)``).
        label: short text for progress and logs (``launch Excel``).
        fn: the work; called on the device's worker thread with no argument; its return value is the result.
        future: resolves to ``fn()``'s result, or to the exception it raised (after at most one recovery).
        started / finished: epoch seconds of the (last) attempt on the device, None until it ran.
        attempts: how many times ``fn`` ran (2 when the device dropped and came back).
        recovered_after_s: seconds the device was away before the retry, None without a recovery.
    """

    key: Hashable
    label: str
    fn: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)
    started: float | None = None
    finished: float | None = None
    attempts: int = 0
    recovered_after_s: float | None = None
    owner: str | None = None
    """The first test that asked for the job's result; only it is charged the job's device time in durations."""

    @property
    def duration_s(self) -> float | None:
        """Seconds the job's last attempt took on the device, or None if it has not run."""
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started


def recoverable(exc: BaseException) -> bool:
    """A loss of the device (not a parse problem, not a product verdict, not a cancelled run)."""
    return isinstance(exc, (DeviceUnavailable, AdbTimeout)) and not isinstance(exc, RunCancelled)


def await_return(device: Any, timeout: float, during: str, cause: BaseException | None) -> float:
    """Wait up to ``timeout`` seconds for a ``device`` lost during ``during`` (``cause``: the error that lost it)
    to come back (``device.link.wait_for_device``); when it does, forget the loss (``device.gone = None``) and return
    the seconds waited. Shared by the device workers and discovery; needs only ``serial``, ``gone`` and ``link``.

    Raises :class:`DeviceUnavailable` ("offline for N s"), also kept as ``device.gone``, when it stays away.
    """
    waited = device.link.wait_for_device(timeout)
    if waited is None:
        device.gone = DeviceUnavailable(
            f"offline for {timeout:.0f} s: the device dropped during {during} ({cause}) and did not come back "
            f"within --device-wait {timeout:g} s", serial=device.serial,
            remedy="reconnect the device (cable, `adb connect`, power) and rerun its checks")
        raise device.gone
    device.gone = None
    return waited


class DeviceWorker:
    """The work queue and thread of one device.

    Args:
        device: the device whose commands the jobs send (its ``link`` is used to wait for a dropped device).
        name: how events and logs name the device (default ``<farm host>/<adb serial>``).
        device_wait: seconds to wait for a dropped device before it is marked gone (0: never wait or retry).
        on_event: called with a :class:`WorkerEvent` for progress displays (on this worker's thread).

    Thread-safety: :meth:`plan`, :meth:`result`, :meth:`job` and :meth:`stop` may be called from any thread;
    jobs run only on the worker's own thread, one at a time, in the order planned (an unplanned job asked for
    by :meth:`result` runs next).
    """

    def __init__(self, device: Device, *, name: str | None = None, device_wait: float = DEFAULT_DEVICE_WAIT_S,
                 on_event: Callable[[WorkerEvent], None] | None = None) -> None:
        self.device = device
        self.serial = device.serial
        self.name = name or f"{device.server}/{device.serial}"
        self.device_wait = device_wait
        self._on_event = on_event
        self._jobs: dict[Hashable, Job] = {}
        self._queue: deque[Job] = deque()
        self._cond = threading.Condition()
        self._cancelled = False
        self._closed = False
        self._services: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, name=f"device-{self.serial}", daemon=True)
        self._started = False

    def __repr__(self) -> str:
        return f"DeviceWorker({self.serial!r}, {len(self._queue)} queued)"

    # -- services owned by the worker (used only from its thread) --------------------------------------------------
    def service(self, name: str, factory: Callable[[], Any]) -> Any:
        """The device's service ``name`` (e.g. its uiautomator2 driver), created by ``factory`` on first use.

        Services are reset (``reset()``) after the device came back from a drop and closed (``close()``) when
        the worker stops, on the worker's thread. Call only from a job.
        """
        if name not in self._services:
            self._services[name] = factory()
        return self._services[name]

    # -- queueing ---------------------------------------------------------------------------------------------------
    def plan(self, jobs: Iterable[tuple[Hashable, str, Callable[[], Any]]]) -> None:
        """Queue ``(key, label, fn)`` jobs in this order; a key already known is skipped. Starts the thread."""
        with self._cond:
            for key, label, fn in jobs:
                if key not in self._jobs:
                    self._enqueue(Job(key, label, fn), front=False)
            self._cond.notify()
        self._ensure_started()

    def _enqueue(self, job: Job, *, front: bool) -> None:
        """Register ``job`` and queue it (at the front for an unplanned one); cancelled at once after stop()."""
        self._jobs[job.key] = job
        if self._cancelled:
            job.future.set_exception(RunCancelled(f"[{self.serial}] the run stopped before {job.label}"))
        elif front:
            self._queue.appendleft(job)
        else:
            self._queue.append(job)

    def job(self, key: Hashable) -> Job | None:
        """The job with ``key`` if it was planned or asked for, else None."""
        with self._cond:
            return self._jobs.get(key)

    def submit(self, key: Hashable, label: str, fn: Callable[[], Any]) -> Job:
        """The job with ``key``; queued at the FRONT when it was never planned (a test nobody planned for)."""
        with self._cond:
            job = self._jobs.get(key)
            if job is None:
                job = Job(key, label, fn)
                self._enqueue(job, front=True)
                self._cond.notify()
        self._ensure_started()
        return job

    def result(self, key: Hashable, label: str, fn: Callable[[], Any], *,
               poll: Callable[[], None] | None = None, poll_interval: float = 0.2) -> tuple[Any, Job]:
        """Wait for the job ``key`` (queued now if it was not planned); return ``(result, job)``.

        ``poll`` is called every ``poll_interval`` seconds while waiting (the plugin draws progress with it).
        Raises what the job raised: a :mod:`harness.errors` device error, or :class:`RunCancelled`.
        """
        job = self.submit(key, label, fn)
        while True:
            try:
                return job.future.result(timeout=poll_interval if poll else None), job
            except TimeoutError:
                if poll is not None:
                    poll()

    def _ensure_started(self) -> None:
        with self._cond:
            if self._started or self._closed:
                return
            self._started = True
        self._thread.start()

    # -- lifecycle --------------------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Cancel every job not started yet (they raise :class:`RunCancelled`); the running one finishes."""
        with self._cond:
            self._cancelled = True
            pending = list(self._queue)
            self._queue.clear()
            self._closed = True
            self._cond.notify()
        for job in pending:
            job.future.set_exception(RunCancelled(f"[{self.serial}] the run stopped before {job.label}"))

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end (after :meth:`stop`); True when it ended within ``timeout`` seconds."""
        if self._started:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def idle(self) -> bool:
        """True when no job is queued."""
        with self._cond:
            return not self._queue

    # -- the thread -------------------------------------------------------------------------------------------------
    def _emit(self, kind: str, label: str = "", ok: bool = True, detail: str = "") -> None:
        if self._on_event is not None:
            try:
                self._on_event(WorkerEvent(kind, self.name, label, ok, detail))
            except Exception:  # noqa: BLE001 - a progress display must never break a device's work
                _log.exception("progress handler failed")

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._closed:
                        self._emit("device_done")
                        self._cond.wait()
                    if not self._queue and self._closed:
                        return
                    job = self._queue.popleft()
                self._execute(job)
        finally:
            self._close_services()

    def _execute(self, job: Job) -> None:
        self._emit("job_started", job.label)
        try:
            result = self._attempts(job)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting test through the future
            job.finished = time.time()
            self._emit("job_finished", job.label, ok=False, detail=str(exc))
            job.future.set_exception(exc)
        else:
            job.finished = time.time()
            self._emit("job_finished", job.label)
            job.future.set_result(result)

    def _attempts(self, job: Job) -> Any:
        """Run ``job.fn``; on a device loss wait for the device and run it once more (tenacity policy).

        A device that already dropped and stayed away (``device.gone``) fails the job at once.
        """
        if self.device.gone is not None:
            raise self.device.gone
        retrying = Retrying(stop=stop_after_attempt(2 if self.device_wait > 0 else 1),
                            retry=retry_if_exception(recoverable),
                            before_sleep=lambda state: self._await_device(job, state), reraise=True)
        for attempt in retrying:
            with attempt:
                job.attempts += 1
                job.started = time.time()
                return job.fn()
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True re-raises the last error

    def _await_device(self, job: Job, state: RetryCallState) -> None:
        """tenacity ``before_sleep``: wait for the device; raise DeviceUnavailable when it stays away."""
        cause = state.outcome.exception() if state.outcome else None
        self._emit("device_waiting", job.label, detail=f"{cause}; waiting up to {self.device_wait:g} s")
        _log.warning("[%s] %s during %s; waiting up to %g s for the device", self.serial, cause, job.label,
                     self.device_wait)
        waited = await_return(self.device, self.device_wait, job.label, cause)
        job.recovered_after_s = waited
        for svc in self._services.values():
            reset = getattr(svc, "reset", None)
            if callable(reset):
                reset()
        self._emit("device_back", job.label, detail=f"back after {waited:.1f} s; running {job.label} again")
        _log.warning("[%s] back after %.1f s; running %s again", self.serial, waited, job.label)

    def _close_services(self) -> None:
        for name, svc in list(self._services.items()):
            close = getattr(svc, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: BLE001 - teardown must not raise
                    _log.debug("[%s] closing %s failed", self.serial, name, exc_info=True)
        self._services.clear()


class WorkerPool:
    """The device workers of one pytest process: one :class:`DeviceWorker` per device, created on demand.

    Args:
        device_wait: passed to every worker (seconds).
        on_event: progress callback passed to every worker.
    """

    def __init__(self, *, device_wait: float = DEFAULT_DEVICE_WAIT_S,
                 on_event: Callable[[WorkerEvent], None] | None = None) -> None:
        self.device_wait = device_wait
        self._on_event = on_event
        self._workers: dict[str, DeviceWorker] = {}
        self._lock = threading.Lock()

    def worker(self, device: Device, *, name: str | None = None) -> DeviceWorker:
        """The worker of ``device`` (one per farm host and adb serial); ``name`` names it in events."""
        key = f"{device.server}/{device.serial}"
        with self._lock:
            w = self._workers.get(key)
            if w is None or w.device is not device:
                w = self._workers[key] = DeviceWorker(device, name=name, device_wait=self.device_wait,
                                                      on_event=self._on_event)
            return w

    @property
    def workers(self) -> list[DeviceWorker]:
        """Every worker created so far."""
        with self._lock:
            return list(self._workers.values())

    def shutdown(self, timeout: float = 60.0) -> list[str]:
        """Cancel queued jobs, let running ones finish (at most ``timeout`` s in all); return serials still busy."""
        workers = self.workers
        for w in workers:
            w.stop()
        deadline = time.monotonic() + timeout
        busy = []
        for w in workers:
            if not w.join(max(0.0, deadline - time.monotonic())):
                busy.append(w.serial)
        return busy


__all__ = ["DEFAULT_DEVICE_WAIT_S", "DeviceWorker", "Job", "RunCancelled", "WorkerEvent", "WorkerPool"]
