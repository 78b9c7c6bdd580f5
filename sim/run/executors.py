"""Where a sweep's chunks run: a local process pool (forked from the fork server) or a Dask cluster.

Each executor takes an iterator of tasks and a function, and yields the function's result per task
as the tasks finish, keeping only a bounded number in flight:

* :func:`local_results`: processes of :class:`concurrent.futures.ProcessPoolExecutor`, forked from the
  fork server of :mod:`sim.run.workers` (in this process for one worker);
* :func:`dask_results`: a Dask distributed cluster, at an address or a local one started for the run.

Read ``docs/dask.md`` before pointing a sweep at a remote scheduler: Dask unpickles what it is sent,
so a scheduler and its workers must be trusted, and a remote one should be reached over TLS.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from sim.config import ConfigError
from sim.run.workers import context as worker_context
from sim.run.workers import worker_init

__all__ = ["DASK_CONNECT_SECONDS", "dask_client", "dask_in_flight", "dask_results", "local_results",
           "sigterm_as_interrupt", "stop_pool"]

DASK_CONNECT_SECONDS = 8.0  # a hard bound on reaching a scheduler (Client's own 5 s timeout can hang)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a process pool now: cancel what is queued and terminate the workers, so none is orphaned."""
    pool.shutdown(wait=False, cancel_futures=True)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.join(timeout=5)
    pool.shutdown(wait=True)


def local_results(call: Callable, tasks: Iterator, workers: int, in_flight: int, *args: Any) -> Iterator:
    """Yield ``call(task, *args)`` per task from a process pool (in this process for one worker)."""
    if workers == 1:
        for task in tasks:
            yield call(task, *args)
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=worker_context(), initializer=worker_init)
    pending = set()
    try:
        for task in tasks:
            pending.add(pool.submit(call, task, *args))
            if len(pending) >= in_flight:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in finished)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in finished)
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _connect(address: str):
    """A client of the scheduler at ``address``, bounded by :data:`DASK_CONNECT_SECONDS` (see :func:`dask_client`)."""
    import threading

    from dask.distributed import Client

    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = Client(address, timeout="5s")
        except BaseException as err:  # noqa: BLE001 - any failure to connect is reported in one line
            box["error"] = err

    thread = threading.Thread(target=connect, daemon=True, name="dask-connect")
    thread.start()
    thread.join(DASK_CONNECT_SECONDS)
    if thread.is_alive():
        raise ConfigError("run.dask_address", f"no Dask scheduler answered at {address!r} within "
                                              f"{DASK_CONNECT_SECONDS:g} s (a scheduler listens at "
                                              "tcp://HOST:8786 by default, not at its dashboard)")
    if "error" in box:
        err = box["error"]
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        if isinstance(err, MemoryError):
            reason = "it answered with data that is not the Dask protocol"
        raise ConfigError("run.dask_address", f"cannot reach a Dask scheduler at {address!r} ({reason})")
    return box["client"]


def dask_client(address: str | None, workers: int):
    """A Dask client: to the scheduler at ``address``, or to a local cluster of ``workers`` processes.

    Reaching ``address`` is bounded by :data:`DASK_CONNECT_SECONDS`, also when it accepts the
    connection but never answers, or answers but is not a Dask scheduler. Dask's own configuration
    (``DASK_DISTRIBUTED__COMM__*``, ``~/.config/dask/``) applies, TLS included (``docs/dask.md``).

    Raises:
        ConfigError: (``run.dask_address``) the address is not a reachable Dask scheduler.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("run.executor", "dask needs the dask extra: pip install -e '.[dask]'") from None
    if address:
        return _connect(address)
    # no dashboard; the scheduler's own HTTP server (health checks) on a free loopback port, not on 8787, which
    # another cluster on this machine may hold (Dask would warn, then pick another port anyway)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    return Client(cluster)


def dask_in_flight(client) -> int:
    """Chunks to keep submitted to a Dask cluster: two per thread of its workers (``client.nthreads()``),
    sized from the cluster, not from the submitting machine's cores."""
    return 2 * max(1, sum(client.nthreads().values()))


def dask_results(call: Callable, tasks: Iterator, address: str | None, workers: int, used: list[int],
                 *args: Any) -> Iterator:
    """Yield ``call(task, *args)`` per task, computed on a Dask cluster; ``used`` receives its thread count."""
    from dask.distributed import as_completed

    client = dask_client(address, workers)
    try:
        in_flight = dask_in_flight(client)
        used.append(in_flight // 2)
        futures = as_completed()
        queued = 0
        for task in tasks:
            futures.add(client.submit(call, task, *args, pure=False))
            queued += 1
            if queued >= in_flight:
                yield next(futures).result()
                queued -= 1
        for future in futures:
            yield future.result()
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None and not address:
            cluster.close()


class sigterm_as_interrupt:
    """Within the block, SIGTERM stops the run like Ctrl-C (a KeyboardInterrupt in the main thread)."""

    def __enter__(self) -> None:
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._handle)

    @staticmethod
    def _handle(signum, frame) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc) -> bool:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False
