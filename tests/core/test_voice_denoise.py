import numpy as np

from core.voice.denoise import reduce_noise

RATE = 16_000


def tone(seconds: float, hz: float = 440.0, amplitude: float = 3000.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * hz * np.arange(int(seconds * RATE)) / RATE)


def test_a_recording_without_noise_comes_back_as_it_was():
    said = np.concatenate([np.zeros(4000), tone(0.5), np.zeros(4000)]).astype(np.int16)
    assert np.array_equal(reduce_noise(said), said)


def test_steady_noise_is_taken_out_and_the_sound_under_it_kept():
    noise = np.random.default_rng(0).standard_normal(RATE) * 500
    clean = np.concatenate([np.zeros(RATE // 4), tone(0.5), np.zeros(RATE // 4)])
    heard = reduce_noise(np.round(clean + noise).astype(np.int16)).astype(np.float64)
    pause, sound = slice(0, RATE // 4), slice(RATE // 4, 3 * RATE // 4)
    # the noise is estimated from the quietest frames, so some is left in the pause
    assert np.sqrt(np.mean(heard[pause] ** 2)) < 0.8 * np.sqrt(np.mean(noise[pause] ** 2))
    # the tone is kept: nearly all its power, and closer to the clean tone than before
    assert np.mean(heard[sound] ** 2) > 0.9 * np.mean(clean[sound] ** 2)
    assert np.mean((heard[sound] - clean[sound]) ** 2) < 0.7 * np.mean(noise[sound] ** 2)


def test_the_length_and_type_are_kept_even_for_a_few_samples():
    for length in (1, 255, 256, 257, 513):
        samples = np.arange(length, dtype=np.int16)
        cleaned = reduce_noise(samples)
        assert cleaned.dtype == np.int16
        assert len(cleaned) == length
