"""`yuefu compose` and `yuefu continue` through main(argv), with a tiny random model saved to tmp."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from yuefu.cli import main
from yuefu.core.io import read_midi, write_midi
from yuefu.core.score import KeySignature, Note, Score, Tempo, TimeSignature, Track
from yuefu.core.theory import Key


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("yuefu: error: "), err
    assert "\n" not in err and "Traceback" not in err, err
    return err


def _prompt(bars: int = 2, meter: tuple[int, int] = (4, 4)) -> Score:
    s = Score(tempos=[Tempo(0, 96.0)], time_signatures=[TimeSignature(0, *meter)],
              key_signatures=[KeySignature(0, Key(7, "major"))])
    mel = s.add_track(Track("voice", 73, role="melody"))
    bar = meter[0] * 4 / meter[1]
    for b in range(bars):
        for i in range(meter[0]):
            mel.notes.append(Note((67, 69, 71, 74, 76)[i % 5], b * bar + i, 0.75, 90))
    return s.normalize()


def test_compose_writes_the_bars_asked_for(model_pt: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "piece.mid"
    argv = ["compose", "--style", "pop", "--emotion", "sad", "--bars", "4", "-o", str(out),
            "--model", str(model_pt), "--seed", "5", "--family-temperature", "pitch=0.8,duration=1.2",
            "--top-p", "0.9", "--repetition-penalty", "1.2", "--chords", "Am,-,F,G"]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {out}: 4 bars") and "A minor" in said and "72 BPM" in said
    s = read_midi(out)
    assert {t.name for t in s.tracks} <= {"melody", "piano"} and s.n_notes > 0
    assert all(n.onset < 16.0 for _, n in s.iter_notes())  # inside the 4 bars
    first = out.read_bytes()
    assert main(argv) == 2 and "already exists" in _one_line_error(capsys)
    assert main([*argv, "--force", "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert out.read_bytes() == first  # the same seed gives the same piece


def test_continue_keeps_the_prompt_verbatim(model_pt: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    src = write_midi(_prompt(2), tmp_path / "prompt.mid")
    out = tmp_path / "more.mid"
    assert main(["continue", str(src), "--bars", "3", "-o", str(out), "--model", str(model_pt),
                 "--seed", "1"]) == 0
    assert "+ 3 bars" in capsys.readouterr().out
    before = read_midi(src).track("voice").notes
    after = read_midi(out).track("voice").notes
    assert after[:len(before)] == before
    assert all(8.0 <= n.onset < 20.0 for n in after[len(before):])


def test_a_prompt_longer_than_the_context_uses_its_tail_with_a_warning(
        model_pt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_midi(_prompt(24), tmp_path / "long.mid")
    assert main(["continue", str(src), "--bars", "1", "-o", str(tmp_path / "o.mid"),
                 "--model", str(model_pt)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("yuefu: warning: ") and "longer than the model reads at once" in err
    assert main(["continue", str(src), "--bars", "1", "-o", str(tmp_path / "q.mid"),
                 "--model", str(model_pt), "-q"]) == 0
    assert capsys.readouterr() == ("", "")


def test_continue_key_and_chord_flags(model_pt: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """--key-strength 20 keeps every new note in the prompt's scale (G major) even with the
    random model; --chords free and --chord-strength go through."""
    src = write_midi(_prompt(2), tmp_path / "prompt.mid")
    g_major = {7, 9, 11, 0, 2, 4, 6}

    def new_pcs(*extra: str) -> list[int]:
        out = tmp_path / "o.mid"
        assert main(["continue", str(src), "--bars", "16", "-o", str(out), "--model", str(model_pt),
                     "--seed", "3", "--force", "-q", *extra]) == 0
        return [n.pitch % 12 for _, n in read_midi(out).iter_notes() if n.onset >= 8.0]

    held = new_pcs("--key-strength", "20")
    loose = new_pcs("--key-strength", "0", "--chords", "free")
    assert len(held) > 10 and set(held) <= g_major
    assert not set(loose) <= g_major
    assert new_pcs("--chords", "prompt", "--chord-strength", "3", "--chord-period", "1")
    capsys.readouterr()


@pytest.mark.parametrize("extra, needle", [
    (["--key-strength", "-1"], "key_strength must be 0..100"),
    (["--chord-strength", "0"], "chord_strength must be > 0"),
    (["--chord-period", "-2"], "chord_period_bars must be 0..64"),
    (["--chords", "loop"], "invalid choice: 'loop'"),
    (["--key-strength", "lots"], "invalid float value"),
])
def test_bad_continue_options_are_one_line_errors(extra: list[str], needle: str, model_pt: Path,
                                                  tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_midi(_prompt(2), tmp_path / "p.mid")
    out = tmp_path / "o.mid"
    assert main(["continue", str(src), "-o", str(out), "--model", str(model_pt), *extra]) == 2
    assert needle in _one_line_error(capsys)
    assert not out.exists()


def _drums() -> Score:
    return Score(tracks=[Track("kit", is_drum=True, role="drums", notes=[Note(36, 0, 1), Note(38, 1, 1)])])


@pytest.mark.parametrize("make, needle", [
    (lambda: Score(), "holds no notes"),
    (_drums, "only drum notes"),
    (lambda: _prompt(2, meter=(5, 4)), "5/4, a meter the model does not know"),
])
def test_bad_prompts_are_one_line_errors(make, needle: str, model_pt: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src = write_midi(make(), tmp_path / "p.mid")
    out = tmp_path / "o.mid"
    assert main(["continue", str(src), "-o", str(out), "--model", str(model_pt)]) == 2
    assert needle in _one_line_error(capsys)
    assert not out.exists()


@pytest.mark.parametrize("extra, needle", [
    (["--family-temperature", "pich=0.8"], "unknown token family 'pich'"),
    (["--family-top-p", "pitch:0.8"], "FAMILY=NUMBER"),
    (["--temperature", "0"], "temperature"),
    (["--bars", "0"], "bars must be 1..256"),
    (["--style", "jazz"], "unknown style 'jazz'"),
    (["--key", "H major"], "H major"),
    (["--chords", "C,Xq"], "Xq"),
    (["--key-strength", "200"], "key_strength must be 0..100"),
    (["--chord-strength", "nan"], "chord_strength must be > 0"),
])
def test_bad_compose_options_are_one_line_errors(extra: list[str], needle: str, model_pt: Path,
                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.mid"
    assert main(["compose", "--bars", "2", "-o", str(out), "--model", str(model_pt), *extra]) == 2
    assert needle in _one_line_error(capsys)
    assert not out.exists()


def test_corrupt_midi_and_missing_model_are_one_line_errors(model_pt: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    assert main(["continue", str(bad), "-o", str(tmp_path / "o.mid"), "--model", str(model_pt)]) == 2
    assert "bad.mid" in _one_line_error(capsys)
    assert main(["compose", "-o", str(tmp_path / "o.mid"), "--model", str(tmp_path / "none.pt")]) == 2
    assert "no such model file" in _one_line_error(capsys)


def test_no_shipped_model_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A build without the weights (a source tree before training) says so in one line."""
    pytest.importorskip("torch", reason="needs PyTorch (yuefu[ml])")
    pytest.importorskip("miditok", reason="needs miditok (yuefu[ml])")
    from yuefu.models import REGISTRY

    monkeypatch.delitem(REGISTRY, "compose_cp", raising=False)
    assert main(["compose", "-o", str(tmp_path / "o.mid")]) == 2
    assert "ships no trained music language model" in _one_line_error(capsys)


def test_missing_torch_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    assert main(["compose", "-o", str(tmp_path / "o.mid"), "--model", "x.pt"]) == 2
    assert "pip install 'yuefu[ml]'" in _one_line_error(capsys)


def test_the_shipped_model_composes_and_continues(tmp_path: Path) -> None:
    """The weights in the package: 4 bars in the requested key, then a continuation that keeps
    its prompt note for note."""
    pytest.importorskip("torch", reason="needs PyTorch (yuefu[ml])")
    pytest.importorskip("miditok", reason="needs miditok (yuefu[ml])")
    from yuefu.core.io import read_midi

    out = tmp_path / "a.mid"
    assert main(["compose", "--bars", "4", "--key", "D major", "--seed", "1", "-o", str(out), "-q"]) == 0
    a = read_midi(out)
    assert {t.name for t in a.tracks} <= {"melody", "piano"} and a.n_notes > 10
    assert 3.5 <= a.duration_s / (60.0 / a.tempos[0].bpm * 4) <= 4.5  # about 4 bars
    longer = tmp_path / "b.mid"
    assert main(["continue", str(out), "--bars", "4", "-o", str(longer), "-q"]) == 0
    b = read_midi(longer)
    for name in {t.name for t in a.tracks}:
        head = [(n.pitch, round(n.onset, 3)) for n in b.track(name).notes if n.onset < 16.0]
        assert head == [(n.pitch, round(n.onset, 3)) for n in a.track(name).notes]
    assert b.n_notes > a.n_notes
