"""The neural English engine: `hibari-tts`, its model inside the wheel, plus voice transforms.

hibari ships one voice ("heart"). Its network predicts, per 12.5 ms frame, a spectral envelope in
five parts and an F0 curve; `hibari.dsp.synth` turns those into a waveform. Scaling F0 (`pitch`)
and warping the envelope along frequency (`formant`) between the two makes new, distinct,
intelligible voices. That reaches below hibari's public API, so hibari is pinned to an exact
version and the contact is kept in `_render_ids` alone (tests/test_neural.py pins its output).
"""

from __future__ import annotations

import numpy as np

from ..errors import EngineError
from ..models import Clip, Voice
from . import Engine, VoiceInfo

#: The palette, `neural:heart~NAME`: (name, pitch = F0 scale, formant = envelope warp, gender
#: impression). Chosen by measurement (benchmarks/palette.py, figures in benchmarks/palette.json):
#: every pair scores at most 0.80 speaker-embedding cosine and each keeps a low word error rate.
PALETTE: tuple[tuple[str, float, float, str], ...] = (
    ("heart", 1.0, 1.0, "female"),
    ("deep", 0.5, 0.80, "male"),
    ("dark", 1.0, 0.85, "female"),
    ("low", 0.55, 1.0, "male"),
    ("warm", 0.8, 0.95, "female"),
)
TRANSFORMS: dict[str, tuple[float, float]] = {n: (p, f) for n, p, f, _ in PALETTE if n != "heart"}
#: hibari's own pace at speed 1.0, in words a minute (measured on the seed transcript).
NATURAL_WPM = 165.0
SEED = 0  # a fixed seed makes synthesis bit-identical, so clips can be cached and compared


def transform_of(voice: Voice) -> tuple[float, float]:
    return voice.pitch, voice.formant


def warp_envelope(part: np.ndarray, formant: float) -> np.ndarray:
    """Resample each frame of a [bins, frames] array along frequency: bin k takes the value of
    bin k / formant, so formant < 1 lowers every resonance (a longer vocal tract)."""
    if formant == 1.0:
        return part
    bins = part.shape[0]
    source = np.arange(bins, dtype=np.float32) / np.float32(formant)
    lower = np.minimum(source.astype(np.int64), bins - 1)
    upper = np.minimum(lower + 1, bins - 1)
    frac = np.clip(source - lower, 0.0, 1.0)[:, None].astype(np.float32)
    return part[lower] * (1.0 - frac) + part[upper] * frac


def _render_ids(model, ids: list[int], speed: float, pitch: float, formant: float, rng) -> np.ndarray:
    """hibari's network outputs, transformed, through hibari's DSP: the one place we rely on
    hibari internals (`sess`, the output order, `dsp.synth`)."""
    from hibari import dsp

    if len(ids) < 3:
        return np.zeros(0, np.float32)
    feeds = {"ids": np.asarray([ids], np.int64), "speed": np.asarray([speed], np.float32)}
    lh, th, ln, lr, phi, f0 = (o[0] for o in model.sess.run(None, feeds))
    if formant != 1.0:
        lh, th, ln, lr, phi = (warp_envelope(p, formant) for p in (lh, th, ln, lr, phi))
    return dsp.synth(lh, th, ln, lr, phi, f0 * np.float32(pitch), rng)


class NeuralEngine(Engine):
    name = "neural"
    sample_rate = 24000
    supports_transforms = True
    transforms = TRANSFORMS

    def __init__(self) -> None:
        try:
            import hibari
        except Exception as exc:
            raise EngineError(f"the neural engine needs hibari-tts: {exc} (pip install hibari-tts==0.2.1)") from exc
        self.version = hibari.__version__
        self._loaded = None

    @property
    def _model(self):
        """The ONNX model, loaded on first synthesis: listing voices or casting needs no model."""
        if self._loaded is None:
            from hibari import Hibari

            try:
                self._loaded = Hibari(voice="heart", threads=1)
            except Exception as exc:
                raise EngineError(f"the neural engine could not load its model: {exc}") from exc
        return self._loaded

    def check(self) -> None:
        self._model  # noqa: B018 - loading the model is the check

    def voices(self) -> list[VoiceInfo]:
        found = [VoiceInfo("neural:heart", "en-US", "female", "hibari 'heart', American English")]
        for name, pitch, formant, gender in PALETTE[1:]:
            found.append(VoiceInfo(f"neural:heart~{name}", "en-US", gender, f"heart, pitch ×{pitch}, formant ×{formant}"))
        return found

    def knows(self, base: str) -> bool:
        return base == "heart"

    def synthesize(self, text: str, voice: Voice) -> Clip:
        if voice.base != "heart":
            raise EngineError(f"neural engine has no voice {voice.base!r} (run 'broadcast voices')")
        speed = max(0.5, min(2.0, voice.rate_wpm / NATURAL_WPM))
        rng = np.random.default_rng(SEED)
        model = self._model
        parts = [
            _render_ids(model, model.ids(phonemes), speed, voice.pitch, voice.formant, rng)
            for phonemes in model.phonemize(text)
        ]
        samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        if voice.volume != 1.0:
            samples = samples * np.float32(voice.volume)
        return Clip(samples.astype(np.float32, copy=False), self.sample_rate)
