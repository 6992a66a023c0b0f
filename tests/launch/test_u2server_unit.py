"""virtual_device.u2server without adb: shell hooks, screen model, hierarchy format, selectors, JSON-RPC envelope."""

from __future__ import annotations

import asyncio
import json
import re
import xml.etree.ElementTree as ET

import pytest

from virtual_device.image import load_named_image
from virtual_device.shell import run
from virtual_device.state import DeviceState
from virtual_device.u2server import (
    HOLD_THRESHOLD_MS,
    U2_JAR,
    U2Server,
    current_screen,
    find,
    hierarchy_xml,
    press_key,
)

WORD = "com.microsoft.office.word"
PPT = "com.microsoft.office.powerpoint"
EXCEL = "com.microsoft.office.excel"
ACT = "com.microsoft.office.apphost.LaunchActivity"
START_U2 = "CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main -p 9008"


def state(image: str = "mi4s-cn") -> DeviceState:
    return DeviceState.from_image(load_named_image(image))


def test_app_process_needs_the_pushed_jar():
    st = state()
    res = run(st, START_U2)
    assert res.exit_code == 1 and b"Could not find or load main class com.wetest.uia2.Main" in res.stderr
    assert 9008 not in st.tcp_services and res.keep_open is None


def test_app_process_serves_9008_until_its_stream_closes_and_refuses_a_second_server():
    st = state()
    st.fs.write(U2_JAR, b"PK\x03\x04jar")
    res = run(st, START_U2)
    assert res.exit_code == 0 and b"Starting Server" in res.stdout
    assert isinstance(st.tcp_services[9008], U2Server) and callable(res.keep_open)
    second = run(st, START_U2)
    assert second.exit_code == 1 and b"already registered" in second.stderr

    class IO:
        closed = asyncio.Event()

    async def close_stream() -> None:
        IO.closed = asyncio.Event()
        task = asyncio.ensure_future(res.keep_open(IO))
        await asyncio.sleep(0)
        assert 9008 in st.tcp_services
        IO.closed.set()
        await task

    asyncio.run(close_stream())
    assert 9008 not in st.tcp_services


def test_only_slow_cold_starts_hold_am_start_w():
    st = state("mimax-in")  # Excel cold start 6000 ms, the others 500 ms
    slow = run(st, f"am start -W -n {EXCEL}/{ACT}")
    assert b"TotalTime: 6000" in slow.stdout
    assert slow.keep_open is not None and slow.keep_open.seconds == pytest.approx(6.0)
    hot = run(st, f"am start -W -n {EXCEL}/{ACT}")  # already running: HOT, no hold
    assert b"brought to the front" in hot.stdout and hot.keep_open is None
    fast = run(st, f"am start -W -n {WORD}/{ACT}")
    assert fast.keep_open is None
    assert st.package(WORD).launch.cold_start_ms <= HOLD_THRESHOLD_MS
    no_wait = run(st, f"am force-stop {EXCEL}; am start -n {EXCEL}/{ACT}")
    assert no_wait.keep_open is None  # only -W waits for the launch


def test_a_crash_dialog_stays_on_top_until_dismissed():
    st = state()
    run(st, f"am start -n {PPT}/{ACT}")
    assert st.focus.window == f"Application Error: {PPT}"
    assert current_screen(st).kind == "crash"
    run(st, f"am start -n {WORD}/{ACT}")
    assert st.focus.window == f"Application Error: {PPT}" and st.focus.package == WORD  # Word under the dialog
    press_key(st, "back")
    assert st.focus.window == f"{WORD}/{ACT}"  # the dialog is gone, Word is in front
    run(st, f"am start -n {PPT}/{ACT}; am force-stop {PPT}")
    assert current_screen(st).kind != "crash"


def test_anr_dialog_over_the_app_and_home_key():
    st = state("redmi3-id")
    run(st, "am start -n com.microsoft.office.outlook/com.microsoft.office.outlook.MainActivity")
    screen = current_screen(st)
    assert screen.kind == "anr" and screen.title.startswith("Outlook isn't responding")
    assert [n.text for n in find(st, {"mask": 2097152, "resourceId": "android:id/button2"})] == ["Wait"]
    press_key(st, "home")
    assert current_screen(st).kind == "launcher"


@pytest.mark.parametrize(("sdk", "present", "absent"), [
    ("22", [], ["drawing-order", "hint=", "display-id"]),
    ("24", ["drawing-order"], ["hint=", "display-id"]),
    ("26", ["drawing-order", 'hint=""'], ["display-id"]),
    ("30", ["drawing-order", 'hint=""', 'display-id="0"'], []),
])
def test_hierarchy_attributes_follow_the_api_level(sdk, present, absent):
    st = state()
    st.props["ro.build.version.sdk"] = sdk
    run(st, f"am start -n {WORD}/{ACT}")
    xml = hierarchy_xml(st)
    assert "\r\n" in xml and "\n  <node " in xml
    first = xml.split("\r\n")[2]
    order = [m.group(1) for m in re.finditer(r' ([\w-]+)="', first)]
    assert order[:7] == ["index", "text", "resource-id", "class", "package", "content-desc", "checkable"]
    for p in present:
        assert p in first
    for a in absent:
        assert a not in first
    root = ET.fromstring(xml.encode())
    assert [n.get("package") for n in root.findall("node")] == [WORD, "com.android.systemui"]


def test_root_in_active_and_max_depth():
    st = state()
    run(st, f"am start -n {PPT}/{ACT}")
    only = ET.fromstring(hierarchy_xml(st, root_in_active=True).encode())
    assert [n.get("package") for n in only.findall("node")] == ["android"]
    shallow = ET.fromstring(hierarchy_xml(st, max_depth=1).encode())
    assert all(len(list(n)) == 0 for n in shallow.findall("node"))


def test_selectors():
    st = state()
    run(st, f"am start -n {WORD}/{ACT}")
    assert [n.text for n in find(st, {"mask": 1, "text": "Word"})] == ["Word"]
    assert find(st, {"mask": 2, "textContains": "or"})
    assert find(st, {"mask": 0x400000, "resourceIdMatches": r".*backstageview_header"})
    assert not find(st, {"mask": 1, "text": "Excel"})
    assert len(find(st, {"mask": 0x80000, "packageName": WORD})) >= 3
    assert len(find(st, {"mask": 0x80000 | 0x1000000, "packageName": WORD, "instance": 1})) == 1


def _rpc(server: U2Server, method: str, params: object) -> dict:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    status, payload, _ = asyncio.run(server.handle("POST", "/jsonrpc/0", body))
    assert status == 200
    return json.loads(payload)


def test_jsonrpc_envelope_and_errors():
    st = state()
    server = U2Server(st)
    assert asyncio.run(server.handle("GET", "/ping", b""))[:2] == (200, b"pong")
    assert asyncio.run(server.handle("GET", "/nothing", b""))[:2] == (404, b"Not Found!!!")
    assert _rpc(server, "noSuchMethod", [])["error"]["code"] == -32601
    info = _rpc(server, "deviceInfo", {})["result"]
    assert info["currentPackageName"] == "com.miui.home" and info["sdkInt"] == 24
    assert (info["displayWidth"], info["displayHeight"]) == (1080, 1920)
    missing = _rpc(server, "objInfo", [{"mask": 1, "text": "nope"}])["error"]
    assert "UiObjectNotFoundException" in missing["message"]
    run(st, f"am start -n {PPT}/{ACT}")
    assert _rpc(server, "deviceInfo", {})["result"]["currentPackageName"] == "android"
    assert _rpc(server, "exist", [{"mask": 0x200000, "resourceId": "android:id/aerr_close"}])["result"] is True
    assert server.calls == {"noSuchMethod": 1, "deviceInfo": 2, "objInfo": 1, "exist": 1}


def test_date_prints_the_logcat_time_format():
    res = run(state(), "date '+%m-%d %H:%M:%S'")
    assert re.fullmatch(rb"\d\d-\d\d \d\d:\d\d:\d\d\n", res.stdout)
