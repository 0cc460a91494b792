"""Tabular models: fit, verified load and prediction times per estimator type, in one run.

Rows are 78 features (the seed trainer's row width), two classes; medians over repeats. "load" is a cold
load (SHA-256 check + unpickle of the verified bytes); "predict" runs on a loaded (cached) model through
the service's validation. Also: features from a 10 s 12-lead 500 Hz recording (ecg_measurements) and
per-beat features of 30 min of MIT-BIH 100 when the fixture is present.

    python bench/bench_tabular.py [--rows 2000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from ecg_core.settings import Settings  # noqa: E402
from ecg_core.signal import Recording  # noqa: E402
from ecg_core.tabular import features  # noqa: E402
from ecg_core.tabular.service import TabularService  # noqa: E402
from synthetic_ecg import synthetic_12lead  # noqa: E402
from timing import median_seconds  # noqa: E402

N_FEATURES = 78




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, N_FEATURES))
    y = np.where(X[:, :5].sum(axis=1) + rng.normal(0, 1, args.rows) > 0, "PROBLEM", "NORM").tolist()
    one_row, thousand_rows = X[:1].tolist(), X[:1000].tolist()
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings.from_env(ROOT, env={}).replace(tabular_model_dir=Path(directory))
        service = TabularService(settings)
        print(f"{args.rows} rows × {N_FEATURES} features, median of {args.repeats}")
        print(f"{'type':<20} {'fit+hold-out+save':>17} {'file':>9} {'cold load':>9} {'1 row':>8} {'1000 rows':>9}")
        for model_type in ("logistic_regression", "svc", "random_forest", "isolation_forest"):
            fit_ms = 1000 * median_seconds(lambda: service.fit(model_type, X.tolist(), y, model_type=model_type),
                               max(1, args.repeats // 3))
            entry = service.registry.entry(model_type)

            def cold_load() -> None:
                service.unload(model_type)
                service.load(model_type)

            load_ms = 1000 * median_seconds(cold_load, args.repeats)
            one_ms = 1000 * median_seconds(lambda: service.predict(model_type, one_row), args.repeats)
            thousand_ms = 1000 * median_seconds(lambda: service.predict(model_type, thousand_rows), args.repeats)
            print(f"{model_type:<20} {fit_ms:>14.0f} ms {entry['file_bytes'] / 1e6:>6.2f} MB {load_ms:>6.1f} ms "
                  f"{one_ms:>5.1f} ms {thousand_ms:>6.1f} ms")

    signal, names = synthetic_12lead(72, 160, 90, 390)
    recording = Recording(signal, 500.0, names)
    print(f"ecg_measurements features, 10 s 12-lead 500 Hz: "
          f"{1000 * median_seconds(lambda: features.recording_features(recording), args.repeats):.0f} ms")
    mitbih = ROOT.parent / "shared" / "fixtures" / "mitbih" / "100"
    if mitbih.with_suffix(".hea").exists():
        import wfdb

        record = wfdb.rdrecord(str(mitbih))
        lead = Recording(record.p_signal[:, 0][None, :], float(record.fs), ("II",))
        print(f"beat features, 30 min MIT-BIH 100 (2273 beats): "
              f"{1000 * median_seconds(lambda: features.beat_features(lead), max(1, args.repeats // 3)):.0f} ms")


if __name__ == "__main__":
    main()
