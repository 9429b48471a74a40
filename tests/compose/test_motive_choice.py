"""choose_motive: emotion and style rules, determinism, reasons."""

from __future__ import annotations

import itertools

import pytest

from yuefu.compose.motive import EMOTION_RULES, choose_motive
from yuefu.core.spec import EMOTIONS, STYLES, SongSpec


@pytest.mark.parametrize("emotion, style", list(itertools.product(EMOTIONS, STYLES)))
def test_every_emotion_and_style(emotion, style):
    spec = SongSpec(theme="river", emotion=emotion, style=style, seed=5)
    m = choose_motive(spec, lexical_seeds=("river",))
    mode = m.key.split()[1]
    if style == "children":
        assert mode == "major"
    else:
        assert mode == EMOTION_RULES[emotion].mode
    assert 40 <= m.tempo_bpm <= 220
    assert set(m.reasons) >= {"key", "mode", "tempo_bpm", "meter", "feel", "palette", "instruments",
                              "energy", "voice_range"}
    assert m.style == style and m.emotion == emotion and m.lexical_seeds == ("river",)
    if style == "classical_piano":
        assert all(p <= 7 for p in m.instruments.values())


def test_same_seed_same_motive_and_seed_changes_it():
    a = choose_motive(SongSpec(theme="x", seed=1), lexical_seeds=())
    assert a == choose_motive(SongSpec(theme="x", seed=1), lexical_seeds=())
    others = {choose_motive(SongSpec(theme="x", seed=s), lexical_seeds=()).key for s in range(12)}
    assert len(others) > 2


def test_sad_is_slower_than_excited():
    for seed in range(5):
        sad = choose_motive(SongSpec(theme="x", emotion="sad", seed=seed), lexical_seeds=())
        exc = choose_motive(SongSpec(theme="x", emotion="excited", seed=seed), lexical_seeds=())
        assert sad.tempo_bpm < exc.tempo_bpm and sad.energy < exc.energy


def test_chinese_folk_is_pentatonic_with_chinese_colours():
    m = choose_motive(SongSpec(theme="江南", style="folk", language="zh"), lexical_seeds=())
    assert m.palette == "pentatonic" and "国风" in m.reasons["palette"]


def test_voice_ranges():
    f = choose_motive(SongSpec(theme="x", voice="female"), lexical_seeds=())
    m = choose_motive(SongSpec(theme="x", voice="male"), lexical_seeds=())
    assert f.voice_range == (57, 76) and m.voice_range == (40, 67)
    kid = choose_motive(SongSpec(theme="x", style="children"), lexical_seeds=())
    assert kid.voice_range[1] - kid.voice_range[0] <= 16
