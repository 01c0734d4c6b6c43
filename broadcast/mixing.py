"""Clips → one mastered program: levelling, true-peak limiting, pacing, cue chimes, the meter.

In two halves. `master` is each clip's own work, done in the worker that made it: resample to
the program rate (soxr), trim the engine's leading and trailing silence, fade both ends (no
clicks), level it so that its BS.1770 gating blocks measure the target, limit the oversampled
peaks to the ceiling, and keep the blocks' powers for the program's meter. A clip's master depends
on the clip alone, so it is cached with it and an edited turn changes nothing else. `join` is
the rest, in order, in the main process: pieces written with the pause before each, segment
times taken from where each piece's sound lands, and the program's integrated loudness gated
over every piece's blocks. Nothing accumulates: memory stays flat and time linear however long
the transcript.

Why level each clip by its blocks with the silence around it: the program's loudness is the
mean power of its gating blocks (400 ms, every 100 ms) above the gates, and the blocks that
overlap a clip's edges and the pause next to it count. A clip levelled by those same blocks puts
its share of the program on the target, so the whole lands there with no program-wide
correction (which would carry an edit of one turn into the gain of every later one).

Targets (DESIGN.md, "Audio standards"): −19 LUFS integrated for mono, −16 LUFS for stereo,
true peak at most −1.5 dBTP after MP3 encoding (we limit at −3.5 dBTP before it: 64 kb/s LAME
adds up to about 1.6 dB of overshoot, measured on the example). The loudness and true peak in the
timeline are those of the mastered program before encoding.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .models import Clip, Item, Piece, Segment

PROGRAM_RATE = 24000
FADE_MS = 5
#: Relative to the clip's loudest 10 ms, quieter edges are the engine's silence. Engines pad with
#: digital silence (below -95 dB); a word's soft onset (the f of "fighters", the w of "with") sits
#: 35-60 dB down, so -40 cut it and the recogniser heard "writers" (benchmarks/casting.py).
TRIM_FLOOR_DB = -55.0
TRIM_KEEP_MS = 30  # kept beyond the floor at each end: the attack of the onset below it
CEILING_DBTP = -3.5
TARGET_PER_CHANNEL_LUFS = -19.0  # mono −19; stereo −16 is −19 in each channel
CHIME_BELOW_SPEECH_DB = 6.0
END_ROOM_S = 0.5  # a moment of room after the last word, as programs have
#: Bump when `master` changes what it makes: cached pieces are keyed by it.
MASTER_VERSION = 2


def target_lufs(channels: int) -> float:
    return TARGET_PER_CHANNEL_LUFS + 10 * np.log10(channels)


# -- measuring ----------------------------------------------------------------------------------

# ITU-R BS.1770-4: loudness is the mean power of 400 ms gating blocks every 100 ms (K-weighted),
# over the blocks above −70 LUFS and then above the mean of those less 10 LU.
_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0


_FFT_SIZE = 1 << 14  # float32 FFTs of this size filter fastest here (6 ns a sample on this machine)


@functools.lru_cache(maxsize=8)
def _k_weighting(rate: int) -> tuple[np.ndarray, int]:
    """The K-weighting filter (BS.1770's high shelf, then its high-pass) as its response at the
    bins of an `_FFT_SIZE` FFT, and the length of the impulse response that matters. The
    coefficients are libebur128's (exact at any sample rate). The response dies away within
    100 ms (the 38 Hz high-pass: below 1e-10 of its start), so filtering by FFTs, with that much
    overlap, is exact to float32 precision."""
    shelf_f, shelf_db, shelf_q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = np.tan(np.pi * shelf_f / rate)
    vh = 10 ** (shelf_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / shelf_q + k * k
    shelf = ((vh + vb * k / shelf_q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / shelf_q + k * k) / a0,
             2 * (k * k - 1) / a0, (1 - k / shelf_q + k * k) / a0)
    pass_f, pass_q = 38.13547087602444, 0.5003270373238773
    k = np.tan(np.pi * pass_f / rate)
    a0 = 1 + k / pass_q + k * k
    high_pass = (1.0, -2.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / pass_q + k * k) / a0)
    z = np.exp(-2j * np.pi * np.arange(_FFT_SIZE // 2 + 1) / _FFT_SIZE)
    response = np.ones_like(z)
    for b0, b1, b2, a1, a2 in (shelf, high_pass):
        response *= (b0 + b1 * z + b2 * z * z) / (1 + a1 * z + a2 * z * z)
    return response.astype(np.complex64), round(rate / 10)


def k_weighted(samples: np.ndarray, rate: int, length: int | None = None) -> np.ndarray:
    """`samples`, then silence to `length` (default: none), through the K-weighting filter from
    rest, as float32: overlap-save FFTs, a few frames at a time into buffers made once, so memory
    stays small for a long clip. numpy's FFTs release the GIL, so clips are weighted on both
    cores at once (libebur128's binding holds it)."""
    response, reach = _k_weighting(rate)
    step = _FFT_SIZE - reach
    x = np.asarray(samples, np.float32)
    length = len(x) if length is None else length
    frames = -(-length // step)
    padded = np.zeros(reach + frames * step, np.float32)
    padded[reach: reach + min(len(x), length)] = x[:length]
    out = np.empty(frames * step, np.float32)
    batch = 8  # frames a time: 1 MB arrays (larger ones were slower here, smaller ones too)
    spectrum = np.empty((min(batch, frames), _FFT_SIZE // 2 + 1), np.complex64)
    filtered = np.empty((min(batch, frames), _FFT_SIZE), np.float32)
    for first in range(0, frames, batch):
        count = min(batch, frames - first)
        windows = np.lib.stride_tricks.sliding_window_view(padded[first * step:], _FFT_SIZE)[::step][:count]
        np.fft.rfft(windows, axis=1, out=spectrum[:count])
        np.multiply(spectrum[:count], response, out=spectrum[:count])
        np.fft.irfft(spectrum[:count], _FFT_SIZE, axis=1, out=filtered[:count])
        out[first * step: (first + count) * step].reshape(count, step)[:] = filtered[:count, reach:]
    return out[:length]


def _hop_energies(samples: np.ndarray, hop: int) -> np.ndarray:
    """The energy of each `hop` samples (a whole number of them), summed in float64."""
    rows = samples.reshape(-1, hop)
    return np.einsum("ij,ij->i", rows, rows, dtype=np.float64)


def _blocks(energies: np.ndarray, hop: int) -> np.ndarray:
    """Each 400 ms block's mean power from the energies of its four 100 ms hops, the first block
    ending with the first hop (silence before it)."""
    before = np.concatenate([np.zeros(3), energies])
    return (before[:-3] + before[1:-2] + before[2:-1] + before[3:]) / (4 * hop)


def _clip_energies(samples: np.ndarray, rate: int) -> np.ndarray:
    """The K-weighted energy of every 100 ms hop of `samples`, then of silence to a whole hop and
    three more: every block that overlaps the sound ends inside."""
    hop = round(rate / 10)
    return _hop_energies(k_weighted(samples, rate, len(samples) + -len(samples) % hop + 3 * hop), hop)


def block_powers(samples: np.ndarray, rate: int) -> np.ndarray:
    """The K-weighted mean-square power of every gating block that overlaps `samples`, with
    silence around them, on a grid starting at their first sample: the blocks this sound puts
    into any program it is joined into (those that also reach another item's sound aside).
    libebur128 (the reference) measures the same to float precision (tests/test_mixing.py)."""
    return _blocks(_clip_energies(samples, rate), round(rate / 10))


def gated_loudness(powers: np.ndarray) -> float:
    """Integrated loudness (LUFS) of a set of gating blocks given by their powers."""
    powers = np.asarray(powers, np.float64)
    powers = powers[powers > 10 ** ((_ABSOLUTE_GATE_LUFS + 0.691) / 10)]
    if not powers.size:
        return float("-inf")
    kept = powers[powers > powers.mean() * 10 ** (_RELATIVE_GATE_LU / 10)]
    return float(-0.691 + 10 * np.log10(kept.mean()))


class ProgramMeter:
    """The program's integrated loudness from its pieces' gating blocks, in constant memory: a
    histogram of block loudness in 0.01 LU steps holding each step's count and summed power (as
    libebur128's histogram mode does), and the largest true peak."""

    _STEP = 0.01
    _BINS = int(75 / _STEP)  # −70 to +5 LUFS

    def __init__(self) -> None:
        self.counts = np.zeros(self._BINS, np.int64)
        self.sums = np.zeros(self._BINS, np.float64)
        self.peak = 0.0

    def add(self, powers: np.ndarray, peak: float) -> None:
        powers = np.asarray(powers, np.float64)
        powers = powers[powers > 10 ** ((_ABSOLUTE_GATE_LUFS + 0.691) / 10)]
        bins = np.clip(((-0.691 + 10 * np.log10(powers) - _ABSOLUTE_GATE_LUFS) / self._STEP).astype(np.int64),
                       0, self._BINS - 1)
        self.counts += np.bincount(bins, minlength=self._BINS)
        self.sums += np.bincount(bins, powers, minlength=self._BINS)
        self.peak = max(self.peak, peak)

    @property
    def integrated_lufs(self) -> float:
        total = self.counts.sum()
        if not total:
            return float("-inf")
        gate = -0.691 + 10 * np.log10(self.sums.sum() / total) + _RELATIVE_GATE_LU
        first = int(np.clip(np.ceil((gate - _ABSOLUTE_GATE_LUFS) / self._STEP), 0, self._BINS - 1))
        kept = self.counts[first:].sum()
        return float(-0.691 + 10 * np.log10(self.sums[first:].sum() / kept)) if kept else float("-inf")

    @property
    def true_peak_dbtp(self) -> float:
        return float(20 * np.log10(self.peak)) if self.peak > 0 else float("-inf")


# ITU-R BS.1770-4 Annex 2: the 48-tap interpolation filter of its true-peak meter, as 4 phases
_PHASE_0 = (0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000, -0.0594482421875,
            0.1373291015625, 0.9721679687500, -0.1022949218750, 0.0476074218750, -0.0266113281250,
            0.0148925781250, -0.0083007812500)
_PHASE_1 = (-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250, -0.1665039062500,
            0.4650878906250, 0.7797851562500, -0.2003173828125, 0.1015625000000, -0.0582275390625,
            0.0330810546875, -0.0189208984375)
TRUE_PEAK_PHASES = np.array([_PHASE_0, _PHASE_1, _PHASE_1[::-1], _PHASE_0[::-1]], dtype=np.float32)
# no phase can make a value larger than this many times the largest sample under the filter
_PHASE_BOUND = float(np.abs(TRUE_PEAK_PHASES).sum(axis=1).max())
_TAPS = TRUE_PEAK_PHASES.shape[1]
_CORRELATE = np.ascontiguousarray(TRUE_PEAK_PHASES[:, ::-1].T)  # [tap, phase]: the weights of x[i - 6 + tap]
_GATHER = 65536  # points interpolated at once: bounds the temporary arrays to a few MB


def sample_peaks(samples: np.ndarray, ceiling: float = 1.0) -> np.ndarray:
    """For each sample, the largest magnitude among the four points of the signal oversampled 4×
    around it (BS.1770-4 Annex 2's true-peak method).

    Only points that could matter are interpolated: one whose neighbourhood under the filter has
    no sample above (the clip's largest sample, or `ceiling` if lower) / (the most the filter can
    amplify) can hold neither the true peak nor anything to limit, so it keeps its magnitude.
    In speech that leaves about one point in ten to compute. They come in runs (around loud
    syllables); the runs, each with the samples its filter reaches, are laid end to end and
    filtered as one signal by shifted slices: no per-point gathers and no BLAS threads."""
    x = np.asarray(samples, dtype=np.float32)
    peaks = np.abs(x)
    if len(x) < _TAPS:
        return peaks
    half, n = _TAPS // 2, len(x)
    threshold = min(float(peaks.max()), ceiling) / _PHASE_BOUND
    loud = np.zeros(n + _TAPS - 1, bool)
    loud[half: half + n] = peaks >= threshold
    # near[i]: any loud sample among x[i - half] .. x[i + half - 1], an OR over windows of 2, 4, 8, 12
    two = loud[:-1] | loud[1:]
    four = two[:-2] | two[2:]
    near = (four[:-4] | four[4:])[:n] | four[8: 8 + n]
    edges = np.flatnonzero(np.diff(near, prepend=False, append=False))
    starts, lengths = edges[::2], edges[1::2] - edges[::2]  # the runs of points to interpolate
    points = np.flatnonzero(near)
    before = np.concatenate([[0], np.cumsum(lengths)])  # points before each run
    padded = np.pad(x, (half, half - 1))  # point i's filter covers padded[i: i + _TAPS]
    groups = np.unique(np.searchsorted(before, np.arange(0, before[-1], _GATHER), side="right") - 1)
    for first, last in zip(groups, [*groups[1:], len(starts)]):  # about _GATHER points a group
        laid = np.concatenate([padded[s: s + k + _TAPS - 1] for s, k in zip(starts[first:last].tolist(),
                                                                              lengths[first:last].tolist())])
        width = len(laid) - _TAPS + 1
        best = np.zeros(width, np.float32)
        value, term = np.empty(width, np.float32), np.empty(width, np.float32)
        for phase in _CORRELATE.T:
            np.multiply(laid[:width], phase[0], out=value)
            for tap in range(1, _TAPS):
                value += np.multiply(laid[tap: tap + width], phase[tap], out=term)
            np.maximum(best, np.abs(value, out=value), out=best)
        at = points[before[first]: before[last]]
        laid_at = np.cumsum(lengths[first:last] + _TAPS - 1) - lengths[first:last] - (_TAPS - 1)
        where = at + np.repeat(laid_at - starts[first:last], lengths[first:last])
        peaks[at] = np.maximum(peaks[at], best[where])
    return peaks


def true_peak(samples: np.ndarray) -> float:
    """Peak of the signal oversampled 4× (BS.1770-4 Annex 2), as a linear amplitude."""
    return float(sample_peaks(samples).max()) if np.size(samples) else 0.0


# -- mastering clips --------------------------------------------------------------------------------

def to_program_rate(clip: Clip, rate: int = PROGRAM_RATE) -> np.ndarray:
    samples = np.asarray(clip.samples, dtype=np.float32)
    if clip.sample_rate == rate:
        return samples
    import soxr

    return soxr.resample(samples, clip.sample_rate, rate, quality="HQ").astype(np.float32)


def trim(samples: np.ndarray, rate: int) -> np.ndarray:
    """Cut the engine's leading and trailing silence, keeping a little room for soft consonants."""
    step = max(1, rate // 100)
    usable = len(samples) // step * step
    if usable == 0:
        return samples
    energy = _hop_energies(samples[:usable], step)
    loud = energy > energy.max() * 10 ** (TRIM_FLOOR_DB / 10)
    if not loud.any():
        return samples[:0]
    first, last = int(np.argmax(loud)), len(loud) - int(np.argmax(loud[::-1]))
    keep = int(rate * TRIM_KEEP_MS / 1000)
    return samples[max(0, first * step - keep): min(len(samples), last * step + keep)]


def fade(samples: np.ndarray, rate: int, ms: int = FADE_MS) -> np.ndarray:
    n = min(len(samples) // 2, int(rate * ms / 1000))
    if n == 0:
        return samples
    out = samples.copy()
    ramp = np.sin(np.linspace(0, np.pi / 2, n, dtype=np.float32)) ** 2
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


_LIMIT_WINDOW = 96  # samples (4 ms at 24 kHz): the limiter's attack and release
LIMIT_REACH = 2 * _LIMIT_WINDOW  # beyond this from every point it holds down, its gain is exactly 1


def limit_at(samples: np.ndarray, at: np.ndarray, values: np.ndarray, ceiling: float) -> float:
    """Limit float32 `samples`, in place, whose oversampled magnitudes at points `at` are
    `values`; return their peak at those points. The gain is the minimum of what each point
    needs over ±4 ms, smoothed over 4 ms, so it is at most what every point needs and never
    changes abruptly. It differs from 1 only within `LIMIT_REACH` of the points, so only the
    stretches around them are computed."""
    need = np.minimum(1.0, ceiling / np.maximum(values, 1e-12)).astype(np.float32) * np.float32(0.995)
    hold = need < 1.0
    at, need = at[hold], need[hold]
    if not len(at):
        return float(values.max(initial=0.0))
    starts, ends = np.maximum(at - LIMIT_REACH, 0), np.minimum(at + LIMIT_REACH + 1, len(samples))
    first = np.concatenate([[0], np.flatnonzero(starts[1:] > ends[:-1]) + 1])  # `at` is sorted
    lo, hi = starts[first], ends[np.concatenate([first[1:], [len(at)]]) - 1]  # the stretches, in order
    # the stretches end to end, computed as one: each begins and ends with `LIMIT_REACH` of gain 1,
    # more than the filters below see, so none reaches into the next
    offset = np.concatenate([[0], np.cumsum(hi - lo)])
    where = np.repeat(lo - offset[:-1], hi - lo) + np.arange(offset[-1])  # each position's sample
    local = np.ones(offset[-1], np.float32)
    stretch = np.repeat(np.arange(len(lo)), np.diff(np.concatenate([first, [len(at)]])))
    local[at - lo[stretch] + offset[stretch]] = need
    gain = moving_average(running_min(local, 2 * _LIMIT_WINDOW + 1), _LIMIT_WINDOW + 1)
    samples[where] *= gain
    gain_at = gain[at - lo[stretch] + offset[stretch]]
    return max(float((values[hold] * gain_at).max()), float(values[~hold].max(initial=0.0)))


def running_min(x: np.ndarray, size: int) -> np.ndarray:
    """The minimum of each centred window of `size` samples, in linear time (van Herk/Gil-Werman:
    the minimum of a window is that of a block suffix and the next block's prefix)."""
    half = size // 2
    padded = np.pad(x, (half, half + (-(len(x) + 2 * half)) % size), constant_values=np.inf).reshape(-1, size)
    prefix = np.minimum.accumulate(padded, axis=1).ravel()
    suffix = np.minimum.accumulate(padded[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[: len(x)], prefix[size - 1: size - 1 + len(x)])


def moving_average(x: np.ndarray, size: int) -> np.ndarray:
    """The mean of each centred window of `size` samples, the ends extended with their edge values."""
    half = size // 2
    total = np.concatenate([[0.0], np.cumsum(np.pad(x.astype(np.float64), (half, size - 1 - half), mode="edge"))])
    return ((total[size:] - total[:-size]) / size).astype(np.float32)


@dataclass(frozen=True, eq=False)
class MasteredClip:
    """A clip as the program plays it, and what the program's meter needs of it."""

    samples: np.ndarray  # float32, mono, at the program rate
    true_peak: float  # linear
    blocks: np.ndarray  # `block_powers` of `samples`


def master(clip: Clip, rate: int = PROGRAM_RATE, aim_lufs: float = TARGET_PER_CHANNEL_LUFS) -> MasteredClip:
    """Resample, trim, fade, level to `aim_lufs` by the clip's own gating blocks, and limit to the
    true-peak ceiling. Limiting takes loudness off a peaky clip (0.5-0.7 dB for eSpeak's quieter
    voices, which need 9-13 dB of gain), so the gain is then raised until the limited clip
    measures the aim, by the secant method.

    Each costly measurement is made once. K-weighting and the true-peak interpolation are
    linear, so the clip's blocks and oversampled peaks at any gain are those at the first,
    scaled; after limiting, only the hops within reach of the points the limiter held down are
    weighted again (about a seventh of an eSpeak clip)."""
    samples = fade(trim(to_program_rate(clip, rate), rate), rate)
    hop = round(rate / 10)
    energies = _clip_energies(samples, rate)
    blocks = _blocks(energies, hop)
    loudness = gated_loudness(blocks)
    if not np.isfinite(loudness):
        return MasteredClip(samples, float(np.abs(samples).max(initial=0.0)), blocks)
    ceiling = 10 ** (CEILING_DBTP / 20)
    gain_db, tried, peaks_up_to = aim_lufs - loudness, None, -np.inf
    for _ in range(4):
        gain = np.float32(10 ** (gain_db / 20))
        if gain_db > peaks_up_to:  # interpolated wherever a point could pass the ceiling at 2 dB more
            peaks_up_to = gain_db + 2  # (eSpeak clips rarely need more, neural ones 1-2.5 dB: measured)
            peaks = sample_peaks(samples, ceiling / 10 ** (peaks_up_to / 20))
        sound, peak, held = limit(samples, peaks, float(gain))
        if not held.size:
            return MasteredClip(sound, peak, blocks * float(gain) ** 2)
        reached_by = np.concatenate([held - LIMIT_REACH, held + LIMIT_REACH]) // hop  # each point's hops
        changed = np.unique(np.clip(reached_by, 0, len(energies) - 1))
        limited_blocks = _blocks(_relimited(energies, float(gain), sound, changed, rate), hop)
        reached = gated_loudness(limited_blocks)
        if abs(aim_lufs - reached) < 0.1:  # EBU R 128 allows ±0.5 LU; tighter costs a pass a clip
            break
        # a dB more gain gains a limited clip 0.55-0.85 dB (10th-90th percentiles, both engines'
        # clips): the first step assumes 0.65, later ones take the slope from the last two tries
        slope = 0.65 if tried is None else float(np.clip((reached - tried[1]) / (gain_db - tried[0]), 0.2, 1.0))
        tried = (gain_db, reached)
        gain_db += (aim_lufs - reached) / slope
    return MasteredClip(sound, peak, limited_blocks)


def _relimited(energies: np.ndarray, gain: float, sound: np.ndarray, changed: np.ndarray, rate: int) -> np.ndarray:
    """The hop energies of `sound`: the clip whose hops have `energies`, raised by `gain`, then
    limited in the hops `changed`. K-weighting is linear, so only those hops and the hop after
    each (the filter's memory is under 100 ms) differ from the clip's raised by the gain. They
    are weighted again as one run, each after the hop that precedes it in the clip, which brings
    the filter to its state there."""
    hop = round(rate / 10)
    hops = np.union1d(changed, np.minimum(changed + 1, len(energies) - 1))
    rows = np.union1d(hops, np.maximum(hops - 1, 0))
    whole = len(sound) // hop  # rows past these are the clip's last samples or silence
    last = np.zeros((len(energies) - whole, hop), np.float32)
    last.ravel()[: len(sound) - whole * hop] = sound[whole * hop:]
    body = sound[: whole * hop].reshape(-1, hop)
    picked = np.concatenate([body[rows[rows < whole]], last[rows[rows >= whole] - whole]])
    weighted = _hop_energies(k_weighted(picked.ravel(), rate), hop)
    out = energies * gain ** 2
    out[hops] = weighted[np.searchsorted(rows, hops)]
    return out


def limit(sound: np.ndarray, peaks: np.ndarray | None = None,
          gain: float = 1.0) -> tuple[np.ndarray, float, np.ndarray]:
    """A look-ahead peak limiter: `sound` raised by `gain`, then the gain rides down smoothly
    around the (oversampled) peaks that would pass the ceiling, and stays put everywhere else.
    Returns the new sound, its true peak, and the points held down (none: the limiter had nothing
    to do). `peaks`: the sound's `sample_peaks` before the gain, if known."""
    ceiling = 10 ** (CEILING_DBTP / 20)
    before_gain = ceiling / gain  # the ceiling, as the peaks before the gain see it
    peaks = sample_peaks(sound, before_gain) if peaks is None else peaks
    out = np.multiply(sound, np.float32(gain), dtype=np.float32)
    over = np.flatnonzero(peaks > before_gain)
    below = float(np.max(peaks, where=peaks <= before_gain, initial=0.0)) * gain
    if not over.size:
        return out, below, over
    return out, max(limit_at(out, over, peaks[over] * np.float32(gain), ceiling), below), over


def chime(kind: str, rate: int = PROGRAM_RATE) -> np.ndarray:
    """A short, soft generated sound: two rising notes for music, one bright blip for a
    soundbite, three falling notes for a break, one mellow note otherwise."""
    notes = {"music": ((523.25, 0.0), (783.99, 0.16)), "soundbite": ((880.0, 0.0),),
             "break": ((783.99, 0.0), (659.25, 0.16), (523.25, 0.32)), "generic": ((587.33, 0.0),)}[kind]
    length = notes[-1][1] + 0.55
    t = np.arange(int(rate * length), dtype=np.float32) / rate
    out = np.zeros_like(t)
    for freq, start in notes:
        local = np.clip(t - start, 0, None)
        envelope = (t >= start) * np.exp(-local * 7.0) * np.minimum(1.0, local / 0.01)
        out += envelope * (np.sin(2 * np.pi * freq * local) + 0.3 * np.sin(4 * np.pi * freq * local))
    return (out * 0.2).astype(np.float32)


# -- the program ----------------------------------------------------------------------------------

class Sink(Protocol):
    """Where `join` puts the program (export.audio.AudioWriter): pieces, and silence made in
    its own steps."""

    delay: int  # decoded samples before the program's first sample (the MP3 encoder delay)

    def piece(self, piece: Piece) -> None: ...

    def silence(self, samples: int) -> int:
        """About `samples` of silence; returns how many were written."""


@dataclass(frozen=True)
class Mastered:
    """What the join achieved: the segments with their times, and the measured loudness."""

    segments: tuple[Segment, ...]
    samples: int  # the program's length
    duration_s: float
    loudness_lufs: float
    true_peak_dbtp: float


def join(items: tuple[Item, ...], pieces: Iterable[Piece | None], sink: Sink, rate: int,
         channels: int = 1) -> Mastered:
    """Put the pieces in order, each after its item's pause, and time the segments by where each
    sound lands. A pause includes the silence at the end of one piece and the start of the next
    (an MP3 piece's encoder delay), so only the rest is written, in the sink's steps."""
    meter = ProgramMeter()
    position = 0  # in the sink's decoded samples, counting its delay
    sound_end: int | None = None
    segments: list[Segment] = []
    for item, piece in zip(items, pieces, strict=True):
        if piece is None or not piece.length:
            continue
        if sound_end is not None:
            wanted = int(rate * item.pause_before_ms / 1000)
            position += sink.silence(wanted - (position + piece.onset - sound_end))
        start = position + piece.onset
        sink.piece(piece)
        position += piece.samples
        sound_end = start + piece.length
        meter.add(piece.blocks, piece.true_peak)
        segments.append(Segment(len(segments), (start - sink.delay) / rate, (sound_end - sink.delay) / rate,
                                item.speaker, item.role, item.kind, item.voice.id if item.voice else None,
                                item.text, item.line, item.turn))
    samples = (sound_end - sink.delay if sound_end is not None else 0) + int(rate * END_ROOM_S)
    # the program is mono, copied to every channel: BS.1770 sums channel powers, so a stereo copy
    # measures 3 dB louder than its mono source, and −16 LUFS stereo is −19 LUFS per channel
    return Mastered(tuple(segments), samples, samples / rate, meter.integrated_lufs + 10 * np.log10(channels),
                    meter.true_peak_dbtp)
