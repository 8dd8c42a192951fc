"""Everything generated from the command spec: the parser, suggestions, help, the
recogniser's vocabulary and example sentences, and the README's table of commands."""

from __future__ import annotations

import difflib
import json
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from core.commands import numbers
from core.commands.grammar import (
    FILLER_WORDS,
    Pattern,
    Slot,
    SlotReader,
    Token,
    Words,
    compile_pattern,
    literal_words,
    match,
    tokens,
    without_fillers,
)
from core.commands.grammar import words as said_words
from core.commands.spec import (
    COMMANDS,
    COMMANDS_BY_INTENT,
    GROUPS,
    MAX_USER_CHARS,
    PAGES,
    VALUES,
    Command,
    Names,
    Value,
    page_title,
)
from core.params import SettingError, shown

MAX_TOKENS: Final = 40  # no command is longer; longer text is not a command
_CLOSE: Final = 0.75  # how alike two words must be to count as a slip of one another
_SUGGESTED_NAMES: Final = 200  # names offered as suggestions, at most, per kind


class CommandError(SettingError):
    """A command heard whole, with a value its setting refuses (one line)."""


# --- the compiled spec -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def compiled() -> tuple[tuple[Command, tuple[Pattern, ...]], ...]:
    """Every command with its patterns compiled, in the spec's order (the first match wins)."""
    result = []
    for command in COMMANDS:
        patterns = []
        for entry in command.patterns:
            text, constants = (entry, {}) if isinstance(entry, str) else entry
            patterns.append(compile_pattern(text, GROUPS, constants))
        result.append((command, tuple(patterns)))
    return tuple(result)


def name_phrases(names: Sequence[str]) -> dict[tuple[str, ...], str]:
    """Each name by its words as matched; the value is the name in lower case."""
    index: dict[tuple[str, ...], str] = {}
    for name in names:
        key = said_words(name)
        if key:
            index.setdefault(key, " ".join(str(name).split()).lower())
    return index


PAGE_PHRASES: Final = {said_words(s): page.key for page in PAGES for s in page.said}


def _phrase_reader(index: Mapping[tuple[str, ...], str]) -> SlotReader:
    longest = max((len(k) for k in index), default=0)

    def read(found: Sequence[Token], at: int) -> Iterator[tuple[Any, int]]:
        for length in range(min(longest, len(found) - at), 0, -1):
            value = index.get(tuple(t.word for t in found[at : at + length]))
            if value is not None:
                yield value, length

    return read


def _numeric_end(found: Sequence[Token], at: int) -> int:
    end = at
    while end < len(found) and numbers.is_numeric(found[end].word):
        end += 1
    return end


def _number_reader(kind: str) -> SlotReader:
    read_value = {"number": numbers.read_number, "numbers": numbers.read_numbers}[kind]

    def read(found: Sequence[Token], at: int) -> Iterator[tuple[Any, int]]:
        for end in range(_numeric_end(found, at), at, -1):
            value = read_value([t.word for t in found[at:end]])
            if value is not None:
                yield value, end - at

    return read


def _digits_reader(found: Sequence[Token], at: int) -> Iterator[tuple[Any, int]]:
    """Digits said or typed; a single typed token is taken as written (``u00329``,
    ``00329``)."""
    for end in range(_numeric_end(found, at), at + 1, -1):
        value = numbers.read_digits([t.word for t in found[at:end]])
        if value is not None:
            yield value, end - at
    if at < len(found):
        token = found[at]
        if token.word in numbers.WORDS:
            value = numbers.read_digits([token.word])
            if value is not None:
                yield value, 1
        else:
            yield token.raw, 1


@lru_cache(maxsize=8)
def readers(names: Names) -> Mapping[str, SlotReader]:
    """Each slot's reader, built once per set of names: a recogniser parses up to a hundred
    hypotheses per recording, and a dataset may have thousands of brands."""
    by_kind: dict[str, SlotReader] = {
        "page": _phrase_reader(PAGE_PHRASES),
        "category": _phrase_reader(name_phrases(names.categories)),
        "brand": _phrase_reader(name_phrases(names.brands)),
        "number": _number_reader("number"),
        "numbers": _number_reader("numbers"),
        "digits": _digits_reader,
    }
    return {name: by_kind[value.kind] for name, value in VALUES.items()}


# --- parsing -----------------------------------------------------------------------------------


def _checked(command: Command, values: Mapping[str, Any]) -> dict[str, Any]:
    """The command's JSON, each value checked by its setting's constraint."""
    result: dict[str, Any] = {"intent": command.intent}
    for name, value in values.items():
        spec = command.value(name)
        if spec.constraint is not None:
            try:
                value = spec.constraint.check(value)
            except SettingError as err:
                raise CommandError(str(err)) from None
        if name == "user" and len(str(value)) > MAX_USER_CHARS:
            raise CommandError(
                f"A user id is at most {MAX_USER_CHARS} characters (got {shown(value)})."
            )
        result[name] = list(value) if isinstance(value, tuple) else value
    return result


def parse(text: str, names: Names | None = None) -> dict[str, Any] | None:
    """The command said or typed in ``text`` as JSON-ready values (``{"intent": "go", "page":
    "runs"}``), or ``None`` when it is no command. ``names`` are the categories and brands a
    filter may name (default: the sample shop's).

    Raises:
        CommandError: a command heard whole whose value is out of range, with one line that
            says which setting, what it accepts and what it got.
    """
    found = without_fillers(tokens(text))
    if not found or len(found) > MAX_TOKENS:
        return None
    slot_readers = readers(names or Names())
    for command, patterns in compiled():
        for pattern in patterns:
            values = match(pattern, found, slot_readers)
            if values is not None:
                return _checked(command, values)
    return None


def describe(command: Mapping[str, Any]) -> str:
    """What a parsed command does, e.g. ``open the Runs page``."""
    return COMMANDS_BY_INTENT[command["intent"]].describe(command)


@dataclass(frozen=True)
class Interpretation:
    """What was heard and what it means: a command, or the one-line problem with its value,
    or (neither) the nearest command's example."""

    heard: str
    command: dict[str, Any] | None
    problem: str | None = None
    suggestion: str | None = None

    def line(self) -> str:
        """``Heard: … → <action>``, the problem, or the suggestion."""
        heard = f"Heard: “{' '.join(self.heard.split())}”"
        if self.command is not None:
            return f"{heard} → {describe(self.command)}"
        if self.problem is not None:
            return f"{heard} → {self.problem}"
        return f"{heard} → not a command. Did you mean: “{self.suggestion}”?"

    def as_json(self) -> dict[str, Any]:
        """``{"heard": ..., "command": {...} | null}``, with ``problem`` or ``suggestion``
        when there is no command."""
        result: dict[str, Any] = {"heard": self.heard, "command": self.command}
        if self.problem is not None:
            result["problem"] = self.problem
        elif self.command is None:
            result["suggestion"] = self.suggestion
        return result


def interpret(text: str, names: Names | None = None) -> Interpretation:
    """``text`` parsed, its problem, or the nearest command to suggest."""
    try:
        command = parse(text, names)
    except CommandError as err:
        return Interpretation(text, None, problem=str(err))
    if command is None:
        problem = _unknown_name(text, names or Names())
        if problem is not None:
            return Interpretation(text, None, problem=problem)
        return Interpretation(text, None, suggestion=suggest(text, names))
    return Interpretation(text, command)


def _unknown_name(text: str, names: Names) -> str | None:
    """Why a filter that names a category or brand the data does not have cannot be carried
    out (read with every name the sample shop knows, it would be a command), or None."""
    if names == Names():
        return None
    as_sample = parse(text, Names())
    if as_sample is None or as_sample["intent"] != "filter":
        return None
    kind = "category" if "category" in as_sample else "brand"
    known = names.categories if kind == "category" else names.brands
    if not known:
        return f"this data has no {kind} names, so it cannot be filtered by {kind}."
    listed = ", ".join(known[:5]) + (", …" if len(known) > 5 else "")
    return f"'{as_sample[kind]}' is not a {kind} of this data (its {kind} names: {listed})."


# --- suggestions and help ------------------------------------------------------------------------


def _candidates(names: Names) -> list[str]:
    """Commands to suggest: the spec's examples this data can carry out, every page, and a
    filter by each of the data's names."""
    found = [said for command in COMMANDS for said, _ in command.examples]
    if names != Names():  # the examples name the sample shop's categories and brands
        found = [said for said in found if _parses(said, names)]
    found += [f"go to {page.title.lower()}" for page in PAGES]
    found += [f"filter category {n}" for n in names.categories[:_SUGGESTED_NAMES]]
    found += [f"filter brand {n}" for n in names.brands[:_SUGGESTED_NAMES]]
    return list(dict.fromkeys(found))


def _parses(text: str, names: Names) -> bool:
    try:
        return parse(text, names) is not None
    except CommandError:
        return False


def _close(word: str, others: set[str]) -> bool:
    """``word`` is one of ``others`` or a slip of one (``trian`` for ``train``)."""
    return word in others or bool(difflib.get_close_matches(word, others, n=1, cutoff=_CLOSE))


def suggest(text: str, names: Names | None = None) -> str:
    """The example of the command nearest to ``text``: most alike letter by letter among those
    sharing a word with it (a slip of a word counts), else ``what can I say``."""
    heard_words = said_words(text)[:MAX_TOKENS]
    help_example = COMMANDS_BY_INTENT["help"].examples[0][0]
    if not heard_words:
        return help_example
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(" ".join(heard_words))
    best, best_score = help_example, 0.0
    for candidate in _candidates(names or Names()):
        words = said_words(candidate)
        if not any(_close(w, set(words)) for w in heard_words if len(w) > 1):
            continue
        matcher.set_seq1(" ".join(words))
        score = matcher.ratio()
        if score > best_score:
            best, best_score = candidate, score
    return best


def where(intent: str, current: str) -> str | None:
    """The page a command is carried out on when said on ``current``: any page for a command
    of every page, its one page (switching there), ``current`` when it is one of the
    command's pages, else ``None`` (say which page first)."""
    pages = COMMANDS_BY_INTENT[intent].pages
    if not pages or current in pages:
        return current
    if len(pages) == 1:
        return pages[0]
    return None


def _pages_text(pages: Sequence[str]) -> str:
    titles = [page_title(p) for p in pages]
    return titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " or " + titles[-1]


def help_lines(page: str) -> list[str]:
    """What can be said on ``page``: one line per command with an example, then the commands
    of other pages that must be said there."""
    lines = []
    elsewhere: dict[tuple[str, ...], list[str]] = {}
    for command in COMMANDS:
        example = command.examples[0][0]
        if where(command.intent, page) is None:
            elsewhere.setdefault(command.pages, []).append(f"“{example}”")
            continue
        note = ""
        if command.pages and page not in command.pages:
            note = f" (on {_pages_text(command.pages)})"
        lines.append(f"“{example}” — {command.does}{note}")
    for pages, examples in elsewhere.items():
        lines.append(f"On {_pages_text(pages)}: {', '.join(examples)}")
    return lines


def command_table() -> str:
    """The commands as a Markdown table (the README's): examples, what each does, where it
    works, and the JSON the first example gives."""
    rows = [
        "| Say or type, for example | What it does | Where | JSON |",
        "|---|---|---|---|",
    ]
    for command in COMMANDS:
        said = " · ".join(f"“{s}”" for s, _ in command.examples[:3])
        if not command.pages:
            place = "any page"
        elif len(command.pages) == 1:
            place = f"{page_title(command.pages[0])} (from any page)"
        else:
            place = _pages_text(command.pages)
        first = {"intent": command.intent, **command.examples[0][1]}
        rows.append(
            f"| {said} | {command.does} | {place} | `{json.dumps(first, ensure_ascii=False)}` |"
        )
    return "\n".join(rows)


# --- for a recogniser: vocabulary and example sentences ---------------------------------------


def vocabulary(names: Names | None = None) -> set[str]:
    """Every word a command may contain, lower case: the patterns' words and synonyms, polite
    words and articles, number words, page names and the category and brand names."""
    names = names or Names()
    found: set[str] = set(FILLER_WORDS) | set(numbers.WORDS)
    for _, patterns in compiled():
        for pattern in patterns:
            found |= literal_words(pattern)
    for page in PAGES:
        for said in page.said:
            found.update(t.word for t in tokens(said))
    for name in (*names.categories, *names.brands):
        found.update(t.word for t in tokens(name) if not numbers.is_typed(t.word))
    return found


_POLITE_OPENINGS: Final = ("please", "can you", "could you", "would you", "i want to")
# Sentences that start with one of these may start politely ("can you open ...").
_VERBS: Final = frozenset(
    {
        c.split()[0]
        for g in ("open", "make", "start", "train", "stop", "load", "clear", "set", "use")
        for c in GROUPS[g]
    }
    | {"compare", "press", "predict", "download", "filter"}
)


@lru_cache(maxsize=8)
def _sayable(names: Names) -> dict[str, tuple[str, ...]]:
    """The category and brand names that have words to say, found once per set of names."""
    return {
        "category": tuple(n for n in names.categories if said_words(n)),
        "brand": tuple(n for n in names.brands if said_words(n)),
    }


def _say_value(spec: Value, names: Names, rng: random.Random) -> tuple[list[str], Any] | None:
    """Words saying a random value of a slot, and the value the parser gives them."""
    if spec.kind == "page":
        page = rng.choice(PAGES)
        return rng.choice(page.said).split(), page.key
    if spec.kind in ("category", "brand"):
        usable = _sayable(names)[spec.kind]
        if not usable:
            return None
        picked = rng.choice(usable)
        return [t.word for t in tokens(picked)], " ".join(str(picked).split()).lower()
    assert spec.sample is not None
    value = spec.sample(rng)
    if spec.kind == "number":
        return numbers.say_number(value, rng), value
    if spec.kind == "numbers":
        return [w for width in value for w in numbers.say_number(width, rng)], list(value)
    if value.startswith("0") or rng.random() < 0.5:
        return numbers.digit_words(value), value
    return numbers.number_words(int(value)), value


def _say(
    command: Command, pattern: Pattern, names: Names, rng: random.Random
) -> tuple[str, dict[str, Any]] | None:
    said: list[str] = []
    values: dict[str, Any] = dict(pattern.constants)
    for element in pattern.elements:
        if isinstance(element, Slot):
            found = _say_value(command.value(element.name), names, rng)
            if found is None:
                return None
            said += found[0]
            values[element.name] = found[1]
        elif isinstance(element, Words) and (not element.optional or rng.random() < 0.5):
            said += list(rng.choice(element.choices))
    if said and said[0] in _VERBS and rng.random() < 0.15:
        said = [*rng.choice(_POLITE_OPENINGS).split(), *said]
    elif rng.random() < 0.05:
        said.append("please")
    return " ".join(said), values


def generated_example(names: Names, rng: random.Random) -> tuple[str, dict[str, Any]] | None:
    """One random sentence said from a random pattern, and the JSON it was meant to give
    (unchecked: a few sentences are ambiguous when spoken, e.g. "two hundred sixty four")."""
    command, patterns = rng.choice(compiled())
    found = _say(command, rng.choice(patterns), names, rng)
    if found is None:
        return None
    sentence, values = found
    return sentence, {"intent": command.intent, **values}


def example_sentences(names: Names | None = None, *, seed: int = 0, n: int = 1000) -> list[str]:
    """``n`` sentences generated from the spec with random values, numbers in words, for a
    recogniser's language model; each parses to the command it was said from."""
    names = names or Names()
    rng = random.Random(seed)
    sentences: list[str] = []
    while len(sentences) < n:
        found = generated_example(names, rng)
        if found is None:
            continue
        sentence, expected = found
        try:
            if parse(sentence, names) == expected:
                sentences.append(sentence)
        except CommandError:
            continue
    return sentences
