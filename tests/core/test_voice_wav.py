import io
import wave

import numpy as np
import pytest

from core.errors import AudioError
from core.voice.wav import MAX_BYTES, SAMPLE_RATE, check_size, read_wav, to_wav


def make_wav(frames: bytes, *, width: int = 2, channels: int = 1, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return out.getvalue()


def pcm(*samples: int) -> bytes:
    return np.array(samples, dtype="<i2").tobytes()


def test_a_16k_mono_wav_is_read_as_it_is():
    assert read_wav(make_wav(pcm(1, -2, 300))).tolist() == [1, -2, 300]


def test_to_wav_round_trips():
    samples = np.array([0, 5, -32768, 32767], dtype=np.int16)
    assert read_wav(to_wav(samples)).tolist() == samples.tolist()


def test_stereo_is_averaged_to_mono():
    # left, right pairs: (100, 300) and (-10, 10)
    assert read_wav(make_wav(pcm(100, 300, -10, 10), channels=2)).tolist() == [200, 0]


def test_another_rate_is_resampled_to_16k():
    one_second_at_44k = make_wav(pcm(*([1000] * 44_100)), rate=44_100)
    samples = read_wav(one_second_at_44k)
    assert len(samples) == SAMPLE_RATE
    assert samples[8000] == pytest.approx(1000, abs=2)  # a constant stays constant inside


def test_8_bit_samples_are_refused():
    with pytest.raises(AudioError, match="8-bit samples, not 16-bit"):
        read_wav(make_wav(bytes([128, 130]), width=1), name="'cmd.wav'")


def test_a_recording_over_15_seconds_is_refused():
    sixteen_seconds = make_wav(bytes(2 * 8000 * 16), rate=8000)
    with pytest.raises(AudioError, match=r"lasts 16\.0 s, longer than the 15 s"):
        read_wav(sixteen_seconds)


def test_a_text_file_is_not_a_wav():
    with pytest.raises(AudioError, match="'notes.txt' is not a PCM WAV file"):
        read_wav(b"hello, this is text\n", name="'notes.txt'")


def test_empty_bytes_are_not_a_wav():
    with pytest.raises(AudioError, match="not a PCM WAV file"):
        read_wav(b"")


def test_a_wav_without_samples_holds_no_sound():
    with pytest.raises(AudioError, match="holds no sound"):
        read_wav(make_wav(b""))


def test_a_sample_rate_outside_the_range_is_refused():
    with pytest.raises(AudioError, match="sample rate of 4000 Hz"):
        read_wav(make_wav(pcm(1, 2), rate=4000))


def test_a_file_too_large_for_15_seconds_is_refused_before_reading():
    check_size(MAX_BYTES)
    with pytest.raises(AudioError, match="record a shorter command"):
        check_size(MAX_BYTES + 1)


def test_every_error_is_one_line():
    for data in (b"", b"RIFF", make_wav(bytes([1]), width=1)):
        with pytest.raises(AudioError) as caught:
            read_wav(data)
        assert "\n" not in str(caught.value)
