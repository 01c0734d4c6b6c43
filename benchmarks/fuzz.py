"""A longer fuzz run than the test suite's: the parser, the voices.yaml loader and the command line
on generated input, counting inputs and any traceback (a traceback is a bug: every bad input must
end in a BroadcastError with its one-line message).

    python benchmarks/fuzz.py [--examples 20000]

The strategies mix random text and bytes with transcript-shaped text (labels, directions,
chrome, footers), so the parser's paths are reached, not only its first check.
"""

from __future__ import annotations

import argparse
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LABELS = ["RUTH SHERLOCK, BYLINE:", "SHERLOCK:", "Jane Doe, Director, Some Institute:", "UNIDENTIFIED MALE:",
          "Speaker 1 (00:12):", "host:", "Mr. BOB SMITH (Actor):", "S. SMITH:", "JD:", "QUESTION:", "Note:"]
PIECES = ["(SOUNDBITE OF MUSIC)", "(Speaking Arabic).", "(Through interpreter)", "[laughs]", "(ph)", "(202) 555-0100",
          "Transcript provided by NPR, Copyright NPR.", "Play Live Radio", "\u00a0", "\ufffd", "\r\n", "\t", ":",
          "(", ")", "[", "]", "#", "…", "—", "“quoted”"]
transcript_text = st.lists(st.one_of(st.sampled_from(LABELS), st.sampled_from(PIECES), st.text(max_size=40),
                                     st.just("\n"), st.just("\n\n")), max_size=60).map(" ".join)
counts = {"parser": 0, "parser bytes": 0, "yaml": 0, "cli": 0}


def fuzz(examples: int) -> None:
    from broadcast import config, transcript
    from broadcast.errors import BroadcastError

    fast = settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))

    @fast
    @given(st.one_of(transcript_text, st.text(max_size=2000)))
    def parser(text):
        counts["parser"] += 1
        try:
            transcript.parse_text(text)
        except BroadcastError:
            pass

    @fast
    @given(st.binary(max_size=4000))
    def parser_bytes(data):
        counts["parser bytes"] += 1
        try:
            transcript.parse_text(transcript.decode(data)[0])
        except BroadcastError:
            pass

    yaml_text = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(
        ["engine: neural\n", "speakers:\n", "  \"A\": {voice: \"neural:heart\"}\n", "defaults: {rate: 9}\n",
         "  NO: {}\n", "lexicon:\n", "  a: &a [1]\n", "  b: *a\n", "roles:\n", "  host: {voices: []}\n", "cues: x\n",
         "- 1\n", "{", "}", ":", "\t"]), max_size=12).map("".join))

    @fast
    @given(yaml_text)
    def yaml(text):
        counts["yaml"] += 1
        try:
            config.loads(text)
        except BroadcastError:
            pass

    parser()
    parser_bytes()
    yaml()
    cli(max(50, examples // 100))


def cli(examples: int) -> None:
    """The real command line (typer's runner) with the silence engine: exit codes only 0, 2-6."""
    import tempfile
    from pathlib import Path

    from typer.testing import CliRunner

    from broadcast.cli import app

    runner = CliRunner()
    folder = Path(tempfile.mkdtemp())

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(transcript_text)
    def run(text):
        counts["cli"] += 1
        source = folder / "in.txt"
        source.write_text(text, encoding="utf-8", errors="surrogatepass")
        result = runner.invoke(app, ["render", str(source), "-o", str(folder / "out.mp3"), "--engine", "silence",
                                     "--jobs", "1", "--quiet"])
        assert result.exit_code in (0, 3), (result.exit_code, result.stderr, text)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr

    run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20000)
    args = parser.parse_args()
    start = time.perf_counter()
    fuzz(args.examples)
    print(f"{sum(counts.values())} inputs in {time.perf_counter() - start:.0f} s, no tracebacks: {counts}")


if __name__ == "__main__":
    main()
