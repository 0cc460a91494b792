"""A recording drawn as a standard 12-lead paper ECG (what PULSE was trained to read).

Paper: 25 mm/s, 10 mm/mV, 1 mm pink grid with darker 5 mm lines, at 8 px/mm on a 2200×1700 image (US
letter at ~200 dpi, which anyres tiles as a 2×2 grid plus the overview). Layout: the first 10 s in three rows
of four 2.5 s columns (I aVR V1 V4 / II aVL V2 V5 / III aVF V3 V6, each column the same time window), a
10 s lead II rhythm strip, a 1 mV calibration pulse per row. Limb leads that were not recorded are derived
(ecg_core.leads); leads that cannot be derived keep their label over blank paper. Without lead names each
lead gets its own 10 s strip.
"""

from __future__ import annotations

import base64
import io
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .leads import STANDARD_LEADS, to_twelve_lead
from .signal import Recording

WIDTH, HEIGHT = 2200, 1700  # pixels
PX_PER_MM = 8
PAPER_SPEED_MM_S = 25.0
GAIN_MM_MV = 10.0
WINDOW_S = 10.0  # time shown
COLUMN_S = 2.5
GRID_LEFT, GRID_TOP = 100, 140
GRID_WIDTH = int(WINDOW_S * PAPER_SPEED_MM_S * PX_PER_MM)  # 250 mm
GRID_HEIGHT = 180 * PX_PER_MM  # 180 mm: four 45 mm rows
LAYOUT_ROWS = (("I", "aVR", "V1", "V4"), ("II", "aVL", "V2", "V5"), ("III", "aVF", "V3", "V6"))
_MINOR, _MAJOR, _INK = (255, 212, 212), (238, 140, 140), (0, 0, 0)
_PX_PER_S = PAPER_SPEED_MM_S * PX_PER_MM
_PX_PER_MV = GAIN_MM_MV * PX_PER_MM

# A row: (label, millivolts or None for blank paper, start time in s) per segment.
Segment = tuple[str, "np.ndarray | None", float]


def render_ecg(recording: Recording) -> Image.Image:
    """RGB image of `recording` on ECG paper (first 10 s, baseline offset removed per lead)."""
    rows, notes = _layout(recording)
    image = _paper().copy()
    draw = ImageDraw.Draw(image)
    font = _font(28)
    pitch = GRID_HEIGHT / max(len(rows), len(LAYOUT_ROWS) + 1)  # a few unnamed leads keep normal rows
    for index, segments in enumerate(rows):
        baseline = GRID_TOP + pitch * (index + 0.5)
        _calibration_pulse(draw, baseline)
        for label, millivolts, start_s in segments:
            x0 = GRID_LEFT + start_s * _PX_PER_S
            if start_s > 0:  # column boundary tick, as printed by electrocardiographs
                draw.line([(x0, baseline - 30), (x0, baseline + 30)], fill=_INK, width=2)
            if millivolts is not None and millivolts.size > 1:
                _trace(draw, millivolts, recording.fs, x0, baseline, pitch)
            draw.text((x0 + 12, baseline - min(pitch * 0.45, 150)), label, fill=_INK, font=font)
    shown_s = min(recording.duration_s, WINDOW_S)
    header = (f"{PAPER_SPEED_MM_S:g} mm/s   {GAIN_MM_MV:g} mm/mV   {recording.fs:g} Hz   "
              f"{shown_s:.1f} s of {recording.duration_s:.1f} s")
    draw.text((GRID_LEFT, 60), header, fill=_INK, font=font)
    draw.text((GRID_LEFT, GRID_TOP + GRID_HEIGHT + 30), "   ".join(notes), fill=_INK, font=_font(24))
    return image


def png_data_uri(image: Image.Image) -> str:
    """``data:image/png;base64,...`` (fast zlib level: ECG paper compresses well anyway)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _layout(recording: Recording) -> tuple[list[list[Segment]], list[str]]:
    fs = recording.fs
    window = recording.signal[:, :int(round(WINDOW_S * fs))]
    window = window - np.median(window, axis=1, keepdims=True)  # paper shows no DC offset
    if recording.lead_names is None:
        return [[(f"lead {index + 1}", lead, 0.0)] for index, lead in enumerate(window)], ["lead names not given"]
    twelve = to_twelve_lead(window, recording.lead_names)
    leads = {name: twelve.signal[index] for index, name in enumerate(STANDARD_LEADS) if name not in twelve.missing}
    column = int(round(COLUMN_S * fs))
    rows = [[(name, _slice(leads.get(name), index * column, column), index * COLUMN_S)
             for index, name in enumerate(row)] for row in LAYOUT_ROWS]
    rhythm = "II" if "II" in leads else twelve.recorded[0]
    rows.append([(rhythm, leads[rhythm], 0.0)])
    notes = [f"{title}: {', '.join(names)}" for title, names in
             (("derived", twelve.derived), ("not recorded", twelve.missing)) if names]
    return rows, notes


def _slice(lead: np.ndarray | None, start: int, length: int) -> np.ndarray | None:
    return None if lead is None else lead[start:start + length]


def _trace(draw: ImageDraw.ImageDraw, millivolts: np.ndarray, fs: float, x0: float, baseline: float,
           pitch: float) -> None:
    x = x0 + np.arange(millivolts.size) / fs * _PX_PER_S
    # Tall complexes may cross into neighbouring rows as on real paper, but stay on the grid.
    y = np.clip(baseline - millivolts * _PX_PER_MV, GRID_TOP, GRID_TOP + GRID_HEIGHT)
    draw.line(np.column_stack([x, y]).ravel().tolist(), fill=_INK, width=2)


def _calibration_pulse(draw: ImageDraw.ImageDraw, baseline: float) -> None:
    """1 mV for 200 ms in the left margin."""
    left, width, height = GRID_LEFT - 60, 0.2 * _PX_PER_S, _PX_PER_MV
    draw.line([(left - 10, baseline), (left, baseline), (left, baseline - height), (left + width, baseline - height),
               (left + width, baseline), (left + width + 10, baseline)], fill=_INK, width=2)


@lru_cache(maxsize=1)
def _paper() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    right, bottom = GRID_LEFT + GRID_WIDTH, GRID_TOP + GRID_HEIGHT
    for major in (False, True):  # 1 mm lines first, 5 mm lines over them
        step = PX_PER_MM * (5 if major else 1)
        colour, width = (_MAJOR, 2) if major else (_MINOR, 1)
        for x in range(GRID_LEFT, right + 1, step):
            draw.line([(x, GRID_TOP), (x, bottom)], fill=colour, width=width)
        for y in range(GRID_TOP, bottom + 1, step):
            draw.line([(GRID_LEFT, y), (right, y)], fill=colour, width=width)
    return image


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)
