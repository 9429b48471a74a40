"""`yuefu practice SCORE PERFORMANCE`: reports, JSON, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_errors import one_line_error as _one_line_error

from yuefu.cli import main
from yuefu.core.io import write_midi, write_musicxml
from yuefu.core.score import Note, Score, Tempo, Track

SCALE = [0, 2, 4, 5, 7, 9, 11]




def _piece(seed: int) -> Score:
    rng = np.random.default_rng(seed)
    s = Score(tempos=[Tempo(0, 100)], title="etude")
    rh, lh = s.add_track(Track("right")), s.add_track(Track("left"))
    deg = 7
    for i in range(48):
        deg = int(np.clip(deg + rng.choice([-2, -1, 1, 2]), 3, 13))
        rh.notes.append(Note(60 + 12 * (deg // 7) + SCALE[deg % 7], i * 0.5, 0.5, 80))
    for b in range(24):
        root = int(rng.choice([0, 5, 7, 9]))
        lh.notes += [Note(36 + root, float(b), 1.0, 70), Note(43 + root, float(b), 1.0, 70)]
    return s


def _played(score: Score, *, wrong: tuple[int, ...] = ()) -> Score:
    """The score played at 120 BPM (beats = seconds x 2) as one track, with wrong notes."""
    tm = score.tempo_map
    notes = sorted(((n.pitch, float(tm.to_seconds(n.onset)), float(tm.to_seconds(n.end)))
                    for t in score.tracks for n in t.notes), key=lambda r: (r[1], r[0]))
    p = Score(tempos=[Tempo(0, 120)])
    tr = p.add_track(Track("piano"))
    for i, (pitch, a, b) in enumerate(notes):
        tr.notes.append(Note(pitch + (1 if i in wrong else 0), 2 * a, 2 * (b - a) - 0.02, 75))
    return p


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    score = _piece(1)
    return (write_midi(score, tmp_path / "score.mid"),
            write_midi(_played(score, wrong=(10, 40)), tmp_path / "take1.mid"))


def test_practice_writes_html_and_prints_a_summary(files, tmp_path, capsys):
    score, perf = files
    out = tmp_path / "report.html"
    assert main(["practice", str(score), str(perf), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and "2 wrong" in text and "pitch 音准" in text
    page = out.read_text(encoding="utf-8")
    assert "<svg" in page and "viewport" in page


def test_practice_json_to_stdout_and_to_a_file(files, tmp_path, capsys):
    score, perf = files
    assert main(["practice", str(score), str(perf), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert sum(n["verdict"] == "wrong_pitch" for n in d["notes"]) == 2
    assert d["extra_notes"] == [] and len(d["notes"]) == 96
    out = tmp_path / "r.json"
    assert main(["practice", str(score), str(perf), "-o", str(out), "--json"]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text())["summary"]["wrong_pitch"] == 2


def test_practice_musicxml_score(files, tmp_path, capsys):
    _, perf = files
    xml = write_musicxml(_piece(1), tmp_path / "score.musicxml")
    assert main(["practice", str(xml), str(perf), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["summary"]["wrong_pitch"] == 2 and d["summary"]["missed"] == 0


def test_practice_keeps_an_existing_report(files, tmp_path, capsys):
    score, perf = files
    out = tmp_path / "report.html"
    out.write_text("keep me")
    assert main(["practice", str(score), str(perf), "-o", str(out)]) == 2
    assert "--force" in _one_line_error(capsys)
    assert out.read_text() == "keep me"
    assert main(["practice", str(score), str(perf), "-o", str(out), "--force", "-q"]) == 0
    assert capsys.readouterr().out == "" and "<svg" in out.read_text()


def _bad(tmp_path: Path, files: tuple[Path, Path], case: str) -> list[str]:
    score, perf = files
    if case == "missing score":
        return [str(tmp_path / "nope.mid"), str(perf)]
    if case == "missing performance":
        return [str(score), str(tmp_path / "nope.mid")]
    if case == "wrong kind":
        t = tmp_path / "notes.txt"
        t.write_text("C D E")
        return [str(score), str(t)]
    if case == "corrupt midi":
        t = tmp_path / "bad.mid"
        t.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x05")
        return [str(score), str(t)]
    if case == "silence":
        s = Score()
        s.add_track(Track("piano"))
        return [str(score), str(write_midi(s, tmp_path / "silent.mid"))]
    if case == "empty score":
        s = Score()
        s.add_track(Track("piano"))
        return [str(write_midi(s, tmp_path / "empty.mid")), str(perf)]
    if case == "different piece":
        return [str(score), str(write_midi(_played(_piece(77)), tmp_path / "other.mid"))]
    if case == "bad output":
        return [str(score), str(perf), "-o", str(tmp_path / "r.pdf")]
    if case == "bad bars":
        return [str(score), str(perf), "--bars", "x-3"]
    if case == "bars past the end":
        return [str(score), str(perf), "--bars", "40-50"]
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["missing score", "missing performance", "wrong kind", "corrupt midi",
                                  "silence", "empty score", "different piece", "bad output", "bad bars",
                                  "bars past the end"])
def test_practice_bad_input_is_one_line_and_exit_2(case, files, tmp_path, capsys):
    args = _bad(tmp_path, files, case)
    assert main(["practice", *args]) == 2
    err = _one_line_error(capsys)
    if case == "different piece":
        assert "different piece" in err
    if case == "silence":
        assert "no notes" in err
    if case == "empty score":
        assert "no notes" in err


def test_practice_audio_without_the_transcriber(files, tmp_path, capsys, monkeypatch):
    score, _ = files
    import soundfile as sf

    wav = tmp_path / "take.wav"
    sf.write(wav, np.zeros(8000, dtype=np.float32), 16000)
    monkeypatch.setitem(sys.modules, "yuefu.listen.transcribe", None)  # import fails
    assert main(["practice", str(score), str(wav)]) == 2
    err = _one_line_error(capsys)
    assert "transcriber" in err and "MIDI" in err
