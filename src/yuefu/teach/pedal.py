"""The sustain pedal against the score's pedal marks.

A score that marks the pedal (MusicXML "Ped." ... "*" and pedal changes, a score MIDI's
controller 64: :attr:`yuefu.core.Track.pedals`) asks for three things, each judged here from the
pedal a digital piano recorded (:attr:`Performance.pedal_s`), through the alignment's timing
(the time each chord of the score was played):

* ``not_pressed``: a marked span (from a "Ped." or a change to the next change or "*") of at
  least :data:`MIN_SPAN_S` with the pedal down less than :data:`MIN_COVER` of it;
* ``not_changed``: a marked change (the pedal let up and pressed again, as each new harmony
  comes) with the pedal held down throughout :func:`change_window` around it: the two harmonies
  blur;
* ``held_on``: the pedal still down :data:`HELD_ON_BEATS` beats after a "*" where the score
  goes on without the pedal.

Nothing is said where the score marks no pedal (pianists pedal much that no score writes), nor
of a recording (the pedal cannot be told from the sound reliably), nor of a performance that did
not say what its pedal did (notes given without it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yuefu.teach.performance import Performance
from yuefu.teach.reference import Reference

__all__ = ["PEDAL_KINDS", "PedalVerdict", "change_window", "judge_pedal", "pedal_judged"]

#: The kinds of :class:`PedalVerdict`.
PEDAL_KINDS = ("not_pressed", "not_changed", "held_on")

#: A marked span is judged ``not_pressed`` when the pedal was down for less than this share of it.
MIN_COVER = 0.3
#: Marked spans shorter than this (in the performance) are not judged ``not_pressed``: a pedal
#: pressed just after the chord, as it should be, covers little of a short span.
MIN_SPAN_S = 0.6
#: How long after a "*" the pedal may stay down before it is ``held_on``, in beats (and at least
#: :data:`HELD_ON_MIN_S`).
HELD_ON_BEATS = 1.0
HELD_ON_MIN_S = 0.5
#: A mark beginning at most this many beats after the last one ends is a change of the pedal (a
#: score MIDI lets the pedal up a few ticks before it presses it again).
CHANGE_GAP_BEATS = 0.25


@dataclass(frozen=True)
class PedalVerdict:
    """One way the pedal departed from the score's marks.

    ``kind`` is one of :data:`PEDAL_KINDS`; ``bar`` the (1-based) bar of the mark and ``to_bar``
    the last bar of a span not pressed; ``beat`` the score beat of the mark (a span's start, a
    change, a "*"); ``at_s`` when the performance reached it.
    """

    kind: str
    bar: int
    to_bar: int
    beat: float
    at_s: float


def change_window(spb: float) -> tuple[float, float]:
    """Seconds before and after a marked change within which the pedal must come up at least
    once, at ``spb`` seconds per beat: a pianist lets it up as the new harmony sounds, or a
    moment before, or (syncopated pedalling) a moment after, and presses it again at once."""
    return max(0.2, 0.5 * spb), max(0.3, 0.75 * spb)


def pedal_judged(ref: Reference, perf: Performance) -> bool:
    """Whether the score's pedal marks are judged: the score marks the pedal and the performance
    says what its pedal did (MIDI, live; not a recording, nor notes given without it)."""
    return bool(ref.pedals) and perf.pedal_s is not None and not perf.transcribed


def judge_pedal(ref: Reference, perf: Performance, cluster_time_s: np.ndarray) -> tuple[PedalVerdict, ...]:
    """The pedal verdicts of ``perf`` (see the module's text); () where nothing can be said."""
    if not pedal_judged(ref, perf) or perf.pedal_s is None:
        return ()
    t = np.asarray(cluster_time_s, dtype=np.float64)
    beats = np.array([c.beat for c in ref.clusters])
    ok = np.isfinite(t)
    if ok.sum() < 2:
        return ()
    cb, ct = beats[ok], np.maximum.accumulate(t[ok])  # a restart's first pass is past: keep time moving on

    def at(beat: float) -> float:
        if beat <= cb[0]:
            spb = (ct[1] - ct[0]) / max(cb[1] - cb[0], 1e-6)
            return float(ct[0] - (cb[0] - beat) * spb)
        if beat >= cb[-1]:
            spb = (ct[-1] - ct[-2]) / max(cb[-1] - cb[-2], 1e-6)
            return float(ct[-1] + (beat - cb[-1]) * spb)
        return float(np.interp(beat, cb, ct))

    def spb_at(beat: float) -> float:
        return max(0.05, at(beat + 0.5) - at(beat - 0.5))

    downs = sorted(perf.pedal_s)
    out: list[PedalVerdict] = []
    first_s, last_s = float(ct[0]), float(ct[-1])
    spans = list(ref.pedals)
    for i, (a, b) in enumerate(spans):
        a = max(a, float(cb[0]))  # a mark before the first note: the pedal goes down with it
        if b <= a:
            continue
        A, B = at(a), at(b)
        if B < first_s or A > last_s + 1.0:
            continue  # a passage not played (the student stopped early, or began later)
        if B - A >= MIN_SPAN_S and _down_share(downs, A, B) < MIN_COVER:
            out.append(PedalVerdict("not_pressed", ref.bar_at(a), ref.bar_at(max(a, b - 1e-3)), a, A))
            continue
        joined = i + 1 < len(spans) and spans[i + 1][0] - b <= CHANGE_GAP_BEATS
        if joined:
            before, after = change_window(spb_at(b))
            if _held_throughout(downs, B - before, B + after) and B + after <= last_s + 1.0:
                out.append(PedalVerdict("not_changed", ref.bar_at(b), ref.bar_at(b), b, B))
        else:
            next_start = spans[i + 1][0] if i + 1 < len(spans) else None
            music_goes_on = b < cb[-1] - 1e-6
            free = next_start is None or next_start - b >= HELD_ON_BEATS + 0.5
            hold = max(HELD_ON_MIN_S, HELD_ON_BEATS * spb_at(b))
            if music_goes_on and free and B + hold <= last_s and _held_throughout(downs, B, B + hold):
                out.append(PedalVerdict("held_on", ref.bar_at(max(a, b - 1e-3)), ref.bar_at(b), b, B))
    # neighbouring spans not pressed are one run of bars (a span not pressed was not also judged
    # for the change at its end, above)
    merged: list[PedalVerdict] = []
    for v in out:
        if (merged and v.kind == "not_pressed" and merged[-1].kind == "not_pressed"
                and v.bar <= merged[-1].to_bar + 1):
            p = merged[-1]
            merged[-1] = PedalVerdict(p.kind, p.bar, max(p.to_bar, v.to_bar), p.beat, p.at_s)
        else:
            merged.append(v)
    return tuple(merged)


def _down_share(downs: Sequence[tuple[float, float]], a: float, b: float) -> float:
    """The share of ``[a, b]`` with the pedal down."""
    if b <= a:
        return 1.0
    return sum(max(0.0, min(b, y) - max(a, x)) for x, y in downs) / (b - a)


def _held_throughout(downs: Sequence[tuple[float, float]], a: float, b: float) -> bool:
    """Whether the pedal stayed down through all of ``[a, b]`` without coming up (a change: one
    pedal ending where the next begins, counts as coming up)."""
    return any(x <= a and y >= b for x, y in downs)
