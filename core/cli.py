"""Command line: ``python -m core inspect|ingest|overview|purchase|recommend|sweep|features|
images|report|voice|command ...``.

``inspect`` reports on how an events export reads; ``ingest`` converts an export of any size
into a dataset on disk; ``overview`` prints the KPIs the Overview page
shows for a period, computed by the same call, and the period's postage and fee lines.
``purchase``, ``recommend`` and ``sweep`` train through the same services as the app and save
every model they train as a run; ``images train`` trains and scores a photo category model
(not saved as a run yet); ``report`` writes the stakeholder report of saved runs;
``voice`` says what a recorded command (a WAV file) is heard as and what it means;
``command`` says what a typed or spoken command means, as the app's command box reads it;
``features`` writes the per-user and user x item tables at a cutoff, by DuckDB or Spark.

Every option is checked by the constraint that defines its setting. Exit codes: 0 when the work
was done (data that loaded with rejected rows included), 2 on an input error, whose one-line
message goes to stderr (argparse's own errors add one line saying where the help is).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from core import batch, images, purchase, recommend, schema, services, sweep
from core import overview as an
from core.commands import Names, command_table, interpret
from core.config import MAX_SEED, load_settings
from core.data import nonproduct
from core.data.exports import atomic_write_bytes, to_safe_csv
from core.data.loading import ShopData, load_shop
from core.data.profile import item_names, profile_events
from core.data.reading import read_path
from core.datasets.ingest import REPORT, ingest
from core.datasets.store import find_dataset, open_dataset
from core.errors import ShopLensError
from core.ml import metrics as m
from core.ml.layers import format_hidden_layers
from core.ml.network import NetworkConfig
from core.ml.timesplit import as_day
from core.overview.columns import COUNT
from core.params import MAX_USERS, Constraint, SettingError, Whole
from core.report import build_report
from core.runs.names import clean_name, clean_tags
from core.runs.store import RunStore

NETWORK = NetworkConfig.CONSTRAINTS
JOBS: Constraint = Whole("The number of parallel jobs", 1, 64)


class _OptionError(argparse.ArgumentTypeError):
    """An option's value refused by its setting's constraint: its message says it all."""


class _Parser(argparse.ArgumentParser):
    """argparse with the project's errors: one line; argparse's own (an unknown or missing
    option) add a second line saying where the help is."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {' '.join(message.split())}", file=sys.stderr)
        handled = sys.exc_info()[1]
        if not isinstance(getattr(handled, "__context__", None), _OptionError):
            print(f"Run '{self.prog} --help' for the options.", file=sys.stderr)
        raise SystemExit(2)


def _option(constraint: Constraint) -> Callable[[str], Any]:
    """An argparse ``type`` that parses and checks an option with its setting's constraint."""

    def parse(text: str) -> Any:
        try:
            return constraint.parse(text)
        except SettingError as err:
            raise _OptionError(str(err)) from None

    parse.__name__ = constraint.label  # argparse names the type in some messages
    return parse


def _cutoff(text: str) -> pd.Timestamp:
    try:
        return as_day(text)
    except ShopLensError as err:
        raise _OptionError(str(err)) from None


def _day(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise _OptionError(f"'{text}' is not a day; write it as YYYY-MM-DD.") from None


def _seeds(text: str) -> list[int]:
    try:
        return sweep.parse_seeds(text)
    except ShopLensError as err:
        raise _OptionError(str(err)) from None


# --- reading the data ---------------------------------------------------------------------


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


def _check_source(args: argparse.Namespace) -> None:
    """One source is given: an events file (that is not a dataset's name) or --dataset."""
    if args.dataset:
        if args.events or args.products:
            raise ShopLensError(
                "Give an events file or --dataset, not both; a dataset holds its own products."
            )
        return
    if not args.events:
        raise ShopLensError(
            "Give an events file (CSV, .csv.gz, .zip, Parquet, .xlsx) or --dataset NAME."
        )
    if not Path(args.events).exists() and (_data_dir(args) / args.events / REPORT).is_file():
        raise ShopLensError(
            f"'{args.events}' is a dataset, not a file; give --dataset {args.events}."
        )


def _load(args: argparse.Namespace) -> ShopData:
    _check_source(args)
    if args.dataset:
        return open_dataset(_data_dir(args), args.dataset)
    return load_shop(
        args.events,
        args.products,
        events_mapping=_mapping(args.map),
        date_order=args.date_order,
        drop_duplicates=args.drop_duplicates,
    )


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


# --- the overview --------------------------------------------------------------------------


def _days(args: argparse.Namespace, options: an.FilterOptions) -> tuple[dt.date, dt.date]:
    """``--from`` and ``--to``, each defaulting to the data's first or last day; refused when
    the period lies wholly outside the data."""
    assert options.start is not None and options.end is not None
    first, last = options.start.date(), options.end.date()
    span = f"the data runs from {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    if args.first_day is not None and args.first_day > last:
        raise ShopLensError(
            f"--from {args.first_day:%Y-%m-%d} is after the data's last day; {span}, so pick "
            f"a --from on or before {last:%Y-%m-%d}."
        )
    if args.last_day is not None and args.last_day < first:
        raise ShopLensError(
            f"--to {args.last_day:%Y-%m-%d} is before the data's first day; {span}, so pick "
            f"a --to on or after {first:%Y-%m-%d}."
        )
    return (
        first if args.first_day is None else args.first_day,
        last if args.last_day is None else args.last_day,
    )


def _kpi_values(kpis: an.KpiTable, column: str, shown: Sequence[str]) -> dict[str, Any]:
    """Each KPI's value in ``column`` (``value`` or ``previous``): counts whole, ``None`` where
    undefined or where the data cannot answer it (as the page leaves its tile out)."""
    values: dict[str, Any] = {}
    for kpi, row in kpis.table.iterrows():
        value = float(row[column])
        if kpi not in shown or not math.isfinite(value):
            values[str(kpi)] = None
        else:
            values[str(kpi)] = int(value) if row[an.UNIT] == COUNT else value
    return values


def _non_product(shop: ShopData, period: an.Period) -> dict[str, Any]:
    """The period's non-product lines (postage, fees) by item, counted as the Data page counts
    them, and their totals."""
    events, products = shop.events.frame, shop.product_frame
    names = item_names(events, products) if schema.ITEM_ID in events.columns else None
    in_period = an.filter_events(events, products, **period)
    prices = nonproduct.list_prices(products)
    table = nonproduct.non_product_lines(in_period, names, list_prices=prices)
    lines, revenue = table[nonproduct.LINES], table[nonproduct.REVENUE]
    items = [
        {
            schema.ITEM_ID: str(row[schema.ITEM_ID]),
            schema.NAME: None if pd.isna(row[schema.NAME]) else str(row[schema.NAME]),
            nonproduct.LINES: int(row[nonproduct.LINES]),
            nonproduct.REVENUE: _number(row[nonproduct.REVENUE]),
        }
        for _, row in table.iterrows()
    ]
    return {
        "items": items,
        nonproduct.LINES: int(lines.sum()),
        nonproduct.REVENUE: float(revenue.sum()) if revenue.notna().any() else None,
    }


def _number(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


@dataclasses.dataclass(frozen=True)
class _OverviewKpis:
    """The page's KPI table for a period and the KPIs its tiles show."""

    first_day: dt.date
    last_day: dt.date
    kpis: an.KpiTable
    shown: list[str]
    data_start: pd.Timestamp


def _compute_overview_kpis(shop: ShopData, args: argparse.Namespace) -> _OverviewKpis:
    """The KPIs of the Overview page for the days of ``--from``/``--to``, by the page's call."""
    events, products = shop.events.frame, shop.product_frame
    options = an.list_filter_options(events, products)
    assert options.start is not None  # the loader refuses data without rows
    first_day, last_day = _days(args, options)
    period = an.period_of_days(first_day, last_day)
    kpis = an.compute_overview(events, products, **period).kpis
    return _OverviewKpis(
        first_day, last_day, kpis, kpis.answerable(options.event_types), options.start
    )


def _summarise_overview(shop: ShopData, result: _OverviewKpis) -> dict[str, Any]:
    """The overview summary as plain JSON-ready values: the period, its KPIs, those of the
    previous period of as many days, and the period's non-product lines."""
    kpis, first_day = result.kpis, result.first_day
    shown = list(result.shown)
    if kpis.has_revenue and an.NON_PRODUCT_REVENUE not in shown:
        shown.append(an.NON_PRODUCT_REVENUE)  # the page leaves out a 0, which is still known
    events = shop.events
    return {
        "period": {"start": f"{first_day:%Y-%m-%d}", "end": f"{result.last_day:%Y-%m-%d}"},
        "kpis": _kpi_values(kpis, an.VALUE, shown),
        "previous": {
            "start": f"{kpis.previous_start:%Y-%m-%d}",
            "end": f"{first_day - dt.timedelta(days=1):%Y-%m-%d}",
            "complete": kpis.previous_complete,
            "kpis": _kpi_values(kpis, an.PREVIOUS, shown),
        },
        "non_product_lines": _non_product(shop, an.period_of_days(first_day, result.last_day)),
        "rows_read": events.rows_read,
        "rows_kept": events.rows_kept,
        "rejected": events.rejected_counts,
    }


def _print_overview(summary: dict[str, Any], result: _OverviewKpis) -> None:
    """The period, one line per KPI the page shows (with its change), then the non-product
    lines; never ``nan`` or ``None``."""
    kpis = result.kpis
    period, previous = summary["period"], summary["previous"]
    days = (result.last_day - result.first_day).days + 1
    length = f"{days:,} day{'s' if days != 1 else ''}"
    print(
        f"Period: {period['start']} to {period['end']} ({length}), compared with the {length} "
        f"before: {previous['start']} to {previous['end']}"
    )
    rejected = summary["rows_read"] - summary["rows_kept"]
    if rejected:
        reasons = ", ".join(f"{count:,} {reason}" for reason, count in summary["rejected"].items())
        print(
            f"Note: {rejected:,} of {summary['rows_read']:,} rows were rejected while loading "
            f"({reasons}) and are left out; 'inspect' reports on them."
        )
    if kpis.table[an.PREVIOUS].isna().all():
        print("Note: the data starts inside this period, so there is nothing to compare with.")
    elif not kpis.previous_complete:
        print(
            f"Note: the data starts on {result.data_start:%Y-%m-%d}, inside the previous "
            "period, so its figures are undercounted and the changes too high."
        )
    if not kpis.has_revenue:
        print("Note: this data has no prices, so revenue and order values are not shown.")
    for kpi in result.shown:
        row = kpis.table.loc[kpi]
        value = an.format_kpi(kpis.value(kpi), str(row[an.UNIT]))
        change = an.format_change(row)
        print(f"{row[an.LABEL]}: {value}" + (f" ({change} on the previous)" if change else ""))
    lines = summary["non_product_lines"]
    if not lines["items"]:
        print("Lines that sell no product (postage, fees): none in this period")
        return
    print("Lines that sell no product (postage, fees):")
    for item in lines["items"]:
        name = f" {item[schema.NAME]}" if item[schema.NAME] else ""
        print(f"  {item[schema.ITEM_ID]}{name}: {_lines_and_revenue(item)}")
    print(f"  Total: {_lines_and_revenue(lines)}")


def _lines_and_revenue(entry: dict[str, Any]) -> str:
    count = f"{entry[nonproduct.LINES]:,} line{'s' if entry[nonproduct.LINES] != 1 else ''}"
    revenue = entry[nonproduct.REVENUE]
    return count if revenue is None else f"{count}, {an.format_kpi(revenue, an.MONEY)}"


def _json_safe(value: Any) -> Any:
    """NaN and infinities are not JSON: write them as null."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _store(args: argparse.Namespace) -> RunStore:
    """The runs folder named by ``--runs-dir``, else the configured one."""
    return RunStore(Path(args.runs_dir) if args.runs_dir else load_settings().runs_dir)


def _network(args: argparse.Namespace, **changes: Any) -> NetworkConfig:
    return dataclasses.replace(NetworkConfig(), epochs=args.epochs, **changes)


def _check_out_folder(out: str | None) -> Path | None:
    """``--out`` naming a folder (made when missing), refused when it is a file."""
    if out is None:
        return None
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ShopLensError(f"--out '{out}' is a file; name a folder for the CSV files.")
    return path


def _check_out_file(out: str | None, example: str) -> Path | None:
    """``--out`` naming a file, refused when it is a folder."""
    if out is None:
        return None
    path = Path(out)
    if path.is_dir():
        raise ShopLensError(f"--out '{out}' is a folder; name the file, e.g. {path / example}.")
    return path


def _write(path: Path, data: bytes) -> None:
    _write_with(path, lambda: atomic_write_bytes(path, data))


def _write_with(path: Path, write: Callable[[], object]) -> None:
    """Run ``write`` (which writes ``path`` atomically) in ``path``'s folder, made when
    missing; a failure is one line naming the file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write()
    except OSError as err:
        raise ShopLensError(
            f"{path.name} cannot be written ({err.strerror or type(err).__name__}); pick "
            "another --out."
        ) from None


# --- commands -----------------------------------------------------------------------------


def _inspect(args: argparse.Namespace) -> int:
    summary = summarise(_load(args))
    if args.json:
        print(json.dumps(_json_safe(summary), ensure_ascii=False))
    else:
        _print_text(summary)
    return 0


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else load_settings().data_dir


def _ingest(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    report = ingest(
        args.sources,
        name=args.name,
        data_dir=data_dir,
        products=args.products,
        mapping=_mapping(args.map),
        date_order=args.date_order,
    )
    summary = report.as_json()
    if args.json:
        keys = ("dataset", "rows_read", "rows_kept", "rejected", "users", "items", "start")
        print(json.dumps({k: summary[k] for k in (*keys, "end", "seconds")}, ensure_ascii=False))
        return 0
    print(f"Dataset:    {report.dataset} ({data_dir / report.dataset})")
    print(f"Format:     {report.export_format} ({report.read_as})")
    print(
        f"Rows:       {report.rows_read:,} read, {report.rows_kept:,} kept, "
        f"{report.duplicates:,} duplicates"
    )
    for reason, count in report.rejected.items():
        print(f"  rejected: {count:,} {reason}")
    print(f"Users:      {report.users:,}; {report.items:,} items")
    print(f"Time span:  {report.start} .. {report.end}")
    for note in report.notes:
        print(f"Note:       {note}")
    print(f"Took:       {report.seconds:.1f} s")
    return 0


def _overview(args: argparse.Namespace) -> int:
    if args.first_day and args.last_day and args.first_day > args.last_day:
        raise ShopLensError(
            f"--from {args.first_day:%Y-%m-%d} is after --to {args.last_day:%Y-%m-%d}; pick a "
            "--from on or before the --to."
        )
    shop = _load(args)
    result = _compute_overview_kpis(shop, args)
    summary = _summarise_overview(shop, result)
    if args.json:
        print(json.dumps(_json_safe(summary), ensure_ascii=False))
    else:
        _print_overview(summary, result)
    return 0


def _scores_json(scores: pd.DataFrame, keys: Sequence[str]) -> dict[str, dict[str, float]]:
    """Each model's scores (rows of ``scores``) on ``keys``, for the JSON report."""
    return {str(name): {key: float(scores.loc[name, key]) for key in keys} for name in scores.index}


def _print_report(
    args: argparse.Namespace,
    report: dict[str, Any],
    headline: str,
    table: pd.DataFrame,
    *,
    warnings: Sequence[str] = (),
) -> int:
    """A training's report: as one JSON object with ``--json``, else its headline, the score
    table and its warnings."""
    if args.json:
        print(json.dumps(_json_safe(report)))
        return 0
    print(headline)
    print(table.to_string(float_format=lambda v: f"{v:,.4f}"))
    for warning in warnings:
        print(f"warning: {warning}")
    return 0


def _saved(
    result: services.PurchaseResult | services.RecommendResult | services.ImageResult,
) -> str:
    if result.run_id is None:
        raise ShopLensError(result.save_problem or "The run could not be saved.")
    return result.run_id


def _purchase(args: argparse.Namespace) -> int:
    out = _check_out_folder(args.out)
    settings = services.PurchaseSettings(
        _network(args, hidden_layers=args.hidden, random_state=args.seed),
        args.horizon_days,
        args.cutoff,
        args.max_users,
    )
    tables = None if args.features is None else batch.FeatureTables.open(Path(args.features))
    shop = _load(args)
    data = None
    if tables is not None:
        tables.check_source(shop.events.frame)
        data = services.prepare_purchase(shop, settings, features_at=tables.users_at)
    result = services.train_purchase(
        shop, settings, _store(args), data=data, name=args.name, tags=tuple(args.tag)
    )
    run_id, data, models = _saved(result), result.data, result.models
    scores = result.evaluation.scores
    keys = purchase.REPORTED_SCORES
    report = {
        "run_id": run_id,
        "cutoff": f"{data.cutoff:%Y-%m-%d}",
        "horizon_days": data.horizon_days,
        "users": len(data.evaluation),
        "users_drawn": data.user_sample.drawn,
        "users_in_data": data.user_sample.total,
        "models": _scores_json(scores.loc[list(purchase.MODEL_NAMES)], keys),
        "train_seconds": round(models.train_seconds, 3),
        "epochs_run": list(models.epochs_run),
        "best_epochs": list(models.best_epochs),
        "bgnbd": {
            "purchase_days": float(data.evaluation[purchase.BGNBD_EXPECTED].sum()),
            "orders": float(scores.loc[purchase.BGNBD_NAME, m.TOTAL_PREDICTED]),
            "pooled_orders_per_day": data.order_scale.pooled,
            "own_scale_customers": data.order_scale.own_customers,
            "pooled_scale_customers": data.order_scale.pooled_customers,
            "own_scale_min_days": data.order_scale.min_days,
        },
    }
    if out is not None:
        users = result.evaluation.users.reset_index()
        _write(out / "purchase_evaluation.csv", to_safe_csv(users))
        _write(out / "purchase_predictions.csv", to_safe_csv(result.next_orders.reset_index()))
    headline = (
        f"Cutoff {report['cutoff']}, horizon {data.horizon_days} days, {report['users']:,} "
        f"users, trained in {models.train_seconds:.1f} s; saved as run {run_id}"
    )
    if tables is not None:
        headline += f"\nPer-user features read from {tables.folder}"
    bgnbd = purchase.describe_bgnbd(data)
    return _print_report(
        args,
        report,
        f"{headline}\n{bgnbd}" if bgnbd else headline,
        scores[list(keys)].rename(index=purchase.MODEL_LABELS),
        warnings=result.warnings,
    )


_RECOMMEND_SCORES = (m.PRECISION, m.RECALL, m.F1, m.MAP, m.NDCG, m.HIT_RATE, m.COVERAGE, m.NOVELTY)


def _recommend(args: argparse.Namespace) -> int:
    out = _check_out_file(args.out, "recommendations.csv")
    config = recommend.RecommenderConfig(
        network=_network(args, hidden_layers=args.hidden, random_state=args.seed),
        buy_again=args.buy_again,
        max_items=args.max_items,
    )
    settings = services.RecommendSettings(
        config, cutoff=args.cutoff, horizon_days=args.horizon_days, k=args.k
    )
    tables = None if args.features is None else batch.FeatureTables.open(Path(args.features))
    shop = _load(args)
    if tables is not None:
        tables.check_source(shop.events.frame)
    pairs_at = None if tables is None else tables.interactions_at
    result = services.train_recommender(
        shop, settings, _store(args), name=args.name, tags=tuple(args.tag), pairs_at=pairs_at
    )
    run_id, evaluation = _saved(result), result.evaluation
    assert evaluation is not None
    cutoff = result.settings.cutoff_for(shop.events.frame)
    report = {
        "run_id": run_id,
        "cutoff": f"{cutoff:%Y-%m-%d}",
        "horizon_days": args.horizon_days,
        "k": args.k,
        "users_evaluated": evaluation.users,
        "models": _scores_json(evaluation.scores, _RECOMMEND_SCORES),
        "fit_seconds": round(evaluation.fit_seconds, 3),
        "score_seconds": round(evaluation.score_seconds, 3),
    }
    if out is not None:
        # Deployment: fitted on all the data, top-k for every user with history; not a run.
        now = dataclasses.replace(settings, evaluate=False, cutoff=None)
        deployed = services.train_recommender(shop, now, None, pairs_at=pairs_at)
        if out.suffix.lower() == ".parquet":  # written a batch of users at a time
            _write_with(out, lambda: recommend.write_everyone(deployed.recommender, out, k=args.k))
        else:
            lists = recommend.recommend_everyone(deployed.recommender, k=args.k)
            _write(out, to_safe_csv(lists))
    headline = (
        f"Cutoff {report['cutoff']}, horizon {args.horizon_days} days, k = {args.k}, "
        f"{evaluation.users:,} users evaluated; fit {evaluation.fit_seconds:.1f} s, "
        f"scoring {evaluation.score_seconds:.1f} s; saved as run {run_id}"
    )
    if tables is not None:
        headline += f"\nUser x item tables read from {tables.folder}"
    return _print_report(
        args,
        report,
        headline,
        evaluation.scores[list(_RECOMMEND_SCORES)].rename(index=recommend.MODEL_LABELS),
    )


_SWEEP_COLUMNS = {
    "purchase": (m.MSE, m.MAE, m.R2, m.ACCURACY, m.ROC_AUC, m.PR_AUC),
    "recommend": (m.PRECISION, m.RECALL, m.MAP, m.NDCG, m.HIT_RATE, m.COVERAGE),
}


def _sweep(args: argparse.Namespace) -> int:
    hidden = args.hidden or [NetworkConfig().hidden_layers]
    seeds = args.seeds
    sweep.sweep_points(hidden, seeds)  # bad input fails before the data is read
    if args.backend == "dask":
        sweep.check_scheduler(args.scheduler)
    elif args.scheduler is not None:
        raise ShopLensError("--scheduler is for --backend dask; add --backend dask.")
    # The first seed also draws the training-row sample above the row limit, as --seed does.
    network = _network(args, random_state=seeds[0])
    metric = m.HEADLINE[args.task]

    def show_progress(done: int, total: int, run: sweep.SweepRun) -> None:
        value = run.metrics.get(metric)
        score = "n/a" if value is None else f"{value:.4f}"
        print(
            f"[{done}/{total}] {run.label}: "
            f"{metric} {score}, {run.train_seconds:.1f} s; saved as run {run.run_id}",
            flush=True,
        )

    common: dict[str, Any] = {
        "hidden": hidden,
        "seeds": seeds,
        "jobs": args.jobs,
        "on_done": None if args.json else show_progress,
        "backend": args.backend,
        "scheduler": args.scheduler,
        "name_prefix": args.name,
        "tags": (sweep.SWEEP_TAG, *args.tag),
    }
    shop = _load(args)
    base: sweep.Settings
    if args.task == "purchase":
        base = services.PurchaseSettings(network, args.horizon_days, args.cutoff, args.max_users)
    else:
        config = recommend.RecommenderConfig(
            network=network, buy_again=args.buy_again, max_items=args.max_items
        )
        base = services.RecommendSettings(
            config, cutoff=args.cutoff, horizon_days=args.horizon_days, k=args.k
        )
    result = sweep.sweep(shop, _store(args), base=base, **common)
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
    if best is not None:  # a sweep of the command line is never stopped: every point ran
        direction = "lowest" if m.lower_is_better(metric) else "highest"
        print(f"Best ({direction} {metric}): run {best.run_id}, {best.label}")
    return 0


def _features(args: argparse.Namespace) -> int:
    """The per-user and user x item tables at a cutoff, by DuckDB or Spark."""
    out = Path(args.out)
    if args.spark_master is not None and args.engine != "spark":
        raise ShopLensError("--spark-master is for --engine spark; add --engine spark.")
    master = args.spark_master or batch.DEFAULT_SPARK_MASTER
    _check_source(args)
    with tempfile.TemporaryDirectory(prefix="shoplens-features-") as folder:
        source = (
            find_dataset(_data_dir(args), args.dataset)
            if args.dataset
            else batch.write_source(_load(args), Path(folder))
        )
        result = batch.run_feature_job(
            source,
            out,
            engine=args.engine,
            cutoff=args.cutoff,
            spark_master=master,
            horizon_days=args.horizon_days,
        )
    if args.json:
        print(json.dumps(result.as_json()))
        return 0
    items = f"{result.user_items:,} user x item rows" if result.user_items else "no item ids"
    dates = (
        f", and the per-user table at the {len(result.dates)} dates purchase prediction with "
        f"a {result.horizon_days}-day horizon reads"
        if result.dates
        else ""
    )
    if result.interaction_dates:
        dates += (
            f", and the recommender's user x item table at the {len(result.interaction_dates)} "
            "dates it reads"
        )
    print(
        f"{result.engine}: cutoff {result.cutoff:%Y-%m-%d}, {result.users:,} users, {items}"
        f"{dates}; {result.seconds:.1f} s; written to {out}"
    )
    return 0


def _images(args: argparse.Namespace) -> int:
    network = dataclasses.replace(
        images.DEFAULT_NETWORK, hidden_layers=args.hidden, random_state=args.seed
    )
    if args.epochs is not None:
        network = dataclasses.replace(network, epochs=args.epochs)
    train = images.read_photo_list(Path(args.photos), label=args.label)
    test = images.read_photo_list(Path(args.test), label=args.label) if args.test else None
    settings = services.ImageSettings(
        network=network,
        mirrored=not args.no_mirror,
        features=images.COLOUR if args.colour_features else None,
    )
    result = services.train_images(
        train.photos,
        test.photos if test else None,
        settings,
        cache_dir=None if args.no_cache else load_settings().cache_dir,
        store=_store(args),
        label=args.label,
        source=Path(args.photos).name,
        name=args.name,
        tags=tuple(args.tag),
    )
    run_id = _saved(result)
    skipped = len(train.skipped) + (len(test.skipped) if test else 0)
    if args.json:
        summary = {
            "run_id": run_id,
            "images": result.train_photos,
            "test_images": result.test_photos,
            "classes": len(result.models.classes),
            "features": result.features,
            "skipped": skipped,
            "models": {
                name: {
                    "accuracy": score.accuracy,
                    "top3_accuracy": score.top3_accuracy,
                    "macro_f1": score.macro_f1,
                }
                for name, score in result.scores.items()
            },
            "similar_precision_at_5": result.similar_precision_at_5,
            "embed_seconds_per_image": result.embed_seconds_per_photo,
            "train_seconds": result.models.train_seconds,
        }
        print(json.dumps(_json_safe(summary)))
        return 0
    print(
        f"{result.train_photos} training photos, {result.test_photos} test photos, "
        f"{len(result.models.classes)} categories; features: {result.features}"
    )
    for photo_set in (train, test):
        for entry in (photo_set.skipped if photo_set else ())[:10]:
            print(f"skipped {entry.name}: {entry.reason}")
    if skipped:
        print(f"{skipped} entries skipped in all")
    table = pd.DataFrame(
        [
            {
                "model": name,
                "accuracy": score.accuracy,
                "top3_accuracy": score.top3_accuracy,
                "macro_f1": score.macro_f1,
            }
            for name, score in result.scores.items()
        ]
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"Visually similar: precision@5 {result.similar_precision_at_5:.4f}")
    print(
        f"Embedding: {result.embed_seconds:.1f} s ({result.embed_seconds_per_photo * 1000:.1f} ms"
        f" per new photo); training: {result.models.train_seconds:.1f} s, best epoch "
        f"{result.models.best_epoch}"
    )
    for warning in result.models.warnings:
        print(f"warning: {warning}")
    print(f"Saved as run {run_id}")
    return 0


def _report(args: argparse.Namespace) -> int:
    out = _check_out_file(args.out, "report.html")
    assert out is not None
    document = build_report(_store(args), args.run_ids, title=args.title)
    _write(out, document.encode("utf-8"))
    print(out)
    return 0


def _voice(args: argparse.Namespace) -> int:
    """What is heard in a recorded command and what the command parser makes of it, with the
    names of the given data (the sample shop's by default)."""
    from core.commands.voice import recogniser  # pocketsphinx loads only for this command
    from core.voice.wav import check_size, read_wav

    shown = f"'{args.wav}'"
    blob = read_path(args.wav)
    check_size(len(blob), name=shown)
    # Read once, and refused before the data is read and the recogniser built.
    samples = read_wav(bytes(blob), name=shown)
    names = _names(args)
    heard = recogniser(names).recognise_samples(samples)
    meaning = interpret(heard.text, names)
    if args.json:
        print(json.dumps({**meaning.as_json(), "seconds": round(heard.seconds, 3)}))
    elif not heard.text:
        print(f"Heard nothing ({heard.seconds:.2f} s)")
    else:
        print(f"{meaning.line()} ({heard.seconds:.2f} s)")
    return 0


def _names(args: argparse.Namespace) -> Names:
    """The categories and brands of the data given by --events or --dataset, or the sample
    shop's."""
    if not args.events and not args.dataset:
        return Names()
    shop = _load(args)
    options = an.list_filter_options(shop.events.frame, shop.product_frame)
    return Names(tuple(options.categories), tuple(options.brands))


def _command(args: argparse.Namespace) -> int:
    """What the command box would do with the text: a command, the problem with its value, or
    the nearest command to suggest (all exit 0); ``--list`` prints every command."""
    if args.list:
        print(command_table())
        return 0
    if args.text is None:
        raise ShopLensError(
            'Give the command\'s text, e.g. python -m core command "go to runs"; or --list '
            "for every command."
        )
    heard = interpret(args.text)
    if args.json:
        print(json.dumps(heard.as_json(), ensure_ascii=False))
    else:
        print(heard.line())
    return 0


# --- the parser ---------------------------------------------------------------------------


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "events", nargs="?", help="events file (CSV, .csv.gz, .zip, Parquet, .xlsx)"
    )
    parser.add_argument("--dataset", help="a dataset made by 'ingest', instead of a file")
    parser.add_argument("--drop-duplicates", action="store_true")
    _add_reading_arguments(parser)


def _add_reading_arguments(parser: argparse.ArgumentParser) -> None:
    """How events files are read and where datasets are kept, and ``--json``."""
    parser.add_argument("--products", help="product table file")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=f"map a column by hand; fields: {', '.join(schema.EVENT_MAPPING_FIELDS)}",
    )
    parser.add_argument("--date-order", choices=["auto", "dmy", "mdy"], default="auto")
    parser.add_argument(
        "--data-dir", help="where datasets are kept (default: SHOPLENS_DATA_DIR or ./datasets)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _add_run_arguments(parser: argparse.ArgumentParser, *, for_sweep: bool = False) -> None:
    parser.add_argument(
        "--runs-dir", help="folder of saved runs (default: SHOPLENS_RUNS_DIR or ./runs)"
    )
    what = "put before each saved run's name" if for_sweep else "a name for the saved run"
    parser.add_argument("--name", default="", help=what)
    parser.add_argument("--tag", action="append", default=[], help="a tag for the saved run(s)")
    if for_sweep:
        parser.add_argument(
            "--jobs",
            type=_option(JOBS),
            help="trainings run at once (default: the number of CPUs, or of the Dask "
            "cluster's worker threads)",
        )
        parser.add_argument(
            "--backend",
            choices=sweep.BACKENDS,
            default="loky",
            help="where the trainings run: local processes (loky, the default) or a Dask "
            "cluster (dask, with --scheduler)",
        )
        parser.add_argument(
            "--scheduler",
            metavar="tcp://HOST:PORT",
            help="the Dask scheduler's address (with --backend dask); its workers must see "
            "the runs folder at the same path",
        )


def _add_window_arguments(parser: argparse.ArgumentParser, *, k: bool = False) -> None:
    horizon = services.PurchaseSettings.CONSTRAINTS["horizon_days"]
    parser.add_argument(
        "--cutoff", type=_cutoff, help="evaluation date YYYY-MM-DD (default: end of data - H)"
    )
    parser.add_argument(
        "--horizon-days", type=_option(horizon), default=services.PurchaseSettings.horizon_days
    )
    if k:
        parser.add_argument(
            "--k",
            type=_option(services.RecommendSettings.CONSTRAINTS["k"]),
            default=services.RecommendSettings.k,
        )


def _add_network_arguments(parser: argparse.ArgumentParser, *, what: str, for_sweep: bool) -> None:
    layers = _option(NETWORK["hidden_layers"])
    if for_sweep:
        parser.add_argument(
            "--hidden",
            action="append",
            type=layers,
            metavar="WIDTHS",
            help=f"{what}, e.g. 64,32; repeat for each configuration (default: 64,32)",
        )
        parser.add_argument(
            "--seeds",
            type=_seeds,
            default=[NetworkConfig.random_state],
            help=f"seeds for every configuration, e.g. 0,1,2 (0 to {MAX_SEED})",
        )
    else:
        parser.add_argument(
            "--hidden",
            type=layers,
            default=NetworkConfig().hidden_layers,
            help=f"{what}, e.g. 64,32",
        )
        parser.add_argument(
            "--seed", type=_option(NETWORK["random_state"]), default=NetworkConfig.random_state
        )
    parser.add_argument("--epochs", type=_option(NETWORK["epochs"]), default=NetworkConfig.epochs)


def _add_purchase_arguments(parser: argparse.ArgumentParser, *, for_sweep: bool = False) -> None:
    _add_data_arguments(parser)
    _add_window_arguments(parser)
    _add_network_arguments(parser, what="hidden-layer widths", for_sweep=for_sweep)
    seed = "the first seed" if for_sweep else "--seed"
    parser.add_argument(
        "--max-users",
        type=_option(MAX_USERS),
        metavar="N",
        help=f"train and score every model on N users drawn at random with {seed} when the "
        "data has more (default: every user)",
    )
    if not for_sweep:
        parser.add_argument("--out", help="folder for per-user predictions (CSV)")
        parser.add_argument(
            "--features",
            metavar="DIR",
            help="read the per-user features from the folder of a 'features' job run with "
            "--horizon-days on the same data, cutoff and horizon (e.g. on a Spark cluster), "
            "instead of computing them",
        )
    _add_run_arguments(parser, for_sweep=for_sweep)


def _add_recommend_arguments(parser: argparse.ArgumentParser, *, for_sweep: bool = False) -> None:
    _add_data_arguments(parser)
    _add_window_arguments(parser, k=True)
    _add_network_arguments(parser, what="ranker hidden layers", for_sweep=for_sweep)
    parser.add_argument(
        "--buy-again", action="store_true", help="allow items the user already bought"
    )
    parser.add_argument(
        "--max-items",
        type=_option(recommend.RecommenderConfig.CONSTRAINTS["max_items"]),
        default=recommend.RecommenderConfig.max_items,
        help="item vocabulary: how many of the most active products may be recommended",
    )
    if not for_sweep:
        parser.add_argument(
            "--out",
            help="every user's top-k with reasons (all data): CSV, or Parquet for a name "
            "ending in .parquet (written a batch of users at a time)",
        )
        parser.add_argument(
            "--features",
            metavar="DIR",
            help="read the user x item tables from the folder of a 'features' job run with "
            "--horizon-days on the same data, cutoff and horizon (e.g. on a Spark cluster), "
            "instead of adding the events up",
        )
    _add_run_arguments(parser, for_sweep=for_sweep)


def _add_image_train_arguments(parser: argparse.ArgumentParser) -> None:
    _add_run_arguments(parser)
    parser.add_argument("photos", metavar="LIST.csv", help="CSV of photos: path,label")
    parser.add_argument("--test", metavar="LIST.csv", help="CSV of photos to score on")
    parser.add_argument("--label", required=True, help="the label column, e.g. category")
    parser.add_argument(
        "--hidden",
        type=_option(NETWORK["hidden_layers"]),
        default=images.DEFAULT_NETWORK.hidden_layers,
        help="hidden-layer widths, e.g. 256",
    )
    parser.add_argument(
        "--seed", type=_option(NETWORK["random_state"]), default=NetworkConfig.random_state
    )
    parser.add_argument("--epochs", type=_option(NETWORK["epochs"]), help="the most epochs")
    parser.add_argument(
        "--no-mirror", action="store_true", help="skip mirror images (half the embedding time)"
    )
    parser.add_argument(
        "--colour-features", action="store_true", help="colour features instead of the network"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="neither read nor keep cached embeddings"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m core", description="ShopLens tools")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="read an events export and report on it")
    _add_data_arguments(inspect)
    ingesting = commands.add_parser(
        "ingest",
        help="convert an export of any size into a dataset on disk (sorted, typed Parquet)",
        description="Read files, folders or patterns of one export a piece at a time, with the "
        "same recognition, mapping and validation as every other command, into a dataset "
        "folder of Parquet tables and a load report.",
    )
    ingesting.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="a file, a folder or a pattern ('logs/*.gz')"
    )
    ingesting.add_argument("--name", required=True, help="the dataset's name")
    _add_reading_arguments(ingesting)
    overview = commands.add_parser(
        "overview",
        help="the Overview page's KPIs for a period, and its postage and fee lines",
        description="The KPIs the Overview page shows for the days --from to --to (both "
        "included; default: all the data), each against the same number of days before.",
    )
    _add_data_arguments(overview)
    overview.add_argument(
        "--from",
        dest="first_day",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the period's first day (default: the data's first day)",
    )
    overview.add_argument(
        "--to",
        dest="last_day",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the period's last day, included (default: the data's last day)",
    )
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
    features = commands.add_parser(
        "features",
        help="the per-user features and user x item counts at a cutoff, as Parquet tables "
        "(DuckDB here, or Spark on a cluster)",
        description="Compute the purchase model's per-user features and the user x item "
        "aggregates from events strictly before the cutoff, with one SQL definition on every "
        "engine, into --out (users/, user_items/, features.json). With --json one object "
        '{"engine", "users", "user_items", "checksums", "seconds"}.',
    )
    _add_data_arguments(features)
    features.add_argument("--engine", choices=batch.ENGINES, default="duckdb")
    features.add_argument(
        "--spark-master",
        metavar="URL",
        help="where Spark runs: local[*] (default), local[N], spark://HOST:PORT, yarn, k8s://URL",
    )
    features.add_argument(
        "--cutoff",
        type=_cutoff,
        help="only events before this day, YYYY-MM-DD (default: end of data - "
        f"{services.PurchaseSettings.horizon_days} days, as the Purchase page)",
    )
    features.add_argument(
        "--horizon-days",
        type=_option(services.PurchaseSettings.CONSTRAINTS["horizon_days"]),
        metavar="H",
        help="also write the tables of every date purchase prediction and the recommender "
        "with this horizon read (users_by_date/, interactions_by_date/), for purchase and "
        "recommend --features; the default cutoff becomes end of data - H",
    )
    features.add_argument("--out", required=True, help="the folder to write the tables to")
    photos = commands.add_parser("images", help="product photos: category models")
    photo_commands = photos.add_subparsers(dest="images_command", required=True)
    _add_image_train_arguments(
        photo_commands.add_parser(
            "train",
            help="train a photo category model (MLP + baselines) and score it",
            description="Photos listed in a CSV with a 'path' column (relative to the CSV's "
            "folder) and a label column; scored on --test, or on a held-out fifth per label.",
        )
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
    voice = commands.add_parser(
        "voice",
        help="what is heard in a recorded command and the command it gives (16-bit PCM WAV, "
        "up to 15 s)",
        description="Recognise a spoken command offline and parse it as the app's command box "
        "does, with the category and brand names of --events or --dataset (default: the sample "
        'shop\'s): with --json one object {"heard": TEXT, "command": {...} | null, "seconds": S}. '
        "Other sample rates and stereo are converted to 16 kHz mono.",
    )
    voice.add_argument("wav", metavar="FILE.wav", help="the recording")
    names = voice.add_mutually_exclusive_group()
    names.add_argument("--events", help="events file whose category and brand names to know")
    names.add_argument("--dataset", help="a dataset made by 'ingest', whose names to know")
    voice.add_argument(
        "--data-dir", help="where datasets are kept (default: SHOPLENS_DATA_DIR or ./datasets)"
    )
    voice.add_argument("--json", action="store_true", help="print one JSON object")
    voice.set_defaults(products=None, map=[], date_order="auto", drop_duplicates=False)
    command = commands.add_parser(
        "command",
        help="what a typed or spoken command means, as the app's command box reads it",
        description="Parse TEXT as the app's command box does (names from the sample shop): "
        'with --json one object {"heard": TEXT, "command": {...} | null}, with "problem" when '
        'a value is out of range and "suggestion" when it is no command; exit 0 either way.',
    )
    command.add_argument("text", nargs="?", metavar="TEXT", help='e.g. "go to runs"')
    command.add_argument("--json", action="store_true", help="print one JSON object")
    command.add_argument(
        "--list", action="store_true", help="print every command with examples (Markdown)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help, or an option refused (already said on stderr)
        return done.code if isinstance(done.code, int) else 2
    run = {
        "inspect": _inspect,
        "ingest": _ingest,
        "overview": _overview,
        "purchase": _purchase,
        "recommend": _recommend,
        "sweep": _sweep,
        "features": _features,
        "images": _images,
        "report": _report,
        "voice": _voice,
        "command": _command,
    }[args.command]
    try:
        if args.command != "ingest" and getattr(args, "name", ""):  # before any training
            clean_name(args.name)
        clean_tags(getattr(args, "tag", []))
        return run(args)
    except ShopLensError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
