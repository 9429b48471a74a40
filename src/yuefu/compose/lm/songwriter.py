"""The songwriter's language-model engine: lyrics set to a melody by the music language model, and
the model's piano part under a given melody.

:func:`write_melody_lm` has :func:`~yuefu.compose.melody.write_melody`'s contract (one note per
syllable, the chords the melody was written on, sections, the motive's key, tempo and range) but
the notes come from the Compound Word Transformer, sampled under constraints
(:mod:`yuefu.compose.lm.constrained`):

1. **Form and chords are planned** exactly as the statistical writer plans them (its
   ``_skeleton``: 2 or 4 bars a line, learned pickups and rests, cadences at line and section
   ends, a second chorus that repeats the first one's chords). The chords are fed to the model as
   constraints at every position. Why not let the model write its own chords: its progressions
   wander (85% of chord trigrams unique against 65% in real songs, see the model card) and know
   nothing of phrases, so lines would not end on cadences and a chorus would not come back on
   the same harmony; the planned chords give the model's melody and piano a form to follow.
2. **Rhythm**: the first syllable of each line starts where the plan says; the model chooses
   every later onset, one melody note per syllable, inside windows that keep the rest of the line
   singable (onsets on the plan's grid, sixteenths or eighths by tempo; at most a bar apart; the
   last syllable in the line's last bar with room for a long final note). Notes are written
   legato to the next syllable; a line's last note lasts until its planned rest.
3. **Pitch**: the model's distribution, re-ranked: pitches outside the singer's range are
   forbidden, as are leaps beyond an octave; notes off the motive's scale (the pentatonic scale
   for a pentatonic palette) cost ``scale_weight`` nats; a Chinese syllable whose tone
   :data:`~yuefu.compose.melody.TONE_RULE` the interval would break costs ``tone_weight`` nats; a
   soft pull towards the section's register (the chorus above the verse) and towards the cadence
   note at a line's end.
4. **Accompaniment**: the model writes its piano part together with the melody (it was trained
   on melody and piano together: a melody alone is outside what it learned); the piano is not
   kept here (:func:`accompany` writes it again under the final melody and chords).
5. A chorus sung again to the same words is sung to the same notes (the earlier notes are fed
   back to the model as fixed notes).

Only 4/4: the model was trained on 4/4 songs (other meters are a :class:`ParameterError`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.core.motive import Motive
from yuefu.core.score import ChordSymbol, KeySignature, Note, Score, Section, Tempo, TimeSignature, Track
from yuefu.core.theory import Key, parse_chord

from .api import LanguageModel
from .sampling import SamplingConfig

__all__ = ["write_melody_lm", "accompany", "SONG_SAMPLING"]

log = logging.getLogger(__name__)

#: Default sampling of the songwriter's engine: a little cooler pitch and duration than
#: :func:`~yuefu.compose.compose` (a sung line needs fewer surprises than a piano piece).
SONG_SAMPLING = SamplingConfig(temperature=1.0, top_p=0.95,
                               temperatures={"pitch": 0.9, "duration": 0.9})

_PPB = 16  # sixteenths in a 4/4 bar


def _lm(model: LanguageModel | str | Path | None) -> LanguageModel:
    from .api import _model

    return _model(model)


def _check_meter(meter: Sequence[int], what: str) -> None:
    if tuple(int(x) for x in meter) != (4, 4):
        raise ParameterError(f"{what} is in {meter[0]}/{meter[1]}, but the music language model "
                             "writes 4/4 only; set the meter to 4/4 or use the statistical engine "
                             "(engine = \"stats\")")


def _conditions(lm: LanguageModel, style: str, emotion: str, key: Key, tempo_bpm: float
                ) -> tuple[Any, int, list[str]]:
    from .api import _cond_values
    from .convert import key_shift
    from .tokens import Conditions

    warnings: list[str] = []
    style_c, emotion_c = _cond_values(lm, style, emotion, warnings)
    shift, mode = key_shift(key)
    cond = Conditions(style=style_c, emotion=emotion_c, mode=mode,
                      tempo_bpm=float(np.clip(tempo_bpm, 20, 400)), meter="4/4")
    return cond, shift, warnings


def _chord_ids(lm: LanguageModel, chords: Sequence[tuple[float, str]], shift: int, bars: int) -> np.ndarray:
    """Chord-family id in force at every sixteenth of ``bars`` bars (0 before the first chord)."""
    from .tokens import chord_label

    out = np.zeros(bars * _PPB, dtype=np.int64)
    for beat, sym in sorted(chords, key=lambda c: c[0]):
        try:
            ch = parse_chord(sym)
        except ParameterError:
            continue
        lab = chord_label(ch.root + shift, ch.quality)
        start = max(0, int(round(beat * 4)))
        out[start:] = lm.tok.index["chord"].get(lab, 1)
    return out


def write_melody_lm(sections: Sequence[tuple[str, Sequence[Sequence[str]]]], motive: Motive, *,
                    seed: int = 0, model: LanguageModel | str | Path | None = None,
                    sampling: SamplingConfig | None = None, tone_weight: float = 3.0,
                    scale_weight: float = 2.0, register_weight: float = 1.0,
                    accompaniment: bool = True) -> Score:
    """Set lyrics to a melody with the music language model, one note per syllable.

    Parameters
    ----------
    sections : sequence of (str, sequence of lines)
        As for :func:`~yuefu.compose.melody.write_melody`.
    motive : Motive
        Key, tempo, meter (4/4 only), palette, voice range, style, emotion, language, lead.
    seed : int
        Seeds the plan and every draw: the same seed (and model) gives the same melody.
    model : LanguageModel or path, optional
        Default: the shipped model.
    sampling : SamplingConfig, optional
        Default :data:`SONG_SAMPLING`.
    tone_weight : float
        Nats taken from a pitch that breaks a Chinese syllable's tone rule (0: off).
    scale_weight : float
        Nats taken from a pitch off the motive's scale.
    register_weight : float
        Weight of the pull towards the section's register (0: the model's register alone).
    accompaniment : bool
        Sample the model's piano part with the melody (the way it was trained); False writes the
        melody alone (faster, outside the training distribution).

    Returns
    -------
    Score
        As :func:`~yuefu.compose.melody.write_melody` (no melismas: every note has a syllable).

    Raises
    ------
    ParameterError
        Malformed sections, a meter other than 4/4, a line too dense for a sixteenth grid.
    MissingDependencyError, ModelLoadError
        No PyTorch or miditok; no usable model.

    Examples
    --------
    >>> from yuefu.core.motive import Motive
    >>> song = [("verse", [["月", "亮", "照", "着", "海", "面"], ["风", "吹", "过", "沙", "滩"]])]
    >>> s = write_melody_lm(song, Motive(key="D major", language="zh"), seed=1)  # doctest: +SKIP
    >>> len(s.track("vocal").notes)  # doctest: +SKIP
    11
    """
    from yuefu.compose._common import is_strong
    from yuefu.compose.melody import _CENTER, _parse_sections, _skeleton, _swing, _tone_holds

    from .constrained import LinePlan, PlanGrammar, generate_planned

    if not (tone_weight >= 0 and scale_weight >= 0 and register_weight >= 0):
        raise ParameterError("tone_weight, scale_weight and register_weight must be >= 0")
    parsed = _parse_sections(sections)
    _check_meter(motive.meter, "the motive")
    lm = _lm(model)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    ctx, secs, lines, chord_events = _skeleton(parsed, motive, rng)
    key = ctx.key
    cond, shift, warnings = _conditions(lm, motive.style, motive.emotion, key, motive.tempo_bpm)
    bars = secs[-1].bar0 + len(secs[-1].lines) * secs[-1].bars_per_line
    sym_events = [(beat, opt.symbol(key)) for beat, opt in chord_events]
    chords = _chord_ids(lm, sym_events, shift, bars)

    # -- the plan, in sixteenths --------------------------------------------------------------
    step = 1 if ctx.unit <= 0.25 else 2
    final16 = int(math.ceil(ctx.final_min * 4 - 1e-9))
    plans: list[LinePlan] = []
    gidx = {id(ln): i for i, ln in enumerate(lines)}
    for gi, line in enumerate(lines):
        n = len(line.syllables)
        start = int(round((line.bar0 * ctx.bar + line.offset) * 4))
        end = int(round(line.end * 4))
        last_min = (line.bar0 + line.bars - 1) * _PPB
        st = step
        last_max = ((end - final16) // st) * st
        if start + (n - 1) * st > last_max:  # a dense line: a shorter final note, then sixteenths
            last_max = ((end - max(st, final16 // 2)) // st) * st
        if start + (n - 1) * st > last_max and st > 1:
            st, last_max = 1, end - max(1, final16 // 2)
        if start + (n - 1) * st > last_max:
            last_max = end - 1
        if start + (n - 1) * st > last_max:
            raise ParameterError(f"line {gi + 1} ({' '.join(line.syllables)[:40]}) has {n} syllables, "
                                 f"more than the model's sixteenth grid holds at {motive.tempo_bpm:g} BPM")
        sec = secs[line.section]
        copy_of = None
        shift16 = 0
        if sec.repeat_of is not None and sec.exact:
            src = secs[sec.repeat_of].lines[line.index]
            copy_of = gidx[id(src)]
            shift16 = int(round((line.bar0 - src.bar0) * ctx.bar * 4))
        plans.append(LinePlan(start=start, end=end, n=n, step=st, last_min=last_min, last_max=last_max,
                              max_gap=_PPB, copy_of=copy_of, shift=shift16))

    # -- pitch re-ranking -----------------------------------------------------------------------
    tok = lm.tok
    # the model sings about C5 (POP909's melodies: median 72, 90% within G4-G5): an octave down
    # for a voice whose range sits lower, so that the range and the model's register agree
    octave = _octave_for(ctx.lo + 0.6 * (ctx.hi - ctx.lo))
    real = tok.pitch_of - shift - 12 * octave  # MIDI pitch of each pitch id in the song's key
    real[0] = -1000
    pcs = real % 12
    in_range = (real >= ctx.lo) & (real <= ctx.hi)
    in_range[0] = False
    off_scale = ~np.isin(pcs, sorted(ctx.scale))
    span = ctx.hi - ctx.lo
    sigma = max(3.0, 0.25 * span)
    tonic = key.tonic
    chord_at = _chord_lookup(chord_events, key)
    base = np.where(in_range, 0.0, -np.inf) - scale_weight * off_scale

    def pitch_bias(li: int, si: int, now: int, prev_pid: int) -> np.ndarray:
        line, plan = lines[li], plans[li]
        b = base.copy()
        same_phrase = si > 0 or (li > 0 and plan.start - plans[li - 1].end < 4)
        if prev_pid > 0 and same_phrase:
            iv = real - real[prev_pid]
            b[np.abs(iv) > 12] = -np.inf
            tone = line.tones[si]
            if tone is not None and tone_weight > 0:
                ok = np.array([_tone_holds(tone, int(x)) for x in iv])
                b[~ok] -= tone_weight
        if register_weight > 0:
            kind = secs[line.section].kind
            phase = (now - plan.start) / max(1, plan.end - plan.start)
            target = ctx.lo + _CENTER.get(kind, 0.45) * span + 0.12 * span * math.sin(
                math.pi * min(1.0, phase / 0.85))
            b -= register_weight * 0.5 * ((real - target) / sigma) ** 2
        if si == plan.n - 1:
            chord_pcs = chord_at(now / 4.0)
            if line.cadence == "tonic":
                b += 2.0 * (pcs == tonic) + 0.5 * np.isin(pcs, chord_pcs)
            else:
                b += 1.0 * np.isin(pcs, chord_pcs)
        if not np.isfinite(b).any():  # cannot happen with a range of a fifth; a guard
            b = base.copy()
        return b

    grammar = PlanGrammar(tok, plans, chords, bars=bars, accompaniment=accompaniment,
                          pitch_bias=pitch_bias,
                          max_notes_per_position=(sampling or SONG_SAMPLING).max_notes_per_position)
    prompt = tok.cond_row(cond)[None]
    res = generate_planned(lm.net, tok, prompt, grammar, sampling=sampling or SONG_SAMPLING, rng=rng)
    for w in warnings:
        log.info("%s", w)

    # -- the score ---------------------------------------------------------------------------------
    rows = res.rows
    mel_rows = [r for r in rows if int(r[0]) == 4 and int(r[3]) == 1]  # NOTE rows of the melody
    m = motive
    score = Score(tempos=[Tempo(0.0, float(m.tempo_bpm))],
                  time_signatures=[TimeSignature(0.0, 4, 4)],
                  key_signatures=[KeySignature(0.0, key)])
    track = score.add_track(Track("vocal", program=int(m.instruments.get("lead", 73)), role="vocal"))
    for sec in secs:
        score.sections.append(Section(sec.bar0 * ctx.bar, sec.name))
    prev_sym = None
    for beat, sym in sym_events:
        if sym != prev_sym or abs(beat % ctx.bar) < 1e-9:
            score.chords.append(ChordSymbol(beat, sym))
        prev_sym = sym
    from .tokens import FI

    onsets: dict[int, list[int]] = {}
    for li, _si, on in res.melody:
        onsets.setdefault(li, []).append(on)
    k = 0
    for li, line in enumerate(lines):
        ons = onsets[li]
        ends = ons[1:] + [plans[li].end]
        kind = secs[line.section].kind
        for on, end, syl in zip(ons, ends, line.syllables, strict=True):
            pitch = int(real[int(mel_rows[k][FI["pitch"]])])
            k += 1
            beat = on / 4.0
            vel = 84 + int(round(10 * m.energy)) + (6 if is_strong(beat, (4, 4)) else 0) + \
                (5 if kind == "chorus" else 0)
            track.notes.append(Note(pitch, beat, (end - on) / 4.0, velocity=int(np.clip(vel, 30, 127)),
                                    lyric=syl))
    if m.feel == "swing":
        _swing(track.notes)
    score.normalize()
    log.debug("write_melody_lm: %d bars, %d rows in %.2f s", bars, len(rows), time.perf_counter() - t0)
    return score


#: The piano part's lowest note (C2): below it the model's left hand would muddy the bass line.
PIANO_LOWEST = 36

#: Median MIDI pitch of the model's melodies (POP909 in C major / A minor).
MODEL_MELODY_MEDIAN = 72


def _octave_for(centre: float) -> int:
    """Octaves to move the model's melody down so that its register centres near ``centre``."""
    return int(math.floor((MODEL_MELODY_MEDIAN - centre) / 12.0 + 0.5))


def _chord_lookup(chord_events: Sequence[tuple[float, Any]], key: Key) -> Any:
    beats = np.array([b for b, _ in chord_events])
    tones = [sorted(opt.tones(key.tonic)) for _, opt in chord_events]

    def at(beat: float) -> list[int]:
        i = int(np.searchsorted(beats, beat + 1e-9, side="right")) - 1
        return tones[max(0, i)]

    return at


def accompany(song: Score, *, seed: int = 0, style: str = "pop", emotion: str = "happy",
              model: LanguageModel | str | Path | None = None, sampling: SamplingConfig | None = None,
              ) -> Track:
    """The model's piano part under a song's melody, on the song's chords, for its whole length.

    The melody (the lyric track, else a vocal, melody or lead track) is given to the model note
    for note (quantised to sixteenths; swung eighths are read straight) and the chord symbols are
    forced at every position; the model writes the piano around them, bar by bar, through intro
    and outro too.

    Parameters
    ----------
    song : Score
        In 4/4, with chord symbols and a melody.
    seed : int
    style, emotion : str
        Conditions (mapped to what the model knows, as in :func:`~yuefu.compose.compose`).
    model : LanguageModel or path, optional
    sampling : SamplingConfig, optional
        Default :data:`SONG_SAMPLING`.

    Returns
    -------
    Track
        ``"piano"`` (GM 0, role ``"accompaniment"``), notes in the song's beats.

    Raises
    ------
    ParameterError
        Another meter than 4/4, no chords, no melody.
    """
    from .constrained import LinePlan, PlanGrammar, generate_planned
    from .convert import _fold, rows_to_score

    meters = {(ts.numerator, ts.denominator) for ts in song.time_signatures} or {(4, 4)}
    if len(meters) > 1:
        raise ParameterError("accompany: the song changes meter; the model writes 4/4 only")
    _check_meter(next(iter(meters)), "the song")
    if not song.chords:
        raise ParameterError("accompany: the song has no chord symbols to play")
    mel = song.lyric_track()
    if mel is None:
        mel = next((t for r in ("vocal", "melody", "lead") for t in song.tracks_with_role(r) if t.notes),
                   None)
    if mel is None or not mel.notes:
        raise ParameterError("accompany: the song has no melody to accompany")
    lm = _lm(model)
    key = song.key_at(0.0) or song.estimate_key()
    tempo = float(sorted(song.tempos, key=lambda t: t.beat)[0].bpm) if song.tempos else 100.0
    cond, shift, warnings = _conditions(lm, style, emotion, key, tempo)
    tok = lm.tok
    bars = max(1, int(math.ceil(song.end_beat / 4.0 - 1e-6)))
    chords = _chord_ids(lm, [(c.beat, c.symbol) for c in song.chords], shift, bars)

    def straight(beat: float) -> float:
        whole, frac = divmod(beat, 1.0)
        return whole + 0.5 if abs(frac - 2.0 / 3.0) < 1e-3 else beat

    notes: dict[int, Note] = {}
    for n in sorted(mel.notes, key=lambda n: (n.onset, -n.pitch)):
        on = int(round(straight(n.onset) * 4))
        if on not in notes and 0 <= on < bars * _PPB:
            notes[on] = n
    ons = sorted(notes)
    octave = _octave_for(float(np.median([n.pitch for n in notes.values()])))
    vel_vals = np.array([0] + [int(x.split("_")[1]) for x in tok.vocab["velocity"][1:]])
    plans = []
    for i, on in enumerate(ons):
        n = notes[on]
        nxt = ons[i + 1] if i + 1 < len(ons) else bars * _PPB
        d16 = max(1, int(round((straight(n.end) - straight(n.onset)) * 4)))
        dur = np.flatnonzero((tok.duration16_of <= max(1, d16)) & (np.arange(tok.duration16_of.size) > 0))
        pid = tok.index["pitch"][f"Pitch_{_fold(n.pitch + shift + 12 * octave)}"]
        vid = int(np.argmin(np.abs(vel_vals[1:] - n.velocity))) + 1
        plans.append(LinePlan(start=on, end=max(on + 1, min(on + d16, nxt)), n=1,
                              fixed=[(on, pid, int(dur[-1]) if dur.size else 1, vid)]))
    sampling = sampling or SONG_SAMPLING
    lo_acc, hi_acc = tok.settings.track_pitch["accompaniment"]
    grammar = PlanGrammar(tok, plans, chords, bars=bars, accompaniment=True,
                          max_notes_per_position=sampling.max_notes_per_position,
                          accompaniment_pitch=(max(lo_acc, PIANO_LOWEST + shift), hi_acc))
    res = generate_planned(lm.net, tok, tok.cond_row(cond)[None], grammar, sampling=sampling,
                           rng=np.random.default_rng(seed))
    for w in warnings:
        log.info("%s", w)
    from .tokens import FI

    acc_rows = res.rows[(res.rows[:, FI["type"]] != 4) | (res.rows[:, FI["track"]] == 2)]
    decoded = rows_to_score(tok, acc_rows, meter="4/4", key=key, shift=shift, tempo_bpm=tempo)
    out = Track("piano", program=0, role="accompaniment")
    for t in decoded.tracks:
        out.notes += [Note(n.pitch, n.onset, n.duration, n.velocity) for n in t.notes]
    out.sort()
    return out
