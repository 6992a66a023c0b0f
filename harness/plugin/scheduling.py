"""Device affinity for pytest-xdist: every test of one device runs in one worker process, whatever ``--dist``.

Two processes driving one phone at once give false verdicts (one force-stops the app the other is launching,
two uiautomator2 servers fight over one UiAutomation). So in a compliance run the plugin replaces xdist's
scheduler (``pytest_xdist_make_scheduler``, whatever ``--dist`` says: load, loadscope, loadfile, loadgroup,
worksteal or each) with :class:`DeviceScheduling`:

* a *unit* is all selected tests of one device (the device is read from the test id, see :func:`device_key`);
* the units are dealt out once, all at the start, by :func:`assign_units` (device ``i`` of the run, in the
  discovery order, to worker ``gw{i mod N}``); every worker therefore knows from its own collection which
  devices it owns (the same function) and starts their device workers before its first test;
* a worker that crashes hands its unfinished units to its replacement, whole; they never go to a worker that
  still runs (so the dead worker's device is never driven by two processes).

The same test runs with the same device order and the same per-device job order under any scheduling, which
is why verdicts do not depend on ``-n`` (``tests/e2e/test_scheduling.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

NO_DEVICE = ""
"""The unit key of tests that belong to no device (none in the shipped suites)."""


def device_key(nodeid: str, device_ids: Sequence[str]) -> str:
    """The device id a test id belongs to, or :data:`NO_DEVICE`.

    Test ids end in ``[<device id>]`` (device checks) or ``[<device id>-<package>]`` (app checks); device ids
    are ASCII without brackets (``DeviceCase.id``). The longest matching id wins, so ``MI_5-abc`` never
    captures the tests of ``MI_5-abc@host``.
    """
    if not nodeid.endswith("]") or "[" not in nodeid:
        return NO_DEVICE
    param = nodeid[nodeid.rindex("[") + 1:-1]
    best = NO_DEVICE
    for did in device_ids:
        if (param == did or param.startswith(did + "-")) and len(did) > len(best):
            best = did
    return best


def worker_index(worker_id: str) -> int | None:
    """``gw3`` → 3; None for anything else (the controller, a non-xdist run)."""
    if worker_id.startswith("gw") and worker_id[2:].isdigit():
        return int(worker_id[2:])
    return None


def assign_units(device_ids_in_order: Sequence[str], workers: int) -> dict[str, int]:
    """Worker index of each device: the ``i``-th device that has tests goes to worker ``i mod workers``."""
    if workers <= 0:
        return {}
    return {did: i % workers for i, did in enumerate(device_ids_in_order)}


class DeviceScheduling:
    """An xdist scheduler (``xdist.scheduler.protocol.Scheduling``) that keeps each device's tests on one worker.

    Args:
        config: the controller's config (``numprocesses`` gives the expected worker count).
        log: xdist's log producer.
        device_ids: the run's device ids in discovery order (``RunContext.devices``).
        on_schedule: called once with ``{device id: number of tests}`` when the units are dealt (progress).
    """

    def __init__(self, config: pytest.Config, log: Any, device_ids: Sequence[str],
                 on_schedule: Callable[[dict[str, int]], None] | None = None) -> None:
        from xdist.workermanage import parse_tx_spec_config

        self.numnodes = len(parse_tx_spec_config(config))
        self.config = config
        self.log = log.devicesched if log is not None else (lambda *a: None)
        self.device_ids = list(device_ids)
        self.on_schedule = on_schedule
        self.collection: list[str] | None = None
        self.registered: dict[Any, list[str]] = {}
        self.pending: dict[Any, list[int]] = {}
        self.unassigned: dict[str, list[int]] = {}
        self.unit_of_index: list[str] = []

    # -- the protocol ------------------------------------------------------------------------------------------
    @property
    def nodes(self) -> list[Any]:
        """Active worker nodes."""
        return list(self.pending)

    @property
    def collection_is_completed(self) -> bool:
        """True once every initial worker sent its collection."""
        return len(self.registered) >= self.numnodes

    @property
    def tests_finished(self) -> bool:
        """True when every test ran (no unassigned unit, nothing pending on a worker)."""
        if not self.collection_is_completed or self.unassigned:
            return False
        return all(not p for p in self.pending.values())

    @property
    def has_pending(self) -> bool:
        """True while a test waits to run somewhere."""
        return bool(self.unassigned) or any(self.pending.values())

    def add_node(self, node: Any) -> None:
        """A worker is up."""
        self.pending.setdefault(node, [])

    def add_node_collection(self, node: Any, collection: Sequence[str]) -> None:
        """A worker's collection; a late (replacement) worker must have collected the same tests."""
        if self.collection is not None and list(collection) != self.collection:
            from xdist.report import report_collection_diff

            first = next(iter(self.registered))
            self.log(report_collection_diff(self.collection, list(collection), first.gateway.id, node.gateway.id))
            return
        self.registered[node] = list(collection)

    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        """A test finished on ``node``."""
        pending = self.pending.get(node, [])
        if item_index in pending:
            pending.remove(item_index)

    def mark_test_pending(self, item: str) -> None:
        """Not used (work stealing only)."""
        raise NotImplementedError

    def remove_pending_tests_from_node(self, node: Any, indices: Sequence[int]) -> None:
        """Not used (work stealing only)."""
        raise NotImplementedError

    def remove_node(self, node: Any) -> str | None:
        """A worker ended; when it crashed, its unfinished units wait (whole) for a replacement worker.

        Returns the node id of the test that was running when it crashed, or None.
        """
        pending = self.pending.pop(node, [])
        if self.collection is None:
            self.registered.pop(node, None)
        if not pending:
            return None
        assert self.collection is not None
        crash = self.collection[pending[0]]
        for index in pending[1:]:
            self.unassigned.setdefault(self.unit_of_index[index], []).append(index)
        return crash

    def schedule(self) -> None:
        """Deal out every unit at once (first call), or the units of a crashed worker to new workers (later)."""
        assert self.collection_is_completed
        if self.collection is None:
            collections = list(self.registered.values())
            if any(c != collections[0] for c in collections[1:]):
                self.log("**Different tests collected, aborting run**")
                from xdist.report import report_collection_diff

                first_node = next(iter(self.registered))
                for node, col in self.registered.items():
                    if col != collections[0]:
                        msg = report_collection_diff(collections[0], col, first_node.gateway.id, node.gateway.id)
                        self.config.hook.pytest_collectreport(report=pytest.CollectReport(
                            node.gateway.id, "failed", longrepr=msg, result=[]))
                return
            self.collection = list(collections[0])
            self.unit_of_index = [device_key(nid, self.device_ids) for nid in self.collection]
            for index, unit in enumerate(self.unit_of_index):
                self.unassigned.setdefault(unit, []).append(index)
            if self.on_schedule is not None:
                self.on_schedule({u: len(ix) for u, ix in self.unassigned.items() if u != NO_DEVICE})
            order = [d for d in self.device_ids if d in self.unassigned]
            if NO_DEVICE in self.unassigned:
                order.append(NO_DEVICE)
            assignment = assign_units(order, self.numnodes)
            by_index = {worker_index(n.gateway.id): n for n in self.nodes}
            for unit in order:
                node = by_index.get(assignment[unit])
                if node is not None and not node.shutting_down:
                    self._send(node, unit)
        # anything left (a worker that never came up, a crashed worker's units): the least loaded new worker
        for unit in list(self.unassigned):
            live = [n for n in self.nodes if not n.shutting_down]
            if not live:
                break
            self._send(min(live, key=lambda n: len(self.pending[n])), unit)
        if not self.unassigned:
            for node in self.nodes:
                if not node.shutting_down:
                    node.shutdown()

    def _send(self, node: Any, unit: str) -> None:
        indices = self.unassigned.pop(unit)
        self.pending[node].extend(indices)
        node.send_runtest_some(indices)
