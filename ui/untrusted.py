"""Text from data or files (ids, names, file names, manifest fields, messages quoting them)
shown as text: the one way such text reaches Streamlit's Markdown."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Final

from core.config import load_settings

# Streamlit renders Markdown in messages, captions, labels, tabs, radio options and metrics:
# links, images, KaTeX ($), colour and icon directives (:red[…], :material/…:), emoji
# shortcodes, HTML, and lists or headings at the start of a line. A backslash before each mark
# that starts one of these turns it off, but bare URLs and e-mail addresses are linked after
# parsing, escapes or not: a word joiner (U+2060, invisible) between "http:" and "//", "www"
# and ".", and after "@" stops that.
WORD_JOINER: Final = "\u2060"
_ACTIVE = re.compile(r"[\\`*_\[\]()<>#!|~$:&@]")
_LINE_START = re.compile(r"^([-+=])|^(\d+)([.)])")  # a list item or a heading underline
_AUTOLINKED = re.compile(r"(?<=:)(?=//)|(?i:(?<=www))(?=\.)|(?<=@)")


def plain_md(text: object) -> str:
    """Untrusted text (ids, names, file names, manifest fields, messages quoting them) as
    Markdown that Streamlit shows literally, on one line: no links (bare URLs included),
    images, emphasis, HTML, math, colour or icon directives, lists or headings. Use it for
    every such part of a message, caption, label or option, and keep the app's own Markdown
    around it."""
    line = " ".join(str(text).split())
    line = _AUTOLINKED.sub(WORD_JOINER, line)
    line = _ACTIVE.sub(lambda mark: "\\" + mark.group(), line)
    return _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line)


def _server_folders() -> list[tuple[str, str]]:
    """Folders of this server that messages must not show, longest first, with the words
    shown instead."""
    settings = load_settings()
    named = [
        (settings.runs_dir, "the runs folder"),
        (settings.data_dir, "the datasets folder"),
        (settings.import_dir, "the import folder"),
        (settings.sample_dir, "the sample folder"),
        (settings.cache_dir, "the cache folder"),
        (Path(tempfile.gettempdir()), "a temporary folder"),
        (Path.home(), "the home folder"),
    ]
    folders: dict[str, str] = {}
    for folder, words in named:
        for spelling in {str(folder), str(folder.absolute()), str(folder.resolve())}:
            if len(spelling) > 1:  # never the root "/" alone
                folders.setdefault(spelling, words)
    return sorted(folders.items(), key=lambda pair: -len(pair[0]))


def public_message(message: object) -> str:
    """A message (often an error's) without this server's folders: the runs folder, the data
    folder, the temporary and home folders are named in words instead of shown as paths."""
    text = str(message)
    for folder, words in _server_folders():
        text = text.replace(folder, words)
    return text


def error_text(err: BaseException | str) -> str:
    """An error's message for ``st.error``/``st.warning``: without server paths and shown
    literally, since it often quotes a file name, an id or a URL."""
    return plain_md(public_message(err))
