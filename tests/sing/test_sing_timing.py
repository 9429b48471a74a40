"""The timing plan: vowels on the onsets, consonants before them, codas at the end."""

from __future__ import annotations

import numpy as np
import pytest

from yuefu.core.errors import ParameterError
from yuefu.sing.timing import NoteSpan, UnitShape, nucleus_positions, phrases, plan_syllables


def test_vowel_on_onset_consonants_before():
    notes = [NoteSpan(1.0, 2.0, 0), NoteSpan(2.0, 3.0, 1), NoteSpan(4.0, 5.0, 2)]
    shapes = [UnitShape(0.10, 0.0), UnitShape(0.08, 0.06), UnitShape(0.30, 0.0)]
    p = plan_syllables(notes, shapes)
    assert [s.vowel_s for s in p] == [1.0, 2.0, 4.0]
    assert p[0].start_s == pytest.approx(0.90)
    assert p[1].start_s == pytest.approx(1.92)       # natural length, legato
    assert p[2].start_s == pytest.approx(3.85)       # capped at 150 ms
    # the first syllable runs up to the next one's consonants (legato), the second stops at its offset
    assert p[0].end_s == pytest.approx(1.92) and p[0].legato_next
    assert p[1].end_s == pytest.approx(3.0) and not p[1].legato_next
    assert p[1].coda_s == pytest.approx(3.0 - 0.06)
    for s in p:
        assert s.start_s <= s.vowel_s < s.coda_s <= s.end_s


def test_consonants_take_at_most_a_fifth_of_a_short_previous_note():
    notes = [NoteSpan(0.5, 0.7, 0), NoteSpan(0.7, 1.0, 1)]
    p = plan_syllables(notes, [UnitShape(0.0, 0.0), UnitShape(0.12, 0.0)])
    assert p[1].start_s == pytest.approx(0.7 - 0.2 * 0.2)
    assert p[1].vowel_s == 0.7


def test_first_note_at_time_zero_delays_the_vowel_by_the_minimum_consonant():
    p = plan_syllables([NoteSpan(0.0, 1.0, 0)], [UnitShape(0.1, 0.0)])
    assert p[0].start_s == 0.0 and p[0].vowel_s == pytest.approx(0.03)


def test_melisma_notes_share_a_syllable():
    notes = [NoteSpan(0.5, 1.0, 0), NoteSpan(1.0, 1.5, 0), NoteSpan(1.5, 2.0, 1)]
    p = plan_syllables(notes, [UnitShape(0.05, 0.05), UnitShape(0.05, 0.0)])
    assert len(p) == 2 and (p[0].first_note, p[0].last_note) == (0, 1)
    assert p[0].end_s == pytest.approx(1.45)


def test_bad_syllable_order_and_counts_are_refused():
    with pytest.raises(ParameterError):
        plan_syllables([NoteSpan(0, 1, 1)], [UnitShape(0, 0)])
    with pytest.raises(ParameterError):
        plan_syllables([NoteSpan(0, 1, 0)], [])


def test_phrases_split_at_rests():
    notes = [NoteSpan(t, t + 0.5, i) for i, t in enumerate([0.5, 1.0, 2.5, 3.0])]
    p = plan_syllables(notes, [UnitShape(0.05, 0.0)] * 4)
    assert phrases(p) == [(0, 1), (2, 3)]
    assert np.all(np.diff([s.vowel_s for s in p]) > 0)


def test_a_sonorant_onset_is_sung_short_right_before_the_beat():
    # "la": an l of 140 ms (as espeak says it) is sung in at most 60 ms, ending on the onset
    p = plan_syllables([NoteSpan(1.0, 2.0, 0)], [UnitShape(0.14, 0.0, sonorant_s=0.14)])
    assert p[0].vowel_s == 1.0
    assert p[0].vowel_s - p[0].start_s == pytest.approx(0.06)
    assert p[0].sonorant_s == pytest.approx(p[0].start_s)  # the whole onset is the sonorant
    # "blue": the b keeps its length before the shortened l
    p = plan_syllables([NoteSpan(1.0, 2.0, 0)], [UnitShape(0.15, 0.0, sonorant_s=0.12)])
    assert p[0].vowel_s - p[0].sonorant_s == pytest.approx(0.06)
    assert p[0].sonorant_s - p[0].start_s == pytest.approx(0.03)
    # an obstruent onset is not touched by the sonorant cap
    p = plan_syllables([NoteSpan(1.0, 2.0, 0)], [UnitShape(0.12, 0.0)])
    assert p[0].start_s == pytest.approx(0.88) and p[0].sonorant_s == p[0].vowel_s == 1.0


def test_sonorant_shares_a_short_gap_in_proportion():
    # a fast legato: only a fifth of a 0.2 s note is free for "bl" (0.03 + 0.06 wanted)
    notes = [NoteSpan(0.5, 0.7, 0), NoteSpan(0.7, 1.0, 1)]
    p = plan_syllables(notes, [UnitShape(0.0, 0.0), UnitShape(0.15, 0.0, sonorant_s=0.12)])
    assert p[1].vowel_s == 0.7
    assert p[1].start_s == pytest.approx(0.66)
    assert p[1].vowel_s - p[1].sonorant_s == pytest.approx(0.04 * 0.06 / 0.09)


def test_a_coda_before_a_rest_is_heard_in_full():
    # "six" (ks 0.2 s) on a 0.6 s note before a rest: 15% of the note and up to 80 ms past it
    p = plan_syllables([NoteSpan(1.0, 1.6, 0)], [UnitShape(0.1, 0.2)])
    assert p[0].coda_s == pytest.approx(1.6 - 0.15 * 0.6)
    assert p[0].end_s == pytest.approx(1.68)
    # capped at max_coda_s
    p = plan_syllables([NoteSpan(1.0, 3.0, 0)], [UnitShape(0.1, 0.3)])
    assert p[0].end_s - p[0].coda_s == pytest.approx(0.18)
    # legato into the next syllable: the coda stays inside the sung span (15% at most)
    notes = [NoteSpan(1.0, 1.6, 0), NoteSpan(1.6, 2.0, 1)]
    p = plan_syllables(notes, [UnitShape(0.1, 0.2), UnitShape(0.0, 0.0)])
    assert p[0].end_s == pytest.approx(1.6)
    assert p[0].end_s - p[0].coda_s == pytest.approx(0.15 * 0.6)


def test_a_medial_glide_starts_on_the_beat_and_reaches_the_vowel_within_60_ms():
    # nucleus frames 10..80 with a 28-frame glide (the u of guang) and the steady part at 45..51
    x = np.arange(0.0, 120.0)
    pos = nucleus_positions(x, 120.0, (10, 80), (45.0, 51.0), glide=28)
    assert pos[0] == pytest.approx(10.0)           # the glide itself starts on the beat
    assert pos[12] == pytest.approx(38.0)          # 12 frames (60 ms) later: the main vowel
    assert np.all(np.diff(pos[:13]) > 0)
    assert np.all((pos >= 10) & (pos < 80))
    # without a glide, the nucleus starts at its first frame and holds its steady part
    pos = nucleus_positions(x, 120.0, (10, 80), (45.0, 51.0))
    assert pos[0] == pytest.approx(10.0) and np.all((pos[40:80] >= 45) & (pos[40:80] <= 51))
