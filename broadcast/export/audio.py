"""The audio file: MP3, WAV or M4B, streamed to a temporary file, tagged, moved into place.

MP3 comes from LAME in the `lameenc` wheel with our own gapless Info frame (mp3.py); WAV from
libsndfile in the `soundfile` wheel; M4B from the ffmpeg in the `imageio-ffmpeg` wheel. None
needs a system package.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from pathlib import Path

from ..errors import OutputError
from ..models import Timeline
from . import _failure, chapter_marks, prepare_folder

AUDIO_FORMATS = ("mp3", "wav", "m4b")
MP3_KBPS = 64  # mono speech: transparent enough at 24 kHz, small for phones


class AudioWriter:
    """Streams the program into a temporary file; `commit()` tags it and moves it into place.

    Encoding runs on its own thread behind a short queue, so the encoder works while the next
    clips are synthesized and mixed, and at most a few seconds of audio wait in memory.
    """

    QUEUE_CHUNKS = 8

    def __init__(self, path: Path, audio_format: str, rate: int, channels: int, kbps: int = MP3_KBPS):
        prepare_folder(path)
        self.path, self.format = path, audio_format
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        os.close(fd)
        self.tmp = Path(name)
        self.kbps = kbps
        self._file = self._mp3 = self._thread = None
        try:
            if audio_format == "mp3":
                from .mp3 import Mp3Encoder

                self._mp3 = Mp3Encoder(rate, channels, kbps)
                self._file = open(self.tmp, "wb")
                self._file.write(bytes(self._mp3.info_size()))  # the Info frame's place, filled at commit
            else:  # WAV, or the PCM that becomes an M4B audiobook at commit
                import soundfile

                if audio_format == "m4b":
                    _ffmpeg()  # fail before synthesis, not after it
                self._file = soundfile.SoundFile(self.tmp, "w", samplerate=rate, channels=channels,
                                                 format="WAV", subtype="PCM_16")
        except OutputError:
            self.abort()
            raise
        except Exception as exc:
            self.abort()
            raise OutputError(f"{path}: cannot start the {audio_format} encoder ({exc})") from None
        self._queue: queue.Queue = queue.Queue(maxsize=self.QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode, name="broadcast-encoder", daemon=True)
        self._thread.start()

    def _encode(self) -> None:
        while (samples := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._file.write(self._mp3.encode(samples) if self._mp3 else samples)
                except BaseException as exc:  # reported to the writer's caller at the next call
                    self._error = exc

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            exc, self._error = self._error, None
            self.abort()
            if isinstance(exc, OSError):
                raise _failure(self.path, exc) from None
            raise OutputError(f"{self.path}: cannot write ({exc})") from None

    def write(self, samples) -> None:
        # short waits, not one long one: Ctrl-C must reach the main thread promptly (see
        # synthesis._wait)
        while True:
            self._raise_if_failed()
            try:
                self._queue.put(samples, timeout=0.2)
                return
            except queue.Full:
                continue

    def _finish_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            while self._thread.is_alive():
                self._thread.join(timeout=0.2)

    def commit(self, timeline: Timeline | None = None, hosts: list[str] = (), source: str = "") -> None:
        """Finish encoding, tag (MP3 with a timeline), and move the file into place."""
        self._finish_thread()
        self._raise_if_failed()
        try:
            if self._mp3 is not None:
                self._file.write(self._mp3.flush())
                self._file.seek(0)
                self._file.write(self._mp3.info_frame())
            self._file.close()
            if self.format == "mp3" and timeline is not None:
                tag_mp3(self.tmp, timeline, list(hosts), source)
            if self.format == "m4b":
                self._to_m4b(timeline, list(hosts), source)
            os.chmod(self.tmp, 0o644)
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise _failure(self.path, exc) from None
        except BaseException:
            self.abort()
            raise

    def _to_m4b(self, timeline: Timeline | None, hosts: list[str], source: str) -> None:
        """PCM → AAC in an audiobook (M4B) container with chapters, by the wheel's ffmpeg."""
        import subprocess

        meta = self.tmp.with_suffix(".ffmeta")
        out = self.tmp.with_suffix(".m4b.part")
        try:
            meta.write_text(_ffmetadata(timeline, hosts, source), encoding="utf-8")
            done = subprocess.run(
                [_ffmpeg(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(self.tmp),
                 "-f", "ffmetadata", "-i", str(meta), "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
                 "-c:a", "aac", "-b:a", f"{self.kbps}k", "-f", "ipod", str(out)],
                capture_output=True, text=True, timeout=3600)
            if done.returncode != 0:
                raise OutputError(f"{self.path}: ffmpeg could not make the M4B: {done.stderr.strip()[-200:]}")
            os.replace(out, self.tmp)
        finally:
            meta.unlink(missing_ok=True)
            out.unlink(missing_ok=True)

    def abort(self) -> None:
        if getattr(self, "_thread", None) is not None:
            self._error = self._error or OutputError("aborted")  # the encoder skips what is left
            self._finish_thread()
        try:
            if self._file is not None and not self._file.closed:
                self._file.close()
        except Exception:
            pass
        self.tmp.unlink(missing_ok=True)


def _ffmpeg() -> str:
    """The ffmpeg binary that the `imageio-ffmpeg` wheel carries (extra `[m4b]`)."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:
        raise OutputError(f"M4B needs the ffmpeg in the imageio-ffmpeg wheel: pip install 'broadcast[m4b]' ({exc})") from None


def _ffmetadata(timeline: Timeline | None, hosts: list[str], source: str) -> str:
    """FFmpeg's metadata file: title, artist, comment, and a chapter per change of speaker."""
    def escape(text: str) -> str:
        return "".join("\\" + ch if ch in "=;#\\\n" else ch for ch in text)

    lines = [";FFMETADATA1"]
    if timeline is None:
        return "\n".join(lines) + "\n"
    title = timeline.title or Path(source).stem
    lines += [f"title={escape(title)}", f"album={escape(title)}", "genre=Speech",
              f"comment={escape('Rendered by broadcast from ' + source)}"]
    if hosts:
        lines.append(f"artist={escape(', '.join(hosts))}")
    for start, end, speaker in chapter_marks(timeline):
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={int(round(start * 1000))}",
                  f"END={int(round(end * 1000))}", f"title={escape(speaker)}"]
    return "\n".join(lines) + "\n"


def tag_mp3(path: Path, timeline: Timeline, hosts: list[str], source: str) -> None:
    """ID3v2.3: title, artist (the hosts), album, comment with the source, and one chapter
    (CHAP, listed in a CTOC) per segment of speech, titled with its speaker."""
    from mutagen.id3 import CHAP, COMM, CTOC, ID3, TALB, TIT2, TPE1, CTOCFlags

    tags = ID3()
    title = timeline.title or Path(source).stem
    tags.add(TIT2(encoding=3, text=title))
    if hosts:
        tags.add(TPE1(encoding=3, text=", ".join(hosts)))
    tags.add(TALB(encoding=3, text=title))
    tags.add(COMM(encoding=3, lang="eng", desc="source", text=f"Rendered by broadcast from {source}"))
    chapters = []
    for n, (start, end, speaker) in enumerate(chapter_marks(timeline)):
        element = f"ch{n}"
        chapters.append(element)
        tags.add(CHAP(element_id=element, start_time=int(round(start * 1000)), end_time=int(round(end * 1000)),
                      sub_frames=[TIT2(encoding=3, text=speaker)]))
    if chapters:
        tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=chapters,
                      sub_frames=[TIT2(encoding=3, text="Speakers")]))
    tags.save(path, v2_version=3)
