"""ST elevation (`urgent.st_elevation_findings`, Fourth Universal Definition of MI) on LUDB's diagnoses.

Run: python bench/eval_st_elevation.py [--records 0,4,8]. First checks that LUDB's amplitudes are real
millivolts (digital values × 0.001 mV): the limb leads obey Einthoven's law in those units and not in
the headers' per-lead gains, and the median P wave in II and R wave in V5 are of physiological size.
Then `measure.analyse` and `st_elevation_findings` run on every record with its age and sex from
``ludb.csv``, and the records are grouped by their diagnoses (`category`):

- ``stemi``: "Stemi" in the Ischemia column (the sensitivity: how many get an ST elevation finding);
- ``early_repolarization``: early repolarisation syndrome (J-point elevation is its sign: reported apart);
- ``no_st_cause``: none of ST elevation, infarction (STEMI, scar, "supp. NSTEMI"), early repolarisation, LVH
  (or LV overload), bundle branch block or intraventricular conduction delay, pacing, which all raise the
  ST legitimately (the false-alarm rate: how many get any urgent entry);
- ``other``: the rest (reported, in neither figure).

Nothing is tuned here: the cut-points are the definition's. Figures per DEV (≡ 0 mod 4), TEST (≡ 2 mod 4)
and all records. Also printed: `per_lead`'s ``st_j_mv`` against the level at the cardiologists' own
per-lead QRS offsets (`ludb_reference.st_at_expert_j`), so a miss can be told from a mismeasured J point.
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
from ecg_core.measure import analyse  # noqa: E402
from ecg_core.patient import Patient  # noqa: E402
from ecg_core.urgent import st_elevation_findings  # noqa: E402
from eval_measure import LUDB, chosen_records, records_option  # noqa: E402

CATEGORIES = ("stemi", "early_repolarization", "no_st_cause", "other")
_ST_CAUSES = {  # ludb.csv column: wording (lower case) of a diagnosis that raises the ST segment
    "Ischemia": ("stemi", "scar", "nstemi"),
    "Other states": ("early repolarization",),
    "Hypertrophies": ("left ventricular hypertrophy", "left ventricular overload"),
    "Conduction abnormalities": ("bundle branch block", "conduction delay"),
}


def category(diagnoses: dict[str, str]) -> str:
    """One of `CATEGORIES` for a record's ``ludb_reference.diagnoses`` row."""
    if any(line.lower().startswith("stemi:") for line in diagnoses.get("Ischemia", "").split("; ")):
        return "stemi"  # not "Undefined ischemia/scar/supp.nstemi: ..."
    if "early repolarization" in diagnoses.get("Other states", "").lower():
        return "early_repolarization"
    raised = diagnoses.get("Cardiac pacing", "") or any(
        word in diagnoses.get(column, "").lower() for column, words in _ST_CAUSES.items() for word in words)
    return "other" if raised else "no_st_cause"


def einthoven_residual(number: int, physical: bool) -> float:
    """SD of II − I − III relative to the SD of II: 0 when the limb leads share one true unit.
    ``physical``: scaled by the headers' per-lead gains; else digital values × 0.001."""
    import wfdb

    record = wfdb.rdrecord(str(LUDB / str(number)), physical=physical)
    signal = (record.p_signal if physical else record.d_signal * 0.001).T
    lead_i, lead_ii, lead_iii = signal[:3]
    return float(np.std(lead_ii - lead_i - lead_iii) / np.std(lead_ii))


def evaluate(numbers: list[int]) -> list[dict]:
    """One row per record: number, split, category, diagnoses, the findings, ours and the experts' ST at J."""
    rows = []
    for number in numbers:
        record = ludb_reference.load(LUDB, number)
        diagnoses = ludb_reference.diagnoses(LUDB, number)
        measurements = analyse(record.signal, record.fs, ludb_reference.LEADS, sex=record.sex).measurements
        patient = Patient(record.age, record.sex)
        findings = st_elevation_findings(measurements, patient)
        expert = ludb_reference.st_at_expert_j(record)
        # the same criterion on the levels at the cardiologists' J points: a miss of the rule, or of our J point?
        at_expert_j = st_elevation_findings({"qrs_duration": measurements["qrs_duration"], "per_lead": {
            lead: {"st_j_mv": level} for lead, level in expert.items()}}, patient)
        rows.append({"number": number, "split": ludb_reference.split(number), "category": category(diagnoses),
                     "diagnoses": diagnoses, "measurements": measurements, "findings": findings,
                     "elevation": _elevation(findings), "elevation_at_expert_j": _elevation(at_expert_j),
                     "st_j_mv": {lead: values["st_j_mv"] for lead, values in measurements["per_lead"].items()},
                     "expert_st_j_mv": expert})
    return rows


def _elevation(findings: list[dict]) -> list[dict]:
    return [finding for finding in findings if finding["territory"] is not None]  # not "not assessed"


def summary(rows: list[dict]) -> dict:
    """Sensitivity on ``stemi`` (an ST elevation finding; also any urgent entry, as the page shows every entry
    in its urgent banner), false alarms on ``no_st_cause`` (any urgent entry), early repolarisation flagged."""
    def by(name):
        return [row for row in rows if row["category"] == name]

    stemi, clean, early = by("stemi"), by("no_st_cause"), by("early_repolarization")
    return {"stemi": len(stemi), "stemi_elevation_found": sum(bool(row["elevation"]) for row in stemi),
            "stemi_any_urgent": sum(bool(row["findings"]) for row in stemi),
            "stemi_missed": [row["number"] for row in stemi if not row["elevation"]],
            "stemi_elevation_at_expert_j": sum(bool(row["elevation_at_expert_j"]) for row in stemi),
            "no_st_cause": len(clean), "false_alarms": [row["number"] for row in clean if row["findings"]],
            "false_alarms_at_expert_j": [row["number"] for row in clean if row["elevation_at_expert_j"]],
            "early_repolarization": len(early),
            "early_repolarization_flagged": [row["number"] for row in early if row["elevation"]]}


def st_agreement(rows: list[dict]) -> dict:
    """Ours − the experts' ST at J (mV) over every lead of every record with both: mean, SD, share > 0.05 mV."""
    differences = np.array([row["st_j_mv"][lead] - expert for row in rows
                            for lead, expert in row["expert_st_j_mv"].items()
                            if expert is not None and row["st_j_mv"].get(lead) is not None])
    return {"n": int(differences.size), "mean": float(differences.mean()), "sd": float(differences.std()),
            "over_0_05": float(np.mean(np.abs(differences) > 0.05))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    records_option(parser)
    numbers = chosen_records(parser.parse_args())
    digital = [einthoven_residual(number, physical=False) for number in numbers]
    gained = [einthoven_residual(number, physical=True) for number in numbers]
    print(f"Einthoven II - I - III, relative SD (median / max): digital × 0.001 {np.median(digital):.1e} / "
          f"{max(digital):.1e}; headers' gains {np.median(gained):.2f} / {max(gained):.2f}")
    rows = evaluate(numbers)
    p_ii = [row["measurements"]["per_lead"].get("II", {}).get("p_amplitude_mv") for row in rows]
    r_v5 = [row["measurements"]["per_lead"].get("V5", {}).get("r_amplitude_mv") for row in rows]
    print(f"median P in II {np.median([v for v in p_ii if v is not None]):.3f} mV, "
          f"median R in V5 {np.median([v for v in r_v5 if v is not None]):.2f} mV")
    for name, subset in (("DEV", [r for r in rows if r["split"] == "dev"]),
                         ("TEST", [r for r in rows if r["split"] == "test"]), ("ALL", rows)):
        if subset:
            s, agreement = summary(subset), st_agreement(subset)
            print(f"\n{name} ({len(subset)} records): STEMI {s['stemi_elevation_found']}/{s['stemi']} with ST "
                  f"elevation found ({s['stemi_any_urgent']} with any urgent entry; missed {s['stemi_missed']}; at the "
                  f"experts' J points {s['stemi_elevation_at_expert_j']}); false alarms {len(s['false_alarms'])}/"
                  f"{s['no_st_cause']} {s['false_alarms']} (at the experts' J points "
                  f"{len(s['false_alarms_at_expert_j'])}); early repolarisation flagged "
                  f"{len(s['early_repolarization_flagged'])}/{s['early_repolarization']}")
            print(f"  ST at J, ours − experts' per-lead J: {agreement['mean']:+.3f} ± {agreement['sd']:.3f} mV "
                  f"({agreement['n']} leads; {agreement['over_0_05']:.0%} differ by > 0.05 mV)")
    print("\nRecords with an urgent entry, or a STEMI diagnosis:")
    for row in rows:
        if row["findings"] or row["category"] == "stemi":
            entries = [f"{finding['finding'][:30]} {finding['leads']}" for finding in row["findings"]] or ["none"]
            expert = [finding["leads"] for finding in row["elevation_at_expert_j"]] or "none"
            print(f"  {row['number']:4d} {row['split']:4s} {row['category']:20s} QRS "
                  f"{row['measurements']['qrs_duration']} ms: {'; '.join(entries)} (at the experts' J: {expert})")


if __name__ == "__main__":
    main()
