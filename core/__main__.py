"""Command line: ``python -m core inspect|purchase|recommend|sweep|report ...``.

``purchase``, ``recommend`` and ``sweep`` save every model they train as a run; ``report``
writes the stakeholder report of saved runs.

Exit codes: 0 when the data loaded (even with rejected rows), 2 on an input error, whose
one-line message goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from core import purchase, recommend, schema
from core.config import load_settings
from core.data.exports import atomic_write_bytes, to_safe_csv
from core.data.loading import ShopData, load_shop
from core.data.profile import profile_events
from core.errors import ShopLensError
from core.ml.network import NetworkConfig, format_hidden_layers, parse_hidden_layers
from core.runs import HEADLINE, LOWER_IS_BETTER, RunRecord, RunStore, clean_name, clean_tags, sweep
from core.runs.report import build_report


def _mapping(pairs: Sequence[str]) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep:
            raise ShopLensError(
                f"--map '{pair}' is not FIELD=COLUMN; write e.g. --map user_id=Kunde."
            )
        mapping[field.strip()] = column.strip() or None
    return mapping


def summarise(shop: ShopData) -> dict[str, Any]:
    """The inspect summary as plain JSON-ready values."""
    events = shop.events
    summary = profile_events(events.frame)
    result: dict[str, Any] = {
        "format": events.export_format.key,
        "format_label": events.export_format.label,
        "read_as": events.read_as,
        "mapping": events.mapping,
        "rows_read": events.rows_read,
        "rows_kept": events.rows_kept,
        "rejected": events.rejected_counts,
        "duplicates": events.duplicates,
        "users": summary.users,
        "items": summary.items,
        "event_types": {str(k): int(v) for k, v in summary.event_mix.items()},
        "start": summary.start.isoformat(),
        "end": summary.end.isoformat(),
        "notes": list(events.notes),
    }
    if shop.products is not None:
        result["products"] = {
            "rows_read": shop.products.rows_read,
            "rows_kept": shop.products.rows_kept,
            "rejected": shop.products.rejected_counts,
            "mapping": shop.products.mapping,
        }
    return result


def _print_text(summary: dict[str, Any]) -> None:
    print(f"Format:     {summary['format_label']} ({summary['read_as']})")
    print("Mapping:    " + ", ".join(f"{k} <- {v}" for k, v in summary["mapping"].items()))
    print(
        f"Rows:       {summary['rows_read']:,} read, {summary['rows_kept']:,} kept, "
        f"{summary['duplicates']:,} duplicates"
    )
    for reason, count in summary["rejected"].items():
        print(f"  rejected: {count:,} {reason}")
    items = "no item ids" if summary["items"] is None else f"{summary['items']:,} items"
    print(f"Users:      {summary['users']:,}; {items}")
    print("Events:     " + ", ".join(f"{k} {v:,}" for k, v in summary["event_types"].items()))
    print(f"Time span:  {summary['start']} .. {summary['end']}")
    for note in summary["notes"]:
        print(f"Note:       {note}")
    if "products" in summary:
        products = summary["products"]
        print(f"Products:   {products['rows_read']:,} read, {products['rows_kept']:,} kept")
        for reason, count in products["rejected"].items():
            print(f"  rejected: {count:,} {reason}")


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("events", help="events file (CSV, .csv.gz, .zip, Parquet, .xlsx)")
    parser.add_argument("--products", help="product table file")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=f"map a column by hand; fields: {', '.join(schema.EVENT_MAPPING_FIELDS)}",
    )
    parser.add_argument("--date-order", choices=["auto", "dmy", "mdy"], default="auto")
    parser.add_argument("--drop-duplicates", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _add_run_arguments(parser: argparse.ArgumentParser, *, for_sweep: bool = False) -> None:
    parser.add_argument(
        "--runs-dir", help="folder of saved runs (default: SHOPLENS_RUNS_DIR or ./runs)"
    )
    if for_sweep:
        parser.add_argument("--name", default="", help="put before each saved run's name")
        parser.add_argument("--tag", action="append", default=[], help="a tag for every run")
        parser.add_argument(
            "--jobs", type=int, help="trainings run at once (default: the number of CPUs)"
        )
    else:
        parser.add_argument("--name", default="", help="a name for the saved run")
        parser.add_argument("--tag", action="append", default=[], help="a tag for the saved run")


def _add_window_arguments(parser: argparse.ArgumentParser, *, k: bool = False) -> None:
    parser.add_argument("--cutoff", help="evaluation date YYYY-MM-DD (default: end of data - H)")
    parser.add_argument("--horizon-days", type=int, default=30)
    if k:
        parser.add_argument("--k", type=int, default=10)


def _add_network_arguments(parser: argparse.ArgumentParser, *, what: str, for_sweep: bool) -> None:
    if for_sweep:
        parser.add_argument(
            "--hidden",
            action="append",
            metavar="WIDTHS",
            help=f"{what}, e.g. 64,32; repeat for each configuration (default: 64,32)",
        )
    else:
        parser.add_argument("--hidden", default="64,32", help=f"{what}, e.g. 64,32")
    parser.add_argument("--epochs", type=int, default=200)
    if for_sweep:
        parser.add_argument(
            "--seeds", default="0", help="seeds for every configuration, e.g. 0,1,2"
        )
    else:
        parser.add_argument("--seed", type=int, default=0)


def _add_purchase_arguments(parser: argparse.ArgumentParser, *, for_sweep: bool = False) -> None:
    _add_data_arguments(parser)
    _add_window_arguments(parser)
    _add_network_arguments(parser, what="hidden-layer widths", for_sweep=for_sweep)
    if not for_sweep:
        parser.add_argument("--out", help="folder for per-user predictions (CSV)")
    _add_run_arguments(parser, for_sweep=for_sweep)


def _add_recommend_arguments(parser: argparse.ArgumentParser, *, for_sweep: bool = False) -> None:
    _add_data_arguments(parser)
    _add_window_arguments(parser, k=True)
    _add_network_arguments(parser, what="ranker hidden layers", for_sweep=for_sweep)
    parser.add_argument(
        "--buy-again", action="store_true", help="allow items the user already bought"
    )
    if not for_sweep:
        parser.add_argument("--out", help="CSV of every user's top-k with reasons (all data)")
    _add_run_arguments(parser, for_sweep=for_sweep)


def run_store(args: argparse.Namespace) -> RunStore:
    """The runs folder named by ``--runs-dir``, else the configured one."""
    return RunStore(Path(args.runs_dir) if args.runs_dir else load_settings().runs_dir)


def _save_run(args: argparse.Namespace, record: RunRecord, shop: ShopData) -> str:
    return run_store(args).save(record, shop, name=args.name, tags=tuple(args.tag))


def _load(args: argparse.Namespace) -> ShopData:
    return load_shop(
        args.events,
        args.products,
        events_mapping=_mapping(args.map),
        date_order=args.date_order,
        drop_duplicates=args.drop_duplicates,
    )


def _json_safe(value: Any) -> Any:
    """NaN and infinities are not JSON: write them as null."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _inspect(args: argparse.Namespace) -> int:
    summary = summarise(_load(args))
    if args.json:
        print(json.dumps(_json_safe(summary), ensure_ascii=False))
    else:
        _print_text(summary)
    return 0


def _purchase(args: argparse.Namespace) -> int:
    shop = _load(args)
    config = NetworkConfig(
        hidden_layers=parse_hidden_layers(args.hidden), epochs=args.epochs, random_state=args.seed
    )
    cutoff = _date(args.cutoff) if args.cutoff else None
    products = shop.products.frame if shop.products is not None else None
    started = time.perf_counter()
    data = purchase.build_purchase_data(
        shop.events.frame,
        products,
        cutoff=cutoff,
        horizon_days=args.horizon_days,
        random_state=args.seed,
    )
    models = purchase.train_purchase_models(data, config)
    evaluation = purchase.evaluate_purchase_models(models, data, random_state=args.seed)
    seconds = time.perf_counter() - started
    run_id = _save_run(args, purchase.purchase_run_record(models, evaluation, data), shop)
    keys = purchase.REPORTED_SCORES
    result = {
        "run_id": run_id,
        "cutoff": f"{data.cutoff:%Y-%m-%d}",
        "horizon_days": data.horizon_days,
        "users": len(data.evaluation),
        "models": {
            name: {k: float(evaluation.scores.loc[name, k]) for k in keys}
            for name in purchase.MODEL_NAMES
        },
        "train_seconds": round(seconds, 3),
        "epochs_run": list(models.epochs_run),
        "best_epochs": list(models.best_epochs),
    }
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(
            out / "purchase_evaluation.csv", to_safe_csv(evaluation.users.reset_index())
        )
        atomic_write_bytes(
            out / "purchase_predictions.csv",
            to_safe_csv(purchase.predict_next_orders(models, data).reset_index()),
        )
    if args.json:
        print(json.dumps(_json_safe(result)))
        return 0
    print(
        f"Cutoff {result['cutoff']}, horizon {data.horizon_days} days, "
        f"{result['users']:,} users, trained in {seconds:.1f} s; saved as run {run_id}"
    )
    table = evaluation.scores[list(keys)].rename(index=purchase.MODEL_LABELS)
    print(table.to_string(float_format=lambda v: f"{v:,.4f}"))
    for warning in models.warnings:
        print(f"warning: {warning}")
    return 0


def _recommend(args: argparse.Namespace) -> int:
    shop = _load(args)
    products = shop.products.frame if shop.products is not None else None
    events = shop.events.frame
    config = recommend.RecommenderConfig(
        network=NetworkConfig(
            hidden_layers=parse_hidden_layers(args.hidden),
            epochs=args.epochs,
            random_state=args.seed,
        ),
        buy_again=args.buy_again,
    )
    end = purchase.data_end_of(events)
    horizon = pd.Timedelta(days=args.horizon_days)
    cutoff = _date(args.cutoff) if args.cutoff else end - horizon
    fitted, evaluation = recommend.evaluate_recommender(
        events, products, cutoff=cutoff, horizon_days=args.horizon_days, k=args.k, config=config
    )
    record = recommend.recommender_run_record(
        fitted, evaluation, cutoff=cutoff, horizon_days=args.horizon_days, k=args.k, stopped=False
    )
    run_id = _save_run(args, record, shop)
    keys = ("precision", "recall", "f1", "map", "ndcg", "hit_rate", "coverage", "novelty")
    result = {
        "run_id": run_id,
        "cutoff": f"{cutoff:%Y-%m-%d}",
        "horizon_days": args.horizon_days,
        "k": args.k,
        "users_evaluated": evaluation.users,
        "models": {
            name: {key: float(evaluation.scores.loc[name, key]) for key in keys}
            for name in evaluation.scores.index
        },
        "fit_seconds": round(evaluation.fit_seconds, 3),
        "score_seconds": round(evaluation.score_seconds, 3),
    }
    if args.out:
        # Deployment: fitted on all the data, top-k for every user with history.
        deployed = recommend.fit_recommender(
            events, products, cutoff=end, horizon_days=args.horizon_days, config=config
        )
        out = Path(args.out)
        if out.parent != Path(""):
            out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, to_safe_csv(recommend.recommend_everyone(deployed, k=args.k)))
    if args.json:
        print(json.dumps(_json_safe(result)))
        return 0
    print(
        f"Cutoff {result['cutoff']}, horizon {args.horizon_days} days, k = {args.k}, "
        f"{evaluation.users:,} users evaluated; fit {evaluation.fit_seconds:.1f} s, "
        f"scoring {evaluation.score_seconds:.1f} s; saved as run {run_id}"
    )
    table = evaluation.scores[list(keys)].rename(index=recommend.MODEL_LABELS)
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    return 0


_SWEEP_COLUMNS = {
    "purchase": ("mse", "mae", "r2", "accuracy", "roc_auc", "pr_auc"),
    "recommend": ("precision", "recall", "map", "ndcg", "hit_rate", "coverage"),
}


def _sweep(args: argparse.Namespace) -> int:
    hidden = [parse_hidden_layers(text) for text in args.hidden or ["64,32"]]
    seeds = sweep.parse_seeds(args.seeds)
    jobs = args.jobs if args.jobs is not None else os.cpu_count() or 1
    sweep.sweep_points(hidden, seeds, jobs=jobs)  # bad input fails before the data is read
    shop = _load(args)
    cutoff = _date(args.cutoff) if args.cutoff else None
    # The first seed also draws the training-row sample above the row limit, as --seed does.
    network = NetworkConfig(epochs=args.epochs, random_state=seeds[0])
    metric = HEADLINE[args.task]

    def show_progress(done: int, total: int, run: sweep.SweepRun) -> None:
        value = run.metrics.get(metric)
        score = "n/a" if value is None else f"{value:.4f}"
        print(
            f"[{done}/{total}] {format_hidden_layers(run.hidden_layers)} seed {run.seed}: "
            f"{metric} {score}, {run.train_seconds:.1f} s; saved as run {run.run_id}",
            flush=True,
        )

    common: dict[str, Any] = {
        "hidden": hidden,
        "seeds": seeds,
        "cutoff": cutoff,
        "horizon_days": args.horizon_days,
        "jobs": jobs,
        "on_done": None if args.json else show_progress,
        "name_prefix": args.name,
        "tags": (sweep.SWEEP_TAG, *args.tag),
    }
    if args.task == "purchase":
        result = sweep.sweep_purchase(shop, run_store(args), base=network, **common)
    else:
        config = recommend.RecommenderConfig(network=network, buy_again=args.buy_again)
        result = sweep.sweep_recommend(shop, run_store(args), base=config, k=args.k, **common)
    if args.json:
        runs = [
            {
                "run_id": run.run_id,
                "hidden": format_hidden_layers(run.hidden_layers),
                "seed": run.seed,
                "metrics": run.metrics,
            }
            for run in result.runs
        ]
        print(json.dumps(_json_safe({"runs": runs, "best": result.best_run_id})))
        return 0
    keys = _SWEEP_COLUMNS[args.task]
    table = pd.DataFrame(
        [
            {
                "run": run.run_id,
                "hidden": format_hidden_layers(run.hidden_layers),
                "seed": run.seed,
                **{key: run.metrics.get(key) for key in keys},
                "seconds": run.train_seconds,
            }
            for run in result.runs
        ]
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="n/a"))
    best = result.best
    direction = "lowest" if metric in LOWER_IS_BETTER else "highest"
    print(
        f"Best ({direction} {metric}): run {best.run_id}, "
        f"{format_hidden_layers(best.hidden_layers)} seed {best.seed}"
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.is_dir():
        raise ShopLensError(
            f"--out '{out}' is a folder; name the file, e.g. {out / 'report.html'}."
        )
    document = build_report(run_store(args), args.run_ids, title=args.title)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, document.encode("utf-8"))
    except OSError as err:
        raise ShopLensError(
            f"The report cannot be written to {out} ({err.strerror or err}); pick another --out."
        ) from None
    print(out)
    return 0


def _date(text: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(text)
    except ValueError:
        raise ShopLensError(f"--cutoff '{text}' is not a date; write it as YYYY-MM-DD.") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m core", description="ShopLens tools")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="read an events export and report on it")
    _add_data_arguments(inspect)
    _add_purchase_arguments(
        commands.add_parser(
            "purchase", help="predict each customer's orders in the next H days (MLP + baselines)"
        )
    )
    _add_recommend_arguments(
        commands.add_parser(
            "recommend", help="evaluate the two-stage recommender and baselines at k"
        )
    )
    sweeping = commands.add_parser(
        "sweep", help="train every hidden-layers x seed combination in parallel, each as a run"
    )
    sweep_tasks = sweeping.add_subparsers(dest="task", required=True)
    _add_purchase_arguments(
        sweep_tasks.add_parser("purchase", help="sweep purchase prediction"), for_sweep=True
    )
    _add_recommend_arguments(
        sweep_tasks.add_parser("recommend", help="sweep the recommender's ranker"), for_sweep=True
    )
    reporting = commands.add_parser(
        "report", help="write a self-contained HTML report of saved runs (opens offline)"
    )
    reporting.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="runs to report on")
    reporting.add_argument("--out", required=True, help="the HTML file to write")
    reporting.add_argument("--title", default="ShopLens report", help="the report's heading")
    reporting.add_argument(
        "--runs-dir", help="folder of saved runs (default: SHOPLENS_RUNS_DIR or ./runs)"
    )
    args = parser.parse_args(argv)
    run = {
        "inspect": _inspect,
        "purchase": _purchase,
        "recommend": _recommend,
        "sweep": _sweep,
        "report": _report,
    }[args.command]
    try:
        if getattr(args, "name", ""):  # checked before any training, not after
            clean_name(args.name)
        clean_tags(getattr(args, "tag", []))
        return run(args)
    except ShopLensError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
