"""Reporting on a run folder: summaries, labels, the figure style, figures, rankings and the codebook."""
