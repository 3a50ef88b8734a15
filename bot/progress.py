"""What a build shows on the terminal: a progress line while it runs, the report when done."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from index.build import BuildProgress, BuildReport


def print_build_report(report: BuildReport, index_path: Path) -> None:
    print(f"indexed {report.summary()} -> {index_path}")
    for path, reason in report.skipped:
        print(f"  skipped {path}: {reason}")


class ProgressLine:
    """Build progress on stderr: one line redrawn in place on a terminal, else (a log) a line
    every `LOG_EVERY` seconds; silent for builds shorter than `QUIET_FOR` seconds."""

    QUIET_FOR = 1.0
    REDRAW_EVERY = 0.2
    LOG_EVERY = 5.0
    BAR_WIDTH = 24

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty()
        self._shown_at: float | None = None

    def __call__(self, progress: BuildProgress) -> None:
        if progress.elapsed < self.QUIET_FOR:
            return
        every = self.REDRAW_EVERY if self.terminal else self.LOG_EVERY
        due = self._shown_at is None or progress.elapsed - self._shown_at >= every
        if not (due or progress.saving):
            return
        self._shown_at = progress.elapsed
        total = max(progress.files_total, 1)
        what = "saving the index" if progress.saving else "indexing"
        line = (
            f"{what}: {progress.files_done:,}/{progress.files_total:,} files, "
            f"{progress.passages:,} passages, {progress.elapsed:.0f} s"
        )
        if self.terminal:
            filled = self.BAR_WIDTH * progress.files_done // total
            bar = "#" * filled + "-" * (self.BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {line}\x1b[K")
            if progress.saving:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
