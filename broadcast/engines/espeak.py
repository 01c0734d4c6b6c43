"""eSpeak NG through pyttsx3, with libespeak-ng and its data from the `espeakng-loader` wheel.

Always installed; used for `--engine espeak`, languages the neural model does not speak, programs
with more speakers than the neural palette, and as the fallback. pyttsx3's quirks (FACTS.md) are
guarded here: the library is loaded before pyttsx3 looks for it; the engine is warmed up because
the first save after `init()` can write nothing; voice and rate are set before every clip because
the rate leaks between files; only one file is queued per `runAndWait`; unknown voice ids are
rejected (pyttsx3 ignores them silently); empty text is never sent; its `print` goes nowhere.

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
import shutil
import tempfile
from pathlib import Path

from ..errors import EngineError
from ..models import Clip, Voice
from . import Engine, VoiceInfo

PITCH_DEFAULT = 50  # eSpeak's pitch parameter, 0..100


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
    parallel = False  # hundreds of times real time: a worker process would cost more than it saves
    sample_rate = 22050

    def __init__(self) -> None:
        try:
            data = _load_library()
            import pyttsx3
            from importlib.metadata import version

            with contextlib.redirect_stdout(io.StringIO()):
                self._tts = pyttsx3.init("espeak")
        except Exception as exc:
            raise EngineError(f"eSpeak NG could not start: {type(exc).__name__}: {exc}") from exc
        self.version = f"pyttsx3 {version('pyttsx3')}, espeakng-loader {version('espeakng-loader')}"
        self._languages = {v.id.lower(): (v.languages[0] if v.languages else "") for v in self._tts.getProperty("voices")}
        self._names = {v.id.lower(): v.name for v in self._tts.getProperty("voices")}
        self._variants = {p.name.lower(): p.name for p in Path(data, "voices", "!v").iterdir() if p.is_file()}
        self._workdir = tempfile.mkdtemp(prefix="broadcast-espeak-")
        # pyttsx3's DriverProxy.__del__ fails noisily if it runs during interpreter teardown
        atexit.register(self._close)
        self._warm_up()

    def _close(self) -> None:
        self._tts = None
        shutil.rmtree(self._workdir, ignore_errors=True)

    def _warm_up(self) -> None:
        with contextlib.suppress(EngineError):
            self._speak_to_file("Ready.", "gmw/en-us", 165, 1.0, 1.0)

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
        return self._speak_to_file(text, espeak_id, voice.rate_wpm, voice.pitch, voice.volume)

    def _speak_to_file(self, text: str, espeak_id: str, rate_wpm: int, pitch: float, volume: float) -> Clip:
        import numpy as np
        import soundfile

        if not text.strip():
            raise EngineError("eSpeak was asked to speak empty text")
        from pyttsx3.drivers import _espeak
        from pyttsx3.drivers.espeak import EspeakDriver

        path = os.path.join(self._workdir, "clip.wav")
        settings = (("voice", espeak_id), ("rate", int(rate_wpm)), ("volume", max(0.0, min(1.0, volume))),
                    ("pitch", max(0, min(100, round(PITCH_DEFAULT * pitch)))))
        for _attempt in range(2):  # the first save after init() can write nothing
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            # pyttsx3 queues setProperty behind its busy flag, and eSpeak applies parameters on its
            # own thread (AUDIO_OUTPUT_RETRIEVAL): a voice change can race a rate change, so the
            # rate of one clip leaked into the next. Set them directly, one at a time, and wait.
            for name, value in settings:
                EspeakDriver.setProperty(name, value)
                _espeak.Synchronize()
            tts = self._tts
            tts.save_to_file(text, path)
            with contextlib.redirect_stdout(io.StringIO()):
                tts.runAndWait()
            if os.path.exists(path) and os.path.getsize(path) > 44:
                samples, rate = soundfile.read(path, dtype="float32")
                return Clip(np.ascontiguousarray(samples), rate)
        raise EngineError(f"eSpeak wrote no audio for voice {espeak_id!r}: {text[:40]!r}")
