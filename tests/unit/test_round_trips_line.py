"""The summary's round-trip line: per device on a small farm, grouped counts on a large one (one line stays one)."""

from harness.plugin.plugin import round_trips_line


def test_small_farm_lists_every_device():
    line = round_trips_line({"127.0.0.1:5555": 5, "127.0.0.1:5557": 7})
    assert line.endswith("127.0.0.1:5555=5, 127.0.0.1:5557=7")


def test_large_farm_groups_counts_most_common_first():
    trips = {f"127.0.0.1:{5000 + i}": 5 for i in range(120)} | {f"10.0.0.2:{6000 + i}": 7 for i in range(8)}
    trips["10.0.0.3:5555"] = 1
    line = round_trips_line(trips)
    assert line.endswith(": 5 on 120 devices, 7 on 8 devices, 1 on 1 device")
    assert "127.0.0.1:5000" not in line and len(line) < 200


def test_no_device_no_line():
    assert round_trips_line({}) == ""
