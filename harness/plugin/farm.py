"""Device work of a compliance run: every test's device I/O runs on its device's worker, all devices at once.

Design (README "How a farm run is scheduled"): before the first test runs (``pytest_runtestloop``), the plugin
walks the selected tests in pytest's order and, for each test, asks the *work factories* of the fixtures it
uses (``package_state`` → the device's batched inventory, ``launch_report`` → one launch) for a job. Each
device's jobs go, in that order, to the device's :class:`~harness.workers.DeviceWorker`, which starts at once.
So all devices work concurrently, each device strictly in test order, while pytest runs the tests one by one
as usual: a test's fixture only waits for its own job, which is usually done by the time pytest gets there.
``-k``, ``--lf``, ``--serial``, JUnit, Allure and the records see ordinary pytest items.

Under pytest-xdist the scheduler (:mod:`harness.plugin.scheduling`) gives every device to exactly one worker
process; that process plans only the devices it owns. A test that was never planned (a crashed worker's
devices handed to its replacement) still works: its job is queued at the front of its device's worker.

Timing: the test's Allure start/stop become the start/stop of the device work its verdict rests on (a launch;
for package checks the batched inventory they share), and its JUnit/record duration is its own host time plus
the device time charged to it (a shared job is charged to its first test only), never the time it waited for
its turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

import pytest

from harness.plugin.progress import Progress
from harness.plugin.scheduling import assign_units, device_key, worker_index
from harness.plugin.session import AppCase, DeviceCase, RunContext
from harness.reporting.allure_results import annotate
from harness.workers import DEFAULT_DEVICE_WAIT_S, DeviceWorker, Job, WorkerPool

WorkSpec = tuple[Hashable, str, Callable[[], Any]]
WorkFactory = Callable[[pytest.Item, AppCase, DeviceWorker], WorkSpec]

WORK: dict[str, WorkFactory] = {}
"""Fixture name → factory of the device job that fixture waits for (see :func:`device_work`)."""

POOL_KEY = pytest.StashKey[WorkerPool]()
PROGRESS_KEY = pytest.StashKey[Progress]()
PLANNED_KEY = pytest.StashKey[dict[str, str]]()  # nodeid -> device id, for progress
JOBS_KEY = pytest.StashKey[list[Job]]()
WAITED_KEY = pytest.StashKey[float]()


def device_work(fixture_name: str) -> Callable[[WorkFactory], WorkFactory]:
    """Register ``factory(item, app_case, worker) -> (key, label, fn)`` as the job behind ``fixture_name``.

    ``fn`` runs on the device's worker thread; jobs with equal ``key`` on one device run once and are shared.
    """
    def register(factory: WorkFactory) -> WorkFactory:
        WORK[fixture_name] = factory
        return factory
    return register


@device_work("package_state")
def inventory_work(item: pytest.Item, case: AppCase, worker: DeviceWorker) -> WorkSpec:
    """The device's one-round-trip inventory of every package its requirements name (shared by its checks)."""
    packages = tuple(case.device_case.all_packages())
    device = worker.device
    return ("inventory", packages), "inventory", lambda: device.inventory(packages)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Options of the device workers (group "preload-harness")."""
    group = parser.getgroup("preload-harness", "partner-app preload compliance")
    group.addoption("--device-wait", type=float, default=DEFAULT_DEVICE_WAIT_S, metavar="SECONDS",
                    help="wait this long for a device that dropped mid-run, then rerun its interrupted check once; "
                         f"0 = never wait (default {DEFAULT_DEVICE_WAIT_S:g})")
    group.addoption("--progress", choices=["auto", "live", "lines", "off"], default="auto",
                    help="per-device progress: live status on a terminal, plain lines in CI (auto), or off")


def pool(config: pytest.Config) -> WorkerPool:
    """The run's :class:`WorkerPool` (created on first use)."""
    if POOL_KEY not in config.stash:
        progress = progress_of(config)
        config.stash[POOL_KEY] = WorkerPool(device_wait=config.getoption("device_wait"), on_event=progress.on_event)
    return config.stash[POOL_KEY]


def progress_of(config: pytest.Config) -> Progress:
    """The run's :class:`Progress` (created on first use)."""
    if PROGRESS_KEY not in config.stash:
        config.stash[PROGRESS_KEY] = Progress.from_option(config, config.getoption("progress"))
    return config.stash[PROGRESS_KEY]


def case_of(item: pytest.Item) -> tuple[DeviceCase | None, AppCase | None]:
    """``(device case, app case)`` of a suite test from its parameters; Nones for any other test."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    app = params.get("app_case")
    if isinstance(app, AppCase):
        return app.device_case, app
    dev = params.get("device_case")
    return (dev if isinstance(dev, DeviceCase) else None), None


def owned_devices(config: pytest.Config, items: list[pytest.Item], ctx: RunContext) -> set[str] | None:
    """Device ids this process drives: all (None) outside xdist; under xdist the ones the scheduler gives it."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return None
    me = worker_index(str(workerinput.get("workerid", "")))
    count = int(workerinput.get("workercount", 1) or 1)
    with_tests = {d.id for it in items for d in (case_of(it)[0],) if d is not None}
    order = [d.id for d in ctx.devices if d.id in with_tests]
    return {did for did, w in assign_units(order, count).items() if w == me}


def plan(config: pytest.Config, items: list[pytest.Item], ctx: RunContext) -> int:
    """Queue the device jobs of ``items`` (pytest order) on their devices' workers; return the number of jobs."""
    owned = owned_devices(config, items, ctx)
    progress = progress_of(config)
    workers = pool(config)
    per_worker: dict[DeviceWorker, list[WorkSpec]] = {}
    planned: dict[str, str] = {}
    counts: dict[str, int] = {}
    labels: dict[str, str] = {}
    for item in items:
        dc, app = case_of(item)
        if dc is None or (owned is not None and dc.id not in owned):
            continue
        planned[item.nodeid] = dc.id
        counts[dc.id] = counts.get(dc.id, 0) + 1
        labels[dc.id] = f"{dc.model or 'unknown model'} · {dc.region or '?'} ({dc.device_serial})"
        if app is None or dc.device is None or dc.problem is not None:
            continue
        worker = workers.worker(dc.device, name=dc.id)
        for name in item.fixturenames:
            factory = WORK.get(name)
            if factory is not None:
                per_worker.setdefault(worker, []).append(factory(item, app, worker))
    jobs_per_device = {w.name: len(specs) for w, specs in per_worker.items()}
    for did, n in counts.items():
        progress.add_device(did, labels[did], n, jobs=jobs_per_device.get(did, 0))
    config.stash[PLANNED_KEY] = planned
    for worker, specs in per_worker.items():
        worker.plan(specs)
    return sum(len(s) for s in per_worker.values())


def wait_for_work(request: pytest.FixtureRequest, fixture_name: str) -> Any:
    """In a fixture: the result of the device job behind ``fixture_name`` for this test (waiting if needed).

    Raises whatever the job raised (a :mod:`harness.errors` device error: the test is then an *error*).
    """
    item = request.node
    dc, app = case_of(item)
    assert dc is not None and app is not None and dc.device is not None
    worker = pool(request.config).worker(dc.device, name=dc.id)
    key, label, fn = WORK[fixture_name](item, app, worker)
    job = worker.submit(key, label, fn)
    if job.owner is None:
        job.owner = item.nodeid
    item.stash.setdefault(JOBS_KEY, []).append(job)
    progress = progress_of(request.config)
    start = time.monotonic()
    try:
        while True:
            try:
                return job.future.result(timeout=0.2)
            except TimeoutError:
                progress.poll()
    finally:
        item.stash[WAITED_KEY] = item.stash.get(WAITED_KEY, 0.0) + (time.monotonic() - start)
        progress.end_wait()


def item_jobs(item: pytest.Item) -> list[Job]:
    """The device jobs this test's verdict rests on (distinct, in the order it asked for them)."""
    seen: list[Job] = []
    for job in item.stash.get(JOBS_KEY, []):
        if job not in seen:
            seen.append(job)
    return seen


def device_seconds(item: pytest.Item) -> float:
    """Seconds of device work charged to this test: its jobs' durations, a shared job only to its first test.

    (The device's inventory is one job shared by all its package checks; charging it once keeps sums of test
    durations equal to the device time really spent.)
    """
    return sum(j.duration_s or 0.0 for j in item_jobs(item) if j.owner == item.nodeid)


class FarmPlugin:
    """Registered per process in compliance runs: plans device work, times tests, reports progress."""

    def __init__(self, config: pytest.Config, context: Callable[[], RunContext | None]) -> None:
        self.config = config
        self.context = context

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session):  # noqa: ANN201 - hookwrapper generator
        """Plan every selected test's device work before the first test; stop the workers after the last."""
        ctx = self.context()
        controller = (not hasattr(self.config, "workerinput")
                      and self.config.pluginmanager.get_plugin("dsession") is not None)
        if ctx is not None and not controller and not self.config.option.collectonly and session.items:
            plan(self.config, session.items, ctx)
        try:
            yield
        finally:
            if POOL_KEY in self.config.stash:
                busy = self.config.stash[POOL_KEY].shutdown()
                if busy:
                    tr = self.config.pluginmanager.get_plugin("terminalreporter")
                    if tr is not None:
                        tr.write_line(f"preload-harness: devices still finishing a command at exit: {', '.join(busy)}")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
        """Durations without the wait for the device's turn; Allure start/stop = the device work's window."""
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if call.when == "setup":
            waited = item.stash.get(WAITED_KEY, 0.0)
            report.duration = max(0.0, report.duration - waited) + device_seconds(item)
        elif call.when == "teardown":
            self._allure_window(item)

    def _allure_window(self, item: pytest.Item) -> None:
        jobs = [j for j in item_jobs(item) if j.started is not None and j.finished is not None]
        if not jobs:
            return
        work = "; ".join(
            f"{j.label} {1000 * (j.duration_s or 0):.0f} ms"
            + (f" (rerun after the device was away {j.recovered_after_s:.1f} s)" if j.recovered_after_s else "")
            for j in jobs)
        annotate(self.config, parameters=[("device work", work, True)],
                 start_ms=int(min(j.started or 0.0 for j in jobs) * 1000),
                 stop_ms=int(max(j.finished or 0.0 for j in jobs) * 1000))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count a finished test toward its device's progress (in the process that ran it, or the controller)."""
        if report.when != "teardown":
            return
        did = self.config.stash.get(PLANNED_KEY, {}).get(report.nodeid)
        if did is None and hasattr(report, "node"):  # xdist controller: the test ran in a worker process
            ctx = self.context()
            if ctx is not None:
                did = device_key(report.nodeid, [d.id for d in ctx.devices]) or None
        if did is not None:
            progress_of(self.config).check_done(did)

    def on_schedule(self, counts: dict[str, int]) -> None:
        """xdist controller: the scheduler dealt the devices; expect their tests for the progress lines."""
        ctx = self.context()
        labels = {d.id: f"{d.model or 'unknown model'} · {d.region or '?'} ({d.device_serial})"
                  for d in (ctx.devices if ctx else [])}
        progress = progress_of(self.config)
        progress.by_checks = True
        for did, n in counts.items():
            progress.add_device(did, labels.get(did, did), n)


@pytest.fixture
def package_state(request: pytest.FixtureRequest, app_case: AppCase):  # noqa: ANN201 - inventory.PackageState
    """The observed state of this test's package, from the device's one-round-trip inventory (device worker)."""
    inventory = wait_for_work(request, "package_state")
    return inventory.packages[app_case.requirement.package]


def job_record_fields(item: pytest.Item) -> dict[str, Any]:
    """Record fields about the device work of a test: ``device_s`` and ``recovered_after_s`` (or empty)."""
    jobs = item_jobs(item)
    if not jobs:
        return {}
    out: dict[str, Any] = {"device_s": round(device_seconds(item), 4)}
    recovered = [j.recovered_after_s for j in jobs if j.recovered_after_s]
    if recovered:
        out["recovered_after_s"] = round(max(recovered), 2)
    return out
