"""Cells: one method on one scenario with one seed at one tier, and their keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trustbench.core.errors import ParameterError, RegistryError
from trustbench.core.family import Family, Scenario, check_tier
from trustbench.core.params import validate_params
from trustbench.core.registry import get_method, list_methods, method_code_hash


@dataclass(frozen=True)
class Cell:
    """One unit of work; its result is a pure function of these fields.

    Attributes
    ----------
    family, method, tier : str
        What runs and at which tier.
    scenario : Scenario
        The scenario, whose config enters the key.
    params : mapping
        Validated method parameters.
    seed : int
        Seed of every random choice in the cell.
    code_version : str
        Hash of the method's and the family's code.
    """

    family: str
    scenario: Scenario
    method: str
    params: Mapping[str, Any]
    seed: int
    tier: str
    code_version: str = field(default="")

    @property
    def key(self) -> str:
        """Return the SHA-256 of the cell's inputs and code version."""
        payload = {
            "family": self.family,
            "scenario": self.scenario.name,
            "config": self.scenario.config,
            "method": self.method,
            "params": dict(self.params),
            "seed": self.seed,
            "tier": self.tier,
            "code": self.code_version,
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def label(self) -> str:
        """Return a short human-readable name of the cell."""
        return f"{self.family}/{self.scenario.name}/{self.method}/seed={self.seed}"


def is_builtin(cls: type) -> bool:
    """Return whether a method class ships with trustbench (in ``baselines/``)."""
    return cls.__module__.startswith("trustbench_baselines")


def build_cells(
    family: Family,
    *,
    tier: str,
    methods: Sequence[str] | None = None,
    seeds: int | None = None,
    method_params: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Cell]:
    """Return the cells of a run.

    Parameters
    ----------
    family : Family
        The family to run.
    tier : str
        The tier.
    methods : sequence of str, optional
        Methods to run in addition to the built-in ones, which the claims and the
        leaderboard compare against; by default every registered method of the family
        runs, installed plugins included.
    seeds : int, optional
        Number of seeds (0 .. seeds-1); the tier's default when omitted.
    method_params : mapping, optional
        Parameters per method name, validated against each method's declaration.

    Raises
    ------
    RegistryError
        If a method is unknown.
    ParameterError
        If a parameter or the number of seeds is invalid.
    """
    check_tier(tier)
    n_seeds = family.seeds(tier) if seeds is None else seeds
    if n_seeds < 1:
        raise ParameterError(f"invalid number of seeds {n_seeds!r}; expected at least 1")
    builtin = [cls.name for cls in list_methods(family.name) if is_builtin(cls)]
    chosen = list(dict.fromkeys([*builtin, *(methods or [])])) if methods else None
    classes = [get_method(family.name, m) for m in chosen] if chosen else list_methods(family.name)
    params = dict(method_params or {})
    for name in params:
        if name not in {cls.name for cls in classes}:
            raise RegistryError(f"parameters given for method {name!r}, which is not in this run")
    family_hash = family.code_hash()
    cells = []
    for scenario in family.scenarios(tier):
        for cls in classes:
            if scenario.methods is not None and cls.name not in scenario.methods:
                continue
            values = validate_params(f"method {cls.name!r}", cls.params, params.get(cls.name, {}))
            code = f"{family_hash}:{method_code_hash(cls)}"
            for seed in range(n_seeds):
                cells.append(Cell(family.name, scenario, cls.name, values, seed, tier, code))
    return cells
