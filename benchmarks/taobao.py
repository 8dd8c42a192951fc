"""A Taobao-shaped event log, generated: the layout and the shape of the public UserBehavior log.

Columns as in that log, without a header: user id, item id, category id, behaviour (pv, cart,
fav, buy) and a unix timestamp. About 100 events per user and 24 per item; user activity
follows a Pareto law and item popularity a Zipf law; the mix is view 89.5%, cart 5.5%,
fav 2.9%, buy 2.1% over 60 days. Written a block at a time, so any size fits in memory.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

BEHAVIOURS: Final = np.array(["pv", "cart", "fav", "buy"])
MIX: Final = (0.895, 0.055, 0.029, 0.021)
EVENTS_PER_USER: Final = 100
EVENTS_PER_ITEM: Final = 24
ITEMS_PER_CATEGORY: Final = 500
DAYS: Final = 60
START: Final = 1_511_539_200  # 2017-11-25 00:00 in Beijing (UTC+8), where the public log starts
BLOCK: Final = 1_000_000


def write_taobao(path: Path, events: int, *, seed: int = 0) -> None:
    """Write ``events`` Taobao-shaped events to the CSV ``path`` (no header), in time order."""
    rng = np.random.default_rng(seed)
    users = max(events // EVENTS_PER_USER, 1)
    items = max(events // EVENTS_PER_ITEM, 1)
    activity = rng.pareto(1.5, users) + 1.0
    activity /= activity.sum()
    popularity = 1.0 / np.arange(1, items + 1) ** 0.9
    popularity /= popularity.sum()
    item_ids = rng.permutation(items) + 1  # the most popular item is not item 1
    categories = rng.integers(1, max(items // ITEMS_PER_CATEGORY, 1) + 1, items)
    seconds = np.sort(rng.integers(0, DAYS * 86_400, events))
    options = pacsv.WriteOptions(include_header=False)
    schema = pa.schema(
        [
            ("user_id", pa.int64()),
            ("item_id", pa.int64()),
            ("category_id", pa.int64()),
            ("behavior_type", pa.string()),
            ("timestamp", pa.int64()),
        ]
    )
    with pacsv.CSVWriter(str(path), schema, write_options=options) as writer:
        for start in range(0, events, BLOCK):
            n = min(BLOCK, events - start)
            item = rng.choice(items, n, p=popularity)
            block = pa.table(
                {
                    "user_id": rng.choice(users, n, p=activity) + 1,
                    "item_id": item_ids[item],
                    "category_id": categories[item],
                    "behavior_type": BEHAVIOURS[rng.choice(4, n, p=MIX)],
                    "timestamp": START + seconds[start : start + n],
                },
                schema=schema,
            )
            writer.write_table(block)


if __name__ == "__main__":
    write_taobao(Path(sys.argv[1]), int(sys.argv[2]))


def taobao_dataset(given: str | None, scratch: Path, events: int) -> Path:
    """The dataset folder to measure: ``given`` (an existing dataset's folder), else a log of
    ``events`` events generated and ingested as the dataset ``taobao`` under ``scratch``."""
    if given:
        return Path(given)
    from core.datasets.ingest import ingest

    source = scratch / "UserBehavior.csv"
    write_taobao(source, events)
    ingest([source], name="taobao", data_dir=scratch / "datasets")
    source.unlink()
    return scratch / "datasets" / "taobao"
