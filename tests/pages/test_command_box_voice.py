"""The command box's microphone, with Streamlit's AppTest: a recorded command (made with
espeak-ng at test time) is recognised, said back as plain text, and acts as if typed; a file
that is no recording gives one line."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.apptest import inside_app
from tests.pages.test_command_box import _open, heard, title
from tests.voice import say


def speak(at: AppTest, wav: bytes) -> AppTest:
    """Record ``wav`` with the sidebar's microphone."""
    if not at.sidebar.get("audio_input"):
        inside_app(at).run()
    return inside_app(at).audio_input[0].upload("cmd.wav", wav).run()


def test_a_spoken_command_is_heard_and_opens_its_page(tmp_path):
    wav = say("open recommendations", tmp_path).read_bytes()
    at = speak(_open(), wav)
    assert not at.exception
    assert title(at) == "Recommendations"
    assert heard(at) == "Heard: “open recommendations” → open the Recommendations page"


def test_an_unreadable_recording_gives_one_line(tmp_path):
    say("help", tmp_path)  # skipped without espeak-ng, as every voice test
    at = speak(_open(), b"RIFF this is no recording")
    assert not at.exception
    line = heard(at)
    assert "is not a PCM WAV file" in line and "\n" not in line
