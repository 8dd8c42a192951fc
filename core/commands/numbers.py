"""Numbers said as words, read back into numbers, and numbers written out as words.

A recogniser hears "one hundred twenty eight sixty four thirty two" or "one twenty eight"; a
user types "128" or "64,32". This module reads a run of such tokens as one number, a list of
numbers, or a string of digits said one by one ("one four six zero six" -> "14606"), and
writes numbers out as words again for the example sentences a recogniser's language model is
built from.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

UNITS: Final = {
    "zero": 0,
    "oh": 0,  # "one oh six", "zero zero seven"
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS: Final = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS: Final = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
HUNDRED: Final = "hundred"
THOUSAND: Final = "thousand"
AND: Final = "and"  # "one hundred and twenty eight"; between numbers of a list, a separator
# Words that may stand between the numbers of a list ("sixty four by thirty two").
LIST_SEPARATORS: Final = frozenset({AND, "by", "x", "comma", "then"})
NUMBER_WORDS: Final = frozenset({*UNITS, *TEENS, *TENS, HUNDRED, THOUSAND})
# Every word this module reads or writes, for a recogniser's vocabulary.
WORDS: Final = frozenset({*NUMBER_WORDS, *LIST_SEPARATORS})
MAX_DIGITS: Final = 30  # longer typed numbers stay text: every constraint refuses them

_TYPED_WHOLE = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")  # 1,000 or 1000
_TYPED_LIST = re.compile(r"\d+(?:\s*[,;x×\-]\s*\d+)*")  # 64,32 64x32 64-32
_SPLIT_LIST = re.compile(r"[,;x×\-]")


def is_typed(word: str) -> bool:
    """A token typed as digits (``128``, ``1,000``, ``64,32``)."""
    return bool(word) and word[0].isdigit() and _TYPED_LIST.fullmatch(word) is not None


def is_numeric(word: str) -> bool:
    """A token that can be part of a number or a list of numbers."""
    return word in WORDS or is_typed(word)


@dataclass(frozen=True)
class Chunk:
    """One number read from words: its value (a number typed too long to convert stays as its
    digits) and whether it was a single digit word."""

    value: int | str
    digit: bool = False  # "four", "oh": part of digits said one by one


def _below_hundred(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """``twenty``, ``twenty eight``, ``fourteen``, ``eight`` at ``i``: (value, next index)."""
    if i >= len(words):
        return None
    word = words[i]
    if word in TENS:
        if i + 1 < len(words) and words[i + 1] in UNITS and words[i + 1] != "oh":
            unit = UNITS[words[i + 1]]
            if unit:
                return TENS[word] + unit, i + 2
        return TENS[word], i + 1
    if word in TEENS:
        return TEENS[word], i + 1
    if word in UNITS and word != "oh":
        return UNITS[word], i + 1
    return None


def _hundreds(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """``one hundred [and] twenty eight``, ``twelve hundred``, ``hundred``: below 10,000."""
    head = _below_hundred(words, i)
    if head is not None and head[1] < len(words) and words[head[1]] == HUNDRED:
        value, j = head[0], head[1]
    elif i < len(words) and words[i] == HUNDRED:  # "hundred" alone: one hundred
        value, j = 1, i
    else:
        return None
    if value == 0:
        return None
    total, j = value * 100, j + 1
    k = j + 1 if j < len(words) and words[j] == AND else j
    rest = _below_hundred(words, k)
    if rest is not None:
        return total + rest[0], rest[1]
    return total, j


def _colloquial(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """``one twenty eight`` (128), ``nine ninety`` (990), ``one oh six`` (106)."""
    if i + 1 >= len(words) or words[i] not in UNITS or not UNITS[words[i]]:
        return None
    head, nxt = UNITS[words[i]], words[i + 1]
    if nxt in TENS or nxt in TEENS:
        rest = _below_hundred(words, i + 1)
        assert rest is not None
        return head * 100 + rest[0], rest[1]
    if nxt == "oh" and i + 2 < len(words) and words[i + 2] in UNITS and UNITS[words[i + 2]]:
        return head * 100 + UNITS[words[i + 2]], i + 3
    return None


def _small(words: Sequence[str], i: int) -> tuple[int, int] | None:
    """The longest number below 10,000 said at ``i``, without thousands."""
    found = [r for r in (_hundreds(words, i), _colloquial(words, i)) if r is not None]
    if found:
        return max(found, key=lambda r: r[1])
    return _below_hundred(words, i)


def _number(words: Sequence[str], i: int) -> tuple[Chunk, int] | None:
    """The longest number said at ``i``: thousands, hundreds, colloquial or below a hundred."""
    if i < len(words) and words[i] == "oh":
        return Chunk(0, digit=True), i + 1
    head = _small(words, i)
    if i < len(words) and words[i] == THOUSAND:  # "thousand" alone: one thousand
        head = (1, i)
    if head is not None and head[1] < len(words) and words[head[1]] == THOUSAND:
        total, j = head[0] * 1000, head[1] + 1
        k = j + 1 if j < len(words) and words[j] == AND else j
        rest = _small(words, k)
        if rest is not None and rest[0] < 1000:
            return Chunk(total + rest[0]), rest[1]
        return Chunk(total), j
    if head is None:
        return None
    single = head[1] == i + 1 and words[i] in UNITS
    return Chunk(head[0], digit=single), head[1]


def read_chunks(words: Sequence[str], *, separators: bool = False) -> list[Chunk] | None:
    """Every number said in ``words``, in order, or ``None`` when a word is not part of one.
    Typed tokens (``128``, ``64,32``) give their numbers; ``separators`` lets words such as
    "and" or "by" stand between numbers."""
    chunks: list[Chunk] = []
    i = 0
    while i < len(words):
        word = words[i]
        if is_typed(word):
            parts = _typed_parts(word)
            if parts is None:
                return None
            chunks += [Chunk(p) for p in parts]
            i += 1
            continue
        if separators and word in LIST_SEPARATORS and chunks and i + 1 < len(words):
            i += 1
            continue
        found = _number(words, i)
        if found is None:
            return None
        chunk, i = found
        chunks.append(chunk)
    return chunks


def _typed_parts(word: str) -> list[int | str] | None:
    """The numbers of a typed token; one too long for Python to convert stays as its digits
    (never a number in range)."""
    if _TYPED_WHOLE.fullmatch(word) and "," in word:  # 1,000 is one number, 64,32 two
        parts = [word.replace(",", "")]
    else:
        parts = [p.strip() for p in _SPLIT_LIST.split(word)]
    if any(not p for p in parts):
        return None
    return [int(p) if len(p) <= MAX_DIGITS else p for p in parts]


def read_number(words: Sequence[str]) -> int | str | None:
    """One number: ``one hundred twenty eight``, ``one twenty eight``, ``128``, ``1,000``, or
    digits said one by one (``one five zero`` -> 150). Digits typed past 30 stay text."""
    if len(words) > 1 and all(w in UNITS for w in words):
        return int("".join(str(UNITS[w]) for w in words))
    if len(words) == 1 and is_typed(words[0]):
        parts = _typed_parts(words[0])
        return parts[0] if parts is not None and len(parts) == 1 else None
    chunks = read_chunks(words)
    if chunks is None or len(chunks) != 1:
        return None
    return chunks[0].value


def read_numbers(words: Sequence[str]) -> tuple[int | str, ...] | None:
    """A list of numbers: ``one hundred twenty eight sixty four thirty two``, ``64,32``,
    ``sixty four by thirty two``."""
    chunks = read_chunks(words, separators=True)
    if not chunks:
        return None
    return tuple(c.value for c in chunks)


def read_digits(words: Sequence[str]) -> str | None:
    """Digits as said: one by one (``one four six zero six`` -> ``14606``, leading zeros
    kept), as a number (``twelve thousand seven hundred forty eight`` -> ``12748``), a mix of
    both, or typed (``14606``)."""
    if not words:
        return None
    if all(w in UNITS for w in words):
        return "".join(str(UNITS[w]) for w in words)
    chunks = read_chunks(words)
    if chunks is None:
        return None
    return "".join(str(c.value) for c in chunks)


# --- writing numbers as words -------------------------------------------------------------------

_UNIT_NAMES: Final = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
)
_TEEN_NAMES: Final = {v: k for k, v in TEENS.items()}
_TENS_NAMES: Final = {v: k for k, v in TENS.items()}


def _below_hundred_words(n: int) -> list[str]:
    if n < 10:
        return [_UNIT_NAMES[n]]
    if n < 20:
        return [_TEEN_NAMES[n]]
    tens, unit = divmod(n, 10)
    return [_TENS_NAMES[tens * 10], *([_UNIT_NAMES[unit]] if unit else [])]


def _below_thousand_words(n: int, *, british: bool) -> list[str]:
    hundreds, rest = divmod(n, 100)
    words = [_UNIT_NAMES[hundreds], HUNDRED] if hundreds else []
    if rest:
        words += ([AND] if british and hundreds else []) + _below_hundred_words(rest)
    return words


def number_words(n: int, *, british: bool = False) -> list[str]:
    """``n`` (0 to 999,999) in words: ``one hundred twenty eight`` (``british``: ``one
    hundred and twenty eight``)."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"{n} is not from 0 to 999,999")
    if n == 0:
        return ["zero"]
    thousands, rest = divmod(n, 1000)
    words = [*_below_thousand_words(thousands, british=british), THOUSAND] if thousands else []
    if rest:
        words += _below_thousand_words(rest, british=british)
    return words


def colloquial_words(n: int) -> list[str] | None:
    """``n`` from 101 to 999 said the short way (``one twenty eight``, ``one oh six``), or
    ``None`` when it has no short form."""
    hundreds, rest = divmod(n, 100)
    if not 1 <= hundreds <= 9 or rest == 0:
        return None
    if rest < 10:
        return [_UNIT_NAMES[hundreds], "oh", _UNIT_NAMES[rest]]
    return [_UNIT_NAMES[hundreds], *_below_hundred_words(rest)]


def digit_words(digits: str) -> list[str]:
    """Digits said one by one: ``14606`` -> ``one four six zero six``."""
    return [_UNIT_NAMES[int(d)] for d in digits]


def say_number(n: int, rng: random.Random) -> list[str]:
    """``n`` in words as someone might say it: the full form, with or without "and", or the
    short form of 101 to 999."""
    short = colloquial_words(n)
    style = rng.random()
    if short is not None and style < 0.35:
        return short
    return number_words(n, british=style > 0.8)
