"""Local executor: each cell in its own worker process, results written as they arrive."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from tqdm import tqdm

from trustbench.core.cells import Cell
from trustbench.core.execute import execute_cell, make_record, now_iso
from trustbench.core.store import Store

logger = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """Counts of a run and the failures with their reasons.

    Attributes
    ----------
    total : int
        Cells in the run.
    cached : int
        Cells whose finished records were already in the store.
    ok : int
        Cells computed now that finished.
    failed : list of tuple of str
        ``(cell label, reason)`` of each cell that failed now.
    """

    total: int = 0
    cached: int = 0
    ok: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def _child(
    connection: Connection, cell: Cell, plugin_files: tuple[str, ...], blas_threads: int | None
) -> None:
    # Ctrl-C reaches the whole process group; the parent stops the workers itself, so a
    # worker ignores it instead of printing a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    record = execute_cell(cell, plugin_files=plugin_files, blas_threads=blas_threads)
    try:
        connection.send(record)
    except (BrokenPipeError, OSError):  # the parent is gone; nothing is left to report to
        pass
    finally:
        connection.close()


def _progress_disabled() -> bool:
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


@dataclass
class _Running:
    cell: Cell
    process: multiprocessing.process.BaseProcess
    connection: Connection
    started_at: str
    start: float


def run_cells(
    cells: Sequence[Cell],
    store: Store,
    *,
    workers: int = 1,
    time_limit: float | None = None,
    plugin_files: Sequence[str] = (),
    blas_threads: int | None = 1,
    progress: bool | None = None,
) -> RunSummary:
    """Run the cells that have no finished record in ``store`` and write their records.

    Each cell runs in a worker process of its own, so an exception, a crash or a time
    limit in one cell yields a failed record for that cell and the others go on. Each
    record is written in its own transaction as soon as it arrives, so a run that is
    killed and started again computes only the missing cells.

    Parameters
    ----------
    cells : sequence of Cell
        The cells of the run.
    store : Store
        Where records are read and written.
    workers : int
        Number of cells running at once. ``0`` runs cells one by one in this process,
        without time limits or crash isolation (useful under a debugger).
    time_limit : float, optional
        Wall-clock seconds a cell may take before it is stopped and recorded as failed.
    plugin_files : sequence of str
        Plugin files that worker processes load before running a cell.
    blas_threads : int or None
        BLAS threads per cell.
    progress : bool, optional
        Show a progress bar; by default only on a terminal and never when ``CI`` is set.

    Returns
    -------
    RunSummary
        What ran, what was cached and what failed.
    """
    summary = RunSummary(total=len(cells))
    unique = list({cell.key: cell for cell in cells}.values())
    done = store.finished_keys([cell.key for cell in unique])
    pending = [cell for cell in unique if cell.key not in done]
    summary.cached = len(unique) - len(pending)
    logger.info(
        "run: %d cells, %d already in %s, %d to compute with %d worker(s)",
        len(unique),
        summary.cached,
        store.path,
        len(pending),
        workers,
    )
    show = (not _progress_disabled()) if progress is None else progress
    with tqdm(total=len(pending), desc="cells", unit="cell", disable=not show) as bar:
        if workers == 0:
            for cell in pending:
                record = execute_cell(
                    cell, plugin_files=tuple(plugin_files), blas_threads=blas_threads
                )
                _finish(store, record, summary, cell)
                bar.update()
        else:
            _run_in_processes(
                pending,
                store,
                summary,
                bar,
                workers=workers,
                time_limit=time_limit,
                plugin_files=tuple(plugin_files),
                blas_threads=blas_threads,
            )
    logger.info(
        "run finished: %d computed, %d cached, %d failed",
        summary.ok,
        summary.cached,
        len(summary.failed),
    )
    return summary


def _finish(store: Store, record: dict[str, Any], summary: RunSummary, cell: Cell) -> None:
    store.put(record)
    if record["status"] == "ok":
        summary.ok += 1
    else:
        summary.failed.append((cell.label(), record["error"]))
        logger.error("cell %s (key %s) failed: %s", cell.label(), cell.key[:12], record["error"])


def _context() -> multiprocessing.context.BaseContext:
    # fork is cheap and inherits loaded plugins; elsewhere workers reload the plugin files.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _run_in_processes(
    pending: list[Cell],
    store: Store,
    summary: RunSummary,
    bar: tqdm,
    *,
    workers: int,
    time_limit: float | None,
    plugin_files: tuple[str, ...],
    blas_threads: int | None,
) -> None:
    context = _context()
    queue = list(reversed(pending))
    running: dict[Connection, _Running] = {}
    try:
        while queue or running:
            while queue and len(running) < workers:
                cell = queue.pop()
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(
                    target=_child, args=(sender, cell, plugin_files, blas_threads), daemon=True
                )
                process.start()
                sender.close()
                running[receiver] = _Running(
                    cell, process, receiver, now_iso(), time.perf_counter()
                )
            ready = wait(list(running), timeout=0.5)
            for connection in ready:
                job = running.pop(connection)
                record = _receive(job)
                _finish(store, record, summary, job.cell)
                bar.update()
            if time_limit is not None:
                for connection, job in list(running.items()):
                    if time.perf_counter() - job.start > time_limit:
                        running.pop(connection)
                        _stop(job)
                        record = _failed(
                            job, f"TimeoutError: cell exceeded the time limit of {time_limit:g} s"
                        )
                        _finish(store, record, summary, job.cell)
                        bar.update()
    finally:
        for job in running.values():
            _stop(job)


def _receive(job: _Running) -> dict[str, Any]:
    try:
        record = job.connection.recv()
    except (EOFError, OSError):
        job.process.join(timeout=5)
        code = job.process.exitcode
        reason = f"WorkerError: worker process exited with code {code} before reporting"
        if code is not None and code < 0:
            reason += f" (killed by signal {-code})"
        record = _failed(job, reason)
    else:
        job.process.join(timeout=5)
    job.connection.close()
    return record


def _failed(job: _Running, reason: str) -> dict[str, Any]:
    return make_record(
        job.cell,
        status="failed",
        error=reason,
        metrics={},
        series={},
        info={},
        started_at=job.started_at,
        seconds=time.perf_counter() - job.start,
    )


def _stop(job: _Running) -> None:
    if job.process.is_alive():
        job.process.terminate()
        job.process.join(timeout=5)
        if job.process.is_alive():
            job.process.kill()
            job.process.join()
    job.connection.close()
