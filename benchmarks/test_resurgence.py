"""Cells and claims of the resurgence family (Suriyakumar et al., arXiv 2410.08074, 2024)."""

import pytest

from benchmarks.harness import check_cell, check_claim, parametrize_family

FAMILY = "resurgence"


def pytest_generate_tests(metafunc):
    parametrize_family(metafunc, FAMILY)


def test_cell(bench, cell):
    check_cell(bench, cell)


@pytest.mark.claim
def test_claim(bench, claim):
    check_claim(bench, FAMILY, claim)
