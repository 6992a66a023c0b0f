"""Region and operator: the device is sold in an agreed market and for an agreed operator, and apps appear only
in the markets (and on the operators) agreed for them."""

import pytest

from harness.checks import check_app_region, check_device_operator, check_device_region


@pytest.mark.check("region")
def test_device_region_is_agreed(device_ready, expect):
    """The device's resolved region is one of its profile's agreed regions."""
    facts, profile = device_ready.facts, device_ready.profile
    region = facts.region
    props = "\n".join(f"{k}={v}" for k, v in sorted(region.signals.items()))
    expect(check_device_region(profile.regions, region.region, source=region.source, conflicts=region.conflicts,
                               signals=region.signals),
           attachments={"region properties": props, "build fingerprint": facts.fingerprint or ""})


@pytest.mark.check("operator")
def test_device_operator_is_agreed(device_ready, expect):
    """The device's mobile operator (MCC-MNC from carrier customisation, SIM or network) is an agreed one."""
    facts, profile = device_ready.facts, device_ready.profile
    op = facts.operator
    props = "\n".join(f"{k}={v}" for k, v in sorted(op.signals.items()))
    expect(check_device_operator(profile.operators, op.operator, source=op.source, conflicts=op.conflicts,
                                 signals=op.signals, name=(profile.operators or {}).get(op.operator or "", op.name)),
           attachments={"operator properties": props})


@pytest.mark.check("app_region")
def test_app_only_in_agreed_markets(app_case, package_state, expect):
    """An app the agreement says must be absent in this region is not installed."""
    expect(check_app_region(app_case.requirement, package_state))
