"""The `python -m ecg_core.tabular` command line: fit / predict / evaluate / list / remove and its errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT
from ecg_core.tabular.__main__ import main
from ecg_core.tabular.demo import DEMO_FEATURES, synthetic_measurement_rows


@pytest.fixture
def files(tmp_path):
    rows, labels = synthetic_measurement_rows(count=250, seed=4)
    header = ",".join(DEMO_FEATURES)
    (tmp_path / "train.csv").write_text("\n".join(
        [f"{header},label"] + [",".join(f"{v:.2f}" for v in row) + f",{label}" for row, label in zip(rows, labels)]))
    (tmp_path / "rows.csv").write_text(f"{header}\n72,92,390,430,25\n150,150,290,460,40\n")
    (tmp_path / "fit.json").write_text(json.dumps({"X": rows.tolist(), "y": labels,
                                                   "config": {"id": "ignored", "ml_model_type": "logic"}}))
    return tmp_path


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_fit_predict_evaluate_list_remove(files, capsys):
    registry = str(files / "registry")
    code, out, _ = _run(capsys, "--dir", registry, "fit", "--csv", str(files / "train.csv"), "--target", "label",
                        "--type", "svc", "--id", "123", "--param", "C=2.0", "--param", "kernel=rbf")
    assert code == 0
    assert "model '123' (svc, 5 features, 250 rows) saved" in out
    assert "evaluated on 50 rows (stratified 20% hold-out)" in out
    assert "NORM" in out and "PROBLEM" in out and "ROC AUC" in out

    code, out, _ = _run(capsys, "--dir", registry, "predict", "--csv", str(files / "rows.csv"), "--id", "123")
    assert code == 0 and [p["label"] for p in json.loads(out)] == ["NORM", "PROBLEM"]

    code, out, _ = _run(capsys, "--dir", registry, "evaluate", "--csv", str(files / "train.csv"), "--id", "123")
    assert code == 0 and "evaluated on 250 rows" in out

    code, out, _ = _run(capsys, "--dir", registry, "fit", "--json", str(files / "fit.json"), "--id", "j1")
    assert code == 0 and "(logistic_regression, 5 features, 250 rows)" in out

    code, out, _ = _run(capsys, "--dir", registry, "list")
    assert code == 0 and out.splitlines()[1].split()[:2] == ["123", "svc"] and "j1" in out

    code, out, _ = _run(capsys, "--dir", registry, "remove", "--id", "123")
    assert code == 0 and "removed" in out
    code, out, _ = _run(capsys, "--dir", registry, "list")
    assert "123" not in out.split()


def test_dir_is_accepted_after_the_command(files, capsys):
    registry = files / "after"
    code, out, _ = _run(capsys, "fit", "--csv", str(files / "train.csv"), "--id", "late", "--dir", str(registry))
    assert code == 0 and "model 'late'" in out
    assert (registry / "index.json").is_file()
    code, out, _ = _run(capsys, "list", "--dir", str(registry))
    assert code == 0 and "late" in out.split()
    code, out, _ = _run(capsys, "--dir", str(files / "empty"), "list")
    assert "late" not in out.split()  # given before the command, --dir is kept too


@pytest.mark.parametrize("args, message", [
    (["fit", "--csv", "train.csv", "--id", "x", "--param", "C=-1"], "--param.C: The 'C' parameter"),
    (["fit", "--csv", "train.csv", "--id", "x", "--param", "C"], "--param: expected NAME=VALUE"),
    (["fit", "--csv", "train.csv", "--id", "x", "--target", "diagnosis"], "no target column 'diagnosis'"),
    (["fit", "--csv", "missing.csv", "--id", "x"], "cannot read the file"),
    (["fit", "--csv", "train.csv", "--id", "../x"], "--id: invalid model id"),
    (["predict", "--csv", "rows.csv", "--id", "nope"], "--id: no model 'nope'"),
    (["remove", "--id", "nope"], "--id: no model 'nope'"),
    (["evaluate", "--csv", "other_labels.csv", "--id", "m"], "--csv: label(s) AF were not in the training data"),
    (["evaluate", "--csv", "rows.csv", "--id", "m", "--target", "rr_rmssd"], "--csv: expected 5 features, got 4"),
])
def test_errors_exit_2_with_the_message(files, capsys, monkeypatch, args, message):
    monkeypatch.chdir(files)
    (files / "other_labels.csv").write_text("\n".join(
        [",".join([*DEMO_FEATURES, "label"]), "72,92,390,430,25,NORM", "150,150,290,460,40,AF"]))
    assert main(["--dir", str(files / "registry"), "fit", "--csv", "train.csv", "--id", "m"]) == 0
    capsys.readouterr()
    code, _, err = _run(capsys, "--dir", str(files / "registry"), *args)
    assert code == 2 and err.startswith("error: ") and message in err


def test_module_entry_point(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "ecg_core.tabular", "--dir", str(tmp_path), "list"],
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0 and completed.stdout.startswith("no models in")
