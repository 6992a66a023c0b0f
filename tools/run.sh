#!/usr/bin/env bash
# The main job: set up, check every attached device (or the bundled virtual farm when none is attached),
# build the reports, exit with the release gate's code. Arguments go to `python -m tools.job` (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
for arg in "$@"; do  # usage needs no setup (tools.job's usage imports only the standard library)
  case "$arg" in -h|--help) exec "${PYTHON:-python3}" -m tools.job "$@" ;; --) break ;; esac
done
bash tools/setup.sh >&2
exec .venv/bin/python -m tools.job "$@"
