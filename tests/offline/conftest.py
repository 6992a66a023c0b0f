"""Sample ROM builds made once per test session by tools/sample_builds.py (real aapt/apksigner APKs).

The Debian tools are installed by tools/setup.sh (tools/setup_apk_tools.sh); when they are missing the
fixture errors with that remedy instead of skipping, so no run can pass without looking at a build.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.sample_builds import make_all

ROOT = Path(__file__).resolve().parents[2]
TEST_PROFILES = ROOT / "tests" / "fixtures" / "offline_profiles"


@pytest.fixture(scope="session")
def builds(tmp_path_factory) -> dict[str, Path]:
    """``{name: path}`` of every sample build (see tools/sample_builds.py), plus ``signer`` (the digest file)."""
    out = tmp_path_factory.mktemp("builds")
    made = make_all(out)
    made["signer"] = out / "signer.sha256"
    return made
