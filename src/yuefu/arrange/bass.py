"""Bass lines: the chord's root (or a slash chord's bass) on the strong beats, fifths, octaves
and approach notes on the weak ones, in one of several styles.

=============  ============================================================================
kind           what it plays
=============  ============================================================================
``sustain``    the root held through each bar (a ballad verse)
``half``       the root on each strong beat, an approach note into a new chord
``pop``        a syncopated root figure with an octave or fifth and a leading approach
``folk``       root on the strong beats, the fifth on the other pulses (boom-chick)
``rock``       driving roots on every subdivision, an approach at each change
``synth``      roots on the pulses and octave jumps off the beat (electronic)
``oompah``     the "oom": short roots on the strong beats (a children's song)
=============  ============================================================================

The register follows the line: each new root is placed in the octave nearest the previous
note within ``[low, high]``, so the line moves by small steps rather than jumping.
"""

from __future__ import annotations

import numpy as np

from yuefu.arrange.patterns import EPS, Bar, Song, Span, add_note, velocity
from yuefu.core.errors import ParameterError
from yuefu.core.score import Track

__all__ = ["BASS_KINDS", "bass_line"]

BASS_KINDS = ("sustain", "half", "pop", "folk", "rock", "synth", "oompah")


def _nearest(pc: int, prev: int, low: int, high: int) -> int:
    """The pitch of ``pc`` nearest the previous note, pulled toward the middle of the range so
    that a line of falling fourths does not sink to the bottom string."""
    cands = [p for p in range(low, high + 1) if p % 12 == pc]
    centre = (low + high) / 2 + 1
    return min(cands, key=lambda p: (abs(p - prev) + 0.8 * abs(p - centre), p))


def _events(kind: str, song: Song, bar: Bar, rng: np.random.Generator) -> list[tuple[float, float, str]]:
    """(offset, duration, what) in the bar; what is R root, F fifth, O octave, A approach."""
    g = song.grid
    L, S, sub = g.pulse_beats, g.subs, g.sub_beats
    strong = g.strong_offsets()
    loud = bar.kind == "chorus" or bar.energy >= 0.7
    ev: list[tuple[float, float, str]] = []
    if kind == "sustain":
        return [(0.0, g.bar_beats, "R")]
    if kind == "half":
        marks = list(strong) if g.pulses != 3 else [0.0]
        for i, off in enumerate(marks):
            end = marks[i + 1] if i + 1 < len(marks) else g.bar_beats
            ev.append((off, end - off, "R"))
        if bar.energy >= 0.45 and g.pulses >= 3:
            last = g.bar_beats - L
            ev = [(o, min(d, last - o) if o < last else d, w) for o, d, w in ev]
            ev.append((last, L, "A"))
        return ev
    if kind == "pop":
        if g.pulses == 4 and not g.compound:
            if loud:
                return [(0.0, 1.5, "R"), (1.5, 0.5, "R"), (2.0, 1.0, "R"), (3.0, 0.5, "O"), (3.5, 0.5, "A")]
            return [(0.0, 1.5, "R"), (1.5, 0.5, "R"), (2.0, 1.5, "R"), (3.5, 0.5, "A")]
        for p in range(g.pulses):
            off = p * L
            what = "R" if off in strong or p == 0 else ("F" if loud else "R")
            if loud and S == 3:
                ev.append((off, 2 * sub, what))
                ev.append((off + 2 * sub, sub, "A" if p == g.pulses - 1 else what))
            else:
                ev.append((off, L, what if p < g.pulses - 1 else "A" if loud else what))
        return ev
    if kind == "folk":
        for p in range(g.pulses):
            off = p * L
            if any(abs(off - s) < EPS for s in strong):
                ev.append((off, L, "R"))
            elif bar.energy >= 0.35:
                ev.append((off, L, "F"))
        if g.pulses == 2 and bar.energy >= 0.5:  # 6/8 or 2/4: a pickup into the next bar
            ev[-1] = (ev[-1][0], L - sub, ev[-1][2])
            ev.append((g.bar_beats - sub, sub, "A"))
        return ev
    if kind == "rock":
        n = g.pulses * S
        for i in range(n):
            off = i * sub
            what = "R"
            if loud and i == n - 2 and rng.random() < 0.4:
                what = "O"
            if i == n - 1:
                what = "A"
            ev.append((off, sub, what))
        return ev
    if kind == "synth":
        for p in range(g.pulses):
            off = p * L
            ev.append((off, sub * 0.9, "R"))
            if loud or bar.energy >= 0.5:
                ev.append((off + (L / 2 if S == 2 else 2 * sub), sub * 0.9, "O"))
        return ev
    if kind == "oompah":
        for off in strong:
            ev.append((off, L * 0.8, "R"))
        if g.pulses == 3 and loud:
            ev.append((2 * L, L * 0.8, "F"))
        return ev
    raise ParameterError(f"unknown bass kind {kind!r}; valid: {', '.join(BASS_KINDS)}")


def bass_line(song: Song, *, kind: str | dict[str, str], name: str = "bass", program: int = 33,
              low: int = 28, high: int = 50, base_vel: float = 90.0, kinds_off: tuple[str, ...] = (),
              gain_db: float = 0.0, pan: float = 0.0, legato: float = 0.92,
              chromatic: float = 0.4) -> Track:
    """Write the bass part of a song.

    Parameters
    ----------
    song : Song
    kind : str or dict of str to str
        One of :data:`BASS_KINDS`, or section kind -> bass kind (the key ``"*"`` is the
        default), so a ballad can hold whole notes in the verse and move in the chorus.
    name, program : str, int
        Track name and GM program.
    low, high : int
        MIDI range of the line.
    base_vel : float
        Velocity at energy 0.5.
    kinds_off : tuple of str
        Section kinds without bass.
    gain_db, pan : float
        The track's mix.
    legato : float
        Fraction of each event's length that sounds.
    chromatic : float
        Probability that an approach note is chromatic (a semitone from the target) rather than a
        step of the song's scale (its pentatonic scale in the 国风 colour).

    Returns
    -------
    Track
        Role ``"bass"``. The song's last bar holds the final root.
    """
    track = Track(name, program=program, role="bass", gain_db=gain_db, pan=pan)
    rng = song.rng(name)
    prev = (low + high) // 2 - 4
    for bar in song.bars:
        if bar.kind in kinds_off:
            continue
        k = kind if isinstance(kind, str) else kind.get(bar.kind, kind.get("*", "half"))
        if bar.final:
            span = song.span_at(bar.start)
            p = _nearest(span.bass_pc, prev, low, high)
            add_note(track, p, bar.start, bar.end - bar.start, velocity(base_vel + 4, song, bar.start))
            continue
        events = _events(k, song, bar, rng)
        for off, dur, what in events:
            on = bar.start + off
            if on >= bar.end - EPS:
                continue
            # a note cut by a chord change restarts on the new root
            end = min(on + dur, bar.end)
            t = on
            while end - t > EPS:
                sp = song.span_at(t)
                seg = min(end, sp.end)
                w = what if t == on else "R"
                prev = _place(track, song, sp, w, t, seg - t, prev, low, high, base_vel, rng, legato,
                              chromatic)
                t = seg
    return track


def _place(track: Track, song: Song, span: Span, what: str, on: float, dur: float, prev: int,
           low: int, high: int, base_vel: float, rng: np.random.Generator, legato: float,
           chromatic: float) -> int:
    root = _nearest(span.bass_pc, prev, low, high)
    if what == "R":
        pitch = root
    elif what == "F":
        up = root + (span.fifth_pc - span.bass_pc) % 12
        pitch = up if up <= high else up - 12
        if pitch < low:
            pitch = root
    elif what == "O":
        pitch = root + 12 if root + 12 <= high + 7 else root - 12
    else:  # "A": approach the next chord's bass from a step away
        nxt = song.next_span(span)
        if nxt is None or nxt.bass_pc == span.bass_pc or on + dur < span.end - song.grid.sub_beats - EPS:
            pitch = root if what == "A" and rng.random() < 0.5 else _fifth_or_root(span, root, low, high)
        else:
            target = _nearest(nxt.bass_pc, root, low, high)
            scale = song.scale_pcs()
            steps = [q for q in range(target - 3, target + 4) if q != target and q % 12 in scale]
            diatonic = [q for q in steps if low <= q <= high and abs(q - target) <= 2] or \
                [q for q in steps if low <= q <= high]
            semis = [q for q in (target - 1, target + 1) if low <= q <= high]
            pool = semis if semis and (rng.random() < chromatic or not diatonic) else (diatonic or [root])
            pitch = pool[int(rng.integers(0, len(pool)))]
    bar = song.bar_at(on)
    vel = velocity(base_vel, song, on, energy=bar.energy, rng=rng, spread=3, accent_scale=0.8)
    add_note(track, pitch, on, max(0.05, dur * legato), vel)
    return pitch if what in ("R", "F", "A") else root


def _fifth_or_root(span: Span, root: int, low: int, high: int) -> int:
    up = root + (span.fifth_pc - span.bass_pc) % 12
    if up <= high:
        return up
    down = up - 12
    return down if down >= low else root
