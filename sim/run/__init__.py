"""Running a plan: chunks of worlds on an executor (processes or Dask), and the run folder they fill.

* :mod:`sim.run.runner`: chunking, the sweep loop (resumable, deterministic);
* :mod:`sim.run.executors`: where chunks run (a local process pool, a Dask cluster);
* :mod:`sim.run.workers`, :mod:`sim.run.lifeline`: the workers' fork server, and the workers ending with
  the main process however it ends;
* :mod:`sim.run.manifest`: the run folder's layout and record (digests, the resume check);
* :mod:`sim.run.store`: writing the parts and the merged tables; :mod:`sim.run.readback`: reading a run
  back, every file checked against its digest;
* :mod:`sim.run.lock`: one run at a time in a folder; :mod:`sim.run.estimate`: a sweep's time and disk;
* :mod:`sim.run.columns`: the output columns (unit, meaning), declared once;
* :mod:`sim.run.outputs`: atomic writes, ``metadata.json`` and the resolved config.
"""
