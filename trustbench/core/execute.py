"""Run one cell in the current process and turn its outcome into a record."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
import traceback
from typing import Any

from threadpoolctl import threadpool_limits

from trustbench.core.cells import Cell
from trustbench.core.errors import CellError
from trustbench.core.family import CellResult
from trustbench.core.provenance import environment
from trustbench.core.registry import get_family, get_method, load_plugin_file

logger = logging.getLogger(__name__)


def now_iso() -> str:
    """Return the current UTC time in ISO 8601 with microseconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def check_result(cell: Cell, result: Any) -> CellResult:
    """Return ``result`` if it is a `CellResult` with finite float metrics.

    Raises
    ------
    CellError
        Naming the first metric that is missing, not a number, NaN or infinite.
    """
    if not isinstance(result, CellResult):
        raise CellError(
            f"run_cell of family {cell.family!r} returned {type(result).__name__}, "
            "expected CellResult"
        )
    if not result.metrics:
        raise CellError(f"method {cell.method!r} produced no metrics")
    for name, value in result.metrics.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CellError(f"metric {name!r} of method {cell.method!r} is {value!r}, not a number")
        if not math.isfinite(value):
            raise CellError(
                f"metric {name!r} of method {cell.method!r} is {value}; the method produced "
                "a non-finite value on this cell"
            )
    return result


def execute_cell(
    cell: Cell, *, plugin_files: tuple[str, ...] = (), blas_threads: int | None = 1
) -> dict[str, Any]:
    """Run ``cell`` here and return its record; an exception becomes a failed record.

    Parameters
    ----------
    cell : Cell
        The cell to run.
    plugin_files : tuple of str
        Plugin files to load first (worker processes started by spawn need them).
    blas_threads : int or None
        Threads for BLAS inside the cell; ``None`` leaves the library default.

    Returns
    -------
    dict
        A record ready for `Store.put`.
    """
    started_at = now_iso()
    start = time.perf_counter()
    try:
        for path in plugin_files:
            load_plugin_file(path)
        family = get_family(cell.family)
        method = get_method(cell.family, cell.method)(**cell.params)
        with threadpool_limits(limits=blas_threads):
            result = check_result(cell, family.run_cell(cell.scenario, method, cell.seed))
        status, error = "ok", None
        metrics = {k: float(v) for k, v in result.metrics.items()}
        series, info = result.series, result.info
    except Exception as exc:  # a cell may fail in any way; its record keeps the reason
        logger.debug("cell %s failed:\n%s", cell.label(), traceback.format_exc())
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        metrics, series, info = {}, {}, {}
    return make_record(
        cell,
        status=status,
        error=error,
        metrics=metrics,
        series=series,
        info=info,
        started_at=started_at,
        seconds=time.perf_counter() - start,
    )


def make_record(
    cell: Cell,
    *,
    status: str,
    error: str | None,
    metrics: dict[str, float],
    series: dict[str, Any],
    info: dict[str, Any],
    started_at: str,
    seconds: float,
) -> dict[str, Any]:
    """Return the store record of a cell's outcome, with provenance."""
    return {
        "key": cell.key,
        "family": cell.family,
        "scenario": cell.scenario.name,
        "method": cell.method,
        "params": dict(cell.params),
        "seed": cell.seed,
        "tier": cell.tier,
        "status": status,
        "metrics": metrics,
        "series": series,
        "info": info,
        "error": error,
        "code_version": cell.code_version,
        "provenance": {**environment(), "scenario_config": dict(cell.scenario.config)},
        "started_at": started_at,
        "finished_at": now_iso(),
        "seconds": seconds,
    }
