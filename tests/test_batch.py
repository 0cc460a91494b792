"""Batch scoring on Ray Data (`python -m ecg_core batch`): rows equal the endpoint's results for the same
recordings, bad inputs become error rows, --resume skips what is done, the Parquet schema is fixed and documented.

One local Ray with 2 CPUs for the module (its start-up is slow); the shared LUDB records and cart files, files of
every other format written from them, damaged files; demo weights, fp32.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray", reason="batch scoring needs requirements-batch.txt")
pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402
import wfdb  # noqa: E402
from pyarrow import feather  # noqa: E402

from conftest import ROOT, fixture_path, make_handler  # noqa: E402
from ecg_files import CART_FILES, b64, dicom_bytes, wfdb_zip  # noqa: E402
from test_files_edf_csv import _table, edf_bytes  # noqa: E402
from ecg_core.__main__ import main  # noqa: E402
from ecg_core.batch import output, pipeline, schema  # noqa: E402
from ecg_core.ecgfm.demo import DEMO_CONFIG  # noqa: E402
from ecg_core.ecgfm.labels import MIMIC_IV_ECG_LABELS  # noqa: E402
from ecg_core.files import ACCEPTED_FORMATS, read_ecg_file  # noqa: E402
from ecg_core.measure import MEASUREMENT_KEYS  # noqa: E402
from ecg_core.settings import Limits  # noqa: E402

RECORDS = ("2", "10", "24", "40", "56")  # LUDB records: sinus rhythms, a block, varied axes
DEMO_ENV = {"ECG_DEMO": "1", "ECG_DTYPE": "float32"}


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    assert pipeline.start_ray(num_cpus=2)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("batch")


@pytest.fixture(scope="module")
def demo_env(workdir):
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**DEMO_ENV, "ECG_CACHE_DIR": str(workdir / "cache")}.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="module")
def handler(workdir):
    return make_handler(workdir, **DEMO_ENV)


@pytest.fixture(scope="module")
def ecg_folder(workdir) -> Path:
    """Every file format the endpoint reads (the shared files linked in place, not copied), and damaged or
    unusable files beside them."""
    ludb = fixture_path("ludb")
    folder = workdir / "ecgs"
    folder.mkdir()
    for name in RECORDS:
        for suffix in (".hea", ".dat"):
            (folder / f"{name}{suffix}").symlink_to(ludb / f"{name}{suffix}")
    for name, parts, _, _ in CART_FILES:
        (folder / f"{name}{Path(parts[-1]).suffix}").symlink_to(fixture_path(*parts))
    (folder / "dicom.dcm").write_bytes(dicom_bytes())
    reference = read_ecg_file(dicom_bytes(), limits=Limits()).recording
    (folder / "edf.edf").write_bytes(edf_bytes(reference))
    (folder / "csv.csv").write_bytes(_table(reference, ",", "time"))

    (folder / "garbage.hea").write_text("this is not a WFDB header\n")
    (folder / "no_data").mkdir()
    (folder / "no_data" / "10.hea").symlink_to(ludb / "10.hea")  # its .dat is missing
    (folder / "truncated").mkdir()
    (folder / "truncated" / "10.hea").symlink_to(ludb / "10.hea")
    (folder / "truncated" / "10.dat").write_bytes((ludb / "10.dat").read_bytes()[:3000])
    philips = fixture_path("formats", "philips", "pagewriter_tc_sinus.xml").read_bytes()
    (folder / "cut_philips.xml").write_bytes(philips[:len(philips) // 2])
    (folder / "noise.dcm").write_bytes(np.random.default_rng(0).bytes(4096))
    (folder / "empty.scp").write_bytes(b"")
    real = wfdb.rdrecord(str(ludb / "12"))
    # 3 s passes the endpoint's 2.5 s minimum but not ECG-FM's 5 s: refused in the scoring actor, not the parser
    for name, samples in (("three_seconds", 1500), ("one_second", 500)):
        wfdb.wrsamp(name, fs=real.fs, units=real.units, sig_name=real.sig_name, p_signal=real.p_signal[:samples],
                    fmt=["16"] * 12, write_dir=str(folder))
    return folder


def file_request_bytes(path: Path) -> bytes:
    """The file as a client sends it in inputs.file (a WFDB record: its .hea and .dat zipped)."""
    return wfdb_zip("ludb", path.stem) if path.suffix == ".hea" else path.read_bytes()


EXPECTED_ERRORS = {  # source → what its status must say
    "garbage.hea": "file: wfdb:",
    "no_data/10.hea": "file: wfdb:",
    "truncated/10.hea": "file: wfdb:",
    "cut_philips.xml": "file: philips:",
    "noise.dcm": "file: unknown format",
    "empty.scp": "file: the file is empty",
    "three_seconds.hea": "ECG-FM needs at least 5 s",
    "one_second.hea": "recording too short",
}
OK_FILES = [f"{name}.hea" for name in RECORDS] + [f"{name}{Path(parts[-1]).suffix}"
                                                  for name, parts, _, _ in CART_FILES] + \
    ["dicom.dcm", "edf.edf", "csv.csv"]


def read_rows(out: Path) -> dict[str, dict]:
    rows = pq.read_table(out).to_pylist()
    sources = [row["source"] for row in rows]
    assert len(sources) == len(set(sources)), "a source was scored twice"
    return {row["source"]: row for row in rows}


def endpoint_result(handler, inputs: dict, **parameters) -> dict:
    return handler({"inputs": {"task": parameters.pop("task", "analyze"), **inputs}, "parameters": parameters})[0]


def signal_inputs(record_path: Path) -> dict:
    """A WFDB record as inputs.signal, the way a client holding the table's values sends it."""
    record = wfdb.rdrecord(str(record_path.with_suffix("")))
    return {"signal": record.p_signal.T.tolist(), "fs": record.fs, "lead_names": record.sig_name,
            "units": record.units[0]}


def assert_row_matches(row: dict, result: dict) -> None:
    assert row["status"] == "ok" and row["task"] == result["task"] and row["weights"] == result["weights"] == "demo"
    assert row["fs"] == result["recording"]["fs"] and row["lead_names"] == result["recording"]["lead_names"]
    labels = {label["name"]: label for label in result.get("labels", ())}
    for label, column in schema.PROBABILITY_COLUMNS.items():
        if labels:
            assert row[column] == pytest.approx(labels[label]["probability"], abs=1e-5), label
        else:
            assert row[column] is None
    assert row["findings"] == result.get("findings")
    clinical = result.get("clinical_analysis")
    measurements = result.get("measurements") or clinical["physiological_parameters"]
    for key in MEASUREMENT_KEYS:
        assert row[key] == measurements[key], key
    assert json.loads(row["unmeasured_json"]) == measurements["unmeasured"]
    assert json.loads(row["clinical_json"]) == clinical
    assert json.loads(row["urgent_findings_json"]) == clinical["urgent_findings"]
    assert (row["quality_grade"], row["quality_score"]) == (result["signal_quality"]["grade"],
                                                            result["signal_quality"]["score"])
    cart = result.get("cart_measurements") or {}
    assert {key: row[f"cart_{key}"] for key in schema.CART_KEYS if row[f"cart_{key}"] is not None} == \
        {key: value for key, value in cart.items() if value is not None}
    assert row["cart_statements"] == result.get("cart_statements")
    assert json.loads(row["measurement_vs_cart_json"] or "null") == result.get("measurement_vs_cart")
    if "features" in result:
        assert row["embedding"] == pytest.approx(np.float32(result["features"]).tolist(), abs=1e-5)


@pytest.fixture(scope="module")
def folder_run(ray_cluster, demo_env, ecg_folder, workdir):
    out = workdir / "folder.parquet"
    code = main(["batch", str(ecg_folder), "--out", str(out), "--features", "--batch-size", "3"])
    return code, out


def test_every_row_equals_the_endpoint_result_for_the_same_record(folder_run, handler, ecg_folder):
    code, out = folder_run
    assert code == 0
    rows = read_rows(out)
    assert set(rows) == {str(ecg_folder / source) for source in [*OK_FILES, *EXPECTED_ERRORS]}
    formats = set()
    for name in OK_FILES:
        path = ecg_folder / name
        row = rows[str(path)]
        result = endpoint_result(handler, {"file": b64(file_request_bytes(path))}, return_features=True)
        assert row["format"] == result["recording"]["format"] and len(row["embedding"]) == DEMO_CONFIG.embed_dim
        assert_row_matches(row, result)
        formats.add(row["format"])
    assert formats == set(ACCEPTED_FORMATS)
    assert any(row["cart_qrs_duration"] is not None for row in rows.values())


def test_bad_records_are_error_rows_and_the_run_goes_on(folder_run, ecg_folder):
    rows = read_rows(folder_run[1])
    for source, message in EXPECTED_ERRORS.items():
        row = rows[str(ecg_folder / source)]
        assert message in row["status"], (source, row["status"])
        assert row["prob_sinus_rhythm"] is None and row["heart_rate"] is None and row["embedding"] is None
    summary = output.summarize(output.parquet_files(folder_run[1]), 1.0, 0)
    assert (summary["recordings"], summary["ok"], summary["failed"]) == (len(rows), len(OK_FILES),
                                                                         len(EXPECTED_ERRORS))
    assert sum(summary["failures_by_reason"].values()) == len(EXPECTED_ERRORS)


def test_schema_is_fixed_and_documented(folder_run):
    expected = schema.output_schema(DEMO_CONFIG.embed_dim)
    files = sorted(output.parquet_files(folder_run[1]))
    assert len(files) > 1  # one file per batch of 3: what a killed run keeps
    for path in files:  # batches of errors only included: same columns, same types
        assert pq.read_schema(path).remove_metadata() == expected
    assert [schema.PROBABILITY_COLUMNS[label] for label in MIMIC_IV_ECG_LABELS] == \
        [name for name in expected.names if name.startswith("prob_")]
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Output columns", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([a-z0-9_<>]+)`", section, flags=re.MULTILINE)
    expanded = [name for item in documented for name in (
        schema.PROBABILITY_COLUMNS.values() if item == "prob_<label>" else
        [f"cart_{key}" for key in schema.CART_KEYS] if item == "cart_<measurement>" else
        MEASUREMENT_KEYS if item == "<measurement>" else [item])]
    assert expanded == expected.names


def test_resume_skips_what_is_done_and_redoes_torn_files(ray_cluster, demo_env, ecg_folder, workdir, capsys):
    out = workdir / "resumed.parquet"
    first = [str(ecg_folder / f"{name}.hea") for name in RECORDS[:2]]
    assert main(["batch", *first, "--out", str(out)]) == 0
    kept = output.parquet_files(out)
    kept_rows = read_rows(out)
    torn = out / "torn-by-a-killed-run.parquet"
    torn.write_bytes(next(iter(kept)).read_bytes()[:200])  # a file cut off mid-write
    assert main(["batch", str(ecg_folder), "--out", str(out)]) == 2  # without --resume: refused, nothing run
    assert "add --resume" in capsys.readouterr().err

    assert main(["batch", str(ecg_folder), "--out", str(out), "--resume"]) == 0
    assert not torn.exists()
    rows = read_rows(out)  # every source exactly once
    assert len(rows) == len(OK_FILES) + len(EXPECTED_ERRORS)
    assert kept <= output.parquet_files(out) and all(rows[source] == kept_rows[source] for source in kept_rows)
    summary = capsys.readouterr().out
    assert f"{len(rows) - len(first)} recordings scored" in summary and f"{len(first)} already in" in summary

    files = output.parquet_files(out)
    assert main(["batch", str(ecg_folder), "--out", str(out), "--resume"]) == 0
    assert output.parquet_files(out) == files and "0 recordings scored" in capsys.readouterr().out


def ludb_table(records) -> dict[str, list]:
    """LUDB records as table columns: one row per recording, samples × leads as WFDB stores them."""
    columns: dict[str, list] = {"id": [], "signal": [], "fs": []}
    for name in records:
        record = wfdb.rdrecord(str(fixture_path("ludb") / name))
        columns["id"].append(f"ludb-{name}")
        columns["signal"].append(record.p_signal.tolist())
        columns["fs"].append(float(record.fs))
    return columns


def test_parquet_tables_and_hf_datasets_give_the_endpoint_results(ray_cluster, demo_env, handler, workdir):
    datasets = pytest.importorskip("datasets")
    leads = ",".join(wfdb.rdrecord(str(fixture_path("ludb") / RECORDS[0])).sig_name)
    table = ludb_table(RECORDS[:2])
    table["id"].append("too-slow")
    table["signal"].append(table["signal"][0])
    table["fs"].append(50.0)  # below the endpoint's 100 Hz minimum
    pq.write_table(pa.table(table), workdir / "ludb.parquet")
    datasets.Dataset.from_dict(ludb_table(RECORDS[2:4])).save_to_disk(str(workdir / "ludb_hf"))
    feather.write_feather(pa.table(ludb_table(RECORDS[4:5])), workdir / "ludb.arrow")
    out = workdir / "tables.parquet"
    assert main(["batch", str(workdir / "ludb.parquet"), str(workdir / "ludb_hf"), str(workdir / "ludb.arrow"),
                 "--out", str(out), "--lead-names", leads, "--units", "mV", "--task", "measure"]) == 0
    rows = read_rows(out)
    assert rows["too-slow"]["status"] == "row.fs: 50 Hz is outside the supported range 100-2000 Hz"
    for name, fmt in zip(RECORDS, ("parquet", "parquet", "hf_dataset", "hf_dataset", "arrow")):
        row = rows[f"ludb-{name}"]
        assert row["format"] == fmt
        assert_row_matches(row, endpoint_result(handler, signal_inputs(fixture_path("ludb") / f"{name}.hea"),
                                                task="measure"))


@pytest.mark.parametrize("options, message", [
    (["--workers", "0"], "--workers: must be at least 1"),
    (["--thresholds", "1.5"], "--thresholds: threshold 1.5 must lie strictly between 0 and 1"),
    (["--thresholds", '{"Sinus": 0.3}'], "--thresholds.Sinus: unknown label"),
], ids=["workers", "threshold", "label"])
def test_bad_options_are_refused_before_ray_starts(tmp_path, capsys, options, message):
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "out"), *options]) == 2
    assert message in capsys.readouterr().err


def test_an_input_that_matches_nothing_is_refused(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "nothing*.xml"), "--out", str(tmp_path / "out")]) == 2
    assert "INPUT: " in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_a_table_row_s_patient_columns_reach_the_measurements():
    """A table's ``age``, ``sex`` and ``pacemaker`` columns are read as the request's fields are, and checked the same
    way: a stated pacemaker whose spikes are not seen gets its note, a ``pacemaker`` that is not a bool is the row's
    error, naming the field."""
    from synthetic_ecg import synthetic_12lead

    from ecg_core import analysis
    from ecg_core.batch.parse import TableColumns, parse_table_row
    from ecg_core.batch.scoring import signal_task
    from ecg_core.patient import Patient

    signal, names = synthetic_12lead(70, 160, 90, 400, seed=4)
    row = {"id": "r1", "signal": signal.tolist(), "fs": 500.0, "lead_names": list(names), "age": 70, "sex": "F",
           "pacemaker": True}
    parsed = parse_table_row(row, TableColumns(), Limits(), "parquet")
    assert parsed["error"] == ""
    task = signal_task("measure", parsed)
    assert task.patient == Patient(70.0, "F", True)
    measured, _ = analysis._measure_and_assess(task)
    assert "no pacing spike was found" in measured.measurements["pacing"]["note"]
    refused = parse_table_row({**row, "pacemaker": "yes"}, TableColumns(), Limits(), "parquet")
    assert refused["error"].startswith("row.pacemaker: ")
