"""Commands typed or spoken, from text to an action: one spec (``spec``), and everything
generated from it (``parser``): the parser, suggestions, help, a recogniser's vocabulary and
example sentences.

>>> parse("please go to the overview")
{'intent': 'go', 'page': 'overview'}
"""

from core.commands.parser import (
    CommandError,
    Interpretation,
    command_table,
    describe,
    example_sentences,
    help_lines,
    interpret,
    parse,
    suggest,
    vocabulary,
    where,
)
from core.commands.spec import COMMANDS, MODEL_PAGES, PAGES, Names, examples, page_title

__all__ = [
    "COMMANDS",
    "MODEL_PAGES",
    "PAGES",
    "CommandError",
    "Interpretation",
    "Names",
    "command_table",
    "describe",
    "example_sentences",
    "examples",
    "help_lines",
    "interpret",
    "page_title",
    "parse",
    "suggest",
    "vocabulary",
    "where",
]
