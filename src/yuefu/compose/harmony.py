"""Chords for a melody: ``harmonize(melody, motive) -> list[ChordSymbol]``, and the two measures of
how well a melody sits in its key and on its chords.

The harmoniser is a hidden Markov model decoded with Viterbi. Its states are the chords of the
motive's palette (:func:`chord_options`); each slot of one or half a bar scores

* the melody's fit: a note on a strong beat must be a chord tone (or a prepared non-chord tone:
  it resolves by step to a chord tone, after the same pitch (a suspension) or within a beat (an
  appoggiatura)); other notes add their length when they are chord tones and cost a little when
  they are not, more when they sit a semitone above a chord tone;
* the transition: learned Roman-numeral bigrams of POP909 (``melody_pop909.json``, per mode) and
  the learned chance of a change on the downbeat and in mid-bar;
* cadences: the tonic at the end of a chorus, an outro and the song (with a V or IV before it),
  a dominant or tonic at the end of other sections; the tonic at the start;
* the melody's own chord symbols, when it has them (the skeleton ``write_melody`` composed
  against): a bonus, so that the harmoniser revises them rather than ignores them.

>>> from yuefu.core.motive import Motive
>>> from yuefu.core.score import Note, Score, Track
>>> s = Score()
>>> t = s.add_track(Track("vocal", role="vocal"))
>>> t.notes += [Note(p, 2.0 * i, 2.0, lyric="la") for i, p in enumerate([60, 64, 67, 71, 72, 74, 72, 72])]
>>> [c.symbol for c in harmonize(s, Motive(key="C major"))][-1]
'C'
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from yuefu.compose._common import (
    ChordOption,
    bar_beats_of,
    chord_options,
    draw_from_logits,
    is_strong,
    load_stats,
    lyric_or_melody_track,
    mode_family,
    score_meter,
    section_kind,
    strong_positions,
    transition_matrix,
)
from yuefu.core.errors import ParameterError
from yuefu.core.motive import Motive
from yuefu.core.score import ChordSymbol, Note, Score
from yuefu.core.theory import Key, parse_chord

__all__ = ["harmonize", "chord_tone_ratio", "in_key_ratio", "chord_options", "ChordOption"]

_STRONG_MISS = 6.0  # cost of a strong-beat note that is no chord tone
_PREPARED_MISS = 1.5  # ... when it is a prepared non-chord tone
_SKELETON_BONUS = 1.5  # for the chord the melody's own skeleton has in a slot


def solve_chain(unary: np.ndarray, trans: np.ndarray, change_logp: np.ndarray, stay_logp: np.ndarray,
                *, rng: np.random.Generator | None = None, tau: float = 1.0) -> list[int]:
    """Best (``rng=None``: Viterbi) or sampled (forward filtering, backward sampling) chord path.

    Parameters
    ----------
    unary : np.ndarray [shape=(n_slots, k)]
        Log score of each chord in each slot (``-inf`` forbids it).
    trans : np.ndarray [shape=(k, k)]
        Log probability of a change from one chord to another.
    change_logp, stay_logp : np.ndarray [shape=(n_slots,)]
        Log probability of a change / of keeping the chord at the start of each slot.
    rng : numpy.random.Generator, optional
        Sample a path with probability proportional to ``exp(score / tau)`` instead of the best.
    """
    n, k = unary.shape
    eye = np.eye(k, dtype=bool)
    pair = [np.where(eye, stay_logp[s], change_logp[s] + trans) for s in range(n)]
    alpha = np.empty((n, k))
    back = np.zeros((n, k), dtype=np.int64)
    alpha[0] = unary[0] / tau
    for s in range(1, n):
        m = alpha[s - 1][:, None] + pair[s] / tau
        if rng is None:
            back[s] = np.argmax(m, axis=0)
            alpha[s] = m[back[s], np.arange(k)] + unary[s] / tau
        else:
            alpha[s] = logsumexp(m, axis=0) + unary[s] / tau
    if not np.any(np.isfinite(alpha[-1])):
        raise ParameterError("no chord sequence satisfies the constraints")
    path = [0] * n
    if rng is None:
        path[-1] = int(np.argmax(alpha[-1]))
        for s in range(n - 1, 0, -1):
            path[s - 1] = int(back[s, path[s]])
        return path
    path[-1] = draw_from_logits(alpha[-1], rng)
    for s in range(n - 1, 0, -1):
        path[s - 1] = draw_from_logits(alpha[s - 1] + pair[s][:, path[s]] / tau, rng)
    return path


def _prepared(notes: list[Note], i: int, tones: frozenset[int] | set[int]) -> bool:
    """Whether note ``i`` (no chord tone) is a prepared non-chord tone: it resolves by step to a
    chord tone, and is either held over from the same pitch (suspension) or short (appoggiatura,
    at most a beat)."""
    if i + 1 >= len(notes):
        return False
    n, nxt = notes[i], notes[i + 1]
    if not (1 <= abs(nxt.pitch - n.pitch) <= 2 and nxt.pitch % 12 in tones):
        return False
    if nxt.onset - n.end > 0.25 + 1e-9:
        return False
    suspended = i > 0 and notes[i - 1].pitch == n.pitch and abs(notes[i - 1].end - n.onset) < 1e-6
    return suspended or n.duration <= 1.0 + 1e-9


def _slots(n_bars: int, meter: tuple[int, int], per_bar: int) -> list[tuple[float, float, bool]]:
    bar = bar_beats_of(meter)
    starts = strong_positions(meter) if per_bar == 2 else (0.0,)
    if per_bar == 2 and len(starts) == 1:
        starts = (0.0, bar / 2)
    out = []
    for b in range(n_bars):
        for j, s in enumerate(starts):
            end = starts[j + 1] if j + 1 < len(starts) else bar
            out.append((b * bar + s, b * bar + end, j == 0))
    return out


def _fit(notes: list[Note], slots: list[tuple[float, float, bool]], options: list[ChordOption],
         tonic: int, meter: tuple[int, int]) -> np.ndarray:
    """Melody fit (n_slots, k): chord tones rewarded by length, strong-beat misses punished."""
    tones = [o.tones(tonic) for o in options]
    core = [o.core_tones(tonic) for o in options]  # a seventh or added tone fits half as well
    fit = np.zeros((len(slots), len(options)))
    starts = np.array([s[0] for s in slots])
    for i, n in enumerate(notes):
        first = max(0, int(np.searchsorted(starts, n.onset, side="right")) - 1)
        s = first
        while s < len(slots) and slots[s][0] < n.end - 1e-9:
            a, b, _ = slots[s]
            ov = min(b, n.end) - max(a, n.onset)
            if ov > 1e-9:
                onset_here = a - 1e-9 <= n.onset < b - 1e-9
                strong = onset_here and is_strong(n.onset, meter)
                pc = n.pitch % 12
                for k, t in enumerate(tones):
                    if pc in t:
                        fit[s, k] += (0.6 * ov + (1.0 if strong else 0.0)) * (1.0 if pc in core[k] else 0.5)
                    elif strong:
                        fit[s, k] -= _PREPARED_MISS if _prepared(notes, i, t) else _STRONG_MISS
                    else:
                        cost = 0.5 * ov * (1.0 if onset_here else 0.6)
                        if (pc - 1) % 12 in t and ov >= 1.0:
                            cost += 0.5
                        fit[s, k] -= cost
            s += 1
    return fit


def harmonize(melody: Score, motive: Motive, *, seed: int = 0,
              chords_per_bar: int | None = None) -> list[ChordSymbol]:
    """Choose chords for a melody: one or two per bar, from the motive's palette.

    Parameters
    ----------
    melody : Score
        Its lyric (vocal) track, or its first melodic track, is harmonised. Its key signature,
        time signature and sections are used when present (else the motive's key and meter).
    motive : Motive
        ``palette`` picks the chords (:func:`chord_options`); ``key`` and ``meter`` are defaults.
    seed : int
        Seeds a small random perturbation that decides between near-equal progressions.
    chords_per_bar : {None, 1, 2}
        None lets the model change chords on any strong beat (a learned cost for mid-bar
        changes); 1 or 2 fixes the harmonic rhythm's grid.

    Returns
    -------
    list of ChordSymbol
        One at every barline (repeated when the chord holds) and one at each mid-bar change, from
        beat 0 to the last bar with a note.

    Raises
    ------
    ParameterError
        No melody notes, or ``chords_per_bar`` is not None, 1 or 2.
    """
    if chords_per_bar not in (None, 1, 2):
        raise ParameterError(f"chords_per_bar must be None, 1 or 2, got {chords_per_bar!r}")
    track = lyric_or_melody_track(melody)
    notes = sorted((n for n in track.notes), key=lambda n: (n.onset, -n.pitch)) if track else []
    if not notes:
        raise ParameterError("harmonize: the melody score has no notes to harmonise")
    mono: list[Note] = []
    for n in notes:  # one line: the top note of a chord
        if mono and abs(mono[-1].onset - n.onset) < 1e-9:
            continue
        mono.append(n)
    key = melody.key_at(0.0) or motive.key_obj
    meter = score_meter(melody, motive.meter)
    bar = bar_beats_of(meter)
    n_bars = max(1, math.ceil((max(n.end for n in mono) - 1e-9) / bar))
    per_bar = chords_per_bar or 2
    slots = _slots(n_bars, meter, per_bar)
    options = chord_options(key, motive.palette)
    stats = load_stats()
    family = mode_family(key)
    trans = transition_matrix(options, family, stats)
    unary = _fit(mono, slots, options, key.tonic, meter)
    unary += np.array([o.prior + 0.3 * stats.unigram[family, o.state] for o in options])[None, :]
    unary += _cadences(melody, mono, slots, options, bar)
    if melody.chords:  # the skeleton the melody was written on, if any: revise, don't ignore it
        symbols = [o.symbol(key) for o in options]
        for s, (start, _end, _bar_start) in enumerate(slots):
            c = melody.chord_at(start + 1e-9)
            if c is not None and c.symbol in symbols:
                unary[s, symbols.index(c.symbol)] += _SKELETON_BONUS
    rng = np.random.default_rng(seed)
    unary += 0.25 * rng.gumbel(size=unary.shape)
    if chords_per_bar is None:
        p_bar, p_mid = stats.p_change_bar, stats.p_change_mid
    else:
        p_bar = p_mid = stats.p_change_bar
    change = np.array([math.log(p_bar if s[2] else p_mid) for s in slots])
    stay = np.array([math.log(1 - p_bar) - 0.4 if s[2] else math.log(1 - p_mid) for s in slots])
    path = solve_chain(unary, trans, change, stay)
    return _symbols(path, slots, options, key)


def _symbols(path: list[int], slots: list[tuple[float, float, bool]], options: list[ChordOption],
             key: Key) -> list[ChordSymbol]:
    out: list[ChordSymbol] = []
    prev = -1
    for (start, _end, bar_start), k in zip(slots, path, strict=True):
        if bar_start or k != prev:
            out.append(ChordSymbol(start, options[k].symbol(key)))
        prev = k
    return out


def _cadences(score: Score, notes: list[Note], slots: list[tuple[float, float, bool]],
              options: list[ChordOption], bar: float) -> np.ndarray:
    """Unary bonuses: tonic at the start, cadences at section ends."""
    bonus = np.zeros((len(slots), len(options)))
    starts = np.array([s[0] for s in slots])
    tonic = np.array([o.is_tonic for o in options], dtype=float)
    dom = np.array([o.rel == 7 for o in options], dtype=float)
    sub = np.array([o.rel == 5 for o in options], dtype=float)

    def slot_of(beat: float) -> int:
        return int(np.clip(np.searchsorted(starts, beat + 1e-9, side="right") - 1, 0, len(slots) - 1))

    bonus[slot_of(notes[0].onset)] += 1.5 * tonic
    secs = sorted(score.sections, key=lambda s: s.beat)
    bounds = [(s.beat, secs[i + 1].beat if i + 1 < len(secs) else math.inf, section_kind(s.name))
              for i, s in enumerate(secs)] or [(0.0, math.inf, "chorus")]
    for j, (a, b, kind) in enumerate(bounds):
        inside = [n for n in notes if a - 1e-9 <= n.onset < b - 1e-9]
        if not inside:
            continue
        # the section's last long note: a pickup into the next section is no cadence
        last = next((n for n in reversed(inside) if n.duration >= 1.0 - 1e-9), inside[-1])
        s = slot_of(last.onset)
        final = j == len(bounds) - 1 or kind in ("chorus", "outro")
        if final:
            bonus[s] += 4.0 * tonic
            prev = s - 1
            while prev >= 0 and slots[prev][0] > last.onset - bar - 1e-9:
                bonus[prev] += 1.2 * dom + 0.6 * sub
                prev -= 1
        else:
            bonus[s] += 2.0 * dom + 1.2 * tonic
    return bonus


# -- measures -----------------------------------------------------------------------------------
def _sung_notes(score: Score, track: str | None) -> list[Note]:
    t = score.track(track) if track else lyric_or_melody_track(score)
    if t is None:
        return []
    return sorted(t.notes, key=lambda n: (n.onset, -n.pitch))


def chord_tone_ratio(score: Score, *, track: str | None = None) -> float:
    """Share of strong-beat melody notes that are chord tones or prepared non-chord tones.

    Strong beats: beats 1 and 3 in 4/4, the downbeat in 3/4 and 2/4, the dotted-quarter beats of
    6/8, beats 1 and 3 of 12/8 (from the score's first time signature). A non-chord tone is
    prepared when it resolves by step to a chord tone after the same pitch (suspension) or within
    a beat (appoggiatura). Notes under no chord symbol are not counted.

    Parameters
    ----------
    score : Score
        With chord symbols (``score.chords``).
    track : str, optional
        The track to measure (default: the lyric track, else the first melodic one).

    Returns
    -------
    float
        0..1; NaN when no strong-beat note has a chord.
    """
    notes = _sung_notes(score, track)
    meter = score_meter(score)
    chords = sorted(score.chords, key=lambda c: c.beat)
    beats = np.array([c.beat for c in chords])
    tones = [set(parse_chord(c.symbol).pitch_classes) for c in chords]
    good = total = 0
    for i, n in enumerate(notes):
        if not is_strong(n.onset, meter) or not chords:
            continue
        ci = int(np.searchsorted(beats, n.onset + 1e-9, side="right")) - 1
        if ci < 0:
            continue
        total += 1
        if n.pitch % 12 in tones[ci] or _prepared(notes, i, tones[ci]):
            good += 1
    return good / total if total else float("nan")


def in_key_ratio(score: Score, *, track: str | None = None) -> float:
    """Share of melody notes whose pitch class is in the scale of the key in force.

    The key is the score's key signature at each note (the estimated key when it has none).

    Returns
    -------
    float
        0..1; NaN for a score without melody notes.
    """
    notes = _sung_notes(score, track)
    if not notes:
        return float("nan")
    fallback = None if score.key_signatures else score.estimate_key()
    inside = 0
    for n in notes:
        key = score.key_at(n.onset) or fallback or score.estimate_key()
        inside += key.contains(n.pitch)
    return inside / len(notes)
