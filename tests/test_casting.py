"""Casting: a distinct voice for every speaker, stable across runs and transcripts, overrides win."""

from __future__ import annotations

import pytest

from broadcast.casting import cast, stable_index
from broadcast.config import Settings, loads
from broadcast.errors import VoicesError
from broadcast.models import Script, Speaker, Turn
from broadcast.program import apply_lexicon, running_order


def script_of(names: list[str], roles: list[str] | None = None, interpreted: set[str] = frozenset()) -> Script:
    roles = roles or ["guest"] * len(names)
    speakers = tuple(Speaker(n, r) for n, r in zip(names, roles))
    turns = tuple(Turn(n, r, "speech", f"{n} says a few words here.", i + 1, n in interpreted)
                  for i, (n, r) in enumerate(zip(names, roles)))
    return Script("A Title", speakers, turns)


def voices_of(result) -> list[str]:
    return [c.voice.id for c in result.castings]


@pytest.mark.parametrize("engine", ["neural", "espeak"])
@pytest.mark.parametrize("count", [2, 10, 40])
def test_every_speaker_gets_a_voice_no_one_else_has(engine, count):
    names = [f"Person Number{i}" for i in range(count)]
    roles = ["host", "reporter"] + ["guest"] * (count - 2)
    result = cast(script_of(names, roles), Settings(), engine)
    ids = voices_of(result) + [result.narrator.id]
    assert len(set(voices_of(result))) == count
    # different voice ids must also differ in sound-making parameters, not only in name
    sounds = {(c.voice.engine, c.voice.base, round(c.voice.pitch, 3), c.voice.formant, c.voice.tilt)
              for c in result.castings}
    assert len(sounds) == count
    assert result.narrator.id not in voices_of(result) or count > 30, ids


def test_neural_voices_come_first_for_english_speakers():
    result = cast(script_of(["Ann Host", "Bo Reporter", "Cy Guest"], ["host", "reporter", "guest"]), Settings(), "neural")
    assert all(c.voice.engine == "neural" for c in result.castings)


def test_the_same_name_gets_the_same_voice_in_every_transcript():
    one = cast(script_of(["Sam Lee", "Jane Doe"]), Settings(), "neural")
    other = cast(script_of(["Sam Lee", "Ola Berg", "Kim Park"]), Settings(), "neural")
    again = cast(script_of(["Sam Lee", "Jane Doe"]), Settings(), "neural")
    assert one == again
    assert one.voice_for("Sam Lee") == other.voice_for("Sam Lee")


def test_the_voice_follows_the_name_not_the_order_of_appearance():
    names = ["Sam Lee", "Jane Doe", "Max Ruiz"]
    forward = cast(script_of(names), Settings(), "neural")
    backward = cast(script_of(names[::-1]), Settings(), "neural")
    # these three names have distinct first choices, so no collision moves anyone
    firsts = [cast(script_of([n]), Settings(), "neural").voice_for(n) for n in names]
    assert len({v.id for v in firsts}) == len(names)
    for n, v in zip(names, firsts):
        assert forward.voice_for(n) == backward.voice_for(n) == v


def test_stable_index_is_stable():
    assert stable_index("Ruth Sherlock", 1000) == stable_index("ruth sherlock ", 1000)
    assert 0 <= stable_index("anyone", 7) < 7


def test_roles_start_in_separate_families():
    result = cast(script_of(["A Host", "B Reporter", "C Guest"], ["host", "reporter", "guest"]), Settings(), "neural")
    assert len({c.voice.id for c in result.castings}) == 3


def test_an_override_wins_and_is_explained():
    settings = loads('speakers:\n  "Sam Lee": {voice: "espeak:gmw/en-us+miguel", rate: 150}\n')
    result = cast(script_of(["Jane Doe", "Sam Lee"]), settings, "neural")
    chosen = next(c for c in result.castings if c.speaker == "Sam Lee")
    assert (chosen.voice.id, chosen.voice.rate_wpm, chosen.reason) == ("espeak:gmw/en-us+miguel", 150, "override")


def test_a_custom_transform_becomes_its_own_voice():
    settings = loads('speakers:\n  "Sam Lee": {voice: "neural:heart", pitch: 0.8, formant: 0.95}\n')
    voice = cast(script_of(["Jane Doe", "Sam Lee"]), settings, "neural").voice_for("Sam Lee")
    assert (voice.pitch, voice.formant) == (0.8, 0.95) and voice.id != "neural:heart"


def test_role_families_from_voices_yaml():
    settings = loads('roles:\n  guest: {voices: ["espeak:gmw/en-us+f2", "espeak:gmw/en-us+edward"]}\n')
    result = cast(script_of(["Jane Doe", "Sam Lee"]), settings, "neural")
    assert sorted(voices_of(result)) == ["espeak:gmw/en-us+edward", "espeak:gmw/en-us+f2"]
    assert all(c.reason == "role family 'guest'" for c in result.castings)


@pytest.mark.parametrize("voice, words", [
    ("espeak:gmw/en-xx", "unknown voice 'espeak:gmw/en-xx' for speaker 'Sam Lee' (run 'broadcast voices'"),
    ("neural:heart~nope", "unknown voice transform 'nope'"),
    ("neural:maria", "unknown voice 'neural:maria'"),
    ("nosuchengine:x", "unknown engine 'nosuchengine'"),
])
def test_unknown_voices_are_caught_before_synthesis_with_their_line(voice, words):
    settings = loads(f'engine: neural\nspeakers:\n  "Sam Lee": {{voice: "{voice}"}}\n', "my.yaml")
    with pytest.raises(VoicesError) as caught:
        cast(script_of(["Jane Doe", "Sam Lee"]), settings, "neural")
    assert str(caught.value).startswith("my.yaml:3: ") and words in str(caught.value)


def test_two_overrides_with_one_voice_are_refused():
    settings = loads('speakers:\n  "Sam Lee": {voice: "neural:heart"}\n  "Jane Doe": {voice: "neural:heart"}\n')
    with pytest.raises(VoicesError, match="already has"):
        cast(script_of(["Jane Doe", "Sam Lee"]), settings, "neural")


def test_interpreted_turns_get_a_voice_of_their_own():
    result = cast(script_of(["Jane Doe", "Sam Lee"], interpreted={"Sam Lee"}), Settings(), "neural")
    own = result.voice_for("Sam Lee")
    voice_over = result.voice_for("Sam Lee", interpreted=True)
    assert voice_over != own and voice_over.id not in voices_of(result)
    same = cast(script_of(["Jane Doe", "Sam Lee"], interpreted={"Sam Lee"}),
                loads("interpreted: {voice_from: speaker}\n"), "neural")
    assert same.voice_for("Sam Lee", interpreted=True) == same.voice_for("Sam Lee")


def test_the_lexicon_changes_what_is_spoken_and_nothing_else():
    script = Script(None, (Speaker("Jane Doe", "guest"),),
                    (Turn("Jane Doe", "guest", "speech", "The SDF entered Raqqa; SDFs and sdf did not.", 1),))
    settings = loads("lexicon:\n  SDF: S. D. F.\n  Raqqa: RAH-kah\n")
    items = running_order(script, cast(script, settings, "neural"), settings, announce="never")
    assert items[0].spoken == "The S. D. F. entered RAH-kah; SDFs and sdf did not."
    assert items[0].text == "The SDF entered Raqqa; SDFs and sdf did not."
    plain = running_order(script, cast(script, Settings(), "neural"), Settings(), announce="never")
    assert [(i.speaker, i.voice, i.pause_before_ms, i.turn) for i in items] == \
        [(i.speaker, i.voice, i.pause_before_ms, i.turn) for i in plain]
    assert apply_lexicon("SDF", ()) == "SDF"


def test_likely_gender_picks_the_palette_voice():
    from broadcast.engines.neural import PALETTE

    genders = {("neural:heart" if n == "heart" else f"neural:heart~{n}"): g for n, _p, _f, _t, g in PALETTE}
    turns = (
        Turn("Host", "host", "speech", "Rosario Velandia runs the story hour. She has lived here for years. "
                                       "Sam Okoro says he will stay.", 1),
        Turn("Rosario Velandia", "guest", "speech", "He asked me, and I said yes.", 3),
        Turn("Sam Okoro", "guest", "speech", "She is right.", 5),
        Turn("Unidentified Female", "unidentified", "speech", "We lost everything.", 7),
        Turn("Dana Whitfield", "guest", "speech", "Welcome back.", 9),
    )
    script = Script(None, tuple(Speaker(t.speaker, t.role) for t in turns), turns)
    result = cast(script, Settings(), "neural")
    got = {c.speaker: genders[c.voice.id] for c in result.castings if c.speaker != "Host"}
    # what others say of them wins over a first name (gender-guesser reads Rosario as male);
    # their own "he" is someone else; an unnamed voice's label counts; else the first name
    assert got == {"Rosario Velandia": "female", "Sam Okoro": "male", "Unidentified Female": "female",
                   "Dana Whitfield": "female"}


def test_the_espeak_palette_starts_with_the_measured_one():
    import json
    from pathlib import Path

    from broadcast.casting import ESPEAK_CLEAR, ESPEAK_MEASURED, ESPEAK_PALETTE

    measured = json.loads((Path(__file__).parents[1] / "benchmarks" / "espeak_palette.json").read_text())
    assert list(ESPEAK_MEASURED) == [c["variant"] for c in measured["chosen"]]
    assert ESPEAK_PALETTE[: len(ESPEAK_MEASURED)] == ESPEAK_MEASURED
    assert len(set(ESPEAK_PALETTE)) == len(ESPEAK_PALETTE)
    assert measured["max_cosine"] <= 0.75
    assert ESPEAK_CLEAR == sum(c["wer"] <= 0.65 for c in measured["chosen"])


def test_with_espeak_the_main_roles_get_the_clearest_voices():
    """eSpeak has only three variants a recogniser mostly follows: host, reporter and guest get
    them, whatever their names; further speakers take the rest in order of intelligibility."""
    from broadcast.casting import ESPEAK_CLEAR, ESPEAK_MEASURED

    clear = {f"espeak:gmw/en-us+{v}" for v in ESPEAK_MEASURED[:ESPEAK_CLEAR]}
    for names in (["Ann Host", "Bo Reporter", "Cy Guest"], ["Zed Quinn", "Ola Berg", "Kim Park"]):
        result = cast(script_of(names, ["host", "reporter", "guest"]), Settings(), "espeak")
        assert set(voices_of(result)) == clear
    crowd = cast(script_of(["Ann Host", "Bo Reporter", "Cy Guest", "Di Guest"], ["host", "reporter", "guest", "guest"]),
                 Settings(), "espeak")
    assert crowd.voice_for("Di Guest").id == f"espeak:gmw/en-us+{ESPEAK_MEASURED[ESPEAK_CLEAR]}"


def test_someone_heard_only_through_an_interpreter_gets_the_clearer_voice_for_the_voice_over():
    names, roles = ["Ann Host", "Bo Reporter", "Cy Guest"], ["host", "reporter", "guest"]
    result = cast(script_of(names, roles, interpreted={"Cy Guest"}), Settings(), "espeak")
    alone = cast(script_of(names, roles), Settings(), "espeak")
    assert result.voice_for("Cy Guest", interpreted=True) == alone.voice_for("Cy Guest")
    assert result.voice_for("Cy Guest") != alone.voice_for("Cy Guest")


def test_an_override_for_someone_heard_only_through_an_interpreter_still_wins():
    names, roles = ["Ann Host", "Bo Reporter", "Cy Guest"], ["host", "reporter", "guest"]
    alone = cast(script_of(names, roles), Settings(), "espeak")
    wanted = alone.voice_for("Ann Host").id  # the voice the host would take automatically
    settings = loads(f'speakers:\n  "Cy Guest": {{voice: "{wanted}"}}\n')
    result = cast(script_of(names, roles, interpreted={"Cy Guest"}), settings, "espeak")
    assert result.voice_for("Cy Guest").id == wanted
    assert result.voice_for("Ann Host").id != wanted
