"""``python -m core command``: what the command box does with a text, as JSON or one line;
exit 0 whether or not it is a command, 2 only for bad usage."""

import pytest

from core.commands import command_table, examples
from tests.cli import run_cli, run_json


def test_a_command_prints_what_was_heard_and_its_json(capsys):
    said = "set hidden layers to one hundred twenty eight sixty four thirty two"
    assert run_json(capsys, "command", said, "--json") == {
        "heard": said,
        "command": {"intent": "layers", "hidden": [128, 64, 32]},
    }


@pytest.mark.parametrize(("said", "command"), examples())
def test_every_example_of_the_spec_gives_its_json(capsys, said, command):
    assert run_json(capsys, "command", said, "--json")["command"] == command


def test_no_command_prints_null_and_the_nearest_command(capsys):
    assert run_json(capsys, "command", "trian the modle", "--json") == {
        "heard": "trian the modle",
        "command": None,
        "suggestion": "train the model",
    }
    code, out, err = run_cli(capsys, "command", "trian the modle")
    assert (code, err) == (0, "")
    assert out == "Heard: “trian the modle” → not a command. Did you mean: “train the model”?\n"


def test_a_value_out_of_range_prints_null_and_the_problem_in_one_line(capsys):
    assert run_json(capsys, "command", "set epochs to five thousand", "--json") == {
        "heard": "set epochs to five thousand",
        "command": None,
        "problem": "Epochs must be a whole number from 1 to 2,000 (got 5000).",
    }
    code, out, err = run_cli(capsys, "command", "set k to 0")
    assert code == 0 and err == "" and out.count("\n") == 1
    assert "k (products per list) must be a whole number from 1 to 100 (got 0)" in out


def test_without_json_one_human_line(capsys):
    code, out, err = run_cli(capsys, "command", "please show user one four six zero six")
    assert (code, err) == (0, "")
    assert out == (
        "Heard: “please show user one four six zero six” → show the recommendations for user "
        "14606\n"
    )


def test_the_heard_text_is_printed_as_given(capsys):
    said = 'go to "runs" <b>now</b> ☃'
    heard = run_json(capsys, "command", said, "--json")
    assert heard["heard"] == said and heard["command"] is None


def test_list_prints_every_command_as_in_the_readme(capsys):
    code, out, err = run_cli(capsys, "command", "--list")
    assert (code, err) == (0, "")
    assert out == command_table() + "\n"


@pytest.mark.parametrize(
    "arguments",
    [["command"], ["command", "--json"], ["command", "go", "to", "runs"], ["command", "--bad"]],
)
def test_bad_usage_exits_2_with_one_line_and_where_the_help_is(capsys, arguments):
    code, out, err = run_cli(capsys, *arguments)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") <= 2 and "Traceback" not in err
