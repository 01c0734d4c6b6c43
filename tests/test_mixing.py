"""Mixing and mastering, on generated signals: loudness, true peak, trimming, joins, times."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from broadcast.export.audio import PcmFormat
from broadcast.mixing import (CEILING_DBTP, TRIM_KEEP_MS, TRUE_PEAK_PHASES, ProgramMeter, block_powers, chime, fade,
                              gated_loudness, join, limit, limit_at, master, moving_average, running_min, sample_peaks,
                              target_lufs, trim, true_peak)
from broadcast.models import Clip, Item, Voice
from broadcast.pipeline import Finisher

RATE = 24000


def tone(seconds: float, freq: float = 440.0, amp: float = 0.3, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise bursts with syllable-rate gaps: a stand-in for speech with a realistic crest factor."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(int(seconds * RATE)).astype(np.float32) * 0.1
    envelope = (np.sin(2 * np.pi * 4 * np.arange(len(x)) / RATE) > -0.3).astype(np.float32)
    return x * envelope


def test_block_loudness_agrees_with_pyloudnorm():
    x = np.concatenate([speechlike(7, 1), np.zeros(RATE), speechlike(5, 2) * 0.3])
    reference = pyloudnorm.Meter(RATE).integrated_loudness(x.astype(np.float64))
    assert gated_loudness(block_powers(x, RATE)) == pytest.approx(reference, abs=0.1)


@pytest.mark.parametrize("rate", [16000, 22050, 24000, 44100])
def test_block_powers_are_libebur128s_momentary_loudness_at_every_hop(rate):
    """Our FFT K-weighting against the reference meter, block by block: libebur128's momentary
    loudness after each 100 ms of the clip (with silence before and after it)."""
    import pyebur128

    x = np.concatenate([speechlike(3, 4)[: 3 * rate], np.zeros(rate // 3, np.float32), speechlike(2, 5)[: 2 * rate]])
    hop = rate // 10
    state = pyebur128.R128State(1, rate, pyebur128.MeasurementMode.MODE_M)
    state.add_frames(np.zeros(3 * hop, np.float32), 3 * hop)
    body = np.concatenate([x, np.zeros(-len(x) % hop + 3 * hop, np.float32)])
    reference = []
    for k in range(len(body) // hop):
        state.add_frames(body[k * hop:(k + 1) * hop], hop)
        reference.append(pyebur128.get_loudness_momentary(state))
    ours = -0.691 + 10 * np.log10(block_powers(x, rate))
    assert len(ours) == len(reference)
    assert np.allclose(ours, reference, atol=1e-3)


def test_reweighting_only_the_hops_a_limiter_touched_gives_the_blocks_of_the_whole():
    """master's shortcut: a clip's hop energies, raised by a gain, then changed in a few scattered
    hops (as a limiter does) and re-weighted there alone, against measuring the result afresh."""
    from broadcast.mixing import _blocks, _clip_energies, _relimited

    x = speechlike(6, 8)
    hop = RATE // 10
    energies = _clip_energies(x, RATE)
    sound = x * np.float32(2.0)
    changed = np.array([0, 7, 8, 31, len(x) // hop - 1])
    for h in changed:  # dents of different depths and lengths, ending where their hop ends (the
        # filter carries them into the next), at the start, the end and in between
        sound[(h + 1) * hop - 300 - 40 * (h % 5): (h + 1) * hop] *= np.float32(0.5 + 0.05 * (h % 7))
    ours = _blocks(_relimited(energies, 2.0, sound, changed, RATE), hop)
    assert np.allclose(ours, block_powers(sound, RATE), rtol=1e-5, atol=1e-12)


def test_the_program_meter_measures_joined_pieces_as_a_meter_of_the_whole_would():
    """Pieces' own blocks, merged in the histogram, against pyloudnorm on the program they make
    (pauses of 250 and 450 ms, so some blocks of the program span two pieces)."""
    clips = [speechlike(2 + n % 4, n) * (0.05 + n / 10) for n in range(8)]
    program, meter = [], ProgramMeter()
    for n, clip in enumerate(clips):
        program += [clip, np.zeros(int(RATE * (0.25 if n % 2 else 0.45)), np.float32)]
        meter.add(block_powers(clip, RATE), true_peak(clip))
    whole = np.concatenate(program).astype(np.float64)
    assert meter.integrated_lufs == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(whole), abs=0.15)
    assert meter.true_peak_dbtp == pytest.approx(20 * np.log10(true_peak(whole.astype(np.float32))), abs=0.01)


def test_true_peak_sees_between_samples():
    # a sine at a quarter of the rate, sampled at ±45°, peaks between samples
    n = np.arange(4800)
    x = (0.5 * np.sin(np.pi / 2 * n + np.pi / 4)).astype(np.float32)
    assert np.abs(x).max() == pytest.approx(0.5 * np.sqrt(0.5), rel=1e-3)
    assert true_peak(x) == pytest.approx(0.5, rel=0.02)


def test_true_peak_agrees_with_libebur128():
    import pyebur128

    # speech's energy lies well below the Nyquist frequency (broadband noise right up to it is
    # where interpolators, the two meters' included, legitimately differ)
    smooth = np.hanning(9) / np.hanning(9).sum()
    x = np.convolve(speechlike(6, 3), smooth, mode="same").astype(np.float32) * 12
    state = pyebur128.R128State(1, RATE, pyebur128.MeasurementMode.MODE_TRUE_PEAK)
    state.add_frames(x, len(x))
    assert 20 * np.log10(true_peak(x)) == pytest.approx(20 * np.log10(pyebur128.get_true_peak(state, 0)), abs=0.1)


@pytest.mark.parametrize("group", [65536, 97])
def test_only_points_that_cannot_matter_are_left_uninterpolated(group, monkeypatch):
    """…and the points that can are all interpolated, whether in one group of runs or many."""
    monkeypatch.setattr("broadcast.mixing._GATHER", group)
    x = speechlike(2, 4) * np.linspace(0.05, 1.0, 2 * RATE, dtype=np.float32)
    full = np.abs(x)
    for phase in TRUE_PEAK_PHASES:  # every point oversampled, the slow way
        full = np.maximum(full, np.abs(np.convolve(x, phase, mode="same")))
    quick = sample_peaks(x, ceiling=0.2)
    assert quick.max() == full.max()
    assert np.array_equal(quick > 0.2, full > 0.2), "every point above the ceiling is found"
    assert np.all(quick <= full + 1e-6)


def test_running_min_and_moving_average_match_their_definitions():
    x = np.random.default_rng(5).random(1000).astype(np.float32)
    for size in (1, 7, 193):
        half = size // 2
        slow = [x[max(0, i - half): i + half + 1].min() for i in range(len(x))]
        assert np.array_equal(running_min(x, size), np.array(slow, np.float32))
    edge = np.pad(x, 48, mode="edge")
    assert np.allclose(moving_average(x, 97), [edge[i: i + 97].mean() for i in range(len(x))], atol=1e-5)


def test_the_limiter_computes_only_near_its_points_what_it_would_everywhere():
    x = speechlike(3, 7) * 2
    ceiling = 10 ** (CEILING_DBTP / 20)
    peaks = sample_peaks(x, ceiling)
    at = np.flatnonzero(peaks > ceiling * 0.8)  # some points need holding down, some do not
    limited = x.copy()
    limit_at(limited, at, peaks[at], ceiling)  # in place
    need = np.ones(len(x), np.float32)
    need[at] = np.minimum(1.0, ceiling / peaks[at]) * 0.995
    everywhere = x * moving_average(running_min(need, 193), 97)
    assert np.allclose(limited, everywhere, atol=1e-6)


@pytest.mark.parametrize("scale", [0.01, 0.3, 4.0])
def test_a_clip_is_mastered_to_its_aim_under_the_ceiling(scale):
    """Quiet, moderate and clipped-hot clips all measure the aim by their own blocks, limited
    to the ceiling, and the peak and blocks reported are those of the samples made."""
    clip = Clip(np.concatenate([np.zeros(RATE // 2, np.float32), speechlike(4, 6) * scale]), RATE)
    mastered = master(clip, RATE, -19.0)
    assert gated_loudness(block_powers(mastered.samples, RATE)) == pytest.approx(-19.0, abs=0.06)
    assert 20 * np.log10(true_peak(mastered.samples)) <= CEILING_DBTP + 0.1
    assert mastered.true_peak == pytest.approx(true_peak(mastered.samples), rel=0.02)
    assert np.allclose(mastered.blocks, block_powers(mastered.samples, RATE), rtol=1e-4, atol=1e-12)
    assert len(mastered.samples) < 4.1 * RATE, "the leading silence is trimmed"


def test_a_clip_that_needs_no_limiting_is_only_levelled():
    x = speechlike(4, 6) * 0.01
    mastered = master(Clip(x, RATE), RATE, -30.0)
    assert len(mastered.samples) == len(x)
    gain = np.float32(np.abs(mastered.samples).max() / np.abs(x).max())
    assert gain > 1 and np.allclose(mastered.samples[RATE:-RATE], x[RATE:-RATE] * gain, atol=1e-6), "one gain, no limiter"
    assert np.allclose(mastered.blocks, block_powers(mastered.samples, RATE), rtol=1e-4, atol=1e-12), \
        "its blocks, measured once and scaled by the gain, are those of the samples made"


def test_limiter_keeps_the_ceiling_and_leaves_quiet_audio_alone():
    hot = speechlike(3) * 8
    limited, peak, held = limit(hot)
    assert held.size and peak == pytest.approx(true_peak(limited), rel=0.02)
    assert 20 * np.log10(true_peak(limited)) <= CEILING_DBTP + 0.05
    quiet = speechlike(3) * 0.1
    assert np.array_equal(limit(quiet)[0], quiet) and not limit(quiet)[2].size


def test_limiting_with_a_gain_is_limiting_the_raised_sound():
    """master hands the limiter a clip, its peaks and a gain, rather than the raised clip."""
    x = speechlike(3, 9) * 0.5
    gain = 6.0
    ceiling = 10 ** (CEILING_DBTP / 20)
    raised, peak, held = limit(x, sample_peaks(x, ceiling / gain), gain)
    expected, expected_peak, expected_held = limit(x * np.float32(gain))
    assert held.size and np.array_equal(held, expected_held)
    assert np.allclose(raised, expected, rtol=1e-6, atol=1e-7)
    assert peak == pytest.approx(expected_peak, rel=1e-5)
    assert np.array_equal(x, speechlike(3, 9) * 0.5), "the clip itself is left as it was"


def test_trim_removes_engine_silence_but_keeps_the_sound():
    sound = tone(1.0)
    padded = np.concatenate([np.zeros(RATE // 2, np.float32), sound, np.zeros(RATE, np.float32)])
    trimmed = trim(padded, RATE)
    assert len(sound) <= len(trimmed) <= len(sound) + int((2 * TRIM_KEEP_MS + 20) / 1000 * RATE)
    assert trim(np.zeros(RATE, np.float32), RATE).size == 0


def test_trim_keeps_a_soft_onset_before_the_loud_part():
    """A fricative 45 dB under the vowel (the f of "fighters") is speech, not engine silence."""
    rng = np.random.default_rng(0)
    vowel = tone(0.5)  # power 0.3² / 2
    onset = (rng.standard_normal(RATE // 10) * 0.3 / np.sqrt(2) * 10 ** (-45 / 20)).astype(np.float32)
    word = np.concatenate([np.zeros(RATE // 4, np.float32), onset, vowel])
    trimmed = trim(word, RATE)
    assert len(onset) + len(vowel) <= len(trimmed) <= len(onset) + len(vowel) + int(0.05 * RATE)


def test_fades_leave_no_step_at_the_ends():
    faded = fade(np.full(RATE, 0.5, np.float32), RATE)
    assert abs(faded[0]) < 1e-3 and abs(faded[-1]) < 1e-3
    assert np.max(np.abs(np.diff(faded))) < 0.01, "no sample-to-sample jump a click would need"


def item(kind="speech", speaker="A", pause=450, chime_kind=None, turn=0) -> Item:
    voice = None if chime_kind else Voice("silence:a", "silence", "a")
    return Item(kind, speaker, "guest", "text", "text", voice, pause, chime_kind, turn, 1)


class PcmSink:
    """A sink that keeps the program as samples (WAV's encoding: no delay, silence to the sample)."""

    delay = 0

    def __init__(self):
        self.written: list[np.ndarray] = []

    def piece(self, piece):
        self.written.append(np.frombuffer(piece.data, "<i2").reshape(piece.samples, -1)[:, 0] / 32767.0)

    def silence(self, samples):
        self.written.append(np.zeros(max(0, samples)))
        return max(0, samples)


def test_join_times_match_what_was_written():
    finish = Finisher(PcmFormat(RATE, 1))
    items = (item(speaker="A"), item(speaker="B", pause=450), item("cue", "Narrator", 300, "music", None),
             item(speaker="A", pause=250))
    pieces = [finish(Clip(tone(1.0), 16000)), finish(Clip(speechlike(2.0), RATE)), finish.chime("music"),
              finish(Clip(tone(0.5, 300), 22050))]
    sink = PcmSink()
    result = join(items, iter(pieces), sink, RATE)
    program = np.concatenate(sink.written)
    assert result.samples >= len(program) and result.duration_s == result.samples / RATE
    segs = result.segments
    assert [s.speaker for s in segs] == ["A", "B", "Narrator", "A"]
    assert segs[0].start_s == 0.0
    for prev, seg, pause in zip(segs, segs[1:], (0.45, 0.3, 0.25)):
        assert seg.start_s - prev.end_s == pytest.approx(pause, abs=1 / RATE)
        gap = program[int(prev.end_s * RATE): int(seg.start_s * RATE)]
        assert np.all(gap == 0), "pauses are silent"
    for seg, piece in zip(segs, pieces):
        inside = program[round(seg.start_s * RATE): round(seg.end_s * RATE)]
        assert len(inside) == piece.length and np.abs(inside).max() > 0.01
    assert result.true_peak_dbtp <= CEILING_DBTP + 0.05


def test_a_program_of_clips_lands_on_the_loudness_target():
    """Clips of speech-like length, each at its own level, make a program at −19 LUFS, and the
    meter says so."""
    finish = Finisher(PcmFormat(RATE, 1))
    items = tuple(item(speaker="AB"[n % 2], pause=(450, 250)[n % 2]) for n in range(8))
    sink = PcmSink()
    result = join(items, (finish(Clip(speechlike(4 + n % 3, n) * (0.2 + n / 4), RATE)) for n in range(8)), sink, RATE)
    measured = pyloudnorm.Meter(RATE).integrated_loudness(np.concatenate(sink.written))
    assert measured == pytest.approx(target_lufs(1), abs=0.3)
    assert result.loudness_lufs == pytest.approx(measured, abs=0.15)


def test_a_stereo_program_is_at_the_stereo_target():
    finish = Finisher(PcmFormat(RATE, 2))
    items = tuple(item(speaker="AB"[n % 2]) for n in range(6))
    written = []

    class StereoSink(PcmSink):
        def piece(self, piece):
            written.append(np.frombuffer(piece.data, "<i2").reshape(piece.samples, 2) / 32767.0)

        def silence(self, samples):
            written.append(np.zeros((samples, 2)))
            return samples

    result = join(items, (finish(Clip(speechlike(5, n), RATE)) for n in range(6)), StereoSink(), RATE, channels=2)
    measured = pyloudnorm.Meter(RATE).integrated_loudness(np.concatenate(written))
    assert measured == pytest.approx(result.loudness_lufs, abs=0.15)
    assert measured == pytest.approx(target_lufs(2), abs=0.3)


def test_chimes_are_soft_and_distinct():
    kinds = ("music", "soundbite", "break", "generic")
    sounds = {k: chime(k) for k in kinds}
    assert len({len(s) for s in sounds.values()}) >= 3
    assert all(np.abs(s).max() < 0.5 for s in sounds.values())
