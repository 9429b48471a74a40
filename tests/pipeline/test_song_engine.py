"""`yuefu song --engine model`: the music language model writes the melody and the piano part;
the lyric alignment, determinism, resuming and the meter rule."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from yuefu.cli import main
from yuefu.core.io import read_lrc, read_midi, read_musicxml

pytest.importorskip("torch", reason="the music language model needs PyTorch (yuefu[ml])")
pytest.importorskip("miditok", reason="the music language model needs miditok (yuefu[ml])")

SYMBOLIC = ("motive", "lyrics", "melody", "harmony", "arrange")
ARTEFACTS = ("melody.mid", "chords.json", "song.mid", "song.musicxml", "lyrics.lrc")


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("yuefu: error: ") and "\n" not in err, err
    return err


def _syllables(project: Path) -> list[str]:
    from yuefu.lyrics import Lyrics

    spec = tomllib.loads((project / "spec.toml").read_text(encoding="utf-8"))
    lyrics = Lyrics.load(project / "lyrics.txt", language=spec["language"])
    return [s for line in lyrics.lines for s in line.syllables]


@pytest.fixture(scope="module")
def zh_song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole instrumental song with the shipped model (render and mix included)."""
    out = tmp_path_factory.mktemp("engine") / "zh"
    assert main(["song", "江南烟雨", "--lang", "zh", "--style", "ballad", "--emotion", "calm",
                 "--length-s", "30", "--seed", "2", "--engine", "model", "--instrumental",
                 "-o", str(out), "-q"]) == 0
    return out


def test_model_engine_song_keeps_every_syllable_on_its_note(zh_song: Path) -> None:
    st = json.loads((zh_song / "report.json").read_text())["stages"]
    assert st["melody"]["engine"] == "model" and st["arrange"]["keys"]["engine"] == "model"
    assert st["motive"]["meter"] == [4, 4]
    syl = _syllables(zh_song)
    melody = read_midi(zh_song / "melody.mid").lyric_track()
    assert melody is not None
    assert [n.lyric for n in sorted(melody.notes, key=lambda n: n.onset)] == syl
    assert st["melody"]["syllables_with_a_note"] == st["melody"]["syllables"] == len(syl)
    lo, hi = st["melody"]["voice_range"]
    assert lo <= st["melody"]["range"][0] and st["melody"]["range"][1] <= hi
    assert st["melody"]["in_key_ratio"] >= 0.9
    assert st["melody"]["tone_agreement"] >= 0.8
    # the same syllables on the same notes in the arrangement, the lead sheet and the LRC
    song = read_midi(zh_song / "song.mid")
    vocal = song.lyric_track()
    assert vocal is not None and [n.lyric for n in vocal.notes] == syl
    sheet = read_musicxml(zh_song / "song.musicxml").lyric_track()
    assert sheet is not None and [n.lyric for n in sheet.notes] == syl
    lrc = read_lrc(zh_song / "lyrics.lrc")
    assert "".join(line.text.replace(" ", "") for line in lrc) == "".join(syl)
    # the piano is the model's (a ballad has one), the bass and drums the style's
    assert st["arrange"]["keys"]["track"] == "piano" and st["arrange"]["keys"]["notes"] > 0
    assert {"bass", "drums", "piano"} <= {t.name for t in song.tracks}
    assert st["mix"]["loudness"]["integrated_lufs"] == pytest.approx(-14, abs=0.5)


def test_engine_is_recorded_and_resume_gives_the_same_song(zh_song: Path, tmp_path: Path) -> None:
    doc = tomllib.loads((zh_song / "pipeline.toml").read_text(encoding="utf-8"))
    assert doc["stages"]["melody"]["engine"] == "model"
    assert doc["stages"]["arrange"]["engine"] == "model"
    assert doc["stages"]["motive"]["meter"] == "4/4"
    copy = tmp_path / "copy"
    shutil.copytree(zh_song, copy)
    for name in ARTEFACTS:
        (copy / name).unlink()
    # exactly what a person runs after editing an artefact by hand
    assert main(["run", str(copy / "pipeline.toml"), "-o", str(copy), "--from", "melody", "-q"]) == 0
    for name in ARTEFACTS:  # the same seed: byte for byte the same artefacts
        assert (copy / name).read_bytes() == (zh_song / name).read_bytes(), name


def _symbolic_pipeline(tmp_path: Path, model_pt: Path, *, lang: str, meter: str | None = "4/4",
                       engine: str = "model", style: str = "pop") -> Path:
    import tomli_w

    from yuefu.core.spec import SongSpec
    from yuefu.pipeline.song import song_pipeline_text

    spec = SongSpec(theme="rain" if lang == "en" else "雨", emotion="sad", style=style, language=lang,
                    length_s=30.0, seed=4)
    doc = tomllib.loads(song_pipeline_text(spec, engine="model", model=str(model_pt), candidates=3))
    doc["pipeline"]["stages"] = list(SYMBOLIC)
    doc["stages"] = {k: v for k, v in doc["stages"].items() if k in SYMBOLIC}
    if meter is None:
        doc["stages"]["motive"].pop("meter")
    else:
        doc["stages"]["motive"]["meter"] = meter
    doc["stages"]["melody"]["engine"] = engine
    if engine != "model":
        doc["stages"]["melody"].pop("model")
    path = tmp_path / "pipeline.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_tiny_model_through_the_pipeline(tmp_path: Path, model_pt: Path, lang: str) -> None:
    """The melody and arrange stages with a model file of one's own (a tiny random one): every
    syllable gets exactly one note whatever the model wants."""
    pipe = _symbolic_pipeline(tmp_path, model_pt, lang=lang)
    out = tmp_path / "out"
    assert main(["run", str(pipe), "-o", str(out), "-q"]) == 0
    melody = read_midi(out / "melody.mid").lyric_track()
    assert melody is not None
    assert [n.lyric for n in sorted(melody.notes, key=lambda n: n.onset)] == _syllables(out)
    st = json.loads((out / "report.json").read_text())["stages"]
    assert st["melody"]["syllables_with_a_note"] == st["melody"]["syllables"]
    assert st["melody"]["melisma_notes"] == 0


def test_a_three_four_motive_with_the_model_engine_is_one_clear_error(
        tmp_path: Path, model_pt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipe = _symbolic_pipeline(tmp_path, model_pt, lang="en", meter="3/4")
    assert main(["run", str(pipe), "-o", str(tmp_path / "out"), "-q"]) == 2
    err = _err(capsys)
    assert "3/4" in err and "4/4 only" in err and "engine" in err


def test_a_hand_edited_motive_in_six_eight_is_refused_on_resume(
        tmp_path: Path, model_pt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipe = _symbolic_pipeline(tmp_path, model_pt, lang="en", engine="stats")
    out = tmp_path / "out"
    assert main(["run", str(pipe), "-o", str(out), "-q"]) == 0
    motive = json.loads((out / "motive.json").read_text())
    motive.update(meter=[6, 8], feel="compound")
    (out / "motive.json").write_text(json.dumps(motive))
    doc = tomllib.loads(pipe.read_text(encoding="utf-8"))
    doc["stages"]["melody"].update(engine="model", model=doc["stages"]["arrange"]["model"])
    import tomli_w

    pipe.write_text(tomli_w.dumps(doc), encoding="utf-8")
    assert main(["run", str(pipe), "-o", str(out), "--from", "melody", "-q"]) == 2
    assert "6/8" in _err(capsys)


@pytest.mark.parametrize("stage, value, needle", [
    ("melody", {"engine": "markov"}, "engine must be one of stats, model"),
    ("arrange", {"engine": "stats"}, "engine must be one of rules, model"),
    ("melody", {"engine": "stats", "model": "x.pt"}, "model is read only"),
])
def test_bad_engine_parameters(tmp_path: Path, model_pt: Path, capsys: pytest.CaptureFixture[str],
                               stage: str, value: dict[str, Any], needle: str) -> None:
    import tomli_w

    pipe = _symbolic_pipeline(tmp_path, model_pt, lang="en")
    doc = tomllib.loads(pipe.read_text(encoding="utf-8"))
    doc["stages"][stage] = value
    pipe.write_text(tomli_w.dumps(doc), encoding="utf-8")
    assert main(["run", str(pipe), "-o", str(tmp_path / "out"), "-q"]) == 2
    assert needle in _err(capsys)


def test_unknown_engine_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["song", "rain", "--engine", "gpt", "-o", str(tmp_path / "x"), "-q"]) == 2
    assert "--engine" in _err(capsys)


def test_styles_without_a_piano_keep_their_parts(tmp_path: Path, model_pt: Path) -> None:
    pipe = _symbolic_pipeline(tmp_path, model_pt, lang="en", style="rock")
    out = tmp_path / "out"
    assert main(["run", str(pipe), "-o", str(out), "-q"]) == 0
    keys = json.loads((out / "report.json").read_text())["stages"]["arrange"]["keys"]
    assert keys["engine"] == "model" and keys["track"] is None


def test_pipeline_text_records_the_engine() -> None:
    from yuefu.core.errors import ParameterError
    from yuefu.core.spec import SongSpec
    from yuefu.pipeline import load_pipeline
    from yuefu.pipeline.song import song_pipeline_text

    spec = SongSpec(theme="rain", style="folk")
    stats = tomllib.loads(song_pipeline_text(spec))
    assert "melody" not in stats["stages"] and "motive" not in stats["stages"]
    text = song_pipeline_text(spec, engine="model")
    doc = tomllib.loads(text)
    assert doc["stages"]["melody"] == {"engine": "model"} and doc["stages"]["arrange"] == {"engine": "model"}
    assert doc["stages"]["motive"] == {"meter": "4/4"}
    pipe = load_pipeline(text=text)
    assert pipe.params["melody"].engine == "model"
    with pytest.raises(ParameterError, match="engine"):
        song_pipeline_text(spec, engine="neural")
