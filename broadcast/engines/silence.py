"""A deterministic engine for fast tests: a quiet tone whose length follows the word count.

Not silent to the sample (mixing trims silence and measures loudness): a soft 220 Hz hum per
word, so every clip has a known, content-dependent length and a measurable level.
"""

from __future__ import annotations

import zlib

from ..models import Clip, Voice
from . import Engine, VoiceInfo

WORD_MS = 300


class SilenceEngine(Engine):
    name = "silence"
    parallel = False  # hundreds of times real time: a worker process would cost more than it saves
    version = "1"
    sample_rate = 16000
    supports_transforms = True

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(f"silence:{n}", "any", None, "test tone") for n in ("a", "b", "c", "d")]

    def knows(self, base: str) -> bool:
        return bool(base)

    def synthesize(self, text: str, voice: Voice) -> Clip:
        import numpy as np

        words = max(1, len(text.split()))
        n = int(self.sample_rate * words * WORD_MS / 1000 * 165 / max(voice.rate_wpm, 1))
        # a per-voice frequency keeps voices apart in tests that compare clips
        freq = 120 + zlib.crc32(voice.id.encode()) % 200 * voice.pitch
        t = np.arange(n, dtype=np.float32) / self.sample_rate
        envelope = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
        return Clip((0.1 * voice.volume * envelope * np.sin(2 * np.pi * freq * t)).astype(np.float32), self.sample_rate)
