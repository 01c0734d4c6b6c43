"""eSpeak NG through pyttsx3, with libespeak-ng and its data from the `espeakng-loader` wheel.

Always installed; used for `--engine espeak`, languages the neural model does not speak, programs
with more speakers than the neural palette, and as the fallback. pyttsx3's quirks (FACTS.md) are
guarded here: the library is loaded before pyttsx3 looks for it; `pyttsx3.init` (which prints)
runs with stdout captured; unknown voice ids are rejected (pyttsx3 ignores them silently); empty
text is never sent; voice, rate, volume and pitch are set before every clip, one at a time and
synchronised, because the rate leaked from one clip into the next.

Speech is taken from pyttsx3's eSpeak binding (`pyttsx3.drivers._espeak`) through our own
callback rather than through `save_to_file` + `runAndWait`: that path writes a WAV file per
clip, grows its buffer by concatenation (quadratic in the clip's length), polls in 10 ms sleeps,
writes only the last file queued, and can write nothing the first time. Ours keeps the samples
in memory, and is the same eSpeak with the same settings, initialised in its synchronous mode
(pyttsx3 would start it in its asynchronous one, whose thread answers every call after a wait:
three times the wall time for the same work).

Not reproducible to the sample: most variants of the wheel's eSpeak NG vary by a few samples
from one synthesis to the next, even in synchronous mode with `espeak_ng_SetRandSeed` and
`srand` fixed (measured: 36 of our 46 palette variants). The clip cache is what makes a
re-render with eSpeak voices identical; the neural engine is bit-identical by itself.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import io
import os
from pathlib import Path

from ..errors import EngineError
from ..models import Clip, Voice
from . import Engine, VoiceInfo

PITCH_DEFAULT = 50  # eSpeak's pitch parameter, 0..100
CHUNK_MS = 1000  # speech per synthesis callback


def _load_library() -> str:
    """Make the wheel's libespeak-ng the one pyttsx3 binds to; returns its data path."""
    import sys

    import espeakng_loader

    if "piper.espeakbridge" in sys.modules:
        # piper carries its own libespeak-ng; two in one process crash (segmentation fault)
        raise EngineError("eSpeak cannot run in the same process as the piper engine; cast piper and eSpeak "
                          "voices in separate renders")
    ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)
    data = espeakng_loader.get_data_path()
    os.environ["ESPEAK_DATA_PATH"] = data
    return data


class EspeakEngine(Engine):
    name = "espeak"
    parallel = False  # hundreds of times real time: workers save less than they cost (pipeline.default_jobs)
    sample_rate = 22050

    def __init__(self) -> None:
        try:
            data = _load_library()
            import pyttsx3
            from importlib.metadata import version
            from pyttsx3.drivers import _espeak
            from pyttsx3.drivers.espeak import EspeakDriver

            if not EspeakDriver._moduleInitialized:
                # eSpeak synchronous, not pyttsx3's asynchronous retrieval mode, whose own thread
                # answers each parameter change and each synthesis after a wait: in that mode
                # eSpeak took 4.5 s of wall time for 1.4 s of work (28 min of speech)
                # and speech handed over a second at a time, not 60 ms: each hand-over takes the GIL
                if _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, CHUNK_MS) == -1:
                    raise RuntimeError("espeak_Initialize failed")
                EspeakDriver._moduleInitialized = True  # pyttsx3 initialises eSpeak once per process
                EspeakDriver._defaultVoice = "gmw/en-us"
            with contextlib.redirect_stdout(io.StringIO()):
                self._tts = pyttsx3.init("espeak")
        except Exception as exc:
            raise EngineError(f"eSpeak NG could not start: {type(exc).__name__}: {exc}") from exc
        self.version = f"pyttsx3 {version('pyttsx3')}, espeakng-loader {version('espeakng-loader')}"
        self._languages = {v.id.lower(): (v.languages[0] if v.languages else "") for v in self._tts.getProperty("voices")}
        self._names = {v.id.lower(): v.name for v in self._tts.getProperty("voices")}
        self._variants = {p.name.lower(): p.name for p in Path(data, "voices", "!v").iterdir() if p.is_file()}
        self._chunks: list = []
        _espeak.SetSynthCallback(self._collect)  # pyttsx3 keeps a reference, so it is not collected
        # pyttsx3's DriverProxy.__del__ fails noisily if it runs during interpreter teardown
        atexit.register(self._close)
        with contextlib.suppress(EngineError):  # the first synthesis after start-up can come back empty
            self._speak("Ready.", "gmw/en-us", 165, 1.0, 1.0)

    def _close(self) -> None:
        self._tts = None

    def _collect(self, wav, numsamples: int, _events) -> int:
        """eSpeak's synthesis callback: keep the block of 16-bit samples it hands over."""
        if numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, numsamples * 2))
        return 0

    def voices(self) -> list[VoiceInfo]:
        found = []
        for vid, lang in sorted(self._languages.items()):
            found.append(VoiceInfo(f"espeak:{vid}", lang, None, self._names[vid]))
        for variant in sorted(self._variants.values()):
            found.append(VoiceInfo(f"espeak:gmw/en-us+{variant}", "en-us", None, f"American English, variant {variant}"))
        return found

    def resolve(self, base: str) -> str | None:
        """The id eSpeak wants for `base` (`gmw/en-us+f2`), or None when it has no such voice."""
        voice, _, variant = base.partition("+")
        if voice.lower() not in self._languages:
            return None
        if variant and variant.lower() not in self._variants:
            return None
        return voice.lower() + (f"+{self._variants[variant.lower()]}" if variant else "")

    def knows(self, base: str) -> bool:
        return self.resolve(base) is not None

    def synthesize(self, text: str, voice: Voice) -> Clip:
        espeak_id = self.resolve(voice.base)
        if espeak_id is None:
            raise EngineError(f"eSpeak has no voice {voice.base!r} (run 'broadcast voices --engine espeak')")
        if voice.formant != 1.0 or voice.tilt != 0.0:
            raise EngineError(f"eSpeak cannot apply a formant or tilt transform (voice {voice.id})")
        return self._speak(text, espeak_id, voice.rate_wpm, voice.pitch, voice.volume)

    def _speak(self, text: str, espeak_id: str, rate_wpm: int, pitch: float, volume: float) -> Clip:
        import numpy as np

        if not text.strip():
            raise EngineError("eSpeak was asked to speak empty text")
        from pyttsx3.drivers import _espeak
        from pyttsx3.drivers.espeak import EspeakDriver

        settings = (("voice", espeak_id), ("rate", int(rate_wpm)), ("volume", max(0.0, min(1.0, volume))),
                    ("pitch", max(0, min(100, round(PITCH_DEFAULT * pitch)))))
        for _attempt in range(2):
            # eSpeak applies parameters on its own thread: a voice change can race a rate change
            # (the rate of one clip leaked into the next), so set them one at a time, and wait
            for name, value in settings:
                EspeakDriver.setProperty(name, value)
                _espeak.Synchronize()
            self._chunks.clear()
            _espeak.Synth(text.encode("utf-8"), flags=_espeak.ENDPAUSE | _espeak.CHARS_UTF8)
            _espeak.Synchronize()
            pcm = b"".join(self._chunks)
            self._chunks.clear()
            if pcm:
                return Clip(np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0, self.sample_rate)
        raise EngineError(f"eSpeak made no audio for voice {espeak_id!r}: {text[:40]!r}")
