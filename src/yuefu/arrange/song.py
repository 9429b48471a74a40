"""``arrange``: a melody, its chords and a motive -> the whole song as a Score.

The melody's bars become the body of the song; an intro (the chorus's chords and hook, or a
tonic pedal) goes before it and an outro (the last line again, then the final tonic chord held)
after it. The style's recipe (:mod:`yuefu.arrange.styles`) writes the parts; this module lays
out the form, the chords and the energy of every bar, adds the hook and the echo, applies the
swing and the ritardando, and tidies every track for rendering.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from yuefu.arrange.parts import copy_line, hook_range
from yuefu.arrange.patterns import (
    _KIND_ENERGY,
    EPS,
    Bar,
    Grid,
    Song,
    Span,
    add_note,
    section_kind,
    swing_warp,
    tidy,
)
from yuefu.arrange.recipe import StyleRecipe, suits
from yuefu.arrange.styles import STYLE_RECIPES, recipe_for
from yuefu.core.errors import ParameterError
from yuefu.core.motive import Motive
from yuefu.core.score import (
    ChordSymbol,
    KeySignature,
    Note,
    Score,
    Section,
    Tempo,
    TimeSignature,
    Track,
)
from yuefu.core.theory import Chord, Key, chord_symbol, parse_chord

__all__ = ["arrange"]

_PENTATONIC_MODES = ("gong", "shang", "jue", "zhi", "yu", "major_pentatonic", "minor_pentatonic")
_MAX_FRAME_BARS = 8


def _vocal_source(melody: Score) -> Track:
    """The melody's sung line: the lyric track, else a vocal/melody/lead track, else the first
    pitched track with notes."""
    t = melody.lyric_track()
    if t is not None and t.notes:
        return t
    for role in ("vocal", "melody", "lead"):
        for tr in melody.tracks_with_role(role):
            if tr.notes and not tr.is_drum:
                return tr
    for tr in melody.tracks:
        if tr.notes and not tr.is_drum:
            return tr
    raise ParameterError("arrange: the melody has no notes; write a melody (or load melody.mid) first")


def _meter(melody: Score) -> tuple[int, int]:
    sigs = {(ts.numerator, ts.denominator) for ts in melody.time_signatures} or {(4, 4)}
    if len(sigs) > 1:
        raise ParameterError(
            f"arrange: the melody changes meter ({', '.join(f'{a}/{b}' for a, b in sorted(sigs))}); "
            "the arranger needs one meter for the whole song")
    return next(iter(sigs))


def _coerce_chords(chords: Sequence[Any] | None) -> list[ChordSymbol]:
    out: list[ChordSymbol] = []
    for i, c in enumerate(chords or ()):
        if isinstance(c, ChordSymbol):
            out.append(c)
        elif isinstance(c, Mapping) and "symbol" in c:
            out.append(ChordSymbol(float(c.get("beat", 0.0)), str(c["symbol"])))
        elif isinstance(c, Sequence) and not isinstance(c, str) and len(c) == 2:
            out.append(ChordSymbol(float(c[0]), str(c[1])))
        else:
            raise ParameterError(
                f"arrange: chord #{i} is {c!r}; give ChordSymbol(beat, symbol) or (beat, symbol) pairs")
    return sorted(out, key=lambda c: c.beat)


def _check_bars(name: str, value: int | None, default: int) -> int:
    if value is None:
        return default
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or not 0 <= value <= _MAX_FRAME_BARS:
        raise ParameterError(
            f"arrange: {name} must be a whole number of bars 0..{_MAX_FRAME_BARS}, got {value!r}")
    return int(value)


def _tonic_symbol(key: Key, body: list[ChordSymbol]) -> str:
    """The final chord: the melody's own last chord if it is on the tonic, else the key's
    tonic triad (a sus2 or a bare fifth where the mode has no third)."""
    last = parse_chord(body[-1].symbol)
    flats = key.sharps() < 0 if key.mode not in ("chromatic", "blues") else False
    if last.root == key.tonic:
        return chord_symbol(Chord(last.root, last.quality), flats=flats)
    pcs = key.scale_pitch_classes()
    t = key.tonic
    if (t + 4) % 12 in pcs and (t + 7) % 12 in pcs:
        q = ""
    elif (t + 3) % 12 in pcs:
        q = "m"
    elif (t + 2) % 12 in pcs:
        q = "sus2"
    else:
        q = "5"
    return chord_symbol(Chord(t, q), flats=flats)


def _copy_chords(body: list[ChordSymbol], src_start: float, src_len: float, dst_start: float,
                 dst_len: float) -> list[ChordSymbol]:
    """The chord events of ``[src_start, src_start + src_len)`` placed at ``dst_start``,
    repeated to fill ``dst_len`` beats."""
    if dst_len <= EPS:
        return []
    at_start = [c for c in body if c.beat <= src_start + EPS]
    first = at_start[-1] if at_start else body[0]
    inside = [c for c in body if src_start + EPS < c.beat < src_start + src_len - EPS]
    out: list[ChordSymbol] = []
    reps = max(1, math.ceil(dst_len / src_len - EPS))
    for r in range(reps):
        base = dst_start + r * src_len
        out.append(ChordSymbol(round(base, 6), first.symbol))
        out += [ChordSymbol(round(base + c.beat - src_start, 6), c.symbol) for c in inside]
    return [c for c in out if c.beat < dst_start + dst_len - EPS]


def _spans(events: list[ChordSymbol], end: float) -> list[Span]:
    merged: list[ChordSymbol] = []
    for c in sorted(events, key=lambda c: c.beat):
        if merged and abs(merged[-1].beat - c.beat) < EPS:
            merged[-1] = c
        elif not merged or merged[-1].symbol != c.symbol:
            merged.append(c)
    out = []
    for i, c in enumerate(merged):
        stop = merged[i + 1].beat if i + 1 < len(merged) else end
        if stop - c.beat > EPS:
            out.append(Span(c.beat, stop, c.symbol, parse_chord(c.symbol)))
    return out


#: Another instrument for the counter-line when the lead plays its instrument.
_COUNTER_ALTERNATIVES = {73: 110, 110: 73, 29: 30, 30: 29, 81: 80, 80: 81, 9: 13, 13: 9, 40: 42, 42: 40,
                         71: 68, 68: 71, 27: 26, 26: 27, 72: 9, 75: 73, 77: 110}

#: ``Motive.instruments`` when nobody chose them: the style's own table is used instead.
_UNSET_INSTRUMENTS = dict(Motive().instruments)


def _programs(recipe: StyleRecipe, motive: Motive, pentatonic: bool) -> dict[str, int]:
    programs = dict(recipe.instruments(motive.emotion, pentatonic))
    chosen = {} if dict(motive.instruments) == _UNSET_INSTRUMENTS else motive.instruments
    for role, prog in chosen.items():
        p = int(prog)
        if recipe.piano_only and not 0 <= p <= 7:
            continue  # a piano piece stays a piano piece
        if role == "lead" or (role in recipe.parts and suits(recipe.parts[role], p)):
            programs[role] = p
    programs.setdefault("lead", 73 if not recipe.piano_only else 0)
    if recipe.piano_only:  # one piano: both hands play the instrument that plays the tune
        return {role: programs["lead"] for role in programs}
    hook_role = recipe.hook_role
    hp = programs.get(hook_role)
    if hp is not None and hp == programs["lead"]:
        # the answering line needs another colour than the tune: a neighbour of its instrument
        programs[hook_role] = _COUNTER_ALTERNATIVES.get(hp, hp - hp % 8 + (hp + 1) % 8)
    return programs


def arrange(melody: Score, chords: Sequence[ChordSymbol], motive: Motive, *, seed: int = 0,
            intro_bars: int | None = None, outro_bars: int | None = None) -> Score:
    """Arrange a melody into a whole song in the motive's style.

    Parameters
    ----------
    melody : Score
        The sung melody: its lyric track (else its vocal, melody or lead track, else its first
        pitched track) is the tune; its sections (``"verse"``, ``"chorus"``, ...; none: one
        verse), tempo map, meter (one for the whole song: 4/4, 3/4, 2/4, 6/8 or 12/8) and key
        signature are the song's. Other tracks are ignored.
    chords : sequence of ChordSymbol
        The harmony, one or two chords a bar, beats counted from the melody's start (also
        ``(beat, symbol)`` pairs or ``{"beat", "symbol"}`` mappings, as in chords.json). Empty:
        the melody's own ``Score.chords``. A chord before the first one is the first one.
    motive : Motive
        Its ``style`` picks the arrangement, ``emotion`` and ``palette`` the instruments
        (``instruments`` overrides them role by role; ``lead`` plays the melody until a singer
        replaces it), ``energy`` the density, ``feel`` the swing or half-time, ``key`` the key
        when the melody has no key signature.
    seed : int
        Seeds every random choice: the same seed gives the same song.
    intro_bars, outro_bars : int, optional
        Bars of intro and outro (0..8); default per style (2..4).

    Returns
    -------
    Score
        A ``"vocal"`` track (role ``vocal``, the melody's notes and lyrics unchanged but shifted
        by the intro), the style's accompaniment, bass, drums, pads or strings and counter-line
        tracks with GM programs, roles, ``gain_db`` and ``pan``; sections ``intro``, the
        melody's, ``outro``; chord symbols for the whole song ending on the tonic; the tempo map
        (with a ritardando in the styles that slow down), meter and key.

    Raises
    ------
    ParameterError
        A melody without notes, chords that do not parse or are missing, an unknown style, an
        unsupported meter, a bad ``seed``, ``intro_bars`` or ``outro_bars``.

    Examples
    --------
    >>> from yuefu.core.score import Note, Score, Section, Track
    >>> from yuefu.core.motive import Motive
    >>> m = Score(sections=[Section(0, "verse")])
    >>> v = m.add_track(Track("vocal", program=73, role="vocal"))
    >>> v.notes += [Note(60 + i % 5, i * 1.0, 1.0, lyric="la") for i in range(8)]
    >>> song = arrange(m, [ChordSymbol(0, "C"), ChordSymbol(4, "G")], Motive(style="pop"), seed=1)
    >>> [s.name for s in song.sections], song.chords[-1].symbol
    (['intro', 'verse', 'outro'], 'C')
    """
    if not isinstance(melody, Score):
        raise ParameterError(f"arrange: melody must be a Score, got {type(melody).__name__}")
    style = getattr(motive, "style", None)
    if style not in STYLE_RECIPES:
        raise ParameterError(f"arrange: unknown style {style!r}; valid: {', '.join(STYLE_RECIPES)}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ParameterError(f"arrange: seed must be an integer >= 0, got {seed!r}")
    src = _vocal_source(melody)
    grid = Grid.from_meter(_meter(melody), motive.feel)
    bar_beats = grid.bar_beats
    key = melody.key_at(0) or motive.key_obj
    body_chords = _coerce_chords(chords) or _coerce_chords(melody.chords)
    if not body_chords:
        raise ParameterError("arrange: no chords; harmonize the melody first (pass chords=...)")
    pentatonic = motive.palette == "pentatonic" or key.mode in _PENTATONIC_MODES
    recipe = recipe_for(style, pentatonic=pentatonic)
    n_intro = _check_bars("intro_bars", intro_bars, recipe.intro_bars)
    n_outro = _check_bars("outro_bars", outro_bars, recipe.outro_bars)

    notes = sorted(src.notes, key=lambda n: (n.onset, n.pitch))
    melody_end = max(n.end for n in notes)
    n_body = max(1, math.ceil(melody_end / bar_beats - 1e-6))
    intro_len, body_len, outro_len = n_intro * bar_beats, n_body * bar_beats, n_outro * bar_beats
    song_end = intro_len + body_len + outro_len
    body_chords = [c for c in body_chords if c.beat < body_len - EPS] or body_chords[:1]

    # -- sections and bars -----------------------------------------------------------------
    msecs = sorted((s for s in melody.sections if s.beat < body_len - EPS), key=lambda s: s.beat)
    if not msecs:
        msecs = [Section(0.0, "verse")]
    body_sec_of_bar = []
    for b in range(n_body):
        mid = b * bar_beats + bar_beats / 2
        inside = [i for i, s in enumerate(msecs) if s.beat <= mid + EPS]
        body_sec_of_bar.append(inside[-1] if inside else 0)
    layout: list[tuple[str, str, int]] = []  # (kind, name, group id) per bar
    layout += [("intro", "intro", -1)] * n_intro
    layout += [(section_kind(msecs[i].name), msecs[i].name, i) for i in body_sec_of_bar]
    layout += [("outro", "outro", -2)] * n_outro
    groups: list[tuple[int, int]] = []  # (first bar, n bars)
    for i, item in enumerate(layout):
        if i == 0 or item[2] != layout[i - 1][2]:
            groups.append((i, 1))
        else:
            groups[-1] = (groups[-1][0], groups[-1][1] + 1)
    seen: dict[str, int] = {}
    bars: list[Bar] = []
    for g_no, (first, length) in enumerate(groups):
        kind, name, _ = layout[first]
        occ = seen.get(kind, 0)
        seen[kind] = occ + 1
        energy = motive.energy + _KIND_ENERGY.get(kind, 0.0) + (0.04 * occ if kind == "chorus" else 0.0)
        energy = float(np.clip(energy, 0.05, 1.0))
        for pos in range(length):
            i = first + pos
            bars.append(Bar(i, i * bar_beats, (i + 1) * bar_beats, kind, name, g_no, occ, pos, length,
                            energy, final=i == len(layout) - 1))

    # -- chords ----------------------------------------------------------------------------
    body_groups = [(f - n_intro, n) for f, n in groups if layout[f][2] >= 0]
    chorus = next(((f, n) for f, n in body_groups if layout[f + n_intro][0] == "chorus"), None)
    src_first, src_n = chorus if chorus is not None else body_groups[-1]
    tonic = _tonic_symbol(key, body_chords)
    if recipe.intro_source == "chorus_tail":
        hook_start = (src_first + max(0, src_n - n_intro)) * bar_beats
    else:
        hook_start = src_first * bar_beats
    hook_len = min(n_intro, src_n) * bar_beats
    events: list[ChordSymbol] = []
    if n_intro:
        if recipe.intro_source == "pedal":
            events.append(ChordSymbol(0.0, tonic))
        else:
            events += _copy_chords(body_chords, hook_start, hook_len, 0.0, intro_len)
    events += [ChordSymbol(round(c.beat + intro_len, 6), c.symbol) for c in body_chords if c.beat > EPS]
    events.append(ChordSymbol(intro_len, body_chords[0].symbol))
    outro_start = intro_len + body_len
    echo_n = max(0, min(n_outro - 1, n_body))
    if n_outro:
        echo_start = body_len - echo_n * bar_beats
        events += _copy_chords(body_chords, echo_start, echo_n * bar_beats, outro_start, echo_n * bar_beats)
        events.append(ChordSymbol(song_end - bar_beats, tonic))
    events.sort(key=lambda c: c.beat)
    song_chords: list[ChordSymbol] = []
    for c in events:
        if song_chords and abs(song_chords[-1].beat - c.beat) < EPS:
            song_chords[-1] = c
        else:
            song_chords.append(c)

    # -- the song context and its parts -----------------------------------------------------
    vocal_notes = [Note(n.pitch, round(n.onset + intro_len, 6), n.duration, n.velocity, n.lyric)
                   for n in notes]
    song = Song(key=key, grid=grid, feel=motive.feel, style=style, emotion=motive.emotion,
                energy=float(motive.energy), pentatonic=pentatonic, bars=bars,
                spans=_spans(song_chords, song_end), vocal=vocal_notes, body_start=intro_len,
                body_end=outro_start, seed=int(seed))
    programs = _programs(recipe, motive, pentatonic)
    vocal = Track("vocal", program=programs["lead"], role="vocal", gain_db=0.0, pan=0.0, notes=vocal_notes)
    parts = recipe.build(song, programs)
    if motive.feel == "swing" and not grid.compound:
        for tr in parts:
            for n in tr.notes:
                on = swing_warp(n.onset, pulse_beats=grid.pulse_beats)
                end = swing_warp(n.end, pulse_beats=grid.pulse_beats)
                n.onset, n.duration = on, max(0.05, round(end - on, 6))
    hook = next((t for t in parts if t.name == recipe.hook), None)
    if hook is not None:
        lo, hi = hook_range(hook.program, vocal_median=song.vocal_median())
        if n_intro:
            hook.notes += copy_line(vocal_notes, src_start=intro_len + hook_start, src_len=hook_len,
                                    dst_start=0.0, dst_len=intro_len, low=lo, high=hi)
        if n_outro:
            if echo_n:
                hook.notes += copy_line(vocal_notes, src_start=outro_start - echo_n * bar_beats,
                                        src_len=echo_n * bar_beats, dst_start=outro_start,
                                        dst_len=echo_n * bar_beats, low=lo, high=hi)
            last = hook.notes[-1].pitch if hook.notes else (lo + hi) // 2
            final_pc = parse_chord(tonic).root
            target = min((p for p in range(lo, hi + 1) if p % 12 == final_pc), key=lambda p: abs(p - last))
            add_note(hook, target, song_end - bar_beats, bar_beats, 72)
    for tr in parts:
        tidy(tr)
        tr.notes = [n for n in tr.notes if n.onset < song_end - EPS]
        for n in tr.notes:
            if n.end > song_end + EPS:
                n.duration = round(song_end - n.onset, 6)

    # -- tempo, meter, key, sections -----------------------------------------------------------
    mtempos = sorted(melody.tempos, key=lambda t: t.beat) or [Tempo(0.0, motive.tempo_bpm)]
    tempos = [Tempo(0.0, mtempos[0].bpm)] + [Tempo(round(t.beat + intro_len, 6), t.bpm)
                                              for t in mtempos if t.beat > EPS]
    if recipe.ritardando and n_outro >= 2:
        last_bar = song_end - bar_beats
        bpm = [t for t in tempos if t.beat <= last_bar - bar_beats + EPS][-1].bpm
        tempos = [t for t in tempos if t.beat < last_bar - bar_beats / 2 - EPS]
        for beat, f in ((last_bar - bar_beats / 2, 0.94), (last_bar, 0.86), (last_bar + bar_beats / 2, 0.8)):
            tempos.append(Tempo(round(beat, 6), max(20.0, bpm * f)))
    key_sigs = [KeySignature(0.0, key)] + [KeySignature(round(k.beat + intro_len, 6), k.key)
                                           for k in melody.key_signatures if k.beat > EPS]
    sections = ([Section(0.0, "intro")] if n_intro else [])
    sections += [Section(round(s.beat + intro_len, 6), s.name) for s in msecs]
    if n_outro:
        sections.append(Section(outro_start, "outro"))
    score = Score(tracks=[vocal, *parts], tempos=tempos,
                  time_signatures=[TimeSignature(0.0, grid.numerator, grid.denominator)],
                  key_signatures=key_sigs, chords=song_chords, sections=sections, title=melody.title)
    return score.normalize()
