"""A MusicXML score's bars are its measures: a pickup measure is a bar of its own, and each bar is
named by its written number."""

from __future__ import annotations

from pathlib import Path

import pytest

from yuefu.core.errors import ParameterError
from yuefu.core.io.musicxml import read_musicxml_measures
from yuefu.teach import AssessConfig, assess

STEPS = ["C", "D", "E", "F", "G", "A", "B"]
PITCH = {"C": 72, "D": 74, "E": 76, "F": 77, "G": 79, "A": 81, "B": 83}


def _pickup_score(path: Path) -> Path:
    """4/4 at 120 bpm: a one-beat pickup (G4, measure 0), then measures 1-4 of four quarter notes."""
    def note(step: str, octave: int = 5) -> str:
        return (f"<note><pitch><step>{step}</step><octave>{octave}</octave></pitch><duration>1</duration>"
                "<type>quarter</type></note>")

    head = ('<attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time>'
            '</attributes><direction><direction-type><metronome><beat-unit>quarter</beat-unit>'
            '<per-minute>120</per-minute></metronome></direction-type><sound tempo="120"/></direction>')
    bars = [f'<measure number="0" implicit="yes">{head}{note("G", 4)}</measure>']
    for m in range(1, 5):
        notes = "".join(note(STEPS[(m + k) % 7]) for k in range(4))
        bars.append(f'<measure number="{m}">{notes}</measure>')
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><score-partwise version="3.1"><part-list>'
                    '<score-part id="P1"><part-name>Piano</part-name></score-part></part-list><part id="P1">'
                    + "".join(bars) + "</part></score-partwise>")
    return path


def _take(wrong_at: float | None = None) -> list[tuple[int, float, float, int]]:
    rows = [(67, 0.0, 0.48, 70)]
    for m in range(1, 5):
        for k in range(4):
            t = 0.5 + (m - 1) * 2.0 + k * 0.5
            p = PITCH[STEPS[(m + k) % 7]]
            slip = 1 if wrong_at is not None and abs(t - wrong_at) < 1e-6 else 0
            rows.append((p + slip, t, t + 0.48, 70))
    return rows


def test_the_measures_and_their_numbers(tmp_path) -> None:
    score, measures, played = read_musicxml_measures(_pickup_score(tmp_path / "pickup.musicxml"))
    assert measures == [(0.0, 0), (1.0, 1), (5.0, 2), (9.0, 3), (13.0, 4)] and played is None
    assert len(score.tracks[0].notes) == 17


def test_a_pickup_is_a_bar_of_its_own_and_bars_keep_their_written_numbers(tmp_path) -> None:
    path = _pickup_score(tmp_path / "pickup.musicxml")
    a = assess(path, _take(wrong_at=0.5 + 1.5))  # the last beat of written bar 1
    wrong = [n for n in a.notes if n.verdict == "wrong_pitch"]
    assert len(wrong) == 1 and a.reference.bar_name(wrong[0].bar) == "1"
    assert any(s.text.startswith("Bar 1, ") for s in a.suggestions), [s.text for s in a.suggestions]
    assert a.reference.bar_name(a.reference.first_bar) == "0 (the pickup)"
    assert a.reference.bar_starts[:3] == (0.0, 1.0, 5.0)
    d = a.to_dict()
    assert [b["label"] for b in d["bars"]] == ["0 (the pickup)", "1", "2", "3", "4"]
    assert [b["notes"] for b in d["bars"]] == [1, 4, 4, 4, 4]


def test_a_passage_is_chosen_by_its_written_bar_numbers(tmp_path) -> None:
    path = _pickup_score(tmp_path / "pickup.musicxml")
    take = [r for r in _take() if 0.5 + 2.0 <= r[1] < 0.5 + 6.0]  # written bars 2-3
    a = assess(path, take, config=AssessConfig(bars=(2, 3)))
    assert a.summary()["correct"] == a.summary()["notes"] == 8
    assert a.reference.bars_text(a.reference.first_bar, a.reference.first_bar + a.reference.n_bars - 1) \
        == "Bars 2–3"
    with pytest.raises(ParameterError, match="numbered 0-4"):
        assess(path, take, config=AssessConfig(bars=(7, 9)))
