"""Progress and timing of the pipeline's stages.

Every step takes ``progress(percent: float, message: str)`` on its own 0–100 scale;
:class:`Stages` maps each stage's share onto the caller's scale, so a composition (the
whole analysis) reports one bar that only moves forward, and times each stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager

Progress = Callable[[float, str], None]


def silent(_percent: float, _message: str) -> None:
    return None


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """``progress`` with 0–100 mapped onto [start, end]."""
    return lambda percent, message: progress(start + (end - start) * percent / 100, message)


class Stages:
    """Times each stage and maps its own 0–100 progress onto the overall scale.

    ``starts`` gives where each stage starts, in the order the stages run; a stage ends
    where the next one starts (the last at 100).
    """

    def __init__(self, starts: dict[str, float], progress: Progress | None) -> None:
        values = list(starts.values())
        if values != sorted(values):
            raise ValueError("stages must start in the order they run")
        self.starts = starts
        self.progress = progress or silent
        self.timings: dict[str, float] = {}

    def scaled(self, name: str) -> Progress:
        names = list(self.starts)
        start = self.starts[name]
        end = self.starts[names[names.index(name) + 1]] if name != names[-1] else 100.0
        return scaled(self.progress, start, end)

    @contextmanager
    def stage(self, name: str, message: str):
        self.progress(self.starts[name], message)
        started = time.perf_counter()
        yield self.scaled(name)
        self.timings[name] = round(time.perf_counter() - started, 3)
