"""Pronunciations of the words a command may use, from pocketsphinx's US-English dictionary,
with a guess for words it lacks (brand and category names such as "jewellery").

The guess joins the pronunciations of dictionary words the unknown word is made of
("homeware" = "home" + "ware") and spells what is left with simple letter rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

_MIN_PIECE: Final = 3  # shorter dictionary "words" (letters, abbreviations) make poor pieces
# Longest spellings first; a rough English reading that is good enough for a name.
_LETTER_RULES: Final = (
    ("tch", "CH"),
    ("igh", "AY"),
    ("sh", "SH"),
    ("ch", "CH"),
    ("th", "TH"),
    ("ph", "F"),
    ("ng", "NG"),
    ("ck", "K"),
    ("qu", "K W"),
    ("ee", "IY"),
    ("ea", "IY"),
    ("oo", "UW"),
    ("ou", "AW"),
    ("ow", "OW"),
    ("ai", "EY"),
    ("ay", "EY"),
    ("oi", "OY"),
    ("oy", "OY"),
    ("er", "ER"),
    ("ir", "ER"),
    ("ur", "ER"),
    ("ar", "AA R"),
    ("or", "AO R"),
    ("a", "AE"),
    ("b", "B"),
    ("c", "K"),
    ("d", "D"),
    ("e", "EH"),
    ("f", "F"),
    ("g", "G"),
    ("h", "HH"),
    ("i", "IH"),
    ("j", "JH"),
    ("k", "K"),
    ("l", "L"),
    ("m", "M"),
    ("n", "N"),
    ("o", "AA"),
    ("p", "P"),
    ("q", "K"),
    ("r", "R"),
    ("s", "S"),
    ("t", "T"),
    ("u", "AH"),
    ("v", "V"),
    ("w", "W"),
    ("x", "K S"),
    ("y", "IY"),
    ("z", "Z"),
)


@functools.cache
def read_dictionary(path: Path) -> Mapping[str, str]:
    """Each word of a pocketsphinx dictionary file and its first pronunciation (phones
    separated by spaces); read once per process."""
    entries: dict[str, str] = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            word, _, phones = line.strip().partition(" ")
            if "(" not in word and phones:  # "word(2)" lines are alternatives
                entries.setdefault(word, phones.strip())
    return entries


def pronounce(words: Iterable[str], dictionary: Mapping[str, str]) -> dict[str, str]:
    """Each word (lower-case letters and apostrophes) with its pronunciation: the dictionary's,
    or a guess for a word it lacks (see the module's docstring)."""
    return {word: dictionary.get(word) or guess_pronunciation(word, dictionary) for word in words}


def guess_pronunciation(word: str, dictionary: Mapping[str, str]) -> str:
    """A pronunciation for a word missing from the dictionary: the longest dictionary words
    it starts with, one after another, and letter rules for the rest."""
    phones: list[str] = []
    rest = word.replace("'", "")
    while rest:
        piece = next(
            (
                rest[:end]
                for end in range(len(rest), _MIN_PIECE - 1, -1)
                if rest[:end] in dictionary
            ),
            None,
        )
        if piece is not None:
            phones.append(dictionary[piece])
            rest = rest[len(piece) :]
            continue
        spelling, sound = _letter_rule(rest)
        if sound and not (phones and phones[-1].endswith(sound)):  # "ll" is one sound
            phones.append(sound)
        rest = rest[len(spelling) :]
    return " ".join(phones)


def _letter_rule(text: str) -> tuple[str, str]:
    if text == "e":
        return "e", ""  # a final e is silent
    for spelling, sound in _LETTER_RULES:
        if text.startswith(spelling):
            return spelling, sound
    return text[0], ""  # a letter outside a-z says nothing
