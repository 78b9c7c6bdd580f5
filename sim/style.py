"""The one figure style every plot uses: palette, fonts, sizes, labels and how figures are saved.

Colours are the Okabe & Ito (2008) colour-blind-safe palette. Text sizes are chosen for a figure
printed at its saved size in a report (about 16–18 cm wide). Every figure is saved as PNG at 150 dpi
and as SVG with text kept as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sim.labels import issue_title, short_key  # noqa: E402,F401  (re-exported)
from sim.outputs import atomic_write  # noqa: E402

__all__ = ["DPI", "PALETTE", "SIDE_COLOURS", "SIDE_LABELS", "figure_style", "issue_title", "save", "short_key"]

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
SIDE_COLOURS = {"us": PALETTE[0], "japan": PALETTE[1]}
SIDE_LABELS = {"us": "United States", "japan": "Japan"}
ACCENT = PALETTE[2]
DPI = 150

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


def save(fig: plt.Figure, out_dir: Path, name: str) -> list[Path]:
    """Write ``fig`` as ``name.png`` (150 dpi) and ``name.svg`` under ``out_dir``, atomically; close it."""
    paths = []
    for ext in ("png", "svg"):
        path = Path(out_dir) / f"{name}.{ext}"
        atomic_write(path, lambda p, ext=ext: fig.savefig(p, format=ext, bbox_inches="tight"))
        paths.append(path)
    plt.close(fig)
    return paths
