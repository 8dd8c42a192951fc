"""Every command-line option is checked by the constraint that defines its setting: a value out
of range, or a path of the wrong kind, exits 2 with one line and trains nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli import main
from core.data.sample import generate_sample_world
from core.runs import RunStore

DIGITS = "9" * 5000


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> Path:
    shop, _ = generate_sample_world(n_users=300, n_items=60, random_state=1).frames
    path = tmp_path_factory.mktemp("cli") / "events.csv"
    shop.to_csv(path, index=False)
    return path


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


REFUSED = {
    "a negative seed": (["purchase", "--seed", "-1"], "random seed must be a whole number"),
    "a seed past 32 bits": (["purchase", "--seed", "1099511627776"], "(got 1099511627776)"),
    "5,000 digits of hidden layers": (["purchase", "--hidden", DIGITS], "units is out of range"),
    "5,000 digits of seeds": (["sweep", "purchase", "--seeds", DIGITS], "random seed must be"),
    "k of 0": (["recommend", "--k", "0"], "k (products per list) must be a whole number"),
    "a negative k": (["recommend", "--k", "-3"], "from 1 to 100 (got -3)"),
    "a horizon of 0 days": (["purchase", "--horizon-days", "0"], "horizon H (days) must be"),
    "a negative horizon": (["recommend", "--horizon-days", "-1"], "from 1 to 365 (got -1)"),
    "a horizon of 100,000 days": (["purchase", "--horizon-days", "100000"], "(got 100000)"),
    "no epochs": (["purchase", "--epochs", "0"], "Epochs must be a whole number from 1"),
    "users to train on of 0": (
        ["purchase", "--max-users", "0"],
        "Users to train on must be a whole number from 100 to 100,000,000 (got 0)",
    ),
    "a sweep on 99 users": (["sweep", "purchase", "--max-users", "99"], "(got 99)"),
    "sweep jobs of 0": (["sweep", "recommend", "--jobs", "0"], "parallel jobs must be"),
    "a cutoff that is no date": (["purchase", "--cutoff", "soon"], "is not a date"),
    "a cutoff before the data": (["recommend", "--cutoff", "1990-01-01"], "data starts"),
}


@pytest.mark.parametrize(("arguments", "message"), REFUSED.values(), ids=list(REFUSED))
def test_an_option_out_of_its_range_exits_2_with_one_line(
    events, runs_dir, capsys, arguments, message
):
    command = arguments[:2] if arguments[0] == "sweep" else arguments[:1]
    code, out, err = _run(capsys, *command, str(events), *arguments[len(command) :])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert "Traceback" not in err and len(err) < 400
    assert RunStore(runs_dir).runs() == []


def test_out_naming_a_file_where_a_folder_is_wanted_or_a_folder_where_a_file_is_exits_2(
    events, runs_dir, tmp_path, capsys
):
    existing = tmp_path / "predictions.csv"
    existing.write_text("keep me")
    folder = tmp_path / "folder"
    folder.mkdir()
    for arguments, message in (
        (["purchase", str(events), "--out", str(existing)], "is a file; name a folder"),
        (["recommend", str(events), "--out", str(folder)], "is a folder; name the file"),
        (["report", "20260101-000000-purchase-00000000", "--out", str(folder)], "is a folder"),
    ):
        code, out, err = _run(capsys, *arguments)
        assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err
    assert existing.read_text() == "keep me"
    assert RunStore(runs_dir).runs() == []


def test_argparse_own_errors_are_one_line_and_a_hint(events, capsys):
    code, out, err = _run(capsys, "purchase", str(events), "--no-such-option")
    assert code == 2 and out == ""
    first, hint = err.strip().splitlines()
    assert first.startswith("error: ") and "--no-such-option" in first
    assert hint == "Run 'python -m core --help' for the options."
    code, _, err = _run(capsys, "recommend")  # no events file and no dataset: one line
    assert code == 2 and err.strip().splitlines() == [
        "error: Give an events file (CSV, .csv.gz, .zip, Parquet, .xlsx) or --dataset NAME."
    ]


@pytest.mark.slow
def test_a_cutoff_with_a_zone_is_read_as_that_moment_in_utc(events, runs_dir, capsys):
    code, out, err = _run(
        capsys,
        "purchase",
        str(events),
        "--cutoff",
        "2026-09-01T00:00+05:00",
        "--hidden",
        "4",
        "--epochs",
        "2",
        "--json",
    )
    assert code == 0 and err == ""
    assert json.loads(out)["cutoff"] == "2026-08-31"  # 19:00 UTC the day before
