#!/usr/bin/env bash
# Set up everything the harness needs on a fresh machine, from the project's own files; idempotent.
#   - .venv with the pinned Python packages (pyproject.toml), reinstalled when pyproject.toml changes
#   - the Allure report generator from npm and Debian's Chromium (tools/setup_report_toolchain.sh)
#   - Debian's aapt, zipalign, apksigner, android-framework-res and the fixture APKs built with them, which the
#     virtual devices serve for the signer check and the ROM-build fixtures use (tools/setup_apk_tools.sh)
# Usage: bash tools/setup.sh [--no-report-toolchain]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
echo "setup: checking .venv and the report toolchain (first run: about a minute)"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages (pyproject.toml)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
  rm -f .venv/.installed-* && touch "$stamp"
fi
bash tools/setup_apk_tools.sh .venv/bin/python || echo "setup: fixture APKs not built (see above); the signer tests and the virtual farm need them" >&2
if [ "${1:-}" != "--no-report-toolchain" ] && [ -f tools/setup_report_toolchain.sh ]; then
  bash tools/setup_report_toolchain.sh
fi
