"""What a narrow bandwidth does to the measurements, and how often the signal itself shows one, on LUDB's records.

Run: python bench/eval_bandwidth.py [--records 0,4,8]. Every record is filtered as monitors, displays and
simple recorders do (`FILTERS`: low-pass and high-pass Butterworth filters, order 2, zero phase unless
"causal") and:

1. the recording's high-frequency content (`bandwidth.high_frequency_content_db`) is computed, and the share of
   records that look low-pass filtered (below `bandwidth.LOW_CONTENT_DB`) is printed per split (DEV: the
   threshold was chosen on it; TEST held out), unpaced and paced apart (a paced record's spikes, smeared by the
   filter, still put power above 60 Hz);
2. each record is measured: on the unpaced records the R amplitudes (leads whose R is 0.3 mV or more) and the
   Sokolow-Lyon voltage as a ratio to the unfiltered record's, the QRS and QT changes (ms; 5th, 50th and 95th
   percentiles) and the share with QT within 25 ms; on the paced records whether pacing is still found.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import numpy as np  # noqa: E402
from scipy.signal import butter, sosfilt, sosfiltfilt  # noqa: E402

import ludb_reference  # noqa: E402
from ecg_core.measure import measure  # noqa: E402
from ecg_core.measure.bandwidth import LOW_CONTENT_DB, high_frequency_content_db  # noqa: E402
from eval_measure import LUDB, chosen_records, records_option  # noqa: E402

# name → (kind, cut-off Hz, causal): Butterworth, order 2, zero phase unless causal (one forward pass)
FILTERS = {"none": None, "150 Hz": ("low", 150.0, False), "100 Hz": ("low", 100.0, False),
           "60 Hz": ("low", 60.0, False), "40 Hz": ("low", 40.0, False), "35 Hz": ("low", 35.0, False),
           "25 Hz": ("low", 25.0, False), "40 Hz causal": ("low", 40.0, True),
           "high-pass 0.67 Hz": ("high", 0.67, False), "high-pass 0.16 Hz causal": ("high", 0.16, True),
           "high-pass 0.32 Hz causal": ("high", 0.32, True), "high-pass 0.5 Hz causal": ("high", 0.5, True)}
_MIN_R_MV = 0.3
QT_TOLERANCE_MS = 25.0


def filtered(signal: np.ndarray, fs: float, spec: tuple | None) -> np.ndarray:
    """``signal`` through the filter of a `FILTERS` entry."""
    if spec is None:
        return signal
    kind, cutoff_hz, causal = spec
    sos = butter(2, cutoff_hz, btype=kind, fs=fs, output="sos")
    return sosfilt(sos, signal, axis=-1) if causal else sosfiltfilt(sos, signal, axis=-1)


def evaluate(numbers: list[int]) -> list[dict]:
    """One row per (record, filter): split, paced, content (dB), and what the measurements became."""
    rows = []
    for number in numbers:
        record = ludb_reference.load(LUDB, number)
        clean = measure(record.signal, record.fs, ludb_reference.LEADS)
        for name, spec in FILTERS.items():
            signal = filtered(record.signal, record.fs, spec)
            values = measure(signal, record.fs, ludb_reference.LEADS)
            r_ratios = [values["per_lead"][lead]["r_amplitude_mv"] / lead_values["r_amplitude_mv"]
                        for lead, lead_values in clean["per_lead"].items()
                        if (lead_values["r_amplitude_mv"] or 0) >= _MIN_R_MV
                        and (values["per_lead"].get(lead) or {}).get("r_amplitude_mv") is not None]
            sokolow = clean["voltage_criteria"]["sokolow_lyon_mv"], values["voltage_criteria"]["sokolow_lyon_mv"]
            qrs = clean["qrs_duration"], values["qrs_duration"]
            qt = clean["qt_interval"], values["qt_interval"]
            rows.append({
                "number": number, "split": ludb_reference.split(number), "paced": record.paced, "filter": name,
                "content_db": high_frequency_content_db(signal, record.fs),
                "r_ratios": r_ratios, "sokolow_ratio": sokolow[1] / sokolow[0] if all(sokolow) else None,
                "qrs_change_ms": qrs[1] - qrs[0] if None not in qrs else None,
                "qt_change_ms": qt[1] - qt[0] if None not in qt else None,
                "pacing_found": values["pacing"]["mode"] is not None,
            })
    return rows


def _percentiles(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    return " / ".join(f"{value:.{digits}f}" for value in np.percentile(values, [5, 50, 95]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    records_option(parser)
    rows = evaluate(chosen_records(parser.parse_args()))
    print(f"looks low-pass filtered (content below {LOW_CONTENT_DB:g} dB), share of records")
    print("| filter | DEV unpaced | TEST unpaced | paced (both) | content dB, unpaced (min / median / max) |")
    print("| --- | --- | --- | --- | --- |")
    for name in [name for name, spec in FILTERS.items() if spec is None or spec[0] == "low"]:
        of_filter = [row for row in rows if row["filter"] == name and row["content_db"] is not None]
        cells = []
        for chosen in (lambda row: row["split"] == "dev" and not row["paced"],
                       lambda row: row["split"] == "test" and not row["paced"], lambda row: row["paced"]):
            group = [row for row in of_filter if chosen(row)]
            flagged = sum(row["content_db"] < LOW_CONTENT_DB for row in group)
            cells.append(f"{flagged} of {len(group)}")
        contents = [row["content_db"] for row in of_filter if not row["paced"]]
        spread = f"{min(contents):.1f} / {np.median(contents):.1f} / {max(contents):.1f}" if contents else "-"
        print(f"| {name} | {' | '.join(cells)} | {spread} |")
    print("\nunpaced records: R amplitude and Sokolow-Lyon as ratios to unfiltered, QRS and QT changes (ms), "
          "5th / 50th / 95th percentiles; QT within 25 ms. Paced records: pacing still found")
    print("| filter | R amplitude | Sokolow-Lyon | QRS change | QT change | QT within 25 ms | "
          "paced records, pacing found |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in list(FILTERS)[1:]:
        unpaced = [row for row in rows if row["filter"] == name and not row["paced"]]
        paced = [row for row in rows if row["filter"] == name and row["paced"]]
        r_ratios = [ratio for row in unpaced for ratio in row["r_ratios"]]
        sokolow = [row["sokolow_ratio"] for row in unpaced if row["sokolow_ratio"] is not None]
        qrs = [row["qrs_change_ms"] for row in unpaced if row["qrs_change_ms"] is not None]
        qt = [row["qt_change_ms"] for row in unpaced if row["qt_change_ms"] is not None]
        qt_kept = sum(abs(change) <= QT_TOLERANCE_MS for change in qt) / len(unpaced)
        found = [str(row["number"]) for row in paced if row["pacing_found"]]
        print(f"| {name} | {_percentiles(r_ratios, 3)} | {_percentiles(sokolow, 3)} | {_percentiles(qrs, 0)} | "
              f"{_percentiles(qt, 0)} | {qt_kept:.0%} | {len(found)} of {len(paced)} ({', '.join(found) or 'none'}) |")


if __name__ == "__main__":
    main()
