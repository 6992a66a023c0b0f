"""What every command-line entry point of the project shares.

:func:`run_main` runs a ``main() -> int`` and exits with its code; output cut short by the reader (``… | head``)
ends quietly instead of with a ``BrokenPipeError`` traceback, as the Python documentation recommends for SIGPIPE
(https://docs.python.org/3/library/signal.html#note-on-sigpipe): stdout is pointed at ``/dev/null`` so the
interpreter's final flush cannot fail again, and the exit code is 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn


def run_main(main: Callable[[], int | None]) -> NoReturn:
    """``sys.exit(main())``, with a closed stdout (the reader went away) ending the program quietly (exit 1)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    sys.exit(code)
