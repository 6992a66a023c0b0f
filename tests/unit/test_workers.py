"""Device workers (harness.workers): order per device, concurrency across devices, recovery, cancellation.

The worker only needs a device's ``serial``, ``server``, ``gone`` and ``link.wait_for_device``; these tests give it a
small stand-in, so they exercise the scheduling logic itself (the end-to-end tests drive real devices).
"""

from __future__ import annotations

import threading
import time

import pytest

from harness.errors import AdbTimeout, DeviceUnavailable, ParseError
from harness.workers import DeviceWorker, RunCancelled, WorkerPool


class _Link:
    def __init__(self, back_after: float | None) -> None:
        self.back_after = back_after
        self.waits: list[float] = []

    def wait_for_device(self, timeout: float) -> float | None:
        self.waits.append(timeout)
        return self.back_after


class _Device:
    def __init__(self, serial: str, back_after: float | None = 0.1) -> None:
        self.serial = serial
        self.server = "host:5037"
        self.gone = None
        self.link = _Link(back_after)


def test_jobs_of_one_device_run_in_plan_order_one_at_a_time():
    worker = DeviceWorker(_Device("a"))
    order, active, peak = [], [0], [0]
    lock = threading.Lock()

    def job(n):
        def run():
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.01)
            order.append(n)
            with lock:
                active[0] -= 1
            return n
        return run

    worker.plan([(i, f"job {i}", job(i)) for i in range(8)])
    results = [worker.result(i, "", lambda: None)[0] for i in range(8)]
    assert results == list(range(8))
    assert order == list(range(8))
    assert peak[0] == 1
    worker.stop()
    assert worker.join(5)


def test_devices_work_at_the_same_time():
    """Each device's first job waits at a barrier for the other's: a serial scheduler would never get past it."""
    barrier = threading.Barrier(3, timeout=5)
    pool = WorkerPool()
    workers = [pool.worker(_Device(s)) for s in ("a", "b", "c")]
    for w in workers:
        w.plan([("first", "first", lambda: barrier.wait())])
    for w in workers:
        w.result("first", "", lambda: None)  # raises BrokenBarrierError if the devices ran one by one
    assert pool.shutdown(timeout=5) == []


def test_a_shared_key_runs_once_and_an_unplanned_job_goes_first():
    worker = DeviceWorker(_Device("a"))
    calls = []
    gate = threading.Event()
    worker.plan([("block", "block", lambda: gate.wait(5)), ("inventory", "inventory", lambda: calls.append("inv")),
                 ("late", "late", lambda: calls.append("late"))])
    job = worker.submit("urgent", "urgent", lambda: calls.append("urgent"))  # while "block" runs
    worker.submit("inventory", "inventory", lambda: calls.append("second inventory"))
    gate.set()
    job.future.result(5)
    worker.result("late", "", lambda: None)
    assert calls == ["urgent", "inv", "late"]
    worker.stop()


def test_a_dropped_device_is_waited_for_and_the_job_rerun_once():
    device = _Device("a", back_after=0.4)
    worker = DeviceWorker(device, device_wait=7)
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise DeviceUnavailable("connection lost", serial="a")
        return "ok"

    result, job = worker.result("inventory", "inventory", flaky)
    assert result == "ok" and len(attempts) == 2
    assert job.attempts == 2 and job.recovered_after_s == 0.4
    assert device.link.waits == [7] and device.gone is None
    worker.stop()


def test_a_device_that_stays_away_fails_its_jobs_at_once_with_offline_for():
    device = _Device("a", back_after=None)
    worker = DeviceWorker(device, device_wait=3)
    calls = []

    def lost():
        calls.append("first")
        raise AdbTimeout("no answer", timeout=1, serial="a")

    with pytest.raises(DeviceUnavailable, match="offline for 3 s"):
        worker.result("inventory", "inventory", lost)
    with pytest.raises(DeviceUnavailable, match="offline for 3 s"):
        worker.result("launch", "launch Word", lambda: calls.append("launch"))
    assert calls == ["first"]  # the second job never touched the device
    assert len(device.link.waits) == 1
    worker.stop()


def test_only_device_losses_are_retried():
    worker = DeviceWorker(_Device("a"), device_wait=5)
    calls = []

    def unparsable():
        calls.append(1)
        raise ParseError("garbage", command="dumpsys package")

    with pytest.raises(ParseError):
        worker.result("x", "x", unparsable)
    assert calls == [1]
    verdict = worker.result("y", "y", lambda: {"status": "fail"})[0]  # a product verdict is a result, never retried
    assert verdict == {"status": "fail"}
    worker.stop()


def test_no_wait_means_no_retry():
    device = _Device("a", back_after=0.1)
    worker = DeviceWorker(device, device_wait=0)
    with pytest.raises(DeviceUnavailable):
        worker.result("x", "x", lambda: (_ for _ in ()).throw(DeviceUnavailable("gone", serial="a")))
    assert device.link.waits == []
    worker.stop()


def test_stop_cancels_queued_jobs_and_closes_services():
    worker = DeviceWorker(_Device("a"))
    gate = threading.Event()
    closed = []

    class Service:
        def close(self):
            closed.append(threading.current_thread().name)

    worker.plan([("svc", "svc", lambda: worker.service("ui", Service)), ("block", "block", lambda: gate.wait(5)),
                 ("never", "never", lambda: pytest.fail("ran after stop"))])
    worker.result("svc", "", lambda: None)
    worker.stop()
    gate.set()
    with pytest.raises(RunCancelled):
        worker.job("never").future.result(5)
    assert worker.join(5)
    assert closed == ["device-a"]  # closed on the device's own thread
    with pytest.raises(RunCancelled):
        worker.result("after", "after", lambda: None)


def test_services_are_reset_when_the_device_comes_back():
    device = _Device("a", back_after=0.2)
    worker = DeviceWorker(device, device_wait=5)
    resets = []

    class Service:
        def reset(self):
            resets.append(1)

    state = {"n": 0}

    def job():
        worker.service("ui", Service)
        state["n"] += 1
        if state["n"] == 1:
            raise DeviceUnavailable("dropped", serial="a")
        return "ok"

    assert worker.result("launch", "launch", job)[0] == "ok"
    assert resets == [1]
    worker.stop()


def test_events_name_the_device_and_the_job():
    events = []
    worker = DeviceWorker(_Device("a"), name="MI_5-abc", on_event=events.append)
    worker.result("launch", "launch Word", lambda: None)
    worker.stop()
    worker.join(5)
    kinds = [(e.kind, e.device, e.label) for e in events]
    assert ("job_started", "MI_5-abc", "launch Word") in kinds
    assert ("job_finished", "MI_5-abc", "launch Word") in kinds
