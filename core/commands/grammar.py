"""The little grammar the command spec is written in, and its matcher.

A pattern is a line of words: ``set [hidden] layers to <hidden>``. In it,

- ``word`` must be said;
- ``(a|b c)`` is one of a few wordings, ``[a|b c]`` the same but optional;
- ``{open}`` is a group of synonyms defined once (``open``, ``show``, ``go to``, ...);
- ``<slot>`` is a value: a page, a number, a list of numbers, digits, a category or a brand.

Text is first cut into lower-case tokens, and polite words and articles are dropped (``can you
please open the overview`` -> ``open overview``), so patterns never spell them. A pattern
matches when it accounts for every token.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

# Said anywhere, meaning nothing: dropped before matching (longest first).
POLITE: Final = (
    ("would", "you", "mind"),
    ("i", "would", "like", "to"),
    ("id", "like", "to"),
    ("i", "want", "to"),
    ("i", "wanna"),
    ("go", "ahead", "and"),
    ("can", "you"),
    ("could", "you"),
    ("would", "you"),
    ("will", "you"),
    ("thank", "you"),
    ("let", "us"),
    ("for", "me"),
    ("please",),
    ("pls",),
    ("kindly",),
    ("lets",),
    ("thanks",),
    ("now",),
    ("just",),
    ("ok",),
    ("okay",),
    ("hey",),
)
ARTICLES: Final = frozenset({"the", "a", "an", "my", "our"})
# Words always dropped; a pattern may spell them only as optional words.
FILLERS: Final = frozenset({p[0] for p in POLITE if len(p) == 1} | ARTICLES)
# Every word of the polite phrases and articles, for a recogniser's vocabulary.
FILLER_WORDS: Final = frozenset({w for phrase in POLITE for w in phrase} | ARTICLES)

_WORD = re.compile(r"\d[\d,;x×\-]*\d|[^\W_]+|&")
_APOSTROPHES = re.compile(r"['’`]")


@dataclass(frozen=True)
class Token:
    """A word as matched (lower case) and as written (for typed ids)."""

    word: str
    raw: str


def tokens(text: str) -> list[Token]:
    """Lower-case word tokens of ``text``: punctuation dropped, ``&`` said as ``and``, digits
    with separators kept whole (``64,32``, ``1,000``), apostrophes removed (``what's`` ->
    ``whats``)."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", str(text)))
    found = []
    for match in _WORD.finditer(text):
        raw = match.group()
        word = "and" if raw == "&" else raw.casefold()
        found.append(Token(word, raw))
    return found


def without_fillers(found: Sequence[Token]) -> list[Token]:
    """``found`` without polite words and articles (``a`` before ``hundred`` or ``thousand``
    is the number one)."""
    kept: list[Token] = []
    i = 0
    while i < len(found):
        word = found[i].word
        following = found[i + 1].word if i + 1 < len(found) else ""
        if word == "a" and following in ("hundred", "thousand"):
            kept.append(Token("one", found[i].raw))
            i += 1
            continue
        phrase = next(
            (p for p in POLITE if tuple(t.word for t in found[i : i + len(p)]) == p), None
        )
        if phrase is not None:
            i += len(phrase)
            continue
        if word not in ARTICLES:
            kept.append(found[i])
        i += 1
    return kept


def words(text: str) -> tuple[str, ...]:
    """The words of ``text`` that matter, as matched: ``Can you open the Overview?`` ->
    ``("open", "overview")``."""
    return tuple(t.word for t in without_fillers(tokens(text)))


# --- patterns --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """One of a few wordings (each a sequence of words); ``optional`` may be left out."""

    choices: tuple[tuple[str, ...], ...]
    optional: bool = False


@dataclass(frozen=True)
class Slot:
    """A value in a pattern, by its name in the command's JSON."""

    name: str


Element = Words | Slot


@dataclass(frozen=True)
class Pattern:
    """A compiled pattern: its elements, and values it sets by itself (``compare runs`` ->
    ``count`` 2)."""

    text: str
    elements: tuple[Element, ...]
    constants: Mapping[str, Any] = field(default_factory=dict)


_PART = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|\{(\w+)\}|<(\w+)>|([^\s()\[\]{}<>]+)")
_GROUP = re.compile(r"\{(\w+)\}")
_PLAIN = re.compile(r"[a-z0-9]+")


def _wordings(alternative: str, groups: Mapping[str, tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The word sequences one alternative stands for: its words, each ``{group}`` replaced
    by every synonym of the group."""
    sequences: list[tuple[str, ...]] = [()]
    for word in alternative.split():
        named = _GROUP.fullmatch(word)
        if named is None:
            if not _PLAIN.fullmatch(word):
                raise ValueError(f"{word!r} is not a lower-case word (groups do not nest)")
            sequences = [(*s, word) for s in sequences]
            continue
        if named[1] not in groups:
            raise ValueError(f"no synonym group {named[1]!r}")
        sequences = [(*s, *c.split()) for s in sequences for c in groups[named[1]]]
    return sequences


def compile_pattern(
    text: str,
    groups: Mapping[str, tuple[str, ...]],
    constants: Mapping[str, Any] | None = None,
) -> Pattern:
    """``text`` in the grammar above as a :class:`Pattern`; ``groups`` are the synonyms.

    Articles may be spelled only as optional words of their own (``[the]``): they are never
    matched, since the text loses them first, but example sentences say them.

    Raises:
        ValueError: a pattern that spells a filler word where it would have to be said, names
            an unknown group, or has text outside the grammar (a mistake in the spec, found
            by its tests).
    """
    elements: list[Element] = []
    consumed = 0
    try:
        for part in _PART.finditer(text):
            between = text[consumed : part.start()]
            if between.strip():
                raise ValueError(f"cannot read {between!r}")
            consumed = part.end()
            required, optional, group, slot, word = part.groups()
            if slot is not None:
                elements.append(Slot(slot))
                continue
            source = required if required is not None else optional
            if group is not None:
                source = "{" + group + "}"
            elif source is None:
                source = word
            choices = [w for a in source.split("|") for w in _wordings(a, groups)]
            if any(not c for c in choices):
                raise ValueError("an empty wording")
            said = {w for c in choices for w in c}
            only_fillers = all(len(c) == 1 and c[0] in FILLERS for c in choices)
            if said & FILLERS and not (optional is not None and only_fillers):
                raise ValueError(f"fillers {sorted(said & FILLERS)} must be optional words")
            elements.append(Words(tuple(dict.fromkeys(choices)), optional=optional is not None))
        if text[consumed:].strip():
            raise ValueError(f"cannot read {text[consumed:]!r}")
    except ValueError as err:
        raise ValueError(f"pattern {text!r}: {err}") from None
    return Pattern(text, tuple(elements), dict(constants or {}))


# A slot's reader: given the tokens from a position, every (value, tokens used) it can read,
# longest first.
SlotReader = Callable[[Sequence[Token], int], Iterator[tuple[Any, int]]]


def match(
    pattern: Pattern, found: Sequence[Token], readers: Mapping[str, SlotReader]
) -> dict[str, Any] | None:
    """The slot values when ``pattern`` accounts for every token of ``found``, else None."""

    def walk(element: int, position: int, values: dict[str, Any]) -> dict[str, Any] | None:
        if element == len(pattern.elements):
            return values if position == len(found) else None
        part = pattern.elements[element]
        if isinstance(part, Slot):
            for value, used in readers[part.name](found, position):
                done = walk(element + 1, position + used, {**values, part.name: value})
                if done is not None:
                    return done
            return None
        for choice in sorted(part.choices, key=len, reverse=True):
            end = position + len(choice)
            if tuple(t.word for t in found[position:end]) == choice:
                done = walk(element + 1, end, values)
                if done is not None:
                    return done
        return walk(element + 1, position, values) if part.optional else None

    found_values = walk(0, 0, {})
    if found_values is None:
        return None
    return {**pattern.constants, **found_values}


def literal_words(pattern: Pattern) -> set[str]:
    """Every word a pattern may spell."""
    return {w for e in pattern.elements if isinstance(e, Words) for c in e.choices for w in c}
