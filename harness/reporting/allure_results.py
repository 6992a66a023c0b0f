"""Allure result files without the noise: no set-up record for a fixture that only passed.

allure-pytest writes a ``*-container.json`` for every fixture of every test ("Set up: package_state passed"). In a
farm run those records say nothing (the harness's fixtures wait for device work, so their set-up time is a
queue wait, not a measurement) and they are most of the files written: about five per test, each a file
creation on the results disk. :func:`install` swaps allure-pytest's :class:`~allure_commons.logger.
AllureFileLogger` for :class:`LeanFileLogger`, which writes a container only when it carries information:
a fixture that failed or broke, or one that recorded steps, attachments or parameters. Test results,
attachments and the environment are written as before (the same JSON, the same temporary-file-then-rename),
but by one writer thread behind a short queue (:data:`QUEUE_SIZE` files), so the test loop never waits for the
results disk: a new file costs 0.5 to 1 ms on some CI disks, more than a test's own host time. The queue is
drained when the run ends (``pytest_unconfigure``), also after a failure or Ctrl-C; a killed process loses at
most the files still queued.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import allure_commons
import pytest
from allure_commons import hookimpl
from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import Label, Parameter
from allure_commons.utils import represent
from attr import asdict

LOGGER_KEY = pytest.StashKey["LeanFileLogger"]()


def informative(container: Any) -> bool:
    """True when a container (``TestResultContainer``) holds a fixture that did not simply pass.

    A fixture result is informative when its status is neither ``passed`` nor empty, or it has steps,
    attachments, parameters or a description.
    """
    for fixture in list(getattr(container, "befores", []) or []) + list(getattr(container, "afters", []) or []):
        if getattr(fixture, "status", None) not in (None, "passed"):
            return True
        if any(getattr(fixture, attr, None) for attr in ("steps", "attachments", "parameters", "description")):
            return True
    return False


QUEUE_SIZE = 64
"""Files that may wait for the writer thread before a test blocks."""


class LeanFileLogger(AllureFileLogger):
    """An :class:`AllureFileLogger` that skips uninformative fixture containers (see :func:`informative`)
    and writes its files on a background thread (see the module docstring); :meth:`flush` waits for them."""

    def _start_writer(self, report_dir: Path) -> None:
        self._report_dir = report_dir
        self._queue: queue.Queue[tuple[str, bytes | Path] | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._errors: list[str] = []
        self._thread = threading.Thread(target=self._write_loop, name="allure-results-writer", daemon=True)
        self._thread.start()

    def _write_loop(self) -> None:
        while True:
            entry = self._queue.get()
            try:
                if entry is None:
                    return
                name, body = entry
                tmp, final = self._report_dir / f"{name}.tmp", self._report_dir / name
                try:
                    if isinstance(body, Path):
                        shutil.copy2(body, tmp)
                    else:
                        tmp.write_bytes(body)
                    os.replace(tmp, final)
                except OSError as exc:
                    self._errors.append(f"{final}: {exc}")
            finally:
                self._queue.task_done()

    def _report_item(self, item: Any) -> None:
        data = asdict(item, filter=lambda _, v: v or v is False)
        name = item.file_pattern.format(prefix=uuid.uuid4())
        self._queue.put((name, json.dumps(data, ensure_ascii=False).encode("utf-8")))

    @hookimpl
    def report_container(self, container: Any) -> None:  # noqa: D102 - allure_commons hook
        if informative(container):
            self._report_item(container)

    @hookimpl
    def report_attached_file(self, source: Any, file_name: str) -> None:  # noqa: D102 - allure_commons hook
        self._queue.put((file_name, Path(source)))

    @hookimpl
    def report_attached_data(self, body: Any, file_name: str) -> None:  # noqa: D102 - allure_commons hook
        self._queue.put((file_name, body.encode("utf-8") if isinstance(body, str) else bytes(body)))

    def flush(self) -> list[str]:
        """Wait until every queued file is written; return the write errors met so far (``path: reason``)."""
        self._queue.join()
        return list(self._errors)

    def close(self) -> None:
        """Flush, then stop the writer thread."""
        self.flush()
        self._queue.put(None)
        self._thread.join(timeout=10)


def install(config: pytest.Config) -> bool:
    """Replace allure-pytest's file logger of this process by a :class:`LeanFileLogger` writing to the same dir.

    Returns False (nothing changed) when allure-pytest writes no results in this run. The original logger is
    put back at config cleanup, before allure-pytest's own cleanup unregisters it.
    """
    manager = allure_commons.plugin_manager
    original = next((p for p in manager.get_plugins() if type(p) is AllureFileLogger), None)
    if original is None:
        return False
    name = manager.get_name(original)
    lean = LeanFileLogger.__new__(LeanFileLogger)
    lean._start_writer(original._report_dir)  # noqa: SLF001 - same directory, already created (and cleaned)
    manager.unregister(original)
    manager.register(lean)
    config.stash[LOGGER_KEY] = lean

    def restore() -> None:
        lean.close()
        manager.unregister(lean)
        manager.register(original, name)

    config.add_cleanup(restore)
    return True


def flush(config: pytest.Config) -> list[str]:
    """Wait until this process's Allure files are on disk (before anything reads them); return write errors."""
    lean = config.stash.get(LOGGER_KEY, None)
    return lean.flush() if lean is not None else []


def annotate(config: pytest.Config, *, title: str | None = None, labels: Sequence[tuple[str, str]] = (),
             parameters: Sequence[tuple[str, object, bool]] = (),
             start_ms: int | None = None, stop_ms: int | None = None) -> bool:
    """Set the running test's Allure title, labels (``(name, value)``), parameters (``(name, value, excluded)``)
    and start/stop (epoch ms) in one go; False when no Allure result is being written.

    The same result as ``allure.dynamic.title/label/parameter``, values shown with allure's ``represent`` so
    history ids stay what they were, without one plugin-hook dispatch and result lookup per value (a farm run
    sets a dozen per test).
    """
    listener = config.pluginmanager.get_plugin("allure_listener")
    if listener is None:
        return False
    result = listener.allure_logger.get_test(None)
    if result is None:
        return False
    if title:
        result.name = title
    result.labels.extend(Label(name, value) for name, value in labels)
    existing = {p.name: p for p in result.parameters}
    for name, value, excluded in parameters:
        shown = represent(value)
        if name in existing:
            existing[name].value = shown
        else:
            param = Parameter(name=name, value=shown, excluded=excluded or None)
            result.parameters.append(param)
            existing[name] = param
    if start_ms is not None:
        result.start = start_ms
    if stop_ms is not None:
        result.stop = stop_ms
    return True
