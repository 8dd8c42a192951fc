"""The voice recogniser's tuning set: what its settings were chosen on, kept apart from the
benchmark (``bench_voice``), which is measured only to report.

Sentences are generated from the command spec (other wordings than the spec's examples, other
numbers and user ids: 40 of any command, 20 of commands with numbers), said by other espeak-ng
voices, at other speeds and in other noise than the benchmark's. Run with
``OPENBLAS_NUM_THREADS=1 python -m benchmarks.voice_tuning [-v]`` (about 2 minutes); it is not
part of ``make bench``.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from benchmarks.bench_voice import Condition, hear_all, print_rows

CONDITIONS: dict[str, Condition] = {
    "gb_m1_150": ("en-gb+m1", 150, None, 0.0),
    "us_f1_150": ("en-us+f1", 150, None, 0.0),
    "f4_130": ("en+f4", 130, None, 0.0),
    "lancs_m4_195": ("en-gb-x-gbclan+m4", 195, None, 0.0),
    "nyc_210": ("en-us-nyc", 210, None, 0.0),
    "wmids_m7_pink7": ("en-gb-x-gbcwmd+m7", 165, "pink", 7.0),
    "carib_f5_brown8": ("en-029+f5", 165, "brown", 8.0),
}
NUMBER_SLOTS = frozenset({"hidden", "epochs", "days", "k", "user", "count"})


def tuning_sentences() -> list[tuple[str, dict[str, Any]]]:
    """40 generated sentences of any command and 20 of commands with numbers, none of them a
    spec example, each with the JSON it must give."""
    from core.commands import CommandError, Names, examples, parse
    from core.commands.parser import generated_example

    spec_examples = {said.lower() for said, _ in examples()}
    chosen: dict[str, dict[str, Any]] = {}
    for seed, count, numeric in ((2026, 40, False), (7, 20, True)):
        rng, wanted = random.Random(seed), len(chosen) + count
        while len(chosen) < wanted:
            found = generated_example(Names(), rng)
            if found is None or found[0] in spec_examples or found[0] in chosen:
                continue
            said, expected = found
            if numeric and not set(expected) & NUMBER_SLOTS:
                continue
            try:
                if parse(said) == expected:
                    chosen[said] = expected
            except CommandError:
                continue
    return list(chosen.items())


def main() -> int:
    sentences = tuning_sentences()
    _, rows = hear_all(sentences, CONDITIONS)
    print(f"{len(sentences)} tuning sentences x {len(CONDITIONS)} conditions")
    print_rows(rows, CONDITIONS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
