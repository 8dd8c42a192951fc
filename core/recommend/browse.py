"""Recommendations for one user, for everyone, for a new visitor, and a user's history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import schema
from core.data.exports import atomic_writer
from core.data.orders import order_keys
from core.ml.metrics import RANK, SCORE
from core.recommend.interactions import UnknownUserError
from core.recommend.model import Recommender, recommend_users
from core.recommend.reasons import REASON, explain


@dataclass(frozen=True)
class UserActivity:
    """A user's exact counts: events, purchase lines and orders (as every figure counts them)."""

    events: int
    purchase_lines: int
    orders: int


def user_activity(
    events: pd.DataFrame, user_id: str, *, before: pd.Timestamp | None = None
) -> UserActivity:
    """How much ``user_id`` did (strictly before ``before``, when given): every event, not a
    sample of the newest."""
    mine = events[(events[schema.USER_ID] == str(user_id)).to_numpy()]
    if before is not None:
        mine = mine[(mine[schema.TIMESTAMP] < before).to_numpy()]
    bought = mine[(mine[schema.EVENT_TYPE].astype("str") == schema.PURCHASE).to_numpy()]
    codes = None
    if schema.ORDER_ID in bought.columns:
        codes, _ = pd.factorize(bought[schema.ORDER_ID], use_na_sentinel=True)
    times = np.asarray(bought[schema.TIMESTAMP].to_numpy(), dtype="datetime64[ns]").view(np.int64)
    keys = order_keys(np.zeros(len(bought), dtype=np.int64), times, codes)
    return UserActivity(len(mine), len(bought), len(np.unique(keys)))


def user_code(recommender: Recommender, user_id: str) -> int:
    """The position of ``user_id``; raises UnknownUserError with a one-line message."""
    position = recommender.interactions.user_ids.get_indexer([str(user_id)])[0]
    if position < 0:
        raise UnknownUserError(f"User '{user_id}' is not in this data; pick a user from the list.")
    return int(position)


EVERYONE_BATCH: Final = 20_000  # users per batch when every user's list is made


def recommend_everyone(recommender: Recommender, *, k: int) -> pd.DataFrame:
    """Top-k with reasons for every user with history (user_id, rank, item_id, name, score,
    reason; the name is the item id when the data names no product)."""
    batches = list(_everyone(recommender, k=k))
    if not batches:
        return pd.DataFrame(columns=list(EVERYONE_COLUMNS))
    return pd.concat(batches, ignore_index=True)


def write_everyone(
    recommender: Recommender,
    path: Path,
    *,
    k: int,
    on_batch: Callable[[int, int], None] | None = None,
) -> int:
    """Write every user's top-k with reasons (as ``recommend_everyone``) to a Parquet file,
    a batch of users at a time so memory stays bounded, through a temporary file that
    replaces ``path`` only when complete. Returns the rows written.

    Args:
        on_batch: told (users done, users in all) after each batch.
    """
    schema_ = pa.schema(
        [
            (schema.USER_ID, pa.string()),
            (RANK, pa.int64()),
            (schema.ITEM_ID, pa.string()),
            (schema.NAME, pa.string()),
            (SCORE, pa.float64()),
            (REASON, pa.string()),
        ]
    )
    rows = done = 0
    total = int((recommender.interactions.user_events > 0).sum())
    with atomic_writer(path) as file, pq.ParquetWriter(file, schema_) as writer:
        for batch in _everyone(recommender, k=k):
            table = pa.Table.from_pandas(
                batch.astype({schema.USER_ID: str, schema.ITEM_ID: str, schema.NAME: str}),
                schema=schema_,
                preserve_index=False,
            )
            writer.write_table(table)
            rows += len(batch)
            done += batch[schema.USER_ID].nunique()
            if on_batch is not None:
                on_batch(done, total)
    return rows


EVERYONE_COLUMNS: Final = (schema.USER_ID, RANK, schema.ITEM_ID, schema.NAME, SCORE, REASON)


def _everyone(recommender: Recommender, *, k: int) -> Iterator[pd.DataFrame]:
    """Every user's top-k with reasons, ``EVERYONE_BATCH`` users at a time."""
    inter = recommender.interactions
    users = np.flatnonzero(inter.user_events > 0)
    for start in range(0, len(users), EVERYONE_BATCH):
        lists = recommend_users(recommender, users[start : start + EVERYONE_BATCH], k=k)
        lists[REASON] = explain(recommender, lists)
        lists[schema.NAME] = inter.item_names[lists["item"].to_numpy()]
        yield lists[list(EVERYONE_COLUMNS)]


def recommend_for_user(recommender: Recommender, user_id: str, *, k: int) -> pd.DataFrame:
    """One user's top-k with score, category, price and a reason (fast: one user's scores)."""
    code = user_code(recommender, user_id)
    lists = recommend_users(recommender, np.array([code]), k=k)
    return _describe(recommender, lists.assign(**{REASON: explain(recommender, lists)}))


def popular_items(recommender: Recommender, *, limit: int) -> np.ndarray:
    """Positions of the ``limit`` most popular products known at the recommender's date,
    most popular first (non-product lines such as postage are never among them)."""
    inter = recommender.interactions
    order = inter.by_popularity
    return order[inter.known[order]][:limit]


def recommend_for_items(recommender: Recommender, item_ids: list[str], *, k: int) -> pd.DataFrame:
    """Cold start without retraining: neighbours of the items a new visitor clicked."""
    inter = recommender.interactions
    positions = inter.item_ids.get_indexer([str(i) for i in item_ids])
    positions = positions[positions >= 0]
    positions = positions[~inter.non_product[positions]]  # a click on postage says nothing
    if not len(positions):
        scores = inter.popularity.copy()
    else:
        scores = np.asarray(inter.similarity[positions].sum(axis=0)).ravel()
        scores = scores + 1e-6 * inter.popularity / max(inter.popularity.max(), 1e-9)
    scores[positions] = -np.inf
    names = [str(inter.item_names[p])[:60] for p in positions]
    reason = (
        f"close to what you clicked ({', '.join(names[:3])})"
        if len(positions)
        else "popular across the shop right now"
    )
    return _cold_start(recommender, scores, reason, k=k)


def popular_in_segment(recommender: Recommender, category: str | None, *, k: int) -> pd.DataFrame:
    """Cold start for a user with no history: the most popular items (in a category)."""
    inter = recommender.interactions
    scores = inter.popularity.astype(float).copy()
    if category is not None and category in set(inter.category_names):
        code = int(inter.category_names.get_loc(category))
        scores[inter.item_category != code] = -np.inf
    known = category is not None and category in set(inter.category_names)
    label = f"popular in {category}" if known else "popular across the shop right now"
    return _cold_start(recommender, scores, label, k=k)


def _cold_start(
    recommender: Recommender, scores: np.ndarray, reason: str, *, k: int
) -> pd.DataFrame:
    """The ``k`` best allowed items by ``scores`` for a visitor without history, each with
    the same reason."""
    inter = recommender.interactions
    scores = np.where(inter.allowed, scores, -np.inf)
    order = np.argsort(-scores, kind="stable")[:k]
    order = order[np.isfinite(scores[order])]
    frame = pd.DataFrame(
        {
            "user": -1,
            "item": order,
            SCORE: scores[order],
            RANK: np.arange(1, len(order) + 1),
            schema.ITEM_ID: inter.item_ids[order],
            REASON: reason,
        }
    )
    return _describe(recommender, frame)


def _describe(recommender: Recommender, frame: pd.DataFrame) -> pd.DataFrame:
    inter = recommender.interactions
    items = frame["item"].to_numpy()
    category = inter.item_category[items]
    return pd.DataFrame(
        {
            RANK: frame[RANK].to_numpy(),
            schema.ITEM_ID: inter.item_ids[items],
            schema.NAME: inter.item_names[items],
            schema.CATEGORY: [inter.category_names[c] if c >= 0 else None for c in category],
            schema.PRICE: inter.item_price[items],
            SCORE: frame[SCORE].to_numpy(),
            REASON: frame[REASON].to_numpy(),
        }
    )


HISTORY_COLUMNS: Final = (
    schema.TIMESTAMP,
    schema.EVENT_TYPE,
    schema.ITEM_ID,
    schema.NAME,
    schema.CATEGORY,
    schema.PRICE,
)


def user_history(
    events: pd.DataFrame,
    products: pd.DataFrame | None,
    user_id: str,
    *,
    before: pd.Timestamp | None = None,
    limit: int = 200,
) -> pd.DataFrame:
    """One user's events, newest first, with each product's name, category and price.

    Name and category come from the product table where it knows the item, else from the event
    itself; the price is the event's own price where it has one (what the user saw), else the
    product table's.

    Args:
        events: the canonical events frame.
        products: the product table, or ``None``.
        user_id: the user to show.
        before: only events strictly before this time (e.g. the evaluation cutoff).
        limit: the most events returned (the newest ones), at least 0.

    Returns:
        Columns ``HISTORY_COLUMNS`` (missing values where the data has no such field); empty
        when the user has no events before ``before``.

    Raises:
        UnknownUserError: ``user_id`` has no events at all.
    """
    mine = events[(events[schema.USER_ID] == str(user_id)).to_numpy()]
    if mine.empty:
        raise UnknownUserError(f"User '{user_id}' is not in this data; pick a user from the list.")
    if before is not None:
        mine = mine[(mine[schema.TIMESTAMP] < before).to_numpy()]
    mine = mine.sort_values(schema.TIMESTAMP, ascending=False, kind="stable").head(max(limit, 0))
    history = pd.DataFrame(index=range(len(mine)))
    for column in HISTORY_COLUMNS:
        values = mine[column] if column in mine.columns else pd.Series(pd.NA, index=mine.index)
        history[column] = values.astype("object").to_numpy()
    history[schema.TIMESTAMP] = mine[schema.TIMESTAMP].to_numpy()
    if products is not None and schema.ITEM_ID in products.columns and len(history):
        table = products.drop_duplicates(schema.ITEM_ID)
        table = table.set_index(table[schema.ITEM_ID].astype("str"))
        items = history[schema.ITEM_ID].astype("str")
        for column in (schema.NAME, schema.CATEGORY):
            if column in table.columns:
                known = items.map(table[column].astype("object"))
                history[column] = known.where(known.notna(), history[column])
        if schema.PRICE in table.columns:
            listed = items.map(table[schema.PRICE].astype("object"))
            history[schema.PRICE] = history[schema.PRICE].where(
                history[schema.PRICE].notna(), listed
            )
    history[schema.PRICE] = pd.to_numeric(history[schema.PRICE], errors="coerce")
    for column in (schema.EVENT_TYPE, schema.ITEM_ID, schema.NAME, schema.CATEGORY):
        history[column] = history[column].astype("str").where(history[column].notna(), None)
    return history
