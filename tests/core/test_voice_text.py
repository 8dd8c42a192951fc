from core.voice.pronounce import guess_pronunciation, pronounce
from core.voice.recognise import words_of

DICTIONARY = {"home": "HH OW M", "ware": "W EH R", "jewel": "JH UW AH L", "go": "G OW"}


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
