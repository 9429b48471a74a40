"""Stages: named steps with declared inputs, outputs and a parameter dataclass.

A stage is a function ``f(ctx, params) -> dict | None`` registered with :func:`stage`. It reads
its inputs with ``ctx.input(name)`` (paths inside the project folder) and writes each output to
``ctx.output(name)`` (a path in a staging folder); the runner moves the outputs into the project
only when the stage succeeds, so a failure never leaves half-written artefacts. The dict it
returns goes into ``report.json`` under the stage's name.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class HelloParams:
...     word: str = "hello"
>>> @stage("hello_doc", outputs=("hello.txt",), params=HelloParams)
... def hello(ctx, params):
...     ctx.output("hello.txt").write_text(params.word)
>>> get_stage("hello_doc").params_from_dict({"word": "hi"})
HelloParams(word='hi')
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yuefu.core.errors import ParameterError, PipelineError

__all__ = ["StageInfo", "StageContext", "ProgressEvent", "stage", "get_stage", "list_stages"]


@dataclass(frozen=True)
class ProgressEvent:
    """Where a run stands: the stage, the fraction done overall (0..1) and a message."""

    stage: str
    index: int
    total: int
    fraction: float
    message: str = ""
    done: bool = False


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass
class StageContext:
    """What a running stage sees: the project folder, its staging folder and a progress hook."""

    name: str
    project: Path
    staging: Path
    _report_progress: Callable[[float, str], None] = field(default=lambda f, m: None)
    base: Path = field(default_factory=Path.cwd)

    def resolve(self, path: str | Path) -> Path:
        """A path from a stage parameter: ``~`` expanded, relative to the pipeline file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base / p

    def input(self, name: str) -> Path:
        """Path of an input artefact in the project folder; it must exist."""
        p = self.project / name
        if not p.exists():
            raise PipelineError(
                f"stage {self.name!r} needs {p}, which does not exist; run the stage that "
                "writes it first, or put your own file there"
            )
        return p

    def has(self, name: str) -> bool:
        """Whether an optional input artefact exists in the project folder."""
        return (self.project / name).exists()

    def output(self, name: str) -> Path:
        """Where to write an output artefact (a staging path; parent folders are created)."""
        p = self.staging / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress within the stage (0..1)."""
        self._report_progress(min(1.0, max(0.0, float(fraction))), message)

    def part(self, start: float, span: float) -> Callable[[float, str], None]:
        """A progress callback for a part of the stage: its 0..1 maps to start..start+span."""

        def report(fraction: float, message: str = "") -> None:
            self.progress(start + span * min(1.0, max(0.0, float(fraction))), message)

        return report


@dataclass(frozen=True)
class StageInfo:
    """A registered stage."""

    name: str
    func: Callable[[StageContext, Any], dict[str, Any] | None]
    params: type
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    description: str
    weight: float

    def params_from_dict(self, data: dict[str, Any] | None, *, source: str = "") -> Any:
        """Build the parameter dataclass, rejecting unknown keys and wrong types by name."""
        where = f"{source}: " if source else ""
        data = dict(data or {})
        flds = {f.name: f for f in dataclasses.fields(self.params)}
        hints = typing.get_type_hints(self.params)
        for key in data:
            if key not in flds:
                valid = ", ".join(flds) or "none"
                raise PipelineError(
                    f"{where}stage {self.name!r} has no parameter {key!r}; valid: {valid}"
                )
        kwargs = {k: _coerce(v, hints[k], f"{where}stage {self.name!r}, parameter {k!r}")
                  for k, v in data.items()}
        try:
            return self.params(**kwargs)
        except ParameterError as e:
            raise PipelineError(f"{where}stage {self.name!r}: {e}") from None

    def param_docs(self) -> list[tuple[str, str, Any]]:
        """(name, type, default) of each parameter."""
        hints = typing.get_type_hints(self.params)
        out = []
        for f in dataclasses.fields(self.params):
            default = f.default if f.default is not dataclasses.MISSING else None
            out.append((f.name, _type_name(hints[f.name]), default))
        return out


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check a TOML value against a dataclass field type (int is accepted for float)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, where)
            except PipelineError as e:
                errors.append(str(e))
        raise PipelineError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise PipelineError(f"{where} must be a list, got {value!r}")
        args = typing.get_args(tp)
        inner = args[0] if args else Any
        items = [_coerce(v, inner, where) for v in value]
        return tuple(items) if origin is tuple else items
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PipelineError(f"{where} must be a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PipelineError(f"{where} must be a whole number, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise PipelineError(f"{where} must be true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise PipelineError(f"{where} must be a string, got {value!r}")
        return value
    return value


_REGISTRY: dict[str, StageInfo] = {}


def stage(
    name: str,
    *,
    params: type,
    inputs: tuple[str, ...] = (),
    outputs: tuple[str, ...] = (),
    weight: float = 1.0,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a stage function under ``name``.

    Parameters
    ----------
    name : str
        Unique stage name (used in pipeline files and ``--from``).
    params : type
        A frozen dataclass whose fields (with defaults) are the stage's parameters.
    inputs, outputs : tuple of str
        Artefact paths relative to the project folder; a trailing ``/`` names a folder.
    weight : float
        Relative cost, used to estimate the time left.
    """
    if not dataclasses.is_dataclass(params):
        raise TypeError(f"stage {name!r}: params must be a dataclass")

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise ValueError(f"a stage named {name!r} is already registered")
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = StageInfo(name, func, params, tuple(inputs), tuple(outputs),
                                    doc[0] if doc else "", float(weight))
        return func

    return deco


def get_stage(name: str) -> StageInfo:
    """The registered stage called ``name``."""
    _load_builtin_stages()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise PipelineError(
            f"unknown stage {name!r}; available stages: {', '.join(sorted(_REGISTRY))}"
        ) from None


def list_stages() -> list[StageInfo]:
    """Every registered stage, by name."""
    _load_builtin_stages()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def _load_builtin_stages() -> None:
    import yuefu.pipeline.song  # noqa: F401  (registers the songwriter's stages)
    import yuefu.pipeline.stages  # noqa: F401  (registers the built-in stages)
