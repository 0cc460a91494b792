"""QTc limits by sex (AHA/ACCF/HRS 2009: prolonged from 450 ms in men, 460 ms in women; > 500 markedly):
the clinical summary and the page's table apply the same rule, and the patient's sex reaches both from
the request."""

from __future__ import annotations

import json

import pytest

from ecg_core.interpret import clinical_analysis
from ecg_core.measure import measure
from ecg_core.patient import Patient
from ecg_core.quality import assess
from ecg_core.ui.ranges import measurement_table
from synthetic_ecg import synthetic_12lead

# (QTc Bazett ms): expected category for a man, a woman, sex not given
CASES = {
    449: (None, None, None),
    451: ("Prolonged", None, "Borderline"),
    459: ("Prolonged", None, "Borderline"),
    461: ("Prolonged", "Prolonged", "Prolonged"),
    501: ("Markedly prolonged", "Markedly prolonged", "Markedly prolonged"),
    340: ("Short", "Short", "Short"),
    341: (None, None, None),
}
SEXES = ("M", "F", None)
_TABLE_FLAG = {None: None, "Prolonged": "high", "Markedly prolonged": "high", "Borderline": "borderline",
               "Short": "low"}


@pytest.fixture(scope="module")
def normal_recording():
    """Real measurements of a normal synthetic ECG (QTc about 400 ms); each case sets its own QTc."""
    signal, names = synthetic_12lead(72, 160, 90, 370, seed=21)
    return measure(signal, 500, names), assess(signal, 500, names)


def _qtc_findings(abnormalities: list[str]) -> list[str]:
    return [text for text in abnormalities if "QTc" in text]


@pytest.mark.parametrize("qtc_ms", sorted(CASES))
@pytest.mark.parametrize("sex", SEXES)
def test_clinical_analysis_flags_qtc_by_sex(normal_recording, qtc_ms, sex):
    measurements, quality = normal_recording
    assert _qtc_findings(clinical_analysis(measurements, quality, None, Patient(60, sex))["abnormalities"]) == []
    expected = CASES[qtc_ms][SEXES.index(sex)]
    found = _qtc_findings(clinical_analysis({**measurements, "qtc_bazett": float(qtc_ms)}, quality, None,
                                            Patient(60, sex))["abnormalities"])
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith(f"{expected} QTc (Bazett {qtc_ms} ms"), found
    if expected == "Borderline":
        assert "prolonged for a man" in found[0] and "sex not given" in found[0]
    if expected == "Prolonged":
        assert {"M": "limit for men", "F": "limit for women", None: "sex not given"}[sex] in found[0]


@pytest.mark.parametrize("qtc_ms", sorted(CASES))
@pytest.mark.parametrize("sex", SEXES)
def test_the_table_flags_qtc_by_the_same_rule(normal_recording, qtc_ms, sex):
    measurements, _ = normal_recording
    result = {"measurements": {**measurements, "qtc_bazett": float(qtc_ms), "qtc_fridericia": float(qtc_ms)}}
    rows = {row["key"]: row for row in measurement_table(result, Patient(None, sex))}
    expected = _TABLE_FLAG[CASES[qtc_ms][SEXES.index(sex)]]
    assert rows["qtc_bazett"]["flag"] == expected and rows["qtc_fridericia"]["flag"] == expected
    assert rows["qtc_bazett"]["high"] == {"M": 450, "F": 460, None: 460}[sex]
    assert rows["qtc_bazett"]["range"].endswith({"M": "(men)", "F": "(women)", None: "prolonged for a man)"}[sex])


def test_sex_from_the_request_sets_the_qtc_limit_through_the_handler(demo_handler):
    signal, names = synthetic_12lead(60, 160, 90, 450, seed=3)
    inputs = {"signal": signal.round(4).tolist(), "fs": 500, "lead_names": list(names), "task": "measure"}
    verdicts = {}
    for sex in ("male", "F", None):
        item = inputs if sex is None else {**inputs, "sex": sex}
        result = demo_handler({"inputs": item})[0]
        qtc = result["measurements"]["qtc_bazett"]
        assert 450 <= qtc < 460, f"the synthetic QTc moved to {qtc} ms: choose a QT that lands in 450-459 again"
        verdicts[sex] = _qtc_findings(result["clinical_analysis"]["abnormalities"])
        assert "male" not in json.dumps(result)  # the sex chose a limit; it is not echoed
    assert verdicts["male"][0].startswith("Prolonged QTc") and "limit for men" in verdicts["male"][0]
    assert verdicts["F"] == []
    assert verdicts[None][0].startswith("Borderline QTc")
