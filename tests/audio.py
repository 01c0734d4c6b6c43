"""Listen-free checks on rendered audio, shared by the end-to-end tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def decode(path: Path) -> tuple[np.ndarray, int]:
    """Decode an MP3 or WAV the way a player does (libsndfile/mpg123: gapless, tags skipped)."""
    import soundfile

    samples, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return samples.mean(axis=1), rate


def frame_db(samples: np.ndarray, rate: int, frame_ms: float = 5.0) -> np.ndarray:
    step = max(1, int(rate * frame_ms / 1000))
    n = len(samples) // step * step
    energy = np.mean(samples[:n].reshape(-1, step).astype(np.float64) ** 2, axis=1)
    return 10 * np.log10(energy + 1e-12)


def onset_s(samples: np.ndarray, rate: int, start_s: float, end_s: float, below_peak_db: float = 40.0) -> float:
    """Where sound starts inside [start_s, end_s]: the first 5 ms frame within `below_peak_db`
    of the segment's loudest frame."""
    a, b = int(start_s * rate), int(end_s * rate)
    db = frame_db(samples[a:b], rate)
    first = int(np.argmax(db > db.max() - below_peak_db))
    return start_s + first * 0.005
