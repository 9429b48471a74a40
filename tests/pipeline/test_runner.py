"""The pipeline engine: validation, artefacts, resume, atomicity, progress."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from yuefu.core.errors import OutputExistsError, ParameterError, PipelineError
from yuefu.pipeline import get_stage, list_stages, load_pipeline, run_pipeline, stage


@dataclass(frozen=True)
class _WordParams:
    word: str = "hello"
    times: int = 1
    gain_db: float = 0.0

    def __post_init__(self) -> None:
        if self.times < 1:
            raise ParameterError(f"times must be >= 1, got {self.times}")


@stage("t_write", params=_WordParams, outputs=("a.txt",))
def _t_write(ctx, params):
    """Write a word."""
    ctx.output("a.txt").write_text(params.word * params.times)
    ctx.progress(0.5, "half")
    return {"length": len(params.word) * params.times}


@stage("t_upper", params=_WordParams, inputs=("a.txt",), outputs=("b.txt", "parts/"))
def _t_upper(ctx, params):
    """Upper-case the word, and split it into a folder of letters."""
    text = ctx.input("a.txt").read_text()
    ctx.output("b.txt").write_text(text.upper())
    for i, ch in enumerate(text):
        ctx.output(f"parts/{i:03d}.txt").write_text(ch)
    return {"upper": text.upper()}


@dataclass(frozen=True)
class _NoParams:
    pass


@stage("t_fail", params=_NoParams, inputs=("b.txt",), outputs=("c.txt", "d.txt"))
def _t_fail(ctx, params):
    """Write one output, then fail."""
    ctx.output("c.txt").write_text("half")
    raise ParameterError("t_fail failed on purpose")


@stage("t_lazy", params=_NoParams, outputs=("e.txt",))
def _t_lazy(ctx, params):
    """Forget to write the declared output."""


PIPE = """
[pipeline]
name = "words"
stages = ["t_write", "t_upper"]

[stages.t_write]
word = "abc"
times = 2
"""


def _pipe(tmp_path: Path, text: str = PIPE) -> Path:
    p = tmp_path / "words.toml"
    p.write_text(text)
    return p


def test_run_writes_artefacts_and_report(tmp_path):
    proj = tmp_path / "proj"
    res = run_pipeline(_pipe(tmp_path), proj)
    assert res.ran == ["t_write", "t_upper"]
    assert (proj / "a.txt").read_text() == "abcabc"
    assert (proj / "b.txt").read_text() == "ABCABC"
    assert len(list((proj / "parts").iterdir())) == 6
    report = json.loads((proj / "report.json").read_text())
    assert report["pipeline"] == "words"
    assert report["stages"]["t_write"]["length"] == 6
    assert report["stages"]["t_upper"]["upper"] == "ABCABC"
    assert report["stages"]["t_write"]["seconds"] >= 0
    # the resolved pipeline is kept with the project, every parameter spelled out
    saved = load_pipeline(proj / "pipeline.toml")
    assert saved.params["t_write"].times == 2
    assert saved.params["t_upper"].word == "hello"
    # no staging folders are left behind
    assert not [p for p in proj.iterdir() if p.name.startswith(".")]


def test_existing_project_needs_force_or_from(tmp_path):
    proj = tmp_path / "proj"
    run_pipeline(_pipe(tmp_path), proj)
    (proj / "a.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="--from STAGE"):
        run_pipeline(_pipe(tmp_path), proj)
    assert (proj / "a.txt").read_text() == "mine"
    run_pipeline(_pipe(tmp_path), proj, force=True)
    assert (proj / "a.txt").read_text() == "abcabc"


def test_resume_after_hand_edit(tmp_path):
    proj = tmp_path / "proj"
    run_pipeline(_pipe(tmp_path), proj)
    (proj / "a.txt").write_text("xy")  # a person edits the first stage's artefact
    res = run_pipeline(_pipe(tmp_path), proj, start="t_upper")
    assert res.ran == ["t_upper"]
    assert (proj / "b.txt").read_text() == "XY"
    # the folder output was replaced as a whole, not merged with the old letters
    assert sorted(p.name for p in (proj / "parts").iterdir()) == ["000.txt", "001.txt"]
    report = json.loads((proj / "report.json").read_text())
    assert report["stages"]["t_write"]["length"] == 6  # kept from the first run
    assert report["stages"]["t_upper"]["upper"] == "XY"


def test_resume_needs_inputs(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    with pytest.raises(PipelineError, match=r"a\.txt.*run from stage 't_write' first"):
        run_pipeline(_pipe(tmp_path), proj, start="t_upper")
    with pytest.raises(PipelineError, match="no such stage"):
        run_pipeline(_pipe(tmp_path), proj, start="nope")
    with pytest.raises(PipelineError, match="does not exist"):
        run_pipeline(_pipe(tmp_path), tmp_path / "missing", start="t_upper")


def test_failed_stage_leaves_no_half_written_outputs(tmp_path):
    text = PIPE.replace('stages = ["t_write", "t_upper"]', 'stages = ["t_write", "t_upper", "t_fail"]')
    proj = tmp_path / "proj"
    with pytest.raises(ParameterError, match="on purpose"):
        run_pipeline(_pipe(tmp_path, text), proj)
    # the stages that succeeded keep their artefacts; the failed one wrote nothing
    assert (proj / "b.txt").exists()
    assert not (proj / "c.txt").exists()
    assert not [p for p in proj.iterdir() if p.name.startswith(".yuefu-tmp")]


def test_failure_in_first_stage_removes_new_folder(tmp_path):
    text = '[pipeline]\nstages = ["t_lazy"]\n'
    proj = tmp_path / "new"
    with pytest.raises(PipelineError, match="did not write its output e.txt"):
        run_pipeline(_pipe(tmp_path, text), proj)
    assert not proj.exists() or not (proj / "e.txt").exists()


def test_progress_events_are_monotonic_and_finish(tmp_path):
    events = []
    run_pipeline(_pipe(tmp_path), tmp_path / "proj", progress=events.append)
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == pytest.approx(1.0)
    assert events[-1].done
    assert {e.stage for e in events} == {"t_write", "t_upper"}
    assert any(e.message == "half" for e in events)


@pytest.mark.parametrize(
    "text, match",
    [
        ('[pipeline]\nstages = ["t_write"]\n[stages.t_write]\nwrod = "x"\n',
         r"stage 't_write' has no parameter 'wrod'; valid: word, times, gain_db"),
        ('[pipeline]\nstages = ["t_write"]\n[stages.t_write]\ntimes = "two"\n',
         r"parameter 'times' must be a whole number"),
        ('[pipeline]\nstages = ["t_write"]\n[stages.t_write]\ntimes = 0\n', r"times must be >= 1"),
        ('[pipeline]\nstages = ["t_write"]\n[stages.t_write]\ngain_db = true\n',
         r"'gain_db' must be a number"),
        ('[pipeline]\nstages = ["t_write", "nope"]\n', r"unknown stage 'nope'; available stages:"),
        ('[pipeline]\nstages = []\n', r"non-empty list"),
        ('[pipeline]\nstages = ["t_write"]\n[stages.t_upper]\nword = "x"\n',
         r"\[stages.t_upper\] names a stage that is not in the pipeline"),
        ('[pipeline]\nstages = ["t_write"]\ncolour = "red"\n', r"unknown key 'colour' in \[pipeline\]"),
        ('[pipelin]\nstages = ["t_write"]\n', r"unknown section \[pipelin\]"),
        ('[pipeline]\nstages = ["t_write"]\n[spec]\nemotion = "grumpy"\n',
         r"unknown emotion 'grumpy'; valid: happy"),
        ('[pipeline]\nstages = ["t_write"]\n[spec]\nmood = "x"\n', r"unknown key 'mood'"),
        ("this is = not [toml", r"not valid TOML"),
        ('[pipeline]\nstages = ["t_write", "t_write"]\n', r"listed twice"),
        ('[pipeline]\nversion = 9\nstages = ["t_write"]\n', r"version 9 is not supported"),
    ],
)
def test_invalid_pipeline_files(tmp_path, text, match):
    with pytest.raises(PipelineError, match=match):
        load_pipeline(_pipe(tmp_path, text))


def test_missing_pipeline_file(tmp_path):
    with pytest.raises(PipelineError, match="no such pipeline file"):
        load_pipeline(tmp_path / "none.toml")


def test_spec_section_writes_spec_toml(tmp_path):
    text = PIPE + '\n[spec]\ntheme = "rain"\nseed = 3\n'
    proj = tmp_path / "proj"
    run_pipeline(_pipe(tmp_path, text), proj)
    from yuefu.core.spec import SongSpec

    assert SongSpec.load(proj / "spec.toml") == SongSpec(theme="rain", seed=3)


def test_project_path_that_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ParameterError, match="is a file"):
        run_pipeline(_pipe(tmp_path), f)


def test_builtin_stages_are_registered():
    names = {s.name for s in list_stages()}
    assert {"example", "import", "render", "mix"} <= names
    mix = get_stage("mix")
    assert "stems/" in mix.inputs and "song.wav" in mix.outputs
    with pytest.raises(PipelineError, match="no parameter 'target'"):
        mix.params_from_dict({"target": -14})
    with pytest.raises(PipelineError, match="target_lufs must be -40..-5"):
        mix.params_from_dict({"target_lufs": 3})


def test_bundled_pipelines_are_valid():
    root = Path(__file__).resolve().parents[2] / "pipelines"
    files = sorted(root.glob("*.toml"))
    assert files, "pipelines/ holds no pipeline files"
    for f in files:
        pipe = load_pipeline(f)
        assert pipe.stages
