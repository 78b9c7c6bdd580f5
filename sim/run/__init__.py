"""Running a plan: chunks of worlds on an executor (processes or Dask), and the run folder they fill.

* :mod:`sim.run.runner`: chunking, executors, the sweep loop (resumable, deterministic).
* :mod:`sim.run.store`: the run folder: parts, manifest with checksums, merge, reading a run back.
* :mod:`sim.run.outputs`: atomic writes, ``metadata.json`` and the resolved config.
"""
