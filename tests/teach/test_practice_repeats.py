"""A MusicXML score with repeat signs: playing the repeat as written is no restart, and a slip in
the second time through is named by its written bar."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from conftest import make_piece, rows_of
from yuefu.core.io.musicxml import read_musicxml_as_played, write_musicxml
from yuefu.teach import assess, render_html

BAR_S = 4 * 0.6  # 100 bpm, 4/4


def _with_repeat(tmp_path: Path, rng: np.random.Generator, *, endings: bool = False) -> Path:
    """The 8-bar study with bars 1-4 repeated (``endings``: bar 4 a first ending, bar 5 the second)."""
    path = write_musicxml(make_piece(rng), tmp_path / "study.musicxml")
    text = path.read_text()
    if endings:
        text = re.sub(r'(<measure[^>]* number="4">)', r'\1<barline location="left"><ending number="1" '
                      r'type="start"/></barline>', text)
        text = re.sub(r'(<measure[^>]* number="4">.*?)(</measure>)', r'\1<barline location="right">'
                      r'<ending number="1" type="stop"/><repeat direction="backward"/></barline>\2', text,
                      flags=re.S)
        text = re.sub(r'(<measure[^>]* number="5">)', r'\1<barline location="left"><ending number="2" '
                      r'type="start"/></barline>', text)
        text = re.sub(r'(<measure[^>]* number="5">.*?)(</measure>)', r'\1<barline location="right">'
                      r'<ending number="2" type="discontinue"/></barline>\2', text, flags=re.S)
    else:
        text = re.sub(r'(<measure[^>]* number="4">.*?)(</measure>)', r'\1<barline location="right">'
                      r'<repeat direction="backward"/></barline>\2', text, flags=re.S)
    path.write_text(text)
    return path


def _take(path: Path, bars: list[int]) -> list[tuple[int, float, float, int]]:
    """The clean take playing the written bars ``bars`` in this order."""
    from yuefu.core.io import load_score

    rows = rows_of(load_score(path))
    out = []
    for k, b in enumerate(bars):
        out += [(p, on - (b - 1) * BAR_S + k * BAR_S, off - (b - 1) * BAR_S + k * BAR_S, v)
                for p, on, off, v in rows if (b - 1) * BAR_S - 1e-6 <= on < b * BAR_S - 1e-6]
    return out


def test_the_repeats_expanded_with_their_written_bar_numbers(rng, tmp_path) -> None:
    got = read_musicxml_as_played(_with_repeat(tmp_path, rng))
    assert got is not None
    played, measures = got
    assert [n for _, n in measures] == [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8]
    assert played.end_beat == 48.0
    ends = read_musicxml_as_played(_with_repeat(tmp_path / "..", np.random.default_rng(1), endings=True))
    assert ends is not None and [n for _, n in ends[1]] == [1, 2, 3, 4, 1, 2, 3, 5, 6, 7, 8]
    plain = write_musicxml(make_piece(rng), tmp_path / "plain.musicxml")
    assert read_musicxml_as_played(plain) is None


def test_a_repeat_played_as_written_is_no_restart(rng, tmp_path) -> None:
    path = _with_repeat(tmp_path, rng)
    a = assess(path, _take(path, [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8]))
    assert a.repeats is True
    assert a.summary()["correct"] == a.summary()["notes"] == 192 and not a.verdicts.events
    assert a.scores.fluency == 100.0
    d = a.to_dict()
    assert d["score"]["repeats"] is True
    assert [b["label"] for b in d["bars"]][3:6] == ["4", "1 (2nd time)", "2 (2nd time)"]
    once = assess(path, _take(path, [1, 2, 3, 4, 5, 6, 7, 8]))  # the repeat left out: fine too
    assert once.repeats is False and once.summary()["correct"] == 128 and not once.verdicts.events


def test_a_slip_the_second_time_through_is_named_so(rng, tmp_path) -> None:
    path = _with_repeat(tmp_path, rng)
    rows = _take(path, [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8])
    # a wrong note in bar 2, the second time: its right-hand notes start 5 bars in
    k = next(i for i, r in enumerate(rows) if r[1] >= 5 * BAR_S and r[0] >= 60)
    rows[k] = (rows[k][0] + 1, *rows[k][1:])
    a = assess(path, rows)
    wrong = [n for n in a.notes if n.verdict == "wrong_pitch"]
    assert len(wrong) == 1 and a.reference.bar_name(wrong[0].bar) == "2 (2nd time)"
    assert any(s.text.startswith("Bar 2 (2nd time), right hand: 1 wrong note") for s in a.suggestions), \
        [s.text for s in a.suggestions]
    page = render_html(a)
    assert "with the repeats played" in page and ">2′</div>" in page  # the strip's square for it


def test_first_and_second_endings(rng, tmp_path) -> None:
    path = _with_repeat(tmp_path, rng, endings=True)
    a = assess(path, _take(path, [1, 2, 3, 4, 1, 2, 3, 5, 6, 7, 8]))
    assert a.repeats is True and not a.verdicts.events
    assert a.summary()["correct"] == a.summary()["notes"]


def test_da_capo_al_fine_keeps_the_written_bar_numbers(tmp_path) -> None:
    def bar(n: int, step: str, extra: str = "") -> str:
        head = ('<attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time>'
                '</attributes>') if n == 1 else ""
        return (f'<measure number="{n}">{head}<note><pitch><step>{step}</step><octave>5</octave></pitch>'
                f"<duration>4</duration><type>whole</type></note>{extra}</measure>")

    fine = '<direction><direction-type><words>Fine</words></direction-type><sound fine="yes"/></direction>'
    dc = ('<direction><direction-type><words>D.C. al Fine</words></direction-type><sound dacapo="yes"/>'
          "</direction>")
    path = tmp_path / "dc.musicxml"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><score-partwise version="3.1"><part-list>'
                    '<score-part id="P1"><part-name>Piano</part-name></score-part></part-list><part id="P1">'
                    + bar(1, "C") + bar(2, "D", fine) + bar(3, "E") + bar(4, "F", dc)
                    + "</part></score-partwise>")
    got = read_musicxml_as_played(path)
    assert got is not None and [n for _, n in got[1]] == [1, 2, 3, 4, 1, 2]
    assert [n.pitch for n in got[0].tracks[0].notes] == [72, 74, 76, 77, 72, 74]


def test_slips_the_first_time_through_are_not_hidden(rng, tmp_path) -> None:
    path = _with_repeat(tmp_path, rng)
    rows = _take(path, [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8])
    # three wrong notes in bars 1-3 the first time through: read once, that pass would be set aside
    # as a restart's and its slips never reported
    right = [i for i, r in enumerate(rows) if r[0] >= 60 and r[1] < 3 * BAR_S]
    for k in right[2:20:7]:
        rows[k] = (rows[k][0] + 2, *rows[k][1:])
    a = assess(path, rows)
    assert a.repeats is True and a.summary()["wrong_pitch"] == 3
    assert {a.reference.bar_name(n.bar) for n in a.notes if n.verdict == "wrong_pitch"} <= {"1", "2", "3"}


def _live(path: Path, take: list[tuple[int, float, float, int]]):  # noqa: ANN202
    """Play ``take`` note by note into a live follower of ``path``: its live verdicts and the finish."""
    from yuefu.teach import StreamFollower

    live = StreamFollower(path)
    verdicts = []
    for _, p, on, _off, v in sorted([(on, p, on, off, v) for p, on, off, v in take]):
        verdicts.append(live.note_on(p, on, v))
    for p, _, off, _ in sorted(take, key=lambda r: r[2]):
        live.note_off(p, off)
    return verdicts, live.finish()


def test_live_mode_follows_a_repeat_played_and_one_left_out(rng, tmp_path) -> None:
    path = _with_repeat(tmp_path, rng, endings=True)
    # the repeat played, with its endings: no jump back, every note right, the second time labelled
    verdicts, a = _live(path, _take(path, [1, 2, 3, 4, 1, 2, 3, 5, 6, 7, 8]))
    assert not any(v.jumped for v in verdicts)
    assert {v.verdict for v in verdicts} == {"correct"}
    assert verdicts[-1].repeats is True and verdicts[-1].label == "8"
    second = [v for v in verdicts if v.label == "2 (2nd time)"]
    assert second and all(v.repeats for v in second)
    assert a.repeats is True and a.summary()["correct"] == len(a.notes) and not a.verdicts.events
    # a plain repeat left out: the score as written once, no skip, nothing missed
    (tmp_path / "plain").mkdir()
    plain = _with_repeat(tmp_path / "plain", np.random.default_rng(5))
    verdicts, a = _live(plain, _take(plain, list(range(1, 9))))
    assert not any(v.jumped for v in verdicts) and verdicts[-1].repeats is False
    assert a.repeats is False and not a.verdicts.events and a.summary()["missed"] == 0
    # and the same repeat played: the repeats' reading, no restart
    verdicts, a = _live(plain, _take(plain, [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8]))
    assert not any(v.jumped for v in verdicts) and a.repeats is True and not a.verdicts.events
