"""Turkish, patient-friendly commentary on every route's results, written by DeepSeek.

Each result is summarised in compact English (PULSE text, ECG-FM findings, out-of-range measurements,
signal-quality problems, tabular predictions); the summaries go to DeepSeek concurrently under one overall
deadline, and the Turkish replies are added to the results. The commentary never costs the primary result:
`Commentator.annotate` only adds its own keys and never raises. After DEEPSEEK_BREAKER_FAILURES failed calls in
a row DeepSeek is not called for DEEPSEEK_BREAKER_COOLDOWN_S (status "unavailable" with the reason), then
one call probes it (breaker.py).
"""

from __future__ import annotations

import logging
import math
import numbers
import reprlib
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from cachetools import TTLCache

from utils import ChatReply, DeepSeekClient, DeepSeekError

from .breaker import CircuitBreaker
from .errors import InputError
from .payload import is_finite_number
from .settings import Settings

logger = logging.getLogger(__name__)

PARAMETER_NAMES = frozenset({"enable_turkish_commentary", "deepseek_timeout"})
DEFAULT_TIMEOUT_S = 30.0
MIN_TIMEOUT_S = 5.0
MAX_TIMEOUT_S = 120.0
MAX_WORKERS = 4  # concurrent DeepSeek calls per request
DEADLINE_GRACE_S = 0.5  # how long annotate waits past the deadline for calls that are finishing anyway
CACHE_SIZE = 256  # distinct English summaries remembered
CACHE_TTL_S = 600.0
MAX_SUMMARY_CHARS = 6000
MAX_LISTED = 8  # findings, label groups or quality problems named in one summary

SYSTEM_PROMPT = (
    "You are an experienced cardiologist explaining ECG results to a patient in plain, warm Turkish that a "
    "Turkish clinician can also rely on. You receive an English summary of an automated ECG analysis.\n"
    "Write only in Turkish:\n"
    "1. What the findings and any out-of-range measurements mean, in everyday words; explain medical terms.\n"
    "2. How urgent they are: routine follow-up, see a doctor soon, or seek emergency care now.\n"
    "3. When to see a doctor, and the symptoms that need emergency help at once (chest pain, fainting, "
    "severe shortness of breath, a very fast or very slow pulse): call 112.\n"
    "Use only what the summary states: never invent findings, diagnoses, measurements or treatments. If the "
    "summary says the results come from demo weights, say first and plainly that this is a demonstration "
    "output, not a medical diagnosis. If the signal quality is poor, say the ECG may need to be repeated.\n"
    "Keep it under 250 words, without tables. End with one sentence saying that this automated commentary "
    "does not replace an examination by a doctor."
)
DEMO_NOTE = ("IMPORTANT: these results come from demo weights (placeholder models for demonstration), "
             "not from a validated model; they are not a diagnosis.")

# Measurements named in the summary (ecg_core.interpret already lists the out-of-range ones as abnormalities).
MEASUREMENTS_SHOWN = (
    # (key in physiological_parameters, name, unit)
    ("heart_rate", "heart rate", "bpm"),
    ("pr_interval", "PR interval", "ms"),
    ("qrs_duration", "QRS duration", "ms"),
    ("qtc_bazett", "QTc (Bazett)", "ms"),
    ("qrs_axis", "QRS axis", "degrees"),
)
GOOD_QUALITY_GRADES = frozenset({"good", "excellent"})


@dataclass(frozen=True)
class CommentaryOptions:
    enabled: bool
    timeout_s: float  # overall deadline for the whole batch's commentary, retries included


def parse_options(parameters: dict, settings: Settings) -> CommentaryOptions:
    """Commentary options from the request's `parameters`; enabled by default iff a DeepSeek key is set."""
    enabled = parameters.get("enable_turkish_commentary")
    if enabled is None:
        enabled = bool(settings.deepseek_api_key)
    if not isinstance(enabled, bool):
        raise InputError("parameters.enable_turkish_commentary", f"expected true or false, got {reprlib.repr(enabled)}")
    timeout_s = parameters.get("deepseek_timeout")
    if timeout_s is None:
        timeout_s = DEFAULT_TIMEOUT_S
    if (isinstance(timeout_s, bool) or not is_finite_number(timeout_s)
            or not MIN_TIMEOUT_S <= timeout_s <= MAX_TIMEOUT_S):
        raise InputError("parameters.deepseek_timeout",
                         f"expected a number of seconds from {MIN_TIMEOUT_S:g} to {MAX_TIMEOUT_S:g}, "
                         f"got {reprlib.repr(timeout_s)}")
    return CommentaryOptions(enabled=enabled, timeout_s=float(timeout_s))


class Commentator:
    """Adds `comment_text`, `commentary_model`, `commentary_tokens`, `commentary_status` (and
    `commentary_error` unless successful) to result dicts. One per engine; safe to share between threads."""

    def __init__(self, settings: Settings, client: DeepSeekClient | None = None):
        self.model = client.model if client is not None else settings.deepseek_model
        self._host = urlsplit(settings.deepseek_base_url).hostname or "?"  # never the URL: it may embed a key
        if client is None and settings.deepseek_api_key:
            client = DeepSeekClient(settings.deepseek_api_key, settings.deepseek_base_url, settings.deepseek_model,
                                    max_connections=MAX_WORKERS)
        self._client = client
        self._breaker = CircuitBreaker("DeepSeek", settings.deepseek_breaker_failures,
                                       settings.deepseek_breaker_cooldown_s)
        self._cache: TTLCache[str, ChatReply] = TTLCache(maxsize=CACHE_SIZE, ttl=CACHE_TTL_S)
        self._cache_lock = threading.Lock()

    def describe(self) -> dict:
        """For the health report: whether commentary can run, and against which model (never the key)."""
        return {"configured": self._client is not None, "model": self.model, "host": self._host,
                "circuit": self._breaker.describe()}

    def annotate(self, results: list[dict], options: CommentaryOptions) -> None:
        """Add the commentary keys to each result in place, within `options.timeout_s`. Never raises."""
        started = time.monotonic()
        try:
            fields = self._fields_for(results, options, deadline=started + options.timeout_s)
        except Exception:  # the commentary must never cost the primary result
            logger.exception("Turkish commentary failed unexpectedly")
            fields = [_fields("failed", error="internal error in the commentary step", model=self.model)] * len(results)
        for result, extra in zip(results, fields):
            if isinstance(result, dict):
                result.update(extra)
        statuses = Counter(extra["commentary_status"] for extra in fields)
        logger.info("Turkish commentary for %d results in %.2f s: %s", len(results), time.monotonic() - started,
                    dict(statuses))

    def _fields_for(self, results: list[dict], options: CommentaryOptions, deadline: float) -> list[dict]:
        if not options.enabled:  # by the request, or by default because no key is configured
            reason = ("disabled by the request (enable_turkish_commentary)" if self._client is not None
                      else "no DeepSeek API key is configured on this endpoint (DEEPSEEK_API_KEY)")
            return [_fields("disabled", error=reason)] * len(results)
        if self._client is None:
            return [_fields("api_key_missing", error="DEEPSEEK_API_KEY is not set on this endpoint")] * len(results)
        summaries = [english_summary(result) if isinstance(result, dict) else "" for result in results]
        replies = self._replies([summary for summary in dict.fromkeys(summaries) if summary], deadline)
        fields = []
        for summary in summaries:
            reply = replies.get(summary)
            if not summary:
                fields.append(_fields("no_text", error="nothing in this result to comment on"))
            elif isinstance(reply, ChatReply):
                fields.append(_fields("success", text=reply.text, model=reply.model, tokens=reply.total_tokens))
            else:
                fields.append(_fields(reply.status, error=str(reply), model=self.model))
        return fields

    def _replies(self, summaries: list[str], deadline: float) -> dict[str, ChatReply | DeepSeekError]:
        """One reply (or error) per distinct summary: cached ones at once, the rest concurrently."""
        with self._cache_lock:
            replies: dict[str, ChatReply | DeepSeekError] = {s: self._cache[s] for s in summaries if s in self._cache}
        pending = []
        for summary in summaries:
            if summary in replies:
                continue
            refusal = self._breaker.refusal()  # an outage: answer at once instead of waiting for the deadline
            if refusal is None:
                pending.append(summary)
            else:
                replies[summary] = DeepSeekError("unavailable", refusal)
        if not pending:
            return replies
        pool = ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(pending)), thread_name_prefix="deepseek")
        try:
            futures = {pool.submit(self._client.chat, SYSTEM_PROMPT, summary, deadline): summary
                       for summary in pending}
            # The client keeps to the deadline itself; this bound also covers what sockets cannot (DNS lookups).
            wait(futures, timeout=max(0.0, deadline - time.monotonic()) + DEADLINE_GRACE_S)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        for future, summary in futures.items():
            replies[summary] = _outcome(future)
            self._breaker.record(isinstance(replies[summary], ChatReply), str(replies[summary]))
            if isinstance(replies[summary], ChatReply):
                with self._cache_lock:
                    self._cache[summary] = replies[summary]
        return replies


def _outcome(future) -> ChatReply | DeepSeekError:
    if not future.done() or future.cancelled():  # still running, or still queued, at the deadline
        return DeepSeekError("failed", "DeepSeek did not answer before the deadline")
    error = future.exception()
    if error is None:
        return future.result()
    if isinstance(error, DeepSeekError):
        return error
    logger.error("DeepSeek call failed unexpectedly: %s", type(error).__name__)
    return DeepSeekError("failed", "internal error while calling DeepSeek")


def _fields(status: str, *, text: str | None = None, model: str | None = None, tokens: int = 0,
            error: str | None = None) -> dict:
    fields = {"comment_text": text, "commentary_model": model, "commentary_tokens": tokens,
              "commentary_status": status}
    if status != "success":
        fields["commentary_error"] = error
    return fields


# --- the English summary sent to DeepSeek -----------------------------------------------------------------

def english_summary(result: dict) -> str:
    """Compact English description of one result for the commentator; "" when there is nothing to say."""
    nested = result.get("signal_analysis")  # PULSE results on a recording carry the signal analysis too
    parts = [_pulse_part(result), _signal_part(result),
             _signal_part(nested) if isinstance(nested, dict) else "", _tabular_part(result)]
    body = "\n".join(part for part in parts if part)
    if not body:
        return ""
    if result.get("weights") == "demo":
        body = f"{DEMO_NOTE}\n{body}"
    return body[:MAX_SUMMARY_CHARS]


def _pulse_part(result: dict) -> str:
    text = result.get("generated_text")
    if not isinstance(text, str) or not text.strip():
        return ""
    return f"ECG interpretation written by the {result.get('model') or 'PULSE-7B'} model:\n{text.strip()}"


def _signal_part(result: dict) -> str:
    analysis = result.get("clinical_analysis")
    analysis = analysis if isinstance(analysis, dict) else {}
    lines = [*_analysis_lines(analysis), *_finding_lines(result), *_quality_lines(result.get("signal_quality"))]
    return "\n".join(lines)


def _analysis_lines(analysis: dict) -> list[str]:
    """Rhythm, measurements and the abnormalities `ecg_core.interpret` found (out-of-range values included)."""
    lines = []
    rhythm = analysis.get("rhythm")
    if isinstance(rhythm, str) and rhythm.strip():
        lines.append(f"Rhythm: {rhythm.strip()}.")
    parameters = analysis.get("physiological_parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    measured = [(name, _number(parameters.get(key)), unit) for key, name, unit in MEASUREMENTS_SHOWN]
    shown = [f"{name} {value:.0f} {unit}" for name, value, unit in measured if value is not None]
    if shown:
        lines.append(f"Measurements: {', '.join(shown)}.")
    abnormalities = [item.strip() for item in _list(analysis.get("abnormalities"))
                     if isinstance(item, str) and item.strip()]
    if abnormalities:
        lines.append(f"Abnormalities (values outside the usual adult ranges and model findings): "
                     f"{'; '.join(abnormalities)}.")
    confidence = _number(analysis.get("confidence"))
    if lines and confidence is not None:
        lines.append(f"Confidence of the automated analysis: {confidence:.2f} (0 to 1).")
    return lines


def _finding_lines(result: dict) -> list[str]:
    labels = [label for label in _list(result.get("labels")) if isinstance(label, dict)]
    if labels:
        present = [label for label in labels if _is_true(label.get("present")) and isinstance(label.get("name"), str)]
        if not present:
            return [f"ECG-FM classifier: none of its {len(labels)} diagnostic labels is above its threshold."]
        present.sort(key=lambda label: _number(label.get("probability")) or 0.0, reverse=True)
        named = [_with_probability(label["name"], _number(label.get("probability"))) for label in present]
        return [f"ECG-FM classifier findings: {', '.join(named[:MAX_LISTED])}."]
    findings = [name for name in _list(result.get("findings")) if isinstance(name, str) and name.strip()]
    return [f"Findings: {', '.join(findings[:MAX_LISTED])}."] if findings else []


def _quality_lines(quality) -> list[str]:
    if not isinstance(quality, dict):
        return []
    grade = quality.get("grade")
    grade = grade.strip() if isinstance(grade, str) else ""
    reasons = [reason.strip() for reason in _list(quality.get("reasons")) if isinstance(reason, str) and reason.strip()]
    if reasons:
        more = f"; and {len(reasons) - MAX_LISTED} more" if len(reasons) > MAX_LISTED else ""
        return [f"Signal quality: {grade or 'reduced'}; problems: {'; '.join(reasons[:MAX_LISTED])}{more}."]
    if grade and grade.lower() not in GOOD_QUALITY_GRADES:
        return [f"Signal quality: {grade}."]
    return []


def _tabular_part(result: dict) -> str:
    rows = [row for row in _list(result.get("predictions")) if isinstance(row, dict)]
    if not rows:
        return ""
    model = f"Tabular model '{result.get('model_id') or 'unnamed'}'"
    if any("anomaly" in row for row in rows):
        flagged = sum(_is_true(row.get("anomaly")) for row in rows)
        return f"{model}: {flagged} of {len(rows)} rows flagged as anomalous."
    labelled = [(str(row["label"]), _number(row.get("probability"))) for row in rows if row.get("label") is not None]
    if len(labelled) == 1:
        return f"{model} prediction: {_with_probability(*labelled[0])}."
    counts = Counter(label for label, _ in labelled)
    groups = []
    for label, count in counts.most_common(MAX_LISTED):
        probabilities = [p for name, p in labelled if name == label and p is not None]
        mean = f", mean probability {sum(probabilities) / len(probabilities):.2f}" if probabilities else ""
        groups.append(f"{label} in {count} row{'s' if count != 1 else ''}{mean}")
    return f"{model} predictions for {len(labelled)} rows: {'; '.join(groups)}." if groups else ""


def _with_probability(name: str, probability: float | None) -> str:
    return f"{name} (probability {probability:.2f})" if probability is not None else name


def _number(value) -> float | None:
    """A finite real number (numpy scalars included) as float, else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _is_true(value) -> bool:
    return isinstance(value, (bool, np.bool_)) and bool(value)


def _list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else []
