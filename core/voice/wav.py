"""Recordings checked and brought to what the recogniser hears: 16 kHz mono 16-bit samples.

The browser's recorder already sends that; a WAV from elsewhere (44.1 kHz stereo, say) is
converted rather than refused. Anything that is not 16-bit PCM WAV, holds no sound, or lasts
longer than a spoken command should is refused with one line saying what to do.
"""

from __future__ import annotations

import io
import wave
from fractions import Fraction
from typing import Final

import numpy as np

from core.errors import AudioError

SAMPLE_RATE: Final = 16_000
MAX_SECONDS: Final = 15.0
MIN_RATE: Final = 8_000
MAX_RATE: Final = 192_000
# 15 s of the largest WAV accepted (192 kHz, 8 channels), with room for the header.
MAX_BYTES: Final = int(MAX_SECONDS * MAX_RATE * 8 * 2) + 65_536
_MAX_RESAMPLING_FACTOR: Final = 1_000  # beyond this a polyphase filter gets slow: interpolate
_RECORD_AGAIN: Final = "record it again as 16-bit PCM WAV (the command box records that)"


def read_wav(data: bytes, *, name: str = "the recording") -> np.ndarray:
    """The recording's samples as 16 kHz mono ``int16``, converted from another rate or from
    several channels (averaged).

    Args:
        data: the bytes of a WAV file.
        name: how the recording is named in error messages (a file name, say).

    Raises:
        AudioError: ``data`` is not a WAV file, is not 16-bit PCM, holds no samples, or lasts
            longer than 15 seconds.
    """
    check_size(len(data), name=name)
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            width, channels, rate = (
                reader.getsampwidth(),
                reader.getnchannels(),
                reader.getframerate(),
            )
            frames = reader.getnframes()
            if not MIN_RATE <= rate <= MAX_RATE:
                raise AudioError(
                    f"{name} has a sample rate of {rate} Hz, outside {MIN_RATE:,} to "
                    f"{MAX_RATE:,} Hz; {_RECORD_AGAIN}."
                )
            if width != 2:
                raise AudioError(
                    f"{name} has {8 * width}-bit samples, not 16-bit; {_RECORD_AGAIN}."
                )
            if frames / rate > MAX_SECONDS:
                raise AudioError(
                    f"{name} lasts {frames / rate:.1f} s, longer than the {MAX_SECONDS:.0f} s "
                    "a command may take; record a shorter command."
                )
            raw = reader.readframes(frames)
    except (wave.Error, EOFError) as err:
        raise AudioError(f"{name} is not a PCM WAV file ({err}); {_RECORD_AGAIN}.") from None
    samples = np.frombuffer(raw, dtype="<i2")
    samples = samples[: len(samples) - len(samples) % channels].reshape(-1, channels)
    if samples.size == 0:
        raise AudioError(f"{name} holds no sound; record the command again.")
    mono = samples.mean(axis=1) if channels > 1 else samples[:, 0].astype(np.float64)
    if rate != SAMPLE_RATE:
        mono = _resample(mono, rate)
    return np.clip(np.round(mono), -32768, 32767).astype(np.int16)


def check_size(size: int, *, name: str = "the recording") -> None:
    """Refuse a file too large to hold 15 s of any WAV accepted, before reading it.

    Raises:
        AudioError: ``size`` (in bytes) is above ``MAX_BYTES``.
    """
    if size > MAX_BYTES:
        raise AudioError(
            f"{name} is {size / 1e6:.0f} MB, more than {MAX_SECONDS:.0f} s of sound could "
            "take; record a shorter command."
        )


def _resample(samples: np.ndarray, rate: int) -> np.ndarray:
    ratio = Fraction(SAMPLE_RATE, rate)
    if max(ratio.numerator, ratio.denominator) <= _MAX_RESAMPLING_FACTOR:
        # Imported here: scipy.signal takes about 75 MB, and the browser records 16 kHz.
        from scipy.signal import resample_poly

        return np.asarray(resample_poly(samples, ratio.numerator, ratio.denominator))
    times = np.arange(round(len(samples) * SAMPLE_RATE / rate)) * (rate / SAMPLE_RATE)
    return np.interp(times, np.arange(len(samples)), samples)


def to_wav(samples: np.ndarray, *, rate: int = SAMPLE_RATE) -> bytes:
    """Mono ``int16`` samples as the bytes of a 16-bit PCM WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return out.getvalue()
