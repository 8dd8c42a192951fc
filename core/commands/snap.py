"""The command sentence nearest to words a recogniser heard, for a hypothesis none of whose
alternatives the parser understands: "you me shopper eighty three thousand" is one word away
from "give me shopper eighty three thousand".

Nearness is a word-level edit distance between the heard words and every sentence a pattern of
the spec can say: leaving a word out or adding one costs 1, putting one word for another costs
how unlike they sound (their phones' edit distance over the longer pronunciation, 0 to 1).
Numbers are never guessed: a number slot takes heard number words as they are (the parser
reads them), while pages, categories and brands are words like the others, so "home page load"
is near the category "home decor".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np

from core.commands import numbers
from core.commands.grammar import Pattern, Slot, Token, Words, without_fillers
from core.commands.parser import PAGE_PHRASES, compiled, name_phrases, readers
from core.commands.spec import Names

# Names a category or brand slot is matched against word by word, at most; past that (a large
# catalogue) a heard name must be exact.
MAX_NAMES: Final = 200


@dataclass(frozen=True)
class Snapped:
    """The nearest command sentence and its distance from what was heard (in words)."""

    text: str
    distance: float


def _edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (x != y))
    return row[-1]


@dataclass(frozen=True)
class _Choices:
    """One element's wordings as indices into the snapper's words (-1 past a wording's end)."""

    wordings: tuple[tuple[str, ...], ...]
    indices: np.ndarray  # (wordings, longest wording)
    lengths: np.ndarray  # (wordings,)
    optional: bool


class Snapper:
    """Finds the command sentence nearest to heard words; built once per set of names.

    Args:
        names: the categories and brands a filter may name.
        pronunciations: each word the recogniser knows with its phones ("HH OW M"); a word
            without one is compared by its letters.
    """

    def __init__(self, names: Names, pronunciations: Mapping[str, str]) -> None:
        self._phones = {word: tuple(phones.split()) for word, phones in pronunciations.items()}
        self._readers = readers(names)
        phrases: dict[str, tuple[tuple[str, ...], ...] | None] = {"page": tuple(PAGE_PHRASES)}
        for kind, listed in (("category", names.categories), ("brand", names.brands)):
            found = tuple(name_phrases(listed))
            phrases[kind] = found if len(found) <= MAX_NAMES else None
        self._words: dict[str, int] = {}
        choices: dict[tuple[tuple[tuple[str, ...], ...], bool], _Choices] = {}
        self._patterns: list[tuple[Pattern, tuple[_Choices | Slot, ...]]] = []
        for command, patterns in compiled():
            for pattern in patterns:
                elements: list[_Choices | Slot] = []
                for element in pattern.elements:
                    if isinstance(element, Slot):
                        said = phrases.get(command.value(element.name).kind)
                        if not said:  # a number, or no names (or too many) to say
                            elements.append(element)
                            continue
                        element = Words(said)
                    key = (element.choices, element.optional)
                    if key not in choices:
                        choices[key] = self._choices(element)
                    elements.append(choices[key])
                self._patterns.append((pattern, tuple(elements)))
        self._vocabulary = tuple(self._words)
        self._unlike = lru_cache(maxsize=4096)(self._unlike_every_word)

    def _choices(self, element: Words) -> _Choices:
        longest = max(len(c) for c in element.choices)
        indices = np.full((len(element.choices), longest), -1)
        for row, wording in enumerate(element.choices):
            for column, word in enumerate(wording):
                indices[row, column] = self._words.setdefault(word, len(self._words))
        lengths = np.array([len(c) for c in element.choices])
        return _Choices(element.choices, indices, lengths, element.optional)

    def _unlike_every_word(self, heard: str) -> np.ndarray:
        """How unlike ``heard`` sounds from each of the snapper's words, 0 (the same) to 1."""
        x = self._phones.get(heard, tuple(heard))
        costs = []
        for word in self._vocabulary:
            y = self._phones.get(word, tuple(word))
            costs.append(0.0 if word == heard else _edit_distance(x, y) / max(len(x), len(y)))
        return np.array([*costs, 1.0])  # the last: past a wording's end (never used)

    def _distances(self, element: _Choices, unlike: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The edit distance between the element and the heard words from each start to each
        end, at its nearest wording, and that wording's index (both (starts, ends))."""
        n = unlike.shape[1]
        ends = np.arange(n + 1)
        # rows[c, i, j]: wording c's words so far against heard[i:j] (inf for j < i)
        rows = np.where(ends[None, :] >= ends[:, None], ends[None, :] - ends[:, None], np.inf)
        rows = np.broadcast_to(rows, (len(element.wordings), n + 1, n + 1)).copy()
        for k in range(element.indices.shape[1]):
            said = unlike[element.indices[:, k]][:, None, :]  # (wordings, 1, heard)
            step = np.empty_like(rows)
            step[:, :, 0] = rows[:, :, 0] + 1
            step[:, :, 1:] = np.minimum(rows[:, :, 1:] + 1, rows[:, :, :-1] + said)
            step = np.minimum.accumulate(step - ends, axis=2) + ends  # words heard but not said
            rows = np.where((k < element.lengths)[:, None, None], step, rows)
        nearest = rows.argmin(axis=0)
        return np.take_along_axis(rows, nearest[None], axis=0)[0], nearest

    def nearest(self, heard: str) -> Snapped | None:
        """The command sentence nearest to ``heard`` (ties: the spec's first pattern), or
        ``None`` when nothing was heard or no pattern can take its numbers."""
        found = without_fillers([Token(w, w) for w in heard.split()])
        words = [t.word for t in found]
        if not words:
            return None
        n = len(words)
        unlike = np.stack([self._unlike(word) for word in words], axis=1)  # (vocabulary, heard)
        distances: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        slots: dict[tuple[str, int], list[int]] = {}
        best: Snapped | None = None
        for _, elements in self._patterns:
            # cost[i]: the elements from here on against words[i:]; past the last element,
            # every word left is one too many
            cost = (n - np.arange(n + 1)).astype(float)
            steps: list[tuple[np.ndarray, _Choices | Slot, np.ndarray | None]] = []
            for element in reversed(elements):
                if isinstance(element, Slot):
                    new, ends = np.full(n + 1, math.inf), np.arange(n + 1)
                    for i in range(n + 1):
                        key = (element.name, i)
                        if key not in slots:
                            slots[key] = self._slot_lengths(element.name, found, i)
                        for used in slots[key]:
                            if cost[i + used] < new[i]:
                                new[i], ends[i] = cost[i + used], i + used
                    steps.append((ends, element, None))
                else:
                    if id(element) not in distances:
                        distances[id(element)] = self._distances(element, unlike)
                    spans, wording = distances[id(element)]
                    total = spans + cost[None, :]
                    ends = total.argmin(axis=1)
                    new = total[np.arange(n + 1), ends]
                    if element.optional:
                        skip = cost < new
                        new = np.where(skip, cost, new)
                        ends = np.where(skip, -1, ends)  # -1: left out
                    steps.append((ends, element, wording))
                cost = new
            cost += np.arange(n + 1)  # words heard before the first element: too many
            i = int(cost.argmin())
            if not math.isfinite(cost[i]) or (best is not None and cost[i] >= best.distance):
                continue
            distance, said = float(cost[i]), []
            for ends, element, wording in reversed(steps):
                end = int(ends[i])
                if end < 0:
                    continue
                if isinstance(element, Slot):
                    said += words[i:end]
                else:
                    assert wording is not None
                    said += element.wordings[int(wording[i, end])]
                i = end
            best = Snapped(" ".join(said), distance)
        return best

    def _slot_lengths(self, name: str, found: Sequence[Token], at: int) -> list[int]:
        """How many heard words from ``at`` the slot can take: number words only (a typed
        user id is never heard)."""
        return [
            used
            for _, used in self._readers[name](found, at)
            if all(t.word in numbers.WORDS for t in found[at : at + used])
        ]
