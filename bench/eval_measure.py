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

FIXTURES = ROOT.parent / "shared" / "fixtures"
LUDB = FIXTURES / "ludb"
INTERVALS = ("pr_interval", "qrs_duration", "qt_interval", "p_duration")
# the issue's tolerances for a check against a cart's own measurement (bpm, ms, degrees)
# ("qtc": a QTc whose formula the file does not state)
CART_TOLERANCES = {"heart_rate": 2, "pr_interval": 20, "qrs_duration": 15, "qt_interval": 25, "qtc_bazett": 30,
                   "qtc_fridericia": 30, "qtc": 30, "p_axis": 20, "qrs_axis": 20, "t_axis": 20}


def evaluate_ludb(numbers: list[int]) -> list[dict]:
    """One row per record: its reference, rhythm flags and what `measure` gave."""
    rows = []
    for number in numbers:
        record = ludb_reference.load(LUDB, number)
        measured = measure(record.signal, record.fs, ludb_reference.LEADS)
        rows.append({"number": number, "split": ludb_reference.split(number), "record": record, "measured": measured})
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
    parser.add_argument("--records", help="comma-separated LUDB record numbers (default: all)")
    parser.add_argument("--per-record", action="store_true", help="print every record's differences")
    args = parser.parse_args()
    numbers = ([int(n) for n in args.records.split(",")] if args.records
               else ludb_reference.record_numbers(LUDB))
    rows = evaluate_ludb(numbers)
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
