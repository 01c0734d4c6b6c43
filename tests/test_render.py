"""End-to-end renders with the real engines: the MP3 decodes, every segment holds sound where the
timeline says, speakers have distinct voices, and page chrome never reaches the audio."""

from __future__ import annotations

import json

import numpy as np
import pytest

from broadcast import render
from broadcast.export import chapter_marks
from broadcast.mixing import TRIM_FLOOR_DB, TRIM_KEEP_MS

from .audio import decode, frame_db, onset_s

CHROME = ("Play Live Radio", "Next Up", "Available On Air Stations", "Transcript provided by", "Copyright")


def check_master(result, target: float = -19.0) -> None:
    """Podcast loudness and true peak measured on the decoded file (BS.1770, 4x oversampling),
    and no join louder than the sound around it (no clicks)."""
    import pyloudnorm
    from scipy.signal import resample_poly

    samples, rate = decode(result.audio)
    loudness = pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64))
    assert loudness == pytest.approx(target, abs=1.0)
    peak = np.max(np.abs(resample_poly(samples.astype(np.float64), 4, 1)))
    assert 20 * np.log10(peak) <= -1.5
    for seg in result.timeline.segments:
        for edge in (seg.start_s, seg.end_s):
            at = int(edge * rate)
            join = np.abs(samples[max(0, at - 48): at + 48]).max(initial=0.0)
            around = np.abs(samples[max(0, at - 2400): at + 2400]).max(initial=0.0)
            assert join <= around + 1e-6
            # a click is a jump: the biggest sample-to-sample step at the join stays small
            steps = np.abs(np.diff(samples[max(0, at - 48): at + 48]))
            assert steps.max(initial=0.0) < 0.25


def check_timeline_against_audio(result) -> dict:
    timeline = json.loads(result.sidecars[0].read_text())
    samples, rate = decode(result.audio)
    assert rate == timeline["sample_rate"]
    assert abs(len(samples) / rate - timeline["duration_s"]) < 0.03
    previous_end = 0.0
    for seg in timeline["segments"]:
        assert seg["start_s"] >= previous_end - 1e-6, "segments overlap or are out of order"
        previous_end = seg["end_s"]
        a, b = int(seg["start_s"] * rate), int(seg["end_s"] * rate)
        db = frame_db(samples[a:b], rate)
        assert db.max() > -40, f"segment {seg['index']} holds no sound"
        # the sound starts where the timeline says: within the room trimming keeps before a soft onset
        onset = onset_s(samples, rate, seg["start_s"], seg["end_s"], below_peak_db=-TRIM_FLOOR_DB)
        assert onset - seg["start_s"] <= TRIM_KEEP_MS / 1000 + 0.02
        # and the pause before it is quiet, so the start is not early either
        if seg["start_s"] > 0.1:
            before = frame_db(samples[int((seg["start_s"] - 0.1) * rate): int((seg["start_s"] - 0.02) * rate)], rate)
            assert before.max() < db.max() - 30, f"sound before segment {seg['index']} starts"
    return timeline


@pytest.mark.slow
def test_example_renders_with_the_neural_voices(example, tmp_path):
    result = render(example, tmp_path / "raqqa.mp3", announce="never")
    timeline = check_timeline_against_audio(result)
    check_master(result)

    assert 120 <= timeline["duration_s"] <= 180, "the example is 2-3 minutes of speech"
    speech = [s for s in timeline["segments"] if s["kind"] == "speech"]
    turns = sorted({s["turn"] for s in speech})
    assert len(turns) == 7, "7 spoken turns"
    speakers = {s["speaker"]: s["voice"] for s in speech}
    assert set(speakers) == {"Host", "Ruth Sherlock", "Mustafa Bali", "Ahmed Shebli"}
    voices = {s["voice"] for s in speech}
    assert len(voices) >= 4, "four speakers, four distinct voices (interpreted turns add voice-overs)"
    own = {s["name"]: s["voice"] for s in timeline["speakers"]}
    assert len(set(own.values())) == 4
    spoken = " ".join(s["text"] for s in timeline["segments"])
    for chrome in CHROME:
        assert chrome not in spoken
    assert "Ruth Sherlock, NPR News, Beirut." in spoken
    # the (Speaking Arabic). cue is handled: narrated by the narrator, not read out as a stage direction
    narrated = [s for s in timeline["segments"] if s["kind"] == "cue"]
    assert len(narrated) == 1 and narrated[0]["text"] == "Mustafa Bali speaks in Arabic."
    assert "(Speaking Arabic)" not in spoken
    assert -20.0 <= timeline["loudness_lufs"] <= -18.0
    assert timeline["true_peak_dbtp"] <= -1.5


@pytest.mark.slow
def test_seed_renders_with_espeak(tmp_path):
    from .conftest import SEEDS

    result = render(SEEDS / "newscast.txt", tmp_path / "newscast.mp3", engine="espeak")
    timeline = check_timeline_against_audio(result)
    check_master(result)
    voices = [s["voice"] for s in timeline["speakers"]]
    assert len(voices) == len(set(voices)) >= 3
    assert all(v.startswith("espeak:") for v in voices)
    # a chapter per change of speaker, readable by mutagen, at the timeline's times
    from mutagen.id3 import ID3

    tags = ID3(result.audio)
    chapters = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    marks = chapter_marks(_timeline_object(result))
    assert [c.start_time for c in chapters] == [int(round(a * 1000)) for a, _b, _s in marks]
    assert tags["TIT2"].text[0] == timeline["title"]


@pytest.mark.slow
def test_cable_news_directions_are_heard_as_chimes(tmp_path):
    from .conftest import SEEDS

    result = render(SEEDS / "cable-news.txt", tmp_path / "cable.mp3", engine="espeak", announce="never")
    timeline = check_timeline_against_audio(result)
    chimes = {s["text"]: s for s in timeline["segments"] if s["kind"] == "cue" and s["voice"] is None}
    assert "(BEGIN VIDEOTAPE)" in chimes and "(END VIDEOTAPE)" in chimes
    assert any(text.startswith("(SOUNDBITE OF") for text in chimes)
    samples, rate = decode(result.audio)
    for seg in chimes.values():
        assert seg["end_s"] - seg["start_s"] >= 0.3
        assert frame_db(samples[int(seg["start_s"] * rate): int(seg["end_s"] * rate)], rate).max() > -40


@pytest.mark.slow
def test_stereo_render_meets_the_stereo_target(short_transcript, tmp_path):
    voices = tmp_path / "v.yaml"
    voices.write_text("defaults: {channels: 2, bitrate: 96}\n")
    result = render(short_transcript, tmp_path / "stereo.mp3", voices=voices, engine="espeak")
    samples, rate = __import__("soundfile").read(str(result.audio), dtype="float32", always_2d=True)
    assert samples.shape[1] == 2
    import pyloudnorm

    assert pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64)) == pytest.approx(-16.0, abs=1.0)


def _timeline_object(result):
    return result.timeline


def test_render_with_silence_engine_writes_mp3_and_timeline(short_transcript, tmp_path):
    result = render(short_transcript, tmp_path / "out" / "short.mp3", engine="silence", jobs=1)
    assert result.audio.exists() and result.audio.stat().st_size > 1000
    timeline = check_timeline_against_audio(result)
    assert timeline["audio"] == "short.mp3"
    assert [s["name"] for s in timeline["speakers"]] == ["Host", "Jane Roe", "Sam Lee"]
    assert not list((tmp_path / "out").glob(".*part")), "no temporary files left"
    samples, rate = decode(result.audio)
    assert np.isfinite(samples).all()
