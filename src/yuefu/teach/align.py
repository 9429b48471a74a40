"""Score-to-performance alignment: a note-level hidden Markov model over the score's chords.

The score is a sequence of *clusters* (the notes that start together, see
:mod:`yuefu.teach.reference`). The performance is a sequence of played notes sorted by onset. The
aligner explains each played note, one at a time, by one of:

* **chord** -- another note of the cluster being played (its pitch is in the cluster and not yet
  played there), struck within ``chord_spread_s`` of the cluster's first note (later costs more);
* **advance** -- the first note of the next cluster, or of a cluster up to ``max_skip`` ahead
  (the score notes in between are *missed*, ``miss_cost`` each);
* **jump** -- the first note of *any* cluster, backwards (a restarted passage) or far forwards
  (a skipped bar), for ``jump_cost`` plus ``jump_per_beat`` per beat of distance;
* **extra** -- an inserted note; the position in the score does not move (``insert_cost``).

A note that lands on a cluster without its pitch being there is a *substitution* (a wrong pitch,
``substitute_cost``). Every note of a cluster is charged as missed (``miss_cost``) when the path
reaches the cluster and refunded when it is played: so paths that stand at the same cluster having
played different parts of it compare fairly (the state does not remember how much of the chord
is still to come, its cost already does).

Timing enters through a tempo carried along each path: when the path advances from cluster i to j,
the time since cluster i began is compared with ``(beat_j - beat_i) * seconds_per_beat``, the cost
being ``timing_weight * |log((dt + 0.1) / (expected + 0.1))|`` capped at ``timing_cap`` (so a
hesitation costs a bounded amount and never forces a wrong alignment); the path's tempo then moves
towards the observed one (exponential smoothing, ``tempo_smoothing``). Tempo is thus local: a
student who plays the whole piece slower, or drifts, is followed without penalty.

The Viterbi recursion keeps, for every cluster, two best paths -- one with the cluster's chord in
hand (chord notes may still come; an extra note struck with the chord keeps it in hand) and one
inserting extra notes after it -- each with its cost, tempo, the time the cluster began and which
of its pitches were played. (With one state per cluster, a path lingering over extra notes after
a chord would take the place of a path that just jumped back to that chord, and restarts would
be lost.) One step costs
``O(max_skip * n_clusters)``; the jumps are an L1 distance transform of the previous step's
costs (two cumulative minima), also linear. The same
recursion runs offline (:func:`align`, then back-tracking) and live (:class:`Follower`, whose
current best state is the live verdict).

>>> from yuefu.core import Score, Track, Note
>>> from yuefu.teach.reference import build_reference
>>> from yuefu.teach.performance import Performance
>>> s = Score(); t = s.add_track(Track("piano"))
>>> t.notes += [Note(60, 0, 1), Note(62, 1, 1), Note(64, 2, 1)]
>>> ref = build_reference(s)
>>> perf = Performance.from_notes([(60, 0.0, 0.5, 80), (61, 0.5, 1.0, 80), (64, 1.0, 1.5, 80)])
>>> a = align(ref, perf)
>>> a.cluster.tolist(), [OP_NAMES[o] for o in a.op]
([0, 1, 2], ['match', 'substitute', 'match'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.teach.performance import Performance
from yuefu.teach.reference import Reference

__all__ = ["AlignConfig", "Alignment", "Follower", "align", "OP_INSERT", "OP_MATCH", "OP_SUBSTITUTE",
           "KIND_STAY", "KIND_ADVANCE", "KIND_SKIP", "KIND_JUMP", "OP_NAMES", "KIND_NAMES"]

OP_INSERT, OP_MATCH, OP_SUBSTITUTE = 0, 1, 2
KIND_STAY, KIND_ADVANCE, KIND_SKIP, KIND_JUMP = 0, 1, 2, 3
OP_NAMES = ("insert", "match", "substitute")
KIND_NAMES = ("stay", "advance", "skip", "jump")
_EPS_S = 0.1
_MIN_SPB, _MAX_SPB = 0.12, 2.5  # 24..500 beats per minute


@dataclass(frozen=True)
class AlignConfig:
    """Costs of the alignment model (in units of one missed note).

    Parameters
    ----------
    insert_cost : float
        An extra played note.
    miss_cost : float
        A score note left unplayed.
    substitute_cost : float
        A played note at a cluster without its pitch (a wrong pitch). Below
        ``insert_cost + miss_cost`` so that a wrong note is preferred to "an extra and a miss".
    jump_cost : float
        A jump to any cluster: a restart (backwards) or a skipped passage (forwards).
    timing_weight, timing_cap : float
        Weight of the log tempo deviation of an advance, and its cap (a hesitation costs at most
        ``timing_cap``).
    chord_spread_s : float
        Notes of one cluster struck within this many seconds of its first note cost nothing more.
    chord_weight : float
        Cost per 0.1 s of spread beyond ``chord_spread_s``.
    jump_per_beat : float
        Added to ``jump_cost`` per beat of distance: among look-alike passages (a repeated
        phrase) a restart goes back to the nearest, a skip to the nearest ahead.
    max_skip : int
        The furthest advance (in clusters) priced note by note; further is a jump.
    tempo_smoothing : float
        Weight of the old tempo in the path's tempo update (0..1).
    """

    insert_cost: float = 1.0
    miss_cost: float = 1.0
    substitute_cost: float = 1.6
    jump_cost: float = 6.0
    jump_per_beat: float = 0.04
    timing_weight: float = 1.5
    timing_cap: float = 2.5
    chord_spread_s: float = 0.08
    chord_weight: float = 1.0
    max_skip: int = 8
    tempo_smoothing: float = 0.6

    def __post_init__(self) -> None:
        for name in ("insert_cost", "miss_cost", "substitute_cost", "jump_cost", "jump_per_beat",
                     "timing_weight", "timing_cap", "chord_spread_s", "chord_weight"):
            v = getattr(self, name)
            if not (v >= 0 and math.isfinite(v)):
                raise ParameterError(f"AlignConfig.{name} must be a finite number >= 0, got {v}")
        if self.max_skip < 1:
            raise ParameterError(f"AlignConfig.max_skip must be >= 1, got {self.max_skip}")
        if not 0 <= self.tempo_smoothing < 1:
            raise ParameterError(f"AlignConfig.tempo_smoothing must be in [0, 1), got {self.tempo_smoothing}")


@dataclass(frozen=True)
class Alignment:
    """The best explanation of every played note.

    Attributes
    ----------
    cluster : np.ndarray [shape=(n,), int]
        The score cluster each played note belongs to (for an extra note: the cluster the
        performance was at; -1 before the first).
    op : np.ndarray [shape=(n,), int]
        :data:`OP_MATCH`, :data:`OP_SUBSTITUTE` or :data:`OP_INSERT`.
    kind : np.ndarray [shape=(n,), int]
        How the note was reached: :data:`KIND_STAY` (same cluster), :data:`KIND_ADVANCE`,
        :data:`KIND_SKIP` (advance over clusters) or :data:`KIND_JUMP`.
    cost : float
        Total cost of the path (missed notes at the end included).
    """

    cluster: np.ndarray
    op: np.ndarray
    kind: np.ndarray
    cost: float


@dataclass(frozen=True)
class FollowStep:
    """What the follower decided for one played note, on the evidence so far."""

    cluster: int
    op: int
    kind: int
    expected_s: float
    seconds_per_beat: float
    complete: bool


class Follower:
    """The alignment recursion, one played note at a time.

    ``step(pitch, onset_s)`` takes notes in order of onset and returns the current best
    explanation of that note (a filtering decision, available at once); :meth:`alignment` back-tracks
    the whole path (the offline, smoothed decision).
    """

    def __init__(self, ref: Reference, config: AlignConfig | None = None, *, keep_path: bool = True):
        self.ref = ref
        self.cfg = cfg = config or AlignConfig()
        J = len(ref.clusters)
        self.n = n = J + 1  # state 0: before the first cluster
        beats = np.empty(n)
        beats[1:] = [c.beat for c in ref.clusters]
        beats[0] = beats[1]
        self.beats = beats
        size = np.zeros(n, dtype=np.int64)
        size[1:] = [min(len(c.pitches), 62) for c in ref.clusters]
        self.size = size
        self.cum = np.concatenate([[0], np.cumsum(size[1:])]).astype(np.float64)
        bitpos = np.full((128, n), -1, dtype=np.int64)
        for j, c in enumerate(ref.clusters, start=1):
            for b, p in enumerate(c.pitches[:62]):
                bitpos[p, j] = b
        self.bitpos = bitpos
        self.W = min(cfg.max_skip, J)
        self._db = [beats[d:] - beats[:-d] for d in range(1, self.W + 1)]
        self._skipmiss = [cfg.miss_cost * (self.cum[d - 1:J] - self.cum[0:n - d])
                          for d in range(1, self.W + 1)]
        # states 0..n-1: at cluster j with its chord in hand (M); n..2n-1: inserting after it (I)
        self.D = np.full(2 * n, np.inf)
        self.D[0] = 0.0
        self.S = np.full(2 * n, np.nan)
        self.A = np.full(2 * n, np.nan)
        self.M = np.zeros(2 * n, dtype=np.int64)
        self.C = np.zeros(2 * n, dtype=np.int64)
        self.offset = 0.0
        self.keep_path = keep_path
        self._src: list[np.ndarray] = []
        self._op: list[np.ndarray] = []
        self._kind: list[np.ndarray] = []
        self._last_t = -np.inf
        self._idx = np.arange(n)

    def _jumps(self, E: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cheapest jump into every cluster and where from: ``min_i E[i] + lam * |beat_j - beat_i|``.

        An L1 distance transform in two cumulative passes (beats are sorted), so O(n).
        """
        lam, B, idx = self.cfg.jump_per_beat, self.beats, self._idx
        v = E - lam * B
        cm = np.minimum.accumulate(v)
        left_src = np.maximum.accumulate(np.where(v <= cm, idx, 0))
        left = cm + lam * B
        w = (E + lam * B)[::-1]
        cw = np.minimum.accumulate(w)
        right_src = (len(B) - 1 - np.maximum.accumulate(np.where(w <= cw, idx, 0)))[::-1]
        right = cw[::-1] - lam * B
        use_left = left <= right
        return (np.where(use_left, left, right) + self.cfg.jump_cost,
                np.where(use_left, left_src, right_src))

    def step(self, pitch: int, onset_s: float) -> FollowStep:
        """Explain one played note; notes must come in order of onset."""
        cfg, n = self.cfg, self.n
        t = float(onset_s)
        if t < self._last_t - 1e-9:
            raise ParameterError(f"notes must come in order of onset ({t:.3f} s after {self._last_t:.3f} s)")
        self._last_t = t
        bp = self.bitpos[int(pitch)]
        inp = bp >= 0
        bit = np.where(inp, np.left_shift(np.int64(1), np.clip(bp, 0, None)), 0)
        idx = self._idx
        # the two sub-states of every cluster: M (the chord in hand) and I (inserting after it)
        DM, DI = self.D[:n], self.D[n:]
        S2, A2, M2, C2 = self.S, self.A, self.M, self.C
        use_m = DM <= DI
        E = np.where(use_m, DM, DI)  # a path leaves a cluster from whichever sub-state is cheaper
        e_src = np.where(use_m, idx, idx + n)
        S, A = S2[e_src], A2[e_src]
        best = np.full(n, np.inf)
        src = np.full(n, -1, dtype=np.int64)
        kind = np.zeros(n, dtype=np.int8)
        with np.errstate(invalid="ignore", divide="ignore"):
            for d in range(1, self.W + 1):
                Ai, Si, db = A[:n - d], S[:n - d], self._db[d - 1]
                expect = db * Si
                tim = cfg.timing_weight * np.minimum(
                    np.abs(np.log((t - Ai + _EPS_S) / (expect + _EPS_S))), cfg.timing_cap)
                tim = np.where(np.isfinite(tim), tim, 0.0)
                c = E[:n - d] + self._skipmiss[d - 1] + tim
                cur = best[d:]
                better = c < cur
                best[d:] = np.where(better, c, cur)
                src[d:] = np.where(better, idx[:n - d], src[d:])
                kind[d:] = np.where(better, KIND_ADVANCE if d == 1 else KIND_SKIP, kind[d:])
            cj, g = self._jumps(E)
            better = cj < best
            best = np.where(better, cj, best)
            src = np.where(better, g, src)
            kind = np.where(better, KIND_JUMP, kind).astype(np.int8)
            best[0] = np.inf
            arrive = best + cfg.miss_cost * (self.size - 1) + np.where(inp, 0.0, cfg.substitute_cost)
            # chord: another note of the cluster in hand (M sub-state only)
            AM = A2[:n]
            used = (M2[:n] & bit) != 0
            spread = np.maximum(0.0, t - AM - cfg.chord_spread_s) / 0.1 * cfg.chord_weight
            stay_pitch = np.where(inp, np.where(used, np.inf, 0.0), cfg.substitute_cost) - cfg.miss_cost
            stay = np.where((C2[:n] < self.size) & np.isfinite(AM), DM + spread + stay_pitch, np.inf)
            # an extra note struck with the chord keeps the chord in hand
            ins_m = np.where(t - AM <= cfg.chord_spread_s + 0.07, DM + cfg.insert_cost, np.inf)
            stack = np.vstack([ins_m, stay, arrive])
            choice = np.argmin(stack, axis=0)
            newDM = stack[choice, idx]
            # the tempo of an arriving path
            srcc = np.clip(src, 0, None)
            As, Ss = A[srcc], S[srcc]
            dbs = self.beats - self.beats[srcc]
            obs = (t - As) / dbs
            ok = (dbs > 0.05) & np.isfinite(obs) & (kind != KIND_JUMP)
            lo = np.where(np.isfinite(Ss), Ss / 1.5, _MIN_SPB)
            hi = np.where(np.isfinite(Ss), Ss * 1.5, _MAX_SPB)
            obs = np.clip(obs, np.maximum(lo, _MIN_SPB), np.minimum(hi, _MAX_SPB))
            a = cfg.tempo_smoothing
            mixed = np.where(np.isfinite(Ss), np.exp(a * np.log(Ss) + (1 - a) * np.log(obs)), obs)
            S_arr = np.where(ok, mixed, Ss)
            expected = As + dbs * Ss
        is_arr = choice == 2
        is_stay = choice == 1
        newSM = np.where(is_arr, S_arr, S2[:n])
        newAM = np.where(is_arr, t, AM)
        newMM = np.where(is_arr, bit, np.where(is_stay, M2[:n] | bit, M2[:n]))
        newCM = np.where(is_arr, 1, np.where(is_stay, C2[:n] + 1, C2[:n]))
        opM = np.where(choice == 0, OP_INSERT, np.where(inp, OP_MATCH, OP_SUBSTITUTE)).astype(np.int8)
        kindM = np.where(is_arr, kind, KIND_STAY).astype(np.int8)
        srcM = np.where(is_arr, np.where(src >= 0, e_src[srcc], -1), idx)
        # I sub-state: an extra note after the cluster, from M or from I
        from_m = DM <= DI
        newDI = np.where(from_m, DM, DI) + cfg.insert_cost
        i_src = np.where(from_m, idx, idx + n)
        newD = np.concatenate([newDM, newDI])
        m = float(np.min(newD))
        if not math.isfinite(m):  # cannot happen: an insertion is always possible
            raise RuntimeError("alignment lost every path")
        self.offset += m
        self.D = newD - m
        self.S = np.concatenate([newSM, S2[i_src]])
        self.A = np.concatenate([newAM, A2[i_src]])
        self.M = np.concatenate([newMM, M2[i_src]])
        self.C = np.concatenate([newCM, C2[i_src]])
        if self.keep_path:
            self._src.append(np.concatenate([srcM, i_src]).astype(np.int32))
            self._op.append(np.concatenate([opM, np.full(n, OP_INSERT, dtype=np.int8)]))
            self._kind.append(np.concatenate([kindM, np.full(n, KIND_STAY, dtype=np.int8)]))
        # the live decision: the best state not counting the notes of its chord still to come
        # (they are charged on arrival and will most likely be played within milliseconds)
        pending = np.concatenate([cfg.miss_cost * np.maximum(self.size - newCM, 0), np.zeros(n)])
        j2 = int(np.argmin(self.D - pending))
        j = j2 % n
        op_j = int(opM[j]) if j2 < n else OP_INSERT
        kind_j = int(kindM[j]) if j2 < n else KIND_STAY
        exp_s = float("nan")
        if j2 < n and is_arr[j] and kind_j != KIND_JUMP:
            exp_s = float(expected[j])
        elif j2 < n and is_stay[j]:
            exp_s = float(AM[j])
        return FollowStep(j - 1, op_j, kind_j, exp_s, float(self.S[j2]), bool(self.C[j2] >= self.size[j]))

    @property
    def n_steps(self) -> int:
        return len(self._src)

    def alignment(self) -> Alignment:
        """Back-track the best path over every note so far (missed notes at the end priced in)."""
        if not self.keep_path:
            raise ParameterError("this follower was made with keep_path=False; it cannot back-track")
        cfg, n = self.cfg, self.n
        rest = np.minimum(cfg.miss_cost * (self.cum[-1] - self.cum), cfg.jump_cost)
        end = self.D + np.concatenate([rest, rest])
        j = int(np.argmin(end))
        cost = float(end[j]) + self.offset
        K = len(self._src)
        cl = np.empty(K, dtype=np.int64)
        ops = np.empty(K, dtype=np.int8)
        kinds = np.empty(K, dtype=np.int8)
        for k in range(K - 1, -1, -1):
            cl[k] = j % n - 1
            ops[k] = self._op[k][j]
            kinds[k] = self._kind[k][j]
            j = int(self._src[k][j])
        return Alignment(cl, ops, kinds, cost)


def align(ref: Reference, perf: Performance, config: AlignConfig | None = None) -> Alignment:
    """Align a performance to a score (offline, the best path over the whole performance).

    Parameters
    ----------
    ref : Reference
        The score, from :func:`yuefu.teach.reference.build_reference`.
    perf : Performance
        The played notes.
    config : AlignConfig, optional

    Returns
    -------
    Alignment
    """
    f = Follower(ref, config)
    for p, t in zip(perf.pitch.tolist(), perf.onset_s.tolist(), strict=True):
        f.step(p, t)
    return f.alignment()
