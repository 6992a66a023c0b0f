"""Judge a phone from its bugreport: the compliance suites, records, matrix, Allure report and gate, no phone needed.

``python -m tools.bugreportcheck BUGREPORT [BUGREPORT ...] [--profiles P] [--out reports/] [--no-html]``

BUGREPORT: the zip ``adb bugreport`` writes (Android 7+) or a plain-text bugreport. Facts come from its
``SYSTEM PROPERTIES`` section, package states from its ``DUMP OF SERVICE package:`` section, read by the same
parsers as a live phone's ``getprop`` and ``dumpsys package`` (see ``harness/sources/bugreport.py``). A bugreport
missing a section is broken (exit 10) with a message naming the section. Same exit codes as a device run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tools.offline_job import main_for

EXAMPLE = ".venv/bin/python -m tools.bugreportcheck examples/bugreports/bugreport-mi5-cn.txt --out reports/br --no-html"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (module docstring)."""
    return main_for("bugreport", "python -m tools.bugreportcheck", __doc__.split("\n\n")[0], "bugreport(s)",
                    EXAMPLE, argv)


if __name__ == "__main__":
    sys.exit(main())
