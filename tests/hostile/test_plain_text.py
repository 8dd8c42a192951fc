"""The one way untrusted text reaches Streamlit's Markdown: each hostile string in, text that no
Markdown construct, autolink, math, directive or HTML can be made of out."""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.hostile.strings import EVENTS_NAME, HOSTILE, PRODUCTS_NAME
from ui import state, untrusted

PUNCTUATION = r"!-/:-@\[-`{-~"
ACTIVE = r"\\`*_\[\]()<>#!|~$:&@"  # marks that start Markdown, math, directives or HTML
ALL_ESCAPED = re.compile(rf"(?:\\[{PUNCTUATION}]|[^{ACTIVE}])*")
# What GFM links after parsing, in the text the parser leaves (escapes resolved).
AUTOLINK = re.compile(r"https?://|www\.|[\w.+-]@[\w-]", re.IGNORECASE)
SAMPLES = (*HOSTILE, EVENTS_NAME, PRODUCTS_NAME, "HTTPS://EVIL.EXAMPLE", "WwW.evil.example")


def _parsed(markdown: str) -> str:
    """The text a CommonMark parser reads from ``markdown`` (backslash escapes resolved)."""
    return re.sub(rf"\\([{PUNCTUATION}])", r"\1", markdown)


@pytest.mark.parametrize("text", SAMPLES)
def test_every_markdown_mark_in_untrusted_text_is_escaped(text):
    assert ALL_ESCAPED.fullmatch(untrusted.plain_md(text))


@pytest.mark.parametrize("text", SAMPLES)
def test_untrusted_text_reads_as_it_was_written(text):
    shown = _parsed(untrusted.plain_md(text)).replace(untrusted.WORD_JOINER, "")
    assert shown == " ".join(text.split())


@pytest.mark.parametrize("text", SAMPLES)
def test_no_bare_url_or_e_mail_address_is_left_to_autolink(text):
    assert not AUTOLINK.search(_parsed(untrusted.plain_md(text)))


def test_untrusted_text_stays_on_one_line_so_it_starts_no_block():
    shown = untrusted.plain_md("name\n# heading\n\n- item\n    code")
    assert "\n" not in shown
    assert shown == r"name \# heading - item code"
    assert untrusted.plain_md("- item") == r"\- item"
    assert untrusted.plain_md("12. item") == r"12\. item"


def test_a_message_names_the_runs_folder_instead_of_showing_its_path(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("SHOPLENS_RUNS_DIR", str(runs))
    shown = untrusted.public_message(f"There is no run r1 in {runs}.")
    assert shown == "There is no run r1 in the runs folder."
    assert str(tmp_path) not in untrusted.error_text(f"Cannot read {runs / 'r1'}")


def _shows_an_error(message: str) -> None:
    import streamlit as st

    from ui import untrusted

    st.error(untrusted.error_text(message))


def test_an_error_quoting_untrusted_text_is_shown_escaped_in_the_app():
    at = AppTest.from_function(_shows_an_error, args=(f"File {EVENTS_NAME} is empty",))
    at.run(timeout=30)
    assert not at.exception
    shown = at.error[0].value
    assert shown == "File " + untrusted.plain_md(EVENTS_NAME).join(["", " is empty"])
    assert not AUTOLINK.search(_parsed(shown))


def test_a_run_id_from_the_url_is_quoted_without_a_link(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOPLENS_RUNS_DIR", str(tmp_path))
    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "pages/2_Purchase_prediction.py"), default_timeout=120)
    at.query_params[state.RUN_QUERY] = "https://evil.example/login"
    at.run()
    assert not at.exception
    message = at.error[0].value
    assert "evil" in message
    assert not AUTOLINK.search(_parsed(message))
    assert str(tmp_path) not in message
