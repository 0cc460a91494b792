"""Tabular ECG models (scikit-learn + joblib) with a registry. Not implemented yet (issue 6)."""
