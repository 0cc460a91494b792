"""Tabular ECG models (scikit-learn + joblib): a hash-verified registry, fit / predict / list / remove, anomaly
detection, and features computed from the raw signal. Entry point: `service.build_service(settings)`."""
