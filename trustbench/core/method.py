"""The base class of every method, built-in or third-party."""

from __future__ import annotations

from typing import Any, ClassVar

from trustbench.core.params import Param, validate_params

KINDS = ("proposed", "baseline", "reference")


class Method:
    """Base class of a method that a family evaluates.

    A subclass writes the methods its family's interface lists (for the unlearning
    family, ``fit(problem)`` and ``delete(indices)``), declares its parameters in
    ``params`` and is registered with `trustbench.register_method`, which fills in
    ``name``, ``family``, ``kind`` and ``source`` and checks the interface.

    Parameters
    ----------
    **params
        Values for the declared parameters; missing ones take their defaults. Each is
        validated once, here, and stored both in ``self.params`` and as an attribute.

    Examples
    --------
    >>> from trustbench import Method, Param
    >>> class Shrink(Method):
    ...     params = {"factor": Param(float, 0.5, low=0.0, high=1.0)}
    >>> Shrink(factor=0.25).factor
    0.25
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    kind: ClassVar[str] = "baseline"
    source: ClassVar[str] = ""
    params: ClassVar[dict[str, Param]] = {}

    def __init__(self, **params: Any) -> None:
        owner = f"method {self.name or type(self).__name__!r}"
        self.params = validate_params(owner, type(self).params, params)
        for key, value in self.params.items():
            setattr(self, key, value)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"
