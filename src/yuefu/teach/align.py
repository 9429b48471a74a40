"""Score-to-performance alignment: a note-level hidden Markov model over the score's chords.

The score is a sequence of *clusters* (the notes that start together, see
:mod:`yuefu.teach.reference`). The performance is a sequence of played notes sorted by onset. The
aligner explains each played note, one at a time, by one of:

* **chord** -- another note of the cluster being played (its pitch is in the cluster and not yet
  played there), struck within ``chord_spread_s`` of the cluster's first note (later costs more);
* **advance** -- the first note of the next cluster, or of a cluster up to ``max_skip`` ahead
  (the score notes in between are *missed*, ``miss_cost`` each);
* **jump** -- the first note of *any* cluster, backwards (a restarted passage) or far forwards
  (a skipped bar), for ``jump_cost`` plus ``jump_per_beat`` per beat of distance, plus
  ``jump_skip_cost`` per score note a forward jump leaves out;
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
student who plays the whole piece slower, or drifts, is followed without penalty. The time is
measured from when cluster i began *or* from when the path expected it to begin, whichever fits
better, so that one note struck late (a wrong one, often) before a note on time is charged once,
not twice (late, then early against the late one); and an advance may leave from any of a
cluster's sub-states (below), each with its own time.

The Viterbi recursion keeps, for every cluster, six best paths -- five with the cluster's chord
in hand (chord notes may still come, none of them wrong, with one, two, or three or more of them
played; chord notes may still come, one was a wrong pitch; the chord is complete) and one inserting
extra notes after it -- each with its cost, tempo, the time the cluster began and which of its
pitches (and of the previous cluster's) were played. Paths that stand at one chord having used up
different numbers of its notes cannot be compared fairly (the one whose chord is complete, or spent a
note on a wrong pitch, will have to call the chord's next note an extra; one that took a stray note
of the chord early, then two more, holds three notes the real strikes will want), so they do not
replace one another; and with one state per cluster, a path lingering over extra notes after a chord
would take the place of a path that just jumped back to that chord, and restarts would be lost. Two
further moves make the model tolerant of what students (and transcribers) do: a played pitch one or
two semitones or an octave from a written one is a cheaper substitution (``substitute_near_cost``),
and a note of the previous cluster still unplayed there may come within ``chord_spread_s`` after the
current cluster's first note (``reorder_cost``: two near-simultaneous moments played in the other
order). One step costs ``O(6 * max_skip * n_clusters)`` (vectorised over the six sub-states); the
jumps are an L1 distance transform of the previous step's costs (two cumulative minima), also
linear. The same recursion runs offline (:func:`align`, then back-tracking) and live
(:class:`Follower`, whose current best state is the live verdict).

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
# the sub-states of a cluster: its chord in hand, clean, with 1 .. _HAND notes of it played (the last
# one: _HAND or more); with a wrong note; complete; then inserting after it
_HAND = 3
_W, _F, _I = _HAND, _HAND + 1, _HAND + 2
_NB = _HAND + 3
_HELD = _NB - 1  # the chord-in-hand sub-states (all but I), first in the layout
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
    substitute_near_cost : float
        The same for a played note one or two semitones from a pitch of the cluster (a neighbouring
        key, the commonest slip) or an octave from it (a hand in the wrong octave): more clearly a
        wrong note, so that timing noise does not turn it into "an extra and a miss".
    reorder_cost : float
        A note of the previous cluster, not yet played there, struck within ``chord_spread_s`` of
        the current cluster's first note: two near-simultaneous score moments played in the other
        order (a fast figure played unevenly, a melody note a hair before its accompaniment).
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
    jump_skip_cost : float
        Added to a forward jump per score note it leaves out (they are missed). Without it a path
        could leave out a few notes before a skipped bar (calling the notes played there extra)
        for less than an honest path pays for missing them one by one.
    """

    insert_cost: float = 1.0
    miss_cost: float = 1.0
    substitute_cost: float = 1.6
    substitute_near_cost: float = 1.2
    reorder_cost: float = 0.2
    jump_cost: float = 6.0
    jump_per_beat: float = 0.04
    timing_weight: float = 1.5
    timing_cap: float = 2.5
    chord_spread_s: float = 0.08
    chord_weight: float = 1.0
    max_skip: int = 8
    tempo_smoothing: float = 0.6
    jump_skip_cost: float = 0.35

    def __post_init__(self) -> None:
        for name in ("insert_cost", "miss_cost", "substitute_cost", "substitute_near_cost", "reorder_cost",
                     "jump_cost", "jump_per_beat", "timing_weight", "timing_cap", "chord_spread_s",
                     "chord_weight", "jump_skip_cost"):
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
    #: the cost of the best explanation of every note so far (comparable between followers of
    #: two readings of one score: the lower explains the notes better)
    cost: float = 0.0


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
        # the same for the previous cluster (state j looks back at cluster j - 1)
        self.bitprev = np.full((128, n), -1, dtype=np.int64)
        self.bitprev[:, 2:] = bitpos[:, 1:-1]
        # the cost of a played pitch arriving at each cluster: 0 when it is there, else a
        # substitution, cheaper when it is a neighbouring key or the octave of a written pitch
        dist = np.full((128, n), 127, dtype=np.int64)
        keys = np.arange(128)
        for j, c in enumerate(ref.clusters, start=1):
            dist[:, j] = np.min(np.abs(keys[:, None] - np.array(c.pitches)[None, :]), axis=1)
        near = (dist <= 2) | (dist == 12)
        self.pitch_cost = np.where(dist == 0, 0.0,
                                   np.where(near, cfg.substitute_near_cost, cfg.substitute_cost))
        self.W = min(cfg.max_skip, J)
        self._db = [beats[d:] - beats[:-d] for d in range(1, self.W + 1)]
        self._skipmiss = [cfg.miss_cost * (self.cum[d - 1:J] - self.cum[0:n - d])
                          for d in range(1, self.W + 1)]
        # state b * n + j: sub-state b (H1 .. H_HAND, W, F, I; see _HAND) of cluster j - 1
        self.D = np.full(_NB * n, np.inf)
        self.D[0] = 0.0
        self.S = np.full(_NB * n, np.nan)
        self.A = np.full(_NB * n, np.nan)
        self.X = np.full(_NB * n, np.nan)  # when the path expected the cluster to begin (NaN: no guess)
        self.M = np.zeros(_NB * n, dtype=np.int64)
        self.C = np.zeros(_NB * n, dtype=np.int64)
        self.P = np.full(_NB * n, -1, dtype=np.int64)  # pitches of the previous cluster played (-1: none can)
        self.offset = 0.0
        self.keep_path = keep_path
        self._src: list[np.ndarray] = []
        self._op: list[np.ndarray] = []
        self._kind: list[np.ndarray] = []
        self._back: list[np.ndarray] = []
        self._last_t = -np.inf
        self._idx = np.arange(n)

    def _jumps(self, E: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cheapest jump into every cluster and where from: ``min_i E[i] + lam * |beat_j - beat_i|``.

        An L1 distance transform in two cumulative passes (beats are sorted), so O(n).
        """
        lam, B, idx = self.cfg.jump_per_beat, self.beats, self._idx
        # forwards (from a cluster before j): the notes of the clusters in between are missed
        # (``jump_skip_cost`` each), so that a path does not leave out a passage for less than it
        # would pay for missing it note by note: E[i] + lam * (B[j] - B[i]) + k * (cum[j-1] - cum[i])
        k = self.cfg.jump_skip_cost
        v = E - lam * B - k * self.cum
        cm = np.minimum.accumulate(v)
        left_src = np.maximum.accumulate(np.where(v <= cm, idx, 0))
        # exclusive: the best source strictly before j (a jump to j itself goes the other way)
        cm = np.concatenate([[np.inf], cm[:-1]])
        left_src = np.concatenate([[0], left_src[:-1]])
        left = cm + lam * B + k * np.concatenate([[0.0], self.cum[:-1]])
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
        pcost = self.pitch_cost[int(pitch)]
        bpp = self.bitprev[int(pitch)]
        bitp = np.where(bpp >= 0, np.left_shift(np.int64(1), np.clip(bpp, 0, None)), 0)
        idx = self._idx
        D, S2, A2, M2, C2, P2, X2 = self.D, self.S, self.A, self.M, self.C, self.P, self.X
        # a jump leaves a cluster from whichever of its sub-states is cheapest
        subs = D.reshape(_NB, n)
        e_blk = np.argmin(subs, axis=0)
        E = subs[e_blk, idx]
        e_src = e_blk * n + idx
        best = np.full(n, np.inf)
        src = np.full(n, -1, dtype=np.int64)  # the source state (sub-state block * n + cluster)
        kind = np.zeros(n, dtype=np.int8)
        with np.errstate(invalid="ignore", divide="ignore"):
            # an advance leaves from every sub-state of a cluster, each with its own time: the
            # cheapest sub-state may be one whose cluster began earlier (a wrong note taken for an
            # extra one after a correct chord), which a timely next note would then pay for again
            # The time is measured from when the cluster began or from when the path expected it
            # to begin, whichever fits better: a note struck late (a wrong one, often) followed by
            # one on time is one deviation, not two (late, then early after the late one)
            A_b, S_b, X_b = A2.reshape(_NB, n), S2.reshape(_NB, n), X2.reshape(_NB, n)
            log_a, log_x = np.log(t - A_b + _EPS_S), np.log(t - X_b + _EPS_S)
            for d in range(1, self.W + 1):
                log_e = np.log(self._db[d - 1] * S_b[:, :n - d] + _EPS_S)
                dev = np.abs(log_a[:, :n - d] - log_e)
                dev_x = np.abs(log_x[:, :n - d] - log_e)
                dev = np.where(dev_x < dev, dev_x, dev)  # NaN where the path has no guess: dev
                tim = cfg.timing_weight * np.minimum(dev, cfg.timing_cap)
                tim = np.where(np.isfinite(tim), tim, 0.0)
                c_b = subs[:, :n - d] + tim
                cb = np.argmin(c_b, axis=0)
                c = c_b[cb, idx[:n - d]] + self._skipmiss[d - 1]
                cur = best[d:]
                better = c < cur
                best[d:] = np.where(better, c, cur)
                src[d:] = np.where(better, cb * n + idx[:n - d], src[d:])
                kind[d:] = np.where(better, KIND_ADVANCE if d == 1 else KIND_SKIP, kind[d:])
            cj, g = self._jumps(E)
            better = cj < best
            best = np.where(better, cj, best)
            src = np.where(better, e_src[g], src)
            kind = np.where(better, KIND_JUMP, kind).astype(np.int8)
            best[0] = np.inf
            arrive = best + cfg.miss_cost * (self.size - 1) + pcost
            # the tempo of an arriving path
            sst = np.clip(src, 0, None)
            srcc = sst % n
            As, Ss, Xs = A2[sst], S2[sst], X2[sst]
            dbs0 = self.beats - self.beats[sst % n]
            # the reference time the advance was priced from (see above)
            dev_a = np.abs(np.log((t - As + _EPS_S) / (dbs0 * Ss + _EPS_S)))
            dev_x = np.abs(np.log((t - Xs + _EPS_S) / (dbs0 * Ss + _EPS_S)))
            As = np.where(dev_x < dev_a, Xs, As)
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
            # moves within a cluster, from the chord-in-hand sub-states (H: clean, by notes played;
            # W: with a wrong note; F: complete): another note of the chord, an extra note struck
            # with it, a note of the previous cluster struck just after this one's first note (two
            # near-simultaneous moments played in the other order; it is refunded there)
            DH, AH, MH, CH, PH = (x[:_HELD * n].reshape(_HELD, n) for x in (D, A2, M2, C2, P2))
            spread = np.maximum(0.0, t - AH - cfg.chord_spread_s) / 0.1 * cfg.chord_weight
            used = (MH & bit) != 0
            stay_pitch = np.where(inp, np.where(used, np.inf, 0.0), pcost) - cfg.miss_cost
            stay = np.where((CH < self.size) & np.isfinite(AH), DH + spread + stay_pitch, np.inf)
            ins = np.where(t - AH <= cfg.chord_spread_s + 0.07, DH + cfg.insert_cost, np.inf)
            prev_ok = (bpp >= 0) & (PH >= 0) & ((PH & bitp) == 0) & (t - AH <= cfg.chord_spread_s)
            prev = np.where(prev_ok, DH - cfg.miss_cost + cfg.reorder_cost, np.inf)
            fills = CH + 1 >= self.size  # a chord note that completes the chord
        inf = np.full(n, np.inf)
        one = self.size <= 1
        # the candidates of each chord-in-hand sub-state: (cost, move, source sub-state); moves:
        # 0 extra note, 1 chord note, 2 arrival, 3 a note of the previous cluster. Paths with
        # different numbers of a chord's notes in hand do not replace one another (up to _HAND):
        # one that took a stray note as the chord's first, then chord notes, must not push out the
        # path that arrives with the chord's real first note and has the rest still to take
        cands: dict[int, list[tuple[np.ndarray, int, int]]] = {}
        for b in range(_HAND):
            cl = [(ins[b], 0, b), (prev[b], 3, b)]
            if b == 0:
                cl.append((np.where(inp & ~one, arrive, inf), 2, 0))
            else:
                cl.append((np.where(inp & ~fills[b - 1], stay[b - 1], inf), 1, b - 1))
            if b == _HAND - 1:
                cl.append((np.where(inp & ~fills[b], stay[b], inf), 1, b))
            cands[b] = cl
        cands[_W] = ([(ins[_W], 0, _W), (np.where(~fills[_W], stay[_W], inf), 1, _W),
                      (np.where(~inp & ~one, arrive, inf), 2, 0), (prev[_W], 3, _W)]
                     + [(np.where(~inp & ~fills[b], stay[b], inf), 1, b) for b in range(_HAND)])
        cands[_F] = ([(ins[_F], 0, _F), (np.where(fills[_W], stay[_W], inf), 1, _W),
                      (np.where(one, arrive, inf), 2, 0), (prev[_F], 3, _F)]
                     + [(np.where(fills[b], stay[b], inf), 1, b) for b in range(_HAND)])
        newD = np.empty(_NB * n)
        mv = np.empty(_HELD * n, dtype=np.int64)
        fb = np.empty(_HELD * n, dtype=np.int64)
        for blk, cl in cands.items():
            costs = np.vstack([c for c, _, _ in cl])
            ch = np.argmin(costs, axis=0)
            newD[blk * n:(blk + 1) * n] = costs[ch, idx]
            mv[blk * n:(blk + 1) * n] = np.array([m_ for _, m_, _ in cl])[ch]
            fb[blk * n:(blk + 1) * n] = np.array([f_ for _, _, f_ in cl])[ch]
        # I sub-state: an extra note after the cluster, from any sub-state
        newD[_I * n:] = E + cfg.insert_cost
        # the source state (moves other than arrival)
        srcst = np.concatenate([fb * n + np.tile(idx, _HELD), e_src])
        no = np.zeros(n, dtype=bool)
        is_arr = np.concatenate([mv == 2, no])
        is_stay = np.concatenate([mv == 1, no])
        is_prev = np.concatenate([mv == 3, no])
        # on arrival, which pitches of the cluster before were played: all that were on an advance,
        # none on a skip (they may still come, out of order); after a jump none may come
        P_arr = np.where(kind == KIND_ADVANCE, M2[sst], np.where(kind == KIND_SKIP, 0, -1))
        bit_all, bitp_all = np.tile(bit, _NB), np.tile(bitp, _NB)
        P_arr_all, S_arr_all, kind_all = np.tile(P_arr, _NB), np.tile(S_arr, _NB), np.tile(kind, _NB)
        arr_src = np.tile(np.where(src >= 0, sst, -1), _NB)
        m = float(np.min(newD))
        if not math.isfinite(m):  # cannot happen: an insertion is always possible
            raise RuntimeError("alignment lost every path")
        self.offset += m
        self.D = newD - m
        self.S = np.where(is_arr, S_arr_all, S2[srcst])
        self.A = np.where(is_arr, t, A2[srcst])
        X_arr = np.where((kind != KIND_JUMP) & np.isfinite(expected), expected, t)
        self.X = np.where(is_arr, np.tile(X_arr, _NB), X2[srcst])
        self.M = np.where(is_arr, bit_all, np.where(is_stay, M2[srcst] | bit_all, M2[srcst]))
        self.C = np.where(is_arr, 1, np.where(is_stay, C2[srcst] + 1, C2[srcst]))
        self.P = np.where(is_arr, P_arr_all, np.where(is_prev, P2[srcst] | bitp_all, P2[srcst]))
        inp_all = np.tile(inp, _NB)
        op = np.where(is_arr | is_stay, np.where(inp_all, OP_MATCH, OP_SUBSTITUTE),
                      np.where(is_prev, OP_MATCH, OP_INSERT)).astype(np.int8)
        kinds = np.where(is_arr, kind_all, KIND_STAY).astype(np.int8)
        if self.keep_path:
            self._src.append(np.where(is_arr, arr_src, srcst).astype(np.int32))
            self._op.append(op)
            self._kind.append(kinds)
            self._back.append(is_prev.astype(np.int8))
        # the live decision: the best state not counting the notes of its chord still to come
        # (they are charged on arrival and will most likely be played within milliseconds)
        # (of the chord-in-hand sub-states, the cheapest; they compare as they are)
        hb = np.argmin(self.D[:_HELD * n].reshape(_HELD, n), axis=0)
        hw = hb * n + idx
        pend = cfg.miss_cost * np.maximum(self.size - self.C[hw], 0)
        cand = np.concatenate([self.D[hw] - pend, self.D[_I * n:]])
        c2 = int(np.argmin(cand))
        j2 = int(hw[c2]) if c2 < n else _I * n + c2 - n
        j = j2 % n
        exp_s = float("nan")
        if is_arr[j2] and kinds[j2] != KIND_JUMP:
            exp_s = float(expected[j])
        elif is_stay[j2] or is_prev[j2]:
            exp_s = float(self.A[j2])
        return FollowStep(j - 1 - int(is_prev[j2]), int(op[j2]), int(kinds[j2]), exp_s, float(self.S[j2]),
                          bool(self.C[j2] >= self.size[j]), float(cand[c2]) + self.offset)

    @property
    def n_steps(self) -> int:
        return len(self._src)

    def alignment(self) -> Alignment:
        """Back-track the best path over every note so far (missed notes at the end priced in)."""
        if not self.keep_path:
            raise ParameterError("this follower was made with keep_path=False; it cannot back-track")
        cfg, n = self.cfg, self.n
        # the notes after the end of the path: missed, or left out as a forward jump would be
        left = self.cum[-1] - self.cum
        rest = np.minimum(cfg.miss_cost * left, cfg.jump_cost + cfg.jump_skip_cost * left)
        end = self.D + np.tile(rest, _NB)
        j = int(np.argmin(end))
        cost = float(end[j]) + self.offset
        K = len(self._src)
        cl = np.empty(K, dtype=np.int64)
        ops = np.empty(K, dtype=np.int8)
        kinds = np.empty(K, dtype=np.int8)
        for k in range(K - 1, -1, -1):
            cl[k] = j % n - 1 - int(self._back[k][j])
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
