"""Compose and continue with the music language model: the public entry points.

Importing this module needs neither PyTorch nor miditok; calling :func:`compose` or
:func:`continue_score` without them raises a :class:`~yuefu.core.errors.MissingDependencyError`
that says how to install them, and without trained weights a
:class:`~yuefu.core.errors.ModelLoadError` that says how to train them.
"""

from __future__ import annotations

import json
import math
import pickle
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.errors import MissingDependencyError, ModelLoadError, ParameterError
from yuefu.core.score import Score, Track
from yuefu.core.spec import EMOTIONS, STYLES
from yuefu.core.theory import Key, parse_chord

from .sampling import SamplingConfig

__all__ = ["Composition", "LanguageModel", "load_language_model", "compose", "continue_score",
           "MODEL_NAME", "CONFIG_NAME", "FORMAT", "CONTINUE_CHORDS"]

MODEL_NAME = "compose_cp"
CONFIG_NAME = "compose_cp_config"
FORMAT = "yuefu-compose-cp"
INSTALL_HINT = "pip install 'yuefu[ml]'"
#: Emotion -> (mode, tempo in BPM) when the request leaves them open.
EMOTION_DEFAULTS = {
    "happy": ("major", 112.0), "sad": ("minor", 72.0), "calm": ("major", 80.0),
    "excited": ("major", 126.0), "romantic": ("major", 76.0), "nostalgic": ("minor", 80.0),
    "epic": ("minor", 100.0), "playful": ("major", 116.0),
}
#: What :func:`continue_score` may do with chords: follow the prompt's progression, or not.
CONTINUE_CHORDS = ("prompt", "free")
#: Emotions the POP909 proxy labels do not have, mapped to the nearest one they do.
EMOTION_FALLBACK = {"romantic": "calm", "nostalgic": "sad", "epic": "excited", "playful": "happy"}


def require_ml() -> None:
    """Raise MissingDependencyError unless PyTorch and miditok import."""
    missing = []
    for mod in ("torch", "miditok"):
        try:
            __import__(mod)
        except ImportError:
            missing.append({"torch": "PyTorch", "miditok": "miditok"}[mod])
    if missing:
        raise MissingDependencyError(
            f"the music language model needs {' and '.join(missing)}, not installed: {INSTALL_HINT}")


@dataclass
class LanguageModel:
    """A loaded model: the torch module, its tokenizer and what it was trained on."""

    net: Any  # CompoundTransformer
    tok: Any  # CPTokenizer
    meta: dict[str, Any]

    @property
    def trained(self) -> dict[str, list[str]]:
        """Condition values seen in training (family -> values)."""
        return dict(self.meta.get("trained_conditions", {}))


@dataclass
class Composition:
    """What :func:`compose` and :func:`continue_score` return."""

    score: Score
    bars: int
    stopped: str  # "bars", "eos" or "max_rows"
    seconds: float
    warnings: list[str] = field(default_factory=list)
    retried_bars: int = 0


def _check_meter(lm: LanguageModel, meter: str, warnings: list[str]) -> None:
    """Warn when the model never saw ``meter`` in training (its tokens allow it)."""
    seen = lm.trained.get("meter")
    if seen and meter not in seen:
        warnings.append(f"this model was trained on {', '.join(seen)} only: music in {meter} is "
                        "outside what it learned and may wander")


def save_language_model(net: Any, tok: Any, folder: Path, *, name: str = "compose_cp",
                        meta: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
    """Write ``<name>.pt`` (a plain state_dict) and ``<name>.json`` (constructor arguments,
    tokenizer settings, ``meta``)."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    pt, js = folder / f"{name}.pt", folder / f"{name}.json"
    torch.save({k: v.detach().clone() for k, v in net.state_dict().items()}, pt)
    doc = {"format": FORMAT, "version": 1, "model": net.cfg.to_dict(),
           "tokenizer": tok.settings.to_dict(), **dict(meta or {})}
    js.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return pt, js


def load_language_model(path: str | Path | None = None) -> LanguageModel:
    """Load the shipped model (``path=None``, sha256-checked) or the ``.pt`` file at ``path``
    (its ``.json`` beside it).

    Raises
    ------
    MissingDependencyError
        PyTorch or miditok is not installed.
    ModelLoadError
        No trained model is shipped, or the files are missing, altered or malformed.
    """
    require_ml()
    import torch

    from .model import CompoundTransformer, ModelConfig
    from .tokens import CPTokenizer, TokenizerSettings

    if path is None:
        from yuefu.models import REGISTRY, verified_path

        if MODEL_NAME not in REGISTRY:
            raise ModelLoadError(
                "this version of yuefu ships no trained music language model yet; train one with "
                "`python train/compose.py` (about 3 hours on a laptop CPU) and pass its .pt file "
                "(--model FILE)")
        pt, js = verified_path(MODEL_NAME), verified_path(CONFIG_NAME)
    else:
        pt = Path(path)
        if pt.is_dir():
            pt = pt / f"{MODEL_NAME}.pt"
        js = pt.with_suffix(".json")
        for p in (pt, js):
            if not p.is_file():
                raise ModelLoadError(f"{p}: no such model file; write one with `python train/compose.py`")
    try:
        doc = json.loads(js.read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {FORMAT!r}")
        cfg = ModelConfig.from_dict(doc["model"])
        tok = CPTokenizer(TokenizerSettings.from_dict(doc["tokenizer"]))
        if tuple(tok.sizes) != tuple(cfg.vocab_sizes):
            raise ValueError(f"vocabulary sizes {tok.sizes} differ from the model's {cfg.vocab_sizes}")
        net = CompoundTransformer(cfg)
        state = torch.load(pt, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, ParameterError,
            pickle.UnpicklingError) as e:
        why = " ".join(str(e).split())[:300]
        raise ModelLoadError(f"{pt}: not a usable compose model ({why}); rebuild it with "
                             "`python train/compose.py`") from None
    net.eval()
    return LanguageModel(net, tok, doc)


def _model(model: LanguageModel | str | Path | None) -> LanguageModel:
    if isinstance(model, LanguageModel):
        return model
    return load_language_model(model)


def _cond_values(lm: LanguageModel, style: str, emotion: str, warnings: list[str]) -> tuple[str, str]:
    if style not in (*STYLES, "unknown"):
        raise ParameterError(f"unknown style {style!r}; valid: {', '.join(STYLES)}")
    if emotion not in (*EMOTIONS, "unknown"):
        raise ParameterError(f"unknown emotion {emotion!r}; valid: {', '.join(EMOTIONS)}")
    trained = lm.trained
    if style != "unknown" and trained.get("style") and style not in trained["style"]:
        warnings.append(f"the model learned only {', '.join(trained['style'])}; style {style!r} "
                        "is not a condition it knows, so it writes without one")
        style = "unknown"
    if emotion != "unknown" and trained.get("emotion") and emotion not in trained["emotion"]:
        emotion = EMOTION_FALLBACK.get(emotion, "unknown")
        if emotion not in trained["emotion"]:
            emotion = "unknown"
    return style, emotion


def _chord_constraints(lm: LanguageModel, chords: Sequence[str | None] | Mapping[int, str] | None,
                       shift: int, bars: int) -> dict[int, str]:
    from .tokens import chord_label

    if chords is None:
        return {}
    items = chords.items() if isinstance(chords, Mapping) else enumerate(chords)
    out = {}
    for bar, sym in items:
        if sym is None:
            continue
        if not 0 <= int(bar) < bars:
            raise ParameterError(f"chord constraint for bar {int(bar) + 1}, outside the {bars} bars "
                                 "asked for")
        ch = parse_chord(str(sym))
        out[int(bar)] = chord_label(ch.root + shift, ch.quality)
    return out


def compose(style: str = "pop", emotion: str = "happy", bars: int = 32, *, key: str | Key | None = None,
            tempo_bpm: float | None = None, meter: str = "4/4",
            chords: Sequence[str | None] | Mapping[int, str] | None = None,
            tracks: Sequence[str] = ("melody", "accompaniment"), seed: int = 0,
            sampling: SamplingConfig | None = None,
            model: LanguageModel | str | Path | None = None, title: str = "") -> Composition:
    """Write a new piece with the music language model.

    Parameters
    ----------
    style, emotion : str
        Conditions (see :data:`yuefu.core.spec.STYLES`, ``EMOTIONS``). Values the model was not
        trained on are mapped to the nearest it knows, or to none, with a warning.
    bars : int
        Length in bars (1..256).
    key : str or Key, optional
        Default: C major, or A minor for a minor-leaning emotion.
    tempo_bpm : float, optional
        Default by emotion.
    meter : str
        ``"4/4"`` or ``"3/4"``.
    chords : sequence of chord symbols (one per bar, None = free) or mapping bar -> symbol, optional
        Bar-level chord constraints (``["C", "Am", "F", "G"]``).
    tracks : sequence of str
        ``("melody", "accompaniment")``, or one of them.
    seed : int
        The same seed (and model) gives the same piece.
    sampling : SamplingConfig, optional
        By default chords are pulled by 2 nats towards those of 8 bars before
        (``chord_period_bars``, ``chord_strength``), which makes progressions repeat as songs
        do (unique chord trigrams 85% -> 72%; real POP909 65%); ``chord_period_bars=0``
        turns it off. ``chords`` constraints win over it.
    model : LanguageModel or path, optional
        Default: the shipped weights.

    Returns
    -------
    Composition
        ``.score``: tracks ``melody`` (GM 73) and ``piano`` with chord symbols, key, tempo, meter.
    """
    from .convert import key_shift, rows_to_score
    from .sampling import generate
    from .tokens import Conditions

    if not 1 <= int(bars) <= 256:
        raise ParameterError(f"bars must be 1..256, got {bars}")
    lm = _model(model)
    t0 = time.perf_counter()
    warnings: list[str] = []
    style_c, emotion_c = _cond_values(lm, style, emotion, warnings)
    _check_meter(lm, meter, warnings)
    mode_default, tempo_default = EMOTION_DEFAULTS.get(emotion, ("major", 100.0))
    k = key if isinstance(key, Key) else Key.parse(key) if key else Key(0 if mode_default == "major" else 9,
                                                                          mode_default)
    shift, mode = key_shift(k)
    tempo = float(tempo_bpm if tempo_bpm is not None else tempo_default)
    cond = Conditions(style=style_c, emotion=emotion_c, mode=mode, tempo_bpm=tempo, meter=meter)
    prompt = lm.tok.cond_row(cond)[None]
    res = generate(lm.net, lm.tok, prompt, bars=int(bars), positions_per_bar=cond.positions_per_bar,
                   sampling=sampling, rng=np.random.default_rng(seed),
                   chords=_chord_constraints(lm, chords, shift, int(bars)), tracks=tracks)
    score = rows_to_score(lm.tok, res.rows, meter=meter, key=k, shift=shift, tempo_bpm=tempo, title=title)
    return Composition(score, res.bars, res.stopped, time.perf_counter() - t0,
                       warnings + res.warnings, res.retried_bars)


def continue_score(prompt: Score, bars: int = 16, *, style: str = "unknown", emotion: str = "unknown",
                   tracks: Sequence[str] | None = None, chords: str = "prompt", seed: int = 0,
                   sampling: SamplingConfig | None = None,
                   model: LanguageModel | str | Path | None = None,
                   source: str = "the prompt") -> Composition:
    """Continue a person's melody or piano piece (续写) in its key, meter and tempo.

    The prompt is kept verbatim at the start of the output; the continuation starts at the bar
    line after its last note and fills ``bars`` bars. A prompt longer than the model's context
    is read from its last bars that fit (a warning says so).

    Parameters
    ----------
    prompt : Score
        Pitched notes in 4/4 or 3/4 (drum tracks are kept but not read).
    bars : int
        Bars to add (1..256).
    tracks : sequence of str, optional
        Which parts to write: by default those the prompt has (its melody — a track with role
        melody, vocal or lead, or a lone monophonic track — and/or its other pitched tracks).
    chords : {"prompt", "free"}
        ``"prompt"`` (default): the continuation cycles the chord progression of the prompt's
        last ``sampling.chord_period_bars`` bars (8, or all of a shorter prompt), forced unless
        ``sampling.chord_strength`` says how many nats to pull by; the prompt's chord symbols,
        or chords estimated from its notes when it has none
        (:func:`~yuefu.compose.lm.convert.estimate_chords`). This keeps the prompt's key: 77%
        of continuations of POP909 prompts keep their Krumhansl key (69% with estimated
        chords), against 43% free (real continuations: 61%). ``"free"``: the model chooses its own chords.
    sampling : SamplingConfig, optional
        ``key_strength`` (default 0) penalises notes outside the key's scale.

    Raises
    ------
    ParameterError
        An empty or drum-only prompt, a meter other than 4/4 and 3/4, a meter change, an
        unknown ``chords``.

    Examples
    --------
    >>> from yuefu.core.io import load_score
    >>> res = continue_score(load_score("prompt.mid"), 16, seed=1)  # doctest: +SKIP
    >>> res.score.end_beat  # doctest: +SKIP
    """
    from .convert import prepare_prompt, rows_to_score
    from .sampling import generate
    from .tokens import BAR, FI, Conditions

    if not 1 <= int(bars) <= 256:
        raise ParameterError(f"bars must be 1..256, got {bars}")
    if chords not in CONTINUE_CHORDS:
        raise ParameterError(f"chords must be one of {', '.join(CONTINUE_CHORDS)}, got {chords!r}")
    sampling = sampling or SamplingConfig()
    prep = prepare_prompt(prompt, source=source)
    lm = _model(model)
    t0 = time.perf_counter()
    warnings = list(prep.warnings)
    style_c, emotion_c = _cond_values(lm, style, emotion, warnings)
    _check_meter(lm, prep.meter, warnings)
    cond = Conditions(style=style_c, emotion=emotion_c, mode=prep.mode,
                      tempo_bpm=float(np.clip(prep.tempo_bpm, 20, 400)), meter=prep.meter)
    rows = lm.tok.encode(prep.symbolic, cond=cond, chords=prep.chords, eos=False)
    n_bar_rows = int(np.sum(rows[:, FI["type"]] == BAR))
    if prep.bars > n_bar_rows:
        extra = np.zeros((prep.bars - n_bar_rows, rows.shape[1]), dtype=np.int64)
        extra[:, FI["type"]] = BAR
        rows = np.concatenate([rows, extra])
    budget = (lm.net.cfg.max_len * 3) // 4
    if len(rows) > budget:
        bar_idx = np.flatnonzero(rows[:, FI["type"]] == BAR)
        start = next((int(b) for b in bar_idx if len(rows) - b + 1 <= budget), int(bar_idx[-1]))
        kept = int(np.sum(bar_idx >= start))
        warnings.append(f"{source} is {len(rows) - 1} tokens, longer than the model reads at once "
                        f"({budget}); it continues from the last {kept} of its {prep.bars} bars")
        rows = np.concatenate([rows[:1], rows[start:]])
    if tracks is None:
        tracks = tuple(name for name, present in (("melody", prep.melody_track is not None),
                                                  ("accompaniment", bool(prep.accomp_tracks))) if present)
    if chords == "free":
        sampling = replace(sampling, chord_period_bars=0)
    else:  # the prompt's last bars (those the model reads), cycled; forced by default
        kept = int(np.sum(rows[:, FI["type"]] == BAR))
        sampling = replace(sampling, chord_period_bars=min(sampling.chord_period_bars or 8, kept),
                           chord_strength=sampling.chord_strength_or(math.inf))
    res = generate(lm.net, lm.tok, rows, bars=int(bars), positions_per_bar=cond.positions_per_bar,
                   sampling=sampling, rng=np.random.default_rng(seed), tracks=tracks)
    num, den = (int(x) for x in prep.meter.split("/"))
    offset = prep.bars * num * 4.0 / den
    cont = rows_to_score(lm.tok, res.rows, meter=prep.meter, key=prep.key, shift=prep.shift,
                         tempo_bpm=prep.tempo_bpm, offset_beats=offset)
    out = prompt.copy()
    targets = {"melody": prep.melody_track, "piano": prep.accomp_tracks[0] if prep.accomp_tracks else None}
    for t in cont.tracks:
        name = targets.get(t.name)
        if name is None:
            base, i = t.name, 2
            while any(x.name == t.name for x in out.tracks):
                t.name = f"{base}_{i}"
                i += 1
            dest = out.add_track(Track(t.name, t.program, role=t.role))
        else:
            dest = out.track(name)
        dest.notes.extend(t.notes)
        dest.sort()
    out.chords.extend(cont.chords)
    return Composition(out.normalize(), res.bars, res.stopped, time.perf_counter() - t0,
                       warnings + res.warnings, res.retried_bars)
