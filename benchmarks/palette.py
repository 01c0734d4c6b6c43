"""Choose the neural voice palette by measurement.

The neural engine makes voices from hibari's one voice, "heart", by scaling F0 (`pitch`) and
warping the spectral envelope along frequency (`formant`); if the engine's `Voice` also has a
`tilt` field (spectral tilt in dB per octave), tilt becomes a third axis of the search. This
script renders the same test text (two paragraphs of the seed transcript, about 44 s of speech)
with every candidate transform on a grid and measures each candidate once:

- its GE2E speaker embedding (Resemblyzer, `listening.embed`) and real-time factor, for every
  candidate (cheap: about 2 s of CPU each);
- its word error rate (pocketsphinx 5, `listening.wer`; about 15 s of CPU each), lazily: the
  search picks the best palette among candidates whose WER is unknown or good enough, measures
  the unknown ones in it, drops any above `--max-wer`, and repeats until every chosen voice is
  measured and passes. `--all-wer` measures every candidate instead (slower; a full WER table).

The palette is the largest set of candidates, plain heart included, in which every pair scores at
most `--margin` cosine (0.75; if that gives fewer than `--min-voices`, `--threshold`, 0.80, the
contract recorded in palette.json) and every voice has WER at most `--max-wer` (0.15). Among the
largest sets it takes the one with the lowest maximum pairwise cosine, then the lowest mean WER.

    python benchmarks/palette.py            # the full grid
    python benchmarks/palette.py --quick    # a smaller grid

Writes benchmarks/palette.json and prints markdown tables. Candidate audio and measurements are
cached in /tmp/broadcast-palette (keyed by the text, hibari's version and MEASURE_VERSION), so a
second run only redoes the selection. Needs the benchmark dependencies (benchmarks/README.md)
and the seed transcript at ../shared/seed/npr_raqqa.txt (or --seed PATH).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))

import listening  # noqa: E402

import numpy as np

MEASURE_VERSION = 2  # bump when listening.py's measures change: invalidates the cache
DEFAULT_SEED = ROOT.parent / "shared" / "seed" / "npr_raqqa.txt"
CACHE = Path(os.environ.get("BROADCAST_PALETTE_CACHE", "/tmp/broadcast-palette"))
TEXT_DESCRIPTION = (
    "npr_raqqa.txt: the 'RUTH SHERLOCK, BYLINE:' paragraph and the first paragraph of the "
    "following 'SHERLOCK:' turn, labels removed (121 words, about 44 s at 165 wpm)"
)
#: heart's median F0, measured with librosa.pyin on the test text: 187 Hz. A transform whose
#: F0 (pitch x 187 Hz) is under 165 Hz, the usual boundary of men's and women's speaking
#: ranges, is called "male".
HEART_F0_HZ = 187.0
MALE_BELOW_HZ = 165.0

#: The grid. Measured on a wider one (formant 0.7-1.2): with this recognizer formant 0.7 gives
#: WER 0.33-0.44, 0.75 gives 0.15-0.27, 1.05 gives 0.18-0.33, 1.1 about 0.5 (0.38 if only the
#: magnitude arrays are warped) and 1.2 about 0.9, at every pitch from 0.45 to 1.4; so the grid keeps 0.8-1.0. The speaker embedding follows
#: formant more than pitch: at one formant, pitches 0.5 and 1.0 still score about 0.88.
FULL_PITCHES = [0.45, 0.5, 0.55, 0.6, 0.67, 0.75, 0.85, 0.95, 1.0, 1.1, 1.2, 1.3, 1.4]
FULL_FORMANTS = [0.8, 0.85, 0.9, 0.95, 1.0]
QUICK_PITCHES = [0.45, 0.6, 0.75, 0.85, 1.0, 1.2, 1.4]
QUICK_FORMANTS = [0.8, 0.9, 1.0]
TILTS = [-6.0, 0.0, 6.0]  # dB/octave, used only when the engine's Voice has a `tilt` field

#: Evocative names, each anchored at a point of (pitch, formant, tilt); every chosen voice takes
#: the free name whose anchor is nearest. The first four are the names broadcast already uses
#: (engines/neural.py), at the transforms they were first measured at.
NAMES: dict[str, tuple[float, float, float]] = {
    "deep": (0.5, 0.80, 0.0),
    "low": (0.55, 1.0, 0.0),
    "warm": (0.8, 0.95, 0.0),
    "dark": (1.0, 0.85, 0.0),
    "baritone": (0.6, 0.9, 0.0),
    "gravel": (0.45, 0.9, -6.0),
    "husky": (0.75, 0.8, -6.0),
    "tenor": (0.7, 1.0, 6.0),
    "reedy": (0.55, 0.85, 6.0),
    "brass": (0.45, 1.0, 6.0),
    "alto": (0.95, 0.95, 0.0),
    "mellow": (1.0, 1.0, -6.0),
    "bright": (1.0, 1.0, 6.0),
    "velvet": (1.2, 0.85, -6.0),
    "clear": (1.3, 0.9, 0.0),
    "crisp": (1.25, 0.9, 6.0),
    "light": (1.4, 0.95, 6.0),
    "smoky": (1.3, 0.85, -6.0),
}


def test_text(seed: Path) -> str:
    """The two test paragraphs, found by their labels (so line numbers may move)."""
    lines = [line.strip() for line in seed.read_text(encoding="utf-8").splitlines()]
    first = next(i for i, line in enumerate(lines) if line.startswith("RUTH SHERLOCK, BYLINE:"))
    second = next(i for i in range(first + 1, len(lines)) if lines[i].startswith("SHERLOCK:"))
    return "\n\n".join(lines[i].split(":", 1)[1].strip() for i in (first, second))


def gender(pitch: float) -> str:
    return "male" if pitch * HEART_F0_HZ < MALE_BELOW_HZ else "female"


def engine_has_tilt() -> bool:
    from broadcast.models import Voice

    return "tilt" in {f.name for f in dataclasses.fields(Voice)}


def _stem(pitch: float, formant: float, tilt: float) -> str:
    stem = f"p{round(pitch * 1000):04d}_w{round(formant * 1000):04d}"  # no dots: p0500_w0800
    return stem if tilt == 0 else f"{stem}_t{round(tilt * 10):+04d}"


def _is_heart(c: dict) -> bool:
    return c["pitch"] == 1.0 and c["formant"] == 1.0 and c.get("tilt", 0.0) == 0.0


# --------------------------------------------------------------------------------------------
# Measuring (in worker processes; results cached as <stem>.json + <stem>.wav)

_engine = None


def _load_engine():
    global _engine
    if _engine is None:
        from broadcast.engines.neural import NeuralEngine
        from broadcast.models import Voice

        _engine = NeuralEngine()
        _engine.synthesize("A warm-up sentence.", Voice(id="neural:heart", engine="neural", base="heart"))
    return _engine


def render_and_embed(pitch: float, formant: float, tilt: float, text: str, folder: Path) -> dict:
    """Synthesize one candidate, keep its audio, measure its real-time factor and embedding."""
    from broadcast.models import Voice

    extra = {"tilt": tilt} if tilt else {}
    voice = Voice(id="neural:heart~candidate", engine="neural", base="heart", pitch=pitch, formant=formant,
                  rate_wpm=165, **extra)
    return listening.measure_voice(_load_engine(), voice, text, folder, _stem(pitch, formant, tilt),
                                   {"pitch": pitch, "formant": formant, **extra})


def add_wer(candidate: dict, text: str, folder: Path) -> dict:
    """Transcribe one candidate's cached audio and record its WER."""
    return listening.measure_wer(folder, _stem(candidate["pitch"], candidate["formant"], candidate.get("tilt", 0.0)), text)


# --------------------------------------------------------------------------------------------
# Choosing the palette


def _largest_sets(compatible: np.ndarray, must: int, limit: int = 20000) -> list[list[int]]:
    """The largest sets (up to `limit` of them) of mutually compatible candidates containing
    `must`: a maximum-clique search with a greedy-colouring bound (Tomita & Seki's MCQ)."""
    best: list[list[int]] = []
    best_size = 0

    def colour_bound(cands: list[int]) -> list[tuple[int, int]]:
        # A clique holds at most one vertex of each colour class of a greedy colouring.
        classes: list[list[int]] = []
        for v in cands:
            for cls in classes:
                if not compatible[v, cls].any():
                    cls.append(v)
                    break
            else:
                classes.append([v])
        return [(v, k + 1) for k, cls in enumerate(classes) for v in cls]

    def expand(clique: list[int], cands: list[int]) -> None:
        nonlocal best_size, best
        order = colour_bound(cands)
        while order:
            v, bound = order.pop()
            if len(clique) + bound < best_size or (len(best) >= limit and len(clique) + bound <= best_size):
                return
            new_clique = clique + [v]
            rest = [u for u, _ in order if compatible[v, u]]
            if rest:
                expand(new_clique, rest)
            elif len(new_clique) > best_size:
                best_size, best = len(new_clique), [sorted(new_clique)]
            elif len(new_clique) == best_size and len(best) < limit:
                best.append(sorted(new_clique))

    others = [u for u in range(len(compatible)) if u != must and compatible[must, u]]
    if not others:
        return [[must]]
    expand([must], others)
    return best


def choose(candidates: list[dict], bound: float, max_wer: float) -> tuple[list[dict], np.ndarray]:
    """The largest palette with every pair ≤ `bound` that contains heart, among candidates whose
    WER is unknown or ≤ `max_wer`; ties: lowest max cosine, then lowest mean WER (unknown WER
    counts as `max_wer`, so measured voices are preferred)."""
    pool = [c for c in candidates if _is_heart(c) or c.get("wer", 0.0) <= max_wer]
    emb = np.array([c["embedding"] for c in pool], dtype=np.float64)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    cos = emb @ emb.T
    compatible = cos <= bound
    np.fill_diagonal(compatible, False)
    must = next(i for i, c in enumerate(pool) if _is_heart(c))
    sets = _largest_sets(compatible, must)

    def score(s: list[int]) -> tuple[float, float]:
        worst = max((cos[a, b] for a, b in combinations(s, 2)), default=0.0)
        return (round(worst, 3), float(np.mean([pool[i].get("wer", max_wer) for i in s])))

    chosen = min(sets, key=score)
    return [pool[i] for i in chosen], cos[np.ix_(chosen, chosen)]


def name_voices(voices: list[dict]) -> list[str]:
    """Heart keeps its name; the others take the nearest free anchor in NAMES, closest first."""
    def dist(v: dict, anchor: tuple[float, float, float]) -> float:
        return float(np.sqrt(np.log(v["pitch"] / anchor[0]) ** 2 + (1.5 * np.log(v["formant"] / anchor[1])) ** 2
                             + ((v.get("tilt", 0.0) - anchor[2]) / 24) ** 2))

    names = ["heart" if _is_heart(v) else "" for v in voices]
    pairs = sorted((dist(v, a), i, n) for i, v in enumerate(voices) if not names[i] for n, a in NAMES.items())
    taken: set[str] = set()
    for _, i, n in pairs:
        if not names[i] and n not in taken:
            names[i] = n
            taken.add(n)
    for i, v in enumerate(voices):  # more voices than names: a systematic one
        names[i] = names[i] or _stem(v["pitch"], v["formant"], v.get("tilt", 0.0))
    return names


# --------------------------------------------------------------------------------------------


def markdown(palette: list[dict], cos: np.ndarray, with_tilt: bool) -> str:
    tilt_head, tilt_rule = (" tilt dB/oct |", "---|") if with_tilt else ("", "")
    out = [f"| voice | gender | pitch | formant |{tilt_head} WER | real time | closest (cosine) |",
           f"|---|---|---|---|{tilt_rule}---|---|---|"]
    for i, v in enumerate(palette):
        row = cos[i].copy()
        row[i] = -1
        j = int(np.argmax(row))
        tilt = f" {v.get('tilt', 0.0):+g} |" if with_tilt else ""
        out.append(f"| {v['name']} | {v['gender']} | {v['pitch']:g} | {v['formant']:g} |{tilt} {v['wer']:.3f} | "
                   f"{v['rtf']:.0f}× | {palette[j]['name']} ({row[j]:.2f}) |")
    out += ["", "| cosine | " + " | ".join(v["name"] for v in palette) + " |",
            "|---" * (len(palette) + 1) + "|"]
    for i, v in enumerate(palette):
        cells = ["—" if i == j else f"{cos[i, j]:.2f}" for j in range(len(palette))]
        out.append(f"| **{v['name']}** | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Choose the neural voice palette by measurement.")
    parser.add_argument("--quick", action="store_true", help="a smaller grid")
    parser.add_argument("--all-wer", action="store_true", help="measure the WER of every candidate, not only "
                        "of those the search needs")
    parser.add_argument("--no-tilt", action="store_true", help="search pitch and formant only, even if the "
                        "engine supports tilt")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--threshold", type=float, default=0.80, help="the contract: every pair at most this")
    parser.add_argument("--margin", type=float, default=0.75, help="choose with this stricter bound if it "
                        "still gives --min-voices voices")
    parser.add_argument("--min-voices", type=int, default=8)
    parser.add_argument("--max-wer", type=float, default=0.15)
    parser.add_argument("--seed", type=Path, default=DEFAULT_SEED, help="the seed transcript")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "palette.json")
    args = parser.parse_args(argv)

    if not args.seed.exists():
        parser.error(f"seed transcript not found: {args.seed}")
    import hibari

    text = test_text(args.seed)
    with_tilt = engine_has_tilt() and not args.no_tilt
    pitches, formants = (QUICK_PITCHES, QUICK_FORMANTS) if args.quick else (FULL_PITCHES, FULL_FORMANTS)
    tilts = TILTS if with_tilt else [0.0]
    grid = [(p, w, t) for p in pitches for w in formants for t in tilts]
    key = hashlib.sha256(f"{text}|{hibari.__version__}|{MEASURE_VERSION}".encode()).hexdigest()[:12]
    folder = CACHE / key
    folder.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=listening.init_worker) as pool:
        print(f"rendering and embedding {len(grid)} candidates ...", file=sys.stderr, flush=True)
        candidates = list(pool.map(render_and_embed, *zip(*grid), [text] * len(grid), [folder] * len(grid)))
        embedded_s = time.perf_counter() - started

        def measure_wer(todo: list[dict]) -> None:
            todo = [c for c in todo if "wer" not in c]
            if not todo:
                return
            print(f"transcribing {len(todo)} candidates ...", file=sys.stderr, flush=True)
            for c, r in zip(todo, pool.map(add_wer, todo, [text] * len(todo), [folder] * len(todo))):
                c.update(wer=r["wer"], hypothesis=r["hypothesis"])
                print(f"  p{c['pitch']:g} w{c['formant']:g}" + (f" t{c.get('tilt', 0):+g}" if with_tilt else "")
                      + f"  WER {c['wer']:.3f}", file=sys.stderr, flush=True)

        measure_wer([c for c in candidates if _is_heart(c)] + (candidates if args.all_wer else []))
        rounds = 0
        for bound in sorted({args.margin, args.threshold}):
            while True:  # choose, measure the unmeasured voices chosen, drop failures, repeat
                rounds += 1
                palette, cos = choose(candidates, bound, args.max_wer)
                if all("wer" in c for c in palette):
                    break
                measure_wer(palette)
            if len(palette) >= args.min_voices:
                break
    total_s = time.perf_counter() - started

    order = sorted(range(len(palette)), key=lambda i: (palette[i]["pitch"], palette[i]["formant"],
                                                      palette[i].get("tilt", 0.0)))
    palette = [palette[i] for i in order]
    cos = cos[np.ix_(order, order)]
    for v, name in zip(palette, name_voices(palette)):
        v["name"] = name
        v["gender"] = gender(v["pitch"])
    pairs = {f"{a['name']}|{b['name']}": round(float(cos[i, j]), 3)
             for (i, a), (j, b) in combinations(enumerate(palette), 2)}
    measured = [c for c in candidates if "wer" in c]
    fields = ("name", "pitch", "formant") + (("tilt",) if with_tilt else ()) + ("gender", "wer", "rtf")
    report = {
        "threshold": args.threshold,
        "chosen_with": bound,
        "max_wer": args.max_wer,
        "text": TEXT_DESCRIPTION,
        "recognizer": "pocketsphinx 5, bundled en-us model, default config (benchmarks/listening.py)",
        "embedding": "Resemblyzer GE2E (benchmarks/listening.py)",
        "grid": {"pitch": pitches, "formant": formants, "tilt": tilts, "candidates": len(grid),
                 "wer_measured": len(measured)},
        "voices": [{k: v.get(k, 0.0) for k in fields} for v in palette],
        "max_cosine": max(pairs.values(), default=0.0),
        "cosine": pairs,
        "wer_measured": [{k: c.get(k, 0.0) for k in fields[1:-3] + ("wer",)} for c in measured],
    }
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.output)

    print(f"{len(grid)} candidates rendered and embedded in {embedded_s:.0f} s, {len(measured)} transcribed; "
          f"{rounds} selection rounds; {total_s:.0f} s in all ({args.jobs} processes). "
          f"Every pair ≤ {bound}: {len(palette)} voices, max pairwise cosine {report['max_cosine']:.2f}.\n")
    print(markdown(palette, cos, with_tilt))
    print(f"\nwrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
