"""Speech to text, offline: pocketsphinx's US-English acoustic model with a language model
learnt from example command sentences.

A model of the commands alone hears "set epochs to fifty" where pocketsphinx's general English
model hears nonsense: its words are only the commands' words, which is also what the command
parser understands.
"""

from __future__ import annotations

import itertools
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pocketsphinx
from pocketsphinx.lm import ArpaBoLM

from core.voice.denoise import reduce_noise
from core.voice.pronounce import pronounce, read_dictionary
from core.voice.wav import read_wav

_WORD: Final = re.compile(r"[a-z]+(?:'[a-z]+)?")
_ACOUSTIC_MODEL: Final = Path(pocketsphinx.get_model_path("en-us/en-us"))
_DICTIONARY: Final = Path(pocketsphinx.get_model_path("en-us/cmudict-en-us.dict"))
# Hypotheses offered to ``choose`` (which takes the first the command parser understands).
NBEST: Final = 100
# The acoustic model estimates the noise floor from the quietest frames: digital silence (the
# padding of a synthesised or trimmed recording) throws it off. Faint noise, the same every
# time, keeps it sane; it lies far below a real microphone's own hiss. Measured before the
# recogniser learnt the command spec's sentences, on 32 commands' text heard exactly: 49%
# without it, 73% with it (clear US speech 25% -> 91%).
_DITHER_RMS: Final = 50.0
# The probability mass the language model keeps for word sequences its sentences never say
# (ArpaBoLM's absolute discount; its default is 0.5). A sharper model hears the commands'
# wordings more readily. On the tuning set's 420 recordings (benchmarks/voice_tuning.py),
# without noise reduction: 293 understood with 0.5, 299 with 0.2; with it: 309 with 0.2, 320
# with 0.1, 325 with 0.05, 324 with 0.02, 317 with 0.01. Below 0.1 it hears digits that were
# not said ("one four six zero six" as "one eight four six zero six", clear US speech).
_DISCOUNT_MASS: Final = 0.1


@dataclass(frozen=True)
class Heard:
    """What the recogniser heard.

    Attributes:
        text: the words heard, lower case, numbers as words ("" when nothing was heard).
        seconds: how long recognising took, in seconds.
    """

    text: str
    seconds: float


def words_of(text: str) -> list[str]:
    """The words of a text as the recogniser knows them: lower-case letters (and an inner
    apostrophe); "Home & Garden" -> ["home", "garden"]."""
    return _WORD.findall(text.lower())


class Recogniser:
    """Recognises spoken commands; built once (``core.commands.voice`` builds one from the
    command spec), then shared.

    Of the decoder's best hypotheses, ``choose`` picks what is heard (without it, the best).
    Recognising is serialised by a lock, since one pocketsphinx decoder serves one utterance
    at a time.

    Args:
        sentences: example sentences of every command, the language model's corpus.
        extra_words: words to know besides the sentences' (category or brand names, say;
            names are split into words). They get the smallest weight in the language model,
            so they are heard only where no example's words fit better.
        choose: what is heard, given the hypotheses best first (never empty), e.g. the first
            the command parser understands.
    """

    def __init__(
        self,
        sentences: Sequence[str],
        *,
        extra_words: Iterable[str] = (),
        choose: Callable[[Sequence[str]], str] | None = None,
    ) -> None:
        corpus = [" ".join(words_of(sentence)) for sentence in sentences]
        corpus = [sentence for sentence in corpus if sentence]
        if not corpus:
            raise ValueError("a recogniser needs at least one example sentence")
        extra = sorted({word for text in extra_words for word in words_of(text)})
        vocabulary = sorted({word for sentence in corpus for word in sentence.split()} | set(extra))
        self.vocabulary_: tuple[str, ...] = tuple(vocabulary)
        self._choose = choose or (lambda texts: texts[0])
        self._lock = threading.Lock()
        with tempfile.TemporaryDirectory(prefix="shoplens-voice-") as folder:
            lm_path = Path(folder) / "commands.arpa"
            dict_path = Path(folder) / "commands.dict"
            _write_language_model(corpus, extra, lm_path)
            phones = pronunciations(vocabulary)
            dict_path.write_text(
                "".join(f"{word} {said}\n" for word, said in phones.items()),
                encoding="utf-8",
            )
            self._decoder = pocketsphinx.Decoder(
                hmm=str(_ACOUSTIC_MODEL), lm=str(lm_path), dict=str(dict_path), loglevel="FATAL"
            )

    def recognise(self, wav: bytes, *, name: str = "the recording") -> Heard:
        """The words of a spoken command.

        Args:
            wav: a WAV file's bytes: 16-bit PCM, converted to 16 kHz mono when it is not.
            name: how the recording is named in error messages.

        Raises:
            AudioError: ``wav`` is not a 16-bit PCM WAV file, is empty or longer than 15 s.
        """
        started = time.perf_counter()
        return self._decode(read_wav(wav, name=name), started)

    def recognise_samples(self, samples: np.ndarray) -> Heard:
        """The words of a spoken command already read by :func:`core.voice.wav.read_wav`
        (16 kHz mono ``int16``), for a caller that checked the recording first."""
        return self._decode(samples, time.perf_counter())

    def _decode(self, samples: np.ndarray, started: float) -> Heard:
        # steady noise out first (core.voice.denoise), then the dither's faint, known noise in
        samples = _dithered(reduce_noise(samples))
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(samples.tobytes(), full_utt=True)
            self._decoder.end_utt()
            best = self._decoder.hyp()
            if best is None:
                return Heard(text="", seconds=time.perf_counter() - started)
            texts = [_words_heard(best.hypstr)]
            for hypothesis in itertools.islice(self._decoder.nbest() or (), NBEST):
                if hypothesis is not None:
                    texts.append(_words_heard(hypothesis.hypstr))
        text = self._choose(list(dict.fromkeys(texts)))
        return Heard(text=text, seconds=time.perf_counter() - started)


def pronunciations(words: Iterable[str]) -> dict[str, str]:
    """Each word (lower case) with its phones in the recogniser's US-English dictionary, or
    guessed for a word it lacks."""
    return pronounce(words, read_dictionary(_DICTIONARY))


def _words_heard(hypothesis: str) -> str:
    """The words of a hypothesis, without markers such as ``<s>``, ``<sil>`` or ``[NOISE]``."""
    return " ".join(word for word in hypothesis.split() if word.isalpha() or "'" in word)


def _dithered(samples: np.ndarray) -> np.ndarray:
    noise = np.random.default_rng(0).standard_normal(len(samples)) * _DITHER_RMS
    return np.clip(samples + np.round(noise), -32768, 32767).astype(np.int16)


def _write_language_model(corpus: Sequence[str], extra: Sequence[str], path: Path) -> None:
    builder = ArpaBoLM(text="\n".join(corpus), add_start=True, discount_mass=_DISCOUNT_MASS)
    for word in extra:
        builder.grams_1.setdefault(word, 1)  # heard alone, where nothing better fits
    builder.compute()
    with open(path, "w", encoding="utf-8") as out:
        builder.write(out)
