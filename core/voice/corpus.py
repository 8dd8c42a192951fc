"""Example command sentences: the corpus the recogniser's language model learns from.

Each template expands ``(a|b)`` into alternatives and ``[a]`` into "with or without"; a slot
``{kind}`` takes numbers said as words (``{days}``, ``{epochs}``, ``{k}``, ``{width}``) or the
names of ``{category}``. These sentences stand in for the ones the command spec will generate:
the recogniser takes any list of sentences, so it does not depend on where they come from.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

from core.voice.numbers import say_digits, say_number

POLITE_STARTS: Final = ("", "please", "can you", "could you", "now")
TEMPLATES: Final = (
    # go
    "(go to|open|show|show me) [the] (overview|recommendations|data|runs|home) [page]",
    "(go to|open|show|show me) [the] purchase (prediction|predictions) [page]",
    # load_sample
    "load the sample [shop|data]",
    # filter
    "filter [by] category {category}",
    "(filter|show only|only show) {category}",
    "clear the filters",
    "(clear|reset|remove) [all] [the] filters",
    # period
    "show the last {days} days",
    "(show|use) the (last|past) {days} days",
    # layers
    "set [the] hidden layers to {layers}",
    "use [hidden] layers {layers}",
    # epochs
    "set [the] epochs to {epochs}",
    "(use|train for) {epochs} epochs",
    # horizon
    "set the horizon to {days} days",
    "(use|predict) [the next] {days} days",
    # top_k
    "show the top {k}",
    "set k to {k}",
    # train and stop
    "(train|fit) the model",
    "(start|begin) training",
    "stop [the] training",
    # show_user
    "show recommendations for user {user}",
    "show user {user}",
    "(recommend|recommendations) for user {user}",
    # compare_runs
    "compare the last {few} runs",
    "compare [the] runs",
    # report
    "(make|create|build) [a|the] report",
    # help
    "what can i say",
    "help",
    "(show|give me) [the] help",
)
_NUMBER_SLOTS: Final = {
    "days": (1, 365),
    "epochs": (1, 500),
    "k": (1, 100),
    "few": (2, 10),
}
_WIDTHS: Final = (8, 16, 32, 64, 128, 256, 512)


def expand(template: str) -> list[str]:
    """Every sentence of a template, slots left in place: "(a|b) [c]" -> a, a c, b, b c."""
    parts = re.split(r"(\([^)]*\)|\[[^\]]*\])", template)
    choices: list[list[str]] = []
    for part in parts:
        if part.startswith("("):
            choices.append(part[1:-1].split("|"))
        elif part.startswith("["):
            choices.append(["", *part[1:-1].split("|")])
        else:
            choices.append([part])
    return sorted({" ".join("".join(combo).split()) for combo in itertools.product(*choices)})


def example_sentences(
    categories: Iterable[str] = (), *, per_slot: int = 40, random_state: int = 0
) -> list[str]:
    """Command sentences from every template, each slot filled ``per_slot`` times with random
    values (numbers said as words, user ids also digit by digit), each sentence once plain and
    once after a polite start ("please", "can you"...).

    Args:
        categories: category names the filter commands may name (spoken as written, lower case).
        per_slot: sentences per template sentence that has a slot (at least 1).
        random_state: seed of the random numbers.
    """
    rng = random.Random(random_state)
    names = sorted({" ".join(name.lower().split()) for name in categories}) or ["shoes"]
    sentences: list[str] = []
    for template in TEMPLATES:
        for sentence in expand(template):
            for filled in _fill(sentence, names, per_slot, rng):
                start = rng.choice(POLITE_STARTS)
                sentences.extend([filled, f"{start} {filled}".strip()])
    return sentences


def _fill(
    sentence: str, categories: Sequence[str], times: int, rng: random.Random
) -> Iterator[str]:
    if "{" not in sentence:
        yield sentence
        return
    if "{category}" in sentence:
        for name in categories:
            yield sentence.replace("{category}", name)
        return
    for _ in range(times):
        yield re.sub(r"\{(\w+)\}", lambda slot: _say_slot(slot.group(1), rng), sentence)


def _say_slot(kind: str, rng: random.Random) -> str:
    if kind == "layers":
        widths = sorted(rng.sample(_WIDTHS, rng.randint(1, 3)), reverse=True)
        return " ".join(say_number(width) for width in widths)
    if kind == "user":
        user = rng.randint(1, 99_999)
        return say_digits(user) if rng.random() < 0.5 else say_number(user)
    low, high = _NUMBER_SLOTS[kind]
    return say_number(rng.randint(low, high))
