"""A recogniser of spoken commands built from the command spec: its language model learns the
spec's example sentences, it knows the spec's vocabulary and the data's names, and of its best
hypotheses it hears the first the parser understands, or else the command sentence nearest to
its best one.

Importing this module loads pocketsphinx; ``core.commands`` itself does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from core.commands.grammar import words as said_words
from core.commands.parser import CommandError, example_sentences, parse, vocabulary
from core.commands.snap import Snapper
from core.commands.spec import Names
from core.voice.recognise import Recogniser, pronunciations

# Example sentences the language model learns from. On the voice benchmark's 215 recordings
# (benchmarks/bench_voice.py), before snapping, 1,000 understood 70.2%, 3,000 71.6% and 10,000
# 72.6%, built in 0.4, 0.8 and about 3 s.
SENTENCES = 3000
# How far, per word heard, the nearest command sentence may be from a hypothesis the parser
# does not understand for it to be heard instead (leaving out or adding a word costs 1). On the
# tuning set (benchmarks/voice_tuning.py) snapping took intent accuracy from 56.9% to 66.7%
# (0.5 gave 65.5%, 0.3 62.6%); on the benchmark, measured once after, from 71.6% to 78.6%.
# Farther hypotheses stay as heard and are refused with a suggestion. With noise reduction and
# a sharper language model (core.voice.recognise, core.voice.denoise) after: tuning set 76.2%,
# benchmark 79.1% (measured once).
SNAP_DISTANCE: Final = 0.7
# Tried and left out, on the tuning set (76.2% with the settings above): decoding again with a
# language model of each intent the first pass's hypotheses name, and keeping the best-scoring
# one, 76.4-76.7%; decoding with every intent's own model and keeping the best, 73.8% (and
# 3.5 s a command). Even told the right intent, its own model hears 88.6% right: what is left
# is the acoustic model's, not the language model's.


def recogniser(names: Names | None = None) -> Recogniser:
    """A recogniser of every command, knowing ``names`` (the categories and brands a filter
    may name; default: the sample shop's). Build it once per set of names: it takes about a
    second."""
    names = names or Names()
    words = sorted(vocabulary(names))
    snapper = Snapper(names, pronunciations(words))
    return Recogniser(
        example_sentences(names, n=SENTENCES),
        extra_words=words,
        choose=lambda texts: command_heard(texts, names, snapper),
    )


def command_heard(hypotheses: Sequence[str], names: Names, snapper: Snapper) -> str:
    """What was said, of a recogniser's ``hypotheses`` (best first, at least one): the first
    the parser understands, else the command sentence nearest to the best one when it is near
    enough (``SNAP_DISTANCE``), else the best one."""
    understood_text = next((text for text in hypotheses if understood(text, names)), None)
    if understood_text is not None:
        return understood_text
    best = hypotheses[0]
    snapped = snapper.nearest(best)
    if snapped is not None and snapped.distance <= SNAP_DISTANCE * len(said_words(best)):
        return snapped.text
    return best


def understood(text: str, names: Names | None = None) -> bool:
    """Whether the parser reads ``text`` as a command (one whose value is out of range
    included: it was heard whole and is refused with its one line)."""
    try:
        return parse(text, names) is not None
    except CommandError:
        return True
