"""The sing stage: a score of your own, sung over its accompaniment; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import soundfile as sf

from yuefu.cli import main
from yuefu.core.io import write_musicxml
from yuefu.core.score import Note, Score, Tempo, Track


def _song(lyrics: bool) -> Score:
    s = Score(tempos=[Tempo(0, 100)], title="mine")
    mel = s.add_track(Track("melody", program=73, role="melody"))
    piano = s.add_track(Track("piano", program=0, role="chords"))
    words = ["hel-", "lo", "my", "friend", "the", "sun", "is", "bright"]
    for i, (p, w) in enumerate(zip([64, 65, 67, 69, 67, 65, 64, 62], words, strict=True)):
        mel.notes.append(Note(p, float(i), 1.0, 90, lyric=w if lyrics else None))
    for bar in range(2):
        for q in (48, 55, 60):
            piano.notes.append(Note(q, bar * 4.0, 4.0, 70))
    return s


def _pipeline(tmp: Path, score_path: Path, voice: str = "male") -> Path:
    text = Path(__file__).resolve().parents[2].joinpath("pipelines", "sing.toml").read_text()
    text = text.replace('path = "song.musicxml"', f'path = "{score_path}"')
    text = text.replace('voice = "female"', f'voice = "{voice}"')
    p = tmp / "sing.toml"
    p.write_text(text)
    return p


def test_a_song_of_yours_is_sung_over_its_accompaniment(tmp_path: Path) -> None:
    src = write_musicxml(_song(lyrics=True), tmp_path / "mine.musicxml")
    out = tmp_path / "out"
    assert main(["run", str(_pipeline(tmp_path, src)), "-o", str(out), "-q"]) == 0
    st = json.loads((out / "report.json").read_text())["stages"]
    assert st["sing"]["track"] == "melody" and st["sing"]["voice"] == "male"
    assert st["sing"]["language"] == "en" and st["sing"]["notes"] == 8
    assert st["sing"]["warnings"] == []
    # the vocal took the melody instrument's place in the mix
    assert sorted(st["mix"]["stems"]) == ["piano", "vocal"]
    assert sf.info(str(out / "stems" / "vocal.wav")).channels == 1
    assert abs(st["mix"]["loudness"]["integrated_lufs"] + 14.0) <= 0.5


def test_a_song_without_lyrics_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    src = write_musicxml(_song(lyrics=False), tmp_path / "mine.musicxml")
    out = tmp_path / "out"
    assert main(["run", str(_pipeline(tmp_path, src)), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("yuefu: error: ") and "\n" not in err
    assert "no track with lyrics" in err
    assert not (out / "song.wav").exists()
