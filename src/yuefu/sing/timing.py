"""Where each syllable's sounds go in time: consonants before the beat, the vowel on it.

Pure logic, no audio. A sung syllable's vowel starts on its note's onset (that is what a
listener hears as "on the beat"); its onset consonants come before, taking their natural length
but at most ``max_onset_s`` and never more than half of the previous note (or the rest before
it); the vowel holds through the note and any melisma notes; the coda consonants close it at the
end, just before the next syllable's consonants begin.

>>> notes = [NoteSpan(0.5, 1.0, 0), NoteSpan(1.0, 1.5, 1)]
>>> p = plan_syllables(notes, [UnitShape(0.08, 0.0), UnitShape(0.06, 0.05)])
>>> [(round(s.start_s, 2), s.vowel_s, round(s.coda_s, 2), round(s.end_s, 2)) for s in p]
[(0.42, 0.5, 0.94, 0.94), (0.94, 1.0, 1.45, 1.5)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from yuefu.core.errors import ParameterError

__all__ = ["NoteSpan", "UnitShape", "SyllableTiming", "plan_syllables", "phrases"]


@dataclass(frozen=True, slots=True)
class NoteSpan:
    """A note in seconds and the index of the syllable it sings (melisma notes repeat it)."""

    onset_s: float
    offset_s: float
    syllable: int


@dataclass(frozen=True, slots=True)
class UnitShape:
    """Natural lengths (seconds) of a syllable's onset consonants and coda consonants."""

    onset_s: float
    coda_s: float


@dataclass(frozen=True, slots=True)
class SyllableTiming:
    """Placement of one syllable (seconds).

    ``start_s`` <= ``vowel_s`` < ``coda_s`` <= ``end_s``: onset consonants in
    [start_s, vowel_s), the vowel in [vowel_s, coda_s), coda consonants in [coda_s, end_s).
    ``first_note`` and ``last_note`` index the notes it spans.
    """

    syllable: int
    start_s: float
    vowel_s: float
    coda_s: float
    end_s: float
    first_note: int
    last_note: int
    legato_next: bool


def plan_syllables(notes: Sequence[NoteSpan], shapes: Sequence[UnitShape], *,
                   legato_gap_s: float = 0.05, max_onset_s: float = 0.15, max_coda_s: float = 0.12,
                   min_onset_s: float = 0.03, keep_prev: float = 0.8,
                   coda_share: float = 0.15) -> list[SyllableTiming]:
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
    starts: list[tuple[float, float]] = []
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
        want = min(shapes[k].onset_s, max_onset_s)
        c = max(0.0, min(want, avail))
        vowel = on
        floor = min(want, min_onset_s)
        if c < floor:
            vowel = on + (floor - c)
            c = floor
        starts.append((vowel - c, vowel))
    out = []
    for k, (a, b) in enumerate(groups):
        start, vowel = starts[k]
        off = notes[b].offset_s
        legato = k + 1 < len(groups) and notes[groups[k + 1][0]].onset_s - off < legato_gap_s
        end = starts[k + 1][0] if legato else off
        end = max(end, vowel + 0.01)
        coda = min(shapes[k].coda_s, max_coda_s, coda_share * (end - vowel))
        out.append(SyllableTiming(k, start, vowel, end - coda, end, a, b, legato))
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
