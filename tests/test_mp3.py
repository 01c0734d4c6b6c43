"""MP3 made of pieces: each piece a LAME stream of its own, joined with all-zero frames, under
our Info frame. Decoders must play the joined file sample-exactly where the layout says: the
length declared, every sound where the timeline puts it, silence between, the level mastered."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile

from broadcast.export.audio import AudioWriter, PcmFormat
from broadcast.export.mp3 import Mp3Format, frame_sizes
from broadcast.mixing import join
from broadcast.models import Clip, Item, Voice
from broadcast.pipeline import Finisher


def tone(seconds: float, rate: int, freq: float) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t) * np.sin(np.pi * t / seconds) ** 2).astype(np.float32)


def render(tmp_path, audio_format, encoding, rate, clips, pauses):
    items = tuple(Item("speech", "A", "guest", "t", "t", Voice("silence:a", "silence", "a"), pause, turn=n)
                  for n, pause in enumerate(pauses))
    finish = Finisher(encoding)
    path = tmp_path / f"x.{audio_format}"
    writer = AudioWriter(path, audio_format, encoding)
    result = join(items, (finish(Clip(c, rate)) for c in clips), writer, rate, encoding.channels)
    writer.commit(result.samples)
    return path, result


def ffmpeg_decode(path, channels: int) -> np.ndarray:
    import imageio_ffmpeg

    done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "f32le", "-"],
                          capture_output=True, check=True)
    return np.frombuffer(done.stdout, np.float32).reshape(-1, channels)


@pytest.mark.parametrize("rate, channels, kbps", [(24000, 1, 64), (24000, 2, 96), (22050, 1, 64), (44100, 1, 128),
                                                  (16000, 1, 24)])
def test_joined_pieces_decode_where_the_timeline_says(tmp_path, rate, channels, kbps):
    clips = [tone(1.3, rate, 300), tone(0.7, rate, 500), tone(2.1, rate, 700)]
    mp3, result = render(tmp_path, "mp3", Mp3Format.make(rate, channels, kbps), rate, clips, (0, 450, 250))
    wav, reference = render(tmp_path, "wav", PcmFormat(rate, channels), rate, clips, (0, 450, 250))
    pcm, _ = soundfile.read(str(wav), dtype="float32", always_2d=True)
    for decoded in (soundfile.read(str(mp3), dtype="float32", always_2d=True)[0], ffmpeg_decode(mp3, channels)):
        assert decoded.shape == (result.samples, channels)
        for seg, clip in zip(result.segments, clips):
            start = round(seg.start_s * rate)
            heard, made = decoded[start: start + len(clip), 0], clip
            lags = range(-3, 4)
            best = max(lags, key=lambda lag: float(np.dot(np.roll(heard, -lag), made)))
            assert best == 0, "the sound is where the timeline says, to the sample"
            assert np.std(heard) == pytest.approx(np.std(pcm[round(reference.segments[seg.index].start_s * rate):][:len(clip), 0]),
                                                  rel=0.03), "the level mastered (LAME's 0.95 made up)"
        for prev, seg in zip(result.segments, result.segments[1:]):
            gap = decoded[round(prev.end_s * rate) + 40: round(seg.start_s * rate) - 40]
            assert np.abs(gap).max() < 1e-3, "silence between pieces"
    pauses = [seg.start_s - prev.end_s for prev, seg in zip(result.segments, result.segments[1:])]
    granule = Mp3Format.make(rate, channels, kbps).granule
    assert pauses == pytest.approx([0.45, 0.25], abs=granule / 2 / rate + 1e-9), "pauses to half a frame"


@pytest.mark.parametrize("rate", [22050, 24000])
def test_a_long_program_declares_its_real_length(tmp_path, rate):
    # at 22.05 kHz LAME alternates 208- and 209-byte frames: counting frames by size once made
    # players show a 110 s program 0.37 s too long; frames are now counted from their headers
    clips = [tone(9.7, rate, 200 + 40 * n) for n in range(11)]
    path, result = render(tmp_path, "mp3", Mp3Format.make(rate, 1, 64), rate, clips, [450] * 11)
    assert soundfile.info(str(path)).frames == result.samples
    assert result.duration_s > 105


def test_frames_are_counted_from_their_headers():
    fmt = Mp3Format.make(22050, 1, 64)
    data, samples = fmt.encode(np.zeros((22050 * 3, 1), np.float32))
    sizes = frame_sizes(data)
    assert sum(sizes) == len(data) and {208, 209} >= set(sizes)
    assert samples == len(sizes) * 576 >= 22050 * 3 + 1105
    with pytest.raises(ValueError):
        frame_sizes(data[:-1])


def test_the_info_frame_carries_the_tag():
    fmt = Mp3Format.make(24000, 1, 64)
    frame = fmt.info_frame(fmt.header(), 100, 100 * 192, 24000)
    assert len(frame) == fmt.info_size()
    assert b"Info" in frame and b"LAME3.100" in frame
    with pytest.raises(ValueError):
        fmt.info_frame(fmt.header(), 10, 1920, 24000)  # more samples than the frames hold
