"""Accuracy of `measure` against LUDB's cardiologists (DEV, TEST and all records) and against carts.

Run: python bench/eval_measure.py [--records 0,4,8] [--per-record]. Prints, per measurement, the mean
difference ± SD (measured − reference, ms) and the coverage (share of records where both exist), for the
DEV split (record number ≡ 0 mod 4: thresholds may be chosen on it), the held-out TEST split (≡ 2 mod 4)
and all records; then the rhythm figures (PR reported on sinus records, PR None on AF/flutter, heart rate
within 3 bpm) and the checks against the carts' own measurements (every cart file of the fixtures and
pydicom's 12-lead, paired as results pair them; a formula-less QTc shows the formula inferred for it). The
global reference is built as `tests/ludb_reference.py` says (earliest onset / latest offset over leads per
beat, median over beats).
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

import ludb_reference  # noqa: E402
from ecg_core.files.compare import measurement_vs_cart  # noqa: E402
from ecg_core.measure import measure  # noqa: E402
from ecg_core.measure.core import analyse  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"
LUDB = FIXTURES / "ludb"
INTERVALS = ("pr_interval", "qrs_duration", "qt_interval", "p_duration")
# the issue's tolerances for a check against a cart's own measurement (bpm, ms, degrees)
# ("qtc": a QTc whose formula the file does not state)
CART_TOLERANCES = {"heart_rate": 2, "pr_interval": 20, "qrs_duration": 15, "qt_interval": 25, "qtc_bazett": 30,
                   "qtc_fridericia": 30, "qtc": 30, "p_axis": 20, "qrs_axis": 20, "t_axis": 20}


def records_option(parser: argparse.ArgumentParser) -> None:
    """The LUDB scripts' ``--records`` option (read back with `chosen_records`)."""
    parser.add_argument("--records", help="comma-separated LUDB record numbers (default: all)")


def chosen_records(args: argparse.Namespace) -> list[int]:
    """The LUDB record numbers ``--records`` names, or all of them."""
    return [int(n) for n in args.records.split(",")] if args.records else ludb_reference.record_numbers(LUDB)


def evaluate_ludb(numbers: list[int]) -> list[dict]:
    """One row per record: its reference, rhythm flags and what `measure` gave."""
    rows = []
    for number in numbers:
        record = ludb_reference.load(LUDB, number)
        analysis = analyse(record.signal, record.fs, ludb_reference.LEADS)
        rows.append({"number": number, "split": ludb_reference.split(number), "record": record,
                     "measured": analysis.measurements, "median_beat": analysis.median_beat})
    return rows


def interval_summary(rows: list[dict], key: str) -> dict:
    """mean/SD of measured − reference (ms) over records with both, and coverage over records with a reference."""
    pairs = [(row["measured"][key], row["record"].reference[key]) for row in rows
             if row["record"].reference[key] is not None]
    return _difference_summary([m - r for m, r in pairs if m is not None], len(pairs))


def _difference_summary(differences: list[float], n_reference: int) -> dict:
    """{"n_reference", "n_both", "coverage", "mean", "sd"} of measured − reference differences."""
    values = np.array(differences)
    return {"n_reference": n_reference, "n_both": int(values.size),
            "coverage": values.size / n_reference if n_reference else float("nan"),
            "mean": float(values.mean()) if values.size else float("nan"),
            "sd": float(values.std()) if values.size else float("nan")}


def lead_p_duration_summary(rows: list[dict]) -> dict:
    """Per lead, ``per_lead`` P duration − the experts' in that lead (ms): mean/SD over the leads with both,
    coverage over the leads the experts annotate."""
    differences, n_reference = [], 0
    for row in rows:
        per_lead = row["measured"].get("per_lead") or {}
        for lead, reference in ludb_reference.lead_p_duration_ms(row["record"]).items():
            if reference is None:
                continue
            n_reference += 1
            ours = per_lead.get(lead, {}).get("p_duration_ms")
            if ours:
                differences.append(ours - reference)
    return _difference_summary(differences, n_reference)


def trimmed_reference_summary(rows: list[dict], key: str, trim: int) -> dict:
    """As `interval_summary`, against the reference built with the ``trim`` most extreme leads dropped at
    each boundary (`ludb_reference.global_reference`; the declared reference drops one)."""
    pairs = [(row["measured"][key], ludb_reference.global_reference(row["record"], trim)[key]) for row in rows]
    pairs = [(measured, reference) for measured, reference in pairs if reference is not None]
    return _difference_summary([m - r for m, r in pairs if m is not None], len(pairs))


def qrs_margin_summary(rows: list[dict]) -> dict:
    """Where the experts' global QRS boundaries lie against ours, and what the signal does between them.

    On each unpaced record's median beat: the reference QRS onset and offset (`ludb_reference.qrs_span_near`
    at each of its dominant beats, median over them) and ours. Over the span between the two onsets (on
    records where ours is later), the largest excursion of any lead (µV, from its level at the start of the
    span); the same for a span as long just before the reference onset (PR segment) and just after ours
    (the QRS itself). Likewise at the offset: the span between ours and the reference's, as long just after
    the reference's (ST segment) and just before ours. Medians over the records.
    """
    found: dict[str, list[float]] = {name: [] for name in (
        "onset_gap_ms", "onset_gap_uv", "pr_segment_uv", "after_our_onset_uv",
        "offset_gap_ms", "offset_gap_uv", "st_segment_uv", "before_our_offset_uv")}
    for row in rows:
        view = row["median_beat"]
        if row["record"].paced or view is None or view.bounds.qrs_on is None:
            continue
        reference = _reference_qrs_in_median_beat(row["record"], view)
        if reference is None:
            continue
        wave, ms = view.beat.waveform, 1000.0 / view.beat.fs
        (reference_on, reference_off), ours_on, ours_off = reference, view.bounds.qrs_on, view.bounds.qrs_off
        if ours_on > reference_on:
            gap = ours_on - reference_on
            found["onset_gap_ms"].append(gap * ms)
            found["onset_gap_uv"].append(_excursion_uv(wave, reference_on, ours_on))
            found["pr_segment_uv"].append(_excursion_uv(wave, reference_on - gap, reference_on))
            found["after_our_onset_uv"].append(_excursion_uv(wave, ours_on, ours_on + gap))
        if reference_off > ours_off:
            gap = reference_off - ours_off
            found["offset_gap_ms"].append(gap * ms)
            found["offset_gap_uv"].append(_excursion_uv(wave, ours_off, reference_off))
            found["st_segment_uv"].append(_excursion_uv(wave, reference_off, reference_off + gap))
            found["before_our_offset_uv"].append(_excursion_uv(wave, ours_off - gap, ours_off))
    summary = {name: float(np.median(values)) if values else float("nan") for name, values in found.items()}
    summary.update(n_onset=len(found["onset_gap_ms"]), n_offset=len(found["offset_gap_ms"]))
    return summary


def _reference_qrs_in_median_beat(record, view) -> tuple[int, int] | None:
    """The reference QRS onset and offset as samples of the median beat: median over its dominant beats."""
    scale = view.beat.fs / record.fs
    spans = []
    for time_s in view.beat_times_s:
        sample = round(time_s * record.fs)
        span = ludb_reference.qrs_span_near(record, sample)
        if span is not None:
            spans.append([(boundary - sample) * scale for boundary in span])
    if not spans:
        return None
    onset, offset = np.median(spans, axis=0)
    return view.beat.fiducial + round(onset), view.beat.fiducial + round(offset)


def _excursion_uv(wave: np.ndarray, start: int, stop: int) -> float:
    """Largest distance (µV) of any lead from its own level at ``start``, over samples start..stop."""
    start, stop = max(0, start), min(wave.shape[1] - 1, stop)
    return float(np.max(np.abs(wave[:, start:stop + 1] - wave[:, start:start + 1]))) * 1000.0


def rhythm_summary(rows: list[dict]) -> dict:
    sinus = [row for row in rows if ludb_reference.is_sinus(row["record"])]
    af = [row for row in rows if ludb_reference.is_af_or_flutter(row["record"].rhythm)]
    rate_ok = [abs(row["measured"]["heart_rate"] - 60000 / row["record"].reference["rr_ms"]) <= 3
               for row in rows if row["measured"]["heart_rate"] is not None and row["record"].reference["rr_ms"]
               and not ludb_reference.is_af_or_flutter(row["record"].rhythm)]
    regular_rows = [row for row in rows if row["record"].reference["rr_ms"]
                    and not ludb_reference.is_af_or_flutter(row["record"].rhythm)]
    return {
        "sinus": len(sinus),
        "pr_on_sinus": np.mean([row["measured"]["pr_interval"] is not None for row in sinus]) if sinus else np.nan,
        "qt_on_sinus": np.mean([row["measured"]["qt_interval"] is not None for row in sinus]) if sinus else np.nan,
        "af": len(af),
        "pr_none_on_af": np.mean([row["measured"]["pr_interval"] is None for row in af]) if af else np.nan,
        "hr_within_3": sum(rate_ok) / len(regular_rows) if regular_rows else np.nan,
    }


def cart_recordings() -> list[tuple[str, object, dict, float | None, str | None]]:
    """(name, Recording, cart measurements, age, sex) for every cart file of the fixtures and pydicom's ECG."""
    from pydicom import examples

    from ecg_core.files import read_ecg_file
    from ecg_core.settings import Limits

    found = []
    for path in sorted((FIXTURES / "formats").glob("*/*")):
        if path.parent.name != "licences":
            source = read_ecg_file(path.read_bytes(), filename=path.name, limits=Limits())
            found.append((path.name, source.recording, source.cart_measurements or {}, source.age_years, source.sex))
    dicom = read_ecg_file(Path(examples.get_path("waveform")).read_bytes(), filename="waveform_ecg.dcm",
                          limits=Limits())
    found.append(("pydicom waveform_ecg.dcm", dicom.recording, dicom.cart_measurements or {}, dicom.age_years,
                  dicom.sex))
    return found


def cart_checks(recordings) -> list[dict]:
    """One row per cart measurement with a tolerance: ours, the cart's, the difference, within tolerance.

    The pairing is the results' own (`measurement_vs_cart`): a QTc without its formula is checked against
    our QT corrected by the formula the cart's QT and RR reproduce it with.
    """
    rows = []
    for name, recording, cart, _, _ in recordings:
        measured = measure(recording.signal, recording.fs, recording.lead_names)
        for key, entry in measurement_vs_cart(measured, cart).items():
            tolerance = CART_TOLERANCES.get(key)
            if tolerance is None or entry["cart"] is None:
                continue
            difference = entry["difference"]
            rows.append({"file": name, "key": key, "ours": entry["ours"], "cart": entry["cart"],
                         "difference": difference, "formula": entry.get("formula"),
                         "ok": difference is not None and abs(difference) <= tolerance})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    records_option(parser)
    parser.add_argument("--per-record", action="store_true", help="print every record's differences")
    args = parser.parse_args()
    rows = evaluate_ludb(chosen_records(args))
    if args.per_record:
        for row in rows:
            reference, measured = row["record"].reference, row["measured"]
            cells = [f"{key[:3]} {measured[key]}/{reference[key]}" for key in INTERVALS]
            print(f"{row['number']:4d} {row['split']:4s} {row['record'].rhythm[:22]:22s} "
                  f"HR {measured['heart_rate']} " + "  ".join(cells))
    for name, subset in (("DEV", [r for r in rows if r["split"] == "dev"]),
                         ("TEST", [r for r in rows if r["split"] == "test"]), ("ALL", rows)):
        if not subset:
            continue
        print(f"\n{name} ({len(subset)} records)")
        for key in INTERVALS:
            s = interval_summary(subset, key)
            print(f"  {key:13s} {s['mean']:+6.1f} ± {s['sd']:5.1f} ms  coverage {s['coverage']:.0%} "
                  f"({s['n_both']}/{s['n_reference']})")
        s = interval_summary([row for row in subset if not row["record"].paced], "qrs_duration")
        print(f"  qrs_duration  {s['mean']:+6.1f} ± {s['sd']:5.1f} ms  without the paced records ({s['n_both']})")
        s = lead_p_duration_summary(subset)
        print(f"  per-lead P duration {s['mean']:+6.1f} ± {s['sd']:5.1f} ms  coverage {s['coverage']:.0%} "
              f"({s['n_both']}/{s['n_reference']} leads)")
        for trim in (0, 2, 3):
            s = trimmed_reference_summary(subset, "qrs_duration", trim)
            print(f"  qrs_duration  {s['mean']:+6.1f} ± {s['sd']:5.1f} ms  against the reference dropping {trim} "
                  f"extreme leads instead of 1")
        m = qrs_margin_summary(subset)
        print(f"  QRS onset: the experts' {m['onset_gap_ms']:.0f} ms before ours ({m['n_onset']} records); "
              f"largest lead excursion {m['onset_gap_uv']:.0f} µV between the two, {m['pr_segment_uv']:.0f} µV over "
              f"as long of PR segment before, {m['after_our_onset_uv']:.0f} µV as long after ours")
        print(f"  QRS offset: the experts' {m['offset_gap_ms']:.0f} ms after ours ({m['n_offset']} records); "
              f"{m['offset_gap_uv']:.0f} µV between, {m['st_segment_uv']:.0f} µV over as long of ST segment after, "
              f"{m['before_our_offset_uv']:.0f} µV as long before ours")
        r = rhythm_summary(subset)
        print(f"  PR on sinus {r['pr_on_sinus']:.0%}, QT on sinus {r['qt_on_sinus']:.0%} ({r['sinus']} records); "
              f"PR None on AF/flutter {r['pr_none_on_af']:.0%} ({r['af']}); HR within 3 bpm {r['hr_within_3']:.0%}")
    checks = cart_checks(cart_recordings())
    print(f"\nCarts: {sum(not c['ok'] for c in checks)} of {len(checks)} checks out of tolerance")
    for check in checks:
        if not check["ok"] or args.per_record:
            formula = f" ({check['formula']})" if check["formula"] else ""
            print(f"  {'ok ' if check['ok'] else 'OUT'} {check['file'][:28]:28s} {check['key'] + formula:17s} "
                  f"ours {check['ours']} cart {check['cart']} ({check['difference']})")


if __name__ == "__main__":
    main()
