"""Command line for the tabular model registry.

    python -m ecg_core.tabular fit --csv data.csv --target label --type svc --id 123 [--param C=1.0 ...]
    python -m ecg_core.tabular fit --json data.json --id 123        (the seed's {"X", "y", "config"} body)
    python -m ecg_core.tabular predict --id 123 --csv rows.csv      (or --json {"X": [...]})
    python -m ecg_core.tabular evaluate --id 123 --csv labelled.csv --target label
    python -m ecg_core.tabular list
    python -m ecg_core.tabular remove --id 123

The registry is TABULAR_MODEL_DIR (see README), or --dir (before or after the command).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..errors import InputError, ModelNotConfigured
from ..settings import Settings
from .estimators import MODEL_TYPES
from .rows import parse_csv
from .service import FitFields, TabularService

_CLI_FIELDS = FitFields(model_id="--id", model_type="--type", hyperparameters="--param", rows="--csv",
                        labels="--target", feature_set="--feature-set")
_FIT_STAGES = 4  # hold-out fit, hold-out scoring, final fit, save (see training.fit_with_holdout)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env(".")
    if args.dir:
        settings = settings.replace(tabular_model_dir=Path(args.dir))
    service = TabularService(settings)
    try:
        args.run(service, args)
    except (InputError, ModelNotConfigured) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ecg_core.tabular", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", help="registry directory (default: TABULAR_MODEL_DIR)")
    # --dir is also taken after the command; SUPPRESS keeps a value given before it when it is not repeated.
    registry = argparse.ArgumentParser(add_help=False)
    registry.add_argument("--dir", default=argparse.SUPPRESS, help="registry directory (default: TABULAR_MODEL_DIR)")
    commands = parser.add_subparsers(required=True, metavar="command", parser_class=_with_parents(registry))

    fit = commands.add_parser("fit", help="fit and register a model; prints hold-out metrics")
    _add_data_arguments(fit)
    fit.add_argument("--id", required=True)
    fit.add_argument("--type", default="logistic_regression",
                     help=f"{', '.join(MODEL_TYPES)} or an alias (logic, svm, rf, iforest)")
    fit.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="hyperparameter; VALUE is read as JSON (1.0, true, \"balanced\"), else as text")
    fit.add_argument("--feature-set", help="the columns are this signal feature set's (ecg_measurements, beats)")
    fit.set_defaults(run=_fit)

    predict = commands.add_parser("predict", help="predict rows of a CSV (feature columns) or JSON {\"X\": ...}")
    _add_data_arguments(predict)
    predict.add_argument("--id", required=True)
    predict.set_defaults(run=_predict)

    evaluate = commands.add_parser("evaluate", help="metrics of a registered model on a labelled CSV")
    evaluate.add_argument("--csv", required=True, type=Path)
    evaluate.add_argument("--target", help="label column (default: the last column)")
    evaluate.add_argument("--id", required=True)
    evaluate.set_defaults(run=_evaluate)

    commands.add_parser("list", help="list registered models").set_defaults(run=_list)
    remove = commands.add_parser("remove", help="remove a model")
    remove.add_argument("--id", required=True)
    remove.set_defaults(run=_remove)
    return parser


def _with_parents(*parents: argparse.ArgumentParser):
    def command_parser(**kwargs) -> argparse.ArgumentParser:
        return argparse.ArgumentParser(parents=list(parents), **kwargs)

    return command_parser


def _add_data_arguments(command: argparse.ArgumentParser) -> None:
    source = command.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", type=Path, help="CSV with a header row")
    source.add_argument("--json", type=Path, help="JSON object with X (and y, config for fit)")
    command.add_argument("--target", help="label column of the CSV (default: the last column)")


def _fit(service: TabularService, args: argparse.Namespace) -> None:
    hyperparameters = dict(_parse_param(text) for text in args.param)
    with tqdm(total=_FIT_STAGES, desc="fit", unit="step", disable=None, file=sys.stderr) as bar:
        def progress(stage: str) -> None:
            bar.set_description(stage)
            bar.update(1)

        if args.csv:
            entry = service.fit_csv(args.id, _read(args.csv), target=args.target, model_type=args.type,
                                    hyperparameters=hyperparameters, fields=_CLI_FIELDS, progress=progress)
        else:
            body = _read_json(args.json)
            config = body.get("config") or {}
            entry = service.fit(args.id, body.get("X"), body.get("y"),
                                model_type=config.get("ml_model_type", args.type),
                                hyperparameters={**(config.get("hyperparameters") or {}), **hyperparameters},
                                feature_set=args.feature_set,
                                fields=FitFields(model_id="--id", model_type="config.ml_model_type"),
                                progress=progress)
    print(f"model {entry['id']!r} ({entry['model_type']}, {entry['n_features']} features, "
          f"{entry['training']['rows']} rows) saved; sha256 {entry['sha256'][:16]}…")
    print(format_metrics(entry["metrics"]))


def _predict(service: TabularService, args: argparse.Namespace) -> None:
    if args.csv:
        entry = service.load(args.id, id_field="--id")
        names = entry["feature_names"]
        X, _, columns = parse_csv(_read(args.csv), "--csv", service.limits, args.target,
                                  labelled=args.target is not None)
        if list(columns) != names:
            raise InputError("--csv", f"columns {', '.join(columns)} differ from the model's features "
                             f"{', '.join(names)}")
        rows = X.tolist()
    else:
        rows = _read_json(args.json).get("X")
    result = service.predict(args.id, rows, rows_field="X", id_field="--id")
    print(json.dumps(result["predictions"], indent=1))


def _evaluate(service: TabularService, args: argparse.Namespace) -> None:
    X, y, _ = parse_csv(_read(args.csv), "--csv", service.limits, args.target)
    print(format_metrics(service.evaluate(args.id, X, y, id_field="--id", rows_field="--csv")))


def _list(service: TabularService, _: argparse.Namespace) -> None:
    models = service.list_models()["models"]
    if not models:
        print(f"no models in {service.registry.directory}")
        return
    print(f"{'id':<24} {'type':<20} {'features':>8} {'rows':>7}  created")
    for entry in models:
        demo = "  (demo)" if entry.get("demo") else ""
        print(f"{entry['id']:<24} {entry['model_type']:<20} {entry['n_features']:>8} "
              f"{entry['training']['rows']:>7}  {entry['created']}{demo}")


def _remove(service: TabularService, args: argparse.Namespace) -> None:
    service.remove(args.id, id_field="--id")
    print(f"model {args.id!r} removed")


def format_metrics(metrics: dict) -> str:
    """A plain-text table of hold-out (or evaluation) metrics."""
    if not metrics.get("rows"):
        return metrics.get("note", "no metrics")
    lines = [f"evaluated on {metrics['rows']} rows ({metrics.get('evaluated_on', 'given')})"]
    if "per_class" in metrics:
        lines.append(f"{'class':<16} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
        for label, row in metrics["per_class"].items():
            lines.append(f"{label:<16} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1']:>6.3f} "
                         f"{row['support']:>8}")
        lines.append(f"{'macro average':<16} {metrics['precision_macro']:>9.3f} {metrics['recall_macro']:>7.3f} "
                     f"{metrics['f1_macro']:>6.3f}")
        lines.append(f"accuracy {metrics['accuracy']:.3f}   ROC AUC {_number(metrics['roc_auc'])}")
    elif "precision" in metrics:
        lines.append(f"anomalies (labels other than {metrics['normal_label']!r}): {metrics['anomalies']}; "
                     f"precision {metrics['precision']:.3f}  recall {metrics['recall']:.3f}  "
                     f"F1 {metrics['f1']:.3f}  ROC AUC {_number(metrics['roc_auc'])}")
    else:
        lines.append(f"flagged as anomalies: {metrics['flagged_fraction']:.2%} (no labels to score against)")
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _parse_param(text: str) -> tuple[str, Any]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise InputError("--param", f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip(), json.loads(value)
    except ValueError:
        return name.strip(), value  # plain text such as --param kernel=rbf


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(str(path), f"cannot read the file ({error.strerror})") from None


def _read_json(path: Path) -> dict:
    try:
        body = json.loads(_read(path))
    except ValueError as error:
        raise InputError(str(path), f"not valid JSON ({error})") from None
    if not isinstance(body, dict):
        raise InputError(str(path), "expected a JSON object with X (and y, config)")
    return body


if __name__ == "__main__":
    sys.exit(main())
