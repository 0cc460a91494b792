"""A one-page PDF report of one analysed recording: the ECG on paper (render.py), the measurements against
their normal ranges, the findings with their probabilities, signal quality and the commentary.

Drawn with matplotlib with TrueType (Type 42) fonts, so the report's text is real, searchable text.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np

from ..render import render_ecg
from ..signal import Recording
from .ranges import measurement_table, range_text

PAGE_INCHES = (11.69, 8.27)  # A4 landscape


def build_pdf(result: dict, recording: Recording) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    figure = Figure(figsize=PAGE_INCHES)
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.size": 7}):
        paper = figure.add_axes((0.02, 0.40, 0.96, 0.52))
        paper.imshow(np.asarray(render_ecg(recording)), interpolation="antialiased")
        paper.set_axis_off()
        figure.text(0.02, 0.965, _title(result, recording), fontsize=11, weight="bold")
        if result.get("weights") == "demo":
            figure.text(0.02, 0.935, f"DEMO — {result.get('notice', 'demo weights')}", color="#b00020",
                        fontsize=9, weight="bold")
        _column(figure, 0.02, "Measurements (ours | cart | normal)", _measurement_lines(result))
        _column(figure, 0.36, "Findings", _finding_lines(result))
        _column(figure, 0.66, "Signal quality and commentary", _quality_lines(result))
        buffer = io.BytesIO()
        with PdfPages(buffer, metadata={"Title": "ECG report", "Creator": "ecg_core"}) as pdf:
            pdf.savefig(figure)
    return buffer.getvalue()


def _title(result: dict, recording: Recording) -> str:
    described = result.get("recording", {})
    source = described.get("format") or "signal"
    return (f"ECG report — {source}, {recording.signal.shape[0]} leads, {recording.fs:g} Hz, "
            f"{recording.duration_s:.1f} s")


def _measurement_lines(result: dict) -> list[str]:
    lines = []
    for row in measurement_table(result):
        value = "—" if row["value"] is None else f"{row['value']:g}"
        cart = "" if row["cart"] is None else f" | cart {row['cart']:g}"
        flag = f"  [{row['flag'].upper()}]" if row["flag"] else ""
        lines.append(f"{row['label']}: {value} {row['unit']}{cart}  ({range_text(row) or 'no fixed range'}){flag}")
    analysis = result.get("clinical_analysis", {})
    if analysis:
        lines += ["", f"Rhythm: {analysis.get('rhythm')}", f"Axis: {analysis.get('axis_deviation')}"]
    return lines


def _finding_lines(result: dict) -> list[str]:
    labels = sorted(result.get("labels", ()), key=lambda label: -(label.get("probability") or 0))
    lines = [f"{'●' if label.get('present') else '○'} {label['name']}: {label['probability']:.2f}"
             for label in labels[:17]]
    urgent = result.get("clinical_analysis", {}).get("urgent_findings") or []
    if urgent:
        lines = ["URGENT: " + "; ".join(map(str, urgent)), ""] + lines
    abnormalities = result.get("clinical_analysis", {}).get("abnormalities") or []
    return (lines or ["ECG-FM not run: " + str(result.get("ecgfm_status", "measurements only"))]) + \
        ([""] + [f"- {text}" for text in abnormalities[:6]] if abnormalities else [])


def _quality_lines(result: dict) -> list[str]:
    quality = result.get("signal_quality", {})
    lines = [f"Overall: {quality.get('grade', '—')} ({quality.get('score', 0):.2f})"]
    lines += [f"{lead['lead']}: {lead['grade']}" + (f" ({', '.join(lead['problems'])})" if lead["problems"] else "")
              for lead in quality.get("leads", ())]
    statements = result.get("cart_statements") or []
    if statements:
        lines += ["", "Cart statements:"] + [f"- {text}" for text in statements[:5]]
    comment = result.get("comment_text")
    lines += ["", "Turkish commentary:" if comment else f"Commentary: {result.get('commentary_status', 'none')}"]
    if comment:
        lines += textwrap.wrap(comment, 70)[:18]
    return lines


def _column(figure, x: float, heading: str, lines: list[str]) -> None:
    figure.text(x, 0.37, heading, fontsize=8, weight="bold", va="top")
    figure.text(x, 0.345, "\n".join(lines[:34]), va="top", linespacing=1.35)
