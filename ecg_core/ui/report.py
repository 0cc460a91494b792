"""A one-page PDF report of one analysed recording: the ECG on paper (render.py), the measurements against
their normal ranges, the findings with their probabilities, signal quality and the commentary.

Drawn with matplotlib with TrueType (Type 42) fonts, so the report's text is real, searchable text.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np

from ..patient import Patient
from ..render import render_ecg
from ..signal import Recording
from .ranges import measurement_table, measurements_of

PAGE_INCHES = (11.69, 8.27)  # A4 landscape


REPORT_FORMATS = {"pdf": "application/pdf", "png": "image/png"}


def build_report(result: dict, recording: Recording, fmt: str = "pdf", patient: Patient = Patient()) -> bytes:
    """The report as PDF (real text) or as a PNG image of the same page (`REPORT_FORMATS`); ``patient``
    sets the QTc limits of the measurement table."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib.figure import Figure

    figure = Figure(figsize=PAGE_INCHES)
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.size": 7}):
        paper = figure.add_axes((0.0, 0.28, 0.6, 0.64))  # the paper's aspect fixes its width within this box
        paper.imshow(np.asarray(render_ecg(recording)), interpolation="antialiased")
        paper.set_axis_off()
        figure.text(0.02, 0.965, _title(result, recording), fontsize=11, weight="bold")
        if result.get("weights") == "demo":
            figure.text(0.02, 0.935, f"DEMO — {result.get('notice', 'demo weights')}", color="#b00020",
                        fontsize=9, weight="bold")
        _column(figure, 0.62, 0.9, "Findings", _finding_lines(result)[:44])
        _column(figure, 0.02, 0.26, "Measurements (ours | cart | normal)", _measurement_lines(result, patient)[:16])
        _column(figure, 0.36, 0.26, "Signal quality, cart statements, commentary", _quality_lines(result)[:16])
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, dpi=150, metadata={"Title": "ECG report"} if fmt == "pdf" else None)
    return buffer.getvalue()


def _title(result: dict, recording: Recording) -> str:
    described = result.get("recording", {})
    source = described.get("format") or "signal"
    return (f"ECG report — {source}, {recording.signal.shape[0]} leads, {recording.fs:g} Hz, "
            f"{recording.duration_s:.1f} s")


def _measurement_lines(result: dict, patient: Patient) -> list[str]:
    lines = []
    for row in measurement_table(result, patient):
        value = "—" if row["value"] is None else f"{row['value']:g}"
        cart = "" if row["cart"] is None else f" | cart {row['cart']:g}"
        flag = f"  [{row['flag'].upper()}]" if row["flag"] else ""
        lines.append(f"{row['label']}: {value} {row['unit']}{cart}  ({row['range'] or 'no fixed range'}){flag}")
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
        texts = [item if isinstance(item, str) else f"{item['finding']} (leads {', '.join(item.get('leads') or [])})"
                 for item in urgent]
        lines = [part for text in texts for part in textwrap.wrap(f"URGENT: {text}", 75)] + [""] + lines
    abnormalities = result.get("clinical_analysis", {}).get("abnormalities") or []
    wrapped = [part for text in abnormalities[:8] for part in textwrap.wrap(f"- {text}", 75)]
    return (lines or ["ECG-FM not run: " + str(result.get("ecgfm_status", "measurements only"))]) + \
        ([""] + wrapped if wrapped else [])


def _quality_lines(result: dict) -> list[str]:
    quality = result.get("signal_quality", {})
    leads = "  ".join(f"{lead['lead']} {lead['grade']}" + (f" ({', '.join(lead['problems'])})" if lead["problems"] else "")
                      for lead in quality.get("leads", ()))
    lines = [f"Overall: {quality.get('grade', '—')} ({quality.get('score', 0):.2f})", *textwrap.wrap(leads, 110)]
    left_out = measurements_of(result).get("leads_left_out") or {}
    if left_out:
        named = "; ".join(f"{lead} ({why})" for lead, why in left_out.items())
        lines += textwrap.wrap(f"Left out of the measurements: {named}", 110)
    bandwidth_limits = (measurements_of(result).get("bandwidth") or {}).get("limits") or []
    if bandwidth_limits:
        lines += textwrap.wrap("Bandwidth: " + "; ".join(bandwidth_limits), 110)
    statements = result.get("cart_statements") or []
    if statements:
        lines += textwrap.wrap("Cart statements: " + "; ".join(statements), 110)
    comment = result.get("comment_text")
    if comment:
        lines += ["Turkish commentary:", *textwrap.wrap(comment, 110)]
    else:
        lines.append(f"Commentary: {result.get('commentary_status', 'none')}")
    return lines


def _column(figure, x: float, top: float, heading: str, lines: list[str]) -> None:
    figure.text(x, top, heading, fontsize=8, weight="bold", va="top")
    figure.text(x, top - 0.025, "\n".join(lines), va="top", linespacing=1.35)
