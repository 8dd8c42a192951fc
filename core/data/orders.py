"""What counts as an order, defined once for every figure and model.

An order is a distinct (user, ``order_id``) where a purchase line has an order id, else a
distinct (user, calendar day) with a purchase. Its time is that of its first line.
"""

from __future__ import annotations

from typing import Final

import numpy as np

DAY_NS: Final = 86_400 * 10**9


def order_keys(
    users: np.ndarray, times_ns: np.ndarray, order_codes: np.ndarray | None = None
) -> np.ndarray:
    """One integer key per purchase line; the lines of one order share a key.

    Args:
        users: each line's user code (0 or more).
        times_ns: each line's time as nanoseconds since the epoch (UTC).
        order_codes: each line's order id code, -1 where it has none (``None``: no order ids).

    Returns:
        int64 keys; equal keys mean the same user and the same order id, or, for lines without
        an order id, the same user and calendar day.
    """
    if len(users) == 0:
        return np.zeros(0, np.int64)
    day = np.asarray(times_ns, dtype=np.int64) // DAY_NS
    first_day = int(day.min())
    # Days come after every order id code, so a day never collides with an order id.
    codes = 0 if order_codes is None else int(np.max(order_codes, initial=-1)) + 1
    within = codes + (day - first_day)
    if order_codes is not None:
        within = np.where(order_codes >= 0, order_codes, within)
    span = codes + int(day.max()) - first_day + 1
    return np.asarray(users, dtype=np.int64) * span + within
