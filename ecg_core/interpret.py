"""Clinical summary of one recording: rhythm, abnormalities and axis from measurements and ECG-FM labels.

The thresholds are the usual adult 12-lead criteria (AHA/ACCF/HRS 2009 recommendations): rate 60-100 bpm (on the
measured rate, as the page's table flags it), PR 120-200 ms, QRS < 110 ms (>= 120 ms wide), QRS axis -30 to +90
degrees; QTc (Bazett) by the patient's sex as `qtc_limits` states (prolonged from 450 ms in men, 460 ms in
women). Pacing spikes found before the beats name the rhythm by the chambers they pace. Without ECG-FM the
rhythm and abnormalities rest on the measurements alone, and the text says so. This is decision support, not a
diagnosis.
"""

from __future__ import annotations

from .patient import Patient
from .qtc_limits import qtc_finding
from .urgent import st_elevation_findings

_RHYTHM_LABELS = (  # ECG-FM (MIMIC-IV-ECG) rhythm labels, most specific first
    ("Electronic pacemaker", "Paced rhythm"),
    ("Ventricular tachycardia", "Ventricular tachycardia"),
    ("Atrial fibrillation", "Atrial fibrillation"),
    ("Atrial flutter", "Atrial flutter"),
    ("Supraventricular tachycardia with aberrancy", "Supraventricular tachycardia with aberrancy"),
)
_CONDUCTION_LABELS = ("Right bundle branch block", "Left bundle branch block", "Bifascicular block")
_PACED_RHYTHMS = {"ventricular": "Ventricular-paced rhythm", "atrial": "Atrial-paced rhythm",
                  "dual-chamber": "Dual-chamber (atrial and ventricular) paced rhythm"}  # by `measure.pacing` mode
_ECGFM_PACEMAKER = "Electronic pacemaker"
_COVERED_LABELS = {"Sinus rhythm", "Tachycardia", "Bradycardia", "1st degree atrioventricular block",
                   "Accessory pathway conduction", *_CONDUCTION_LABELS, *(label for label, _ in _RHYTHM_LABELS)}
_CORE_MEASUREMENTS = ("heart_rate", "pr_interval", "qrs_duration", "qt_interval", "qrs_axis")


def clinical_analysis(measurements: dict, quality: dict, ecgfm: dict | None, patient: Patient = Patient()) -> dict:
    """Seed-compatible summary: rhythm, heart_rate, qrs_duration, qt_interval, pr_interval (ms / bpm),
    axis_deviation, abnormalities, confidence (0..1, a heuristic, not a calibrated probability),
    physiological_parameters (every measurement), plus ``basis`` and ``notes`` saying what it rests on (and
    what the recording's bandwidth does to the measurements),
    and ``urgent_findings`` (ST elevation by `urgent.st_elevation_findings`). ``patient`` sets the cut-points
    that depend on age and sex (ST elevation, QTc).
    """
    found = set(ecgfm.get("findings", ())) if ecgfm else set()
    probabilities = {label["name"]: label.get("probability") for label in (ecgfm or {}).get("labels", ())}
    rhythm = _rhythm(measurements, found if ecgfm else None)
    abnormalities = _abnormalities(measurements, found, ecgfm is not None, probabilities, patient)
    notes = [] if ecgfm else ["ECG-FM was not run: rhythm and abnormalities come from the measurements alone"]
    if quality.get("grade") in ("Poor", "Unusable"):
        notes.append(f"signal quality is {quality['grade'].lower()}: interpret with caution")
    notes.extend((measurements.get("bandwidth") or {}).get("limits", ()))  # what the filters do to the values
    notes.extend(_pacing_notes(measurements.get("pacing") or {}, found))
    return {
        "rhythm": rhythm,
        "heart_rate": measurements.get("heart_rate"),
        "qrs_duration": measurements.get("qrs_duration"),
        "qt_interval": measurements.get("qt_interval"),
        "pr_interval": measurements.get("pr_interval"),
        "axis_deviation": axis_deviation(measurements.get("qrs_axis")),
        "abnormalities": abnormalities,
        "urgent_findings": st_elevation_findings(measurements, patient),
        "confidence": _confidence(measurements, quality, ecgfm),
        "basis": "ECG-FM labels and measurements" if ecgfm else "measurements only",
        "notes": notes,
        "physiological_parameters": dict(measurements),
    }


def axis_deviation(qrs_axis: float | None) -> str:
    """Frontal QRS axis (degrees) → Normal / Left / Right / Extreme axis deviation / Indeterminate."""
    if qrs_axis is None:
        return "Indeterminate"
    if -30 <= qrs_axis <= 90:
        return "Normal"
    if -90 <= qrs_axis < -30:
        return "Left axis deviation"
    if 90 < qrs_axis <= 180:
        return "Right axis deviation"
    return "Extreme axis deviation"


def _rate_word(heart_rate: float | None) -> str:
    if heart_rate is None:
        return ""
    return "tachycardia" if heart_rate > 100 else "bradycardia" if heart_rate < 60 else "rhythm"


def _pacing_notes(pacing: dict, found: set[str]) -> list[str]:
    """The measured pacing's own note (a stated pacemaker the spikes disagree with), and ECG-FM's pacemaker label
    where no spike was found: the model knows a paced QRS by its shape, which a bipolar pacemaker's spikes, too
    small to see at 500 Hz, do not hide."""
    notes = [pacing["note"]] if pacing.get("note") else []
    if _ECGFM_PACEMAKER in found and not pacing.get("mode"):
        notes.append("ECG-FM recognises an electronic pacemaker but no pacing spike was found (a bipolar pacemaker's "
                     "can be too small to see): the QRS and PR are measured as if the rhythm were not paced")
    return notes


def _rhythm(measurements: dict, found: set[str] | None) -> str:
    rate = measurements.get("heart_rate")
    mode = (measurements.get("pacing") or {}).get("mode")
    if mode is not None:  # the spikes are the direct evidence, and say which chambers
        return f"{_PACED_RHYTHMS[mode]} (pacing spikes before the beats)"
    if found is not None:
        for label, rhythm in _RHYTHM_LABELS:
            if label in found:
                return rhythm
        if "Sinus rhythm" in found:
            if rate is None:
                return "Sinus " + ("tachycardia" if "Tachycardia" in found else
                                   "bradycardia" if "Bradycardia" in found else "rhythm")
            return "Sinus " + _rate_word(rate)
    if rate is None:
        return "Undetermined (no QRS complexes could be measured)"
    has_p = measurements.get("pr_interval") is not None
    regular = measurements.get("rhythm_regular")
    source = "measurements only" if found is None else "ECG-FM named no rhythm; from the measurements"
    if regular is False and not has_p:
        return f"Irregular rhythm without consistent P waves, as in atrial fibrillation ({source})"
    if has_p and regular:  # fewer than 4 beats leave regularity unjudged (None): then no sinus rhythm is implied
        return f"Sinus {_rate_word(rate)} likely: regular, with a P wave before each QRS ({source})"
    pattern = "Regular" if regular else "Irregular" if regular is False else "Undetermined"
    waves = "with P waves" if has_p else "without consistent P waves"
    return f"{pattern} rhythm {waves} at {rate:.0f} bpm ({source})"


def _abnormalities(m: dict, found: set[str], with_ecgfm: bool, probabilities: dict, patient: Patient) -> list[str]:
    def support(label: str) -> str:
        if not with_ecgfm:
            return ""
        return f"; supported by ECG-FM ({label})" if label in found else f"; ECG-FM did not flag {label}"

    items: list[str] = []
    rate, pr, qrs = m.get("heart_rate"), m.get("pr_interval"), m.get("qrs_duration")
    # the rate as measured (0.1 bpm): rounded, 59.9 read "Bradycardia (60 bpm < 60)"
    if rate is not None and rate > 100:
        items.append(f"Tachycardia ({rate:g} bpm > 100)")
    elif rate is not None and rate < 60:
        items.append(f"Bradycardia ({rate:g} bpm < 60)")
    if pr is not None and pr > 200:
        items.append(f"Prolonged PR interval ({pr:.0f} ms > 200): first-degree AV block pattern"
                     + support("1st degree atrioventricular block"))
    elif pr is not None and pr < 120:
        items.append(f"Short PR interval ({pr:.0f} ms < 120): pre-excitation possible"
                     + support("Accessory pathway conduction"))
    if qrs is not None and qrs >= 120 and (m.get("pacing") or {}).get("ventricular"):
        items.append(f"Wide QRS ({qrs:.0f} ms >= 120) of ventricular pacing")
    elif qrs is not None and qrs >= 120:
        blocks = [label for label in _CONDUCTION_LABELS if label in found]
        named = f"; ECG-FM: {', '.join(blocks)}" if blocks else (
            "; ECG-FM named no bundle branch block" if with_ecgfm else "")
        items.append(f"Wide QRS ({qrs:.0f} ms >= 120): bundle branch block or ventricular conduction delay{named}")
    elif qrs is not None and qrs >= 110:
        items.append(f"Borderline QRS duration ({qrs:.0f} ms, 110-119): incomplete conduction delay")
    qtc = qtc_finding(m.get("qtc_bazett"), patient.sex)
    if qtc is not None:
        items.append(qtc)
    deviation = axis_deviation(m.get("qrs_axis"))
    if deviation not in ("Normal", "Indeterminate"):
        items.append(f"{deviation} (QRS axis {m['qrs_axis']:.0f}°)")
    voltage = m.get("voltage_criteria") or {}
    if voltage.get("sokolow_lyon_lvh"):
        items.append(f"LVH voltage (Sokolow-Lyon {voltage['sokolow_lyon_mv']:.2f} mV ≥ 3.5)")
    if voltage.get("cornell_lvh"):
        items.append(f"LVH voltage (Cornell {voltage['cornell_mv']:.2f} mV > {voltage['cornell_threshold_mv']})")
    for label in sorted(found - _COVERED_LABELS) + [label for label, _ in _RHYTHM_LABELS if label in found]:
        probability = probabilities.get(label)
        items.append(f"ECG-FM: {label}" + (f" (probability {probability:.2f})" if probability is not None else ""))
    for label in _CONDUCTION_LABELS:
        if label in found and not (qrs is not None and qrs >= 120):
            items.append(f"ECG-FM: {label}" + (f" (QRS measured {qrs:.0f} ms)" if qrs is not None else ""))
    return items


def _confidence(measurements: dict, quality: dict, ecgfm: dict | None) -> float:
    """Signal quality × share of core measurements obtained; lower without a rhythm classifier."""
    measured = sum(measurements.get(key) is not None for key in _CORE_MEASUREMENTS) / len(_CORE_MEASUREMENTS)
    score = float(quality.get("score", 0.0)) * (0.5 + 0.5 * measured)
    return round(score * (1.0 if ecgfm else 0.8), 3)
