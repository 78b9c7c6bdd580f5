"""Figures drawn in worker processes, several at once, while the main process writes the summary.

Each figure of :data:`sim.report.plots.FIGURES` is one task; the slowest are handed out first. The
workers are forked from the fork server of :mod:`sim.run.workers`, which has imported Matplotlib and
the figure code, so the main process imports neither. The files are the same as
:func:`sim.report.plots.draw_all` writes in one process.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from sim.run.readback import RunData

__all__ = ["Drawing", "draw_in_workers"]

# the figures that take longest to draw first, so the workers finish together
COSTLY_FIRST = ("concession_paths", "terms", "pressure", "deal_rate", "utility_plane", "timing")

_job: dict = {}


def _init(run: RunData, run_dir: Path, formats: list[str], dpi: int | None, scale: float) -> None:
    """In a worker: keep the run's data and the output settings; leave Ctrl-C to the main process."""
    from sim.run.workers import worker_init

    worker_init()
    _job.update(run=run, run_dir=Path(run_dir), formats=formats, dpi=dpi, scale=scale)


def _names() -> list[str]:
    """In a worker: the figures there are (the main process does not import the figure code)."""
    from sim.report.plots import FIGURES

    return list(FIGURES)


def _call(draw: Callable[..., list[Path]], *args) -> list[Path]:
    """In a worker: ``draw(*args)`` in the run's formats, resolution and scale."""
    from sim.report.style import DPI, figure_output

    with figure_output(_job["formats"], _job["dpi"] or DPI, _job["scale"]):
        return draw(*args)


def _draw(name: str) -> tuple[list[Path], str | None]:
    """In a worker: draw one figure; its files, or the reason it was skipped."""
    from sim.report.plots import FIGURES, Skip

    try:
        return _call(FIGURES[name], _job["run"], _job["run_dir"] / "figures"), None
    except Skip as why:
        return [], str(why)


class Drawing:
    """Figures being drawn in workers; :meth:`result` waits for them."""

    def __init__(self, pool: ProcessPoolExecutor, futures: dict[str, Future], order: list[str]) -> None:
        self.pool, self.futures, self.order = pool, futures, order
        self.done = False

    def submit(self, draw: Callable[..., list[Path]], *args) -> Future:
        """Draw one more figure in the workers, after those of ``FIGURES``: ``draw(*args)`` (a module-level
        function and picklable arguments) in the run's formats; its future gives the files written.
        Submitted before :meth:`result`, which waits for it too."""
        return self.pool.submit(_call, draw, *args)

    def result(self) -> tuple[list[Path], list[tuple[str, str]]]:
        """The files written and ``(figure, reason)`` per figure skipped, in the order of ``FIGURES``."""
        written, skipped = [], []
        try:
            for name in self.order:
                paths, reason = self.futures[name].result()
                written += paths
                if reason is not None:
                    skipped.append((name, reason))
        except BaseException:
            self.stop()
            raise
        self.pool.shutdown(wait=True)
        self.done = True
        return written, skipped

    def stop(self) -> None:
        """Stop the workers now (on Ctrl-C or an error elsewhere); nothing once the figures are done."""
        from sim.run.executors import stop_pool

        if not self.done:
            stop_pool(self.pool)
            self.done = True


def draw_in_workers(run: RunData, run_dir: Path, formats: list[str], workers: int, dpi: int | None = None,
                    scale: float = 1.0) -> Drawing:
    """Start drawing every figure into ``run_dir/figures`` in ``workers`` processes.

    Args:
        run: The run's data.
        run_dir: The run folder.
        formats: File formats, some of png, svg, pdf.
        workers: Processes drawing at once.
        dpi: PNG resolution (``None``: the default, 150).
        scale: Scale on every figure's size.

    Returns:
        At once; :meth:`Drawing.result` waits for the figures.
    """
    from sim.run.workers import context

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context(), initializer=_init,
                               initargs=(run, Path(run_dir), list(formats), dpi, scale))
    rank = {name: k for k, name in enumerate(COSTLY_FIRST)}
    futures = {}
    try:
        names = pool.submit(_names).result()
        for name in sorted(names, key=lambda n: rank.get(n, len(rank))):
            futures[name] = pool.submit(_draw, name)
    except BaseException:
        from sim.run.executors import stop_pool

        stop_pool(pool)
        raise
    return Drawing(pool, futures, list(names))
