"""The `yuefu` command through main(argv): outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_errors import one_line_error as _one_line_error

from yuefu import __version__
from yuefu.cli import main
from yuefu.core.io import read_audio, read_midi, write_midi
from yuefu.core.score import KeySignature, Note, Score, Tempo, Track
from yuefu.core.theory import Key

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture
def small_mid(tmp_path) -> Path:
    s = Score(tempos=[Tempo(0, 120)], key_signatures=[KeySignature(0, Key.parse("G major"))])
    lead = s.add_track(Track("lead", program=73, role="melody"))
    lead.notes += [Note(p, i * 1.0, 1.0, lyric="la") for i, p in enumerate([67, 69, 71, 74])]
    bass = s.add_track(Track("bass", program=33, role="bass"))
    bass.notes += [Note(43, 0, 2.0), Note(38, 2.0, 2.0)]
    return write_midi(s, tmp_path / "small.mid")


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"yuefu {__version__}"


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: yuefu" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["dance"], "invalid choice"),
        (["render", "x.mid"], "-o/--output"),
        (["render", "missing.mid", "-o", "x.wav"], "no such MIDI file"),
        (["render", "small.txt", "-o", "x.wav"], "unsupported score format"),
        (["info", "missing.mid"], "no such"),
        (["info", "file.xyz"], "unknown file type"),
        (["loudness", "missing.wav"], "missing.wav"),
        (["run", "missing.toml", "-o", "out"], "no such pipeline file"),
        (["render", "--jobs", "many", "a.mid", "-o", "b.wav"], "invalid int value"),
    ],
)
def test_user_errors_are_one_line_exit_2(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.txt").write_text("hi")
    (tmp_path / "file.xyz").write_text("hi")
    assert main(argv) == 2
    assert needle in _one_line_error(capsys)


def test_info_score(small_mid, capsys):
    assert main(["info", str(small_mid)]) == 0
    out = capsys.readouterr().out
    assert "G major (signature)" in out and "lead" in out and "bass" in out
    assert main(["info", "--json", str(small_mid)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["notes"] == 6
    assert info["tempo_bpm"] == 120
    assert info["duration_s"] == pytest.approx(2.0)
    assert [t["name"] for t in info["tracks"]] == ["lead", "bass"]
    assert info["lyric_syllables"] == 4


def test_info_estimates_key_without_signature(tmp_path, capsys):
    s = Score()
    t = s.add_track(Track("piano"))
    # A natural minor scale and an A minor triad, weighted toward the tonic
    for i, p in enumerate([57, 59, 60, 62, 64, 65, 67, 69, 57, 60, 64, 57]):
        t.notes.append(Note(p, float(i), 2.0 if p % 12 == 9 else 1.0))
    path = write_midi(s, tmp_path / "am.mid")
    assert main(["info", "--json", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["key"] == "A minor (estimated)"


def test_render_writes_mastered_audio(small_mid, tmp_path, capsys):
    out = tmp_path / "small.wav"
    stems = tmp_path / "stems"
    assert main(["render", str(small_mid), "-o", str(out), "--stems", str(stems), "-q"]) == 0
    assert capsys.readouterr().out == ""  # -q prints nothing
    audio = read_audio(out)
    assert audio.sr == 44100 and audio.channels == 2
    assert audio.duration_s == pytest.approx(2.0 + 2.0, abs=0.05)  # the score plus the tail
    assert sorted(p.name for p in stems.iterdir()) == ["bass.wav", "lead.wav"]
    assert main(["loudness", "--json", str(out)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["integrated_lufs"] == pytest.approx(-14.0, abs=0.5)
    assert r["true_peak_dbtp"] <= -1.0 + 1e-6


def test_render_refuses_existing_output(small_mid, tmp_path, capsys):
    out = tmp_path / "keep.wav"
    out.write_bytes(b"precious")
    assert main(["render", str(small_mid), "-o", str(out)]) == 2
    assert "--force" in _one_line_error(capsys)
    assert out.read_bytes() == b"precious"
    assert main(["render", str(small_mid), "-o", str(out), "--force", "-q"]) == 0
    assert out.read_bytes() != b"precious"


def test_render_bad_soundfont_leaves_nothing(small_mid, tmp_path, capsys):
    out = tmp_path / "x.wav"
    assert main(["render", str(small_mid), "-o", str(out), "--soundfont", "nope.sf2"]) == 2
    assert "nope.sf2" in _one_line_error(capsys)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_render_absurd_target(small_mid, tmp_path, capsys):
    assert main(["render", str(small_mid), "-o", str(tmp_path / "x.wav"),
                 "--target-lufs", "12"]) == 2
    assert "-40" in _one_line_error(capsys)


def test_loudness_text(tmp_path, capsys):
    import soundfile as sf

    sr = 48000
    t = np.arange(sr * 5) / sr
    tone = 0.1 * np.sin(2 * np.pi * 1000 * t)
    sf.write(tmp_path / "tone.wav", np.stack([tone, tone], axis=1), sr, subtype="FLOAT")
    assert main(["loudness", str(tmp_path / "tone.wav")]) == 0
    out = capsys.readouterr().out
    for field in ("integrated", "short-term max", "loudness range", "true peak"):
        assert field in out
    # BS.1770 calibration: a 1 kHz sine at 0 dBFS in both channels reads 0 LUFS; -20 dBFS, -20
    assert main(["loudness", "--json", str(tmp_path / "tone.wav")]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["integrated_lufs"] == pytest.approx(-20.0, abs=0.2)


@pytest.mark.slow
def test_run_example_pipeline_and_resume(tmp_path, capsys):
    proj = tmp_path / "song"
    assert main(["run", str(ROOT / "pipelines" / "example.toml"), "-o", str(proj), "-q"]) == 0
    assert capsys.readouterr().out == ""
    for name in ("spec.toml", "pipeline.toml", "song.mid", "song.musicxml", "lyrics.lrc",
                 "song.wav", "report.json"):
        assert (proj / name).is_file(), name
    score = read_midi(proj / "song.mid")
    assert len(score.tracks) >= 5
    stems = sorted((proj / "stems").glob("*.wav"))
    assert len(stems) == len(score.tracks)
    report = json.loads((proj / "report.json").read_text())
    assert report["stages"]["mix"]["loudness"]["integrated_lufs"] == pytest.approx(-14, abs=0.5)
    assert report["stages"]["mix"]["loudness"]["true_peak_dbtp"] <= -1.0 + 1e-6

    # a second run into the same folder is refused, and nothing is touched
    before = (proj / "song.wav").stat().st_mtime_ns
    assert main(["run", str(ROOT / "pipelines" / "example.toml"), "-o", str(proj)]) == 2
    assert "--from" in _one_line_error(capsys)
    assert (proj / "song.wav").stat().st_mtime_ns == before

    # edit the arrangement by hand (mute the drums), resume from render
    edited = read_midi(proj / "song.mid")
    edited.tracks = [t for t in edited.tracks if not t.is_drum]
    write_midi(edited, proj / "song.mid", force=True)
    assert main(["run", str(ROOT / "pipelines" / "example.toml"), "-o", str(proj),
                 "--from", "render", "-q"]) == 0
    assert len(list((proj / "stems").glob("*.wav"))) == len(edited.tracks)
    report = json.loads((proj / "report.json").read_text())
    assert "example" in report["stages"]  # kept from the first run
    assert report["stages"]["mix"]["loudness"]["integrated_lufs"] == pytest.approx(-14, abs=0.5)


def test_run_from_unknown_stage(tmp_path, capsys):
    (tmp_path / "p").mkdir()
    assert main(["run", str(ROOT / "pipelines" / "example.toml"), "-o", str(tmp_path / "p"),
                 "--from", "sing"]) == 2
    assert "no such stage" in _one_line_error(capsys)


def test_stages_lists_parameters(capsys):
    assert main(["stages"]) == 0
    out = capsys.readouterr().out
    assert "render:" in out and "target_lufs" in out and "soundfont" in out


def test_progress_off_a_terminal_is_one_line_a_stage(capsys):
    from yuefu.cli import _Progress

    with _Progress(quiet=False, label="render") as prog:  # pytest's stderr is not a terminal
        for name, f in (("render", 0.1), ("render", 0.5), ("master", 0.9)):
            prog.stage(name, f)
    assert capsys.readouterr().err.splitlines() == ["render...", "render: master..."]
    with _Progress(quiet=True, label="render") as prog:
        prog.stage("render", 0.1)
    assert capsys.readouterr().err == ""
