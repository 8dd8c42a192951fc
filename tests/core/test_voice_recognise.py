import numpy as np
import pytest
from scipy.signal import resample_poly

from core.errors import AudioError
from core.voice.corpus import example_sentences
from core.voice.recognise import Recogniser
from core.voice.wav import read_wav, to_wav
from tests.cli import run_cli, run_json
from tests.core.test_voice_wav import make_wav
from tests.voice import say

CATEGORIES = ["Shoes", "Garden", "Jewellery", "Home Decor"]


@pytest.fixture(scope="module")
def recogniser():
    return Recogniser(example_sentences(CATEGORIES), extra_words=CATEGORIES)


@pytest.mark.parametrize(
    "command",
    [
        "load the sample shop",
        "show the last thirty days",
        "show user one four six zero six",
        "filter category jewellery",
    ],
)
def test_a_clearly_spoken_command_is_heard_exactly(recogniser, tmp_path, command):
    heard = recogniser.recognise(say(command, tmp_path).read_bytes())
    assert heard.text == command
    assert heard.seconds > 0


def test_a_44k_stereo_recording_is_converted_and_heard(recogniser, tmp_path):
    mono = read_wav(say("start training", tmp_path).read_bytes())  # now 16 kHz
    at_44k = np.round(resample_poly(mono.astype(float), 441, 160)).astype("<i2")
    stereo = np.repeat(at_44k, 2).tobytes()
    assert recogniser.recognise(make_wav(stereo, channels=2, rate=44_100)).text == "start training"


def test_silence_is_heard_as_nothing_from_the_examples(recogniser):
    heard = recogniser.recognise(to_wav(np.zeros(16_000, dtype="int16")))
    assert heard.text == "" or heard.text in example_sentences(CATEGORIES)


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


def test_the_cli_prints_what_it_heard_as_json(capsys, tmp_path):
    result = run_json(capsys, "voice", say("make a report", tmp_path), "--json")
    assert result["heard"] == "make a report"
    assert set(result) == {"heard", "seconds"}
    assert result["seconds"] >= 0


def test_the_cli_prints_what_it_heard_as_text(capsys, tmp_path):
    code, out, err = run_cli(capsys, "voice", say("stop training", tmp_path))
    assert (code, err) == (0, "")
    assert out.startswith("Heard: stop training (")


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
