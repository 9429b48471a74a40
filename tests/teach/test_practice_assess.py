"""assess(): verdicts, events and marks on synthetic performances with known, injected errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import make_piece, rows_of
from yuefu.core import Note, Score, Tempo, Track
from yuefu.core.errors import ScoreLoadError
from yuefu.teach import (
    AssessConfig,
    DifferentPieceError,
    PerformanceError,
    assess,
    performance_from_score,
    render_html,
)

BEAT_S = 0.6  # make_piece is at 100 BPM


def _errors(a) -> dict[str, int]:
    s = a.summary()
    return {k: s[k] for k in ("wrong_pitch", "missed", "extra", "early", "late")}


def _bar_of_row(row) -> int:
    return int(row[1] / BEAT_S // 4) + 1


def test_clean_rendition_reports_no_error(piece):
    a = assess(piece, rows_of(piece))
    assert _errors(a) == {"wrong_pitch": 0, "missed": 0, "extra": 0, "early": 0, "late": 0}
    assert a.verdicts.events == ()
    assert a.scores.pitch == 100.0 and a.scores.fluency == 100.0
    assert a.scores.rhythm >= 99.0
    assert all(b.status == "good" for b in a.verdicts.bars)
    assert 2 <= len(a.suggestions) <= 5


@pytest.mark.parametrize("scale", [0.6, 1.0, 1.7])
def test_a_slower_or_faster_tempo_is_not_late(piece, scale):
    a = assess(piece, rows_of(piece, scale=scale))
    assert _errors(a) == {"wrong_pitch": 0, "missed": 0, "extra": 0, "early": 0, "late": 0}
    bpm = np.median(list(a.verdicts.bar_bpm.values()))
    assert bpm == pytest.approx(100 / scale, rel=0.02)


def test_tempo_drift_is_followed_not_called_late(piece):
    rows = rows_of(piece)
    total = rows[-1][1]
    warp = lambda t: t * (1 + 0.35 * t / total)  # noqa: E731  slows down by a third over the piece
    a = assess(piece, [(p, warp(s), warp(e), v) for p, s, e, v in rows])
    assert _errors(a) == {"wrong_pitch": 0, "missed": 0, "extra": 0, "early": 0, "late": 0}
    bpm = list(a.verdicts.bar_bpm.values())
    assert bpm[0] > bpm[-1] * 1.2, bpm
    clean = assess(piece, rows)
    assert a.scores.rhythm < clean.scores.rhythm  # steadiness counts against a drift


def test_wrong_notes_are_found_with_what_was_played(piece, rng):
    rows = rows_of(piece)
    idx = sorted(rng.choice(np.arange(3, len(rows) - 3), size=6, replace=False).tolist())
    for i in idx:
        p, s, e, v = rows[i]
        rows[i] = (p + (1 if i % 2 else -2), s, e, v)
    a = assess(piece, rows)
    wrong = [(n.index, n.played_pitch) for n in a.notes if n.verdict == "wrong_pitch"]
    assert wrong == [(i, rows[i][0]) for i in idx]
    assert _errors(a)["missed"] == 0 and _errors(a)["extra"] == 0


def test_omitted_notes_are_missed(piece, rng):
    rows = rows_of(piece)
    idx = sorted(rng.choice(np.arange(1, len(rows)), size=7, replace=False).tolist())
    played = [r for i, r in enumerate(rows) if i not in idx]
    a = assess(piece, played)
    assert [n.index for n in a.notes if n.verdict == "missed"] == idx
    assert _errors(a)["wrong_pitch"] == 0 and _errors(a)["extra"] == 0


def test_inserted_notes_are_extra(piece, rng):
    rows = rows_of(piece)
    added = []
    for i in rng.choice(np.arange(5, len(rows) - 5), size=5, replace=False).tolist():
        p, s, e, v = rows[i]
        added.append((p + 3, s + 0.17, s + 0.25, 60))
    a = assess(piece, rows + added)
    got = sorted((e.pitch, round(e.onset_s, 3)) for e in a.extras)
    assert got == sorted((p, round(s, 3)) for p, s, _, _ in added)
    assert _errors(a)["wrong_pitch"] == 0 and _errors(a)["missed"] == 0


def test_chords_match_in_any_order_and_spread(rng):
    piece = make_piece(rng, two_hands=True)
    rows = rows_of(piece)
    # roll every chord: the notes of a cluster up to 50 ms apart, highest first
    by_time: dict[float, list] = {}
    for r in rows:
        by_time.setdefault(round(r[1], 4), []).append(r)
    rolled = []
    for rs in by_time.values():
        for j, (p, s, e, v) in enumerate(sorted(rs, key=lambda r: -r[0])):
            rolled.append((p, s + 0.025 * j, e, v))
    a = assess(piece, rolled)
    assert _errors(a)["wrong_pitch"] == 0 and _errors(a)["missed"] == 0 and _errors(a)["extra"] == 0


def test_a_chord_with_one_wrong_and_one_missing_note():
    s = Score()
    t = s.add_track(Track("piano"))
    for b in range(8):
        t.notes += [Note(60, float(b), 1.0), Note(64, float(b), 1.0), Note(67, float(b), 1.0)]
    rows = [(p, b * 0.5, b * 0.5 + 0.45, 80) for b in range(8) for p in (60, 64, 67)]
    rows = [r for r in rows if not (r[1] == 1.5 and r[0] == 60)]          # chord 4: C left out
    rows = [(65 if (r[1] == 2.5 and r[0] == 64) else r[0],) + r[1:] for r in rows]  # chord 6: F for E
    a = assess(s, rows)
    bad = {(n.onset_beat, n.pitch): (n.verdict, n.played_pitch) for n in a.notes if n.verdict != "correct"}
    assert bad == {(3.0, 60): ("missed", None), (5.0, 64): ("wrong_pitch", 65)}


def test_two_hands_are_judged_separately(rng):
    piece = make_piece(rng, two_hands=True)
    rows = rows_of(piece)
    # three wrong notes in the left hand, bars 5-6
    lh = [i for i, r in enumerate(rows) if r[0] < 60 and _bar_of_row(r) in (5, 6)]
    for i in lh[:3]:
        p, s, e, v = rows[i]
        rows[i] = (p - 1, s, e, v)
    a = assess(piece, rows)
    assert a.reference.hands == ("right", "left") and a.reference.hands_from == "track names"
    per = {(b.bar, b.hand): b for b in a.verdicts.bar_hands}
    assert sum(per[(b, "left")].wrong_pitch for b in (5, 6)) == 3
    assert sum(per[(b, "right")].pitch_errors for b in range(1, 9)) == 0
    top = a.suggestions[0]
    assert top.kind == "notes" and top.hand == "left" and top.bars is not None
    assert top.bars[0] >= 5 and top.bars[1] <= 6 and "left hand" in top.text and "3 wrong notes" in top.text


def test_one_track_is_split_into_hands(rng):
    piece = make_piece(rng, two_hands=False)
    a = assess(piece, rows_of(piece))
    assert a.reference.hands == ("right", "left")
    assert all((n.hand == "right") == (n.pitch >= 60) for n in a.notes)


def test_a_pause_is_a_hesitation_not_late_notes(piece):
    rows = rows_of(piece)
    cut = 4 * 4 * BEAT_S  # the start of bar 5
    rows = [(p, s + 1.5, e + 1.5, v) if s >= cut - 1e-9 else (p, s, e, v) for p, s, e, v in rows]
    a = assess(piece, rows)
    assert _errors(a) == {"wrong_pitch": 0, "missed": 0, "extra": 0, "early": 0, "late": 0}
    (ev,) = a.verdicts.events
    assert ev.kind == "hesitation" and ev.bar == 5 and ev.seconds == pytest.approx(1.5, abs=0.1)
    assert a.scores.fluency < 100
    assert any(s.kind == "fluency" and s.bars and s.bars[0] <= 5 <= s.bars[1] for s in a.suggestions)


def test_a_long_pause_is_a_stop(piece):
    rows = rows_of(piece)
    cut = 2 * 4 * BEAT_S
    rows = [(p, s + 3.0, e + 3.0, v) if s >= cut - 1e-9 else (p, s, e, v) for p, s, e, v in rows]
    a = assess(piece, rows)
    assert [(e.kind, e.bar) for e in a.verdicts.events] == [("stop", 3)]


def test_a_restarted_passage(piece):
    rows = rows_of(piece)
    bar_s = 4 * BEAT_S
    first = [r for r in rows if r[1] < 5 * bar_s - 1e-9]                 # bars 1-5
    again = [r for r in rows if r[1] >= 2 * bar_s - 1e-9]                # bar 3 to the end
    shift = 5 * bar_s + 0.8 - 2 * bar_s
    played = first + [(p, s + shift, e + shift, v) for p, s, e, v in again]
    a = assess(piece, played)
    assert _errors(a) == {"wrong_pitch": 0, "missed": 0, "extra": 0, "early": 0, "late": 0}
    assert [(e.kind, e.bar, e.to_bar) for e in a.verdicts.events] == [("restart", 5, 3)]
    replayed = [r for r in first if r[1] >= 2 * bar_s - 1e-9]
    assert len(a.verdicts.superseded) == len(replayed)
    assert a.scores.fluency < 100 and a.scores.pitch == 100.0


def test_a_skipped_bar(piece):
    rows = rows_of(piece)
    bar_s = 4 * BEAT_S
    kept = [r for r in rows if not (3 * bar_s - 1e-9 <= r[1] < 4 * bar_s - 1e-9)]  # bar 4 left out
    played = [(p, s - bar_s, e - bar_s, v) if s >= 4 * bar_s - 1e-9 else (p, s, e, v) for p, s, e, v in kept]
    a = assess(piece, played)
    missed = {n.bar for n in a.notes if n.verdict == "missed"}
    assert missed == {4}
    assert sum(1 for n in a.notes if n.verdict == "missed") == sum(1 for n in a.notes if n.bar == 4)
    assert _errors(a)["wrong_pitch"] == 0 and _errors(a)["extra"] == 0
    assert _errors(a)["early"] == 0 and _errors(a)["late"] == 0
    assert [(e.kind, e.bar, e.to_bar) for e in a.verdicts.events] == [("skip", 4, 4)]


def test_late_note_measured_in_ms_and_beats(piece):
    rows = rows_of(piece)
    i = next(k for k, r in enumerate(rows) if r[0] >= 60 and abs(r[1] - 10.5 * BEAT_S) < 1e-6)
    p, s, e, v = rows[i]
    rows[i] = (p, s + 0.3 * BEAT_S, e, v)  # 0.3 beat late, 180 ms
    a = assess(piece, rows)
    timed = [n for n in a.notes if n.timing in ("early", "late")]
    assert [(n.index, n.timing) for n in timed] == [(i, "late")]
    assert timed[0].deviation_beats == pytest.approx(0.3, abs=0.05)
    assert timed[0].deviation_ms == pytest.approx(180, abs=30)
    assert a.verdicts.events == ()


def test_notes_cut_short(piece):
    rows = rows_of(piece)
    rows = [(p, s, s + 0.25 * (e - s), v) if p < 60 else (p, s, e, v) for p, s, e, v in rows]
    a = assess(piece, rows)
    short = {n.hand for n in a.notes if n.duration == "too_short"}
    assert short == {"left"}
    assert any(s.kind == "articulation" and s.hand == "left" for s in a.suggestions)


def _inject(rows, rate, rng):
    out = []
    pause_every = int(1 / rate) * 6 if rate else 0
    shift = 0.0
    for k, (p, s, e, v) in enumerate(rows):
        if pause_every and k and k % pause_every == 0:
            shift += 1.2
        jitter = abs(rng.normal(0, rate * 0.25 * BEAT_S)) if k == 0 else rng.normal(0, rate * 0.25 * BEAT_S)
        s2, e2 = max(0.0, s + shift + jitter), e + shift + jitter
        u = rng.random()
        if u < rate / 3:
            out.append((p + int(rng.choice([-2, -1, 1, 2])), s2, e2, v))
        elif u < 2 * rate / 3:
            continue
        else:
            out.append((p, s2, e2, v))
            if u > 1 - rate / 3:
                out.append((p + int(rng.choice([3, 4, 5])), s2 + 0.15, e2, v))
    return out


def test_marks_fall_as_the_error_rate_rises(piece):
    rates = [0.0, 0.04, 0.1, 0.2, 0.3]
    overall, pitch, rhythm, fluency = [], [], [], []
    for rate in rates:
        ms = [assess(piece, _inject(rows_of(piece), rate, np.random.default_rng(seed))).scores
              for seed in range(3)]
        overall.append(np.mean([m.overall for m in ms]))
        pitch.append(np.mean([m.pitch for m in ms]))
        rhythm.append(np.mean([m.rhythm for m in ms]))
        fluency.append(np.mean([m.fluency for m in ms]))
    for name, xs in (("overall", overall), ("pitch", pitch), ("rhythm", rhythm)):
        assert all(a > b for a, b in zip(xs, xs[1:], strict=False)), (name, xs)
    assert all(a >= b for a, b in zip(fluency, fluency[1:], strict=False)), fluency
    assert fluency[0] == 100 and fluency[-1] < 80


def test_a_different_piece_is_refused(piece):
    other = make_piece(np.random.default_rng(999))
    with pytest.raises(DifferentPieceError, match="different piece"):
        assess(piece, rows_of(other))


def test_many_wrong_notes_are_still_the_same_piece(piece, rng):
    rows = [(p + 1, s, e, v) if rng.random() < 0.3 else (p, s, e, v) for p, s, e, v in rows_of(piece)]
    a = assess(piece, rows)
    assert a.summary()["wrong_pitch"] >= 20


def test_empty_inputs_are_refused(piece):
    with pytest.raises(PerformanceError, match="no notes"):
        assess(piece, [])
    empty = Score()
    empty.add_track(Track("piano"))
    with pytest.raises(ScoreLoadError, match="no notes"):
        assess(empty, rows_of(piece))


def test_bars_option_assesses_a_passage(piece):
    bar_s = 4 * BEAT_S
    rows = [(p, s - 2 * bar_s, e - 2 * bar_s, v) for p, s, e, v in rows_of(piece)
            if 2 * bar_s - 1e-9 <= s < 5 * bar_s - 1e-9]                      # bars 3-5 only
    a = assess(piece, rows, config=AssessConfig(bars=(3, 5)))
    assert {n.bar for n in a.notes} == {3, 4, 5}
    assert _errors(a) == {"wrong_pitch": 0, "missed": 0, "extra": 0, "early": 0, "late": 0}


def test_json_has_every_note_and_the_extras(piece, rng):
    rows = rows_of(piece)
    rows[10] = (rows[10][0] + 1,) + rows[10][1:]
    del rows[20]
    rows.append((100, 3.01, 3.2, 50))
    a = assess(piece, rows)
    d = json.loads(a.to_json())
    assert d["format"] == "yuefu.practice/1"
    assert len(d["notes"]) == piece.n_notes
    assert {n["verdict"] for n in d["notes"]} == {"correct", "wrong_pitch", "missed"}
    assert all("deviation_ms" in n for n in d["notes"] if n["verdict"] != "missed")
    assert [e["pitch"] for e in d["extra_notes"]] == [100]
    assert set(d["scores"]) == {"pitch", "rhythm", "fluency", "expression", "overall"}
    assert len(d["bars"]) == 8 and set(d["bars"][0]["hands"]) == {"right", "left"}
    assert 2 <= len(d["suggestions"]) <= 5


def test_html_report_is_self_contained_and_marks_errors(piece):
    rows = rows_of(piece)
    rows[10] = (rows[10][0] + 1,) + rows[10][1:]
    a = assess(piece, rows)
    page = render_html(a)
    assert page.startswith("<!DOCTYPE html>") and 'name="viewport"' in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")
    assert page.count('<svg viewBox="0 0 1000') == 2  # 8 bars in systems of 4 (the legend's swatches aside)
    assert "#d64545" in page and "wrong pitch" in page
    for s in a.suggestions:
        assert s.text.replace("&", "&amp;").replace("'", "&#x27;").replace('"', "&quot;") in page


def test_expression_follows_the_written_dynamics(rng):
    piece = make_piece(rng, velocities=True)
    rows = rows_of(piece)
    follows = assess(piece, rows)
    flat = assess(piece, [(p, s, e, 70) for p, s, e, _ in rows])
    assert follows.scores.details["dynamics_marked"] == 1.0
    assert follows.scores.expression > flat.scores.expression + 30
    assert any(s.kind == "dynamics" for s in flat.suggestions)


def test_a_unison_of_both_hands_is_one_key_press() -> None:
    """Regression: a score whose two hands share a note at the same moment, assessed against
    itself (the same MIDI file as the performance), reported the second copy as an extra note.
    A piano sounds a key once: the doubling is one press, and the clean take has no error."""
    s = Score(tempos=[Tempo(0, 120)])
    rh = s.add_track(Track("right", program=0))
    lh = s.add_track(Track("left", program=0))
    for i in range(16):
        rh.notes.append(Note(72 + (i % 5), float(i), 1.0, 80))
        lh.notes.append(Note(48 + (i % 3), float(i), 1.0, 70))
        if i % 4 == 2:  # the left hand doubles the melody note
            lh.notes.append(Note(72 + (i % 5), float(i), 1.0, 70))
    perf = performance_from_score(s)
    assert len(perf) == 32  # 36 written notes, 4 of them doublings
    a = assess(s, perf)
    sm = a.summary()
    assert sm["extra"] == 0 and sm["missed"] == 0 and sm["wrong_pitch"] == 0, sm
    assert sm["correct"] == sm["notes"] == 36
