"""Command line: ``python -m core inspect EVENTS [--products P] [--json]``.

Exit codes: 0 when the data loaded (even with rejected rows), 2 on an input error, whose
one-line message goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from core import schema
from core.errors import ShopLensError
from core.loading import ShopData, load_shop
from core.profile import profile_events


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m core", description="ShopLens tools")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="read an events export and report on it")
    inspect.add_argument("events", help="events file (CSV, .csv.gz, .zip, Parquet, .xlsx)")
    inspect.add_argument("--products", help="product table file")
    inspect.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=f"map a column by hand; fields: {', '.join(schema.EVENT_FIELDS)}",
    )
    inspect.add_argument("--date-order", choices=["auto", "dmy", "mdy"], default="auto")
    inspect.add_argument("--drop-duplicates", action="store_true")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        shop = load_shop(
            args.events,
            args.products,
            events_mapping=_mapping(args.map),
            date_order=args.date_order,
            drop_duplicates=args.drop_duplicates,
        )
    except ShopLensError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    summary = summarise(shop)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_text(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
