"""Stability of `measure` against the noise real recordings carry and the ways carts differ, on LUDB's 100
records.

Run: python bench/eval_robustness.py [--records 0,4,8]. Each record is measured clean and again under each
condition (noise seeded by the record number): broadband (white) noise of 12.5 and 50 µV RMS added to all 12 leads
(electrode and muscle noise; 50 µV is a tense patient); three bursts of muscle noise at the electrodes (a shivering
patient, `muscle_bursts`); 50 and 60 Hz mains hum of 50 µV peak-to-peak and 0.3 Hz baseline wander of 1 mV
peak-to-peak (breathing), each lead with its own phase; 0.2 mV RMS of noise in V3 alone (a loose electrode); a
baseline step of 0.5 and of 1 mV in every lead at 4.6 s (an electrode moving, a cart's baseline reset); the
amplitudes halved (a low-voltage ECG), quartered (an extreme one: pericardial effusion, amyloidosis), quartered
with 12.5 µV RMS of broadband noise added after (the electrodes' noise does not shrink with the heart's signal) and
doubled (a large heart's); the recording resampled to 100 Hz (PTB-XL's low-rate release), 128 Hz (Holters), 250 and
1000 Hz (carts record at both). Per condition and measurement, over the records where the clean recording has a
value: the share still measured, and the share within the tolerance of the clean value (`TOLERANCES`: the issue's
cart tolerances; P duration as PR). Atrial fibrillation and flutter must keep PR None.
"""

from __future__ import annotations

import argparse
import os
import sys
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import numpy as np  # noqa: E402
from scipy.signal import butter, resample_poly, sosfiltfilt  # noqa: E402

import ludb_reference  # noqa: E402
from ecg_core.measure import measure  # noqa: E402
from eval_measure import CART_TOLERANCES, LUDB, chosen_records, records_option  # noqa: E402

TOLERANCES = {**{key: CART_TOLERANCES[key] for key in ("heart_rate", "pr_interval", "qrs_duration", "qt_interval")},
              "p_duration": CART_TOLERANCES["pr_interval"]}


def white(rms_mv: float):
    """Broadband noise of ``rms_mv`` mV RMS added to every lead."""
    def condition(signal, fs, rng):
        return signal + rng.normal(0.0, rms_mv, signal.shape), fs
    return condition


def sine(frequency_hz: float, peak_to_peak_mv: float):
    """A sine of ``peak_to_peak_mv`` mV added to every lead, each with its own phase."""
    def condition(signal, fs, rng):
        phase = rng.uniform(0.0, 2 * np.pi, (signal.shape[0], 1))
        return signal + 0.5 * peak_to_peak_mv * np.sin(2 * np.pi * frequency_hz * np.arange(signal.shape[1]) / fs
                                                        + phase), fs
    return condition


def one_lead_noisy(lead: int, rms_mv: float):
    """Broadband noise of ``rms_mv`` mV RMS in row ``lead`` only: a loose electrode."""
    def condition(signal, fs, rng):
        noisy = signal.copy()
        noisy[lead] += rng.normal(0.0, rms_mv, signal.shape[1])
        return noisy, fs
    return condition


def muscle_bursts(rms_mv: float, bursts: int = 3, burst_sd_s: float = 0.35):
    """``bursts`` bursts of muscle noise (20-150 Hz), each a Gaussian swell of ``burst_sd_s`` s, at the nine
    electrodes (RA, LA, LL, V1-V6; each its own noise, ``rms_mv`` mV RMS at the swells' height), the 12 leads
    derived from them as a cart does: the limb leads share their electrodes' noise (I and II both carry RA's)."""
    def condition(signal, fs, rng):
        n_samples = signal.shape[1]
        noise = sosfiltfilt(butter(4, [20.0, 150.0], "bandpass", fs=fs, output="sos"),
                            rng.normal(0.0, 1.0, (9, n_samples)), axis=1)
        time_s = np.arange(n_samples) / fs
        swell = sum(np.exp(-0.5 * ((time_s - centre_s) / burst_sd_s) ** 2)
                    for centre_s in rng.uniform(2 * burst_sd_s, time_s[-1] - 2 * burst_sd_s, bursts))
        ra, la, ll, *chest = rms_mv * swell * noise / noise.std(axis=1, keepdims=True)
        central = (ra + la + ll) / 3  # Wilson's central terminal
        leads = {"I": la - ra, "II": ll - ra, "III": ll - la, "aVR": ra - (la + ll) / 2, "aVL": la - (ra + ll) / 2,
                 "aVF": ll - (ra + la) / 2, **{f"V{k}": electrode - central for k, electrode in enumerate(chest, 1)}}
        return signal + np.array([leads[name] for name in ludb_reference.LEADS]), fs
    return condition


def step(height_mv: float, at_fraction: float = 0.46):
    """Every lead's baseline steps by ``height_mv`` mV at ``at_fraction`` of the recording and stays there."""
    def condition(signal, fs, rng):
        stepped = signal.copy()
        stepped[:, int(at_fraction * signal.shape[1]):] += height_mv
        return stepped, fs
    return condition


def scaled(gain: float, then=None):
    """Every amplitude times ``gain``; ``then``, a condition applied after (an electrode's noise does not shrink
    with the heart's signal)."""
    def condition(signal, fs, rng):
        return (gain * signal, fs) if then is None else then(gain * signal, fs, rng)
    return condition


def resampled(target_hz: float):
    def condition(signal, fs, rng):
        ratio = Fraction(target_hz / fs).limit_denominator(100)
        return resample_poly(signal, ratio.numerator, ratio.denominator, axis=1), fs * ratio
    return condition


CONDITIONS = {"white 12.5 µV RMS": white(0.0125), "white 50 µV RMS": white(0.05),
              "mains 50 Hz 50 µV p-p": sine(50.0, 0.05), "mains 60 Hz 50 µV p-p": sine(60.0, 0.05),
              "muscle bursts 0.1 mV RMS": muscle_bursts(0.1), "wander 0.3 Hz 1 mV p-p": sine(0.3, 1.0),
              "V3 alone 0.2 mV RMS": one_lead_noisy(ludb_reference.LEADS.index("V3"), 0.2),
              "baseline step 0.5 mV": step(0.5), "baseline step 1 mV": step(1.0),
              "amplitude × 0.5": scaled(0.5), "amplitude × 0.25": scaled(0.25),
              "amplitude × 0.25, 12.5 µV RMS": scaled(0.25, then=white(0.0125)), "amplitude × 2": scaled(2.0),
              "resampled to 100 Hz": resampled(100.0), "resampled to 128 Hz": resampled(128.0),
              "resampled to 250 Hz": resampled(250.0), "resampled to 1000 Hz": resampled(1000.0)}


def evaluate(numbers: list[int]) -> list[dict]:
    """One row per record: its split, whether it is AF/flutter, and the measurements clean and per condition."""
    rows = []
    for number in numbers:
        record = ludb_reference.load(LUDB, number)
        rng = np.random.default_rng(number)
        changed = {name: measure(*condition(record.signal, record.fs, rng), ludb_reference.LEADS)
                   for name, condition in CONDITIONS.items()}
        rows.append({"number": number, "split": ludb_reference.split(number),
                     "af": ludb_reference.is_af_or_flutter(record.rhythm),
                     "clean": measure(record.signal, record.fs, ludb_reference.LEADS), "changed": changed})
    return rows


def stability(rows: list[dict], condition: str, key: str) -> dict:
    """{"n", "kept", "within"}: records with a clean value, and the shares still measured / within tolerance."""
    pairs = [(row["clean"][key], row["changed"][condition][key]) for row in rows if row["clean"][key] is not None]
    kept = [abs(changed - clean) <= TOLERANCES[key] for clean, changed in pairs if changed is not None]
    return {"n": len(pairs), "kept": len(kept) / len(pairs) if pairs else float("nan"),
            "within": sum(kept) / len(pairs) if pairs else float("nan")}


def pr_none_on_af(rows: list[dict], condition: str) -> float:
    af = [row for row in rows if row["af"]]
    return float(np.mean([row["changed"][condition]["pr_interval"] is None for row in af])) if af else float("nan")


def short_windows(numbers: list[int], window_s: float) -> dict:
    """Each record cut into windows of ``window_s`` s, each measured alone (a cart's 2.5 s columns, a short strip):
    {"af": windows of the AF/flutter records, "af_pr_none": the share without a PR; "sinus": windows of the sinus
    records without AV block or pacing whose whole recording has a PR, "sinus_pr_kept" / "sinus_pr_within": the
    shares with a PR / one within the PR tolerance of the whole recording's}."""
    af_pr, sinus_pr = [], []
    for number in numbers:
        record = ludb_reference.load(LUDB, number)
        whole_pr_ms = measure(record.signal, record.fs, ludb_reference.LEADS)["pr_interval"]
        af, sinus = ludb_reference.is_af_or_flutter(record.rhythm), ludb_reference.is_sinus(record)
        if not af and not (sinus and whole_pr_ms is not None):
            continue
        width = int(window_s * record.fs)
        for start in range(0, record.signal.shape[1] - width + 1, width):
            pr_ms = measure(record.signal[:, start:start + width], record.fs, ludb_reference.LEADS)["pr_interval"]
            (af_pr if af else sinus_pr).append(pr_ms if af else (pr_ms, whole_pr_ms))
    within = [pr is not None and abs(pr - whole) <= TOLERANCES["pr_interval"] for pr, whole in sinus_pr]
    return {"af": len(af_pr), "af_pr_none": float(np.mean([pr is None for pr in af_pr])) if af_pr else float("nan"),
            "sinus": len(sinus_pr), "sinus_pr_kept": float(np.mean([pr is not None for pr, _ in sinus_pr])),
            "sinus_pr_within": float(np.mean(within))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    records_option(parser)
    chosen = chosen_records(parser.parse_args())
    rows = evaluate(chosen)
    for condition in CONDITIONS:
        print(f"\n{condition}: PR None on AF/flutter {pr_none_on_af(rows, condition):.0%}")
        for key, tolerance in TOLERANCES.items():
            cells = []
            for name, subset in (("DEV", [r for r in rows if r["split"] == "dev"]),
                                 ("TEST", [r for r in rows if r["split"] == "test"]), ("all", rows)):
                s = stability(subset, condition, key)
                cells.append(f"{name} {s['kept']:4.0%} kept, {s['within']:4.0%} within ({s['n']})")
            print(f"  {key:13s} ±{tolerance:<3d} " + "   ".join(cells))
    for window_s in (2.5, 5.0):
        for name, numbers in (("DEV", [n for n in chosen if ludb_reference.split(n) == "dev"]),
                              ("TEST", [n for n in chosen if ludb_reference.split(n) == "test"])):
            s = short_windows(numbers, window_s)
            print(f"\n{window_s} s windows, {name}: PR None on {s['af_pr_none']:.0%} of {s['af']} AF/flutter windows; "
                  f"sinus PR kept on {s['sinus_pr_kept']:.0%}, within ±{TOLERANCES['pr_interval']} ms of the whole "
                  f"recording's on {s['sinus_pr_within']:.0%} of {s['sinus']}")


if __name__ == "__main__":
    main()
