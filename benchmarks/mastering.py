"""What mastering a clip costs, stage by stage, in nanoseconds a sample: the figure to watch when
changing `broadcast.mixing` (a render spends about a fifth of its CPU there with eSpeak).

    python benchmarks/mastering.py [--engine espeak] [--n 4] [--repeat 3]

Synthesizes the example transcript repeated N times (every clip's text unique), once, then
masters every clip as a render does (`mixing.master` at the program's rate and the clip's aim,
with the render's malloc settings) `--repeat` times, and prints the best time and each stage's
share of it. The clips are made before anything is timed, so the engine does not count.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = ("to_program_rate", "trim", "fade", "_clip_energies", "sample_peaks", "limit", "limit_at",
          "_relimited", "gated_loudness")


def clips(n: int, engine: str) -> tuple[list, int]:
    """Every clip a render of the example ×N would master, with its aim below the speech level."""
    sys.path.insert(0, str(HERE))
    from bench import repeated

    from broadcast import engines, pipeline, program, synthesis
    from broadcast.mixing import CHIME_BELOW_SPEECH_DB, chime
    from broadcast.models import Clip

    with tempfile.TemporaryDirectory() as folder:
        source = repeated(n, Path(folder), unique=True)
        plan = pipeline.plan(source, engine=engine)
        items = program.running_order(plan.script, plan.cast, plan.settings)
    rate = pipeline.program_rate(items)
    made = []
    for item in items:
        text = synthesis.clean(item.spoken)
        if item.chime is not None:
            made.append((Clip(chime(item.chime, rate), rate), CHIME_BELOW_SPEECH_DB))
        elif item.voice is not None and text:
            made.append((engines.get(item.voice.engine).synthesize(text, item.voice), 0.0))
    return made, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="espeak")
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from broadcast import mixing, synthesis

    synthesis.keep_audio_memory()  # as `broadcast render` does
    made, rate = clips(args.n, args.engine)
    samples = sum(len(clip.samples) for clip, _ in made)
    spent: collections.Counter = collections.Counter()

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start
        return wrapper

    for name in STAGES:  # `master` looks these up in the module at each call
        setattr(mixing, name, timed(name, getattr(mixing, name)))
    best, stages = float("inf"), {}
    for _ in range(args.repeat):
        spent.clear()
        start = time.perf_counter()
        for clip, below_db in made:
            mixing.master(clip, rate, mixing.TARGET_PER_CHANNEL_LUFS - below_db)
        took = time.perf_counter() - start
        if took < best:
            best, stages = took, dict(spent)
    print(f"{args.engine}, {len(made)} clips, {samples / rate / 60:.1f} min at {rate} Hz: "
          f"master {best / samples * 1e9:.1f} ns a sample (best of {args.repeat})")
    for name in STAGES:  # nested stages (limit_at in limit) are counted in both
        print(f"  {name:16s} {stages.get(name, 0.0) / samples * 1e9:5.1f}")


if __name__ == "__main__":
    main()
