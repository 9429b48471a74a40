"""The `compose` and `continue` stages: a tiny random model saved to tmp, parameters checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from yuefu.core.errors import PipelineError
from yuefu.core.io import read_midi, write_midi
from yuefu.core.score import Note, Score, Tempo, TimeSignature, Track
from yuefu.pipeline import get_stage, load_pipeline, run_pipeline


def test_compose_stage_writes_the_score_artefacts(model_pt: Path, tmp_path: Path) -> None:
    text = f"""
[pipeline]
name = "c"
stages = ["compose"]
[spec]
theme = "spring morning"
emotion = "sad"
seed = 4
[stages.compose]
bars = 3
key = "D major"
chords = ["D", "-", "G"]
family_temperature = "pitch=0.9"
model = "{model_pt}"
"""
    res = run_pipeline(load_pipeline(text=text), tmp_path / "p")
    for name in ("song.mid", "song.musicxml", "lyrics.lrc"):
        assert (res.project / name).is_file()
    rep = res.report["stages"]["compose"]
    assert (rep["emotion"], rep["seed"], rep["bars"]) == ("sad", 4, 3)
    s = read_midi(res.project / "song.mid")
    assert s.key_at(0).name == "D major" and s.n_notes > 0
    assert all(n.onset < 12.0 for _, n in s.iter_notes())
    report = json.loads((res.project / "report.json").read_text())
    assert report["stages"]["compose"]["title"] == "Spring Morning"


def test_continue_stage_keeps_the_piece(model_pt: Path, tmp_path: Path) -> None:
    s = Score(tempos=[Tempo(0, 90.0)], time_signatures=[TimeSignature(0, 3, 4)])
    t = s.add_track(Track("lead", 73, role="melody"))
    t.notes += [Note(60 + 2 * i, float(i), 1.0, 80) for i in range(6)]
    src = write_midi(s, tmp_path / "mine.mid")
    text = f"""
[pipeline]
name = "c"
stages = ["continue"]
[stages.continue]
path = "mine.mid"
bars = 2
model = "{model_pt}"
"""
    pf = tmp_path / "c.toml"
    pf.write_text(text)
    res = run_pipeline(load_pipeline(pf), tmp_path / "p")
    out = read_midi(res.project / "song.mid").track("lead").notes
    assert out[:6] == read_midi(src).track("lead").notes
    assert all(6.0 <= n.onset < 12.0 for n in out[6:])
    assert res.report["stages"]["continue"]["bars"] == 2


@pytest.mark.parametrize("stage, params, needle", [
    ("compose", {"style": "jazz"}, "style must be one of"),
    ("compose", {"bars": 0}, "bars must be 1..256"),
    ("compose", {"meter": "5/4"}, "meter must be 4/4 or 3/4"),
    ("compose", {"tracks": ["drums"]}, "'drums' is not a part"),
    ("compose", {"family_temperature": "pich=1"}, "unknown token family 'pich'"),
    ("compose", {"top_p": 1.5}, "top_p"),
    ("compose", {"key": "H major"}, "H major"),
    ("compose", {"chords": ["C"] * 40}, "40 chords for 32 bars"),
    ("continue", {}, "needs path"),
    ("continue", {"path": "a.mid", "emotion": "angry"}, "emotion must be one of"),
])
def test_bad_parameters_are_refused_when_the_pipeline_is_read(stage: str, params: dict, needle: str) -> None:
    with pytest.raises(PipelineError, match=needle):
        get_stage(stage).params_from_dict(params)
