"""Patient identity stays inside the parser: not in results, errors or logs (age and sex may leave)."""

from __future__ import annotations

import json
import logging

import pytest

from ecg_core.errors import InputError
from ecg_files import b64, cart_file_bytes, dicom_bytes

# (file, identifiers the file holds: names, IDs, birth date as written in its header)
IDENTIFIED = [
    (("formats", "scp", "welchallyn_simulator_2008.scp"), ["Karlsson", "Peter", "191010101010"]),
    (("formats", "hl7_aecg", "example_aecg.xml"), ["Clark", "SBJ-123", "1953"]),
    (("formats", "ge_muse", "muse_simulator_1.xml"), ["TEST 05", "JAX01234"]),
    (("formats", "philips", "heartstart_mrx_simulator.xml"), ["1112010721168bdc"]),
]


@pytest.mark.parametrize("parts, identity", IDENTIFIED, ids=[p[-1] for p, _ in IDENTIFIED])
def test_identity_not_in_results_or_logs(demo_handler, caplog, parts, identity):
    data = cart_file_bytes(parts)
    assert all(value.encode() in data for value in identity)  # the file really holds them
    with caplog.at_level(logging.DEBUG):
        results = demo_handler({"inputs": [{"file": b64(data), "task": "measure"},
                                           {"file": b64(data), "task": "quality"}]})
    text = json.dumps(results) + caplog.text
    assert not [value for value in identity if value in text]


def test_identity_not_in_errors(demo_handler):
    data = dicom_bytes()
    for variant in (data[: len(data) // 3], data[:140] + bytes(64) + data[204:]):
        with pytest.raises(InputError) as caught:
            demo_handler({"inputs": {"file": b64(variant), "task": "measure"}})
        assert "642341" not in str(caught.value) and "Anonymous" not in str(caught.value)
