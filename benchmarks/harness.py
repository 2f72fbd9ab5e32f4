"""Shared parametrisation and checks of the per-family benchmark files."""

from __future__ import annotations

from trustbench.core.registry import get_family
from trustbench.core.testing import bench_session


def parametrize_family(metafunc, family: str) -> None:
    """Parametrise ``cell`` with the family's cells and ``claim`` with its claim names."""
    session = bench_session(metafunc.config)
    if "cell" in metafunc.fixturenames:
        cells = session.cells(family)
        metafunc.parametrize("cell", cells, ids=[c.label().split("/", 1)[1] for c in cells])
    if "claim" in metafunc.fixturenames:
        names = [c.name for c in get_family(family).claims()]
        metafunc.parametrize("claim", names, ids=names)


def check_cell(bench, cell) -> None:
    """Run one cell and fail with its recorded reason if it failed."""
    record = bench.run_cell(cell)
    assert record["status"] == "ok", f"cell {cell.label()} failed: {record['error']}"


def check_claim(bench, family: str, claim: str) -> None:
    """Assert the claim's verdict is the one expected for the session's tier."""
    expected, result = bench.claim_result(family, claim)
    assert expected, f"claim {claim!r} states no expected verdict for tier {bench.tier!r}"
    assert result.verdict.value == expected, f"expected {expected}; {result.summary()}"
