"""broadcast: a broadcast transcript in, a multi-voice, mastered audio program out.

    from broadcast import parse, render
    script = parse("seeds/newscast.txt")
    result = render("seeds/newscast.txt")      # out/newscast.mp3, out/newscast.timeline.json

Importing this package loads no audio or speech library; the stages import them when they run.
"""

from .errors import BroadcastError
from .pipeline import parse, plan, render

__version__ = "0.1.0"
__all__ = ["BroadcastError", "parse", "plan", "render", "__version__"]
