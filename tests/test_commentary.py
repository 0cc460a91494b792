"""Commentary options, the English summaries sent to DeepSeek, and the statuses that need no network."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from ecg_core.commentary import Commentator, CommentaryOptions, english_summary, parse_options
from ecg_core.errors import InputError
from ecg_core.qtc_limits import qtc_finding
from utils import DeepSeekClient

API_KEY = "sk-unit-0123456789abcdef"
UNREACHABLE = "http://127.0.0.1:9"  # discard port: nothing listens there


def analyze_result(abnormalities: tuple[str, ...] = (), **physiological) -> dict:
    """An ECG-FM analyze result shaped as ecg_core.analysis builds it (interpret.clinical_analysis inside)."""
    parameters = {"heart_rate": 72.0, "pr_interval": 160.0, "qrs_duration": 92.0, "qt_interval": 380.0,
                  "qtc_bazett": 415.0, "qrs_axis": 45.0, "p_duration": 100.0, **physiological}
    return {
        "model": "ECG-FM", "task": "analyze", "processing_time": 0.3,
        "clinical_analysis": {"rhythm": "Sinus rhythm", "heart_rate": parameters["heart_rate"],
                              "axis_deviation": "Normal", "abnormalities": list(abnormalities), "confidence": 0.9,
                              "physiological_parameters": parameters},
        "labels": [{"name": "Atrial fibrillation", "probability": 0.12, "threshold": 0.5, "present": False},
                   {"name": "Left bundle branch block", "probability": 0.07, "threshold": 0.4, "present": False}],
        "signal_quality": {"grade": "Good", "score": 0.82, "reasons": []},
    }


# --- options ----------------------------------------------------------------------------------------------

def test_commentary_is_on_by_default_only_when_a_key_is_configured(settings):
    assert parse_options({}, settings) == CommentaryOptions(enabled=False, timeout_s=30.0)
    keyed = settings.replace(deepseek_api_key=API_KEY)
    assert parse_options({}, keyed) == CommentaryOptions(enabled=True, timeout_s=30.0)
    assert parse_options({"enable_turkish_commentary": False, "deepseek_timeout": 5}, keyed) == \
        CommentaryOptions(enabled=False, timeout_s=5.0)
    assert parse_options({"enable_turkish_commentary": True, "deepseek_timeout": 120.0}, settings).enabled


@pytest.mark.parametrize("timeout", [4.9, 121, 0, -5, "30", float("nan"), float("inf"), True, [30]])
def test_deepseek_timeout_outside_5_to_120_seconds_is_refused(settings, timeout):
    with pytest.raises(InputError, match=r"^parameters\.deepseek_timeout: expected a number of seconds from 5 to 120"):
        parse_options({"deepseek_timeout": timeout}, settings)


@pytest.mark.parametrize("value", ["true", 1, 0, "yes"])
def test_enable_turkish_commentary_must_be_a_boolean(settings, value):
    with pytest.raises(InputError, match=r"^parameters\.enable_turkish_commentary: expected true or false"):
        parse_options({"enable_turkish_commentary": value}, settings)


# --- English summaries ------------------------------------------------------------------------------------

def test_summary_names_the_measurements_and_forwards_the_abnormalities():
    abnormal = ("Bradycardia (48 bpm < 60)", qtc_finding(492.0, "M"))
    summary = english_summary(analyze_result(abnormal, heart_rate=48.0, qtc_bazett=np.float32(492.4),
                                             qrs_axis=None))
    lines = summary.splitlines()
    assert lines[0] == "Rhythm: Sinus rhythm."
    assert lines[1] == "Measurements: heart rate 48 bpm, PR interval 160 ms, QRS duration 92 ms, QTc (Bazett) 492 ms."
    assert lines[2].endswith(f"{abnormal[0]}; {abnormal[1]}.")
    assert lines[3] == "Confidence of the automated analysis: 0.90 (0 to 1)."


def test_summary_of_a_normal_ecg_has_no_abnormalities_and_no_findings():
    summary = english_summary(analyze_result())
    assert "Abnormalities" not in summary
    assert "none of its 2 diagnostic labels is above its threshold" in summary
    assert "Atrial fibrillation" not in summary
    assert "Signal quality" not in summary  # good quality is not worth a patient's attention


def test_summary_lists_present_labels_by_probability_and_quality_problems():
    result = analyze_result()
    result["labels"] = [
        {"name": "Right bundle branch block", "probability": np.float32(0.64), "threshold": 0.5, "present": np.True_},
        {"name": "Atrial fibrillation", "probability": 0.93, "threshold": 0.5, "present": True},
        {"name": "Sinus bradycardia", "probability": 0.2, "threshold": 0.5, "present": False},
    ]
    result["signal_quality"] = {"grade": "Poor", "reasons": ["lead V1: baseline wander", "lead aVL: flat line"]}
    summary = english_summary(result)
    assert ("ECG-FM classifier findings: Atrial fibrillation (probability 0.93), "
            "Right bundle branch block (probability 0.64).") in summary
    assert "Sinus bradycardia" not in summary
    assert "Signal quality: Poor; problems: lead V1: baseline wander; lead aVL: flat line." in summary


def test_summary_caps_a_long_list_of_quality_problems():
    result = analyze_result()
    result["signal_quality"] = {"grade": "Unusable", "reasons": [f"lead {lead}: flat line" for lead in range(12)]}
    summary = english_summary(result)
    assert "lead 7: flat line; and 4 more." in summary and "lead 8:" not in summary


def test_acceptable_quality_without_reasons_is_still_mentioned():
    result = analyze_result()
    result["signal_quality"] = {"grade": "Acceptable", "score": 0.6, "reasons": []}
    assert "Signal quality: Acceptable." in english_summary(result)


def test_summary_falls_back_to_finding_names_without_labels():
    result = {"model": "ECG-FM", "task": "analyze", "processing_time": 0.2, "findings": ["Atrial flutter"]}
    assert english_summary(result) == "Findings: Atrial flutter."


def test_summary_of_pulse_text_keeps_the_text_and_adds_its_signal_analysis():
    result = {"model": "PULSE-7B", "task": "generate", "processing_time": 2.0,
              "generated_text": "  Atrial fibrillation with rapid ventricular response.  ",
              "signal_analysis": analyze_result(("Tachycardia (131 bpm > 100)",), heart_rate=131.0)}
    summary = english_summary(result)
    assert summary.startswith("ECG interpretation written by the PULSE-7B model:\n"
                              "Atrial fibrillation with rapid ventricular response.\n")
    assert "heart rate 131 bpm" in summary and "Tachycardia (131 bpm > 100)" in summary


def test_summary_of_tabular_predictions_counts_labels_and_anomalies():
    classified = {"model": "tabular", "task": "predict", "processing_time": 0.01, "model_id": "af_screen",
                  "predictions": [{"label": "AF", "probability": 0.8}, {"label": "normal", "probability": 0.7},
                                  {"label": "AF", "probability": 0.9}]}
    assert english_summary(classified) == ("Tabular model 'af_screen' predictions for 3 rows: AF in 2 rows, "
                                           "mean probability 0.85; normal in 1 row, mean probability 0.70.")
    single = {**classified, "predictions": [{"label": "normal", "probability": 0.97}]}
    assert english_summary(single) == "Tabular model 'af_screen' prediction: normal (probability 0.97)."
    anomalies = {"model": "tabular", "task": "predict", "processing_time": 0.01, "model_id": "beats_iforest",
                 "predictions": [{"anomaly": True, "score": -0.21}, {"anomaly": False, "score": 0.12},
                                 {"anomaly": np.True_, "score": np.float64(-0.08)}]}
    assert english_summary(anomalies) == "Tabular model 'beats_iforest': 2 of 3 rows flagged as anomalous."


def test_demo_results_say_so_first():
    summary = english_summary({**analyze_result(), "weights": "demo"})
    assert summary.startswith("IMPORTANT: these results come from demo weights")
    assert "not a diagnosis" in summary.splitlines()[0]


@pytest.mark.parametrize("result", [
    {"model": "PULSE-7B", "task": "generate", "processing_time": 0.1, "generated_text": "   ", "error": "OOM"},
    {"model": "ecg-renderer", "task": "render", "processing_time": 0.1, "image": "data:image/png;base64,"},
    {"model": "tabular", "task": "list_models", "processing_time": 0.0, "models": ["af_screen"]},
    {"model": "tabular", "task": "predict", "processing_time": 0.0, "model_id": "x", "predictions": []},
    {"model": "signal-quality", "task": "quality", "processing_time": 0.0, "signal_quality": {"grade": "Excellent"}},
    {"model": "ECG-FM", "task": "analyze", "processing_time": 0.0,
     "clinical_analysis": {"heart_rate": float("nan"), "physiological_parameters": {"qtc_bazett": None}}},
    {"model": "ECG-FM", "task": "features", "processing_time": 0.0, "weights": "demo", "embeddings": [[0.1]]},
])
def test_results_without_anything_to_comment_on_have_no_summary(result):
    assert english_summary(result) == ""


# --- statuses without a network call ----------------------------------------------------------------------

def annotated(commentator: Commentator, results: list, options: CommentaryOptions) -> list:
    originals = copy.deepcopy(results)
    commentator.annotate(results, options)
    for result, original in zip(results, originals):
        if isinstance(original, dict):
            assert {key: result[key] for key in original} == original
    return results


def test_disabled_and_missing_key_statuses(settings):
    results = annotated(Commentator(settings), [analyze_result()], parse_options({}, settings))
    assert results[0]["commentary_status"] == "disabled" and results[0]["comment_text"] is None
    assert results[0]["commentary_error"] == "no DeepSeek API key is configured on this endpoint (DEEPSEEK_API_KEY)"
    results = annotated(Commentator(settings), [analyze_result()],
                        parse_options({"enable_turkish_commentary": True}, settings))
    assert results[0]["commentary_status"] == "api_key_missing"
    assert "DEEPSEEK_API_KEY" in results[0]["commentary_error"]
    keyed = settings.replace(deepseek_api_key=API_KEY, deepseek_base_url=UNREACHABLE)
    results = annotated(Commentator(keyed), [analyze_result()],
                        parse_options({"enable_turkish_commentary": False}, keyed))
    assert results[0]["commentary_status"] == "disabled"
    assert results[0]["commentary_error"] == "disabled by the request (enable_turkish_commentary)"


def test_results_without_text_get_no_text_without_calling_deepseek(settings):
    keyed = settings.replace(deepseek_api_key=API_KEY, deepseek_base_url=UNREACHABLE)
    results = annotated(Commentator(keyed), [{"model": "tabular", "task": "list_models", "processing_time": 0.0}],
                        parse_options({"deepseek_timeout": 5}, keyed))
    assert results[0]["commentary_status"] == "no_text"


def test_an_unexpected_client_fault_never_reaches_the_caller(settings):
    class BrokenClient(DeepSeekClient):
        def chat(self, system_prompt, user_text, deadline):
            raise RuntimeError("bug in a future client version")

    keyed = settings.replace(deepseek_api_key=API_KEY)
    commentator = Commentator(keyed, client=BrokenClient(API_KEY, UNREACHABLE, "deepseek-v4-flash"))
    options = parse_options({"deepseek_timeout": 5}, keyed)
    results = annotated(commentator, [analyze_result(), "not a dict", None], options)
    assert results[0]["commentary_status"] == "failed"
    assert results[0]["commentary_error"] == "internal error while calling DeepSeek"
    assert results[1:] == ["not a dict", None]


def test_health_description_never_shows_the_key(settings):
    description = Commentator(settings.replace(deepseek_api_key=API_KEY)).describe()
    assert description == {"configured": True, "model": settings.deepseek_model, "host": "api.deepseek.com",
                           "circuit": {"state": "closed", "consecutive_failures": 0, "threshold": 3,
                                       "cooldown_s": 60.0}}
    # a key or path embedded in DEEPSEEK_BASE_URL never reaches the health report
    embedded = settings.replace(deepseek_api_key=API_KEY,
                                deepseek_base_url="https://user:sk-embedded123@proxy.example/v1?key=sk-q456")
    assert Commentator(embedded).describe()["host"] == "proxy.example"
    assert "sk-" not in str(Commentator(embedded).describe())
    assert Commentator(settings).describe()["configured"] is False
