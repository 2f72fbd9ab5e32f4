"""Declared parameters and their validation at the boundary of a method or scenario."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trustbench.core.errors import ParameterError

_KINDS = (bool, int, float, str)


@dataclass(frozen=True)
class Param:
    """Constraints on one named parameter.

    Parameters
    ----------
    kind : type
        One of ``bool``, ``int``, ``float`` or ``str``. An ``int`` is accepted for a
        ``float`` parameter.
    default : object
        Value used when the caller gives none; it must satisfy the constraints.
    low, high : float, optional
        Bounds on a numeric value.
    low_inclusive, high_inclusive : bool
        Whether the bounds themselves are allowed (default: both allowed).
    choices : tuple, optional
        The only allowed values.
    doc : str
        One line on what the parameter sets, with its unit.

    Examples
    --------
    >>> Param(float, 1e-3, low=0.0, low_inclusive=False, doc="l1 strength").validate("lam", 0.1)
    0.1
    """

    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    high_inclusive: bool = True
    choices: tuple[Any, ...] | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise TypeError(f"Param kind must be one of {_KINDS}, got {self.kind!r}")

    def describe(self) -> str:
        """Return the allowed values as a short phrase, for error and help messages."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        parts = [self.kind.__name__]
        if self.low is not None:
            parts.append((">= " if self.low_inclusive else "> ") + repr(self.low))
        if self.high is not None:
            parts.append(("<= " if self.high_inclusive else "< ") + repr(self.high))
        return " ".join(parts)

    def validate(self, name: str, value: Any) -> Any:
        """Return ``value`` converted to the declared kind, or raise `ParameterError`."""
        value = self._coerce(name, value)
        if self.choices is not None and value not in self.choices:
            raise ParameterError(
                f"invalid value {value!r} for parameter {name!r}: expected {self.describe()}"
            )
        if self.kind in (int, float):
            self._check_bounds(name, value)
        return value

    def _coerce(self, name: str, value: Any) -> Any:
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if self.kind is bool and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if self.kind in (int, float) and isinstance(value, str):
            try:
                return self.kind(value)
            except ValueError:
                pass
        if not isinstance(value, self.kind) or (self.kind is not bool and isinstance(value, bool)):
            raise ParameterError(
                f"invalid value {value!r} for parameter {name!r}: expected {self.describe()}"
            )
        return value

    def _check_bounds(self, name: str, value: float) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(
                f"invalid value {value!r} for parameter {name!r}: expected a finite number"
            )
        too_low = self.low is not None and (
            value < self.low or (value == self.low and not self.low_inclusive)
        )
        too_high = self.high is not None and (
            value > self.high or (value == self.high and not self.high_inclusive)
        )
        if too_low or too_high:
            raise ParameterError(
                f"invalid value {value!r} for parameter {name!r}: expected {self.describe()}"
            )


def validate_params(
    owner: str, declared: Mapping[str, Param], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate ``given`` against ``declared`` and fill in defaults.

    Parameters
    ----------
    owner : str
        What the parameters belong to (for example ``"method 'pij'"``), used in messages.
    declared : mapping of str to Param
        The declared parameters.
    given : mapping of str to object
        The values supplied by the caller.

    Returns
    -------
    dict
        Every declared parameter with its validated value.

    Raises
    ------
    ParameterError
        On an unknown name or an invalid value.
    """
    unknown = sorted(set(given) - set(declared))
    if unknown:
        allowed = ", ".join(sorted(declared)) or "none"
        raise ParameterError(
            f"unknown parameter {unknown[0]!r} for {owner}; allowed parameters: {allowed}"
        )
    values = {}
    for name, spec in declared.items():
        values[name] = spec.validate(name, given.get(name, spec.default))
    return values
