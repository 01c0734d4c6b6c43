"""Listen-free quality measures for synthesized speech.

- `embed` / `cosine`: how alike two voices sound, by Resemblyzer's GE2E speaker embedding
  (the same voice against itself scores about 0.98; the palette keeps every pair at most 0.80).
- `transcribe` / `wer`: how intelligible a voice is, as the word error rate of pocketsphinx 5
  (its bundled en-us model, default configuration) against the text that was spoken.

Both run on CPU with nothing downloaded at run time (the GE2E weights ship inside the
resemblyzer wheel; pocketsphinx bundles its model). Install (see benchmarks/README.md):

    pip install torch==2.13.0 resemblyzer "setuptools<81" pocketsphinx jiwer

Command line:

    python benchmarks/listening.py AUDIO --text FILE     # prints the WER of AUDIO against FILE
    python benchmarks/listening.py --compare A.wav B.wav  # prints the speaker-embedding cosine

Audio is read with soundfile (WAV, FLAC, MP3, ...); stereo is mixed down to mono.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import re
import time
import sys
import warnings
from pathlib import Path

import numpy as np

ASR_RATE = 16000  # pocketsphinx's en-us model and Resemblyzer both work at 16 kHz
MAX_CHUNK_S = 20.0  # longest stretch handed to pocketsphinx as one utterance
MIN_PAUSE_S = 0.30  # a silence at least this long is a place to cut
FRAME_S = 0.01


def _to_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    import soxr

    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=np.float32)
    if sample_rate != ASR_RATE:
        x = soxr.resample(x, sample_rate, ASR_RATE).astype(np.float32, copy=False)
    return x


# --------------------------------------------------------------------------------------------
# Speaker similarity


@functools.cache
def _encoder():
    warnings.filterwarnings("ignore", category=UserWarning)  # webrtcvad's pkg_resources notice
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from resemblyzer import VoiceEncoder

    return VoiceEncoder(device="cpu", verbose=False)


def embed(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The GE2E speaker embedding (256 floats, unit length) of one voice's audio."""
    _encoder()  # imports resemblyzer with its warnings silenced
    from resemblyzer import preprocess_wav

    wav = preprocess_wav(_to_16k(samples, sample_rate), source_sr=None)  # normalise, trim pauses
    return np.asarray(_encoder().embed_utterance(wav), dtype=np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --------------------------------------------------------------------------------------------
# Intelligibility


@functools.cache
def _decoder():
    from pocketsphinx import Decoder

    decoder = Decoder(loglevel="FATAL")  # default config: bundled en-us acoustic model, LM, dict
    return decoder, decoder.get_cmn(False)


def split_at_pauses(x: np.ndarray, rate: int = ASR_RATE, max_s: float = MAX_CHUNK_S) -> list[np.ndarray]:
    """Cut audio into chunks of at most `max_s` seconds, at the middle of pauses of at least
    MIN_PAUSE_S (frames 35 dB below the loud frames); a stretch with no such pause is cut at
    its quietest frame."""
    hop = int(rate * FRAME_S)
    n = len(x) // hop
    if n == 0:
        return [x] if len(x) else []
    rms = np.sqrt(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1)) + 1e-9
    silent = rms < np.percentile(rms, 95) * 10 ** (-35 / 20)
    cuts = []  # frame indices: the middles of long pauses
    start = None
    for i, s in enumerate(np.append(silent, False)):
        if s and start is None:
            start = i
        elif not s and start is not None:
            if i - start >= MIN_PAUSE_S / FRAME_S:
                cuts.append((start + i) // 2)
            start = None
    max_frames = int(max_s / FRAME_S)
    bounds = [0]
    last_ok = 0  # the furthest pause so far that keeps the current chunk short enough
    for c in [c for c in cuts if 0 < c < n] + [n]:
        while c - bounds[-1] > max_frames:
            if last_ok > bounds[-1]:
                bounds.append(last_ok)  # close the chunk at the last pause within reach
            else:  # no pause within reach: cut at the quietest frame of its second half
                lo, hi = bounds[-1] + max_frames // 2, bounds[-1] + max_frames
                bounds.append(lo + int(np.argmin(rms[lo:hi])))
        last_ok = c
    bounds.append(n)
    edges = [b * hop for b in bounds]
    edges[-1] = len(x)
    return [x[a:b] for a, b in itertools.pairwise(edges) if b > a]


def transcribe(samples: np.ndarray, sample_rate: int) -> str:
    """What pocketsphinx hears: each pause-delimited chunk (≤ 20 s) decoded as an utterance."""
    x = _to_16k(samples, sample_rate)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak > 0:
        x = x * (0.9 / peak)  # a consistent level: the decoder's features are level-sensitive
    decoder, initial_cmn = _decoder()
    decoder.set_cmn(initial_cmn)  # the live cepstral mean adapts: start every call afresh
    words = []
    for chunk in split_at_pauses(x):
        pcm = (np.clip(chunk, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        decoder.start_utt()
        decoder.process_raw(pcm, no_search=False, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is not None and hyp.hypstr:
            words.append(hyp.hypstr)
    return " ".join(words)


_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _number_words(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + _number_words(rest))
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            return _number_words(n // size) + " " + name + ("" if rest == 0 else " " + _number_words(rest))
    raise AssertionError(n)


def normalize(text: str) -> str:
    """The form both sides are compared in (the same function for reference and hypothesis):

    1. lower case; `%` → " percent"; thousands separators dropped (`200,000` → `200000`);
    2. whole numbers spelled out (`200000` → "two hundred thousand"; the recogniser only emits words);
    3. hyphens and dashes → spaces (`street-to-street` → "street to street");
    4. apostrophes and periods deleted, not spaced (`U.S.` → "us", `can't` → "cant");
       every other non-letter → space;
    5. a run of two or more single letters joined (`s d f` → "sdf", as `SDF` reads).
    """
    t = text.lower().replace("%", " percent")
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)
    t = re.sub(r"\d+", lambda m: " " + _number_words(int(m.group())) + " ", t)
    t = re.sub(r"[-\u2010-\u2015]", " ", t)
    t = re.sub(r"['\u2019.]", "", t)
    t = re.sub(r"[^a-z]+", " ", t)
    words = t.split()
    out: list[str] = []
    run: list[str] = []
    for w in words + [""]:
        if len(w) == 1:
            run.append(w)
            continue
        out.extend(["".join(run)] if len(run) >= 2 else run)
        run = []
        if w:
            out.append(w)
    return " ".join(out)


def wer(reference_text: str, hypothesis: str) -> float:
    """Word error rate of `hypothesis` against `reference_text`, both `normalize`d."""
    import jiwer

    ref = normalize(reference_text)
    hyp = normalize(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    if not hyp:
        return 1.0
    return float(jiwer.wer(ref, hyp))


# --------------------------------------------------------------------------------------------


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    import soundfile

    data, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    return data, int(rate)


# -- measuring voices (the palette scripts; in worker processes, cached as <stem>.json + .wav) --

def init_worker() -> None:
    """One core per worker process: the pool supplies the parallelism."""
    warnings.filterwarnings("ignore")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def save_json(path: Path, result: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(path)


def measure_voice(engine, voice, text: str, folder: Path, stem: str, fields: dict) -> dict:
    """Synthesize `text` once with `voice`, keep the audio, and record `fields` with the real-time
    factor, the duration and the speaker embedding (read back from the cache when there)."""
    import soundfile

    done = folder / f"{stem}.json"
    if done.exists():
        return json.loads(done.read_text())
    started = time.perf_counter()
    clip = engine.synthesize(text, voice)
    synth_s = time.perf_counter() - started
    duration = len(clip.samples) / clip.sample_rate
    soundfile.write(str(folder / f"{stem}.wav"), clip.samples, clip.sample_rate, subtype="FLOAT")
    result = {**fields, "rtf": round(duration / synth_s, 1), "duration_s": round(duration, 2),
              "embedding": [round(float(v), 6) for v in embed(clip.samples, clip.sample_rate)]}
    save_json(done, result)
    return result


def measure_wer(folder: Path, stem: str, text: str) -> dict:
    """Transcribe a measured voice's kept audio and record its word error rate (once)."""
    done = folder / f"{stem}.json"
    result = json.loads(done.read_text())
    if "wer" not in result:
        hypothesis = transcribe(*read_audio(folder / f"{stem}.wav"))
        result["wer"] = round(wer(text, hypothesis), 4)
        result["hypothesis"] = hypothesis
        save_json(done, result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", nargs="?", help="audio file to transcribe (WAV, MP3, ...)")
    parser.add_argument("--text", type=Path, help="the text that was spoken: print the WER")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="print the speaker cosine of A and B")
    parser.add_argument("--show", action="store_true", help="also print the normalised reference and hypothesis")
    args = parser.parse_args(argv)
    if args.compare:
        a, b = (embed(*read_audio(p)) for p in args.compare)
        print(f"{cosine(a, b):.3f}")
        return 0
    if not args.audio:
        parser.error("give an AUDIO file (with --text) or --compare A B")
    hypothesis = transcribe(*read_audio(args.audio))
    if args.text is None:
        print(hypothesis)
        return 0
    reference = args.text.read_text(encoding="utf-8")
    if args.show:
        print("REF:", normalize(reference), file=sys.stderr)
        print("HYP:", normalize(hypothesis), file=sys.stderr)
    print(f"{wer(reference, hypothesis):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
