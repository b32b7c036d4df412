"""Per-stage progress of sharded work: shards done and rows/s.

On a terminal a tqdm bar; otherwise (a log file, CI) one plain line every `every` seconds and
one at the end - never a stream of carriage returns.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm


class StageProgress:
    """Counts finished shards and their rows for one stage and shows it.

    `shards` may be None when the count is not known in advance (a stream being written);
    `clock` gives seconds (tests pass their own).
    """

    def __init__(
        self,
        stage: str,
        shards: int | None,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stage, self.shards, self.every, self.clock = stage, shards, every, clock
        self.stream = stream or sys.stderr
        self.done = self.rows = 0
        self.started = self.last = clock()
        self.enabled = enabled
        terminal = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = (
            tqdm(total=shards, desc=stage, unit="shard", file=self.stream, leave=False)
            if terminal
            else None
        )

    def rate(self) -> float:
        """Rows per second since the stage started."""
        return self.rows / max(self.clock() - self.started, 1e-9)

    def line(self) -> str:
        """The one-line summary: stage, shards done, rows and rows/s."""
        of = "" if self.shards is None else f"/{self.shards}"
        return (
            f"{self.stage}: {self.done}{of} shards, {self.rows:,} rows, {self.rate():,.0f} rows/s"
        )

    def update(self, rows: int) -> None:
        """One more shard of `rows` rows is done."""
        self.done += 1
        self.rows += rows
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.rate():,.0f} rows/s", refresh=False)
            self.bar.update()
        elif self.clock() - self.last >= self.every:
            self.last = self.clock()
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar, or print the final line."""
        if self.bar is not None:
            self.bar.close()
        if self.enabled:
            print(self.line(), file=self.stream, flush=True)
