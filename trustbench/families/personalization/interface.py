"""What a personalization method receives and must implement.

A method of this family implements two calls:

- ``fit(problem)`` receives a `PersonalizationProblem`: training and validation rows, their
  group attributes, and a factory of fresh estimators of the setting's model class;
- ``predict_proba(features, groups)`` returns, for feature rows (a DataFrame with the training
  columns) and the group attributes each row reports (a DataFrame with one column per
  attribute), a 1-d array with the probability of label 1 for each row.

The family calls ``predict_proba`` once with the groups the rows belong to, and once per
group with every row reporting that group, to build the envy-freeness matrix. A method that
cannot serve a group returns ``NaN`` for its rows. It may explain why in a ``fit_failures``
attribute, a dict from group to reason, and the family then skips that group with the reason.
A method may also set ``report`` (a JSON-serialisable dict, such as the model each group was
assigned), which the family stores with the cell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trustbench.core.errors import ParameterError
from trustbench.data.tabular import intersectional_labels

INTERFACE = ("fit", "predict_proba")


@dataclass(frozen=True)
class PersonalizationProblem:
    """Training and validation data of one setting, with what a method needs to fit models.

    Attributes
    ----------
    X_train, X_validation : pandas.DataFrame
        Numeric features without the group attributes; ``NaN`` marks a missing value, which
        the estimators from ``make_estimator`` impute.
    y_train, y_validation : numpy.ndarray
        Binary labels.
    groups_train, groups_validation : pandas.DataFrame
        Group attributes, one string column per attribute in ``group_columns``.
    group_columns : tuple of str
        The group attributes.
    group_levels : mapping of str to tuple of str
        The values of each attribute.
    groups : tuple of str
        The intersectional groups, as ``"attr=value|attr=value"`` (see `group_ids`).
    make_estimator : callable
        ``make_estimator(random_state)`` returns a fresh, unfitted scikit-learn classifier
        of the setting's model class.
    risk : str
        The metric the family tests fair use on (``"auc"``, ``"error"``, ``"log_loss"`` or
        ``"ece"``); a method that selects models should select on it.
    random_state : int
        Seed for any randomness of the method.
    generic_model : callable
        ``generic_model()`` returns the family's generic model h0, already fitted on the
        training rows without group attributes (its ``predict_proba(X)`` takes features
        only). Methods may use it instead of fitting their own.
    """

    X_train: pd.DataFrame
    y_train: np.ndarray
    groups_train: pd.DataFrame
    X_validation: pd.DataFrame
    y_validation: np.ndarray
    groups_validation: pd.DataFrame
    group_columns: tuple[str, ...]
    group_levels: Mapping[str, tuple[str, ...]]
    groups: tuple[str, ...]
    make_estimator: Callable[[int], Any]
    risk: str
    random_state: int
    generic_model: Callable[[], Any]

    def fit_estimator(self, features: pd.DataFrame, labels: np.ndarray) -> Any:
        """Return a fresh estimator from ``make_estimator`` fitted on the given rows."""
        return self.make_estimator(self.random_state).fit(features, labels)


def group_ids(groups: pd.DataFrame) -> np.ndarray:
    """Return each row's intersectional group, such as ``"sex=female|race=black"``."""
    return intersectional_labels(groups).to_numpy()


def reporting(groups: pd.DataFrame, group: str) -> pd.DataFrame:
    """Return group attributes in which every row reports the intersectional ``group``.

    Examples
    --------
    >>> frame = pd.DataFrame({"sex": ["male", "female"], "race": ["white", "black"]})
    >>> reporting(frame, "sex=female|race=white")["race"].tolist()
    ['white', 'white']
    """
    values = dict(part.split("=", 1) for part in group.split("|"))
    if set(values) != set(groups.columns):
        raise ParameterError(
            f"group {group!r} names attributes {sorted(values)}, but the rows have "
            f"{list(groups.columns)}; pass a group from problem.groups"
        )
    return pd.DataFrame({column: [values[column]] * len(groups) for column in groups.columns})


def one_hot_groups(
    groups: pd.DataFrame,
    levels: Mapping[str, Sequence[str]],
    *,
    intersectional: bool = False,
    intersections: Sequence[str] = (),
) -> pd.DataFrame:
    """Return 0/1 indicator columns of the group attributes.

    Parameters
    ----------
    groups : pandas.DataFrame
        Group attributes, one column per attribute.
    levels : mapping of str to sequence of str
        Values of each attribute; each gets a column ``"group:attr=value"``.
    intersectional : bool
        Encode the intersectional group instead, one column per entry of ``intersections``.
    intersections : sequence of str
        The intersectional groups (``problem.groups``); used when ``intersectional``.

    Raises
    ------
    ParameterError
        If a row reports a value outside ``levels`` (or ``intersections``).
    """
    if intersectional:
        ids = group_ids(groups)
        unknown = sorted(set(ids) - set(intersections))
        if unknown:
            raise ParameterError(
                f"rows report unknown intersectional group(s) {unknown[:3]}; "
                f"expected one of {list(intersections)}"
            )
        return pd.DataFrame({f"group:{g}": (ids == g).astype(float) for g in intersections})

    columns = {}
    for attribute, values in levels.items():
        if attribute not in groups.columns:
            raise ParameterError(
                f"group attribute column {attribute!r} not found; available: {list(groups.columns)}"
            )
        reported = groups[attribute].astype(str).to_numpy()
        unknown = sorted(set(reported) - set(values))
        if unknown:
            raise ParameterError(
                f"rows report unknown value(s) {unknown[:3]} of attribute {attribute!r}; "
                f"expected one of {list(values)}"
            )
        for value in values:
            columns[f"group:{attribute}={value}"] = (reported == value).astype(float)
    return pd.DataFrame(columns)


def with_groups(features: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """Return ``features`` with the group indicator columns appended, aligned by position."""
    return pd.concat([features.reset_index(drop=True), indicators.reset_index(drop=True)], axis=1)
