"""The neural English engine: `hibari-tts`, its model inside the wheel, plus voice transforms.

hibari ships one voice ("heart"). Its network predicts, per 12.5 ms frame, a spectral envelope in
five parts and an F0 curve; `hibari.dsp.synth` turns those into a waveform. Scaling F0 (`pitch`)
and warping the envelope along frequency (`formant`) between the two makes new, distinct,
intelligible voices. That reaches below hibari's public API, so hibari is pinned to an exact
version and the contact is kept in `_render_ids` alone (tests/test_neural.py pins its output).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import EngineError
from ..models import Clip, Voice
from . import Engine, VoiceInfo

#: The palette, `neural:heart~NAME`: (name, pitch = F0 scale, formant = envelope warp, tilt in
#: dB/octave, gender impression). Chosen by measurement (benchmarks/palette.py, figures in
#: benchmarks/palette.json): every pair scores at most 0.80 speaker-embedding cosine and every
#: voice a word error rate of at most 0.15. Pitch and formant alone allowed only four such voices;
#: the spectral tilt makes ten. The order deals them into role families (casting.py): hosts and
#: reporters, who speak most, get the clearest woman's and man's voices first.
PALETTE: tuple[tuple[str, float, float, float, str], ...] = (
    ("heart", 1.0, 1.0, 0.0, "female"),    # WER 0.122; dealt in order: host, reporter, guest, host, ...
    ("clear", 1.2, 0.85, 0.0, "female"),   # 0.114
    ("light", 1.4, 0.95, 6.0, "female"),   # 0.138
    ("warm", 0.75, 0.8, 0.0, "male"),      # 0.089
    ("deep", 0.5, 0.9, 0.0, "male"),       # 0.098
    ("husky", 0.75, 0.8, -6.0, "male"),    # 0.114
    ("smoky", 1.3, 0.9, -6.0, "female"),   # 0.146
    ("brass", 0.55, 1.0, 6.0, "male"),     # 0.146
    ("gravel", 0.5, 1.0, -6.0, "male"),    # 0.138
    ("bright", 0.85, 0.85, 6.0, "male"),   # 0.138
)
TRANSFORMS: dict[str, tuple[float, float, float]] = {n: (p, f, t) for n, p, f, t, _ in PALETTE if n != "heart"}
#: hibari's own pace at speed 1.0, in words a minute (measured on the seed transcript).
NATURAL_WPM = 165.0
SEED = 0  # a fixed seed makes synthesis bit-identical, so clips can be cached and compared


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


def tilt_envelope(part: np.ndarray, tilt: float) -> np.ndarray:
    """Add a spectral slope of `tilt` dB per octave about 1 kHz to a log-magnitude [bins, frames]
    array (flat below 125 Hz and above 8 kHz): a darker or brighter voice quality, which a
    speaker-embedding model hears as a different person while words stay as clear."""
    if tilt == 0.0:
        return part
    hz = np.arange(part.shape[0], dtype=np.float32) * (24000 / 1200)  # 20 Hz a bin
    octaves = np.clip(np.log2(np.maximum(hz, 1.0) / 1000.0), -3.0, 3.0)
    return part + (np.float32(tilt / 8.686) * octaves)[:, None].astype(np.float32)  # dB → natural log


def _render_ids(model, ids: list[int], speed: float, pitch: float, formant: float, tilt: float,
                rng) -> np.ndarray:
    """hibari's network outputs, transformed, through hibari's DSP: the one place we rely on
    hibari internals (`sess`, the output order, `dsp.synth`)."""
    from hibari import dsp

    if len(ids) < 3:
        return np.zeros(0, np.float32)
    feeds = {"ids": np.asarray([ids], np.int64), "speed": np.asarray([speed], np.float32)}
    lh, th, ln, lr, phi, f0 = (o[0] for o in model.sess.run(None, feeds))
    if formant != 1.0:
        lh, th, ln, lr, phi = (warp_envelope(p, formant) for p in (lh, th, ln, lr, phi))
    if tilt != 0.0:
        lh, ln, lr = (tilt_envelope(p, tilt) for p in (lh, ln, lr))
    return dsp.synth(lh, th, ln, lr, phi, f0 * np.float32(pitch), rng)


class NeuralEngine(Engine):
    name = "neural"
    sample_rate = 24000
    supports_transforms = True
    transforms = TRANSFORMS

    def __init__(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:  # the version without importing hibari: it brings onnxruntime and scipy (0.4 s)
            self.version = version("hibari-tts")
        except PackageNotFoundError:
            raise EngineError("the neural engine needs hibari-tts (pip install hibari-tts==0.2.1)") from None
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
        """onnxruntime and the bundled model file are there, found without importing anything:
        the main process only mixes while workers synthesize, so it stays free of the model
        (~200 MB), onnxruntime and scipy. (hibari 0.2.1's layout: assets/voices.json names the
        bundled file; tests/test_engines.py checks that layout.)"""
        import importlib.util
        import json

        try:
            spec = importlib.util.find_spec("hibari")
            for name, found in (("hibari-tts", spec), ("onnxruntime", importlib.util.find_spec("onnxruntime"))):
                if found is None:
                    raise ImportError(f"{name} is not installed")
            assets = Path(spec.origin).parent / "assets"
            heart = json.loads((assets / "voices.json").read_text(encoding="utf-8"))["heart"]
            if not (assets / heart["file"]).is_file():
                raise FileNotFoundError(assets / heart["file"])
        except Exception as exc:
            raise EngineError(f"the neural engine could not load its model: {exc}") from None

    def voices(self) -> list[VoiceInfo]:
        found = [VoiceInfo("neural:heart", "en-US", "female", "hibari 'heart', American English")]
        for name, pitch, formant, tilt, gender in PALETTE[1:]:
            found.append(VoiceInfo(f"neural:heart~{name}", "en-US", gender,
                                   f"heart, pitch ×{pitch}, formant ×{formant}, tilt {tilt:+g} dB/octave"))
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
            _render_ids(model, model.ids(phonemes), speed, voice.pitch, voice.formant, voice.tilt, rng)
            for phonemes in model.phonemize(text)
        ]
        samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        if voice.volume != 1.0:
            samples = samples * np.float32(voice.volume)
        return Clip(samples.astype(np.float32, copy=False), self.sample_rate)
