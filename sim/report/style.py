"""The one figure style every plot uses: palette, fonts, sizes, labels and how figures are saved.

Colours are the Okabe & Ito (2008) colour-blind-safe palette. Text sizes are chosen for a figure
printed at its saved size in a report (about 16–18 cm wide). A figure is saved in the formats
asked for (``run.figure_formats``, or ``sim plot --format``): PNG at 150 dpi by default, SVG and PDF
with text kept as text. :func:`figure_output` sets the formats, the PNG resolution and a size scale
for the figures drawn inside it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sim.report.labels import issue_title, short_key
from sim.run.outputs import atomic_write

__all__ = ["DPI", "FORMATS", "PALETTE", "PARTY_COLOURS", "figure_output", "figure_style", "issue_title",
           "save", "short_key", "sized"]

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
PARTY_COLOURS = (PALETTE[0], PALETTE[1])  # the first and second party of the scenario
ACCENT = PALETTE[2]
DPI = 150
FORMATS = ("png", "svg", "pdf")  # the formats a figure can be saved in

RC = {
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "svg.fonttype": "none",  # keep SVG text as text: editable in a report
    "image.cmap": "cividis",  # perceptually uniform and colour-blind-safe
}


@contextmanager
def figure_style() -> Iterator[None]:
    """Apply the shared style inside a ``with`` block."""
    with plt.rc_context(RC):
        yield


@dataclass(frozen=True)
class Output:
    """How figures are written: formats, PNG resolution (dots per inch) and a scale on their size."""

    formats: tuple[str, ...] = ("png", "svg")
    dpi: int = DPI
    scale: float = 1.0


_OUTPUT: ContextVar[Output] = ContextVar("figure_output", default=Output())  # noqa: B039  (frozen)


@contextmanager
def figure_output(formats: Sequence[str] = ("png", "svg"), dpi: int = DPI, scale: float = 1.0) -> Iterator[None]:
    """Save the figures drawn inside this block in ``formats``, PNG at ``dpi``, ``scale`` times their size.

    A scale above 1 gives a larger figure with the same text size (more room for the data); below 1,
    a smaller one.

    Raises:
        ValueError: for a format not in :data:`FORMATS`, or a non-positive resolution or scale.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"figure formats must be some of {', '.join(FORMATS)}, got {list(formats)}")
    if dpi <= 0 or scale <= 0:
        raise ValueError(f"resolution and scale must be positive, got {dpi} dpi and scale {scale}")
    token = _OUTPUT.set(Output(tuple(dict.fromkeys(formats)), int(dpi), float(scale)))
    try:
        yield
    finally:
        _OUTPUT.reset(token)


def sized(width: float, height: float) -> tuple[float, float]:
    """A figure size in inches, times the scale of the current :func:`figure_output`."""
    scale = _OUTPUT.get().scale
    return width * scale, height * scale


def save(fig: plt.Figure, out_dir: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``name.<format>`` under ``out_dir`` in each format of the current
    :func:`figure_output` (PNG at its resolution), atomically; close it."""
    output = _OUTPUT.get()
    paths = []
    for ext in output.formats:
        path = Path(out_dir) / f"{name}.{ext}"
        atomic_write(path, lambda p, ext=ext: fig.savefig(p, format=ext, bbox_inches="tight", dpi=output.dpi))
        paths.append(path)
    plt.close(fig)
    return paths
