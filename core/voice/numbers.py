"""Numbers as they are spoken, and spoken numbers back to digits.

A recogniser hears "sixty four thirty two" where a person typed "64 32": comparing the two, or
building a language model that knows how numbers are said, needs both directions.
"""

from __future__ import annotations

from typing import Final

DIGIT_WORDS: Final = tuple("zero one two three four five six seven eight nine".split())
TEEN_WORDS: Final = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
TENS_WORDS: Final = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
NUMBER_WORDS: Final = frozenset((*DIGIT_WORDS, *TEEN_WORDS, *TENS_WORDS, "hundred", "thousand"))
MAX_SPOKEN: Final = 999_999

_VALUES: Final = {
    **{word: value for value, word in enumerate(DIGIT_WORDS)},
    **{word: 10 + value for value, word in enumerate(TEEN_WORDS)},
    **{word: 20 + 10 * value for value, word in enumerate(TENS_WORDS)},
}


def say_number(number: int) -> str:
    """The words of a whole number from 0 to 999,999 as said in American English, without
    "and": 12748 -> "twelve thousand seven hundred forty eight".

    Raises:
        ValueError: the number is negative or above 999,999.
    """
    if not 0 <= number <= MAX_SPOKEN:
        raise ValueError(f"{number} is not between 0 and {MAX_SPOKEN:,}")
    if number == 0:
        return "zero"
    thousands, rest = divmod(number, 1000)
    words = [*_say_below_thousand(thousands), "thousand"] if thousands else []
    return " ".join([*words, *_say_below_thousand(rest)])


def say_digits(number: int) -> str:
    """The number said digit by digit: 14606 -> "one four six zero six"."""
    return " ".join(DIGIT_WORDS[int(digit)] for digit in str(number))


def _say_below_thousand(number: int) -> list[str]:
    hundreds, rest = divmod(number, 100)
    words = [DIGIT_WORDS[hundreds], "hundred"] if hundreds else []
    if rest >= 20:
        tens, units = divmod(rest, 10)
        words.append(TENS_WORDS[tens - 2])
        if units:
            words.append(DIGIT_WORDS[units])
    elif rest >= 10:
        words.append(TEEN_WORDS[rest - 10])
    elif rest:
        words.append(DIGIT_WORDS[rest])
    return words


def numbers_to_digits(text: str) -> str:
    """The text lower-cased, with every run of number words written in digits.

    A run splits where a word cannot continue the number before it, so "sixty four thirty two"
    becomes "64 32" and "one hundred twenty eight" becomes "128"; a run of two or more single
    digits ("one four six zero six") is one number said digit by digit, "14606".
    """
    words = text.lower().split()
    out: list[str] = []
    run: list[str] = []
    for word in [*words, ""]:
        if word in NUMBER_WORDS:
            run.append(word)
            continue
        out.extend(_run_to_digits(run))
        run = []
        if word:
            out.append(word)
    return " ".join(out)


def _run_to_digits(run: list[str]) -> list[str]:
    if len(run) >= 2 and all(word in DIGIT_WORDS for word in run):
        return ["".join(str(DIGIT_WORDS.index(word)) for word in run)]
    numbers: list[str] = []
    total = current = 0
    last = ""  # the kind of the last word: digit, teen, tens, hundred, thousand
    started = False
    for word in run:
        kind = _kind(word)
        if started and not _continues(last, kind, current, total):
            numbers.append(str(total + current))
            total = current = 0
            started = False
        if kind == "hundred":
            current = max(current, 1) * 100
        elif kind == "thousand":
            total, current = (total + max(current, 1)) * 1000, 0
        else:
            current += _VALUES[word]
        last, started = kind, True
    if started:
        numbers.append(str(total + current))
    return numbers


def _kind(word: str) -> str:
    if word in ("hundred", "thousand"):
        return word
    if word in TENS_WORDS:
        return "tens"
    return "teen" if word in TEEN_WORDS else "digit"


def _continues(last: str, kind: str, current: int, total: int) -> bool:
    """Whether a word of ``kind`` extends the number so far rather than starting another."""
    below_hundred = current % 100
    if kind == "hundred":
        return last in ("digit", "teen") and current < 100
    if kind == "thousand":
        return total == 0 and last != "thousand"
    if kind == "digit":
        return last in ("tens", "hundred", "thousand") and below_hundred % 10 == 0
    # a teen or a tens word follows only "hundred" or "thousand"
    return last in ("hundred", "thousand")
