"""The songwriter's language-model engine: lyrics set by the music language model under
per-syllable constraints, and its piano part under a given melody."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from yuefu.core.errors import ParameterError
from yuefu.core.motive import Motive
from yuefu.core.score import ChordSymbol, Note, Score, Track

pytest.importorskip("torch", reason="the music language model needs PyTorch (yuefu[ml])")
pytest.importorskip("miditok", reason="the music language model needs miditok (yuefu[ml])")

ZH = [("verse", [list("月亮照着海面"), list("风吹过沙滩"), list("我在等你"), list("回到这里来")]),
      ("chorus", [list("啊夏夜的海边"), list("星光闪烁"), list("我们一起唱歌"), list("直到天亮")]),
      ("verse 2", [list("云彩飘过山顶"), list("雨落在河上"), list("你在哪里"), list("走到天边去")]),
      ("chorus", [list("啊夏夜的海边"), list("星光闪烁"), list("我们一起唱歌"), list("直到天亮")])]
EN = [("verse", [["the", "ri-", "ver", "runs", "to", "the", "sea"], ["a-", "long", "the", "shore"],
                 ["we", "sing", "a-", "gain", "to-", "night"], ["un-", "der", "the", "stars"]]),
      ("chorus", [["hold", "on", "to", "me"], ["ev-", "er", "and", "ev-", "er", "more"]])]


def _syllables(sections: list[tuple[str, list[list[str]]]]) -> list[str]:
    return [s for _, lines in sections for line in lines for s in line]


def _sung(score: Score) -> list[Note]:
    return sorted(score.track("vocal").notes, key=lambda n: n.onset)


@pytest.fixture
def tiny(tiny_lm: Callable[..., Any]) -> Any:
    return tiny_lm(max_len=64)


@pytest.fixture(scope="module")
def shipped() -> Any:
    from yuefu.compose import load_language_model

    return load_language_model()


@pytest.mark.parametrize("sections, motive", [
    (ZH, Motive(key="D major", language="zh", tempo_bpm=96.0, voice_range=(57, 76))),
    (EN, Motive(key="A minor", language="en", tempo_bpm=128.0, style="rock", voice_range=(45, 64))),
])
def test_one_note_per_syllable_in_range_and_in_order(tiny: Any, sections: Any, motive: Motive) -> None:
    from yuefu.compose import write_melody_lm

    s = write_melody_lm(sections, motive, seed=3, model=tiny)
    notes = _sung(s)
    assert [n.lyric for n in notes] == _syllables(sections)
    lo, hi = motive.voice_range
    assert all(lo <= n.pitch <= hi for n in notes)
    for a, b in zip(notes, notes[1:], strict=False):  # monophonic, one onset per syllable
        assert b.onset > a.onset and a.end <= b.onset + 1e-9
    assert all(n.duration > 0 for n in notes)
    # the chords it was written on, and the form
    assert s.chords and [x.name for x in s.sections] == [name for name, _ in sections]
    assert (s.time_signatures[0].numerator, s.time_signatures[0].denominator) == (4, 4)


def test_lines_keep_the_planned_form(tiny: Any) -> None:
    """Each line starts where the statistical writer's plan starts it (the same plan for the same
    seed), and ends before the next line starts: the phrase boundaries are the lyric lines'."""
    from yuefu.compose import write_melody, write_melody_lm

    m = Motive(key="C major", language="zh", tempo_bpm=100.0)
    lm = write_melody_lm(ZH, m, seed=5, model=tiny)
    st = write_melody(ZH, m, seed=5)
    sizes = [len(line) for _, lines in ZH for line in lines]
    firsts = np.cumsum([0] + sizes[:-1])
    a, b = _sung(lm), [n for n in _sung(st) if n.lyric != "-"]
    assert [a[i].onset for i in firsts] == [b[i].onset for i in firsts]
    # a rest between lines (the planned one) and legato inside a line
    for i, f in enumerate(firsts[1:], start=1):
        assert a[f].onset - a[f - 1].end > 0.0
        line = a[firsts[i - 1]:f]
        assert all(abs(x.end - y.onset) < 1e-9 for x, y in zip(line, line[1:], strict=False))


def test_same_seed_same_melody_and_seeds_differ(tiny: Any) -> None:
    from yuefu.compose import write_melody_lm

    m = Motive(key="E major", language="en")
    one = write_melody_lm(EN, m, seed=11, model=tiny)
    two = write_melody_lm(EN, m, seed=11, model=tiny)
    other = write_melody_lm(EN, m, seed=12, model=tiny)
    key = [(n.pitch, n.onset, n.duration, n.lyric) for n in _sung(one)]
    assert key == [(n.pitch, n.onset, n.duration, n.lyric) for n in _sung(two)]
    assert key != [(n.pitch, n.onset, n.duration, n.lyric) for n in _sung(other)]


def test_tone_rule_is_kept_when_weighted(tiny: Any) -> None:
    """A heavy tone weight makes every checkable syllable follow TONE_RULE even with a random
    model; without it a random model breaks the rule (so the weight is what keeps it)."""
    from yuefu.compose import tone_agreement, write_melody_lm

    m = Motive(key="G major", language="zh")
    free = [tone_agreement(write_melody_lm(ZH, m, seed=s, model=tiny, tone_weight=0.0)) for s in range(2)]
    kept = [tone_agreement(write_melody_lm(ZH, m, seed=s, model=tiny, tone_weight=40.0)) for s in range(2)]
    assert min(kept) == 1.0
    assert np.mean(free) < 0.95, free


def test_a_narrow_range_is_kept(tiny: Any) -> None:
    from yuefu.compose import write_melody_lm

    m = Motive(key="F major", language="en", voice_range=(60, 67))
    notes = _sung(write_melody_lm(EN, m, seed=2, model=tiny))
    assert {n.pitch for n in notes} <= set(range(60, 68))


def test_a_repeated_chorus_is_sung_to_the_same_notes(tiny: Any) -> None:
    from yuefu.compose import write_melody_lm

    s = write_melody_lm(ZH, Motive(key="D major", language="zh"), seed=4, model=tiny)
    secs = sorted(s.sections, key=lambda x: x.beat)
    starts: dict[str, list[tuple[float, float]]] = {x.name: [] for x in secs}
    for i, x in enumerate(secs):
        starts[x.name].append((x.beat, secs[i + 1].beat if i + 1 < len(secs) else 1e9))
    (a0, a1), (b0, b1) = starts["chorus"]
    first = [n for n in _sung(s) if a0 <= n.onset < a1]
    again = [n for n in _sung(s) if b0 <= n.onset < b1]
    assert [(n.pitch, round(n.onset - a0, 6)) for n in first] == \
        [(n.pitch, round(n.onset - b0, 6)) for n in again]


@pytest.mark.parametrize("meter", [(3, 4), (6, 8)])
def test_other_meters_are_one_clear_error(tiny: Any, meter: tuple[int, int]) -> None:
    from yuefu.compose import write_melody_lm

    m = Motive(key="C major", meter=meter, feel="compound" if meter[1] == 8 else "straight")
    with pytest.raises(ParameterError, match=r"4/4 only"):
        write_melody_lm(EN, m, seed=0, model=tiny)


def test_melody_alone_also_keeps_every_syllable(tiny: Any) -> None:
    from yuefu.compose import write_melody_lm

    s = write_melody_lm(EN, Motive(key="C major"), seed=1, model=tiny, accompaniment=False)
    assert [n.lyric for n in _sung(s)] == _syllables(EN)


def _song_with_chords() -> Score:
    s = Score()
    v = s.add_track(Track("vocal", program=73, role="vocal"))
    pitches = [64, 65, 67, 72, 71, 69, 67, 65, 64, 62, 60, 62, 64, 67, 65, 64]
    v.notes += [Note(p, 1.0 * i, 1.0, lyric="la") for i, p in enumerate(pitches)]
    s.chords = [ChordSymbol(4.0 * i, c) for i, c in enumerate(["C", "Am", "F", "G"])]
    return s


def test_accompany_keeps_the_melody_and_the_chords(tiny_lm: Callable[..., Any]) -> None:
    """The melody is given to the model note for note: the rows it decoded carry exactly the
    song's melody (checked through the chords it forced and the piano it returned)."""
    from yuefu.compose import accompany

    song = _song_with_chords()
    lm = tiny_lm()
    piano = accompany(song, seed=0, model=lm)
    again = accompany(song, seed=0, model=lm)
    assert piano.name == "piano" and piano.notes
    assert [(n.pitch, n.onset, n.duration) for n in piano.notes] == \
        [(n.pitch, n.onset, n.duration) for n in again.notes]
    assert all(0.0 <= n.onset < 16.0 for n in piano.notes)
    assert min(n.pitch for n in piano.notes) >= 36


def test_accompany_refuses_other_meters_and_no_chords(tiny_lm: Callable[..., Any]) -> None:
    from yuefu.compose import accompany
    from yuefu.core.score import TimeSignature

    s = _song_with_chords()
    s.time_signatures = [TimeSignature(0.0, 3, 4)]
    with pytest.raises(ParameterError, match="4/4 only"):
        accompany(s, model=tiny_lm())
    s = _song_with_chords()
    s.chords = []
    with pytest.raises(ParameterError, match="no chord"):
        accompany(s, model=tiny_lm())


def test_planned_grammar_places_fixed_notes_exactly(tiny_lm: Callable[..., Any]) -> None:
    from yuefu.compose.lm.constrained import LinePlan, PlanGrammar, generate_planned
    from yuefu.compose.lm.tokens import FI, NOTE, Conditions

    lm = tiny_lm()
    tok = lm.tok
    fixed = [(on, tok.index["pitch"][f"Pitch_{p}"], 4, 5) for on, p in ((0, 72), (6, 74), (20, 76))]
    lines = [LinePlan(start=f[0], end=f[0] + 4, n=1, fixed=[f]) for f in fixed]
    chords = np.zeros(32, dtype=np.int64)
    g = PlanGrammar(tok, lines, chords, bars=2)
    res = generate_planned(lm.net, tok, tok.cond_row(Conditions())[None], g, rng=np.random.default_rng(0))
    mel = [r for r in res.rows if r[0] == NOTE and r[FI["track"]] == 1]
    assert [(int(r[FI["pitch"]]), int(r[FI["duration"]])) for r in mel] == [(f[1], 4) for f in fixed]
    assert [on for _, _, on in res.melody] == [0, 6, 20]
    assert res.bars == 2


def test_a_line_that_cannot_fit_is_refused() -> None:
    from yuefu.compose.lm.constrained import LinePlan

    with pytest.raises(ParameterError, match="do not fit"):
        LinePlan(start=0, end=8, n=9, step=1, last_max=7)


# -- with the shipped model -----------------------------------------------------------------------
def test_shipped_model_sets_chinese_lyrics_in_key_and_on_tone(shipped: Any) -> None:
    from yuefu.compose import in_key_ratio, tone_agreement, write_melody_lm

    m = Motive(key="Eb major", language="zh", tempo_bpm=92.0, style="pop", voice_range=(57, 76))
    s = write_melody_lm(ZH[:2], m, seed=1, model=shipped)
    notes = _sung(s)
    assert [n.lyric for n in notes] == _syllables(ZH[:2])
    assert all(57 <= n.pitch <= 76 for n in notes)
    assert in_key_ratio(s) >= 0.9
    assert tone_agreement(s) >= 0.85
    assert len({n.pitch for n in notes}) >= 5  # a tune, not a drone


def test_shipped_model_accompanies_a_melody(shipped: Any) -> None:
    from yuefu.compose import accompany, chord_tone_ratio

    song = _song_with_chords()
    piano = accompany(song, seed=2, model=shipped)
    assert len(piano.notes) >= 16  # at least a note a beat
    probe = dataclasses.replace(song, tracks=[Track("piano", role="vocal", notes=piano.notes)])
    assert chord_tone_ratio(probe) >= 0.8
    assert min(n.pitch for n in piano.notes) >= 36
