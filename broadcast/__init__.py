"""broadcast: a broadcast transcript in, a multi-voice, mastered audio program out.

    from broadcast import parse, render
    script = parse("seeds/newscast.txt")
    result = render("seeds/newscast.txt")      # out/newscast.mp3, its timeline and sidecars

Importing this package loads nothing heavy: `parse`, `plan` and `render` bring in the pipeline on
first use (PEP 562), so `broadcast --help` starts fast.
"""

from .errors import BroadcastError

__version__ = "0.1.0"
__all__ = ["BroadcastError", "parse", "plan", "render", "__version__"]


def __getattr__(name: str):
    if name in ("parse", "plan", "render"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'broadcast' has no attribute {name!r}")
