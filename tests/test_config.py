"""voices.yaml: every problem is one line with the file, the line and what to do; exit code 4."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broadcast.config import Settings, load, loads
from broadcast.errors import ExitCode, VoicesError

ROOT = Path(__file__).resolve().parents[1]

DESIGN_EXAMPLE = """\
engine: neural
defaults: {rate: 165, volume: 1.0, pause_ms: 450}
roles:
  host:     {voice: "neural:heart"}
  reporter: {voice: "neural:heart~deep"}
  guest:    {voices: ["neural:heart~warm", "espeak:gmw/en-US+edward"]}
  narrator: {voice: "neural:heart~low", rate: 150}
  interpreter: {voices: ["neural:heart~dark", "espeak:gmw/en-US+klatt"]}
speakers:
  "Ruth Sherlock": {voice: "neural:heart", pitch: 0.8, formant: 0.95}
cues: {default: chime, "Speaking *": narrate, "LAUGHTER": skip}
interpreted: {voice_from: interpreter}
lexicon:
  Raqqa: RAH-kah
  SDF: S. D. F.
"""


def test_the_design_example_loads():
    s = loads(DESIGN_EXAMPLE)
    assert s.engine == "neural" and s.rate_wpm == 165 and s.pauses.speaker_change_ms == 450
    assert s.role("narrator").rate_wpm == 150
    assert [v.id for v in s.role("guest").voices] == ["neural:heart~warm", "espeak:gmw/en-US+edward"]
    assert s.speaker("Ruth Sherlock").pitch == 0.8
    assert s.role("reporter").voices[0].transform == "deep"
    assert ("Speaking *", "narrate") in s.cues and s.cue_default == "chime"
    assert dict(s.lexicon) == {"Raqqa": "RAH-kah", "SDF": "S. D. F."}


@pytest.mark.parametrize("text, line, words", [
    ("engine: [neural\n", 2, "YAML syntax error"),
    ("engine: neural\nvoicez: {}\n", 2, "unknown key 'voicez' in voices.yaml (valid: engine, defaults"),
    ("defaults:\n  rate: 1000\n", 2, "defaults.rate (words a minute) must be from 80 to 400"),
    ("defaults:\n  rate: fast\n", 2, "must be a number"),
    ("defaults:\n  volume: [1]\n", 2, "defaults.volume must be a single value"),
    ("speakers:\n  NO: {voice: \"neural:heart\"}\n", 2, "key 'NO' in speakers is not read as text by YAML; quote it"),
    ("speakers:\n  \"Jo\": {voice: \"heart\"}\n", 2, "is not of the form ENGINE:VOICE"),
    ("speakers:\n  \"Jo\":\n    voice: \"neural:heart\"\n    pitch: 9\n", 4, "pitch must be from 0.3 to 2"),
    ("speakers:\n  \"Jo\": {colour: red}\n", 2, "unknown key 'colour' in speakers.'Jo'"),
    ("roles:\n  villain: {voice: \"neural:heart\"}\n", 2, "unknown key 'villain' in roles"),
    ("cues: {\"MUSIC\": play}\n", 1, "cue treatment 'play' for 'MUSIC' is not one of chime, narrate, skip"),
    ("interpreted: {voice_from: nobody}\n", 1, "interpreted.voice_from must be 'interpreter' or 'speaker'"),
    ("- just\n- a list\n", 1, "voices.yaml must be a mapping"),
    ("lexicon:\n  SDF: 3\n", 2, "lexicon.'SDF' must be text"),
    ("engine: a\nengine: b\n", 2, "key 'engine' appears twice"),
])
def test_every_problem_names_its_line(text, line, words):
    with pytest.raises(VoicesError) as caught:
        loads(text, "voices.yaml")
    message = str(caught.value)
    assert message.startswith(f"voices.yaml:{line}: "), message
    assert words in message
    assert "\n" not in message
    assert caught.value.exit_code == ExitCode.VOICES


@pytest.mark.parametrize("where", ["lexicon", "roles"])
def test_an_alias_bomb_is_refused_without_expanding(where):
    """Ten levels of ten-fold aliases would be 10^10 values if expanded; composing keeps them shared
    and the walk stops at the first value of the wrong shape."""
    levels = ["  a: &a [x,x,x,x,x,x,x,x,x,x]"] + [
        f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join('*' + chr(97 + i) for _ in range(10))}]" for i in range(9)]
    with pytest.raises(VoicesError) as caught:
        loads(f"{where}:\n" + "\n".join(levels) + "\n")
    assert str(caught.value).startswith("voices.yaml:2: ")


def test_a_huge_file_is_refused(tmp_path):
    path = tmp_path / "voices.yaml"
    path.write_text("lexicon:\n" + "".join(f"  w{i}: x\n" for i in range(200_000)))
    with pytest.raises(VoicesError, match="should be a short settings file"):
        load(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(VoicesError, match="no such file .*broadcast init"):
        load(tmp_path / "nope.yaml")
    with pytest.raises(VoicesError, match="is a directory"):
        load(tmp_path)


def test_no_file_means_built_in_defaults():
    assert load(None) == Settings()


def test_the_shipped_voices_yaml_is_the_built_in_casting():
    """voices.yaml at the top is the starter `broadcast init` writes, and it changes nothing."""
    shipped = (ROOT / "voices.yaml").read_text()
    assert shipped == (ROOT / "broadcast" / "voices.yaml").read_text()
    s = loads(shipped)
    defaults = Settings()
    assert (s.engine, s.rate_wpm, s.volume, s.pauses, s.roles, s.speakers, s.interpreted_from, s.lexicon) == (
        defaults.engine, defaults.rate_wpm, defaults.volume, defaults.pauses, defaults.roles, defaults.speakers,
        defaults.interpreted_from, defaults.lexicon)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_loads_or_fails_cleanly(text):
    try:
        result = loads(text)
    except VoicesError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(result, Settings)


_keys = st.sampled_from(["engine", "defaults", "roles", "speakers", "cues", "lexicon", "rate", "voice", "NO",
                         "host", "pitch", "x"])
_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 500), st.floats(allow_nan=True),
                                 st.text(max_size=10)),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
                       max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=4))
def test_any_structure_loads_or_fails_cleanly(data):
    import yaml

    try:
        loads(yaml.safe_dump(data))
    except VoicesError as exc:
        assert "\n" not in str(exc)


def test_the_starter_files_commented_examples_work_when_uncommented(tmp_path):
    """A producer uncomments the examples in voices.yaml: every voice they name must exist."""
    import re

    from broadcast import pipeline

    shipped = (ROOT / "voices.yaml").read_text()
    blocks = re.findall(r"^# (?:roles|speakers):\n(?:#   .*\n)+", shipped, re.MULTILINE)
    lexicon = re.findall(r"^  # (\w[\w.]*: .*)$", shipped, re.MULTILINE)
    assert len(blocks) == 2 and lexicon
    examples = "".join(re.sub(r"^# ?", "", block, flags=re.MULTILINE) for block in blocks)
    uncommented = shipped.replace("lexicon:\n", "lexicon:\n" + "".join(f"  {entry}\n" for entry in lexicon))
    path = tmp_path / "voices.yaml"
    path.write_text(uncommented + examples)
    seed = ROOT / "seeds" / "newscast.txt"
    plan = pipeline.plan(seed, voices=path, engine="neural")
    assert plan.settings.roles and plan.settings.speakers
    assert plan.cast.voice_for("Host").id == "neural:heart"
    assert plan.cast.voice_for("Gideon Marsh").id == "espeak:gmw/en-us+miguel"
