"""Hidden-layer widths and the epoch limit as a user types and the settings check them, with
nothing to import but the settings' own checks (so a command parser can use them cheaply)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from core.params import SettingError, Whole, shown

MAX_LAYERS: Final = 6
MAX_UNITS: Final = 1024
EPOCHS: Final = Whole("Epochs", 1, 2000)


class HiddenLayersError(SettingError):
    """Hidden-layer widths that cannot be used."""


_LAYERS_HINT = f"write 1 to {MAX_LAYERS} widths of 1 to {MAX_UNITS} units, e.g. 64,32"


def parse_hidden_layers(text: str) -> tuple[int, ...]:
    """Read widths such as ``"64,32"`` (also ``64 32``, ``64;32``, ``64-32`` or ``64x32``) into
    ``(64, 32)``.

    Raises:
        HiddenLayersError: with a one-line message when the text is not 1 to 6 whole numbers
            between 1 and 1024.
    """
    # "x", "×" and "-" separate only two numbers, so "-5" stays negative and "64,,x" is wrong.
    separators = r"(?<=\d)\s*[x×\-]\s*(?=\d)|[\s,;]+"
    parts = [p for p in re.split(separators, str(text).strip()) if p]
    quoted = shown(text)
    if not parts:
        raise HiddenLayersError(f"Hidden layers are empty; {_LAYERS_HINT}.")
    for part in parts:
        number = part.removeprefix("-")
        if not (number.isascii() and number.isdigit()):
            raise HiddenLayersError(
                f"Hidden layers '{quoted}': '{shown(part)}' is not a whole number; {_LAYERS_HINT}."
            )
        if part.startswith("-"):
            raise HiddenLayersError(
                f"Hidden layers '{quoted}': {shown(part)} is negative; {_LAYERS_HINT}."
            )
    if len(parts) > MAX_LAYERS:
        raise HiddenLayersError(
            f"Hidden layers '{quoted}' has {len(parts)} layers; {_LAYERS_HINT}."
        )
    widths = []
    for part in parts:
        # Compared as text first: Python refuses to convert thousands of digits.
        if len(part.lstrip("0")) > len(str(MAX_UNITS)) or not 1 <= int(part) <= MAX_UNITS:
            raise HiddenLayersError(
                f"Hidden layers '{quoted}': {shown(part)} units is out of range; {_LAYERS_HINT}."
            )
        widths.append(int(part))
    return tuple(widths)


@dataclass(frozen=True)
class HiddenLayers:
    """The hidden-layer widths a network accepts: 1 to 6 layers of 1 to 1024 units."""

    label: str = "Hidden layers"

    def describe(self) -> str:
        """What the setting accepts."""
        return _LAYERS_HINT

    def check(self, value: Any) -> tuple[int, ...]:
        """``value`` as a tuple of widths when every width is usable."""
        try:
            widths = tuple(value)
        except TypeError:
            widths = ()
        if not widths or not all(isinstance(w, int) and not isinstance(w, bool) for w in widths):
            raise HiddenLayersError(f"Hidden layers {shown(value)} are not usable; {_LAYERS_HINT}.")
        return parse_hidden_layers(format_hidden_layers(widths))

    def parse(self, text: str) -> tuple[int, ...]:
        """Widths typed as ``64,32``."""
        return parse_hidden_layers(text)


def format_hidden_layers(widths: tuple[int, ...]) -> str:
    """``(64, 32)`` -> ``"64,32"``."""
    return ",".join(str(w) for w in widths)
