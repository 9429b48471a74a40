"""The built-in stages. Each is a thin adapter from project artefacts to one capability's API.

| stage     | reads                 | writes                                        |
|-----------|-----------------------|-----------------------------------------------|
| example   | spec.toml (optional)  | song.mid, song.musicxml, lyrics.lrc           |
| import    | a file you name       | song.mid, song.musicxml, lyrics.lrc           |
| compose   | spec.toml (optional)  | song.mid, song.musicxml, lyrics.lrc           |
| continue  | a file you name       | song.mid, song.musicxml, lyrics.lrc           |
| render    | song.mid              | stems/ (one WAV per track)                    |
| mix       | song.mid, stems/      | song.wav (mixed and mastered)                 |
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from yuefu.core.errors import ParameterError
from yuefu.pipeline.stage import StageContext, stage

__all__ = ["ExampleParams", "ImportParams", "RenderParams", "MixParams", "ComposeParams", "ContinueParams",
           "write_score_artefacts"]


def write_score_artefacts(ctx: StageContext, score: Any, *, sheet: Any = None) -> dict[str, Any]:
    """Write song.mid, song.musicxml (``sheet``, by default the whole score) and lyrics.lrc."""
    from yuefu.core.io import score_to_lrc, write_lrc, write_midi, write_musicxml

    write_midi(score, ctx.output("song.mid"), force=True)
    write_musicxml(score if sheet is None else sheet, ctx.output("song.musicxml"), force=True)
    ctx.progress(0.8, "score written")
    lines = score_to_lrc(score)
    write_lrc(lines, ctx.output("lyrics.lrc"), force=True, title=score.title or None)
    return {
        "title": score.title,
        "tracks": [{"name": t.name, "program": t.program, "role": t.role, "notes": len(t.notes),
                    "gain_db": t.gain_db, "pan": t.pan} for t in score.tracks],
        "duration_s": round(score.duration_s, 3),
        "lyric_lines": len(lines),
    }


@dataclass(frozen=True)
class ExampleParams:
    """Parameters of the bundled example piece (the seed and title come from spec.toml)."""

    key: str = "D major"
    tempo_bpm: float = 96.0

    def __post_init__(self) -> None:
        from yuefu.core.theory import Key

        k = Key.parse(self.key)
        if k.mode != "major":
            raise ParameterError(f"the example is written for a major key, got {self.key!r}")
        if not 40.0 <= self.tempo_bpm <= 220.0:
            raise ParameterError(f"tempo_bpm must be 40..220, got {self.tempo_bpm}")


@stage("example", params=ExampleParams, outputs=("song.mid", "song.musicxml", "lyrics.lrc"),
       weight=0.5)
def example_stage(ctx: StageContext, params: ExampleParams) -> dict[str, Any]:
    """Write the bundled six-track example song (a stand-in until the songwriter lands)."""
    from yuefu.core.spec import SongSpec
    from yuefu.pipeline.example import example_score

    seed, title = 0, "Lanterns on the River"
    if ctx.has("spec.toml"):
        spec = SongSpec.load(ctx.input("spec.toml"))
        seed, title = spec.seed, spec.theme.title()
    score = example_score(seed=seed, key=params.key, tempo_bpm=params.tempo_bpm, title=title)
    return {"seed": seed, **write_score_artefacts(ctx, score)}


@dataclass(frozen=True)
class ImportParams:
    """A score of your own (MIDI or MusicXML) to render; a relative path is taken from the
    pipeline file's folder."""

    path: str = ""

    def __post_init__(self) -> None:
        if not self.path:
            raise ParameterError("the import stage needs path = \"your.mid\" (MIDI or MusicXML)")


@stage("import", params=ImportParams, outputs=("song.mid", "song.musicxml", "lyrics.lrc"),
       weight=0.5)
def import_stage(ctx: StageContext, params: ImportParams) -> dict[str, Any]:
    """Bring a MIDI or MusicXML file of your own into the project."""
    from yuefu.core.io import load_score

    score = load_score(ctx.resolve(params.path))
    if score.n_notes == 0:
        raise ParameterError(f"{params.path}: the score has no notes; nothing to render")
    return {"source": params.path, **write_score_artefacts(ctx, score)}


@dataclass(frozen=True)
class RenderParams:
    """FluidSynth rendering: the SoundFont, the sample rate and the release tail."""

    soundfont: str | None = None
    sr: int = 44100
    tail_s: float = 2.0
    jobs: int = 1

    def __post_init__(self) -> None:
        if self.sr not in (22050, 32000, 44100, 48000, 88200, 96000):
            raise ParameterError(f"sr must be a standard rate such as 44100 or 48000, got {self.sr}")
        if not 0.0 <= self.tail_s <= 30.0:
            raise ParameterError(f"tail_s must be 0..30 seconds, got {self.tail_s}")
        if not 1 <= self.jobs <= 64:
            raise ParameterError(f"jobs must be 1..64, got {self.jobs}")


@stage("render", params=RenderParams, inputs=("song.mid",), outputs=("stems/",), weight=3.0)
def render_stage(ctx: StageContext, params: RenderParams) -> dict[str, Any]:
    """Render every track of song.mid to its own stem with FluidSynth."""
    from yuefu.core.io import read_midi
    from yuefu.render import render_stems

    score = read_midi(ctx.input("song.mid"))
    if score.n_notes == 0:
        raise ParameterError(f"{ctx.input('song.mid')} has no notes; nothing to render")
    stems = render_stems(score, ctx.output("stems/"), soundfont=params.soundfont, sr=params.sr,
                         tail_s=params.tail_s, jobs=params.jobs, force=True,
                         progress=ctx.progress)
    return {"stems": sorted(p.name for p in stems.values()), "sr": params.sr,
            "soundfont": params.soundfont or "FluidR3_GM (default)"}


@dataclass(frozen=True)
class MixParams:
    """Mixing and mastering: the loudness target and the true-peak ceiling."""

    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0

    def __post_init__(self) -> None:
        if not -40.0 <= self.target_lufs <= -5.0:
            raise ParameterError(f"target_lufs must be -40..-5 LUFS, got {self.target_lufs}")
        if not -6.0 <= self.ceiling_dbtp <= 0.0:
            raise ParameterError(f"ceiling_dbtp must be -6..0 dBTP, got {self.ceiling_dbtp}")


@stage("mix", params=MixParams, inputs=("song.mid", "stems/"), outputs=("song.wav",), weight=2.0)
def mix_stage(ctx: StageContext, params: MixParams) -> dict[str, Any]:
    """Mix the stems with per-track gain, pan, EQ, compression and reverb; master to song.wav."""
    from yuefu.core.io import read_midi
    from yuefu.render import MasterSettings, default_mix_settings, master_file, mix_stems

    score = read_midi(ctx.input("song.mid"))
    stem_dir = ctx.input("stems/")
    stems: dict[str, Path] = {}
    settings = {}
    for track in score.tracks:
        path = stem_dir / f"{_safe_name(track.name)}.wav"
        if path.exists():
            stems[track.name] = path
            settings[track.name] = default_mix_settings(track)
    extra = sorted(p for p in stem_dir.glob("*.wav") if p.stem not in
                   {_safe_name(t.name) for t in score.tracks})
    for p in extra:  # a stem a person added by hand (e.g. a recorded vocal) joins the mix
        stems[p.stem] = p
        settings[p.stem] = default_mix_settings(None)
    lead = score.lyric_track()
    if "vocal" in stems and lead is not None and lead.name != "vocal" and lead.name in stems:
        # the sing stage's vocal.wav sings the lyric track: it takes that track's place
        del stems[lead.name], settings[lead.name]
        settings["vocal"] = default_mix_settings(replace(lead, role="vocal"))
    if not stems:
        raise ParameterError(f"{stem_dir} holds no stems (.wav); run the render stage first")
    # the float premix lives in the stage's staging folder (on disk, beside the project; a
    # 30-minute premix is 635 MB, too big for a RAM-backed /tmp) and goes when the stage ends
    premix = ctx.staging / "premix.wav"
    mix_stems(stems, settings, premix, force=True,
              progress=ctx.part(0.0, 0.6))
    report = master_file(premix, ctx.output("song.wav"), force=True,
                         settings=MasterSettings(target_lufs=params.target_lufs,
                                                 ceiling_dbtp=params.ceiling_dbtp),
                         progress=ctx.part(0.6, 0.4))
    premix.unlink()
    return {"stems": sorted(stems), "loudness": report.to_dict()}


def _safe_name(name: str) -> str:
    from yuefu.render import stem_filename

    return Path(stem_filename(name)).stem


# -- the music language model (yuefu.compose.lm) ---------------------------------------------

_LM_TRACKS = ("melody", "accompaniment")


@dataclass(frozen=True)
class _LanguageModelParams:
    """Sampling parameters shared by ``compose`` and ``continue``."""

    seed: int | None = None
    temperature: float = 1.0
    top_p: float = 0.95
    family_temperature: str = ""
    family_top_p: str = ""
    repetition_penalty: float = 1.0
    max_repeat_bars: int = 2
    tracks: tuple[str, ...] = ()
    model: str | None = None

    def __post_init__(self) -> None:
        self.sampling()  # checks every sampling value
        for t in self.tracks:
            if t not in _LM_TRACKS:
                raise ParameterError(f"tracks: {t!r} is not a part the model writes; "
                                     f"valid: {', '.join(_LM_TRACKS)}")
        if self.seed is not None and self.seed < 0:
            raise ParameterError(f"seed must be >= 0, got {self.seed}")

    def sampling(self) -> Any:
        from yuefu.compose import SamplingConfig

        return SamplingConfig(
            temperature=self.temperature, top_p=self.top_p,
            temperatures=SamplingConfig.parse_families(self.family_temperature),
            top_ps=SamplingConfig.parse_families(self.family_top_p, what="top-p"),
            repetition_penalty=self.repetition_penalty, max_repeat_bars=self.max_repeat_bars)

    def model_path(self, ctx: StageContext) -> Path | None:
        return ctx.resolve(self.model) if self.model else None


def _check_condition(style: str | None, emotion: str | None) -> None:
    from yuefu.core.spec import EMOTIONS, STYLES

    if style is not None and style not in (*STYLES, "unknown"):
        raise ParameterError(f"style must be one of {', '.join(STYLES)} or unknown, got {style!r}")
    if emotion is not None and emotion not in (*EMOTIONS, "unknown"):
        raise ParameterError(f"emotion must be one of {', '.join(EMOTIONS)} or unknown, got {emotion!r}")


def _lm_report(res: Any) -> dict[str, Any]:
    import logging

    for w in res.warnings:
        logging.getLogger(__name__).warning("%s", w)
    return {"bars": res.bars, "stopped": res.stopped, "seconds": round(res.seconds, 3),
            "retried_bars": res.retried_bars, "warnings": list(res.warnings)}


@dataclass(frozen=True)
class ComposeParams(_LanguageModelParams):
    """A new piece from the music language model: style and emotion (default: spec.toml's), its
    length in bars, key, tempo, meter, bar-level chords (``["C", "Am", "-", "G"]``, ``"-"``
    free), sampling, and a model file of your own (default: the shipped one)."""

    style: str | None = None
    emotion: str | None = None
    bars: int = 32
    key: str | None = None
    tempo_bpm: float | None = None
    meter: str = "4/4"
    chords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_condition(self.style, self.emotion)
        if not 1 <= self.bars <= 256:
            raise ParameterError(f"bars must be 1..256, got {self.bars}")
        if self.meter not in ("4/4", "3/4"):
            raise ParameterError(f"meter must be 4/4 or 3/4 (what the model learned), got {self.meter!r}")
        if self.key is not None:
            from yuefu.core.theory import Key

            Key.parse(self.key)
        if self.tempo_bpm is not None and not 20.0 <= self.tempo_bpm <= 400.0:
            raise ParameterError(f"tempo_bpm must be 20..400, got {self.tempo_bpm}")
        if len(self.chords) > self.bars:
            raise ParameterError(f"{len(self.chords)} chords for {self.bars} bars")


@stage("compose", params=ComposeParams, outputs=("song.mid", "song.musicxml", "lyrics.lrc"), weight=1.0)
def compose_stage(ctx: StageContext, params: ComposeParams) -> dict[str, Any]:
    """Write a new piece (melody and piano) with the music language model."""
    from yuefu.compose import compose
    from yuefu.core.spec import SongSpec

    spec = SongSpec.load(ctx.input("spec.toml")) if ctx.has("spec.toml") else None
    style = params.style or (spec.style if spec else "pop")
    emotion = params.emotion or (spec.emotion if spec else "happy")
    seed = params.seed if params.seed is not None else (spec.seed if spec else 0)
    chords = [None if c in ("", "-") else c for c in params.chords] or None
    ctx.progress(0.05, "composing")
    res = compose(style, emotion, params.bars, key=params.key, tempo_bpm=params.tempo_bpm,
                  meter=params.meter, chords=chords, tracks=params.tracks or _LM_TRACKS, seed=seed,
                  sampling=params.sampling(), model=params.model_path(ctx),
                  title=spec.theme.title() if spec else "")
    return {"style": style, "emotion": emotion, "seed": seed, **_lm_report(res),
            **write_score_artefacts(ctx, res.score)}


@dataclass(frozen=True)
class ContinueParams(_LanguageModelParams):
    """Continue a piece of yours (续写; MIDI or MusicXML, 4/4 or 3/4; a relative path is taken
    from the pipeline file's folder) by ``bars`` bars; the piece is kept verbatim at the start."""

    path: str = ""
    bars: int = 16
    style: str = "unknown"
    emotion: str = "unknown"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.path:
            raise ParameterError("the continue stage needs path = \"your.mid\" (MIDI or MusicXML)")
        _check_condition(self.style, self.emotion)
        if not 1 <= self.bars <= 256:
            raise ParameterError(f"bars must be 1..256, got {self.bars}")


@stage("continue", params=ContinueParams, outputs=("song.mid", "song.musicxml", "lyrics.lrc"), weight=1.0)
def continue_stage(ctx: StageContext, params: ContinueParams) -> dict[str, Any]:
    """Continue a MIDI or MusicXML piece of yours with the music language model."""
    from yuefu.compose import continue_score
    from yuefu.core.io import load_score

    src = ctx.resolve(params.path)
    prompt = load_score(src)
    ctx.progress(0.05, "continuing")
    res = continue_score(prompt, params.bars, style=params.style, emotion=params.emotion,
                         tracks=params.tracks or None, seed=params.seed or 0,
                         sampling=params.sampling(), model=params.model_path(ctx), source=params.path)
    return {"source": params.path, "seed": params.seed or 0, **_lm_report(res),
            **write_score_artefacts(ctx, res.score)}
