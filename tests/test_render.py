"""The paper ECG renderer: scale (25 mm/s, 10 mm/mV), layout, derived and missing leads, PNG data URI."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from ecg_core import render
from ecg_core.leads import STANDARD_LEADS, canonical_lead_name
from ecg_core.render import png_data_uri, render_ecg
from ecg_core.signal import Recording

FS = 500.0
ROW_PITCH = render.GRID_HEIGHT / 4
PX_PER_S = 25 * 8
PX_PER_MV = 10 * 8


def baseline_y(row: int) -> float:
    return render.GRID_TOP + ROW_PITCH * (row + 0.5)


def x_at(seconds: float) -> float:
    return render.GRID_LEFT + seconds * PX_PER_S


def dark(image: Image.Image, x: float, y_from: float, y_to: float) -> bool:
    """Is there ink (a trace pixel) in column x between the two heights?"""
    column = np.asarray(image)[int(min(y_from, y_to)):int(max(y_from, y_to)) + 1, int(round(x))]
    return bool((column.max(axis=1) < 80).any())


def pulse_recording(names: tuple[str, ...], pulse_leads: dict[str, float]) -> Recording:
    """10 s flat leads; the named ones carry a 1 mV × 0.4 s box starting at the given second."""
    signal = np.zeros((len(names), int(10 * FS)))
    for name, start in pulse_leads.items():
        begin = int(start * FS)
        signal[names.index(name), begin:begin + int(0.4 * FS)] = 1.0
    return Recording(signal=signal, fs=FS, lead_names=names)


def test_standard_paper_size_and_grid():
    image = render_ecg(pulse_recording(STANDARD_LEADS, {}))
    assert image.size == (2200, 1700) and image.mode == "RGB"
    pixels = np.asarray(image)
    red, green = pixels[..., 0].astype(int), pixels[..., 1].astype(int)
    pink = (red > 200) & (green < 225) & (red - green > 15)
    assert pink[render.GRID_TOP:render.GRID_TOP + render.GRID_HEIGHT].mean() > 0.1  # a grid, not blank
    # 5 mm (40 px) major lines are darker than the 1 mm lines between them.
    y = render.GRID_TOP + 12
    assert green[y, render.GRID_LEFT + 40] < green[y, render.GRID_LEFT + 8] < 255


def test_amplitude_and_time_scale():
    """A 1 mV box in V2 at 6.0 s: 80 px (10 mm) tall, starting 1200 px (6 s × 25 mm/s) from the left."""
    image = render_ecg(pulse_recording(STANDARD_LEADS, {"V2": 6.0}))
    row = 1  # II aVL V2 V5
    top, base = baseline_y(row) - PX_PER_MV, baseline_y(row)
    assert dark(image, x_at(6.2), top - 2, top + 2)  # the top of the box, 1 mV up
    assert not dark(image, x_at(6.2), base - 3, base + 3)  # the trace left the baseline there
    assert dark(image, x_at(5.8), base - 2, base + 2) and not dark(image, x_at(5.8), top - 2, top + 2)
    assert not dark(image, x_at(6.2), baseline_y(0) - PX_PER_MV - 2, baseline_y(0) - PX_PER_MV + 2)


def test_each_column_shows_its_own_time_window_and_the_rhythm_strip_all_ten_seconds():
    image = render_ecg(pulse_recording(STANDARD_LEADS, {"II": 1.0, "V4": 1.0}))
    box_top = lambda row: (baseline_y(row) - PX_PER_MV - 2, baseline_y(row) - PX_PER_MV + 2)
    assert dark(image, x_at(1.2), *box_top(1))  # lead II, column 1 (0-2.5 s)
    assert dark(image, x_at(1.2), *box_top(3))  # lead II rhythm strip
    assert not dark(image, x_at(8.7), *box_top(0))  # V4 is shown for 7.5-10 s only: its 1 s box is not drawn


def test_limb_leads_are_derived_and_missing_leads_left_blank():
    # I has a 1 mV box at 3 s and II is flat, so aVR = -(I + II)/2 shows -0.5 mV in its 2.5-5 s column.
    image = render_ecg(pulse_recording(("I", "II", "V2"), {"I": 3.0}))
    avr_box = baseline_y(0) + PX_PER_MV / 2
    assert dark(image, x_at(3.2), avr_box - 2, avr_box + 2)
    assert not dark(image, x_at(8.0), baseline_y(1) - 20, baseline_y(1) + 20)  # V5 not recorded: blank paper
    assert dark(image, x_at(6.0), baseline_y(1) - 2, baseline_y(1) + 2)  # V2 recorded: a flat trace


def test_baseline_offset_is_removed_and_real_ecg_renders():
    from pydicom import examples

    waveform = examples.waveform
    sequence = waveform.WaveformSequence[0]
    names = tuple(canonical_lead_name(channel.ChannelSourceSequence[0].CodeMeaning.split("(")[0])
                  for channel in sequence.ChannelDefinitionSequence)
    assert names == STANDARD_LEADS
    signal = waveform.waveform_array(0).T / 1000.0 + 3.0  # µV → mV, plus a 3 mV DC offset
    image = render_ecg(Recording(signal=signal, fs=float(sequence.SamplingFrequency), lead_names=names))
    for row in range(4):  # each trace is near its own baseline despite the offset
        assert dark(image, x_at(9.9), baseline_y(row) - 40, baseline_y(row) + 40)


def test_unnamed_leads_get_one_strip_each():
    recording = Recording(signal=np.zeros((2, 5000)), fs=FS, lead_names=None)
    image = render_ecg(recording)
    pitch = render.GRID_HEIGHT / 4  # at least four rows, so single leads are not stretched
    for row in range(2):
        assert dark(image, x_at(5.0), render.GRID_TOP + pitch * (row + 0.5) - 2, render.GRID_TOP + pitch * (row + 0.5) + 2)


def test_png_data_uri_round_trip():
    image = render_ecg(pulse_recording(STANDARD_LEADS, {"II": 2.0}))
    uri = png_data_uri(image)
    assert uri.startswith("data:image/png;base64,")
    decoded = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert decoded.format == "PNG" and np.array_equal(np.asarray(decoded.convert("RGB")), np.asarray(image))


@pytest.mark.parametrize("seconds", [3.0, 30.0])
def test_short_and_long_recordings(seconds):
    recording = Recording(signal=np.zeros((12, int(seconds * FS))), fs=FS, lead_names=STANDARD_LEADS)
    image = render_ecg(recording)
    end = min(seconds, 10.0)
    assert dark(image, x_at(end - 0.1), baseline_y(3) - 2, baseline_y(3) + 2)
    if seconds < 10:
        assert not dark(image, x_at(end + 1.0), baseline_y(3) - 2, baseline_y(3) + 2)
