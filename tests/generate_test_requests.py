"""Writes ../test_requests.json: one example request per route and parameter family, plus bad requests.

The signals are a real 12-lead ECG (pydicom's `waveform_ecg.dcm`, recorded at 1000 Hz in µV) cut to 5.2 s and
resampled to 250 Hz so the file stays readable. The ECG file examples (``inputs.file``) are one small file
of each format family: real cart files from ../shared/fixtures (SCP-ECG, Philips XML, a LUDB WFDB record
zipped), pydicom's DICOM cut to 3 s, and EDF and CSV written from the same real ECG.
Run: ``python tests/generate_test_requests.py``.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import zipfile

import edfio
import numpy as np
from PIL import Image, ImageDraw
from pydicom import dcmread, examples
from scipy.signal import resample_poly

OUTPUT = Path(__file__).resolve().parents[1] / "test_requests.json"
LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
FS = 250
URL_IMAGE = "https://example.com/ecg/12lead_1100x850.png"  # the tests serve an image here on loopback
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def real_ecg_mv() -> np.ndarray:
    """(12, 1300) mV at 250 Hz from the pydicom example (µV at 1000 Hz)."""
    microvolts = examples.waveform.waveform_array(0).T  # (12, 10000)
    resampled = resample_poly(microvolts[:, :5200], up=1, down=4, axis=1) / 1000.0
    return np.round(resampled, 3)


def strip_png(lead_mv: np.ndarray) -> bytes:
    """A small paper-strip picture of one lead (for the base64 / data-URI examples)."""
    width, height, px_per_mm = 520, 200, 4
    image = Image.new("RGB", (width, height), (255, 245, 245))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, px_per_mm * 5):
        draw.line([(x, 0), (x, height)], fill=(240, 170, 170))
    for y in range(0, height, px_per_mm * 5):
        draw.line([(0, y), (width, y)], fill=(240, 170, 170))
    x = np.arange(lead_mv.size) / FS * 25 * px_per_mm  # 25 mm/s
    y = height / 2 - lead_mv * 10 * px_per_mm  # 10 mm/mV
    keep = x < width
    draw.line(list(zip(x[keep].tolist(), y[keep].tolist())), fill=(0, 0, 0), width=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def short_dicom(seconds: int = 3) -> bytes:
    """pydicom's 12-lead example, its rhythm cut to the first seconds, without the median-beat group."""
    dataset = dcmread(examples.get_path("waveform"))
    rhythm = dataset.WaveformSequence[0]
    keep = int(seconds * rhythm.SamplingFrequency)
    rhythm.WaveformData = rhythm.WaveformData[: keep * rhythm.NumberOfWaveformChannels * 2]  # 16-bit samples
    rhythm.NumberOfWaveformSamples = keep
    del dataset.WaveformSequence[1:]
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


def wfdb_zip(record: Path) -> bytes:
    """The record's header and signal zipped, dated 1980-01-01 (not the files' own times) so the output is the same
    wherever it is generated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for suffix in (".hea", ".dat"):
            archive.writestr(zipfile.ZipInfo(record.name + suffix, date_time=(1980, 1, 1, 0, 0, 0)),
                             record.with_suffix(suffix).read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def edf_file(ecg: np.ndarray) -> bytes:
    signals = [edfio.EdfSignal(row * 1000, FS, label=f"ECG {name}", physical_dimension="uV",
                               physical_range=(-10_000, 10_000)) for row, name in zip(ecg, LEADS)]
    buffer = io.BytesIO()
    edfio.Edf(signals, data_record_duration=0.2).write(buffer)
    return buffer.getvalue()


def csv_file(ecg: np.ndarray, seconds: float = 2.6) -> bytes:
    """The 8 leads carts store (I, II, V1-V6) with a time column in seconds."""
    stored = [LEADS.index(name) for name in ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")]
    rows = [",".join(["time", *(LEADS[i] for i in stored)])]
    for index in range(int(seconds * FS)):
        rows.append(",".join([f"{index / FS:.3f}", *(f"{ecg[i, index]:.3f}" for i in stored)]))
    return ("\n".join(rows) + "\n").encode()


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def file_examples(ecg: np.ndarray, entry) -> list[dict]:
    scp = (FIXTURES / "formats" / "scp" / "welchallyn_simulator_2008.scp").read_bytes()
    philips = (FIXTURES / "formats" / "philips" / "heartstart_mrx_simulator.xml").read_bytes()
    return [
        entry("file_dicom", "A DICOM 12-lead waveform (data URI) with the cart's measurements beside ours.",
              {"file": "data:application/dicom;base64," + encoded(short_dicom()), "task": "measure"}),
        entry("file_philips_xml", "Philips XML from a HeartStart MRx: cart measurements and statements.",
              {"file": encoded(philips), "task": "measure"}),
        entry("file_scp", "SCP-ECG from a Welch Allyn cart (8 stored leads; III, aVR, aVL, aVF derived).",
              {"file": encoded(scp), "format": "scp"}),
        entry("file_wfdb_zip", "A WFDB record (LUDB 10: .hea and .dat in a zip).",
              {"file": encoded(wfdb_zip(FIXTURES / "ludb" / "10")), "task": "quality"}),
        entry("file_edf", "An EDF file with 12 ECG signals (labels 'ECG I' ...).",
              {"file": encoded(edf_file(ecg)), "task": "measure"}),
        entry("file_csv", "CSV with a time column (seconds) and a column per stored lead (I, II, V1-V6).",
              {"file": encoded(csv_file(ecg)), "task": "quality"}),
        entry("batch_files", "A batch: a file and a JSON signal in one request.",
              [{"file": encoded(csv_file(ecg)), "task": "quality"}, {"signal": ecg[:2].tolist(), "fs": FS,
                                                           "lead_names": ["I", "II"], "task": "quality"}]),
        entry("bad_file_truncated", "A truncated SCP-ECG file.", {"file": encoded(scp[:4000])},
              expect_error="inputs.file: scp:"),
        entry("bad_file_mislabelled", "An SCP-ECG file labelled as DICOM.",
              {"file": encoded(scp), "format": "dicom"}, expect_error="content is scp, not dicom"),
    ]


def build() -> list[dict]:
    ecg = real_ecg_mv()
    signal = ecg.tolist()
    limb = {"signal": ecg[:2].tolist(), "fs": FS, "lead_names": ["I", "II"]}
    twelve = {"signal": signal, "fs": FS, "lead_names": LEADS}
    png = strip_png(ecg[1])
    b64 = base64.b64encode(png).decode()
    demo_rows = [[72.0, 92.0, 380.0, 416.0, 28.0], [128.0, 146.0, 340.0, 497.0, 35.0]]

    def entry(name, description, inputs, parameters=None, expect_error=None):
        request = {"inputs": inputs}
        if parameters is not None:
            request["parameters"] = parameters
        item = {"name": name, "description": description, "request": request}
        if expect_error:
            item["expect_error"] = expect_error
        return item

    return [
        entry("analyze_12lead", "Full analysis of a real 12-lead ECG: ECG-FM labels, measurements, quality.",
              twelve),
        entry("analyze_with_features", "Analysis plus the ECG-FM embedding and per-segment outputs.",
              limb, {"return_features": True, "return_segments": True, "pad_short": False}),
        entry("analyze_thresholds", "Analysis with a stricter decision threshold for atrial fibrillation.",
              limb, {"thresholds": {"Atrial fibrillation": 0.7}}),
        entry("analyze_samples_by_leads_uv", "Samples × leads in microvolts; lead names decide the orientation.",
              {"signal": (ecg[:2].T * 1000).round(0).tolist(), "fs": FS, "lead_names": ["I", "II"], "units": "uV"}),
        entry("features", "ECG-FM embedding only (two limb leads; the other limb leads are derived).",
              {**limb, "task": "features"}),
        entry("quality", "Signal quality only (no model).", {**twelve, "task": "quality"}),
        entry("measure", "Measurements only (HR, PR, QRS, QT, QTc, axes), no model.", {**twelve, "task": "measure"}),
        entry("measure_median_beat", "Measurements with the median beat and its wave boundaries; the patient's age "
              "and sex choose the ST-elevation thresholds of V2-V3 (never echoed back).",
              {**twelve, "task": "measure", "age": 62, "sex": "F"}, {"return_median_beat": True}),
        entry("measure_stated_pacemaker", "Measurements of a patient stated to have a pacemaker: where no pacing spike "
              "is found (a bipolar pacemaker's can be too small to see), measurements.pacing.note and the clinical "
              "notes say so; the values are as without it.", {**twelve, "task": "measure", "pacemaker": True}),
        entry("render", "Render the signal as a standard 12-lead paper ECG (PNG data URI).", {**twelve, "task": "render"}),
        entry("batch_signals", "Two recordings in one request: one result per item, in order.",
              [{**limb, "task": "measure"}, {**limb, "task": "quality"}]),
        entry("pulse_image_url", "PULSE-7B on an ECG image fetched from an https URL.",
              {"query": "What are the main findings in this ECG?", "image": URL_IMAGE},
              {"max_new_tokens": 32, "temperature": 0}),
        entry("pulse_image_base64", "PULSE-7B on a bare base64 PNG (seed clients' image_base64 alias).",
              {"query": "Is the rhythm regular?", "image_base64": b64}, {"max_new_tokens": 24}),
        entry("pulse_image_data_uri", "PULSE-7B on a data-URI image with sampling parameters and a stop string.",
              {"query": "Describe this lead II strip.", "image": f"data:image/png;base64,{b64}"},
              {"max_new_tokens": 24, "do_sample": True, "temperature": 0.7, "top_p": 0.9, "top_k": 40,
               "repetition_penalty": 1.1, "stop": ["\n\n"], "seed": 7}),
        entry("pulse_text_only", "A text question without an image (inputs as a plain string).",
              "What does a prolonged QT interval mean?", {"max_new_tokens": 24}),
        entry("pulse_multi_turn", "A follow-up question with the earlier turns as history.",
              {"query": "And is that dangerous?", "history": [
                  {"role": "user", "content": "What is a first-degree AV block?"},
                  {"role": "assistant", "content": "A PR interval longer than 200 ms."}]},
              {"max_new_tokens": 24, "return_full_text": False}),
        entry("signal_to_pulse", "Render the signal, ask PULSE about the picture, and analyse the signal too.",
              {**limb, "query": "What is the rhythm?"}, {"max_new_tokens": 24}),
        entry("tabular_predict_rows", "Demo tabular model on feature rows "
              "(heart_rate, qrs_duration, qt_interval, qtc_bazett, rr_rmssd).",
              {"model_id": "demo", "X": demo_rows}),
        entry("tabular_predict_named_rows", "Rows as objects keyed by feature name.",
              {"model_id": "demo", "features": [dict(zip(
                  ["heart_rate", "qrs_duration", "qt_interval", "qtc_bazett", "rr_rmssd"], demo_rows[0]))]}),
        entry("tabular_predict_signal", "Demo tabular model with its features computed from the raw signal.",
              {"model_id": "demo", **limb}),
        entry("list_models", "The tabular model registry.", {"task": "list_models"}),
        entry("commentary_on", "Ask for the Turkish commentary with a 20 s deadline "
              "(status api_key_missing when no DeepSeek key is configured).",
              {**limb, "task": "measure"}, {"enable_turkish_commentary": True, "deepseek_timeout": 20}),
        entry("commentary_off", "Turn the Turkish commentary off.", "Is ST elevation an emergency?",
              {"enable_turkish_commentary": False, "max_new_tokens": 16}),
        entry("bad_ragged_signal", "Leads of different lengths.",
              {"signal": [signal[0], signal[1][:-10]], "fs": FS}, expect_error="leads of equal length"),
        entry("bad_fs", "A sampling rate of zero.", {**limb, "fs": 0}, expect_error="inputs.fs"),
        entry("bad_task", "An unknown task.", {**limb, "task": "diagnose"}, expect_error="unknown task"),
        entry("bad_sex", "A sex the ST-elevation criteria do not know.", {**limb, "task": "measure", "sex": "unknown"},
              expect_error="inputs.sex"),
        entry("bad_pacemaker", "A pacemaker that is not true or false.",
              {**limb, "task": "measure", "pacemaker": "yes"}, expect_error="inputs.pacemaker"),
        entry("bad_mixed_routes", "An image together with feature rows.",
              {"image": b64, "X": demo_rows, "model_id": "demo"}, expect_error="cannot be combined"),
        entry("bad_temperature", "A negative temperature.", "Hello?", {"temperature": -0.5},
              expect_error="parameters.temperature"),
        entry("bad_feature_count", "A row with the wrong number of features.",
              {"model_id": "demo", "X": [[72.0, 92.0]]}, expect_error="inputs.X"),
        *file_examples(ecg, entry),
    ]


if __name__ == "__main__":
    # One entry per line: the signals stay on their line, the entries stay easy to find.
    lines = ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in build())
    OUTPUT.write_text(f"[\n{lines}\n]\n")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size // 1024} KiB)")
