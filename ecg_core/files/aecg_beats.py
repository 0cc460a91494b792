"""The cart's RR interval from an HL7 aECG's per-beat annotations (ecgdatakit keeps their values, not their times).

The device's annotation set on the rhythm series marks each beat's P, QRS and T waves with absolute times;
the mean difference between successive QRS onsets is the RR the cart measured. Sets authored by a person
(an over-reader) are not the cart's and are left out. Parsed with defusedxml: no entity expansion.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse

_NS = {"h": "urn:hl7-org:v3"}
_RHYTHM_SETS = "h:component/h:series/h:subjectOf/h:annotationSet"
_DEVICE_AUTHOR = "h:author/h:assignedEntity/h:assignedAuthorType/h:assignedDevice"
# HL7 TS: YYYYMMDDHHMMSS[.fraction][+-ZZZZ]; the zone is the same for every beat of a recording
_TIMESTAMP = re.compile(r"^(\d{14})(\.\d+)?")
_RR_RANGE_MS = (200.0, 3000.0)  # 20–300 bpm: outside it the annotations are not a rhythm's beats


def device_rr_ms(path: Path) -> float | None:
    """Mean RR (ms) of the device's annotated beats, or None when the file has no such annotations."""
    try:
        root = parse(str(path)).getroot()
    except (ParseError, DefusedXmlException, OSError):
        return None
    for annotation_set in root.findall(_RHYTHM_SETS, _NS):
        if annotation_set.find(_DEVICE_AUTHOR, _NS) is None:
            continue
        beats = annotation_set.findall("h:component/h:annotation", _NS)
        onsets = sorted(onset for onset in map(_qrs_onset_s, beats) if onset is not None)
        if len(onsets) < 2:
            return None
        rr_ms = 1000.0 * (onsets[-1] - onsets[0]) / (len(onsets) - 1)  # = mean of successive differences
        return round(rr_ms, 1) if _RR_RANGE_MS[0] <= rr_ms <= _RR_RANGE_MS[1] else None
    return None


def _qrs_onset_s(beat) -> float | None:
    if _code(beat) != "MDC_ECG_BEAT":
        return None
    for wave in beat.findall("h:component/h:annotation", _NS):
        value = wave.find("h:value", _NS)
        if value is None or value.get("code") != "MDC_ECG_WAVC_QRSWAVE":
            continue
        boundaries = {_code(boundary): boundary
                      for boundary in wave.findall("h:support/h:supportingROI/h:component/h:boundary", _NS)}
        if any("_ECG_LEAD_" in code for code in boundaries):
            continue  # one lead's QRS, not the beat's
        low = boundaries["TIME_ABSOLUTE"].find("h:value/h:low", _NS) if "TIME_ABSOLUTE" in boundaries else None
        if low is not None:
            return _seconds(low.get("value", ""))
    return None


def _code(element) -> str:
    code = element.find("h:code", _NS)
    return "" if code is None else code.get("code", "")


def _seconds(timestamp: str) -> float | None:
    match = _TIMESTAMP.match(timestamp.strip())
    if match is None:
        return None
    try:
        whole = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None
    return whole + float(match.group(2) or 0.0)
