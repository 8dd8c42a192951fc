"""Settings checked where they are defined.

Each setting declares its kind and limits once, as scikit-learn's ``_parameter_constraints``
do: a frozen settings dataclass lists its constraints in ``CONSTRAINTS`` and checks itself in
``__post_init__``; the widgets take their limits from the same constraints, and the command
line parses its options with them. A value outside them is refused with one line that says
which setting, what it accepts and what it got.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from core.config import MAX_HORIZON_DAYS, MAX_K
from core.errors import ShopLensError

_SHOWN_CHARS = 40
_MAX_DIGITS = 30  # longer numbers are refused before Python converts them


class SettingError(ShopLensError):
    """A setting outside what it accepts."""


class Constraint(Protocol):
    """What a setting accepts: ``check`` a value, ``parse`` it from text."""

    @property
    def label(self) -> str:
        """The setting's name in messages, e.g. ``Epochs``."""
        ...

    def check(self, value: Any) -> Any:
        """``value`` when it is acceptable, else a :class:`SettingError`."""
        ...

    def parse(self, text: str) -> Any:
        """The value typed as ``text`` (a command-line option), checked."""
        ...


def shown(value: object) -> str:
    """A value as quoted in a one-line message: on one line and at most 40 characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Whole:
    """A whole number from ``low`` to ``high`` (both included)."""

    label: str
    low: int
    high: int

    def describe(self) -> str:
        """What the setting accepts, e.g. ``a whole number from 1 to 2,000``."""
        return f"a whole number from {self.low:,} to {self.high:,}"

    def check(self, value: Any) -> int:
        """``value`` as an int when it is a whole number in range."""
        if _is_whole(value) or (hasattr(value, "is_integer") and _is_integral(value)):
            number = int(value)
            if self.low <= number <= self.high:
                return number
        raise SettingError(f"{self.label} must be {self.describe()} (got {shown(value)}).")

    def parse(self, text: str) -> int:
        """Digits (with an optional minus sign) into a checked int."""
        stripped = str(text).strip()
        digits = stripped.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()) or len(digits) > _MAX_DIGITS:
            raise SettingError(f"{self.label} must be {self.describe()} (got {shown(text)}).")
        return self.check(int(stripped))


def _is_integral(value: Any) -> bool:
    try:
        return bool(value.is_integer()) and not isinstance(value, bool)
    except (AttributeError, TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Number:
    """A finite number from ``low`` to ``high``; ``low`` itself only when ``low_included``."""

    label: str
    low: float
    high: float
    low_included: bool = True

    def describe(self) -> str:
        """What the setting accepts, e.g. ``a number above 0 and at most 1``."""
        if self.low_included:
            return f"a number from {self.low:g} to {self.high:g}"
        return f"a number above {self.low:g} and at most {self.high:g}"

    def check(self, value: Any) -> float:
        """``value`` as a float when it is a finite number in range."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            above = number >= self.low if self.low_included else number > self.low
            if math.isfinite(number) and above and number <= self.high:
                return number
        raise SettingError(f"{self.label} must be {self.describe()} (got {shown(value)}).")

    def parse(self, text: str) -> float:
        """A decimal number into a checked float."""
        stripped = str(text).strip()
        try:
            number = float(stripped) if len(stripped) <= _MAX_DIGITS else math.nan
        except ValueError:
            number = math.nan
        if math.isnan(number):
            raise SettingError(f"{self.label} must be {self.describe()} (got {shown(text)}).")
        return self.check(number)


@dataclass(frozen=True)
class Choice:
    """One of a few words."""

    label: str
    options: tuple[str, ...]

    def describe(self) -> str:
        """What the setting accepts, e.g. ``one of relu, tanh``."""
        return "one of " + ", ".join(self.options)

    def check(self, value: Any) -> str:
        """``value`` when it is one of the options."""
        if isinstance(value, str) and value in self.options:
            return value
        raise SettingError(f"{self.label} must be {self.describe()} (got {shown(value)}).")

    def parse(self, text: str) -> str:
        """The word, checked."""
        return self.check(str(text).strip())


@dataclass(frozen=True)
class Flag:
    """Yes or no."""

    label: str

    def describe(self) -> str:
        """What the setting accepts."""
        return "true or false"

    def check(self, value: Any) -> bool:
        """``value`` when it is a bool."""
        if isinstance(value, bool):
            return value
        raise SettingError(f"{self.label} must be {self.describe()} (got {shown(value)}).")

    def parse(self, text: str) -> bool:
        """``true``/``yes``/``1`` or ``false``/``no``/``0``."""
        word = str(text).strip().lower()
        if word in ("true", "yes", "1"):
            return True
        if word in ("false", "no", "0"):
            return False
        raise SettingError(f"{self.label} must be {self.describe()} (got {shown(text)}).")


@dataclass(frozen=True)
class OrNone:
    """A setting that may be left unset (``None``), else checked by ``inner``."""

    inner: Constraint

    @property
    def label(self) -> str:
        """The setting's name in messages."""
        return self.inner.label

    def check(self, value: Any) -> Any:
        """``None``, or ``value`` as ``inner`` accepts it."""
        return None if value is None else self.inner.check(value)

    def parse(self, text: str) -> Any:
        """The value typed as ``text``, checked by ``inner`` (an option given is never unset)."""
        return self.inner.parse(text)


def check_settings(instance: object, constraints: Mapping[str, Constraint]) -> None:
    """Check every constrained field of a settings object.

    Raises:
        SettingError: one line for the first field outside its constraint.
    """
    for name, constraint in constraints.items():
        constraint.check(getattr(instance, name))


HORIZON: Final[Constraint] = Whole("The horizon H (days)", 1, MAX_HORIZON_DAYS)
K: Final[Constraint] = Whole("k (products per list)", 1, MAX_K)
# Purchase prediction on a random sample of the users (None: every user).
MAX_USERS: Final = Whole("Users to train on", 100, 100_000_000)
