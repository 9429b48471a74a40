"""Drums: grooves per style, meter and feel; fills in the last bar of each section; a crash at
each section start; the final hit.

A groove is built on the bar's :class:`~yuefu.arrange.patterns.Grid` (felt pulses and their
subdivisions), so one description serves 4/4, 3/4, 2/4, 6/8 and 12/8: the kick on the strong
beats, the backbeat on the grid's backbeats, a timekeeper (hi-hat, ride, shaker, woodblock)
on pulses, subdivisions or sixteenths as the section's energy rises. A fill replaces the end of
the bar with a crescendo of notes one level finer than the timekeeper (toms falling from high
to low, or a snare roll for electronic styles), so a fill bar always holds more onsets than the
groove around it.

>>> KITS["rock"].timekeeper_chorus == RIDE
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yuefu.arrange.patterns import EPS, Bar, Song, add_note, velocity
from yuefu.core.score import Track

__all__ = ["KITS", "DrumKit", "drum_track", "KICK", "SNARE", "SIDE_STICK", "CLAP", "CLOSED_HAT",
           "OPEN_HAT", "PEDAL_HAT", "CRASH", "RIDE", "TAMBOURINE", "SHAKER", "CHINA", "HI_WOOD",
           "LO_WOOD", "TOMS"]

# General MIDI percussion keys (channel 10)
KICK, SIDE_STICK, SNARE, CLAP = 36, 37, 38, 39
CLOSED_HAT, PEDAL_HAT, OPEN_HAT = 42, 44, 46
CRASH, RIDE, CHINA, TAMBOURINE = 49, 51, 52, 54
SHAKER, HI_WOOD, LO_WOOD = 70, 76, 77
#: Toms from high to low (hi, hi-mid, low-mid, low, high floor, low floor).
TOMS = (50, 48, 47, 45, 43, 41)


@dataclass(frozen=True)
class DrumKit:
    """How a style plays the kit.

    Parameters
    ----------
    name : str
    sections : tuple of str
        Section kinds in which the groove plays (others are silent, apart from fills and hits).
    kick : str
        ``"strong"`` (kick on the strong beats), ``"pop"`` (plus a pushed kick), ``"rock"``
        (plus offbeat kicks), ``"four"`` (every pulse: four on the floor), ``"light"`` (the
        downbeat only).
    backbeat_verse, backbeat_chorus : int or None
        Percussion key of the backbeat in quiet and loud sections (None: no backbeat).
    timekeeper_verse, timekeeper_chorus : int
        The hi-hat, ride, shaker or woodblock that keeps time.
    extra_chorus : int or None
        An extra colour in loud sections (tambourine on the backbeat, open hat off the beat).
    fill : str
        ``"toms"``, ``"snare"`` (a snare roll that keeps the kick and hats going), ``"light"``
        (soft snare and toms).
    crash : int
        The cymbal at section starts.
    base : float
        Velocity of an ordinary hit at energy 0.5.
    max_density : int
        The finest timekeeper: 1 pulses, 2 subdivisions, 3 sixteenths.
    """

    name: str
    sections: tuple[str, ...]
    kick: str
    backbeat_verse: int | None
    backbeat_chorus: int | None
    timekeeper_verse: int
    timekeeper_chorus: int
    extra_chorus: int | None
    fill: str
    crash: int
    base: float
    max_density: int = 3
    kick_drum: int = KICK


_ALL = ("intro", "verse", "prechorus", "chorus", "bridge", "outro", "other")

KITS: dict[str, DrumKit] = {
    "pop": DrumKit("pop", _ALL, "pop", SIDE_STICK, SNARE, CLOSED_HAT, CLOSED_HAT, OPEN_HAT,
                   "toms", CRASH, 88.0),
    "ballad": DrumKit("ballad", ("prechorus", "chorus", "bridge", "other"), "strong", SIDE_STICK,
                      SNARE, CLOSED_HAT, RIDE, None, "light", CRASH, 72.0, max_density=2),
    "folk": DrumKit("folk", ("verse", "prechorus", "chorus", "bridge", "other", "outro"), "light",
                    SIDE_STICK, SNARE, SHAKER, SHAKER, TAMBOURINE, "light", CRASH, 74.0,
                    max_density=2),
    "guofeng": DrumKit("guofeng", ("prechorus", "chorus", "bridge", "other", "verse"), "light",
                       LO_WOOD, HI_WOOD, HI_WOOD, SHAKER, TAMBOURINE, "toms", CHINA, 74.0,
                       max_density=2, kick_drum=TOMS[5]),
    "rock": DrumKit("rock", _ALL, "rock", SNARE, SNARE, CLOSED_HAT, RIDE, None, "toms", CRASH, 98.0,
                    max_density=2),
    "electronic": DrumKit("electronic", _ALL, "four", CLAP, CLAP, CLOSED_HAT, CLOSED_HAT, OPEN_HAT,
                          "snare", CRASH, 94.0),
    "children": DrumKit("children", _ALL, "strong", SNARE, SNARE, CLOSED_HAT, TAMBOURINE, CLAP,
                        "light", CRASH, 80.0, max_density=2),
}


def _loud(bar: Bar) -> bool:
    return bar.kind in ("chorus",) or bar.energy >= 0.72


def _density(kit: DrumKit, bar: Bar) -> int:
    """1: timekeeper on pulses, 2: on subdivisions, 3: sixteenths."""
    e = bar.energy
    d = 1 if e < 0.3 else (2 if e < 0.75 else 3)
    return min(d, kit.max_density)


def _groove(song: Song, bar: Bar, kit: DrumKit, rng: np.random.Generator) -> list[tuple[float, int, float]]:
    """(offset, key, velocity offset) of one groove bar."""
    g = song.grid
    L, S = g.pulse_beats, g.subs
    hits: list[tuple[float, int, float]] = []
    loud = _loud(bar)
    # kick
    kicks = list(g.strong_offsets())
    if kit.kick == "four":
        kicks = g.pulse_offsets()
        if bar.kind == "intro" and bar.pos == 0:
            kicks = [0.0]
    elif kit.kick == "light":
        kicks = [0.0] if not loud else list(g.strong_offsets())
    elif g.halftime and g.pulses == 4:
        kicks = [0.0, 2.5 * L] if not g.compound else [0.0, 2 * L + 2 * g.sub_beats]
    if kit.kick in ("pop", "rock") and g.pulses == 4 and not g.compound and not g.halftime:
        if rng.random() < (0.6 if loud else 0.35):
            kicks.append(2.5)
        if kit.kick == "rock" and loud and rng.random() < 0.5:
            kicks.append(1.5 if rng.random() < 0.5 else 3.5)
    if kit.kick == "rock" and g.compound and loud:
        kicks.append(g.sub_beats * (S - 1))
    if kit.kick == "rock" and g.pulses == 3 and loud:
        kicks.append(2 * L)
    for k in kicks:
        hits.append((k, kit.kick_drum, 6.0))
    # backbeat
    bb = kit.backbeat_chorus if loud else kit.backbeat_verse
    if bb is not None:
        for k, off in enumerate(g.backbeats()):
            soft = g.pulses == 3 and k == 1
            hits.append((off, bb, -10.0 if soft else 2.0))
            if loud and kit.extra_chorus == TAMBOURINE:
                hits.append((off, TAMBOURINE, -8.0))
            if loud and kit.extra_chorus == CLAP and kit.name == "children":
                hits.append((off, CLAP, -6.0))
    # timekeeper
    tk = kit.timekeeper_chorus if loud else kit.timekeeper_verse
    dens = _density(kit, bar)
    if g.compound and dens == 3:
        dens = 2
    step = {1: L, 2: g.sub_beats, 3: g.sub_beats / 2}[dens]
    n = int(round(g.bar_beats / step))
    for i in range(n):
        off = i * step
        on_pulse = abs(off / L - round(off / L)) < 1e-6
        key = tk
        if kit.extra_chorus == OPEN_HAT and loud and tk == CLOSED_HAT and not g.compound:
            # an open hat on the "and" of each pulse (dance) or of the last pulse (pop)
            if abs(off % L - L / 2) < 1e-6 and (kit.name == "electronic" or off > g.bar_beats - L):
                key = OPEN_HAT
        hits.append((off, key, 0.0 if on_pulse else -12.0))
    # ghost notes on the snare in loud pop and rock bars
    if kit.name in ("pop", "rock") and loud and bar.energy > 0.6 and not g.compound:
        for i in range(int(round(g.bar_beats / 0.25))):
            off = i * 0.25
            if off % L in (0.25, 0.75) and rng.random() < 0.18:
                hits.append((off, SNARE, -45.0))
    return hits


def _fill(song: Song, bar: Bar, kit: DrumKit,
          rng: np.random.Generator) -> tuple[float, list[tuple[float, int, float]]]:
    """Where the fill starts (offset) and its notes (offset, key, velocity offset)."""
    g = song.grid
    L = g.pulse_beats
    n_pulses = 1 if bar.energy < 0.45 or g.pulses <= 2 else 2
    if g.pulses == 2 and bar.energy >= 0.6:
        n_pulses = 1
    start = g.bar_beats - n_pulses * L
    dens = _density(kit, bar)
    if g.compound:
        step = g.sub_beats if dens <= 1 else g.sub_beats / 2
    else:
        step = {1: g.sub_beats, 2: g.sub_beats / 2, 3: g.sub_beats / 2}[dens]
    n = int(round(n_pulses * L / step))
    notes: list[tuple[float, int, float]] = []
    if kit.fill == "snare":
        # a snare roll that doubles its rate in the last pulse (an electronic build)
        t = start
        i = 0
        while t < g.bar_beats - EPS:
            last_pulse = t >= g.bar_beats - L - EPS
            notes.append((t, SNARE, -18.0 + 22.0 * (t - start) / (g.bar_beats - start)))
            t += step / 2 if last_pulse else step
            i += 1
        return start, notes
    toms = TOMS if kit.name != "guofeng" else (TOMS[1], TOMS[3], TOMS[5])
    for i in range(n):
        off = start + i * step
        frac = i / max(1, n - 1)
        if frac < 0.25 and kit.name != "guofeng":
            key = SNARE
        else:
            key = toms[min(len(toms) - 1, int(frac * len(toms)))]
        soft = -10.0 if kit.fill == "light" else 0.0
        notes.append((off, key, soft - 14.0 + 20.0 * frac))
    for p in range(n_pulses):  # the kick under each pulse of the fill
        notes.append((start + p * L, kit.kick_drum, 0.0))
    return start, notes


def drum_track(song: Song, kit: DrumKit, *, name: str = "drums", gain_db: float = 0.0,
               pan: float = 0.0) -> Track:
    """The drum part of a song.

    Parameters
    ----------
    song : Song
    kit : DrumKit
        How the style plays (:data:`KITS`).
    name, gain_db, pan
        The track's name and mix.

    Returns
    -------
    Track
        ``is_drum=True``, role ``"drums"``: the groove in the kit's sections, a fill in the last
        bar of every section that has drums or leads into drums, a crash on each section start
        after a fill, and a final crash and kick on the last downbeat.
    """
    track = Track(name, program=0, is_drum=True, role="drums", gain_db=gain_db, pan=pan)
    rng = song.rng("drums")
    plays = [b.kind in kit.sections for b in song.bars]
    for bar in song.bars:
        nxt = song.next_bar(bar)
        if bar.final:
            add_note(track, kit.crash, bar.start, 4.0, velocity(kit.base + 12, song, bar.start, rng=rng))
            add_note(track, kit.kick_drum, bar.start, 1.0, velocity(kit.base + 8, song, bar.start, rng=rng))
            continue
        here = plays[bar.index]
        into = nxt is not None and plays[nxt.index]
        fill = nxt is not None and (here or into) and (bar.last or nxt.final)
        hits: list[tuple[float, int, float]] = []
        if here:
            hits = _groove(song, bar, kit, rng)
        if fill:
            start, fnotes = _fill(song, bar, kit, rng)
            # busy grooves keep their timekeeper through the fill (as a programmed part does)
            keep = (kit.timekeeper_verse, kit.timekeeper_chorus, OPEN_HAT) if (
                kit.fill == "snare" or _density(kit, bar) == 3) else ()
            hits = [h for h in hits if h[0] < start - EPS or h[1] in keep] + fnotes
        if here and bar.first and (bar.index > 0 or bar.kind != "intro"):
            hits.append((0.0, kit.crash, 10.0))
            hits = [h for h in hits if not (h[0] < EPS and h[1] in (CLOSED_HAT, RIDE, SHAKER))]
        elif here and bar.first:
            hits.append((0.0, kit.crash, -4.0))
        for off, key, acc in hits:
            on = bar.start + off
            dur = 1.0 if key in (CRASH, CHINA, OPEN_HAT, RIDE) else 0.25
            add_note(track, key, on, dur, velocity(kit.base + acc, song, on, rng=rng, spread=5))
    return track
