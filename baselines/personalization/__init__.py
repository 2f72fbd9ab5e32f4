"""Built-in methods of the personalization family, registered like third-party plugins.

Each method implements ``fit(problem)`` and ``predict_proba(features, groups)`` from
`trustbench.families.personalization.interface`:

- ``generic`` (reference): the family's generic model h0, which ignores the group attributes;
- ``onehot``: one model with each group attribute one-hot encoded as extra features;
- ``intersectional``: one model with the intersectional group one-hot encoded;
- ``decoupled``: one model per intersectional group, fitted on that group's rows only;
- ``assigned`` (proposed remedy): each group gets the candidate model it prefers on
  validation rows, among h0, the one-hot and intersectional models under every reported
  group, and every decoupled model;
- ``assigned_tested`` (baseline): the same choice, kept only when a one-sided bootstrap
  test on the validation rows finds the candidate better than h0, to guard against picking
  the luckiest of many candidates on a small validation split.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from trustbench import Method, Param, register_method
from trustbench.families.personalization.fairuse import bootstrap_gain_test, label_cell_weights
from trustbench.families.personalization.interface import (
    PersonalizationProblem,
    group_ids,
    one_hot_groups,
    reporting,
    with_groups,
)
from trustbench.families.personalization.metrics import HIGHER_IS_BETTER, metric_value

logger = logging.getLogger(__name__)


@register_method("personalization", "generic", kind="reference")
class Generic(Method):
    """The generic model h0: trained without group attributes, the reference of every gain."""

    def fit(self, problem: PersonalizationProblem) -> None:
        """Take the family's fitted generic model."""
        self.model_ = problem.generic_model()

    def predict_proba(self, features: pd.DataFrame, groups: pd.DataFrame) -> np.ndarray:
        """Return h0's probabilities, which do not depend on ``groups``."""
        return self.model_.predict_proba(features)[:, 1]


@register_method("personalization", "onehot", kind="baseline")
class OneHot(Method):
    """One model trained with each group attribute one-hot encoded as extra features."""

    intersectional = False

    def fit(self, problem: PersonalizationProblem) -> None:
        """Fit one estimator on the features plus the group indicators."""
        self.levels_ = problem.group_levels
        self.groups_ = problem.groups
        indicators = self._indicators(problem.groups_train)
        self.model_ = problem.fit_estimator(
            with_groups(problem.X_train, indicators), problem.y_train
        )

    def predict_proba(self, features: pd.DataFrame, groups: pd.DataFrame) -> np.ndarray:
        """Return probabilities for rows that report ``groups``."""
        inputs = with_groups(features, self._indicators(groups))
        return self.model_.predict_proba(inputs)[:, 1]

    def _indicators(self, groups: pd.DataFrame) -> pd.DataFrame:
        return one_hot_groups(
            groups,
            self.levels_,
            intersectional=self.intersectional,
            intersections=self.groups_,
        )


@register_method("personalization", "intersectional", kind="baseline")
class Intersectional(OneHot):
    """One model trained with the intersectional group (e.g. sex x race) one-hot encoded."""

    intersectional = True


@register_method("personalization", "decoupled", kind="baseline")
class Decoupled(Method):
    """One model per intersectional group, each fitted on that group's training rows only.

    A group whose model fails to fit, for example with a single class among its training
    rows, gets ``NaN`` probabilities and a reason in ``fit_failures``. The family skips it.
    """

    def fit(self, problem: PersonalizationProblem) -> None:
        """Fit one estimator per group, recording the groups whose fit fails."""
        self.models_: dict[str, Any] = {}
        self.fit_failures: dict[str, str] = {}
        ids = group_ids(problem.groups_train)
        for group in problem.groups:
            rows = ids == group
            try:
                self.models_[group] = problem.fit_estimator(
                    problem.X_train.loc[rows], problem.y_train[rows]
                )
            except ValueError as error:
                # scikit-learn raises ValueError for data it cannot fit (one class, no rows).
                reason = f"fit on {int(rows.sum())} training rows failed: {error}"
                self.fit_failures[group] = reason
                logger.warning("decoupled model of group %s not fitted: %s", group, reason)

    def predict_proba(self, features: pd.DataFrame, groups: pd.DataFrame) -> np.ndarray:
        """Return each row's probability from the model of the group it reports."""
        ids = group_ids(groups)
        out = np.full(len(features), np.nan)
        for group in np.unique(ids):
            rows = ids == group
            model = self.models_.get(group)
            if model is not None:
                out[rows] = model.predict_proba(features.loc[rows])[:, 1]
        return out


@register_method("personalization", "assigned", kind="proposed")
class Assigned(Method):
    """Each group receives the candidate model it prefers on validation rows.

    Candidates are functions of the features alone: the generic model h0, the one-hot and
    the intersectional models with each group reported, and each group's decoupled model.
    Group g is assigned the candidate with the best validation value of ``problem.risk`` on
    g's rows, and keeps h0 unless a candidate beats it by more than ``min_gain``. With
    ``min_gain = 0`` every group does at least as well as with h0 (rationality) and as with
    any other group's assignment (envy-freeness) on validation rows, by construction.
    """

    params = {
        "min_gain": Param(
            float,
            0.0,
            low=0.0,
            doc="validation gain over h0 that a candidate must exceed to replace it",
        )
    }

    def fit(self, problem: PersonalizationProblem) -> None:
        """Fit the candidate models and assign one to each group."""
        candidates = self._candidates(problem)
        self.n_candidates_ = len(candidates)
        ids = group_ids(problem.groups_validation)
        better = 1.0 if HIGHER_IS_BETTER[problem.risk] else -1.0
        self.assignment_: dict[str, str] = {}
        self.candidates_ = candidates
        gains: dict[str, float] = {}
        for group in problem.groups:
            rows = ids == group
            labels = problem.y_validation[rows]
            if len(np.unique(labels)) < 2 and problem.risk == "auc":
                self.assignment_[group] = "generic"
                gains[group] = 0.0
                continue
            features = problem.X_validation.loc[rows]
            scores = {
                name: better * metric_value(problem.risk, labels, predict(features))
                for name, predict in candidates.items()
            }
            best = max(scores, key=lambda name: scores[name])
            gain = scores[best] - scores["generic"]
            accepted = gain > self.min_gain and self._accept(
                problem, labels, candidates["generic"](features), candidates[best](features)
            )
            chosen = best if accepted else "generic"
            self.assignment_[group] = chosen
            gains[group] = scores[chosen] - scores["generic"]
        self.report = {"assignment": dict(self.assignment_), "validation_gain": gains}

    def _accept(
        self,
        problem: PersonalizationProblem,
        labels: np.ndarray,
        p_generic: np.ndarray,
        p_best: np.ndarray,
    ) -> bool:
        """Return whether the best candidate replaces h0; `Assigned` always accepts."""
        return True

    def predict_proba(self, features: pd.DataFrame, groups: pd.DataFrame) -> np.ndarray:
        """Return each row's probability from the candidate assigned to the group it reports."""
        ids = group_ids(groups)
        out = np.full(len(features), np.nan)
        for group in np.unique(ids):
            rows = ids == group
            name = self.assignment_.get(group, "generic")
            out[rows] = self.candidates_[name](features.loc[rows])
        return out

    def _candidates(self, problem: PersonalizationProblem) -> dict[str, Any]:
        generic = problem.generic_model()
        candidates: dict[str, Any] = {"generic": lambda x: generic.predict_proba(x)[:, 1]}
        for personalized in (OneHot(), Intersectional()):
            personalized.fit(problem)
            for group in problem.groups:
                candidates[f"{personalized.name}:{group}"] = _reporting_as(
                    personalized, group, problem.group_columns
                )
        decoupled = Decoupled()
        decoupled.fit(problem)
        for group, model in decoupled.models_.items():
            candidates[f"decoupled:{group}"] = _predict_with(model)
        return candidates


def _reporting_as(method: Method, group: str, columns: tuple[str, ...]) -> Any:
    def predict(features: pd.DataFrame) -> np.ndarray:
        blank = pd.DataFrame({column: [""] * len(features) for column in columns})
        return method.predict_proba(features, reporting(blank, group))

    return predict


def _predict_with(model: Any) -> Any:
    return lambda features: model.predict_proba(features)[:, 1]


@register_method("personalization", "assigned_tested", kind="baseline")
class AssignedTested(Assigned):
    """`Assigned`, but a group leaves h0 only for a candidate that is significantly better.

    The winner among some 3k + 1 candidates on a group's validation rows has an optimistic
    validation gain (the winner's curse), so it can be worse than h0 on test rows. Here the
    best candidate replaces h0 only when the one-sided bootstrap test of H0 "h0 is at least
    as good as the candidate", resampling the group's validation rows within each label,
    rejects at level ``alpha`` divided by the number of candidates (Bonferroni), because the
    candidate was selected on the same rows. Rationality and envy-freeness then no longer hold by
    construction on validation rows; the family's test audits them on test rows.
    """

    params = {
        **Assigned.params,
        "alpha": Param(
            float,
            0.10,
            low=0.0,
            high=1.0,
            low_inclusive=False,
            high_inclusive=False,
            doc="level of the validation test that lets a group leave h0",
        ),
        "n_resamples": Param(int, 1000, low=10, doc="bootstrap resamples of that test"),
    }

    def _accept(
        self,
        problem: PersonalizationProblem,
        labels: np.ndarray,
        p_generic: np.ndarray,
        p_best: np.ndarray,
    ) -> bool:
        rng = np.random.default_rng(problem.random_state)
        weights = label_cell_weights(labels, self.n_resamples, rng)
        # The tested gain is h0's over the candidate; rejecting "gain >= 0" means the
        # candidate is significantly better than h0.
        test = bootstrap_gain_test(problem.risk, labels, p_best, p_generic, weights)
        return test.p_value < self.alpha / self.n_candidates_
