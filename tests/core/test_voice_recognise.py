import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import resample_poly

from core.commands import Names, example_sentences, parse
from core.commands.voice import recogniser as command_recogniser
from core.commands.voice import understood
from core.errors import AudioError
from core.voice.recognise import Recogniser
from core.voice.wav import read_wav, to_wav
from tests.cli import run_cli, run_json
from tests.core.test_voice_wav import make_wav
from tests.voice import say

NAMES = Names(("Shoes", "Garden", "Jewellery", "Home Decor"), ("Kestrel", "Harbor & Co"))


@pytest.fixture(scope="module")
def recogniser():
    return command_recogniser(NAMES)


@pytest.mark.parametrize(
    "command",
    [
        "load the sample shop",
        "show the last thirty days",
        "show user one four six zero six",
        "use two hundred epochs",
        "filter category jewellery",
    ],
)
def test_a_clearly_spoken_command_is_heard_as_that_command(recogniser, tmp_path, command):
    heard = recogniser.recognise(say(command, tmp_path).read_bytes())
    assert parse(heard.text, NAMES) == parse(command, NAMES)
    assert heard.seconds > 0


def test_a_44k_stereo_recording_is_converted_and_heard(recogniser, tmp_path):
    mono = read_wav(say("start training", tmp_path).read_bytes())  # now 16 kHz
    at_44k = np.round(resample_poly(mono.astype(float), 441, 160)).astype("<i2")
    stereo = np.repeat(at_44k, 2).tobytes()
    assert recogniser.recognise(make_wav(stereo, channels=2, rate=44_100)).text == "start training"


def test_samples_already_read_are_heard_as_their_file_is(recogniser, tmp_path):
    wav = say("go to runs", tmp_path).read_bytes()
    assert recogniser.recognise_samples(read_wav(wav)).text == recogniser.recognise(wav).text


def test_silence_is_heard_as_nothing_or_a_command(recogniser):
    heard = recogniser.recognise(to_wav(np.zeros(16_000, dtype="int16")))
    assert heard.text == "" or understood(heard.text, NAMES)


def test_the_command_recogniser_learns_the_spec_and_knows_the_data_names(recogniser):
    assert {"kestrel", "harbor", "jewellery", "decor", "epochs", "hundred"} <= set(
        recogniser.vocabulary_
    )
    assert all(understood(sentence, NAMES) for sentence in example_sentences(NAMES, n=50))


def test_the_command_recogniser_imports_no_pandas_scikit_learn_or_scipy():
    """Kept light for ``python -m core voice`` (scipy comes only to resample a recording)."""
    heavy = "{m.split('.')[0] for m in sys.modules} & {'pandas', 'sklearn', 'scipy'}"
    code = f"import sys, core.commands.voice; print(sorted({heavy}))"
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_a_hypothesis_the_parser_does_not_understand_is_passed_over():
    assert understood("set epochs to fifty")
    assert understood("set epochs to five thousand")  # heard whole, refused with its line
    assert not understood("set epochs")


def test_a_word_missing_from_the_dictionary_gets_a_pronunciation():
    recogniser = Recogniser(["show only novalux"], extra_words=["Kestrel"])
    assert {"novalux", "kestrel"} <= set(recogniser.vocabulary_)


def test_a_recogniser_needs_sentences():
    with pytest.raises(ValueError, match="at least one example sentence"):
        Recogniser(["", "!!"])


def test_a_bad_recording_raises_an_audio_error(recogniser):
    with pytest.raises(AudioError, match="'cmd.mp3' is not a PCM WAV file"):
        recogniser.recognise(b"ID3\x03", name="'cmd.mp3'")


# --- the command line ----------------------------------------------------------------------


def test_the_cli_prints_what_it_heard_and_the_command_as_json(capsys, tmp_path):
    result = run_json(capsys, "voice", say("make a report", tmp_path), "--json")
    assert set(result) == {"heard", "command", "seconds"}
    assert (result["heard"], result["command"]) == ("make a report", {"intent": "report"})
    assert result["seconds"] >= 0


def test_the_cli_prints_what_it_heard_and_does_as_text(capsys, tmp_path):
    code, out, err = run_cli(capsys, "voice", say("stop training", tmp_path))
    assert (code, err) == (0, "")
    assert out.startswith("Heard: “stop training” → stop the training (")


def test_the_cli_knows_the_names_of_the_events_given(capsys, tmp_path):
    events = tmp_path / "events.csv"
    events.write_text(
        "user_id,item_id,event_type,timestamp,category\n"
        "1,10,view,2024-01-01 10:00:00,Lanterns\n"
        "2,11,purchase,2024-01-02 11:00:00,Candles\n",
        encoding="utf-8",
    )
    said = say("filter category lanterns", tmp_path)
    result = run_json(capsys, "voice", said, "--events", events, "--json")
    assert result["command"] == {"intent": "filter", "category": "lanterns"}


def test_the_cli_refuses_an_unreadable_events_file_with_one_line(capsys, tmp_path):
    code, out, err = run_cli(
        capsys, "voice", say("help", tmp_path), "--events", tmp_path / "none.csv"
    )
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not audio at all", "is not a PCM WAV file"),
        (b"", "is not a PCM WAV file"),
    ],
)
def test_the_cli_refuses_a_file_that_is_not_a_wav_with_one_line(capsys, tmp_path, content, message):
    path = tmp_path / "cmd.wav"
    path.write_bytes(content)
    code, out, err = run_cli(capsys, "voice", path, "--json")
    assert (code, out) == (2, "")
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_the_cli_refuses_a_recording_over_15_seconds(capsys, tmp_path):
    path = tmp_path / "long.wav"
    path.write_bytes(to_wav(np.zeros(16 * 16_000, dtype="int16")))
    code, out, err = run_cli(capsys, "voice", path)
    assert (code, out) == (2, "")
    assert "longer than the 15 s" in err and len(err.strip().splitlines()) == 1


def test_the_cli_refuses_a_missing_path(capsys, tmp_path):
    code, _, err = run_cli(capsys, "voice", tmp_path / "nothing.wav")
    assert code == 2
    missing = tmp_path / "nothing.wav"
    assert err.strip() == f"error: File '{missing}' does not exist; check the path and try again."


def test_the_cli_refuses_a_folder(capsys, tmp_path):
    code, _, err = run_cli(capsys, "voice", tmp_path)
    assert code == 2
    assert "is a folder, not a file" in err
    assert len(err.strip().splitlines()) == 1
