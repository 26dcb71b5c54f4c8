"""Test-only pause points inside the chain steps, imported by the worker under test
(`--include`), so that a test can SIGKILL the pool process at a moment that is otherwise
a few milliseconds wide.

When the file `<VALUELENS_TEST_PAUSE_DIR>/<point>` exists as the task passes `point`, the
task removes it (each arming pauses once), writes `<point>.reached` holding its pid, and
blocks until it is killed. Points:

* `trained` — the training's model versions are committed, the train step is not yet
  marked succeeded;
* `live` — the run is explained and has gone live, the explain step is not yet marked
  succeeded.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from workers.steps import analysis

PAUSE_DIR = os.environ.get("VALUELENS_TEST_PAUSE_DIR")


def pause(point: str) -> None:
    if not PAUSE_DIR:
        return
    try:
        Path(PAUSE_DIR, point).unlink()
    except FileNotFoundError:
        return
    Path(PAUSE_DIR, f"{point}.reached").write_text(str(os.getpid()))
    threading.Event().wait()


def _then_pause(function, point: str):
    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        pause(point)
        return result

    return wrapper


if PAUSE_DIR:
    analysis.register_training = _then_pause(analysis.register_training, "trained")
    analysis.go_live = _then_pause(analysis.go_live, "live")
