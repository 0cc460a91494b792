"""The signal route: ECG-FM labels and embeddings, measurements, quality and rendering for recordings.

All recordings of a request that need ECG-FM go through the model together (one batched call per task);
measurements and quality are computed per recording and need no model at all.
"""

from __future__ import annotations

import time

from . import interpret, measure, quality, render
from .contract import SignalOptions, SignalTask
from .errors import ModelNotConfigured
from .files.compare import file_fields
from .signal import Recording
from .slots import ModelSlot
from utils import timed


def run_signal_tasks(tasks: list[SignalTask], options: SignalOptions, ecgfm: ModelSlot) -> list[dict]:
    """One result per task, in order, each with its own `processing_time` (a batch's model time is shared)."""
    results: list[dict | None] = [None] * len(tasks)
    for task_name in ("analyze", "features"):
        indices = [i for i, task in enumerate(tasks) if task.task == task_name]
        if not indices:
            continue
        started = time.perf_counter()
        runner = ecgfm.get()
        outputs = runner.predict(
            [tasks[i].recording for i in indices],
            classify=task_name == "analyze",
            return_features=task_name == "features" or options.return_features,
            return_segments=options.return_segments,
            pad_short=options.pad_short,
            thresholds=options.thresholds,
        )
        model_share = (time.perf_counter() - started) / len(indices)
        for i, output in zip(indices, outputs):
            with timed() as timer:
                results[i] = _ecgfm_result(task_name, tasks[i], output, options)
            results[i]["processing_time"] = round(timer.seconds + model_share, 4)
    for i, task in enumerate(tasks):
        if results[i] is None:
            with timed() as timer:
                results[i] = _model_free_result(task, options)
            results[i]["processing_time"] = round(timer.seconds, 4)
    return results  # type: ignore[return-value]


def analyze_or_measure(recording: Recording, options: SignalOptions, ecgfm: ModelSlot) -> dict:
    """The full analysis when ECG-FM is available, else the measurements alone (said in the result)."""
    try:
        return run_signal_tasks([SignalTask("analyze", recording)], options, ecgfm)[0]
    except ModelNotConfigured as error:
        result = run_signal_tasks([SignalTask("measure", recording)], options, ecgfm)[0]
        result["ecgfm_status"] = f"not used: {error}"
        return result


def _ecgfm_result(task_name: str, task: SignalTask, output: dict, options: SignalOptions) -> dict:
    result = {"model": "ECG-FM", "task": task_name, **output}
    measurements = None
    if task_name == "analyze":
        analysis, signal_quality = _measure_and_assess(task)
        measurements = analysis.measurements
        result["clinical_analysis"] = interpret.clinical_analysis(measurements, signal_quality, output, task.patient)
        result["signal_quality"] = signal_quality
        _add_median_beat(result, analysis, options)
    return _with_recording(result, task, measurements)


def _model_free_result(task: SignalTask, options: SignalOptions) -> dict:
    task_name, recording = task.task, task.recording
    measurements = None
    if task_name == "render":
        image = render.render_ecg(recording)
        result = {"model": "ecg-renderer", "task": "render", "image": render.png_data_uri(image),
                  "width": image.width, "height": image.height}
    elif task_name == "measure":
        analysis, signal_quality = _measure_and_assess(task)
        measurements = analysis.measurements
        result = {"model": "signal-measurements", "task": "measure", "signal_quality": signal_quality,
                  "measurements": measurements,
                  "clinical_analysis": interpret.clinical_analysis(measurements, signal_quality, None, task.patient)}
        _add_median_beat(result, analysis, options)
    else:
        signal_quality = quality.assess(recording.signal, recording.fs, recording.lead_names)
        result = {"model": "signal-quality", "task": "quality", "signal_quality": signal_quality}
    return _with_recording(result, task, measurements)


def _with_recording(result: dict, task: SignalTask, measurements: dict | None) -> dict:
    """The recording's description and, for a file, the cart's findings beside our measurements."""
    result["recording"] = describe_recording(task.recording)
    if task.source is not None:
        result["recording"]["format"] = task.source.format
        result.update(file_fields(task.source, measurements))
    return result


def _measure_and_assess(task: SignalTask) -> tuple[measure.Analysis, dict]:
    """Measurements and quality, on beats found once."""
    recording = task.recording
    analysis = measure.analyse(recording.signal, recording.fs, recording.lead_names, sex=task.patient.sex,
                               stated_filters=recording.filters, pacemaker=task.patient.pacemaker)
    return analysis, quality.assess(recording.signal, recording.fs, recording.lead_names, analysis.beats)


def _add_median_beat(result: dict, analysis: measure.Analysis, options: SignalOptions) -> None:
    if options.return_median_beat:
        result["median_beat"] = (measure.median_beat_payload(analysis.median_beat)
                                 if analysis.median_beat is not None else None)


def describe_recording(recording: Recording) -> dict:
    return {
        "fs": recording.fs,
        "duration_s": round(recording.duration_s, 3),
        "n_leads": int(recording.signal.shape[0]),
        "lead_names": list(recording.lead_names) if recording.lead_names else None,
        "notes": list(recording.notes),
    }
