"""A sweep's progress: a bar on a terminal, plain log lines elsewhere (a CI log, a batch job)."""

from __future__ import annotations

import logging
import sys
import time

__all__ = ["Progress"]

log = logging.getLogger("sim")


class Progress:
    """A tqdm bar on a terminal; plain log lines (every 10 % or 30 s) otherwise."""

    def __init__(self, total: int, done: int, show: bool | None) -> None:
        self.total, self.done, self.start, self.start_done = total, done, time.perf_counter(), done
        self.tty = sys.stderr.isatty() if show is None else show
        self._last_log, self._next_share = self.start, 0.1
        self.bar = None
        if self.tty:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=done, unit="neg", desc="negotiations", smoothing=0.1)

    def update(self, n: int) -> None:
        """Count ``n`` more negotiations done."""
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.perf_counter()
        if self.done / self.total >= self._next_share or now - self._last_log >= 30 or self.done == self.total:
            rate = (self.done - self.start_done) / max(now - self.start, 1e-9)
            eta = (self.total - self.done) / rate if rate > 0 else float("inf")
            log.info("progress: %d/%d negotiations (%.0f%%), %.0f/s, ETA %.0f s", self.done, self.total,
                     100 * self.done / self.total, rate, eta)
            self._last_log = now
            while self._next_share <= self.done / self.total:
                self._next_share += 0.1

    def close(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()
