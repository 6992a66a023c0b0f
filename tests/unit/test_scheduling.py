"""The xdist device scheduler (harness.plugin.scheduling): every device's tests go to exactly one worker.

xdist's WorkerController is replaced by a small recorder of what the scheduler sends; the end-to-end comparison of
verdicts under -n lives in tests/e2e/test_scheduling.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.plugin.scheduling import NO_DEVICE, DeviceScheduling, assign_units, device_key, worker_index

DEVICES = ["MI_5-aaa", "MI_MAX-bbb", "MI_MAX-bbb@h2:5037/emulator-5554", "Redmi_3-ccc"]


class _Node:
    def __init__(self, gid: str) -> None:
        self.gateway = SimpleNamespace(id=gid)
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indices):
        assert not self.shutting_down, "work sent to a node that was told to shut down"
        self.sent.extend(indices)

    def shutdown(self):
        self.shutting_down = True


def _collection():
    ids = []
    for suite in ("test_presence.py::test_installed", "test_version.py::test_version"):
        for dev in DEVICES:
            for pkg in ("com.a.word", "com.a.excel"):
                ids.append(f"suites/{suite}[{dev}-{pkg}]")
    ids += [f"suites/test_region.py::test_region[{dev}]" for dev in DEVICES]
    return ids


def _config(n):
    return SimpleNamespace(getvalue=lambda name: n if name == "numprocesses" else None,
                           option=SimpleNamespace(numprocesses=n, tx=[], dist="load"),
                           hook=SimpleNamespace(pytest_collectreport=lambda report: None),
                           getoption=lambda name, default=None: {"numprocesses": n, "tx": [], "dist": "load"}.get(
                               name, default))


@pytest.fixture
def make_sched(monkeypatch):
    def make(n):
        monkeypatch.setattr("xdist.workermanage.parse_tx_spec_config", lambda config: ["popen"] * n)
        return DeviceScheduling(_config(n), None, DEVICES)
    return make


def test_device_key_takes_the_longest_matching_device_id():
    assert device_key("suites/t.py::t[MI_MAX-bbb-com.a.word]", DEVICES) == "MI_MAX-bbb"
    assert device_key("suites/t.py::t[MI_MAX-bbb@h2:5037/emulator-5554-com.a.word]", DEVICES) == \
        "MI_MAX-bbb@h2:5037/emulator-5554"
    assert device_key("suites/t.py::t[Redmi_3-ccc]", DEVICES) == "Redmi_3-ccc"
    assert device_key("tests/x.py::test_plain", DEVICES) == NO_DEVICE
    assert device_key("suites/t.py::t[MI_5-aaaX-com.a.word]", DEVICES) == NO_DEVICE


def test_assign_units_and_worker_index():
    assert assign_units(["a", "b", "c"], 2) == {"a": 0, "b": 1, "c": 0}
    assert assign_units(["a"], 0) == {}
    assert worker_index("gw12") == 12 and worker_index("master") is None


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 6])
def test_every_device_runs_on_exactly_one_worker_and_everything_runs_once(make_sched, workers):
    sched = make_sched(workers)
    nodes = [_Node(f"gw{i}") for i in range(workers)]
    collection = _collection()
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    assert sched.collection_is_completed
    sched.schedule()
    sent = sorted(i for n in nodes for i in n.sent)
    assert sent == list(range(len(collection)))  # every test once
    owner = {}
    for node in nodes:
        for i in node.sent:
            dev = device_key(collection[i], DEVICES)
            assert owner.setdefault(dev, node.gateway.id) == node.gateway.id, f"{dev} on two workers"
    # the worker side computes the same ownership from its own collection
    for dev, gid in owner.items():
        assert assign_units(DEVICES, workers)[dev] == worker_index(gid)
    assert all(n.shutting_down for n in nodes)  # all work was dealt at once
    for node in nodes:
        for i in list(node.sent):
            sched.mark_test_complete(node, i)
    assert sched.tests_finished and not sched.has_pending


def test_a_crashed_workers_devices_go_whole_to_its_replacement_only(make_sched):
    sched = make_sched(2)
    gw0, gw1 = _Node("gw0"), _Node("gw1")
    collection = _collection()
    for node in (gw0, gw1):
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    done = gw0.sent[:3]
    for i in done:
        sched.mark_test_complete(gw0, i)
    crashed_on = collection[gw0.sent[3]]
    left = gw0.sent[4:]
    assert sched.remove_node(gw0) == crashed_on
    assert sched.has_pending and not sched.tests_finished
    sched.schedule()  # no live worker may take them: gw1 still drives its own devices
    assert len(gw1.sent) == len(set(gw1.sent)) and not set(left) & set(gw1.sent)
    gw2 = _Node("gw2")
    sched.add_node(gw2)
    sched.add_node_collection(gw2, collection)
    sched.schedule()
    assert sorted(gw2.sent) == sorted(left)
    devices_of = {device_key(collection[i], DEVICES) for i in left}
    assert devices_of <= {device_key(collection[i], DEVICES) for i in gw0.sent}


def test_different_collections_abort(make_sched):
    sched = make_sched(2)
    gw0, gw1 = _Node("gw0"), _Node("gw1")
    collection = _collection()
    sched.add_node(gw0)
    sched.add_node_collection(gw0, collection)
    sched.add_node(gw1)
    sched.add_node_collection(gw1, collection[:-1])
    sched.schedule()
    assert gw0.sent == [] and gw1.sent == []
