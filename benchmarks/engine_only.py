"""A finish that does nothing but note the clip's length: `bench.py` measures the engines'
synthesis alone with it, through the render's own workers (a worker imports this module by name,
so it lives in a file rather than in the benchmark's `-c` program)."""

from __future__ import annotations

import numpy as np

from broadcast.models import Clip, Piece


class EngineOnly:
    key = "engine-only"

    def __call__(self, clip: Clip, below_db: float = 0.0) -> Piece:
        return Piece(b"", 0, 0, len(clip.samples), 0.0, np.zeros(0))

    def chime(self, kind: str) -> Piece:
        return Piece(b"", 0, 0, 0, 0.0, np.zeros(0))
