"""Reporting on a run folder: summaries, labels, the figure style, figures, rankings and the codebook."""

# what a worker that draws figures imports: the run verb has the workers' fork server import it ahead
# (sim.run.workers.start), so the figures of a run start drawing without an import
PRELOAD = ("sim.report.plots",)
