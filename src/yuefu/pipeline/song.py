"""The songwriter's stages and the ``yuefu song`` pipeline.

| stage    | reads                               | writes                                   |
|----------|-------------------------------------|------------------------------------------|
| motive   | spec.toml                           | motive.json                              |
| lyrics   | spec.toml, motive.json              | lyrics.txt, lyrics_candidates.json       |
| melody   | motive.json, lyrics.txt             | melody.mid                               |
| harmony  | motive.json, melody.mid             | chords.json                              |
| arrange  | motive.json, melody.mid, chords.json| song.mid, song.musicxml, lyrics.lrc      |

then ``render`` (see :mod:`yuefu.pipeline.stages`), then

| sing     | song.mid, stems/ (spec.toml if any) | stems/vocal.wav                          |

and ``mix``. ``sing`` runs after ``render`` because ``render`` rewrites the whole ``stems/``
folder; the sung vocal replaces the instrument that played the melody (the ``vocal`` track's
stem). Leave ``sing`` out (``yuefu song --instrumental``) and an instrument plays the melody.
Each artefact can be edited by hand and the song resumed from the next stage
(``yuefu run ... --from melody``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from yuefu.core.errors import ParameterError
from yuefu.core.spec import SongSpec
from yuefu.pipeline.stage import StageContext, stage

__all__ = ["MotiveParams", "LyricsParams", "MelodyParams", "HarmonyParams", "ArrangeParams",
           "SingParams", "SONG_STAGES", "INSTRUMENTAL_STAGES", "MELODY_ENGINES", "ARRANGE_ENGINES",
           "song_pipeline_text"]

SONG_STAGES = ("motive", "lyrics", "melody", "harmony", "arrange", "render", "sing", "mix")
#: ``yuefu song --instrumental``: an instrument plays the melody, nobody sings.
INSTRUMENTAL_STAGES = tuple(s for s in SONG_STAGES if s != "sing")


def _spec(ctx: StageContext) -> SongSpec:
    return SongSpec.load(ctx.input("spec.toml"))


def _motive(ctx: StageContext) -> Any:
    from yuefu.core.motive import Motive

    return Motive.load(ctx.input("motive.json"))


def _round(x: float) -> float | None:
    return None if x != x else round(float(x), 4)  # NaN -> None (JSON has no NaN)


@dataclass(frozen=True)
class MotiveParams:
    """Override the motive's choices: a key (``"E minor"``), a tempo, a meter (``"3/4"``), the
    melody's range (``"A3-E5"``)."""

    key: str | None = None
    tempo_bpm: float | None = None
    meter: str | None = None
    voice_range: str | None = None

    def __post_init__(self) -> None:
        from yuefu.core.theory import Key

        if self.key is not None and Key.parse(self.key).mode not in ("major", "minor"):
            raise ParameterError(f"key must be a major or minor key, got {self.key!r}")
        if self.tempo_bpm is not None and not 40 <= self.tempo_bpm <= 220:
            raise ParameterError(f"tempo_bpm must be 40..220, got {self.tempo_bpm}")
        if self.meter is not None and self.meter not in ("4/4", "3/4", "2/4", "6/8", "12/8"):
            raise ParameterError(f"meter must be 4/4, 3/4, 2/4, 6/8 or 12/8, got {self.meter!r}")
        if self.voice_range is not None:
            self.voice_pitches()

    def voice_pitches(self) -> tuple[int, int]:
        """``voice_range`` as MIDI pitches (low, high)."""
        from yuefu.core.theory import name_to_pitch

        parts = (self.voice_range or "").replace(" ", "").split("-")
        if len(parts) != 2:
            raise ParameterError(f"voice_range must look like 'A3-E5', got {self.voice_range!r}")
        lo, hi = (name_to_pitch(p) for p in parts)
        if hi - lo < 7:
            raise ParameterError(f"voice_range must span at least a fifth, got {self.voice_range!r}")
        return lo, hi


@stage("motive", params=MotiveParams, inputs=("spec.toml",), outputs=("motive.json",), weight=0.1)
def motive_stage(ctx: StageContext, params: MotiveParams) -> dict[str, Any]:
    """Choose key, tempo, meter, feel, palette, instruments and imagery from the request."""
    import dataclasses

    from yuefu.compose import choose_motive

    m = choose_motive(_spec(ctx))
    changes: dict[str, Any] = {}
    reasons = dict(m.reasons)
    if params.key:
        changes["key"] = params.key
        reasons["key"] = f"{params.key}: set in the pipeline"
    if params.tempo_bpm:
        changes["tempo_bpm"] = float(params.tempo_bpm)
        reasons["tempo_bpm"] = f"{params.tempo_bpm:g} BPM: set in the pipeline"
    if params.meter:
        num, den = (int(x) for x in params.meter.split("/"))
        changes["meter"] = (num, den)
        changes["feel"] = "compound" if den == 8 else ("straight" if m.feel == "compound" else m.feel)
        reasons["meter"] = f"{params.meter}: set in the pipeline"
    if params.voice_range:
        changes["voice_range"] = params.voice_pitches()
        reasons["voice_range"] = f"{params.voice_range}: set in the pipeline"
    if changes:
        m = dataclasses.replace(m, reasons=reasons, **changes)
    m.save(ctx.output("motive.json"))
    d = m.to_dict()
    return {k: d[k] for k in ("key", "tempo_bpm", "meter", "feel", "palette", "energy",
                              "instruments", "voice_range", "lexical_seeds", "reasons")}


@dataclass(frozen=True)
class LyricsParams:
    """Write lyrics (``candidates`` ranked, keep number ``pick``), or read yours from ``path``."""

    path: str | None = None
    candidates: int = 30
    pick: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.candidates <= 200:
            raise ParameterError(f"candidates must be 1..200, got {self.candidates}")
        if not 1 <= self.pick <= self.candidates:
            raise ParameterError(f"pick must be 1..candidates ({self.candidates}), got {self.pick}")


def fit_form(spec: SongSpec, motive: Any) -> tuple[Any, float]:
    """The song form whose sung length at the motive's tempo comes closest to ``spec.length_s``.

    Candidates: the lyric writer's forms (verse and chorus, up to verse, pre-chorus, chorus,
    verse, pre-chorus, chorus, bridge, chorus), the longest with a third verse (and its
    pre-chorus and chorus) before the bridge, and for short videos the chorus alone or a
    two-line verse into the chorus; each also with its last chorus sung twice. Each is timed by
    setting placeholder syllables to a melody at the motive's tempo (about 30 ms a form), plus
    about six bars of intro and outro.

    Returns
    -------
    form : tuple of SectionPlan
    estimate_s : float
        Its estimated length in seconds.
    """
    import dataclasses

    from yuefu.compose import write_melody
    from yuefu.lyrics import default_form

    bases = [tuple(default_form(spec.style, spec.language, length_s=length))
             for length in (30.0, 60.0, 120.0, 200.0)]
    longest = max(bases, key=len)
    verses = [p for p in longest if p.kind == "verse"]
    pre = [p for p in longest if p.kind == "pre-chorus"][:1]
    chorus = [p for p in longest if p.kind == "chorus"][:1]
    if verses and chorus:  # a third verse (with its pre-chorus and chorus) before the bridge
        at = next((i for i, p in enumerate(longest) if p.kind == "bridge"), len(longest))
        third = (dataclasses.replace(verses[-1], name="verse 3"), *pre, *chorus)
        bases.append(longest[:at] + third + longest[at:])
    shortest = min(bases, key=len)
    sc = [p for p in shortest if p.kind == "chorus"][:1]
    sv = [p for p in shortest if p.kind == "verse"][:1]
    if sc:  # for short videos: the chorus alone, or a two-line verse into the chorus
        bases.insert(0, tuple(sc))
        if sv and sv[0].n_lines > 2:
            v = sv[0]
            bases.insert(1, (dataclasses.replace(v, n_lines=2, syllables=v.syllables[:2],
                                                 rhyme_scheme=v.rhyme_scheme[:2]), sc[0]))
    forms: dict[tuple[str, ...], tuple[Any, ...]] = {}
    for base in bases:
        last = [p for p in base if p.kind == "chorus"][-1:]
        for form in (base, base + tuple(last)):  # the last chorus once, or sung twice
            forms[tuple(p.name for p in form)] = form

    syllable = "啦" if spec.language == "zh" else "la"
    bar_s = motive.bar_beats * 60.0 / motive.tempo_bpm
    best: tuple[float, tuple[Any, ...], float] | None = None
    for form in forms.values():
        sections = [(p.name, [[syllable] * n for n in p.syllables]) for p in form]
        est = write_melody(sections, motive, seed=0).duration_s + 6 * bar_s
        miss = abs(est - spec.length_s)
        if best is None or miss < best[0]:
            best = (miss, form, est)
    assert best is not None
    return best[1], best[2]


@stage("lyrics", params=LyricsParams, inputs=("spec.toml", "motive.json"),
       outputs=("lyrics.txt", "lyrics_candidates.json"), weight=1.0)
def lyrics_stage(ctx: StageContext, params: LyricsParams) -> dict[str, Any]:
    """Write ranked lyric candidates with the trained language model (or take a person's own)."""
    from yuefu.lyrics import Lyrics, LyricsRequest, write_lyrics

    spec = _spec(ctx)
    estimate_s: float | None = None
    if params.path:
        chosen = Lyrics.load(ctx.resolve(params.path), language=spec.language)
        candidates = [chosen]
    else:
        motive = _motive(ctx)
        form, estimate_s = fit_form(spec, motive)
        ctx.progress(0.05, "form chosen")
        req = LyricsRequest(theme=spec.theme, emotion=spec.emotion, style=spec.style,
                            language=spec.language, length_s=spec.length_s, seed=spec.seed,
                            seeds=tuple(motive.lexical_seeds) or None, form=form)
        candidates = write_lyrics(req, n=params.candidates,
                                  callback=lambda done, n: ctx.progress(0.05 + 0.95 * done / n))
        chosen = candidates[params.pick - 1]
    ctx.output("lyrics.txt").write_text(chosen.to_text(), encoding="utf-8")
    ctx.output("lyrics_candidates.json").write_text(json.dumps(
        [{"rank": i + 1, "score": round(c.score, 4), "text": c.to_text()}
         for i, c in enumerate(candidates)], ensure_ascii=False, indent=1), encoding="utf-8")
    return {"source": params.path or "generated", "candidates": len(candidates),
            "picked": 1 if params.path else params.pick,
            "form_estimate_s": None if estimate_s is None else round(estimate_s, 1),
            **chosen.report()}


#: The melody engines: the statistical writer (POP909 statistics, :func:`yuefu.compose.write_melody`)
#: and the music language model under per-syllable constraints
#: (:func:`yuefu.compose.write_melody_lm`, 4/4 only).
MELODY_ENGINES = ("stats", "model")
#: Who writes the piano (keys) part: the style's rules, or the music language model under the
#: melody (:func:`yuefu.compose.accompany`, 4/4 only; styles without a piano keep their rules).
ARRANGE_ENGINES = ("rules", "model")


def _check_engine(engine: str, valid: tuple[str, ...]) -> None:
    if engine not in valid:
        raise ParameterError(f"engine must be one of {', '.join(valid)}, got {engine!r}")


@dataclass(frozen=True)
class MelodyParams:
    """The melody writer (its seed is the spec's): ``engine = "stats"`` (the statistical writer)
    or ``"model"`` (the music language model, one note per syllable; 4/4 only), and the model
    file for ``"model"`` (default: the shipped one)."""

    engine: str = "stats"
    model: str | None = None

    def __post_init__(self) -> None:
        _check_engine(self.engine, MELODY_ENGINES)
        if self.model is not None and self.engine != "model":
            raise ParameterError("model is read only with engine = \"model\"")


@stage("melody", params=MelodyParams, inputs=("spec.toml", "motive.json", "lyrics.txt"),
       outputs=("melody.mid",), weight=0.3)
def melody_stage(ctx: StageContext, params: MelodyParams) -> dict[str, Any]:
    """Set the lyrics to a melody: one note per syllable, phrases, cadences, a higher chorus."""
    import time

    from yuefu.compose import in_key_ratio, tone_agreement, write_melody, write_melody_lm
    from yuefu.core.io import write_midi
    from yuefu.lyrics import Lyrics

    spec = _spec(ctx)
    motive = _motive(ctx)
    lyrics = Lyrics.load(ctx.input("lyrics.txt"), language=spec.language)
    sections = [(s.name, [list(line.syllables) for line in s.lines]) for s in lyrics.sections]
    t0 = time.perf_counter()
    if params.engine == "model":
        if tuple(motive.meter) != (4, 4):
            raise ParameterError(
                f"{ctx.input('motive.json')}: meter {motive.meter[0]}/{motive.meter[1]}, but the "
                "melody engine \"model\" writes 4/4 only; set meter = \"4/4\" in [stages.motive] "
                "(yuefu song --engine model does) or use engine = \"stats\"")
        melody = write_melody_lm(sections, motive, seed=spec.seed,
                                 model=ctx.resolve(params.model) if params.model else None)
    else:
        melody = write_melody(sections, motive, seed=spec.seed)
    seconds = time.perf_counter() - t0
    write_midi(melody, ctx.output("melody.mid"), force=True)
    vocal = melody.lyric_track()
    notes = vocal.notes if vocal else []
    n_syl = sum(len(line.syllables) for line in lyrics.lines)
    sung = sum(1 for n in notes if n.lyric and n.lyric != "-")
    pitches = [n.pitch for n in notes]
    return {
        "engine": params.engine,
        "seconds": round(seconds, 3),
        "syllables": n_syl,
        "syllables_with_a_note": sung,
        "melisma_notes": sum(1 for n in notes if n.lyric == "-"),
        "range": [min(pitches), max(pitches)] if pitches else None,
        "voice_range": list(motive.voice_range),
        "in_key_ratio": _round(in_key_ratio(melody)),
        "tone_agreement": _round(tone_agreement(melody)) if spec.language == "zh" else None,
    }


@dataclass(frozen=True)
class HarmonyParams:
    """Chords per bar (1 or 2; default: chosen per style and tempo)."""

    chords_per_bar: int | None = None

    def __post_init__(self) -> None:
        if self.chords_per_bar not in (None, 1, 2):
            raise ParameterError(f"chords_per_bar must be 1 or 2, got {self.chords_per_bar}")


def _read_chords(path: Path) -> list[Any]:
    from yuefu.core.score import ChordSymbol

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [ChordSymbol(float(c["beat"]), str(c["symbol"])) for c in data["chords"]]
    except (ValueError, KeyError, TypeError) as e:
        raise ParameterError(f"{path}: not a chords file (expected {{\"chords\": [{{\"beat\": 0, "
                             f"\"symbol\": \"C\"}}, ...]}}): {e}") from None


@stage("harmony", params=HarmonyParams, inputs=("spec.toml", "motive.json", "melody.mid"),
       outputs=("chords.json",), weight=0.2)
def harmony_stage(ctx: StageContext, params: HarmonyParams) -> dict[str, Any]:
    """Choose chords for the melody: functional progressions, chord tones on strong beats."""
    from yuefu.compose import chord_tone_ratio, harmonize
    from yuefu.core.io import read_midi

    spec = _spec(ctx)
    melody = read_midi(ctx.input("melody.mid"))
    chords = harmonize(melody, _motive(ctx), seed=spec.seed, chords_per_bar=params.chords_per_bar)
    ctx.output("chords.json").write_text(json.dumps(
        {"version": 1, "chords": [{"beat": c.beat, "symbol": c.symbol} for c in chords]},
        indent=1), encoding="utf-8")
    melody.chords = list(chords)
    return {"chords": len(chords), "chord_tone_ratio": _round(chord_tone_ratio(melody)),
            "progression": [c.symbol for c in chords[:16]]}


@dataclass(frozen=True)
class ArrangeParams:
    """Intro and outro length in bars (default: per style); who writes the piano part:
    ``engine = "rules"`` (the style's patterns) or ``"model"`` (the music language model under
    the melody, on the same chords; 4/4 only; styles without a piano part keep their rules),
    and the model file for ``"model"`` (default: the shipped one)."""

    intro_bars: int | None = None
    outro_bars: int | None = None
    engine: str = "rules"
    model: str | None = None

    def __post_init__(self) -> None:
        for name in ("intro_bars", "outro_bars"):
            v = getattr(self, name)
            if v is not None and not 0 <= v <= 16:
                raise ParameterError(f"{name} must be 0..16, got {v}")
        _check_engine(self.engine, ARRANGE_ENGINES)
        if self.model is not None and self.engine != "model":
            raise ParameterError("model is read only with engine = \"model\"")


@stage("arrange", params=ArrangeParams,
       inputs=("spec.toml", "motive.json", "melody.mid", "chords.json"),
       outputs=("song.mid", "song.musicxml", "lyrics.lrc"), weight=0.5)
def arrange_stage(ctx: StageContext, params: ArrangeParams) -> dict[str, Any]:
    """Arrange the song in its style (accompaniment, bass, drums, pads, intro, outro)."""
    from yuefu.arrange import arrange
    from yuefu.core.io import read_midi
    from yuefu.core.score import Score
    from yuefu.pipeline.stages import write_score_artefacts

    spec = _spec(ctx)
    melody = read_midi(ctx.input("melody.mid"))
    chords = _read_chords(ctx.input("chords.json"))
    motive = _motive(ctx)
    song = arrange(melody, chords, motive, seed=spec.seed, intro_bars=params.intro_bars,
                   outro_bars=params.outro_bars)
    song.title = song.title or spec.theme
    keys: dict[str, Any] = {"engine": params.engine}
    if params.engine == "model":
        from yuefu.arrange import keys_track_name, replace_keys
        from yuefu.compose import accompany

        name = keys_track_name(song, motive.style)
        if name is None:
            keys.update(track=None, note=f"{motive.style}: no piano part for the model to write (it "
                                         "plays in pop, ballad and children's songs); the style's own "
                                         "parts stay")
        else:
            if tuple(motive.meter) != (4, 4):
                raise ParameterError(
                    f"{ctx.input('motive.json')}: meter {motive.meter[0]}/{motive.meter[1]}, but the "
                    "arrange engine \"model\" writes 4/4 only; set meter = \"4/4\" in "
                    "[stages.motive] or use engine = \"rules\"")
            ctx.progress(0.2, "the model's piano part")
            import time

            t0 = time.perf_counter()
            piano = accompany(song, seed=spec.seed, style=motive.style, emotion=motive.emotion,
                              model=ctx.resolve(params.model) if params.model else None)
            song = replace_keys(song, name, piano.notes, feel=motive.feel)
            keys.update(track=name, notes=len(piano.notes), seconds=round(time.perf_counter() - t0, 3))
    vocal = song.lyric_track()
    lead_sheet = Score(tracks=[vocal] if vocal else [], tempos=song.tempos,
                       time_signatures=song.time_signatures, key_signatures=song.key_signatures,
                       chords=song.chords, sections=song.sections, title=song.title)
    return {"form": [s.name for s in song.sections], "keys": keys,
            **write_score_artefacts(ctx, song, sheet=lead_sheet)}


#: The sung vocal's loudness when there is no rendered melody stem to match (LUFS).
VOCAL_REFERENCE_LUFS = -20.0


@dataclass(frozen=True)
class SingParams:
    """The AI singer: the voice (default: the spec's) and the vocal's level.

    The sung vocal is set to the loudness of the instrument stem that played the melody (the
    level the mixer's defaults were made for), plus ``level_db``; the mixer's vocal strip then
    lifts it above the accompaniment."""

    voice: str | None = None
    level_db: float = 0.0

    def __post_init__(self) -> None:
        from yuefu.core.spec import VOICES

        if self.voice is not None and self.voice not in VOICES:
            raise ParameterError(f"voice must be one of {', '.join(VOICES)}, got {self.voice!r}")
        if not -24.0 <= self.level_db <= 24.0:
            raise ParameterError(f"level_db must be -24..24 dB, got {self.level_db}")


@stage("sing", params=SingParams, inputs=("song.mid", "stems/"), outputs=("stems/vocal.wav",),
       weight=2.0)
def sing_stage(ctx: StageContext, params: SingParams) -> dict[str, Any]:
    """Sing the lyrics of song.mid's vocal track; the vocal replaces the melody instrument."""
    import logging

    import numpy as np

    from yuefu.core.audio import Audio
    from yuefu.core.io import read_midi
    from yuefu.core.io.audio import write_audio
    from yuefu.render.fluidsynth import stem_filename
    from yuefu.render.loudness import measure_file, measure_loudness
    from yuefu.sing import sing

    spec = _spec(ctx) if ctx.has("spec.toml") else None  # a song of yours has no spec
    score = read_midi(ctx.input("song.mid"))
    track = score.lyric_track()
    if track is None:
        raise ParameterError(f"{ctx.input('song.mid')} has no track with lyrics; nothing to sing "
                             "(add lyrics to the melody, or leave the sing stage out)")
    voice = params.voice or (spec.voice if spec else "female")
    res = sing(score, voice=voice, lang=spec.language if spec else None, track=track.name)
    log = logging.getLogger(__name__)
    for w in res.warnings:
        log.warning("sing: %s", w)
    sung = measure_loudness(res.audio).integrated_lufs
    if not np.isfinite(sung):
        raise ParameterError("the sung vocal is silent; check the lyrics and the vocal track")
    ref_stem = ctx.input("stems/") / stem_filename(track.name)
    ref = measure_file(ref_stem).integrated_lufs if ref_stem.is_file() else float("nan")
    if not np.isfinite(ref):
        ref = VOCAL_REFERENCE_LUFS
    gain_db = ref + params.level_db - sung
    samples = res.audio.samples * np.float32(10.0 ** (gain_db / 20.0))
    write_audio(Audio(samples, res.audio.sr), ctx.output("stems/vocal.wav"), force=True,
                subtype="FLOAT")
    return {"track": track.name, "voice": voice, "language": res.lang,
            "notes": len(res.notes), "duration_s": round(res.audio.duration_s, 3),
            "loudness_lufs": round(ref + params.level_db, 2), "warnings": list(res.warnings)}


def song_pipeline_text(spec: SongSpec, *, lyrics_path: str | None = None, candidates: int = 30,
                       target_lufs: float = -14.0, voice_range: str | None = None,
                       instrumental: bool = False, engine: str = "stats",
                       model: str | None = None) -> str:
    """The ``yuefu song`` pipeline for a request, as pipeline-file TOML (``instrumental``: no
    singer, an instrument plays the melody).

    ``engine = "model"`` writes the melody and the piano part with the music language model
    (``[stages.melody] engine = "model"``, ``[stages.arrange] engine = "model"``) and, since the
    model writes 4/4 only, sets the motive's meter to 4/4 (``[stages.motive] meter = "4/4"``)
    whatever the style would choose; ``model`` is a model file of yours (default: the shipped
    one)."""
    if engine not in ("stats", "model"):
        raise ParameterError(f"engine must be stats or model, got {engine!r}")
    if model is not None and engine != "model":
        raise ParameterError("a model file is read only with the model engine (--engine model)")
    spec_d = spec.to_dict()
    spec_d.pop("version", None)
    doc: dict[str, Any] = {
        "pipeline": {"name": "song",
                     "stages": list(INSTRUMENTAL_STAGES if instrumental else SONG_STAGES),
                     "description": "theme -> motive -> lyrics -> melody -> harmony -> arrangement "
                                    "-> stems -> " + ("" if instrumental else "sung vocal -> ")
                                    + "mastered song"},
        "spec": spec_d,
        "stages": {"lyrics": {"candidates": candidates}, "mix": {"target_lufs": target_lufs}},
    }
    if lyrics_path:
        doc["stages"]["lyrics"]["path"] = str(Path(lyrics_path).resolve())
    if voice_range:
        doc["stages"]["motive"] = {"voice_range": voice_range}
    if engine == "model":
        doc["stages"].setdefault("motive", {})["meter"] = "4/4"
        for name in ("melody", "arrange"):
            doc["stages"][name] = {"engine": "model"}
            if model:
                doc["stages"][name]["model"] = str(Path(model).resolve())
    return tomli_w.dumps(doc)
