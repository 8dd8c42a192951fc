"""A deterministic sample shop: believable events and products with signal worth learning.

Users belong to taste segments with one to three favourite categories and a price budget,
popularity is Zipf-like within each category, a bought item pulls its companions into the
user's later sessions, and items viewed again are more likely to be carted. That structure is
what lets personalised models beat a popularity baseline on the sample.

Run ``python -m core.data.sample`` (``make sample``) to rewrite ``data/sample_events.csv.gz`` and
``data/sample_products.csv``.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.catalogue import BRANDS, CATEGORIES
from core.schema import (
    BRAND,
    CART,
    CATEGORY,
    EVENT_TYPE,
    FAV,
    ITEM_ID,
    NAME,
    ORDER_ID,
    PRICE,
    PURCHASE,
    QUANTITY,
    RETURN,
    SESSION_ID,
    TIMESTAMP,
    USER_ID,
    VIEW,
)

EVENTS_FILE = "sample_events.csv.gz"
PRODUCTS_FILE = "sample_products.csv"

_STYLES = ("Classic", "Compact", "Deluxe", "Essential", "Everyday", "Premium", "Select")
_SEGMENTS: tuple[tuple[str, float, float, float, tuple[str, ...]], ...] = (
    ("home cooks", 0.22, 1.0, 1.0, ("Kitchen", "Grocery", "Home Decor", "Pets")),
    ("outdoor", 0.16, 1.2, 0.8, ("Outdoor", "Sports", "Garden", "Shoes")),
    ("parents", 0.20, 0.8, 1.5, ("Toys", "Baby", "Books", "Fashion")),
    ("beauty", 0.16, 1.1, 1.0, ("Beauty", "Health", "Jewellery", "Fashion")),
    ("tech", 0.14, 1.5, 0.6, ("Electronics", "Computers", "Gaming", "Music")),
    ("bookworms", 0.12, 0.7, 1.8, ("Books", "Office", "Music", "Home Decor")),
)
_WEEKDAY_WEIGHT = np.array([0.85, 0.85, 0.9, 0.95, 1.05, 1.3, 1.25])  # Monday first
_HOUR_WEIGHT = np.array(
    [
        1.2,
        0.7,
        0.4,
        0.3,
        0.3,
        0.5,
        1.0,
        2.0,
        3.0,
        3.5,
        4.0,
        4.5,
        5.0,
        4.5,
        4.0,
        4.0,
        4.5,
        5.0,
        6.0,
        7.0,
        7.5,
        7.0,
        5.0,
        2.5,
    ]
)
_DAY = 86_400


def _draw(weights: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one column per entry of ``rows`` from the categorical distribution in that row.

    Args:
        weights: non-negative matrix; every row needs a positive sum.
        rows: row index for each draw.
        rng: random generator.

    Returns:
        The drawn column indices, aligned with ``rows``.
    """
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    cum[:, -1] = 1.0
    # Offsetting row r by r turns all rows into one sorted array, so a single search suffices.
    flat = (cum + np.arange(len(weights))[:, None]).ravel()
    hits = np.searchsorted(flat, rows + rng.random(len(rows)), side="right")
    return hits - rows * weights.shape[1]


def _ids(prefix: str, codes: np.ndarray, width: int) -> np.ndarray:
    """Format integer codes as ids like ``u00042``."""
    labels = np.array(
        [f"{prefix}{i:0{width}d}" for i in range(int(codes.max(initial=-1)) + 1)], dtype=object
    )
    return labels[codes]


def _products(rng: np.random.Generator, n_items: int, n_cat: int) -> pd.DataFrame:
    """Build the catalogue: categories, brands, names and log-normal prices per category."""
    share = rng.dirichlet(np.full(n_cat, 5.0))
    # Every category gets at least one item so that every popularity row can be drawn from.
    cat = rng.permutation(
        np.concatenate([np.arange(n_cat), rng.choice(n_cat, n_items - n_cat, p=share)])
    )
    median = np.array([c[1] for c in CATEGORIES[:n_cat]], dtype=float)
    raw = median[cat] * np.exp(rng.normal(0.0, 0.55, n_items))
    price = np.round(np.maximum(np.round(raw) - 0.01, 0.99), 2)
    brands_per_cat = np.array([len(range(c, len(BRANDS), n_cat)) for c in range(n_cat)])
    brand = cat + n_cat * np.floor(rng.random(n_items) * brands_per_cat[cat]).astype(int)
    nouns = [c[3].split("|") for c in CATEGORIES]
    pick = rng.random(n_items)
    style = rng.integers(0, len(_STYLES), n_items)
    names = [
        f"{_STYLES[s]} {nouns[c][int(k * len(nouns[c]))]} ({BRANDS[b]})"
        for c, k, s, b in zip(cat, pick, style, brand, strict=True)
    ]
    return pd.DataFrame(
        {
            ITEM_ID: _ids("p", np.arange(n_items), 4),
            CATEGORY: np.array([c[0] for c in CATEGORIES], dtype=object)[cat],
            PRICE: price,
            BRAND: np.array(BRANDS, dtype=object)[brand],
            NAME: np.array(names, dtype=object),
        }
    )


@dataclass(frozen=True)
class SampleWorld:
    """The sample shop and the hidden tastes it was drawn from (known only to the generator).

    Attributes:
        events: the events.
        products: the product table.
        user_ids: user id of each row of ``taste``, ``budget`` and ``sensitivity``.
        taste: users x categories, how often each user browses each category (unnormalised).
        popularity: categories x items, each item's Zipf weight within its category.
        item_category: category code of each item (column of ``taste``).
        category_median_price: median price per category code.
        budget: each user's price budget, relative to a category's median price.
        sensitivity: how strongly each user shuns prices above their budget.
    """

    events: pd.DataFrame
    products: pd.DataFrame
    user_ids: np.ndarray
    taste: np.ndarray
    popularity: np.ndarray
    item_category: np.ndarray
    category_median_price: np.ndarray
    budget: np.ndarray
    sensitivity: np.ndarray

    @property
    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(events, products)``."""
        return self.events, self.products


def generate_sample_world(
    *,
    random_state: int = 7,
    n_users: int = 5000,
    n_items: int = 1000,
    n_categories: int = 20,
    start: str = "2026-05-01",
    days: int = 184,
) -> SampleWorld:
    """Generate a believable shop: about 40 events per user over ``days`` days.

    Args:
        random_state: seed; the same seed always gives the same frames.
        n_users: number of users.
        n_items: number of products (at least ``n_categories``).
        n_categories: number of categories, at most 20.
        start: first day of the period, ``YYYY-MM-DD``.
        days: length of the period in days; the newest users join in its last two months.

    Returns:
        the shop and the hidden tastes it was drawn from (for measuring how well any model
        could do on it); ``frames`` is ``(events, products)``. Events are sorted by timestamp
        and carry user, item, event type, timestamp (seconds), quantity, price, order id
        (purchases and returns only) and session id. Products carry item id, category, price,
        brand and name.

    Raises:
        ValueError: if a size is out of range.
    """
    if not (
        1 <= n_categories <= len(CATEGORIES)
        and n_items >= n_categories
        and n_users >= 1
        and days >= 3
    ):
        raise ValueError(
            f"need 1 <= n_categories <= {len(CATEGORIES)}, n_items >= n_categories, "
            "n_users >= 1 and days >= 3"
        )
    rng = np.random.default_rng(random_state)
    products = _products(rng, n_items, n_categories)
    names = [c[0] for c in CATEGORIES[:n_categories]]
    item_cat = pd.Categorical(products[CATEGORY], categories=names).codes.astype(np.int64)
    price = products[PRICE].to_numpy()
    median = np.array([c[1] for c in CATEGORIES[:n_categories]], dtype=float)

    # Zipf popularity inside each category, ranked in random order.
    order = np.lexsort((rng.random(n_items), item_cat))
    rank = np.empty(n_items, dtype=np.int64)
    rank[order] = np.arange(n_items) - np.searchsorted(item_cat[order], item_cat[order])
    popularity = np.zeros((n_categories, n_items))
    popularity[item_cat, np.arange(n_items)] = (rank + 1.0) ** -1.1

    related = np.array(
        [names.index(c[2]) if c[2] in names else i for i, c in enumerate(CATEGORIES[:n_categories])]
    )
    companion_cat = np.where(
        rng.random((n_items, 3)) < 0.6, item_cat[:, None], related[item_cat][:, None]
    )
    companions = _draw(popularity, companion_cat.ravel(), rng).reshape(n_items, 3)
    n_companions = 2 + (rng.random(n_items) < 0.5)

    # Users: segment -> favourite categories, budget and price sensitivity.
    seg = rng.choice(len(_SEGMENTS), n_users, p=[s[1] for s in _SEGMENTS])
    all_names = [c[0] for c in CATEGORIES]
    # With fewer categories, a segment's missing favourites fold onto the ones that exist.
    seg_cats = np.array([[all_names.index(n) % n_categories for n in s[4]] for s in _SEGMENTS])
    picks = np.argsort(rng.random((n_users, seg_cats.shape[1])), axis=1)[:, :3]
    favourite = seg_cats[seg[:, None], picks]
    stray = rng.random((n_users, 3)) < 0.15
    favourite[stray] = rng.integers(0, n_categories, stray.sum())
    n_fav = rng.choice([1, 2, 3], n_users, p=[0.35, 0.4, 0.25])
    taste = np.tile(0.25 * np.bincount(item_cat, minlength=n_categories) / n_items, (n_users, 1))
    for slot, weight in enumerate((0.45, 0.2, 0.1)):
        np.add.at(taste, (np.arange(n_users), favourite[:, slot]), weight * (slot < n_fav))
    budget = np.array([s[2] for s in _SEGMENTS])[seg] * np.exp(rng.normal(0, 0.25, n_users))
    sensitivity = np.array([s[3] for s in _SEGMENTS])[seg] * np.exp(rng.normal(0, 0.2, n_users))
    propensity = np.exp(rng.normal(0, 0.6, n_users))

    # Lifetimes: most users are there from early on, some join late, some churn.
    late_days = min(61, days // 3)
    late = rng.random(n_users) < 0.15
    # Existing customers come back within the first month; the rest arrive over the period.
    existing = rng.random(n_users) < 0.6
    join = np.where(
        late,
        days - late_days + rng.random(n_users) * late_days,
        rng.random(n_users) * np.where(existing, 30, days - late_days),
    )
    churn_at = join + 1 + rng.exponential(40, n_users)
    end = np.where(rng.random(n_users) < 0.3, np.minimum(churn_at, days), days)
    rate = np.exp(rng.normal(np.log(0.8), 1.1, n_users))  # sessions per 30 days, heavy-tailed
    n_sessions = 1 + np.minimum(rng.poisson(rate * (end - join) / 30), 120)

    # Session days favour weekends (rejection sampling); hours favour evenings.
    s_user = np.repeat(np.arange(n_users), n_sessions)
    when = np.empty(len(s_user))
    first_weekday = (np.datetime64(start, "D").astype(np.int64) + 3) % 7
    redo = np.ones(len(when), dtype=bool)
    while redo.any():
        when[redo] = join[s_user[redo]] + rng.random(redo.sum()) * (end - join)[s_user[redo]]
        weekday = (first_weekday + when.astype(np.int64)) % 7
        redo &= rng.random(len(when)) > _WEEKDAY_WEIGHT[weekday] / _WEEKDAY_WEIGHT.max()
    when[np.searchsorted(s_user, np.arange(n_users))] = join  # first visit on the joining day
    hour = rng.choice(24, len(when), p=_HOUR_WEIGHT / _HOUR_WEIGHT.sum())
    when = np.minimum(np.floor(when) + (hour + rng.random(len(when))) / 24, days - 0.25)
    order = np.lexsort((when, s_user))
    s_user, s_start = s_user[order], (when[order] * _DAY).astype(np.int64)
    n_s = len(s_user)
    s_last = np.searchsorted(s_user, s_user, side="right") - 1  # user's last session

    # Views: mostly favourite categories; some are re-views of items seen in earlier sessions.
    v_sess = np.repeat(np.arange(n_s), 1 + np.minimum(rng.poisson(rng.gamma(2, 2.2, n_s)), 29))
    v_user = s_user[v_sess]
    v_item = _draw(popularity, _draw(taste, v_user, rng), rng)
    u_first = np.searchsorted(v_user, v_user)
    s_first = np.searchsorted(v_sess, v_sess)
    again = (rng.random(len(v_sess)) < 0.18) & (s_first > u_first)
    pointer = np.arange(len(v_sess))
    pointer[again] = (u_first + rng.random(len(v_sess)) * (s_first - u_first)).astype(int)[again]
    while (pointer[pointer] != pointer).any():  # a re-view of a re-view sees the original item
        pointer = pointer[pointer]
    v_item = v_item[pointer]
    _, first_seen, inverse = np.unique(
        v_user * n_items + v_item, return_index=True, return_inverse=True
    )
    seen = first_seen[inverse] != np.arange(len(v_sess))

    def funnel(user: np.ndarray, item: np.ndarray, boost: np.ndarray) -> tuple[np.ndarray, ...]:
        """Decide fav, cart and purchase for views; affordable, liked items convert better."""
        cat = item_cat[item]
        fit = np.exp(
            -sensitivity[user] * np.maximum(np.log(price[item] / median[cat] / budget[user]), 0)
        )
        liking = 0.5 + 2.5 * taste[user, cat]
        p_cart = np.minimum(0.065 * boost * fit * liking * propensity[user], 0.9)
        cart = rng.random(len(item)) < p_cart
        buy = cart & (rng.random(len(item)) < 0.25 + 0.3 * fit)
        fav = rng.random(len(item)) < 0.04 + 0.06 * (1 - fit)  # wishlisting what's too dear
        return fav, cart, buy

    v_fav, v_cart, v_buy = funnel(v_user, v_item, np.where(seen, 2.0, 1.0))

    # Companions of bought items turn up, and often sell, in a later session of the same user.
    bought = np.flatnonzero(v_buy & (v_sess < s_last[v_sess]) & (rng.random(len(v_sess)) < 0.5))
    b_sess = v_sess[bought]
    c_sess = b_sess + 1 + (rng.random(len(bought)) ** 2 * (s_last[b_sess] - b_sess)).astype(int)
    slot = (rng.random(len(bought)) * n_companions[v_item[bought]]).astype(int)
    c_item = companions[v_item[bought], slot]
    c_fav, c_cart, c_buy = funnel(s_user[c_sess], c_item, np.full(len(bought), 4.0))

    sess = np.concatenate([v_sess, c_sess])
    item = np.concatenate([v_item, c_item])
    fav, cart, buy = (np.concatenate(p) for p in ((v_fav, c_fav), (v_cart, c_cart), (v_buy, c_buy)))
    order = np.lexsort((rng.random(len(sess)), sess))
    sess, item, fav, cart, buy = sess[order], item[order], fav[order], cart[order], buy[order]
    user = s_user[sess]

    # Clock: each view is followed by a dwell; fav and cart happen during it, checkout after.
    dwell = np.clip(rng.exponential(75, len(sess)), 8, 400).astype(np.int64)
    elapsed = np.cumsum(dwell) - dwell
    t_view = s_start[sess] + elapsed - elapsed[np.searchsorted(sess, sess)]
    checkout = (
        s_start
        + np.bincount(sess, weights=dwell, minlength=n_s).astype(np.int64)
        + rng.integers(30, 270, n_s)
    )
    qty = 1 + rng.binomial(2, np.where(price[item] < 15, 0.15, 0.04))
    ret = rng.random(buy.sum()) < 0.025  # some fall after the period end and are dropped
    t_return = checkout[sess[buy]][ret] + (_DAY * (2 + 12 * rng.random(ret.sum()))).astype(int)

    parts = [  # (rows, event code, time, session key, order key)
        (np.arange(len(sess)), 0, t_view, sess, -1),
        (np.flatnonzero(fav), 1, t_view[fav] + (0.3 * dwell[fav]).astype(int), sess[fav], -1),
        (np.flatnonzero(cart), 2, t_view[cart] + (0.6 * dwell[cart]).astype(int), sess[cart], -1),
        (np.flatnonzero(buy), 3, checkout[sess[buy]], sess[buy], sess[buy]),
        (np.flatnonzero(buy)[ret], 4, t_return, n_s + np.arange(ret.sum()), sess[buy][ret]),
    ]
    rows = np.concatenate([p[0] for p in parts])
    code = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
    t = np.concatenate([p[2] for p in parts])
    s_key = np.concatenate([p[3] for p in parts])
    o_key = np.concatenate([np.broadcast_to(p[4], len(p[0])) for p in parts])
    order = np.lexsort((np.arange(len(t)), code, t))
    order = order[t[order] < days * _DAY]
    rows, code, t, s_key, o_key = rows[order], code[order], t[order], s_key[order], o_key[order]
    code_qty = np.where(code >= 2, qty[rows], 1)

    has_order = o_key >= 0
    order_id = np.full(len(t), None, dtype=object)
    order_id[has_order] = _ids("o", pd.factorize(o_key[has_order])[0], 6)
    events = pd.DataFrame(
        {
            USER_ID: _ids("u", user[rows], 5),
            ITEM_ID: products[ITEM_ID].to_numpy(dtype=object)[item[rows]],
            EVENT_TYPE: np.array([VIEW, FAV, CART, PURCHASE, RETURN], dtype=object)[code],
            TIMESTAMP: np.datetime64(start, "s") + t.astype("timedelta64[s]"),
            QUANTITY: code_qty.astype(np.int64),
            PRICE: price[item[rows]],
            ORDER_ID: pd.Series(order_id, dtype="str"),
            SESSION_ID: _ids("s", pd.factorize(s_key)[0], 6),
        }
    )
    return SampleWorld(
        events=events,
        products=products,
        user_ids=_ids("u", np.arange(n_users), 5),
        taste=taste,
        popularity=popularity,
        item_category=item_cat,
        category_median_price=median,
        budget=budget,
        sensitivity=sensitivity,
    )


def write_sample_files(directory: Path, *, random_state: int = 7) -> tuple[Path, Path]:
    """Write the sample shop as ``sample_events.csv.gz`` and ``sample_products.csv``.

    The gzip header carries no timestamp, so rewriting gives byte-identical files.

    Args:
        directory: target folder, created if missing.
        random_state: seed passed to ``generate_sample_world``.

    Returns:
        The paths of the events file and the products file.
    """
    events, products = generate_sample_world(random_state=random_state).frames
    directory.mkdir(parents=True, exist_ok=True)
    events_path, products_path = directory / EVENTS_FILE, directory / PRODUCTS_FILE
    text = events.to_csv(index=False, date_format="%Y-%m-%d %H:%M:%S", lineterminator="\n")
    with events_path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(text.encode("utf-8"))
    products.to_csv(products_path, index=False, lineterminator="\n")
    return events_path, products_path


if __name__ == "__main__":
    for path in write_sample_files(Path(__file__).resolve().parents[2] / "data"):
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
