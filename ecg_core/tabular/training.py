"""Fitting with an honest hold-out evaluation, and the metrics the index and the CLI report.

Classifiers: a stratified hold-out (20 %) is scored by a model fit on the rest (precision, recall, F1 per
class and macro-averaged, accuracy, ROC AUC); the saved model is then refit on every row.
Isolation forests are unsupervised: labels, when given, only score the hold-out, with the most frequent
label taken as normal and every other label as an anomaly.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from ..errors import InputError
from .estimators import ANOMALY_TYPES, fit_pipeline

HOLDOUT_FRACTION = 0.2
SPLIT_SEED = 0
Progress = Callable[[str], None]  # called with the name of each stage as it starts


def plain(value: Any) -> Any:
    """numpy scalars → Python scalars, for JSON."""
    return value.item() if isinstance(value, np.generic) else value


def fit_with_holdout(pipeline: Pipeline, model_type: str, X: np.ndarray, y: np.ndarray | None,
                     labels_field: str, progress: Progress) -> tuple[Pipeline, dict, dict]:
    """(pipeline refit on all rows, hold-out metrics, training summary)."""
    anomaly = model_type in ANOMALY_TYPES
    if not anomaly:
        if y is None:
            raise InputError(labels_field, f"missing; {model_type} needs a class label for every row")
        if len(set(y.tolist())) < 2:
            raise InputError(labels_field, f"only one class ({plain(y[0])!r}); a classifier needs at least two")
    summary: dict[str, Any] = {"rows": int(len(X))}
    if y is not None:
        summary["class_balance"] = {str(label): count for label, count in sorted(Counter(y.tolist()).items())}
    split = _stratified_split(X, y)
    if split is None:
        metrics: dict[str, Any] = {"rows": 0, "note": "too few rows per class for a stratified "
                                   f"{HOLDOUT_FRACTION:.0%} hold-out (3 per class needed); no metrics"}
    else:
        X_train, X_test, y_train, y_test = split
        progress("fit on the training split")
        held_out = fit_pipeline(clone(pipeline), X_train, None if anomaly else y_train, labels_field)
        progress("score the hold-out")
        metrics = {"evaluated_on": f"stratified {HOLDOUT_FRACTION:.0%} hold-out",
                   **evaluate(held_out, model_type, X_test, y_test, normal_label=_majority(y_train))}
    progress("refit on all rows")
    fit_pipeline(pipeline, X, None if anomaly else y, labels_field)
    if anomaly:
        summary["training_anomaly_fraction"] = float(np.mean(pipeline.predict(X) == -1))
        if y is not None:
            summary["normal_label"] = plain(_majority(y))
    return pipeline, metrics, summary


def evaluate(pipeline: Pipeline, model_type: str, X: np.ndarray, y: np.ndarray,
             normal_label: Any = None) -> dict:
    """Metrics of a fitted pipeline on labelled rows (see the module docstring for anomaly models)."""
    if model_type in ANOMALY_TYPES:
        return _anomaly_metrics(pipeline, X, y, _majority(y) if normal_label is None else normal_label)
    return _classification_metrics(pipeline, X, y)


def _classification_metrics(pipeline: Pipeline, X: np.ndarray, y: np.ndarray) -> dict:
    classes = pipeline.classes_
    predicted = pipeline.predict(X)
    precision, recall, f1, support = precision_recall_fscore_support(y, predicted, labels=classes, zero_division=0)
    probabilities = pipeline.predict_proba(X)
    present = set(y.tolist())
    if len(present) < 2:
        roc_auc = None  # undefined with one class in the evaluated rows
    elif len(classes) == 2:
        roc_auc = float(roc_auc_score(y == classes[1], probabilities[:, 1]))
    else:
        roc_auc = float(roc_auc_score(y, probabilities, multi_class="ovr", average="macro", labels=classes))
    per_class = {str(plain(label)): {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
                 for label, p, r, f, s in zip(classes, precision, recall, f1, support)}
    return {"rows": int(len(X)), "accuracy": float(accuracy_score(y, predicted)),
            "precision_macro": float(np.mean(precision)), "recall_macro": float(np.mean(recall)),
            "f1_macro": float(np.mean(f1)), "roc_auc": roc_auc, "per_class": per_class}


def _anomaly_metrics(pipeline: Pipeline, X: np.ndarray, y: np.ndarray | None, normal_label: Any) -> dict:
    flagged = pipeline.predict(X) == -1
    metrics: dict[str, Any] = {"rows": int(len(X)), "flagged_fraction": float(flagged.mean())}
    if y is None:
        return metrics
    truth = y != normal_label
    precision, recall, f1, _ = precision_recall_fscore_support(truth, flagged, average="binary", zero_division=0)
    abnormality = -pipeline.score_samples(X)  # higher = more anomalous
    metrics.update(normal_label=plain(normal_label), anomalies=int(truth.sum()), precision=float(precision),
                   recall=float(recall), f1=float(f1),
                   roc_auc=float(roc_auc_score(truth, abnormality)) if 0 < truth.sum() < len(truth) else None)
    return metrics


def _stratified_split(X: np.ndarray, y: np.ndarray | None):
    n_test = int(np.ceil(HOLDOUT_FRACTION * len(X)))
    if y is None:
        if len(X) - n_test < 2:
            return None
        X_train, X_test = train_test_split(X, test_size=HOLDOUT_FRACTION, random_state=SPLIT_SEED)
        return X_train, X_test, None, None
    counts = Counter(y.tolist())
    # 3 rows per class leave at least 2 of each to fit on (and to calibrate an SVC with)
    if min(counts.values()) < 3 or n_test < len(counts) or len(X) - n_test < len(counts):
        return None
    return train_test_split(X, y, test_size=HOLDOUT_FRACTION, random_state=SPLIT_SEED, stratify=y)


def _majority(y: np.ndarray | None) -> Any:
    return None if y is None else Counter(y.tolist()).most_common(1)[0][0]
