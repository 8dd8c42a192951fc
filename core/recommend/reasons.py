"""A plain reason for each recommendation, from the user's own events before the cutoff."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import numpy as np
import pandas as pd
from scipy import sparse

from core.recommend.interactions import Interactions, row_argmax
from core.recommend.model import Recommender
from core.recommend.photos import COLD_BUYERS, LOOKALIKE, lookalikes

REASON: Final = "reason"


# --- reasons -----------------------------------------------------------------------------


def _day(seconds: float) -> str:
    """A date from unix seconds, e.g. '3 May 2026'."""
    return _day_label(int(seconds) // 86_400)


@lru_cache(maxsize=4096)
def _day_label(day: int) -> str:
    when = pd.Timestamp(day * 86_400, unit="s")
    return f"{when.day} {when:%b %Y}"


def _closest_touched(
    inter: Interactions, users: np.ndarray, items: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each (user, item) pair: of the item's closest items, the one the user touched
    that is most similar to it (the lowest code among ties), and that similarity (0 when the
    user touched none of them).

    Each pair's history meets the item's own neighbour list (at most ``NEIGHBOURS`` long), so
    the cost stays small however many items count a popular item as their neighbour.
    """
    history = inter.weights[users]
    history.data.fill(1.0)  # a fresh copy: the user touched it
    closeness = sparse.csr_matrix(history.multiply(inter.similarity[items]))
    closeness.eliminate_zeros()
    return row_argmax(closeness)


def _top_categories(inter: Interactions, users: np.ndarray) -> np.ndarray:
    """Each user's category of the largest share (the lowest code among ties; 0 for a user
    with none), found once per user however many of their rows ``users`` holds."""
    unique, rows = np.unique(users, return_inverse=True)
    shares = sparse.csr_matrix(inter.user_category[unique])
    shares.eliminate_zeros()  # row_argmax reads stored entries, which must be positive
    top, _ = row_argmax(shares)
    return top[rows]


def explain(recommender: Recommender, recommendations: pd.DataFrame) -> pd.Series:
    """A plain reason for each recommendation, from the user's own events before the cutoff.

    In order: the user already viewed or carted the item; few users bought it yet and its photo
    looks like an item the user bought (named, with the date); it is a close neighbour of an
    item the user bought or viewed; its photo looks like an item the user bought; it is
    popular in one of the user's categories; it is popular across the shop.
    """
    inter = recommender.interactions
    users = recommendations["user"].to_numpy()
    items = recommendations["item"].to_numpy()
    if not len(users):
        return pd.Series([], dtype="str", index=recommendations.index)
    pair = (users, items)
    views = np.asarray(inter.views[pair]).ravel()
    carts = np.asarray(inter.carts[pair]).ravel()
    last_view = np.asarray(inter.last_view[pair]).ravel()
    last_cart = np.asarray(inter.last_cart[pair]).ravel()
    anchor, anchor_score = _closest_touched(inter, users, items)
    anchor_bought = np.asarray(inter.bought[users, anchor]).ravel() > 0
    anchor_touch = np.where(
        anchor_bought,
        np.asarray(inter.last_purchase[users, anchor]).ravel(),
        np.asarray(inter.last_touch[users, anchor]).ravel(),
    )
    category = inter.item_category[items]
    # The user's share of the item's category, and the user's top category (never a dense
    # users x categories matrix: a shop may have thousands of categories).
    share, top_category = np.zeros(len(items)), np.full(len(items), -1)
    if len(inter.category_names):
        known = category >= 0
        if known.any():
            share[known] = np.asarray(inter.user_category[users[known], category[known]]).ravel()
        top_category = _top_categories(inter, users)
    look_anchor, alike = np.full(len(items), -1), np.full(len(items), -np.inf)
    if recommender.photos is not None:
        look_anchor, alike = lookalikes(recommender.photos, inter.bought[users].tocsr(), items)
    looks_alike = alike >= LOOKALIKE
    buyers = inter.buyers[items]
    look_day = np.asarray(inter.last_purchase[users, np.maximum(look_anchor, 0)]).ravel()

    def looks_like(row: int) -> str:
        name = str(inter.item_names[look_anchor[row]])[:60]
        return f"looks like {name}, which you bought on {_day(look_day[row])}"

    reasons = []
    for row in range(len(users)):
        if carts[row] > 0 or views[row] > 0:
            if carts[row] > 0:
                what, when = f"you added it to your cart {int(carts[row])}×", last_cart[row]
            else:
                what, when = f"you viewed it {int(views[row])}×", last_view[row]
            reasons.append(f"{what}, last on {_day(when)}")
        elif looks_alike[row] and buyers[row] < COLD_BUYERS:
            reasons.append(looks_like(row))
        elif anchor_score[row] > 0 and anchor_touch[row] > 0:
            verb = "bought" if anchor_bought[row] else "looked at"
            name = str(inter.item_names[anchor[row]])[:60]
            reasons.append(
                f"often chosen together with {name}, which you {verb} on {_day(anchor_touch[row])}"
            )
        elif looks_alike[row]:
            reasons.append(looks_like(row))
        elif category[row] >= 0 and share[row] > 0:
            top = top_category[row] == category[row]
            label = "your top category" if top else "one of your categories"
            reasons.append(f"popular in {inter.category_names[category[row]]}, {label}")
        else:
            reasons.append("popular across the shop right now")
    return pd.Series(reasons, index=recommendations.index, dtype="str")
