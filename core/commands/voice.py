"""A recogniser of spoken commands built from the command spec: its language model learns the
spec's example sentences, it knows the spec's vocabulary and the data's names, and of its best
hypotheses it hears the first the parser understands.

Importing this module loads pocketsphinx; ``core.commands`` itself does not.
"""

from __future__ import annotations

from core.commands.parser import CommandError, example_sentences, parse, vocabulary
from core.commands.spec import Names
from core.voice.recognise import Recogniser

# Example sentences the language model learns from. On the voice benchmark's 215 recordings
# (benchmarks/bench_voice.py) 1,000 understood 70.2%, 3,000 71.6% and 10,000 72.6%, built in
# 0.4, 0.8 and about 3 s.
SENTENCES = 3000


def recogniser(names: Names | None = None) -> Recogniser:
    """A recogniser of every command, knowing ``names`` (the categories and brands a filter
    may name; default: the sample shop's). Build it once per set of names: it takes about a
    second."""
    names = names or Names()
    return Recogniser(
        example_sentences(names, n=SENTENCES),
        extra_words=sorted(vocabulary(names)),
        accept=lambda text: understood(text, names),
    )


def understood(text: str, names: Names | None = None) -> bool:
    """Whether the parser reads ``text`` as a command (one whose value is out of range
    included: it was heard whole and is refused with its one line)."""
    try:
        return parse(text, names) is not None
    except CommandError:
        return True
