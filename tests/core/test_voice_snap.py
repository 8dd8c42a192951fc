import pytest

from core.commands import Names, parse
from core.commands.snap import Snapped, Snapper
from core.commands.voice import command_heard

NAMES = Names(("Shoes", "Garden", "Home Decor"), ("Kestrel", "Harbor & Co"))
# Words without phones here are compared by their letters.
PHONES = {
    "shoe": "SH UW",
    "shoes": "SH UW Z",
    "you": "Y UW",
    "give": "G IH V",
    "epochs": "EH P AA K S",
    "h": "EY CH",
    "days": "D EY Z",
    "quill": "K W IH L",
}


@pytest.fixture(scope="module")
def snapper():
    return Snapper(NAMES, PHONES)


def test_a_word_left_out_is_put_back(snapper):
    snapped = snapper.nearest("compare last two")
    assert snapped == Snapped("compare last two runs", 1.0)


def test_a_word_too_many_is_dropped_and_numbers_are_kept_as_heard(snapper):
    # "set h to fifty days" would take two words for others, each wholly unlike
    assert snapper.nearest("set epochs to fifty quill") == Snapped("set epochs to fifty", 1.0)


def test_a_word_that_sounds_alike_costs_its_share_of_unlike_phones(snapper):
    snapped = snapper.nearest("filter category shoe")
    assert snapped.text == "filter category shoes"
    assert snapped.distance == pytest.approx(1 / 3)  # SH UW against SH UW Z


def test_a_mangled_opening_still_gives_the_users_command(snapper):
    snapped = snapper.nearest("you me shopper eighty three thousand three hundred forty two")
    assert parse(snapped.text, NAMES) == {"intent": "show_user", "user": "83342"}
    assert snapped.distance <= 1.0


def test_numbers_are_never_made_up(snapper):
    assert snapper.nearest("set epochs to") is not None  # some command, not an epochs one
    assert parse(snapper.nearest("set epochs to").text, NAMES)["intent"] != "epochs"


def test_nothing_heard_or_only_polite_words_snap_to_nothing(snapper):
    assert snapper.nearest("") is None
    assert snapper.nearest("please") is None


def test_the_first_hypothesis_the_parser_understands_is_heard(snapper):
    heard = command_heard(["go to the", "go to the runs", "go to runs"], NAMES, snapper)
    assert heard == "go to the runs"


def test_a_hypothesis_near_a_command_is_heard_as_that_command(snapper):
    assert command_heard(["filter category shoe"], NAMES, snapper) == "filter category shoes"


def test_a_hypothesis_far_from_every_command_stays_as_heard(snapper):
    far = "quill willow maple quill willow"
    assert command_heard([far], NAMES, snapper) == far


def test_data_without_brands_snaps_to_its_categories_only():
    names = Names(("Lanterns",), ())
    snapper = Snapper(names, PHONES)
    assert snapper.nearest("filter category lantern").text == "filter category lanterns"
    assert parse(snapper.nearest("filter brand lantern").text, names) == {
        "intent": "filter",
        "category": "lanterns",
    }
