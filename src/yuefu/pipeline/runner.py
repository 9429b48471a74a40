"""Pipeline files and the runner that executes them into a project folder.

A pipeline file is TOML::

    [pipeline]
    name = "example"
    stages = ["example", "render", "mix"]

    [spec]                 # optional: the SongSpec written to spec.toml
    theme = "lanterns on the river"
    seed = 7

    [stages.mix]           # optional: parameters of a stage, checked against its dataclass
    target_lufs = -14.0

Every stage writes its artefacts into the project folder (``spec.toml``, ``song.mid``,
``stems/``, ``song.wav``, ``report.json``, ...). ``start`` resumes from a named stage, reading
what earlier stages (or a person editing by hand) left there.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from yuefu.core.errors import OutputExistsError, ParameterError, PipelineError
from yuefu.core.files import atomic_output
from yuefu.core.spec import SongSpec
from yuefu.pipeline.stage import (
    ProgressCallback,
    ProgressEvent,
    StageContext,
    StageInfo,
    get_stage,
)

__all__ = ["Pipeline", "RunResult", "load_pipeline", "run_pipeline", "PIPELINE_VERSION"]

PIPELINE_VERSION = 1
_TOP_KEYS = {"pipeline", "spec", "stages"}
_PIPELINE_KEYS = {"name", "description", "stages", "version"}
_STAGING = ".yuefu-tmp"


@dataclass(frozen=True)
class Pipeline:
    """A validated pipeline: its stages in order with their parameters, and an optional spec."""

    name: str
    stages: tuple[StageInfo, ...]
    params: dict[str, Any]
    spec: SongSpec | None = None
    description: str = ""
    source: str = ""

    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def to_toml(self) -> str:
        """The resolved pipeline (every parameter spelled out), as TOML."""
        import dataclasses

        doc: dict[str, Any] = {"pipeline": {"name": self.name, "version": PIPELINE_VERSION,
                                            "stages": self.stage_names()}}
        if self.description:
            doc["pipeline"]["description"] = self.description
        if self.spec is not None:
            d = self.spec.to_dict()
            d.pop("version", None)
            doc["spec"] = d
        doc["stages"] = {
            name: {k: v for k, v in dataclasses.asdict(p).items() if v is not None}
            for name, p in self.params.items()
        }
        return tomli_w.dumps(doc)


@dataclass
class RunResult:
    """What a run did: the project folder, the stages that ran and their reports."""

    project: Path
    ran: list[str]
    seconds: dict[str, float]
    report: dict[str, Any] = field(default_factory=dict)


def load_pipeline(path: str | Path | None = None, *, text: str | None = None) -> Pipeline:
    """Read and validate a pipeline TOML file (or ``text``).

    Raises
    ------
    PipelineError
        Unknown section, key, stage or parameter (each named), or a wrong type.
    """
    source = str(path) if path is not None else "<pipeline>"
    if text is None:
        if path is None:
            raise ParameterError("give a pipeline file path or its text")
        p = Path(path)
        if not p.is_file():
            raise PipelineError(f"{p}: no such pipeline file")
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise PipelineError(f"{p}: not a text file; a pipeline is a TOML file") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PipelineError(f"{source}: not valid TOML ({e})") from None

    for key in doc:
        if key not in _TOP_KEYS:
            raise PipelineError(
                f"{source}: unknown section [{key}]; valid: {', '.join(sorted(_TOP_KEYS))}"
            )
    head = doc.get("pipeline")
    if not isinstance(head, dict):
        raise PipelineError(f"{source}: missing [pipeline] section with a list of stages")
    for key in head:
        if key not in _PIPELINE_KEYS:
            raise PipelineError(
                f"{source}: unknown key {key!r} in [pipeline]; valid: "
                + ", ".join(sorted(_PIPELINE_KEYS))
            )
    version = head.get("version", PIPELINE_VERSION)
    if version != PIPELINE_VERSION:
        raise PipelineError(f"{source}: pipeline version {version!r} is not supported (expected 1)")
    names = head.get("stages")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise PipelineError(f"{source}: [pipeline] stages must be a non-empty list of stage names")
    if len(set(names)) != len(names):
        raise PipelineError(f"{source}: a stage is listed twice in [pipeline] stages")
    stages = tuple(get_stage(n) for n in names)

    stage_params = doc.get("stages", {})
    if not isinstance(stage_params, dict):
        raise PipelineError(f"{source}: [stages] must be a table of per-stage tables")
    for key, val in stage_params.items():
        if key not in names:
            raise PipelineError(
                f"{source}: [stages.{key}] names a stage that is not in the pipeline; "
                f"stages: {', '.join(names)}"
            )
        if not isinstance(val, dict):
            raise PipelineError(f"{source}: [stages.{key}] must be a table of parameters")
    params = {s.name: s.params_from_dict(stage_params.get(s.name), source=source) for s in stages}

    spec = None
    if "spec" in doc:
        if not isinstance(doc["spec"], dict):
            raise PipelineError(f"{source}: [spec] must be a table")
        try:
            spec = SongSpec.from_dict(doc["spec"], source=f"{source} [spec]")
        except ParameterError as e:
            raise PipelineError(str(e)) from None

    _check_chain(stages, source)
    return Pipeline(str(head.get("name", Path(source).stem)), stages, params, spec,
                    str(head.get("description", "")), source)


def _check_chain(stages: tuple[StageInfo, ...], source: str) -> None:
    """Every stage's outputs are distinct from earlier stages' (one writer per artefact)."""
    writers: dict[str, str] = {}
    for s in stages:
        for out in s.outputs:
            if out in writers:
                raise PipelineError(
                    f"{source}: stages {writers[out]!r} and {s.name!r} both write {out}"
                )
            writers[out] = s.name


def _plan(pipeline: Pipeline, project: Path, start: str | None) -> list[StageInfo]:
    names = pipeline.stage_names()
    if start is None:
        todo = list(pipeline.stages)
    else:
        if start not in names:
            raise PipelineError(
                f"--from {start!r}: the pipeline has no such stage; stages: {', '.join(names)}"
            )
        todo = list(pipeline.stages[names.index(start):])
    produced: set[str] = set()
    if pipeline.spec is not None and start is None:
        produced.add("spec.toml")
    for s in todo:
        for inp in s.inputs:
            if inp not in produced and not (project / inp).exists():
                writer = next((w.name for w in pipeline.stages if inp in w.outputs), None)
                hint = (f"run from stage {writer!r} first" if writer
                        else "put the file there or add a stage that writes it")
                raise PipelineError(
                    f"stage {s.name!r} needs {project / inp}, which does not exist; {hint}"
                )
        produced.update(s.outputs)
    return todo


def _commit_outputs(stage_info: StageInfo, staging: Path, project: Path) -> None:
    """Move every declared output from the staging folder into the project."""
    for out in stage_info.outputs:
        src = staging / out
        if not src.exists():
            raise PipelineError(f"stage {stage_info.name!r} did not write its output {out}")
    for out in stage_info.outputs:
        src, dest = staging / out, project / out
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            old = None
            if dest.exists():
                old = dest.with_name(f".{dest.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(dest, old)
            os.replace(src, dest)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(src, dest)


def run_pipeline(
    pipeline: Pipeline | str | Path,
    project: str | Path,
    *,
    start: str | None = None,
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Run a pipeline into a project folder.

    Parameters
    ----------
    pipeline : Pipeline or path
        A loaded pipeline or the path of a pipeline TOML file.
    project : path
        The project folder. A new run refuses a folder that already holds files unless
        ``force``; a resumed run (``start``) uses what is there.
    start : str, optional
        Resume from this stage: earlier stages are skipped and their artefacts (perhaps edited
        by hand) are read from the folder.
    force : bool
        Start a new run in a folder that already holds a project, overwriting its artefacts.
    progress : callable, optional
        Called with a :class:`ProgressEvent` as the run advances.

    Returns
    -------
    RunResult
    """
    pipe = pipeline if isinstance(pipeline, Pipeline) else load_pipeline(pipeline)
    proj = Path(project)
    if proj.exists() and not proj.is_dir():
        raise ParameterError(f"{proj} is a file; the output of a run is a project folder")
    existed = proj.exists() and any(proj.iterdir())
    if start is None and existed and not force:
        raise OutputExistsError(
            f"{proj} already holds a project; resume with --from STAGE, or pass --force to "
            "start over"
        )
    if start is not None and not proj.is_dir():
        raise PipelineError(f"--from {start!r}: {proj} does not exist; run the whole pipeline first")
    todo = _plan(pipe, proj, start)
    created = not proj.exists()
    proj.mkdir(parents=True, exist_ok=True)

    weights = [max(s.weight, 1e-3) for s in todo]
    total_w = sum(weights)
    done_w = 0.0
    notify = progress or (lambda e: None)
    report = _read_report(proj) if start is not None else {}
    report.update({"pipeline": pipe.name, "yuefu_version": _version()})
    report.setdefault("stages", {})
    seconds: dict[str, float] = {}
    ran: list[str] = []
    committed_any = False
    try:
        if start is None:
            if pipe.spec is not None:
                with atomic_output(proj / "spec.toml", force=True) as tmp:
                    tmp.write_text(pipe.spec.dumps(), encoding="utf-8")
            with atomic_output(proj / "pipeline.toml", force=True) as tmp:
                tmp.write_text(pipe.to_toml(), encoding="utf-8")
            committed_any = True
        for i, info in enumerate(todo):
            staging = proj / f"{_STAGING}-{info.name}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            done_before = done_w

            def report_progress(frac: float, msg: str, *, _i: int = i, _b: float = done_before,
                                _w: float = weights[i], _n: str = info.name) -> None:
                notify(ProgressEvent(_n, _i, len(todo), (_b + frac * _w) / total_w, msg))

            base = Path(pipe.source).parent if pipe.source.endswith(".toml") else Path.cwd()
            ctx = StageContext(info.name, proj, staging, report_progress, base)
            notify(ProgressEvent(info.name, i, len(todo), done_before / total_w, "starting"))
            t0 = time.perf_counter()
            try:
                out = info.func(ctx, pipe.params[info.name]) or {}
                _commit_outputs(info, staging, proj)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            committed_any = True
            dt = time.perf_counter() - t0
            seconds[info.name] = dt
            ran.append(info.name)
            report["stages"][info.name] = {"seconds": round(dt, 3), **out}
            _write_report(proj, report)
            done_w += weights[i]
            notify(ProgressEvent(info.name, i, len(todo), done_w / total_w, "done",
                                 done=i == len(todo) - 1))
    except BaseException:
        if created and not committed_any:
            shutil.rmtree(proj, ignore_errors=True)
        raise
    return RunResult(proj, ran, seconds, report)


def _read_report(project: Path) -> dict[str, Any]:
    p = project / "report.json"
    if not p.exists():
        return {}
    with contextlib.suppress(ValueError, OSError):
        data = json.loads(p.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    return {}


def _write_report(project: Path, report: dict[str, Any]) -> None:
    with atomic_output(project / "report.json", force=True) as tmp:
        tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=_json_default),
                       encoding="utf-8")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _version() -> str:
    from yuefu import __version__

    return __version__
