"""`Script` + `Settings` → `Cast`: a voice for every speaker, none shared, the same on every run.

Casting order: an exact override in voices.yaml wins; then the role's family from voices.yaml;
then the automatic palette of the chosen engine. Within a family a speaker's first choice comes
from a stable hash of the name (not the order of appearance), so a person keeps their voice
across runs and transcripts; only a collision inside one program moves them to the next free one.
Hosts, reporters and guests start in different parts of the palette so roles are audible; only
voices clear enough are dealt into those families (all ten neural ones, three eSpeak ones), and
someone heard only through an interpreter has the voice-over cast in their place.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, replace

from . import engines
from .config import Settings, Tuning, VoiceSpec
from .errors import VoicesError
from .models import Cast, Casting, Script, Voice

#: The automatic neural palette: (name, pitch, formant, tilt, gender impression). Measured with
#: benchmarks/palette.py; `heart` is hibari's own voice.
from .engines.neural import PALETTE as NEURAL_PALETTE  # noqa: E402

#: eSpeak variants: first the palette measured by benchmarks/espeak_palette.py (lowest word error
#: rate first, every pair at most 0.75 speaker-embedding cosine; figures in espeak_palette.json),
#: then further variants for programs with more speakers, from FACTS.md's ordering.
ESPEAK_MEASURED: tuple[str, ...] = (
    "robosoft2", "f5", "robosoft7", "anika", "klatt", "caleb", "robosoft6", "steph3", "robosoft8", "pedro",
    "iven", "UniRobot", "Jacky", "shelby", "Storm", "AnxiousAndy", "david", "travis", "whisperf", "Marco",
)
#: Only the first ones are clear enough to be dealt into the role families (word error rate at
#: most 0.65 there: 0.37, 0.56, 0.62); everyone else takes the rest in order of intelligibility, so
#: with eSpeak the host, a reporter and a guest speak with the three clearest voices.
ESPEAK_CLEAR = 3
ESPEAK_PALETTE: tuple[str, ...] = ESPEAK_MEASURED + (
    "f2", "edward", "miguel", "m3", "Hugo", "victor", "m6", "Diogo", "f4", "klatt3", "m1", "john", "max",
    "belinda", "benjamin", "adam", "ian", "norbert", "aunty", "boris", "croak", "f1", "m2", "m4", "m5", "m7",
    "m8", "Alex", "Andy", "Annie", "Gene", "Lee", "Mario", "Michael", "Mike", "Tweaky", "antonio", "gustave",
    "linda", "marcelo", "michel",
)
#: Role families: a role looks in its own family first, so hosts, reporters and guests sound
#: apart. Other roles (unidentified voices) share the guests' family.
FAMILIES = ("host", "reporter", "guest")
BEST_PER_TIER = 12
#: Pitch multipliers for programs with more speakers than the palette: audible steps first,
#: then finer ones (thousands of speakers still get voices no one else has).
PITCH_STEPS = tuple(dict.fromkeys(
    round(1 + sign * k * step, 3) for step in (0.12, 0.06, 0.02, 0.005) for k in range(1, 60) for sign in (1, -1)
    if 0.5 <= 1 + sign * k * step <= 1.8))  # the voices of a tier that are dealt into families; the rest are overflow
GENDER_HINT = re.compile(r"\b(he|him|his|she|her|hers)\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Candidate:
    id: str
    engine: str
    base: str
    pitch: float
    formant: float
    tilt: float
    gender: str | None
    clear: bool = True  # clear enough to be dealt into a role family (see ESPEAK_CLEAR)


def stable_index(name: str, modulo: int) -> int:
    """The same name gives the same number on every run and machine (unlike `hash()`)."""
    digest = hashlib.sha256(name.strip().lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % max(modulo, 1)


def automatic_palette(engine: str) -> list[list[_Candidate]]:
    """Tiers of voices, best first: the neural palette, then eSpeak for more speakers than it has."""
    if engine == "neural":
        neural = [_Candidate(f"neural:heart{'' if n == 'heart' else '~' + n}", "neural", "heart", p, f, t, g)
                  for n, p, f, t, g in NEURAL_PALETTE]
        return [neural] + automatic_palette("espeak")
    if engine == "espeak":
        return [[_Candidate(f"espeak:gmw/en-us+{v}", "espeak", f"gmw/en-us+{v}", 1.0, 1.0, 0.0, None, n < ESPEAK_CLEAR)
                 for n, v in enumerate(ESPEAK_PALETTE)]]
    # any other engine: its own voices in its own order
    return [[_Candidate(v.id, engine, v.id.split(":", 1)[1], 1.0, 1.0, 0.0, v.gender)
             for v in engines.get(engine).voices()]]


def preference(name: str, role: str, palette: list[list[_Candidate]], gender: str | None = None) -> list[_Candidate]:
    """Every palette voice, in the order this speaker would take them. In each tier the most
    intelligible voices (up to BEST_PER_TIER, `clear` ones only) are dealt round-robin into the
    role families. A speaker tries, in order: voices of their likely gender before others, their
    role's family before the rest, and within those a place fixed by their name; then the tier's
    remaining voices in order of intelligibility; then the next tier."""
    ordered: list[_Candidate] = []
    family = FAMILIES.index(role) if role in FAMILIES else FAMILIES.index("guest")
    for tier in palette:
        best = [c for c in tier[:BEST_PER_TIER] if c.clear]
        overflow = [c for c in tier if c not in best]
        own = best[family::len(FAMILIES)]
        rest = [c for c in best if c not in own]
        ranked = []
        for rank, group in enumerate((own, rest)):
            start = stable_index(name, len(group)) if group else 0
            ranked += [(rank, n, c) for n, c in enumerate(group[start:] + group[:start])]
        mismatch = (lambda c: gender is not None and c.gender not in (gender, None))
        ordered += [c for _rank, _n, c in sorted(ranked, key=lambda r: (mismatch(r[2]), r[0], r[1]))]
        ordered.extend(overflow)
    return ordered


def transform_name(voice: Voice) -> str:
    """`p0.8f0.95t-6`: the id of a custom transform, naming only what differs from the base."""
    parts = [f"p{voice.pitch:g}"]
    if voice.formant != 1.0:
        parts.append(f"f{voice.formant:g}")
    if voice.tilt != 0.0:
        parts.append(f"t{voice.tilt:g}")
    return "".join(parts)


def gender_hints(script: Script) -> dict[str, str]:
    """A likely gender per speaker, used only to order the palette: first what others say of them
    ("he says", "she told", in or right after a sentence that names them), then their first name,
    then the words of an unnamed voice's label (UNIDENTIFIED FEMALE)."""
    counts: dict[str, list[int]] = {s.name: [0, 0] for s in script.speakers}
    surnames = {s.name: s.name.split()[-1] for s in script.speakers if len(s.name.split()) >= 2}
    for turn in script.turns:
        sentences = re.split(r"(?<=[.!?])\s+", turn.text)
        for n, sentence in enumerate(sentences):
            for name, last in surnames.items():
                if last in sentence and turn.speaker != name:  # in their own words "he" is someone else
                    # the sentence that names them, and the next one ("Velandia runs... She has...")
                    nearby = sentence + " " + (sentences[n + 1] if n + 1 < len(sentences) else "")
                    for pronoun in GENDER_HINT.findall(nearby):
                        counts[name][0 if pronoun.lower() in ("he", "him", "his") else 1] += 1
    hints = {n: ("male" if m > f else "female") for n, (m, f) in counts.items() if m != f}
    by_first_name = []
    for speaker in script.speakers:
        if speaker.name in hints:
            continue
        words = set(speaker.name.lower().split())
        if words & {"female", "woman", "girl"}:
            hints[speaker.name] = "female"
        elif words & {"male", "man", "boy"}:
            hints[speaker.name] = "male"
        elif len(speaker.name.split()) >= 2:
            by_first_name.append(speaker.name)
    genders = first_name_genders({name.split()[0] for name in by_first_name})
    hints.update({name: genders[name.split()[0]] for name in by_first_name if name.split()[0] in genders})
    return hints


def first_name_genders(first_names: set[str]) -> dict[str, str]:
    """gender-guesser's table of first names ('male'/'mostly_male' and the like), read for just
    these names: the whole table costs about a second and 22 MB, a filtered read 0.1 s and nothing.
    Remembered for the process (`render --watch` casts the same names at every edit)."""
    return dict(_genders(frozenset(first_names)))


@functools.lru_cache(maxsize=32)
def _genders(first_names: frozenset[str]) -> tuple[tuple[str, str], ...]:
    if not first_names:
        return ()
    import gender_guesser.detector

    wanted = {name.strip(".").lower() for name in first_names}

    class Detector(gender_guesser.detector.Detector):
        def _parse(self, filename: str) -> None:  # its own parser, fed only the lines we want
            self.names = {}
            with open(filename, encoding="utf-8") as table:
                for line in table:
                    parts = line.split(maxsplit=2)
                    if len(parts) < 2:
                        continue
                    key = parts[1].lower()  # "jean+pierre" stands for Jean Pierre, Jean-Pierre, Jeanpierre
                    if key in wanted if "+" not in key else {key.replace("+", s) for s in ("", " ", "-")} & wanted:
                        self._eat_name_line(line.strip())

    detector = Detector(case_sensitive=False)
    answers = {name: detector.get_gender(name.strip(".").capitalize()) for name in first_names}
    simple = {"male": "male", "mostly_male": "male", "female": "female", "mostly_female": "female"}
    return tuple((name, simple[answer]) for name, answer in answers.items() if answer in simple)


def resolve_spec(spec: VoiceSpec, tuning: Tuning | None, settings: Settings, speaker: str) -> Voice:
    """A voices.yaml voice → `Voice`, checking that the engine has it (file:line on failure)."""
    try:
        engine = engines.get(spec.engine)
    except Exception as exc:
        raise VoicesError(f"{exc} (voice {spec.id!r} for {speaker!r})", settings.path, spec.line) from None
    pitch, formant, tilt = 1.0, 1.0, 0.0
    if spec.transform is not None:
        transforms = getattr(engine, "transforms", {})
        if spec.transform not in transforms:
            known = ", ".join(sorted(transforms)) or "none"
            raise VoicesError(f"unknown voice transform {spec.transform!r} in {spec.id!r} for speaker "
                              f"{speaker!r} (this engine has: {known})", settings.path, spec.line)
        pitch, formant, tilt = transforms[spec.transform]
    if not engine.knows(spec.base):
        raise VoicesError(f"unknown voice {spec.id!r} for speaker {speaker!r} (run 'broadcast voices' to list "
                          f"them)", settings.path, spec.line)
    return _tuned(Voice(spec.id, spec.engine, spec.base, pitch, formant, settings.rate_wpm, settings.volume, tilt),
                  tuning, settings)


def _tuned(voice: Voice, tuning: Tuning | None, settings: Settings) -> Voice:
    if tuning is None:
        return voice
    changed = replace(
        voice,
        rate_wpm=tuning.rate_wpm if tuning.rate_wpm is not None else voice.rate_wpm,
        pitch=tuning.pitch if tuning.pitch is not None else voice.pitch,
        formant=tuning.formant if tuning.formant is not None else voice.formant,
        tilt=tuning.tilt if tuning.tilt is not None else voice.tilt,
        volume=tuning.volume if tuning.volume is not None else voice.volume,
    )
    if (changed.pitch, changed.formant, changed.tilt) != (voice.pitch, voice.formant, voice.tilt):
        # a custom transform is a different voice: name it so two speakers never share one unseen
        changed = replace(changed, id=f"{voice.id.split('~')[0]}~{transform_name(changed)}")
        if not engines.get(voice.engine).supports_transforms:
            raise VoicesError(f"engine {voice.engine!r} cannot change pitch, formant or tilt of {voice.id!r}",
                              settings.path, tuning.line)
    return changed


def cast(script: Script, settings: Settings, engine: str) -> Cast:
    """Give every speaker a distinct voice; the narrator and interpreters get voices of their own."""
    palette = automatic_palette(engine)
    hints = gender_hints(script)
    taken: set[str] = set()
    castings: list[Casting] = []
    order = sorted(script.speakers, key=lambda s: (settings.speaker(s.name) is None,))

    def from_palette(name: str, family: str, gender: str | None, tuning: Tuning | None) -> tuple[Voice, str]:
        ordered = preference(name, family, palette, gender)
        for c in ordered:
            voice = _tuned(Voice(c.id, c.engine, c.base, c.pitch, c.formant, settings.rate_wpm, settings.volume,
                                 c.tilt), tuning, settings)
            if voice.id not in taken:
                return voice, "automatic"
        # more speakers than the palette: the palette again at other pitches, coarse steps first
        for multiplier in PITCH_STEPS:
            for c in ordered:
                voice = Voice("", c.engine, c.base, round(c.pitch * multiplier, 3), c.formant, settings.rate_wpm,
                              settings.volume, c.tilt)
                vid = f"{c.id.split('~')[0]}~{transform_name(voice)}"
                if vid not in taken:
                    return replace(voice, id=vid), "automatic"
        raise VoicesError(f"ran out of distinct voices for {name!r}")

    # someone heard only through an interpreter is heard in the voice-over's voice: it is cast
    # before their own (which no turn uses), so it gets the clearer voice; an override still wins
    interpreted = [s for s in script.speakers if any(t.interpreted and t.speaker == s.name for t in script.turns)]
    only_interpreted = {s.name for s in interpreted if settings.interpreted_from != "speaker"
                        and not getattr(settings.speaker(s.name), "voices", None)
                        and all(t.interpreted for t in script.turns if t.speaker == s.name and t.kind == "speech")}

    def cast_speaker(speaker) -> None:
        override = settings.speaker(speaker.name)
        role_tuning = settings.role(speaker.role)
        voice, reason = None, ""
        if override is not None and override.voices:
            voice, reason = resolve_spec(override.voices[0], override, settings, speaker.name), "override"
            if voice.id in taken:
                raise VoicesError(f"speaker {speaker.name!r} is given voice {voice.id!r}, which another speaker "
                                  f"in this program already has", settings.path, override.line)
        elif role_tuning is not None and role_tuning.voices:
            specs = list(role_tuning.voices)
            start = stable_index(speaker.name, len(specs))
            for spec in specs[start:] + specs[:start]:
                candidate = resolve_spec(spec, override or role_tuning, settings, speaker.name)
                if candidate.id not in taken:
                    voice, reason = candidate, f"role family '{speaker.role}'"
                    break
        if voice is None:
            voice, reason = from_palette(speaker.name, speaker.role, hints.get(speaker.name), override or role_tuning)
        taken.add(voice.id)
        castings.append(Casting(speaker.name, speaker.role, voice, reason))

    deferred = [s for s in order if s.name in only_interpreted]
    for speaker in order:
        if speaker not in deferred:
            cast_speaker(speaker)
    interpreters: list[tuple[str, Voice]] = []
    for speaker in interpreted:
        if settings.interpreted_from == "speaker":
            continue
        family = settings.role("interpreter")
        voice = None
        if family is not None and family.voices:
            for spec in family.voices:
                candidate = resolve_spec(spec, family, settings, f"interpreter for {speaker.name}")
                if candidate.id not in taken:
                    voice = candidate
                    break
        if voice is None:
            voice, _ = from_palette(f"interpreter for {speaker.name}", "interpreter", hints.get(speaker.name), family)
        taken.add(voice.id)
        interpreters.append((speaker.name, voice))
    for speaker in deferred:
        cast_speaker(speaker)

    narrator_family = settings.role("narrator")
    if narrator_family is not None and narrator_family.voices:
        narrator = resolve_spec(narrator_family.voices[0], narrator_family, settings, "Narrator")
    else:
        narrator, _ = from_palette("Narrator", "narrator", None, narrator_family)
    # castings in the order speakers appear
    by_name = {c.speaker: c for c in castings}
    return Cast(tuple(by_name[s.name] for s in script.speakers), narrator, tuple(interpreters))
