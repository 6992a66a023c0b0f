"""Gate a ROM build before any phone is flashed: the compliance suites, records, matrix, Allure report and gate.

``python -m tools.romcheck BUILD [BUILD ...] [--profiles P] [--out reports/] [--gate-severity critical] [--no-html]``

BUILD: an AOSP ``target_files`` zip, a directory of unpacked partitions (``system/``, ``vendor/``, ``product/``,
``cust/`` …) or a folder holding one build per region (one row each). Facts come from the partitions'
``build.prop`` resolved as Android's init does; package states from the APKs in the partitions' ``app``,
``priv-app`` and data-app folders (see ``harness/sources/build.py``). Same exit codes as a device run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tools.offline_job import main_for

EXAMPLE = ".venv/bin/python -m tools.romcheck examples/builds/xiaomi-redmi8a-cn --out reports/rom --no-html"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (module docstring)."""
    return main_for("build", "python -m tools.romcheck", __doc__.split("\n\n")[0], "ROM build(s)", EXAMPLE, argv)


if __name__ == "__main__":
    sys.exit(main())
