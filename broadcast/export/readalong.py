"""The read-along page: one self-contained HTML file beside the audio.

It must work opened straight from disk (`file://`) on a machine without a network, so the
style, the script and the timeline are inlined and the audio is found by its relative file
name. Everything is in the HTML as sent (turns, headings, the speaker strip), so the page reads
without script; the script (readalong.js) only follows the audio and seeks.

Accessibility, after WCAG 2.2: landmarks (header, nav, main) and headings; the transcript is an
ordered list of turns, each headed by its speaker and role and focusable, sought with a click,
Enter or Space; the strip is one slider (arrow keys, Home, End) whose value text names the
speaker, and each band has a title, so colour is never the only cue (1.4.1); text colours are at
least 4.5:1 and the bands at least 3:1 against the strip (1.4.3, 1.4.11); sizes are relative so
the page reflows at 200 % zoom (1.4.4, 1.4.10); following the audio can be switched off, and
scrolling is instant under `prefers-reduced-motion` (2.2.2, 2.3.3).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..models import Segment, Timeline
from .captions import caption_text, is_sound

ASSETS = Path(__file__).parent
#: A colour per speaker, in order of first appearance (Okabe & Ito's palette, told apart with the
#: common colour-vision deficiencies); each at least 3:1 against the strip's dark track.
SPEAKER_COLOURS = ("#e69f00", "#56b4e9", "#009e73", "#f0e442", "#cc79a7", "#d55e00", "#4ea1ff")
NARRATOR_COLOUR = "#9e9e9e"  # the program's own voice: neutral
SOUND_COLOUR = "#b8b8b8"     # chimed cues: hatched, so they differ from speech by more than hue


@dataclass(frozen=True)
class TurnView:
    """One turn as the page shows it. `from_s` includes the narrator's introduction before the
    turn (the highlight moves to a speaker as they are introduced); `start_s` is where their own
    words begin, which is where a click seeks."""

    speaker: str
    role: str
    colour_class: str
    from_s: float
    start_s: float
    end_s: float
    paragraphs: tuple[str, ...]


def clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _key(seg: Segment) -> str:
    return "sound" if is_sound(seg) else seg.speaker


def colour_classes(timeline: Timeline) -> dict[str, str]:
    """Speaker (or "sound") → CSS class: `s0`… for people, `sn` for the narrator, `sx` for sounds."""
    classes: dict[str, str] = {}
    people = 0
    for seg in timeline.segments:
        key = _key(seg)
        if key in classes:
            continue
        if key == "sound":
            classes[key] = "sx"
        elif seg.role == "narrator":
            classes[key] = "sn"
        else:
            classes[key] = f"s{people % len(SPEAKER_COLOURS)}"
            people += 1
    return classes


def turn_views(timeline: Timeline) -> list[TurnView]:
    """Segments grouped into the turns they voice. Announcements (no turn) get no item of their
    own, since each turn's heading already says who speaks; their time opens the turn after."""
    classes = colour_classes(timeline)
    groups: list[tuple[float | None, list[Segment]]] = []  # (start of the introduction, segments)
    intro_s: float | None = None
    for seg in timeline.segments:
        if seg.turn is None:
            intro_s = seg.start_s if intro_s is None else intro_s
        elif groups and intro_s is None and groups[-1][1][-1].turn == seg.turn:
            groups[-1][1].append(seg)
        else:
            groups.append((intro_s, [seg]))
            intro_s = None
    views = []
    for intro, segs in groups:
        first = segs[0]
        speaker, role = ("Sound", "") if is_sound(first) else (first.speaker, first.role)
        views.append(TurnView(speaker, role, classes[_key(first)], first.start_s if intro is None else intro,
                              first.start_s, segs[-1].end_s, tuple(caption_text(s) for s in segs)))
    return views


def _label(speaker: str, role: str) -> str:
    """`Teresa Okafor, reporter`; a role the name already says (`Host`, `Unidentified Male`) is left out."""
    if not role or role in ("narrator", "cue") or role.lower() in speaker.lower():
        return speaker
    return f"{speaker}, {role}"


def _segment_label(seg: Segment) -> str:
    return f"Sound {caption_text(seg)}" if is_sound(seg) else seg.speaker


def _json_for_script(data: object) -> str:
    """JSON that cannot end its <script> element early or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _css(classes: dict[str, str]) -> str:
    colours = {"sn": NARRATOR_COLOUR, "sx": SOUND_COLOUR}
    colours.update((f"s{n}", c) for n, c in enumerate(SPEAKER_COLOURS))
    used = sorted(set(classes.values()))
    rules = "\n".join(f".{c} {{ --c: {colours[c]}; }}" for c in used)
    return (ASSETS / "readalong.css").read_text(encoding="utf-8") + "/* a colour per speaker */\n" + rules + "\n"


def page(timeline: Timeline, audio: Path) -> str:
    """The read-along page for `timeline`, to sit beside `audio`."""
    e = html.escape
    duration = timeline.duration_s or 1.0
    title = timeline.title or Path(audio).stem
    classes = colour_classes(timeline)
    views = turn_views(timeline)
    roles = {name: role for name, role, _voice in timeline.speakers}
    people = [k for k, c in classes.items() if c not in ("sn", "sx")]

    def pct(seconds: float) -> str:
        return f"{100 * seconds / duration:.3f}%"

    bands = "\n".join(
        f'<div class="band {classes[_key(seg)]}" style="left:{pct(seg.start_s)};width:{pct(seg.end_s - seg.start_s)}" '
        f'title="{e(_label(_segment_label(seg), "" if is_sound(seg) else seg.role))}, '
        f'{clock(seg.start_s)} to {clock(seg.end_s)}"></div>'
        for seg in timeline.segments)
    legend = "\n".join(
        f'<li><span class="swatch {c}" aria-hidden="true"></span>'
        f'{e(_label("Sound", "") if key == "sound" else _label(key, roles.get(key, "")))}</li>'
        for key, c in classes.items())
    items = []
    for n, view in enumerate(views):
        role = _label(view.speaker, view.role)[len(view.speaker):]
        text = "\n".join(f"<p>{e(p)}</p>" for p in view.paragraphs)
        items.append(
            f'<li class="turn {view.colour_class}" tabindex="0" aria-labelledby="t{n}-h t{n}-t">\n'
            f'<h3 id="t{n}-h"><span class="swatch {view.colour_class}" aria-hidden="true"></span>'
            f'{e(view.speaker)}<span class="role">{e(role)}</span></h3>\n'
            f'<p class="time" id="t{n}-t">{clock(view.start_s)}</p>\n{text}\n</li>')
    data = {
        "title": timeline.title, "audio": Path(audio).name, "duration_s": round(duration, 3),
        "segments": [{"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3), "label": _segment_label(s)}
                     for s in timeline.segments],
        "turns": [{"from_s": round(v.from_s, 3), "start_s": round(v.start_s, 3), "end_s": round(v.end_s, 3),
                   "speaker": v.speaker} for v in views],
    }
    speakers = f"{len(people)} speaker{'s' if len(people) != 1 else ''}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
{_css(classes)}</style>
</head>
<body>
<a class="skip" href="#transcript">Skip to the transcript</a>
<header>
<h1>{e(title)}</h1>
<p class="meta">{clock(timeline.duration_s)} · {speakers}</p>
</header>
<section class="top" id="top" aria-label="Player">
<audio id="audio" controls preload="metadata" src="{e(quote(Path(audio).name))}" aria-label="Program audio">
<a href="{e(quote(Path(audio).name))}">Download the audio ({e(Path(audio).name)})</a>
</audio>
<nav aria-labelledby="strip-h">
<h2 id="strip-h">Who speaks when</h2>
<div class="strip" id="strip" role="slider" tabindex="0" aria-label="Position in the program"
 aria-valuemin="0" aria-valuemax="{round(duration)}" aria-valuenow="0" aria-valuetext="0:00 of {clock(duration)}">
{bands}
<div class="playhead" id="playhead"></div>
</div>
<div class="ticks" aria-hidden="true"><span>0:00</span><span>{clock(duration)}</span></div>
</nav>
</section>
<main id="transcript" tabindex="-1">
<h2 id="legend-h">Speakers</h2>
<ul class="legend" aria-labelledby="legend-h">
{legend}
</ul>
<h2>Transcript</h2>
<p class="hint">Select a turn (click it, or press Enter or Space on it) to play from there.
In the strip above, arrow keys move 5 seconds and Page Up and Page Down 30.</p>
<label class="follow"><input type="checkbox" id="follow" checked> Keep the turn being heard in view</label>
<ol class="turns">
{chr(10).join(items)}
</ol>
</main>
<script type="application/json" id="timeline">{_json_for_script(data)}</script>
<script>
{(ASSETS / "readalong.js").read_text(encoding="utf-8")}</script>
</body>
</html>
"""
