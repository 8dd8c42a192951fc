"""Voice commands: how often the recogniser hears a command exactly, how fast, in how much
memory.

Each of 32 commands over the 15 intents is synthesised with espeak-ng in 5 conditions (voices,
speaking rates, pink and brown noise at 10 and 5 dB SNR), so 160 recordings are heard. Text is
compared after writing every spoken number in digits on both sides, so "sixty four thirty two"
and "64 32" match. Targets: at least 90% exact matches, mean latency at most 0.5 s (one core),
peak memory at most 200 MB for a process that builds the recogniser and hears every recording.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.fresh_process import peak_rss_mb, run_measurement
from benchmarks.targets import check

COMMANDS = (
    ("go", "go to the overview"),
    ("go", "open recommendations"),
    ("go", "show purchase prediction"),
    ("go", "open the data page"),
    ("go", "go to runs"),
    ("load_sample", "load the sample shop"),
    ("filter", "filter category shoes"),
    ("filter", "show only garden"),
    ("filter", "please filter category jewellery"),
    ("clear_filters", "clear the filters"),
    ("period", "show the last thirty days"),
    ("period", "show the last seven days"),
    ("layers", "set hidden layers to one hundred twenty eight sixty four thirty two"),
    ("layers", "use layers sixty four thirty two"),
    ("epochs", "set epochs to fifty"),
    ("epochs", "can you set the epochs to two hundred"),
    ("horizon", "set the horizon to ninety days"),
    ("horizon", "set the horizon to fourteen days"),
    ("top_k", "show the top five"),
    ("top_k", "set k to twenty"),
    ("train", "train the model"),
    ("train", "start training"),
    ("train", "please begin training"),
    ("stop", "stop training"),
    ("show_user", "show recommendations for user twelve thousand seven hundred forty eight"),
    ("show_user", "show user one four six zero six"),
    ("show_user", "show user three zero zero nine"),
    ("compare_runs", "compare the last two runs"),
    ("report", "make a report"),
    ("report", "create the report"),
    ("help", "what can i say"),
    ("help", "help"),
)
# name: (espeak-ng voice, words per minute, noise colour or None, SNR in dB)
CONDITIONS = {
    "us160": ("en-us", 160, None, 0.0),
    "f3_140": ("en+f3", 140, None, 0.0),
    "scot200": ("en-gb-scotland+m3", 200, None, 0.0),
    "us_m2_pink10": ("en-us+m2", 170, "pink", 10.0),
    "rp_f2_brown5": ("en-gb-x-rp+f2", 170, "brown", 5.0),
}
CATEGORIES = ("shoes", "garden", "jewellery", "home decor", "kitchen", "toys", "books", "pets")
TARGET_ACCURACY = 0.90
TARGET_MEAN_SECONDS = 0.5
TARGET_PEAK_MB = 200.0
PAD_SECONDS = 0.3


def _noise(colour: str, length: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(length)
    if colour == "brown":
        noise = np.cumsum(white)
        noise -= np.linspace(noise[0], noise[-1], length)  # no drift
        return noise
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))  # 1/f power
    return np.fft.irfft(spectrum, length)


def synthesise(text: str, condition: str, folder: Path, *, seed: int = 0) -> bytes:
    """A 16 kHz mono 16-bit WAV of ``text`` said in ``condition``, padded with silence."""
    from core.voice.wav import SAMPLE_RATE, read_wav, to_wav

    voice, speed, colour, snr_db = CONDITIONS[condition]
    path = folder / "said.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    speech = read_wav(path.read_bytes()).astype(np.float64)
    pad = np.zeros(int(PAD_SECONDS * SAMPLE_RATE))
    speech = np.concatenate([pad, speech, pad])
    if colour is not None:
        noise = _noise(colour, len(speech), np.random.default_rng(seed))
        voiced = speech[np.abs(speech) > 0]
        speech_power = float(np.mean(voiced**2))
        noise *= np.sqrt(speech_power / (10 ** (snr_db / 10)) / np.mean(noise**2))
        speech = speech + noise
    return to_wav(np.clip(np.round(speech), -32768, 32767).astype(np.int16))


def word_errors(reference: list[str], heard: list[str]) -> int:
    """The edit distance in words (substitutions, insertions and deletions)."""
    row = list(range(len(heard) + 1))
    for i, word in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(heard, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1]


def measure(folder: str) -> None:
    """Build the recogniser, hear every recording in ``folder``; print one JSON line."""
    from core.voice.corpus import example_sentences
    from core.voice.recognise import Recogniser

    started = time.perf_counter()
    recogniser = Recogniser(example_sentences(CATEGORIES), extra_words=CATEGORIES)
    build = time.perf_counter() - started
    heard = {}
    for path in sorted(Path(folder).glob("*.wav")):
        result = recogniser.recognise(path.read_bytes())
        heard[path.stem] = [result.text, result.seconds]
    print(json.dumps({"build": build, "heard": heard, "peak_mb": peak_rss_mb()}))


def main() -> int:
    if shutil.which("espeak-ng") is None:
        print("  espeak-ng is missing: install it with apt-get install -y espeak-ng")
        return 1
    from core.voice.numbers import numbers_to_digits

    with tempfile.TemporaryDirectory() as folder:
        said = Path(folder) / "said"
        said.mkdir()
        for condition in CONDITIONS:
            for index, (_, text) in enumerate(COMMANDS):
                wav = synthesise(text, condition, Path(folder), seed=index)
                (said / f"{condition}__{index:02d}.wav").write_bytes(wav)
        result = run_measurement(measure, str(said))
    rows = []
    for stem, (text, seconds) in result["heard"].items():
        condition, index = stem.split("__")
        reference = numbers_to_digits(COMMANDS[int(index)][1]).split()
        hypothesis = numbers_to_digits(text).split()
        rows.append((condition, reference, hypothesis, seconds))
    print(f"{len(COMMANDS)} commands x {len(CONDITIONS)} conditions; build {result['build']:.2f} s")
    for condition in [*CONDITIONS, "all"]:
        chosen = [row for row in rows if condition in ("all", row[0])]
        exact = sum(row[1] == row[2] for row in chosen) / len(chosen)
        errors = sum(word_errors(row[1], row[2]) for row in chosen)
        wer = errors / sum(len(row[1]) for row in chosen)
        latency = [row[3] for row in chosen]
        p95 = float(np.percentile(latency, 95))
        print(
            f"  {condition:>13}: exact {exact:6.1%}  WER {wer:6.1%}  latency mean "
            f"{statistics.mean(latency):.3f} s, p95 {p95:.3f} s"
        )
    if "-v" in sys.argv:
        for condition, reference, hypothesis, _ in rows:
            if reference != hypothesis:
                print(f"    {condition}: {' '.join(reference)!r} -> {' '.join(hypothesis)!r}")
    print(f"  peak RSS {result['peak_mb']:.0f} MB")
    missed = check(
        {
            f"exact-match accuracy >= {TARGET_ACCURACY:.0%}": exact >= TARGET_ACCURACY,
            f"mean latency <= {TARGET_MEAN_SECONDS} s": statistics.mean(latency)
            <= TARGET_MEAN_SECONDS,
            f"peak RSS <= {TARGET_PEAK_MB:.0f} MB": result["peak_mb"] <= TARGET_PEAK_MB,
        }
    )
    return 1 if missed else 0


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    sys.exit(main())
