"""write_melody: syllables, range, key, chords, form, repetition, styles, meters, determinism."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from yuefu.compose import (
    TONE_RULE,
    chord_tone_ratio,
    harmonize,
    in_key_ratio,
    syllable_tones,
    tone_agreement,
    write_melody,
)
from yuefu.compose._common import load_stats, section_kind
from yuefu.core.errors import ModelLoadError, ParameterError
from yuefu.core.motive import Motive

ZH = [
    ("verse", [list("月亮照着海面"), list("风吹过沙滩我想你"), list("月亮照着海面"), list("夜色里有歌声")]),
    ("chorus", [list("我们一起唱"), list("唱到天明不回家"), list("我们一起唱"), list("唱到海的尽头")]),
    ("verse 2", [list("灯火映着小船"), list("云飘过山岗你在哪"), list("灯火映着小船"), list("远方有人等")]),
    ("chorus", [list("我们一起唱"), list("唱到天明不回家"), list("我们一起唱"), list("唱到海的尽头")]),
]
EN = [
    ("verse", [["the", "ri-", "ver", "runs", "a-", "long", "the", "sea"],
               ["lan-", "terns", "drift", "in", "sum-", "mer", "light"],
               ["and", "all", "the", "stars", "are", "near", "to", "me"],
               ["we", "sing", "the", "songs", "of", "night"]]),
    ("chorus", [["sing", "with", "me", "the", "old-", "est", "song"],
                ["hear", "it", "rise", "a-", "bove", "the", "sea"],
                ["sing", "with", "me", "the", "old-", "est", "song"],
                ["home", "is", "where", "the", "mu-", "sic", "leads"]]),
    ("chorus", [["sing", "with", "me", "the", "old-", "est", "song"],
                ["hear", "it", "rise", "a-", "bove", "the", "sea"],
                ["sing", "with", "me", "the", "old-", "est", "song"],
                ["home", "is", "where", "the", "mu-", "sic", "leads"]]),
]
# (language, style, key, meter, feel, palette, tempo)
CASES = [
    ("zh", "pop", "D major", (4, 4), "straight", "diatonic", 92.0),
    ("zh", "ballad", "A minor", (4, 4), "straight", "sevenths", 68.0),
    ("zh", "folk", "G major", (2, 4), "straight", "pentatonic", 100.0),
    ("en", "rock", "E minor", (4, 4), "straight", "power", 132.0),
    ("en", "ballad", "F major", (6, 8), "compound", "sevenths", 96.0),
    ("en", "classical_piano", "Bb major", (3, 4), "straight", "classical", 104.0),
    ("en", "children", "C major", (2, 4), "swing", "diatonic", 112.0),
    ("zh", "electronic", "C minor", (12, 8), "compound", "minor_modal", 120.0),
]
SEEDS = (0, 1, 2)


def motive_of(case: tuple) -> Motive:
    lang, style, key, meter, feel, palette, tempo = case
    return Motive(key=key, style=style, meter=meter, feel=feel, palette=palette, tempo_bpm=tempo,
                  language=lang, voice_range=(57, 76), instruments={"lead": 71})


def lyrics_of(case: tuple) -> list:
    return ZH if case[0] == "zh" else EN


@pytest.fixture(scope="module")
def songs() -> dict:
    out = {}
    for ci, case in enumerate(CASES):
        for seed in SEEDS:
            out[ci, seed] = write_melody(lyrics_of(case), motive_of(case), seed=seed)
    return out


def vocal(score):
    return sorted(score.track("vocal").notes, key=lambda n: n.onset)


def section_notes(score, index):
    secs = sorted(score.sections, key=lambda s: s.beat)
    end = secs[index + 1].beat if index + 1 < len(secs) else float("inf")
    # a pickup into the next section starts just before its marker: it belongs to that section
    return [n for n in vocal(score) if secs[index].beat - 1.01 <= n.onset < end - 1.01
            and not (index == 0 and n.onset < 0)]


@pytest.mark.parametrize("ci", range(len(CASES)))
def test_one_note_per_syllable_in_order(songs, ci):
    want = [s for _, lines in lyrics_of(CASES[ci]) for line in lines for s in line]
    for seed in SEEDS:
        sung = [n.lyric for n in vocal(songs[ci, seed]) if n.lyric != "-"]
        assert sung == want  # 100 % coverage, nothing added, order kept
        assert all(n.lyric for n in vocal(songs[ci, seed]))


@pytest.mark.parametrize("ci", range(len(CASES)))
def test_range_key_and_chords(songs, ci):
    m = motive_of(CASES[ci])
    for seed in SEEDS:
        s = songs[ci, seed]
        notes = vocal(s)
        assert all(m.voice_range[0] <= n.pitch <= m.voice_range[1] for n in notes)
        assert in_key_ratio(s) >= 0.95
        assert chord_tone_ratio(s) >= 0.85  # against the skeleton it composed on
        h = s.copy()
        h.chords = harmonize(s, m, seed=seed)
        assert chord_tone_ratio(h) >= 0.85  # against the harmoniser's chords


@pytest.mark.parametrize("ci", range(len(CASES)))
def test_score_metadata(songs, ci):
    m = motive_of(CASES[ci])
    s = songs[ci, 0]
    assert s.tempos[0].bpm == m.tempo_bpm
    assert (s.time_signatures[0].numerator, s.time_signatures[0].denominator) == m.meter
    assert s.key_signatures[0].key == m.key_obj
    t = s.track("vocal")
    assert t.role == "vocal" and t.program == 71
    assert [x.name for x in s.sections] == [name for name, _ in lyrics_of(CASES[ci])]
    bar = m.bar_beats
    assert all(abs(x.beat / bar - round(x.beat / bar)) < 1e-9 for x in s.sections)
    assert s.chords and all(abs(c.beat % (bar / 2)) < 1e-9 or abs(c.beat % bar) < 1e-9 for c in s.chords)
    # every line is 2 or 4 bars: a section's length is a multiple of its line count
    secs = sorted(s.sections, key=lambda x: x.beat)
    for i, (_, lines) in enumerate(lyrics_of(CASES[ci])[:-1]):
        bars = (secs[i + 1].beat - secs[i].beat) / bar
        assert bars / len(lines) in (2, 4)


@pytest.mark.parametrize("ci", range(len(CASES)))
def test_chorus_higher_than_verse(songs, ci):
    diffs = []
    for seed in SEEDS:
        s = songs[ci, seed]
        verse = [n.pitch for n in section_notes(s, 0)]
        chorus = [n.pitch for n in section_notes(s, 1)]
        diffs.append(np.mean(chorus) - np.mean(verse))
    assert min(diffs) > 0, diffs
    assert np.mean(diffs) >= 2.5, diffs  # semitones, averaged over seeds


def test_chorus_is_more_energetic():
    leaps_v, leaps_c = [], []
    for ci in range(len(CASES)):
        for seed in SEEDS:
            s = write_melody(lyrics_of(CASES[ci]), motive_of(CASES[ci]), seed=seed)
            for idx, out in ((0, leaps_v), (1, leaps_c)):
                ps = [n.pitch for n in section_notes(s, idx)]
                out.append(np.mean(np.abs(np.diff(ps))))
    assert np.mean(leaps_c) > np.mean(leaps_v)  # larger mean interval in the chorus


@pytest.mark.parametrize("ci", range(len(CASES)))
def test_repeated_chorus_repeats_its_melody(songs, ci):
    lyr = lyrics_of(CASES[ci])
    first = next(i for i, (n, _) in enumerate(lyr) if section_kind(n) == "chorus")
    second = len(lyr) - 1
    for seed in SEEDS:
        s = songs[ci, seed]
        secs = sorted(s.sections, key=lambda x: x.beat)
        a = [n for n in vocal(s) if secs[first].beat - 1.01 <= n.onset < secs[first + 1].beat - 1.01]
        b = [n for n in vocal(s) if n.onset >= secs[second].beat - 1.01]
        shift = secs[second].beat - secs[first].beat
        assert [(n.pitch, n.lyric) for n in a] == [(n.pitch, n.lyric) for n in b]
        assert np.allclose([n.onset + shift for n in a], [n.onset for n in b])


@pytest.mark.parametrize("ci", range(len(CASES)))
def test_phrase_final_notes_are_long(songs, ci):
    for seed in SEEDS:
        notes = vocal(songs[ci, seed])
        median = statistics.median(n.duration for n in notes)
        lines = [line for _, ls in lyrics_of(CASES[ci]) for line in ls]
        i = 0
        finals = []
        for line in lines:
            sung = 0
            while sung < len(line):
                sung += notes[i].lyric != "-"
                i += 1
            while i < len(notes) and notes[i].lyric == "-":
                i += 1
            j = i - 1
            while notes[j].lyric == "-":  # a melisma on the last syllable: count its whole length
                j -= 1
            finals.append(sum(n.duration for n in notes[j:i]))
        assert all(f > median for f in finals), (finals, median)
        assert all(f >= 1.0 for f in finals)


def test_rests_between_lines_and_second_half_varies_first():
    m = motive_of(CASES[3])
    verse = [["lan-", "terns", "drift", "in", "sum-", "mer", "light"], ["stars", "are", "near", "to", "me"],
             ["sil-", "ver", "boats", "on", "gold-", "en", "seas"], ["sing", "me", "home", "a-", "gain"]]
    same_start = []
    for seed in range(6):
        s = write_melody([("verse", verse)], m, seed=seed)
        notes = vocal(s)
        gaps = [b.onset - a.end for a, b in zip(notes[:-1], notes[1:], strict=False)]
        assert sum(g >= 0.25 - 1e-9 for g in gaps) >= 3  # rests between the lines
        lines, k = [], 0
        for line in verse:
            seg = []
            while len([n for n in seg if n.lyric != "-"]) < len(line):
                seg.append(notes[k])
                k += 1
            lines.append([n.pitch for n in seg if n.lyric != "-"])
        # line 3 restates line 1's opening (first three notes), its ending may change
        same_start.append(lines[2][:3] == lines[0][:3])
    assert np.mean(same_start) >= 0.6


def test_determinism():
    m = motive_of(CASES[0])
    a = write_melody(ZH, m, seed=7)
    b = write_melody(ZH, m, seed=7)
    c = write_melody(ZH, m, seed=8)
    key = lambda s: [(n.pitch, n.onset, n.duration, n.lyric) for n in vocal(s)]  # noqa: E731
    assert key(a) == key(b) and a.chords == b.chords
    assert key(a) != key(c)


def test_pentatonic_palette_stays_pentatonic():
    m = motive_of(CASES[2])  # G major, pentatonic
    for seed in SEEDS:
        s = write_melody(ZH, m, seed=seed)
        assert {n.pitch % 12 for n in vocal(s)} <= {7, 9, 11, 2, 4}  # G A B D E


def test_swing_and_compound_meters():
    s = write_melody(EN, motive_of(CASES[6]), seed=0)  # swing
    fracs = {round(n.onset % 1.0, 3) for n in vocal(s)}
    assert 0.5 not in fracs  # off-beat eighths are delayed to the triplet
    s = write_melody(EN, motive_of(CASES[4]), seed=0)  # 6/8
    assert all(abs((n.onset * 2) - round(n.onset * 2)) < 1e-9 for n in vocal(s))  # on the eighth grid


def test_english_function_word_takes_a_pickup():
    m = motive_of(CASES[3])
    for seed in SEEDS:
        s = write_melody(EN, m, seed=seed)
        bar = m.bar_beats
        notes = vocal(s)
        starts = [n for n in notes if n.lyric == "we"]  # "we sing the songs of night", line 4
        assert starts and starts[0].onset % bar > bar / 2  # before the barline


def test_tones_and_tone_agreement():
    assert syllable_tones(list("妈麻马骂")) == [1, 2, 3, 4]
    assert syllable_tones(["hel-", "lo"]) == [None, None]
    assert set(TONE_RULE) == {1, 2, 3, 4}
    ours = [tone_agreement(write_melody(ZH, motive_of(CASES[0]), seed=s)) for s in SEEDS]
    assert min(ours) >= 0.8
    # a melody that breaks the rule on purpose: every 4th tone rises by a fourth
    from yuefu.core.score import Note, Score, Track

    sc = Score()
    t = sc.add_track(Track("vocal", role="vocal"))
    t.notes += [Note(60, 0.0, 1.0, lyric="是"), Note(65, 1.0, 1.0, lyric="去"),
                Note(70, 2.0, 1.0, lyric="see")]
    assert tone_agreement(sc) == 0.0
    assert np.isnan(tone_agreement(write_melody(EN, motive_of(CASES[3]), seed=0)))


def test_lines_as_strings_and_bad_input():
    m = Motive(key="C major", language="zh")
    s = write_melody([("verse", ["月亮照着海面", "风吹过沙滩"])], m)
    assert [n.lyric for n in vocal(s) if n.lyric != "-"] == list("月亮照着海面风吹过沙滩")
    for bad in ([], "verse", [("verse", [])], [("verse", [[]])], [("", [["la"]])], [("verse", [["la", ""]])],
                [("verse",)]):
        with pytest.raises(ParameterError):
            write_melody(bad, m)


def test_statistics_file_loads_and_is_checked(tmp_path):
    from yuefu.models import REGISTRY, model_path, verified_path

    st = load_stats()
    assert st.ioi_given_pos.shape == (16, 17) and np.allclose(st.ioi_given_pos.sum(1), 1.0)
    assert st.transitions.shape == (2, 60, 60)
    assert st.heldout["pitch_model"] > st.heldout["pitch_random_walk"] > st.heldout["pitch_uniform"]
    p = model_path("melody_pop909")
    assert verified_path("melody_pop909") == p and p.stat().st_size < 5_000_000
    assert REGISTRY["melody_pop909"].train == "train/melody.py"
    bad = tmp_path / "melody_pop909.json"
    bad.write_bytes(p.read_bytes().replace(b'"version":1', b'"version":2'))
    with pytest.raises(ModelLoadError):
        verified_path("melody_pop909", path=bad)
    assert (p.parent / "melody_pop909.md").is_file()
