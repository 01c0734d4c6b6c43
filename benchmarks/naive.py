"""The obvious implementation, for comparison (FACTS.md): one pyttsx3 clip per paragraph, voices
in list order, `program += clip` with pydub, MP3 export. Time grows quadratically with length.

    python benchmarks/naive.py TRANSCRIPT OUT.mp3

pydub exports MP3 through an ffmpeg binary; we point it at the one in the imageio-ffmpeg wheel.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import warnings


def main(source: str, out: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydub import AudioSegment
    import imageio_ffmpeg

    from broadcast.engines.espeak import _load_library

    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    _load_library()
    import pyttsx3

    engine = pyttsx3.init("espeak")
    voices = [v.id for v in engine.getProperty("voices") if v.id.startswith("gmw/en")]
    paragraphs = [p.strip() for p in open(source, encoding="utf-8").read().split("\n\n") if p.strip()]
    program = AudioSegment.empty()
    speakers: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, paragraph in enumerate(paragraphs):
            label = paragraph.split(":", 1)[0] if ":" in paragraph[:40] else "?"
            voice = speakers.setdefault(label, voices[len(speakers) % len(voices)])
            engine.setProperty("voice", voice)
            path = os.path.join(tmp, f"{n}.wav")
            engine.save_to_file(paragraph, path)
            with contextlib.redirect_stdout(io.StringIO()):
                engine.runAndWait()
            if os.path.exists(path) and os.path.getsize(path) > 44:
                program += AudioSegment.from_wav(path)
    program.export(out, format="mp3")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
