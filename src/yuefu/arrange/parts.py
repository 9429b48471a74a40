"""Parts that several styles share: a bass-note voicer for left hands and thumbs, sustained
pads that swell into a chorus, counter-melody fills in the singer's rests, melody doubling and
harmony, copied melodic hooks, and the instruments' playable ranges.

>>> INSTRUMENT_RANGES[73]
(60, 96, 79)
>>> hook_range(73, vocal_median=67.0)
(67, 91)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from yuefu.arrange.patterns import EPS, Bar, Song, Span, Voicer, add_note, fit_pitch, velocity
from yuefu.core.score import Note, Track

__all__ = [
    "INSTRUMENT_RANGES",
    "hook_range",
    "RootVoicer",
    "sustain",
    "gap_fills",
    "double_melody",
    "harmony_below",
    "copy_line",
    "octave_shift",
]

#: GM program -> (lowest, highest, sweet-spot centre) MIDI pitch of the instruments the
#: arranger uses for lines; others fall back by family.
INSTRUMENT_RANGES: dict[int, tuple[int, int, int]] = {
    0: (21, 108, 72), 1: (21, 108, 72), 4: (28, 103, 67), 5: (28, 103, 67),
    9: (72, 108, 84), 10: (60, 96, 79), 11: (53, 89, 72), 12: (45, 96, 67), 13: (65, 96, 79),
    16: (36, 96, 64), 17: (36, 96, 64), 18: (36, 96, 64), 21: (53, 89, 69), 22: (60, 84, 72),
    24: (40, 84, 64), 25: (40, 84, 64), 26: (40, 84, 67), 27: (40, 84, 67), 28: (40, 84, 64),
    29: (40, 88, 67), 30: (40, 88, 67), 40: (55, 96, 74), 41: (48, 86, 64), 42: (36, 76, 55),
    45: (36, 96, 67), 46: (24, 103, 67), 48: (36, 96, 67), 49: (36, 96, 67), 56: (54, 86, 69),
    64: (56, 88, 72), 65: (49, 81, 67), 66: (44, 76, 60), 68: (58, 91, 72), 69: (52, 84, 64),
    71: (50, 91, 67), 72: (74, 108, 86), 73: (60, 96, 79), 74: (60, 96, 76), 75: (60, 92, 76),
    77: (55, 86, 72), 78: (60, 96, 79), 79: (60, 91, 76), 80: (36, 96, 72), 81: (36, 96, 72),
    104: (48, 84, 64), 105: (48, 84, 67), 106: (48, 84, 67), 107: (48, 91, 72), 108: (60, 96, 74),
    110: (55, 93, 74),
}


def _range_of(program: int) -> tuple[int, int, int]:
    if program in INSTRUMENT_RANGES:
        return INSTRUMENT_RANGES[program]
    family = program // 8
    return {0: (21, 108, 72), 1: (48, 96, 72), 4: (40, 84, 64), 5: (36, 96, 67), 6: (48, 84, 67),
            7: (55, 96, 74), 8: (36, 96, 72), 9: (36, 96, 67)}.get(family, (48, 84, 67))


def hook_range(program: int, *, vocal_median: float) -> tuple[int, int]:
    """The range a melodic line on ``program`` should use: two octaves around the instrument's
    sweet spot, nudged toward the singer's register (an octave above or below it).

    Parameters
    ----------
    program : int
        GM program.
    vocal_median : float
        Median MIDI pitch of the sung melody.

    Returns
    -------
    (int, int)
        Lowest and highest MIDI pitch.
    """
    lo, hi, centre = _range_of(program)
    # the octave of the melody nearest the sweet spot
    k = round((centre - vocal_median) / 12.0)
    c = int(round(vocal_median + 12 * k))
    c = max(lo + 12, min(hi - 12, c))
    return max(lo, c - 12), min(hi, c + 12)


def octave_shift(pitches: Sequence[int], low: int, high: int) -> int:
    """The whole-octave shift that puts the most of ``pitches`` inside ``[low, high]``, the
    one nearest the middle of the range among equals."""
    if not pitches:
        return 0
    ps = np.asarray(pitches)
    mid = (low + high) / 2.0
    best = max(range(-6, 7), key=lambda k: (int(np.sum((ps + 12 * k >= low) & (ps + 12 * k <= high))),
                                             -abs(float(np.median(ps)) + 12 * k - mid)))
    return 12 * best


class RootVoicer:
    """The bass note of each chord (its slash bass or root), its fifth and its octave, placed
    near the previous bass note: ``voice(span) -> (root, fifth, octave)``.

    Parameters
    ----------
    low, high : int
        Range of the root.
    """

    def __init__(self, *, low: int, high: int) -> None:
        self.low, self.high = low, high
        self.prev = (low + high) // 2
        self._memo: dict[tuple[float, str], tuple[int, ...]] = {}

    def voice(self, span: Span) -> tuple[int, ...]:
        k = (round(span.start, 6), span.symbol)
        if k not in self._memo:
            cands = [p for p in range(self.low, self.high + 1) if p % 12 == span.bass_pc]
            centre = (self.low + self.high) / 2
            root = min(cands, key=lambda p: (abs(p - self.prev) + 0.6 * abs(p - centre), p))
            fifth = root + (span.fifth_pc - span.bass_pc) % 12
            self._memo[k] = (root, fifth, root + 12)
            self.prev = root
        return self._memo[k]


def sustain(track: Track, song: Song, bars: Iterable[Bar], voicer: Voicer, *, base_vel: float,
            swell: bool = True, top_double: bool = False, low: int = 0, high: int = 127) -> None:
    """Sustained voicings (a pad or a string section).

    Each chord is held for as long as it lasts within a section; a section that leads into a
    chorus is re-struck bar by bar with rising velocity (a swell), and the chorus itself is
    played fuller (the top voice doubled an octave up when ``top_double``).
    """
    chosen = sorted(bars, key=lambda b: b.index)
    groups: list[list[Bar]] = []
    for b in chosen:
        if groups and groups[-1][-1].index == b.index - 1 and groups[-1][-1].section_no == b.section_no:
            groups[-1].append(b)
        else:
            groups.append([b])
    for grp in groups:
        nxt = song.next_bar(grp[-1])
        into_chorus = nxt is not None and nxt.kind == "chorus" and grp[-1].kind != "chorus"
        restrike = swell and into_chorus
        pieces = [(b.start, b.end) for b in grp] if restrike else [(grp[0].start, grp[-1].end)]
        for a, z in pieces:
            for span in song.spans_in(a, z):
                bar = song.bar_at(span.start)
                v = voicer.voice(span)
                vel_base = base_vel
                if restrike:
                    vel_base += 18.0 * bar.progress - 6.0
                vel = velocity(vel_base, song, span.start, accent_scale=0.0)
                pitches = list(v)
                if top_double and bar.kind == "chorus":
                    # the top voice an octave up, or the bottom one an octave down if that is shrill
                    pitches.append(v[-1] + 12 if v[-1] + 12 <= 84 else v[0] - 12)
                for p in pitches:
                    add_note(track, fit_pitch(p, low, high), span.start, span.end - span.start, vel)


def _nearest_in(pcs: Iterable[int], target: float, low: int, high: int, avoid: int | None = None) -> int:
    pcs = set(pcs)
    cands = [p for p in range(low, high + 1) if p % 12 in pcs and p != avoid]
    if not cands:
        cands = [p for p in range(low, high + 1) if p % 12 in pcs] or [int(target)]
    return min(cands, key=lambda p: (abs(p - target), p))


def gap_fills(track: Track, song: Song, *, low: int, high: int, base_vel: float,
              kinds: Sequence[str], density: float, rng: np.random.Generator,
              min_gap: float = 1.5, max_notes: int = 4) -> None:
    """Answer the singer in the rests: a short figure of 2-4 notes in each gap of at least
    ``min_gap`` beats (with probability ``density``), chord tones on the pulses and scale tones
    between them, moving toward the next sung note."""
    g = song.grid
    sub = g.sub_beats
    vocal = sorted(song.vocal, key=lambda n: n.onset)
    prev_pitch: float = (low + high) / 2.0
    for a, b in zip(vocal, vocal[1:], strict=False):
        gap = b.onset - a.end
        if gap < max(min_gap, 2 * sub) - EPS:
            continue
        bar = song.bar_at(a.end)
        if bar.kind not in kinds or song.bar_at(b.onset).kind not in kinds:
            continue
        if rng.random() >= density:
            continue
        start = math.ceil((a.end + 0.01) / sub - EPS) * sub
        stop = b.onset - sub / 2
        slots = int(math.floor((stop - start) / sub + EPS))
        if slots < 2:
            continue
        n = min(max_notes, slots, int(rng.integers(2, max_notes + 1)))
        spacing = max(1, slots // n) if slots >= 2 * n else 1
        spacing = min(spacing, 2)
        target = b.pitch + octave_shift([b.pitch], low, high)
        cur = float(_nearest_in(song.span_at(start).tones, prev_pitch, low, high))
        last = None
        vel = base_vel
        for i in range(n):
            on = start + i * spacing * sub
            end = on + spacing * sub * 0.95 if i < n - 1 else min(stop, on + max(spacing * sub, 2 * sub))
            if end - on <= 0.05:
                break
            want = cur + (target - cur) * (i / max(1, n))
            bar_i = song.bar_at(on)
            on_pulse = g.accent(on - bar_i.start) >= 1
            pcs = song.span_at(on).tones if on_pulse or i == 0 else song.scale_pcs()
            p = _nearest_in(pcs, want, low, high, avoid=last)
            add_note(track, p, on, end - on, velocity(vel, song, on, rng=rng, spread=3))
            last = p
        if last is not None:
            prev_pitch = float(last)


def double_melody(track: Track, song: Song, *, kinds: Sequence[str], low: int, high: int,
                  vel_scale: float = 0.8) -> None:
    """Double the sung melody in the given sections, moved by whole octaves into the range."""
    notes = [n for n in song.vocal if song.bar_at(n.onset).kind in kinds]
    shift = octave_shift([n.pitch for n in notes], low, high)
    for n in notes:
        add_note(track, fit_pitch(n.pitch + shift, low, high), n.onset, n.duration, n.velocity * vel_scale)


def harmony_below(track: Track, song: Song, *, kinds: Sequence[str], vel_scale: float = 0.7,
                  low: int = 36) -> None:
    """A chord tone a third to a sixth below each sung note that falls on a pulse."""
    g = song.grid
    for n in song.vocal:
        bar = song.bar_at(n.onset)
        if bar.kind not in kinds or g.accent(n.onset - bar.start) < 1 or n.duration < g.sub_beats - EPS:
            continue
        pcs = song.span_at(n.onset).tones
        if n.pitch % 12 not in pcs:
            continue  # a passing note: no harmony under it
        best = None
        for iv in (3, 4, 8, 9, 5):
            p = n.pitch - iv
            if p % 12 in pcs and p >= low:
                best = p
                break
        if best is not None:
            add_note(track, best, n.onset, n.duration, n.velocity * vel_scale)


def copy_line(notes: Sequence[Note], *, src_start: float, src_len: float, dst_start: float,
              dst_len: float, low: int, high: int, vel_scale: float = 0.85) -> list[Note]:
    """Copy the notes of a stretch of melody to another place (an intro hook, an outro echo).

    The stretch ``[src_start, src_start + src_len)`` is repeated to fill ``dst_len`` beats if
    it is shorter; the copy is moved by whole octaves into ``[low, high]``, its notes cut at
    the end of the destination.
    """
    src = [n for n in notes if src_start - EPS <= n.onset < src_start + src_len - EPS]
    if not src or src_len <= 0:
        return []
    shift = octave_shift([n.pitch for n in src], low, high)
    out: list[Note] = []
    reps = max(1, int(math.ceil(dst_len / src_len - EPS)))
    dst_end = dst_start + dst_len
    for r in range(reps):
        for n in src:
            on = dst_start + r * src_len + (n.onset - src_start)
            if on >= dst_end - 0.25:
                continue
            end = min(on + n.duration, dst_end)
            if end - on > 0.05:
                out.append(Note(fit_pitch(n.pitch + shift, low, high), round(on, 6), round(end - on, 6),
                                int(np.clip(n.velocity * vel_scale, 1, 127))))
    return out
