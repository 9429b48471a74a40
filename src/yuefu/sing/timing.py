"""Where each syllable's sounds go in time: consonants before the beat, the vowel on it.

Pure logic, no audio. A sung syllable's vowel starts on its note's onset (that is what a
listener hears as "on the beat"); its onset consonants come before, taking their natural length
but at most ``max_onset_s`` and never more than a fifth of the previous note (or the rest before
it). A sonorant or glide right before the vowel (the l of "la", m, n, r, English w and y) is
sung short, as singers do (at most ``max_sonorant_s``, about 60 ms), so that the vowel and not
a long hum or glide is what starts on the beat; an obstruent before it (the b of "blue") keeps
its own length. A Mandarin medial (the u of guang, the i of xia) is not an onset at all: it is
part of the final and starts on the beat (:func:`nucleus_positions` moves it quickly into the
main vowel). The vowel holds through the note and any melisma notes; the coda consonants close
it at the end, just before the next syllable's consonants begin, and before a rest they may run
a little past the note's offset (a final "t" or "ks" is heard in full, not cut short).

>>> notes = [NoteSpan(0.5, 1.0, 0), NoteSpan(1.0, 1.5, 1)]
>>> p = plan_syllables(notes, [UnitShape(0.08, 0.0), UnitShape(0.06, 0.05)])
>>> [(round(s.start_s, 2), s.vowel_s, round(s.coda_s, 2), round(s.end_s, 2)) for s in p]
[(0.42, 0.5, 0.94, 0.94), (0.94, 1.0, 1.45, 1.5)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from yuefu.core.errors import ParameterError

__all__ = ["NoteSpan", "UnitShape", "SyllableTiming", "plan_syllables", "phrases", "nucleus_positions"]


@dataclass(frozen=True, slots=True)
class NoteSpan:
    """A note in seconds and the index of the syllable it sings (melisma notes repeat it)."""

    onset_s: float
    offset_s: float
    syllable: int


@dataclass(frozen=True, slots=True)
class UnitShape:
    """Natural lengths (seconds) of a syllable's onset consonants and coda consonants.

    ``sonorant_s`` is the part of ``onset_s`` (its end, right before the vowel) that is a
    sonorant or glide (l, m, n, r, w, y): sung short before the beat.
    """

    onset_s: float
    coda_s: float
    sonorant_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SyllableTiming:
    """Placement of one syllable (seconds).

    ``start_s`` <= ``sonorant_s`` <= ``vowel_s`` < ``coda_s`` <= ``end_s``: obstruent onset
    consonants in [start_s, sonorant_s), a sonorant onset in [sonorant_s, vowel_s), the vowel in
    [vowel_s, coda_s), coda consonants in [coda_s, end_s). ``first_note`` and ``last_note``
    index the notes it spans; ``legato_next``: the next syllable follows without a rest.
    """

    syllable: int
    start_s: float
    vowel_s: float
    coda_s: float
    end_s: float
    first_note: int
    last_note: int
    legato_next: bool
    sonorant_s: float = -1.0

    def __post_init__(self) -> None:
        if self.sonorant_s < 0:  # no sonorant part given: it is empty
            object.__setattr__(self, "sonorant_s", self.vowel_s)


def plan_syllables(notes: Sequence[NoteSpan], shapes: Sequence[UnitShape], *,
                   legato_gap_s: float = 0.05, max_onset_s: float = 0.15, max_coda_s: float = 0.18,
                   min_onset_s: float = 0.03, keep_prev: float = 0.8,
                   coda_share: float = 0.15, max_sonorant_s: float = 0.06,
                   max_coda_after_s: float = 0.08) -> list[SyllableTiming]:
    """Place every syllable (one :class:`SyllableTiming` per syllable index, in order).

    Parameters
    ----------
    notes : sequence of NoteSpan
        Sorted, not overlapping; syllable indices 0, 1, 2, ... in order, repeated for melismas.
    shapes : sequence of UnitShape
        One per syllable index.
    legato_gap_s : float
        A gap shorter than this joins two notes (the voice does not stop).
    max_onset_s, max_coda_s : float
        Caps on the consonant lengths.
    min_onset_s : float
        Where the space before a note is shorter than this, the consonants still get this much
        and the vowel starts that much late (only after a rest at the very start, in practice).
    keep_prev : float
        Fraction of the previous note that its own vowel keeps when the next consonants come.
    coda_share : float
        The coda takes at most this fraction of the syllable's sung span (before its offset).
    max_sonorant_s : float
        Cap on a sonorant or glide right before the vowel (sung ~40-60 ms, not spoken ~150 ms).
    max_coda_after_s : float
        Before a rest, how far the coda may run past the note's offset.
    """
    groups: list[tuple[int, int]] = []  # (first note, last note) per syllable
    for i, n in enumerate(notes):
        if groups and notes[groups[-1][0]].syllable == n.syllable:
            groups[-1] = (groups[-1][0], i)
        else:
            if n.syllable != len(groups):
                raise ParameterError(f"note {i}: syllable index {n.syllable}, expected {len(groups)}")
            groups.append((i, i))
    if len(shapes) != len(groups):
        raise ParameterError(f"{len(groups)} syllables but {len(shapes)} unit shapes")
    starts: list[tuple[float, float, float]] = []  # (start, sonorant start, vowel)
    for k, (a, _) in enumerate(groups):
        on = notes[a].onset_s
        if k == 0:
            avail = on
        else:
            pa, pb = groups[k - 1]
            gap = on - notes[pb].offset_s
            if gap < legato_gap_s:
                avail = max(0.0, gap) + (1.0 - keep_prev) * (notes[pb].offset_s - notes[pb].onset_s)
            else:
                avail = gap - 0.01
        sh = shapes[k]
        son_nat = min(max(sh.sonorant_s, 0.0), sh.onset_s)
        son = min(son_nat, max_sonorant_s)
        obs = min(sh.onset_s - son_nat, max(0.0, max_onset_s - son))
        want = obs + son
        c = max(0.0, min(want, avail))
        vowel = on
        floor = min(want, min_onset_s)
        if c < floor:
            vowel = on + (floor - c)
            c = floor
        son_part = son * (c / want) if want > 0 else 0.0
        starts.append((vowel - c, vowel - son_part, vowel))
    out = []
    for k, (a, b) in enumerate(groups):
        start, son_start, vowel = starts[k]
        off = notes[b].offset_s
        nxt = starts[k + 1][0] if k + 1 < len(groups) else float("inf")
        legato = k + 1 < len(groups) and notes[groups[k + 1][0]].onset_s - off < legato_gap_s
        end = nxt if legato else off
        end = max(end, vowel + 0.01)
        inside = coda_share * (end - vowel)
        after = 0.0 if legato else max(0.0, min(max_coda_after_s, nxt - off - 0.02))
        coda = min(shapes[k].coda_s, max_coda_s, inside + after)
        if not legato:
            end = off + max(0.0, coda - inside)
        out.append(SyllableTiming(k, start, vowel, end - coda, end, a, b, legato, son_start))
    return out


def nucleus_positions(x: np.ndarray, total: float, nucleus: tuple[int, int], hold: tuple[float, float],
                      *, glide: int = 0, max_glide: float = 12.0, max_pre: float = 24.0,
                      max_post: float = 30.0, rate: float = 0.3) -> np.ndarray:
    """Source frame positions for a vowel nucleus sung over ``total`` output frames, at output
    frames ``x`` (0 = the note onset).

    A medial glide (the first ``glide`` frames of the nucleus: the u of guang) is sung from the
    onset and moves into the main vowel within ``max_glide`` frames (60 ms at 5 ms frames). A
    short note plays the rest of the nucleus faster (linearly). A long one goes into the steady
    part ``hold`` quickly (at most ``max_pre`` frames), moves back and forth through it at
    ``rate`` times its natural speed, and leaves it for the vowel's end (at most ``max_post``
    frames).

    >>> pos = nucleus_positions(np.arange(200.0), 200.0, (10, 80), (40.0, 50.0), glide=25)
    >>> float(pos[0]), bool(pos[12] >= 35.0)  # the glide is passed within 12 frames (60 ms)
    (10.0, True)
    """
    n0, n1 = nucleus
    h0, h1 = hold
    glide = int(max(0, min(glide, h0 - n0 - 1, n1 - n0 - 2)))
    g_out = 0.0
    if glide > 0:
        g_out = min(float(glide), max_glide, 0.3 * total)
        if g_out <= 0:
            glide = 0
    if glide > 0:
        rest = nucleus_positions(np.maximum(x - g_out, 0.0), max(total - g_out, 1e-9), (n0 + glide, n1),
                                 hold, max_pre=max_pre, max_post=max_post, rate=rate)
        g = n0 + x * (glide / g_out)
        return np.where(x < g_out, np.clip(g, n0, n0 + glide), rest)
    pre, mid, post = h0 - n0, h1 - h0, n1 - h1
    pre_out, post_out = min(pre, max_pre), min(post, max_post)
    length = total - pre_out - post_out
    if mid <= 0 or length <= mid:
        return np.clip(n0 + x * ((n1 - n0) / max(total, 1e-9)), n0, n1 - 1e-6)
    m = max(0, int(round((length * rate / mid - 1) / 2)))
    speed = (2 * m + 1) * mid / length
    y = np.clip(x - pre_out, 0.0, length) * speed
    tri = mid - np.abs((y % (2 * mid)) - mid)  # 0 .. mid .. 0 .. mid: ends at mid
    tri = np.where(y >= (2 * m + 1) * mid - 1e-9, mid, tri)
    head = n0 + x * (pre / max(pre_out, 1e-9)) if pre_out > 0 else np.full_like(x, n0)
    tail = h1 + (x - (total - post_out)) * (post / max(post_out, 1e-9))
    pos = np.where(x < pre_out, head, np.where(x > total - post_out, tail, h0 + tri))
    out: np.ndarray = np.clip(pos, n0, n1 - 1e-6)
    return out


def phrases(timings: Sequence[SyllableTiming], *, min_rest_s: float = 0.25) -> list[tuple[int, int]]:
    """Runs of syllables (first, last index) separated by rests of at least ``min_rest_s``."""
    out: list[tuple[int, int]] = []
    for k, s in enumerate(timings):
        if out and s.start_s - timings[out[-1][1]].end_s < min_rest_s:
            out[-1] = (out[-1][0], k)
        else:
            out.append((k, k))
    return out
