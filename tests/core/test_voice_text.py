import pytest

from core.voice.corpus import example_sentences, expand
from core.voice.numbers import numbers_to_digits, say_digits, say_number
from core.voice.pronounce import guess_pronunciation, pronounce
from core.voice.recognise import sentence_shape, words_of

DICTIONARY = {"home": "HH OW M", "ware": "W EH R", "jewel": "JH UW AH L", "go": "G OW"}


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("use layers sixty four thirty two", "use layers 64 32"),
        ("set hidden layers to one hundred twenty eight sixty four", "set hidden layers to 128 64"),
        ("show user twelve thousand seven hundred forty eight", "show user 12748"),
        ("show user one four six zero six", "show user 14606"),
        ("set k to twenty", "set k to 20"),
        ("Show The Top Five", "show the top 5"),
        ("use layers 64 32", "use layers 64 32"),
        ("seven hundred thousand", "700000"),
        ("one thousand five", "1005"),
    ],
)
def test_number_words_become_digits(text, digits):
    assert numbers_to_digits(text) == digits


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (40, "forty"),
        (128, "one hundred twenty eight"),
        (12748, "twelve thousand seven hundred forty eight"),
        (100000, "one hundred thousand"),
    ],
)
def test_numbers_are_said_as_words(number, words):
    assert say_number(number) == words
    assert numbers_to_digits(words) == str(number)


def test_a_number_above_the_range_cannot_be_said():
    with pytest.raises(ValueError, match="not between 0 and 999,999"):
        say_number(1_000_000)


def test_digits_are_said_one_by_one():
    assert say_digits(3009) == "three zero zero nine"


def test_a_template_expands_alternatives_and_options():
    assert expand("(open|show) [the] runs") == [
        "open runs",
        "open the runs",
        "show runs",
        "show the runs",
    ]


def test_example_sentences_name_every_category_and_are_reproducible():
    sentences = example_sentences(["Home Decor", "Shoes"], per_slot=2)
    assert "filter category home decor" in sentences
    assert "show only shoes" in sentences
    assert sentences == example_sentences(["Home Decor", "Shoes"], per_slot=2)
    assert not any("{" in sentence for sentence in sentences)


def test_the_shape_of_a_sentence_hides_its_numbers():
    assert (
        sentence_shape("set hidden layers to sixty four thirty two") == "set hidden layers to # #"
    )
    assert sentence_shape("show user one four six zero six") == "show user #"


def test_words_are_lower_case_letters():
    assert words_of("Harbor & Co's Home-Decor") == ["harbor", "co's", "home", "decor"]


def test_a_word_in_the_dictionary_keeps_its_pronunciation():
    assert pronounce(["home"], DICTIONARY) == {"home": "HH OW M"}


def test_a_compound_is_pronounced_from_its_parts():
    assert guess_pronunciation("homeware", DICTIONARY) == "HH OW M W EH R"


def test_an_unknown_word_is_spelled_by_letter_rules_after_known_parts():
    # "jewel" + "l" (one sound with the l before) + "er" -> ER + "y" -> IY
    assert guess_pronunciation("jewellery", DICTIONARY) == "JH UW AH L ER IY"
    assert guess_pronunciation("ship", {}) == "SH IH P"
