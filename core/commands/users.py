"""Finding the user a command names in the data: ``show user three two nine`` is ``u00329``.

A recogniser hears digits, not a user id's letters or leading zeros, so a said id matches a
user id exactly, or whatever its case, or by the number its digits make. An unknown id gets the
nearest ids as suggestions.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

SUGGESTED: Final = 5  # nearest ids offered for an unknown one


@dataclass(frozen=True)
class UserIds:
    """A dataset's user ids, and each id's digits without leading zeros (built once per
    dataset: ``u00329`` -> ``329``; ``""`` for an id without digits)."""

    ids: pd.Index
    numbers: pd.Series

    @classmethod
    def of(cls, user_ids: pd.Series | pd.Index) -> UserIds:
        """The distinct ids of ``user_ids``, as text."""
        ids = pd.Index(pd.unique(pd.Series(user_ids).astype("str").to_numpy()))
        digits = pd.Series(ids, dtype="str").str.replace(r"\D+", "", regex=True)
        number = digits.str.lstrip("0")
        return cls(ids, number.mask((number == "") & (digits != ""), "0"))


@dataclass(frozen=True)
class UserMatch:
    """The user a said id names (``None`` when none or several do), and others to suggest:
    every match when several do (``several``), else the nearest ids."""

    user: str | None
    candidates: tuple[str, ...] = ()
    several: bool = False


def _number(text: str) -> str:
    digits = "".join(c for c in text if c.isdigit())
    return digits.lstrip("0") or ("0" if digits else "")


def find_user(said: str, users: UserIds) -> UserMatch:
    """The user id ``said`` names: the same id, the same id in another case, or the one id
    whose digits make the same number (``329`` and ``00329`` name ``u00329``)."""
    said = str(said).strip()
    ids = users.ids
    if said in ids:
        return UserMatch(said)
    folded = ids[ids.str.casefold() == said.casefold()] if len(ids) else ids
    if len(folded) == 1:
        return UserMatch(str(folded[0]))
    number = _number(said)
    if number:
        same = ids[(users.numbers == number).to_numpy()]
        if len(same) == 1:
            return UserMatch(str(same[0]))
        if len(same) > 1:
            return UserMatch(None, tuple(str(u) for u in same[:SUGGESTED]), several=True)
    return UserMatch(None, _nearest(said, number, users))


def _nearest(said: str, number: str, users: UserIds) -> tuple[str, ...]:
    """The ids nearest to an unknown one: by number when it has digits, else by spelling."""
    if number and len(number) <= 15:  # exact in a float
        values = pd.to_numeric(users.numbers.where(users.numbers.str.len() <= 15), "coerce")
        distance = (values - float(number)).abs().to_numpy()
        usable = np.flatnonzero(np.isfinite(distance))
        order = usable[np.argsort(distance[usable], kind="stable")][:SUGGESTED]
        return tuple(str(users.ids[i]) for i in order)
    if len(users.ids) > 100_000:  # spelling is compared id by id: only on a sample of them
        pool = [str(u) for u in users.ids[:100_000]]
    else:
        pool = [str(u) for u in users.ids]
    return tuple(difflib.get_close_matches(said, pool, n=SUGGESTED, cutoff=0.5))
