"""The command spec and everything generated from it: every example of the spec parses to its
JSON, sentences generated from it parse back, and the variants people say or type (polite words,
articles, synonyms, numbers in words or digit by digit) parse too; anything else is refused with
a suggestion or one line."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pandas as pd
import pytest

from core.commands import (
    COMMANDS,
    PAGES,
    CommandError,
    Names,
    command_table,
    describe,
    example_sentences,
    examples,
    help_lines,
    interpret,
    parse,
    suggest,
    vocabulary,
    where,
)
from core.commands import numbers as nw
from core.commands.grammar import compile_pattern
from core.commands.parser import compiled, generated_example
from core.commands.spec import GROUPS
from core.commands.users import UserIds, find_user
from core.overview import list_filter_options

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = examples()


# --- generated from the spec ---------------------------------------------------------------------


@pytest.mark.parametrize(("said", "expected"), EXAMPLES, ids=[s for s, _ in EXAMPLES])
def test_every_example_of_the_spec_parses_to_its_json(said, expected):
    assert parse(said) == expected


def test_every_command_has_examples_a_description_and_compiled_patterns():
    intents = [c.intent for c in COMMANDS]
    assert len(intents) == len(set(intents))
    assert {
        "go", "load_sample", "filter", "clear_filters", "period", "layers", "epochs", "horizon",
        "top_k", "train", "stop", "show_user", "compare_runs", "report", "help",
    } == set(intents)  # fmt: skip
    for command, patterns in compiled():
        assert command.examples and command.does and patterns
        for _, values in command.examples:
            assert describe({"intent": command.intent, **values})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sentences_generated_from_every_pattern_parse_back_to_what_they_say(seed):
    rng = random.Random(seed)
    names = Names()
    wrong = []
    for _ in range(2000):
        found = generated_example(names, rng)
        if found is None:
            continue
        sentence, expected = found
        if parse(sentence, names) != expected:
            wrong.append((sentence, expected, parse(sentence, names)))
    assert wrong == []


def test_example_sentences_for_a_language_model_are_words_of_the_vocabulary():
    names = Names(categories=("Home & Garden", "Shoes"), brands=("Acme",))
    sentences = example_sentences(names, seed=7, n=300)
    assert len(sentences) == 300
    assert sentences == example_sentences(names, seed=7, n=300)  # deterministic
    assert sentences != example_sentences(names, seed=8, n=300)
    words = vocabulary(names)
    assert {"garden", "shoes", "acme", "hundred", "please", "recommendations"} <= words
    for sentence in sentences:
        assert not re.search(r"\d", sentence), sentence  # numbers in words, as they are heard
        assert set(sentence.split()) <= words, sentence
        assert parse(sentence, names) is not None
    intents = {parse(s, names)["intent"] for s in sentences}
    assert intents == {c.intent for c in COMMANDS}  # every command is in there


def test_every_page_can_be_opened_by_its_names():
    for page in PAGES:
        for said in page.said:
            assert parse(f"go to the {said}") == {"intent": "go", "page": page.key}
            assert parse(f"open {said} page") == {"intent": "go", "page": page.key}


def test_the_spec_refuses_mistakes_in_patterns():
    for bad in ("open the <page>", "go [to (the|a)]", "{nothing} here", "open ((x)", "x | y"):
        with pytest.raises(ValueError, match="pattern"):
            compile_pattern(bad, GROUPS)
    assert compile_pattern("open [the] <page>", GROUPS).elements  # an optional article is fine


# --- what people say and type ---------------------------------------------------------------------

VARIANTS = {
    # polite words and articles
    "please go to the overview": {"intent": "go", "page": "overview"},
    "can you please open the recommendations page": {"intent": "go", "page": "recommendations"},
    "could you show me the runs, thanks": {"intent": "go", "page": "runs"},
    "I'd like to load the sample shop please": {"intent": "load_sample"},
    "would you mind training the model": None,  # "training" is not "train": a suggestion
    "Go ahead and train the model.": {"intent": "train"},
    "OK, now start the training": {"intent": "train"},
    # synonyms
    "take me to purchase prediction": {"intent": "go", "page": "purchase"},
    "navigate to the dashboard": {"intent": "go", "page": "overview"},
    "create the report": {"intent": "report"},
    "build a report": {"intent": "report"},
    "generate an html report of the selected runs": {"intent": "report"},
    "begin training": {"intent": "train"},
    "kick off training": {"intent": "train"},
    "abort the training": {"intent": "stop"},
    "reset all filters": {"intent": "clear_filters"},
    "what can you do": {"intent": "help"},
    "Help!": {"intent": "help"},
    # filters, names from the sample shop, any case
    "FILTER CATEGORY SHOES": {"intent": "filter", "category": "shoes"},
    "only show home decor": {"intent": "filter", "category": "home decor"},
    "show kitchen products": {"intent": "filter", "category": "kitchen"},
    "filter brand maple and moss": {"intent": "filter", "brand": "maple & moss"},
    "focus on the Jewellery category": {"intent": "filter", "category": "jewellery"},
    "show the previous month": {"intent": "period", "days": 30},
    "last 14 days": {"intent": "period", "days": 14},
    # numbers in words
    "set hidden layers to one twenty eight sixty four": {"intent": "layers", "hidden": [128, 64]},
    "set the layers to one hundred and twenty eight": {"intent": "layers", "hidden": [128]},
    "layers sixty four by thirty two by sixteen": {"intent": "layers", "hidden": [64, 32, 16]},
    "use layers five hundred twelve two fifty six": {"intent": "layers", "hidden": [512, 256]},
    "set epochs to one thousand": {"intent": "epochs", "epochs": 1000},
    "set epochs to a hundred": {"intent": "epochs", "epochs": 100},
    "set epochs to one five zero": {"intent": "epochs", "epochs": 150},  # digit by digit
    "set the horizon to one eighty days": {"intent": "horizon", "days": 180},
    "set k to twenty five": {"intent": "top_k", "k": 25},
    "compare the last three runs": {"intent": "compare_runs", "count": 3},
    "compare runs": {"intent": "compare_runs", "count": 2},
    "show user one four six zero six": {"intent": "show_user", "user": "14606"},
    "show user zero zero three two nine": {"intent": "show_user", "user": "00329"},
    "show user one oh six": {"intent": "show_user", "user": "106"},
    "user twelve thousand seven hundred forty eight": {"intent": "show_user", "user": "12748"},
    # typed digits
    "set hidden layers to 128,64,32": {"intent": "layers", "hidden": [128, 64, 32]},
    "layers 64x32": {"intent": "layers", "hidden": [64, 32]},
    "layers 64 32": {"intent": "layers", "hidden": [64, 32]},
    "set epochs to 1,000": {"intent": "epochs", "epochs": 1000},
    "top 5": {"intent": "top_k", "k": 5},
    "show user 14606": {"intent": "show_user", "user": "14606"},
    "show user 00329": {"intent": "show_user", "user": "00329"},
    "recommendations for customer U00329": {"intent": "show_user", "user": "U00329"},
    "compare the 4 latest runs": {"intent": "compare_runs", "count": 4},
}


@pytest.mark.parametrize(("said", "expected"), VARIANTS.items(), ids=list(VARIANTS))
def test_what_people_say_and_type_parses(said, expected):
    assert parse(said) == expected


@pytest.mark.parametrize(
    "said",
    ["", "   ", "hello there", "open the pod bay doors", "filter category spaceships",
     "set epochs", "go to", "show user", "x" * 5000, "go " * 500],
)  # fmt: skip
def test_anything_else_is_no_command_and_gets_a_suggestion(said):
    assert parse(said) is None
    heard = interpret(said)
    assert heard.command is None and heard.problem is None
    assert heard.suggestion in {s for s, _ in EXAMPLES} | {
        f"go to {p.title.lower()}" for p in PAGES
    } | {f"filter category {c}" for c in Names().categories} | {
        f"filter brand {b}" for b in Names().brands
    }
    assert "Did you mean: “" in heard.line()


@pytest.mark.parametrize(
    ("said", "suggested"),
    [
        ("trian the modle", "train the model"),
        ("open overveiw", "go to the overview"),
        ("filter category gardn", "filter category Garden"),
        ("blah blah", "what can I say"),
        ("", "what can I say"),
    ],
)
def test_a_slip_gets_the_nearest_command(said, suggested):
    assert suggest(said) == suggested


@pytest.mark.parametrize(
    ("said", "message"),
    [
        ("set epochs to five thousand", "Epochs must be a whole number from 1 to 2,000 (got 5000)"),
        ("set epochs to zero", "Epochs must be a whole number from 1"),
        ("set the horizon to four hundred days", "horizon H (days) must be a whole number"),
        ("set k to one thousand", "k (products per list) must be a whole number from 1 to 100"),
        ("set hidden layers to two thousand", "2000 units is out of range"),
        ("layers 1 2 3 4 5 6 7", "has 7 layers"),
        ("layers 0", "0 units is out of range"),
        ("compare the last two hundred runs", "The runs to compare must be"),
        ("show the last 99999 days", "The period (days) must be"),
        ("set epochs to " + "9" * 5000, "Epochs must be"),
        ("show user " + "7" * 200, "A user id is at most 100 characters"),
    ],
)
def test_an_out_of_range_value_is_refused_with_one_line(said, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        parse(said)
    heard = interpret(said)
    assert heard.command is None and message in heard.problem
    assert "\n" not in heard.problem and len(heard.problem) < 300


def test_filters_name_the_loaded_datas_categories_and_brands():
    names = Names(categories=("Électronique", "Home & Garden", "Toys"), brands=("Toys R Fun",))
    assert parse("filter category électronique", names) == {
        "intent": "filter",
        "category": "électronique",
    }
    assert parse("show only home and garden", names) == {
        "intent": "filter",
        "category": "home & garden",
    }
    assert parse("filter brand toys r fun", names) == {"intent": "filter", "brand": "toys r fun"}
    assert parse("toys only", names) == {"intent": "filter", "category": "toys"}  # first
    assert parse("filter category shoes", names) is None  # the sample's, not this data's
    assert parse("filter category shoes") == {"intent": "filter", "category": "shoes"}
    assert suggest("filter categry electronique", names) == "filter category Électronique"


def test_the_default_names_are_the_loaded_sample_shops_in_the_same_order(sample_shop):
    """The command box names the sample's categories and brands before it is loaded (the
    defaults) and after (its filter options): the same names, so one recogniser serves both."""
    options = list_filter_options(sample_shop.events.frame, sample_shop.product_frame)
    assert Names() == Names(tuple(options.categories), tuple(options.brands))


def test_help_lists_the_commands_of_the_page_and_where_the_others_work():
    on_overview = "\n".join(help_lines("overview"))
    assert "“filter category shoes”" in on_overview
    assert "On Purchase prediction or Recommendations: “set hidden layers" in on_overview
    on_purchase = "\n".join(help_lines("purchase"))
    assert "“train the model” — press Train on this page" in on_purchase
    filters = "“filter category shoes” — filter the Overview to a category or a brand (on Overview)"
    assert filters in on_purchase
    assert "On Purchase prediction" not in on_purchase
    assert len(help_lines("home")) == len(COMMANDS) - 4 + 1  # four model-form commands in one line


def test_a_command_acts_anywhere_on_its_one_page_or_on_the_current_of_its_pages():
    assert where("go", "runs") == "runs"
    assert where("filter", "home") == "overview"
    assert where("top_k", "purchase") == "recommendations"
    assert where("layers", "recommendations") == "recommendations"
    assert where("layers", "overview") is None
    assert where("train", "home") is None


def test_the_readme_lists_every_command_as_the_spec_defines_them():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert command_table() in readme
    for command in COMMANDS:
        assert f'"intent": "{command.intent}"' in command_table()


def test_the_vocabulary_holds_every_word_a_command_may_contain():
    words = vocabulary()
    for said, _ in EXAMPLES:
        if re.search(r"\d", said):
            continue  # typed, not heard
        heard = [w.lower() for w in re.findall(r"[^\W\d_]+", said)]
        assert set(heard) <= words, said
    assert {"oh", "zero", "thousand", "kestrel", "decor", "can", "you"} <= words
    assert all(w == w.lower() and " " not in w for w in words)


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("zero", 0), ("seven", 7), ("thirteen", 13), ("forty", 40), ("ninety nine", 99),
        ("one hundred", 100), ("hundred", 100), ("one hundred and five", 105),
        ("one twenty eight", 128), ("nine ninety", 990), ("one oh six", 106),
        ("twelve hundred", 1200), ("thousand", 1000), ("two thousand and twenty", 2020),
        ("twelve thousand seven hundred forty eight", 12748),
        ("nine hundred ninety nine thousand nine hundred ninety nine", 999_999),
        ("one five zero", 150), ("128", 128), ("1,000", 1000),
    ],
)  # fmt: skip
def test_a_number_said_in_words_or_typed(said, value):
    assert nw.read_number(said.split()) == value


@pytest.mark.parametrize("said", ["and", "hundred hundred", "one and", "1,0", "64,32", "oh oh x"])
def test_what_is_not_one_number(said):
    assert nw.read_number(said.split()) is None


def test_numbers_written_as_words_read_back():
    for n in [*range(0, 2000), 12748, 20_000, 100_100, 999_999]:
        assert nw.read_number(nw.number_words(n)) == n
        assert nw.read_number(nw.number_words(n, british=True)) == n
        short = nw.colloquial_words(n)
        if short is not None:
            assert nw.read_number(short) == n


def test_digits_said_one_by_one_keep_their_leading_zeros():
    assert nw.read_digits(nw.digit_words("0032900")) == "0032900"
    assert nw.read_digits("one four six oh six".split()) == "14606"
    assert nw.read_digits(["14606"]) == "14606"


# --- the user a command names ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def users() -> UserIds:
    return UserIds.of(pd.Series(["u00329", "u00032", "c-77", "C-78", "alice", "u00000", "329x"]))


@pytest.mark.parametrize(
    ("said", "user"),
    [("u00329", "u00329"), ("U00329", "u00329"), ("32", "u00032"), ("0032", "u00032"),
     ("alice", "alice"), ("ALICE", "alice"), ("77", "c-77"), ("c-78", "C-78"), ("0", "u00000")],
)  # fmt: skip
def test_a_said_user_id_is_found_exactly_by_case_or_by_its_number(users, said, user):
    assert find_user(said, users).user == user


def test_several_users_with_the_same_number_are_all_offered(users):
    found = find_user("329", users)
    assert found.user is None and set(found.candidates) == {"u00329", "329x"} and found.several


def test_an_unknown_user_gets_the_nearest_ids(users):
    found = find_user("330", users)
    assert found.user is None and found.candidates[0] in {"u00329", "329x"}
    assert not found.several
    assert find_user("alicia", users).candidates == ("alice",)
    assert find_user("zzzzzz", users).candidates == ()


def test_a_filter_naming_what_the_data_lacks_says_so_instead_of_suggesting_itself():
    shop = Names(categories=("garden", "kitchen"), brands=("acme",))
    unknown = interpret("filter category shoes", shop)
    assert unknown.command is None
    assert unknown.problem == (
        "'shoes' is not a category of this data (its category names: garden, kitchen)."
    )
    bare = interpret("filter category shoes", Names(categories=(), brands=()))
    assert bare.problem == "this data has no category names, so it cannot be filtered by category."
    assert interpret("filter catgory garden", shop).suggestion == "filter category garden"


def test_suggestions_are_only_commands_the_data_can_carry_out():
    shop = Names(categories=("garden",), brands=())
    suggested = interpret("filtr category shoes", shop).suggestion  # the sample's example
    assert suggested is not None and parse(suggested, shop) is not None
