"""Can a listener tell the speakers apart and follow the words? Listen-free, on real renders.

    python benchmarks/casting.py [--engine espeak] [TRANSCRIPT ...]

Renders each transcript (default: the example in ../shared/seed and seeds/cable-news.txt) with
the default cast, then from the MP3 and its timeline measures:

1. every pair of speakers: cosine of Resemblyzer GE2E embeddings of all that speaker's speech
   (target ≤ 0.80; one voice against itself scores about 0.98);
2. the program's word error rate: pocketsphinx (bundled en-us model) on every speech segment
   (the timeline splits the program at its pauses) against the segment's text (target ≤ 0.15
   with the default cast, ≤ 0.65 with --engine espeak).

With --each-voice, every voice of the engine's automatic palette instead reads the whole of the
first transcript alone (each turn transcribed as one piece, as above): the word error rate each
voice would give the program, on more text than the palette benchmark's two paragraphs.

Needs the benchmark extra: pip install -e '.[bench]' (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import listening  # noqa: E402

ROOT = HERE.parent
DEFAULTS = [ROOT.parent / "shared" / "seed" / "npr_raqqa.txt", ROOT / "seeds" / "cable-news.txt"]


def measure(transcript: Path, engine: str | None, folder: Path) -> dict:
    from broadcast import render

    result = render(transcript, folder / f"{transcript.stem}.mp3", engine=engine, announce="never")
    samples, rate = listening.read_audio(result.audio)
    speech = [s for s in result.timeline.segments if s.kind == "speech"]
    by_voice: dict[str, list[np.ndarray]] = {}
    reference, hypothesis = [], []
    for seg in speech:
        clip = samples[int(seg.start_s * rate): int(seg.end_s * rate)]
        by_voice.setdefault(f"{seg.speaker} [{seg.voice}]", []).append(clip)
        reference.append(seg.text)
        hypothesis.append(listening.transcribe(clip, rate))
    embeddings = {name: listening.embed(np.concatenate(clips), rate) for name, clips in by_voice.items()}
    pairs = {f"{a} | {b}": round(listening.cosine(embeddings[a], embeddings[b]), 3)
             for a, b in itertools.combinations(sorted(embeddings), 2)}
    return {
        "transcript": transcript.name, "engine": result.engine,
        "voices": sorted(embeddings), "pairs": pairs,
        "max_pair_cosine": max(pairs.values()) if pairs else None,
        "wer": round(listening.wer(" ".join(reference), " ".join(hypothesis)), 3),
        "duration_s": round(result.timeline.duration_s, 1),
    }


def voice_wer(transcript: Path, c) -> dict:
    """One palette voice (a casting candidate) reads every speech turn of `transcript`; its word
    error rate over all of them."""
    from broadcast import engines, mixing, pipeline, program
    from broadcast.models import Voice

    listening.init_worker()
    chosen = pipeline.plan(transcript)
    items = program.running_order(chosen.script, chosen.cast, chosen.settings, "never")
    voice = Voice(c.id, c.engine, c.base, c.pitch, c.formant, chosen.settings.rate_wpm, 1.0, c.tilt)
    engine = engines.get(voice.engine)
    turns: dict[int, list] = {}
    for item in items:
        if item.kind == "speech":
            turns.setdefault(item.turn, []).append(item)
    reference, hypothesis = [], []
    for parts in turns.values():
        gap = np.zeros(int(engine.sample_rate * 0.3), np.float32)
        audio = np.concatenate([np.concatenate([mixing.master(engine.synthesize(i.spoken, voice),
                                                              engine.sample_rate).samples, gap]) for i in parts])
        reference.append(" ".join(i.text for i in parts))
        hypothesis.append(listening.transcribe(audio, engine.sample_rate))
    return {"voice": c.id, "words": len(listening.normalize(" ".join(reference)).split()),
            "wer": round(listening.wer(" ".join(reference), " ".join(hypothesis)), 3)}


def each_voice(transcript: Path, engine: str | None, out: Path | None) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from broadcast import pipeline
    from broadcast.casting import automatic_palette

    palette = automatic_palette(pipeline.plan(transcript, engine=engine).engine)[0][:10]  # the ten clearest
    with ProcessPoolExecutor(2) as pool:
        rows = list(pool.map(voice_wer, [transcript] * len(palette), palette))
    print(f"\n{transcript.name}, each voice alone:")
    for row in rows:
        print(f"  {row['wer']:.3f}  {row['voice']}  ({row['words']} words)")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"transcript": transcript.name, "each_voice": rows}, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transcripts", nargs="*", type=Path)
    parser.add_argument("--engine", default=None, help="default: the default cast (neural voices)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument("--each-voice", action="store_true", help="WER of every palette voice reading the whole text")
    args = parser.parse_args()
    transcripts = args.transcripts or [p for p in DEFAULTS if p.exists()]
    if args.each_voice:
        return each_voice(transcripts[0], args.engine, args.out)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for transcript in transcripts:
            row = measure(transcript, args.engine, Path(tmp))
            results.append(row)
            print(f"\n{row['transcript']} ({row['engine']}, {row['duration_s']} s): WER {row['wer']}, "
                  f"closest pair {row['max_pair_cosine']}")
            for pair, value in sorted(row["pairs"].items(), key=lambda kv: -kv[1]):
                print(f"  {value:.3f}  {pair}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
