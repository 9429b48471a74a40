"""The learned judge of written notes a recording leaves unanswered: missed, or not heard? (issue 7)"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import FRAME_S, bass_melody_rows, bass_melody_score, painted_transcription
from yuefu.teach import AssessConfig, Performance, assess
from yuefu.teach.align import align
from yuefu.teach.evidence import EvidenceConfig
from yuefu.teach.reference import build_reference
from yuefu.teach.unheard import UNHEARD_FEATURES, load_unheard_model, missed_features, unheard_notes
from yuefu.teach.verdict import judge

COL = {name: i for i, name in enumerate(UNHEARD_FEATURES)}
RULES_ONLY = AssessConfig(evidence=EvidenceConfig(unheard=False))


def _without(lost: int, *, key: float, onset: float) -> tuple[Performance, tuple[int, float, float, int]]:
    """The bass-and-melody piece transcribed with melody row ``lost`` never a candidate; its key
    posterior at ``key`` while it sounds and its onset posterior peaking at ``onset``."""
    rows = bass_melody_rows()
    gone = rows[lost]
    perf = painted_transcription([(r, 0.97) for r in rows if r != gone])
    c = perf.candidates
    assert c is not None and c.note_post is not None and c.onset_post is not None
    g, e = int(round(gone[1] / FRAME_S)), int(round(gone[2] / FRAME_S))
    c.note_post[g:e, gone[0] - 21] = key
    c.onset_post[g, gone[0] - 21] = onset
    return perf, gone


def test_features_describe_what_the_recording_shows_where_a_lost_note_should_sound() -> None:
    perf, gone = _without(7, key=0.6, onset=0.3)  # the melody F4 of beat 4
    ref = build_reference(bass_melody_score())
    v = judge(ref, perf, align(ref, perf))
    missed = [n.index for n in v.notes if n.verdict == "missed"]
    assert [ref.notes[i].pitch for i in missed] == [gone[0]]
    idx, x = missed_features(ref, perf, v)
    assert idx == missed and x.shape == (1, len(UNHEARD_FEATURES)) and np.all(np.isfinite(x))
    f = x[0]
    assert f[COL["key_on"]] == pytest.approx(0.6, abs=0.01)
    assert f[COL["onset_near"]] == pytest.approx(0.3, abs=0.01)
    assert f[COL["cand"]] == -6.0 and f[COL["cand_s"]] == 1.0  # no candidate of its key near
    assert (f[COL["chord"]], f[COL["mates_heard"]], f[COL["chord_played"]]) == (2, 1.0, 1.0)
    assert (f[COL["rank_top"]], f[COL["rank_bottom"]]) == (0, 1)  # the top of its chord
    assert f[COL["length_s"]] == pytest.approx(0.5, abs=0.02)  # a beat at the played 120 BPM
    assert f[COL["pitch"]] == gone[0]
    assert f[COL["key_max"]] == pytest.approx(0.6, abs=0.01) and f[COL["onset_wide"]] >= f[COL["onset_near"]]
    assert f[COL["heard_gap_s"]] == 0.0  # its chord was heard (the bass)


def test_a_doubtful_candidate_of_its_key_near_a_lost_note_is_described() -> None:
    rows = bass_melody_rows()
    gone = rows[7]
    late = (gone[0], gone[1] + 0.1, gone[2], 60)  # heard 100 ms late, and doubted
    perf = painted_transcription([(r, 0.97) for r in rows if r != gone] + [(late, 0.2)])
    ref = build_reference(bass_melody_score())
    v = judge(ref, perf, align(ref, perf))
    idx, x = missed_features(ref, perf, v)
    assert [ref.notes[i].pitch for i in idx] == [gone[0]]
    f = x[0]
    assert f[COL["cand"]] == pytest.approx(np.log(0.2 / 0.8))
    assert f[COL["cand_s"]] == pytest.approx(0.1, abs=0.005)  # from the chord's time (its bass)


def test_a_note_named_unheard_is_neither_right_nor_missed_and_not_marked() -> None:
    perf, gone = _without(7, key=0.0, onset=0.0)
    ref = build_reference(bass_melody_score())
    al = align(ref, perf)
    v = judge(ref, perf, al)
    (i,) = [n.index for n in v.notes if n.verdict == "missed"]
    u = judge(ref, perf, al, unheard=frozenset({i}))
    assert [n.verdict for n in u.notes if n.index == i] == ["unheard"]
    assert u.count("missed") == 0 and u.count("correct") == v.count("correct")


def test_the_shipped_model_is_registered_and_reads_the_features_the_code_computes() -> None:
    from yuefu.models import verified_path

    verified_path("practice_unheard")
    m = load_unheard_model()
    assert m.features == UNHEARD_FEATURES and 0 < m.threshold < 1 and len(m.trees) >= 10
    q = m.predict(np.zeros((3, len(UNHEARD_FEATURES))))
    assert np.all((q >= 0) & (q <= 1))


def test_a_key_that_sounds_where_the_score_wants_it_is_unheard_and_silence_is_missed() -> None:
    # the transcriber lost the note, but the note model heard its key sound right where it belongs
    perf, gone = _without(7, key=0.6, onset=0.35)
    got = assess(bass_melody_score(), perf)
    assert got.summary()["missed"] == 0, got.summary()
    assert [n.pitch for n in got.notes if n.verdict == "unheard"] == [gone[0]]
    # nothing at all sounded there: the student left it out
    perf, gone = _without(7, key=0.0, onset=0.0)
    got = assess(bass_melody_score(), perf)
    assert [n.pitch for n in got.notes if n.verdict == "missed"] == [gone[0]], got.summary()
    assert assess(bass_melody_score(), perf, config=RULES_ONLY).summary()["missed"] == 1


def test_without_posteriors_nothing_is_asked() -> None:
    perf, _ = _without(7, key=0.6, onset=0.35)
    ref = build_reference(bass_melody_score())
    bare = Performance.from_notes(zip(perf.pitch.tolist(), perf.onset_s.tolist(), perf.offset_s.tolist(),
                                      perf.velocity.tolist(), strict=True))
    v = judge(ref, bare, align(ref, bare))
    assert unheard_notes(ref, bare, v) == frozenset()
