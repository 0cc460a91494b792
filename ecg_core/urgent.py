"""Urgent findings: ST elevation in two anatomically contiguous leads (Fourth Universal Definition of MI).

The 2018 definition (Thygesen et al., Circulation 138:e618) calls new ST elevation at the J point in two
contiguous leads with the cut-points: ≥ 0.1 mV in all leads other than V2-V3, where ≥ 0.2 mV applies to
men ≥ 40 years, ≥ 0.25 mV to men < 40 years and ≥ 0.15 mV to women of any age. With a wide QRS (bundle
branch block, ventricular pacing) the ST segment is displaced by the conduction itself and the
criteria do not apply. Decision support only: "new" cannot be judged from one recording.
"""

from __future__ import annotations

from .patient import Patient

# anatomically contiguous pairs, with the territory they look at
_CONTIGUOUS = (
    (("II", "III"), "inferior"), (("II", "aVF"), "inferior"), (("III", "aVF"), "inferior"),
    (("I", "aVL"), "lateral"), (("V5", "V6"), "lateral"), (("I", "V6"), "lateral"),
    (("V1", "V2"), "septal"), (("V2", "V3"), "anterior"), (("V3", "V4"), "anterior"), (("V4", "V5"), "anterolateral"),
)
_DEFAULT_CUT_MV = 0.1
_WIDE_QRS_MS = 120.0


def v2_v3_cut_point_mv(patient: Patient) -> tuple[float, str]:
    """(cut-point in V2-V3, what it rests on). Without sex the women's 0.15 mV is used, so an elevation
    that meets any patient's criterion is not missed."""
    if patient.sex == "F":
        return 0.15, "women"
    if patient.sex == "M" and patient.age_years is not None:
        return (0.2, "men aged 40 or more") if patient.age_years >= 40 else (0.25, "men under 40")
    if patient.sex == "M":
        return 0.2, "men (age not given: the cut-point for 40 or more)"
    return 0.15, "sex not given: the lowest cut-point (women's)"


def st_elevation_findings(measurements: dict, patient: Patient) -> list[dict]:
    """[{"finding", "territory", "leads", "st_j_mv", "criterion"}] for each territory whose contiguous leads
    meet the cut-points; [] when none, or when the criteria do not apply (then one entry says why only if
    some lead shows ST elevation, so a reader is not left to think it was checked)."""
    per_lead = measurements.get("per_lead") or {}
    st = {lead: values.get("st_j_mv") for lead, values in per_lead.items() if values.get("st_j_mv") is not None}
    v2_v3_cut, basis = v2_v3_cut_point_mv(patient)

    def elevated(lead: str) -> bool:
        return lead in st and st[lead] >= (v2_v3_cut if lead in ("V2", "V3") else _DEFAULT_CUT_MV)

    by_territory: dict[str, set[str]] = {}
    for pair, territory in _CONTIGUOUS:
        if all(elevated(lead) for lead in pair):
            by_territory.setdefault(territory, set()).update(pair)
    if not by_territory:
        return []
    qrs = measurements.get("qrs_duration")
    if qrs is not None and qrs >= _WIDE_QRS_MS:
        return [{"finding": "ST elevation not assessed", "territory": None, "leads": sorted(
            set().union(*by_territory.values())), "st_j_mv": None,
            "criterion": f"QRS {qrs:.0f} ms ≥ {_WIDE_QRS_MS:.0f}: with bundle branch block or ventricular pacing "
                         "the ST criteria of the Fourth Universal Definition of MI do not apply"}]
    return [{"finding": f"ST elevation in contiguous {territory} leads: possible acute myocardial injury (STEMI "
                        "criteria met; compare with previous ECGs and the clinical picture)",
             "territory": territory, "leads": sorted(leads), "st_j_mv": {lead: st[lead] for lead in sorted(leads)},
             "criterion": f"J-point elevation ≥ {_DEFAULT_CUT_MV} mV in two contiguous leads (V2-V3: ≥ {v2_v3_cut} mV, "
                          f"{basis}); Fourth Universal Definition of MI (2018)"}
            for territory, leads in by_territory.items()]
