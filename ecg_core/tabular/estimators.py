"""scikit-learn estimators the registry can fit, each in a Pipeline, with validated hyperparameters.

Hyperparameters are checked against the estimator's own ``get_params()`` names and its declared parameter
constraints before any fitting, so a typo or a bad value is an input error naming the parameter.
"""

from __future__ import annotations

from typing import Any, Callable

from collections import Counter

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import IsolationForest, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils._param_validation import InvalidParameterError

from ..errors import InputError
from ..payload import is_finite_number
from ..settings import Limits

ESTIMATOR_STEP = "estimator"
ANOMALY_TYPES = frozenset({"isolation_forest"})

# type name -> (estimator factory with our defaults, whether features need scaling)
_ESTIMATORS: dict[str, tuple[Callable[[], Any], bool]] = {
    "logistic_regression": (lambda: LogisticRegression(max_iter=1000), True),
    "svc": (lambda: SVC(random_state=0), True),  # probabilities by cross-validated calibration, see below
    "random_forest": (lambda: RandomForestClassifier(n_estimators=200, random_state=0), False),
    # contamination 0.005: the seed's assumption that under 1 % of beats are abnormal
    "isolation_forest": (lambda: IsolationForest(contamination=0.005, random_state=0), False),
}
# Names other clients use; "logic" is the seed sklearn-trainer service's name for logistic regression.
ALIASES = {"logic": "logistic_regression", "logistic": "logistic_regression", "lr": "logistic_regression",
           "svm": "svc", "rf": "random_forest", "iforest": "isolation_forest"}
# Parameters that would break what the registry promises (calibrated probabilities, bounded CPU use).
_REFUSED = {"n_jobs", "warm_start", "verbose", "probability"}
_CALIBRATED = frozenset({"svc"})  # SVC(probability=True) is deprecated since scikit-learn 1.9
_CALIBRATION_FOLDS = 5

MODEL_TYPES = tuple(_ESTIMATORS)


def canonical_type(name: Any, field: str) -> str:
    """``"logic"`` → ``"logistic_regression"``; InputError for an unknown type."""
    key = name.strip().lower() if isinstance(name, str) else None
    key = ALIASES.get(key, key)
    if key not in _ESTIMATORS:
        problem = "missing" if name is None else f"unknown model type {str(name)[:40]!r}"
        raise InputError(field, f"{problem}; expected one of "
                         f"{', '.join(MODEL_TYPES)} (aliases: {', '.join(sorted(ALIASES))})")
    return key


def build_pipeline(model_type: str, hyperparameters: dict[str, Any] | None, field: str,
                   limits: Limits = Limits()) -> Pipeline:
    """An unfitted Pipeline (scaler where it matters + estimator) with validated hyperparameters.

    ``field`` names the hyperparameters object in the request, e.g. ``config.hyperparameters``; sizes
    are bounded by ``limits`` (max_estimators, max_iterations).
    """
    factory, scaled = _ESTIMATORS[model_type]
    estimator = factory()
    hyperparameters = hyperparameters or {}
    if not isinstance(hyperparameters, dict):
        raise InputError(field, "expected an object of parameter names to values, "
                         f"got {type(hyperparameters).__name__}")
    known = estimator.get_params(deep=False)
    for name in hyperparameters:
        if name not in known or name in _REFUSED:
            allowed = ", ".join(sorted(set(known) - _REFUSED))
            raise InputError(f"{field}.{name}", f"not a settable parameter of {type(estimator).__name__}; "
                             f"expected one of {allowed}")
    _check_sizes(hyperparameters, field, limits)
    estimator.set_params(**hyperparameters)
    try:
        # scikit-learn's own constraint check (the one fit() runs), done before spending time on fitting.
        estimator._validate_params()
    except InvalidParameterError as error:
        bad = next((name for name in hyperparameters if f"'{name}' parameter" in str(error)), None)
        raise InputError(f"{field}.{bad}" if bad else field, str(error)) from None
    if model_type in _CALIBRATED:
        estimator = CalibratedClassifierCV(estimator, ensemble=False, cv=_CALIBRATION_FOLDS)
    steps = [("scaler", StandardScaler())] if scaled else []
    return Pipeline([*steps, (ESTIMATOR_STEP, estimator)])


def _check_sizes(hyperparameters: dict[str, Any], field: str, limits: Limits) -> None:
    """Explicit upper bounds on what makes a fit big; scikit-learn's own checks only require them positive."""
    for name, value in hyperparameters.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not is_finite_number(value):
            raise InputError(f"{field}.{name}", f"expected a finite number, got {str(value)[:20]}")
    bounds = {"n_estimators": limits.max_estimators, "max_iter": limits.max_iterations}
    for name, bound in bounds.items():
        value = hyperparameters.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > bound:
            setting = "ECG_MAX_ESTIMATORS" if name == "n_estimators" else "ECG_MAX_ITERATIONS"
            raise InputError(f"{field}.{name}", f"{str(value)[:20]} exceeds the limit of {bound} ({setting})")


def fit_pipeline(pipeline: Pipeline, X: np.ndarray, y: np.ndarray | None, labels_field: str) -> Pipeline:
    """Fit; a calibrated classifier gets as many folds as its smallest class allows (2 to 5)."""
    final = pipeline.named_steps[ESTIMATOR_STEP]
    if isinstance(final, CalibratedClassifierCV):
        smallest = min(Counter(y.tolist()).values())
        if smallest < 2:
            raise InputError(labels_field, "svc calibrates its probabilities by cross-validation and needs "
                             "at least 2 rows of every class")
        final.set_params(cv=min(_CALIBRATION_FOLDS, smallest))
    return pipeline.fit(X, y)


def plain_hyperparameters(pipeline: Pipeline) -> dict[str, Any]:
    """The final estimator's parameters as JSON-safe values, for the index."""
    final = pipeline.named_steps[ESTIMATOR_STEP]
    if isinstance(final, CalibratedClassifierCV):
        final = final.estimator
    params = final.get_params(deep=False)
    return {name: value if isinstance(value, (bool, int, float, str, type(None))) else repr(value)
            for name, value in params.items()}
