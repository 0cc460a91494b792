"""Bad ECG files: every class of problem is an InputError naming the format and the problem; a seeded fuzz of
truncated, bit-flipped and mislabelled versions of every real fixture raises nothing else, and fast."""

from __future__ import annotations

import io
import random
import time
import zipfile

import numpy as np
import pytest

from ecg_core.errors import InputError
from ecg_core.files import ACCEPTED_FORMATS, read_ecg_file
from ecg_core.files.assemble import build_recording
from ecg_core.settings import Limits
from ecg_files import all_file_bytes, cart_file_bytes, dicom_bytes, wfdb_zip

LIMITS = Limits()
SCP = ("formats", "scp", "welchallyn_simulator_2008.scp")
PHILIPS = ("formats", "philips", "pagewriter_tc_sinus.xml")


def refusal(data: bytes, **options) -> str:
    with pytest.raises(InputError) as caught:
        read_ecg_file(data, limits=options.pop("limits", LIMITS), **options)
    return str(caught.value)


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_unknown_format_lists_the_accepted_ones():
    message = refusal(b"\x89PNG\r\n\x1a\n" + bytes(300))
    assert message.startswith("inputs.file: unknown format") and all(f in message for f in ACCEPTED_FORMATS)


def test_a_format_ecgdatakit_knows_but_we_do_not_accept():
    message = refusal(b"ISHNE1.0" + bytes(1024))  # an ISHNE Holter header
    assert message.startswith("inputs.file: unknown format: ISHNE Holter files are not read here; accepted: dicom")


def test_file_name_is_only_a_last_resort_and_never_echoed():
    data = b"Pat. Doe,Smith\n1,2\n"  # no lead in the header: the content matches no format
    assert refusal(data, filename="Jane Doe.pdf").startswith("inputs.file: unknown format")
    message = refusal(data, filename="Jane Doe.csv")  # the extension says CSV: the CSV reader explains
    assert message.startswith("inputs.file: csv: column 'Pat. Doe' is neither a lead") and "Jane" not in message


def test_not_an_ecg_csv_without_leads():
    assert "unknown format" in refusal(b"name,score\nA,1\nB,2\n")
    message = refusal(b"time,I,foo\n0,0.1,3\n0.002,0.2,4\n", format_hint="csv")
    assert message.startswith("inputs.file: csv: column 'foo' is neither a lead")


def test_truncated_and_corrupt_files_name_their_format():
    scp = cart_file_bytes(SCP)
    assert refusal(scp[: len(scp) // 2]).startswith("inputs.file: scp: ")
    philips = cart_file_bytes(PHILIPS)
    assert refusal(philips[: len(philips) // 2]).startswith("inputs.file: philips: ")
    dicom = dicom_bytes()
    assert refusal(dicom[:2000]).startswith("inputs.file: dicom: ")


def test_mislabelled_file_is_refused_with_what_it_is():
    assert refusal(cart_file_bytes(PHILIPS), format_hint="scp") == \
        "inputs.file: scp: the file's content is philips, not scp"
    assert refusal(b"x", format_hint="jpeg").startswith("inputs.format: unknown format 'jpeg'")


def test_unsupported_zip_compression():
    data = bytearray(zipped({"r.hea": b"r 1 500 5000\n", "r.dat": bytes(100)}))
    directory = data.find(b"PK\x01\x02")
    while directory != -1:  # set every member's method to 99 in the central directory
        data[directory + 10: directory + 12] = (99).to_bytes(2, "little")
        directory = data.find(b"PK\x01\x02", directory + 4)
    assert "zip: unsupported compression (method 99)" in refusal(bytes(data))


def test_zip_needing_a_newer_version_to_extract():
    data = bytearray(wfdb_zip("ludb", "10"))
    directory = data.find(b"PK\x01\x02")
    data[directory + 6: directory + 8] = (84).to_bytes(2, "little")  # "version needed to extract": 8.4
    assert refusal(bytes(data)) == "inputs.file: zip: unsupported archive (zip file version 8.4)"


def test_zip_member_checks_before_extraction():
    assert "leaves the archive" in refusal(zipped({"../r.hea": b"r 1 500 10\n", "r.dat": bytes(20)}))
    small = Limits(max_decompressed_bytes=10_000)
    assert "bytes uncompressed; at most 10000" in refusal(wfdb_zip("ludb", "10"), limits=small)
    many = zipped({f"{i}.dat": b"" for i in range(20)})
    assert "20 members; at most 16" in refusal(many)
    assert "one record header" in refusal(zipped({"a.dat": bytes(10)}))
    assert "wfdb: a header alone" in refusal(b"100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n")


def test_too_long_a_recording_is_refused():
    short = Limits(max_samples=4000)
    assert refusal(wfdb_zip("ludb", "10"), limits=short) == \
        "inputs.file: wfdb: recording too long: 5000 samples per lead; the limit is 4000"
    assert refusal(dicom_bytes(), limits=short) == \
        "inputs.file: dicom: recording too long: 10000 samples per lead; the limit is 4000"
    assert "at most 1000 are accepted" in refusal(dicom_bytes(), limits=Limits(max_file_bytes=1000))


def test_calibration_that_makes_no_sense():
    rows = "\n".join(f"{1000 * np.sin(i / 20):.1f},{800 * np.sin(i / 20):.1f}" for i in range(3000))
    message = refusal(f"I,II\n{rows}\n".encode(), fs=500)  # µV values sent as mV
    assert message.startswith("inputs.file: csv: a calibration that makes no sense: lead I spans")


def test_leads_of_unequal_length():
    with pytest.raises(InputError) as caught:
        build_recording([("I", np.zeros(5000)), ("V1", np.zeros(4990))], 500.0, "scp", "inputs.file", LIMITS)
    assert str(caught.value) == "inputs.file: scp: leads of unequal length (I: 5000 samples, V1: 4990)"


@pytest.mark.parametrize("doctype", [
    b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
])
@pytest.mark.parametrize("root, fmt", [(b"restingecgdata", "philips"), (b"RestingECG", "ge_muse"),
                                       (b"AnnotatedECG", "hl7_aecg")])
def test_xml_entities_are_refused(doctype, root, fmt):
    document = b'<?xml version="1.0"?>' + doctype + b"<" + root + b">&b;&x;</" + root + b">"
    message = refusal(document)
    assert message.startswith(f"inputs.file: {fmt}: ") and "root:" not in message


def _variants(name: str, data: bytes, rng: random.Random):
    for _ in range(6):
        yield f"{name} truncated", data[: rng.randrange(1, len(data))], None
        flipped = bytearray(data)
        for _ in range(rng.choice((1, 8, 64))):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        yield f"{name} bit-flipped", bytes(flipped), None
    for hint in ACCEPTED_FORMATS:
        yield f"{name} labelled {hint}", data, hint


def test_fuzzed_fixtures_give_input_errors_only():
    rng = random.Random(12)
    slowest = 0.0
    for name, data in all_file_bytes().items():
        for label, variant, hint in _variants(name, data, rng):
            started = time.perf_counter()
            try:
                read_ecg_file(variant, format_hint=hint, limits=LIMITS)
            except InputError as error:
                assert str(error).startswith(("inputs.file:", "inputs.format:", "inputs.fs:")), (label, error)
            slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 5.0  # no variant hangs the parser (the whole test is bounded by pytest-timeout too)


def test_fuzzed_files_through_the_handler_never_fail_otherwise(demo_handler):
    """Bit-flipped files that still decode go on to measurement: that too must end in a result or an InputError."""
    from ecg_files import b64

    rng = random.Random(5)
    for name, data in all_file_bytes().items():
        for _ in range(2):
            flipped = bytearray(data)
            for _ in range(rng.choice((1, 8))):
                flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            try:
                [result] = demo_handler({"inputs": {"file": b64(bytes(flipped)), "task": "measure"}})
                assert result["recording"]["format"] in ACCEPTED_FORMATS
            except InputError:
                pass
