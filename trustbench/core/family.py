"""The contract between the harness and a family (one paper's protocol)."""

from __future__ import annotations

import abc
import hashlib
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from trustbench.core.errors import ParameterError

if TYPE_CHECKING:
    from trustbench.core.claims import Claim
    from trustbench.core.method import Method

TIERS = ("smoke", "cpu", "paper")
DEFAULT_TIER = "cpu"


@dataclass(frozen=True)
class Scenario:
    """One setting of a family's protocol at one tier.

    Attributes
    ----------
    name : str
        Identifier, unique within the family and tier; claims refer to it.
    config : mapping
        Everything the cell needs besides the method and seed: data set, sizes,
        hyperparameters. Its JSON form enters the cell key.
    methods : tuple of str, optional
        The only methods this scenario runs; ``None`` runs every selected method.
    doc : str
        One line describing the setting.
    """

    name: str
    config: Mapping[str, Any]
    methods: tuple[str, ...] | None = None
    doc: str = ""


@dataclass(frozen=True)
class MetricSpec:
    """A metric that a family reports.

    Attributes
    ----------
    name : str
        Key in each record's metrics.
    higher_is_better : bool or None
        Direction, or ``None`` for a descriptive quantity.
    unit : str
        Unit, or an empty string for a dimensionless quantity.
    doc : str
        One line on what it measures.
    """

    name: str
    higher_is_better: bool | None
    unit: str = ""
    doc: str = ""


@dataclass
class CellResult:
    """The outcome of one cell.

    Attributes
    ----------
    metrics : dict of str to float
        Scalar metrics; every value must be finite, or the cell fails.
    series : dict of str to list
        Optional sequences (for example one value per deletion batch) kept in the record.
    info : dict
        Optional JSON-serialisable notes (sizes, chosen hyperparameters).
    """

    metrics: dict[str, float]
    series: dict[str, list[Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


class Family(abc.ABC):
    """Base class of a family: one paper's protocol, its scenarios, metrics and claims.

    A subclass sets the class attributes and writes three methods:

    - ``scenarios(tier)`` returns the list of `Scenario` for a tier;
    - ``run_cell(scenario, method, seed)`` runs the protocol for one method instance on
      one scenario with one seed and returns a `CellResult`; it must be a pure function
      of its inputs;
    - ``claims()`` returns the family's `Claim` objects.

    Optional hooks: ``seeds(tier)`` (how many seeds a tier runs), ``plots(records, out)``
    (pictures for the leaderboard) and ``tables(records, tier)`` (extra leaderboard tables,
    such as per-group values that do not fit one row per method).

    Attributes
    ----------
    name : str
        Short identifier used on the command line.
    title : str
        Citation of the paper that the family reruns.
    interface : tuple of str
        Methods that every `Method` of this family must implement.
    metrics : tuple of MetricSpec
        Metrics shown in the leaderboard, in order.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    interface: ClassVar[tuple[str, ...]]
    metrics: ClassVar[tuple[MetricSpec, ...]] = ()
    seeds_by_tier: ClassVar[Mapping[str, int]] = {"smoke": 3, "cpu": 5, "paper": 5}

    @abc.abstractmethod
    def scenarios(self, tier: str) -> list[Scenario]:
        """Return the scenarios of ``tier``."""

    @abc.abstractmethod
    def run_cell(self, scenario: Scenario, method: Method, seed: int) -> CellResult:
        """Run ``method`` on ``scenario`` with ``seed`` and return its metrics."""

    @abc.abstractmethod
    def claims(self) -> list[Claim]:
        """Return the claims this family evaluates."""

    def seeds(self, tier: str) -> int:
        """Return the number of seeds that ``tier`` runs by default."""
        return self.seeds_by_tier[tier]

    def plots(self, records: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
        """Write pictures of ``records`` into ``out_dir`` and return their paths."""
        return []

    def tables(
        self, records: Sequence[Mapping[str, Any]], tier: str
    ) -> list[tuple[str, list[str], list[list[Any]]]]:
        """Return extra leaderboard tables as ``(title, headers, rows)``; none by default."""
        return []

    def scenario(self, tier: str, name: str) -> Scenario:
        """Return the scenario ``name`` of ``tier``.

        Raises
        ------
        ParameterError
            If the tier has no scenario of that name.
        """
        found = {s.name: s for s in self.scenarios(tier)}
        if name not in found:
            raise ParameterError(
                f"unknown scenario {name!r} for family {self.name!r} at tier {tier!r}; "
                f"available: {', '.join(sorted(found))}"
            )
        return found[name]

    def code_hash(self) -> str:
        """Return a hash of every Python file in the family's package.

        It enters every cell key, so a change to the protocol recomputes the family.
        """
        package = Path(inspect.getfile(type(self))).parent
        digest = hashlib.sha256()
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()[:16]


def check_tier(tier: str) -> str:
    """Return ``tier`` if it is valid, else raise `ParameterError` naming the choices."""
    if tier not in TIERS:
        raise ParameterError(f"invalid tier {tier!r}; expected one of {', '.join(TIERS)}")
    return tier
