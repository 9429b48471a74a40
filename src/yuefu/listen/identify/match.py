"""Match a query's hashes against a store and verify the match by a consistent time offset.

For every candidate speed factor ``s`` the query's hashes are looked up; each hit votes for
``(track, s, offset)`` with ``offset = t_db - s * t_query`` (frames). A real match piles its
votes into one offset bin (and its neighbours: peak times jitter by a frame); chance hits
scatter. The query pairs each anchor with more peaks than the catalog did
(``query_fan_out``), so that noise peaks between two catalog peaks do not break the pair, and
hashes stored very often (a stop-list relative to the catalog's size) are not looked at.

Verification. Chance is not the only source of a strong wrong bin: two different songs can
share a second of identical sound (the same sustained chord on the same instrument, a common
fill), which lines up dozens of hashes in one offset bin, all within that second. A real
match is spread over the clip. So each of the best ``n_verify`` tracks' best bins is also
scored by its *time-diverse* count: the clip is cut into blocks of ``block_s`` seconds and
each block contributes at most ``block_cap`` aligned hashes. A match is accepted when

* the best bin holds at least ``min_aligned`` hashes and ``min_ratio`` times the best bin of
  any other track, and
* its time-diverse count is at least ``min_spread`` and ``min_spread_ratio`` times that of
  every other verified track.

The defaults were calibrated on a held-out query set (``benchmarks/identify.py --calibrate``,
see docs/benchmarks.md): out-of-catalog clips of other POP909 songs against a 100-track
catalog; the thresholds are the rule with the highest in-catalog top-1 and no false accept
there (the rule at 0.5% false accepts there let 5 of 300 hard negatives through against a
400-track catalog).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.listen.identify.fingerprint import FingerprintConfig, Peaks, query_hashes
from yuefu.listen.identify.store import Store

__all__ = ["MatchSettings", "Candidate", "match_peaks", "vote", "accept"]


@dataclass(frozen=True)
class MatchSettings:
    """How a query is searched and when a match is accepted.

    Attributes
    ----------
    max_speed_change : float
        Largest playback speed change searched (0.06 = +-6%).
    speed_step : float
        Grid step of the speed search.
    min_aligned : int
        Fewest offset-aligned hashes for a match.
    min_ratio : float
        The best track's aligned count over the second-best track's.
    min_spread : float
        Fewest time-diverse aligned hashes (at most ``block_cap`` per ``block_s`` of the clip).
    min_spread_ratio : float
        The best track's time-diverse count over that of the other verified tracks.
    block_s : float
        Block length of the time-diverse count, seconds of the clip.
    block_cap : int
        Most aligned hashes counted from one block.
    n_verify : int
        Tracks (best bins by aligned count) whose time-diverse count is computed.
    query_fan_out : int
        Pairs formed from each anchor peak of the query (at least the catalog's ``fan_out``).
        More than the catalog's: a noise peak that falls between two of the catalog's peaks
        pushes a catalog pair out of the anchor's first ``fan_out``; looking further keeps it.
    stop_share, stop_min : float, int
        A stop-list: hashes stored more than ``max(stop_min, stop_share * tracks)`` times are
        not voted on. They come from sound that many songs share (the same chord on the same
        instrument), tell little, and cost most of the lookup's occurrences.
    """

    max_speed_change: float = 0.06
    speed_step: float = 0.01
    min_aligned: int = 8
    min_ratio: float = 1.75
    min_spread: float = 6.0
    min_spread_ratio: float = 2.0
    block_s: float = 0.25
    block_cap: int = 3
    n_verify: int = 5
    query_fan_out: int = 12
    stop_share: float = 0.4
    stop_min: int = 200

    def __post_init__(self) -> None:
        if not self.block_s > 0:
            raise ParameterError(f"block_s must be > 0 seconds, got {self.block_s}")
        if self.block_cap < 1 or self.n_verify < 1:
            raise ParameterError(f"block_cap and n_verify must be >= 1, got {self.block_cap}, "
                                 f"{self.n_verify}")
        if not 1 <= self.query_fan_out <= 64:
            raise ParameterError(f"query_fan_out must be 1..64, got {self.query_fan_out}")
        if self.stop_share <= 0 or self.stop_min < 1:
            raise ParameterError(f"stop_share must be > 0 and stop_min >= 1, got {self.stop_share}, "
                                 f"{self.stop_min}")

    def max_occurrences(self, n_tracks: int) -> int:
        """The stop-list threshold for a catalog of ``n_tracks`` tracks."""
        return max(int(self.stop_min), int(self.stop_share * n_tracks))


@dataclass(frozen=True)
class Candidate:
    """The best-scoring track of a search (accepted or not).

    Attributes
    ----------
    track_id : int
    aligned : int
        Hashes that agree on the offset (within one frame).
    second : int
        Aligned count of the best other track.
    offset_frames : int
        Where the query starts in the track, frames (the query's time 0).
    speed : float
        Speed factor of the query relative to the track (1.02 = 2% faster).
    accepted : bool
    confidence : float
        0..1.
    n_query_hashes : int
        Hashes looked up (over all speeds).
    spread : float
        Time-diverse aligned count (see :class:`MatchSettings`).
    second_spread : float
        Best time-diverse count among the other verified tracks.
    """

    track_id: int
    aligned: int
    second: int
    offset_frames: float
    speed: float
    accepted: bool
    confidence: float
    n_query_hashes: int
    spread: float = 0.0
    second_spread: float = 0.0


def _confidence(aligned: float, second: float, s: MatchSettings) -> float:
    """0..1 from the margin of the time-diverse count over the runner-up and its strength."""
    if aligned <= 0:
        return 0.0
    margin = 1.0 - (second + 1.0) / (aligned + 1.0)
    strength = min(1.0, aligned / (3.0 * max(s.min_spread, 1.0)))
    return float(np.clip(margin * (0.5 + 0.5 * strength), 0.0, 1.0))


def accept(aligned: int, second: int, spread: float, second_spread: float,
           s: MatchSettings) -> bool:
    """The acceptance rule (see the module docstring)."""
    return (aligned >= s.min_aligned and aligned >= s.min_ratio * max(second, 1)
            and spread >= s.min_spread and spread >= s.min_spread_ratio * max(second_spread, 1.0))


def match_peaks(store: Store, peaks: Peaks, *, settings: MatchSettings | None = None,
                config: FingerprintConfig | None = None, n_tracks: int | None = None) -> Candidate | None:
    """The best catalog candidate for a query's peaks, or ``None`` when nothing matched at all.

    Parameters
    ----------
    store : Store
    peaks : Peaks
        The query's peaks (:func:`~yuefu.listen.identify.fingerprint.find_peaks`).
    settings : MatchSettings, optional
    config : FingerprintConfig, optional
        Defaults to the store's.
    n_tracks : int, optional
        Tracks in the catalog (for the stop-list); asked from the store when not given.

    Returns
    -------
    Candidate or None
        ``accepted`` tells whether it passes the verification.
    """
    from yuefu.listen.identify.fingerprint import speed_grid

    s = settings or MatchSettings()
    cfg = config or store.config
    speeds = speed_grid(s.max_speed_change, s.speed_step)
    qcfg = replace(cfg, fan_out=max(cfg.fan_out, s.query_fan_out))
    qh, qt, qk = query_hashes(peaks, speeds, qcfg)
    if qh.size == 0:
        return None
    if n_tracks is None:
        n_tracks = store.counts()[0]
    dh, dtrack, dt = store.lookup(np.unique(qh), max_occurrences=s.max_occurrences(n_tracks))
    return vote(qh, qt, qk, dh, dtrack, dt, speeds, settings=s, frame_s=cfg.frame_s)


def vote(qh: np.ndarray, qt: np.ndarray, qk: np.ndarray, dh: np.ndarray, dtrack: np.ndarray,
         dt: np.ndarray, speeds: np.ndarray, *, settings: MatchSettings | None = None,
         frame_s: float) -> Candidate | None:
    """Vote and verify: the query's hashes (``qh``, times ``qt`` on the reference's scale, speed
    indices ``qk``, as from :func:`~yuefu.listen.identify.fingerprint.query_hashes`) against the
    store's occurrences of them (``dh, dtrack, dt``, as from :meth:`Store.lookup`).

    Every (query entry, stored occurrence) pair with the same hash votes for ``(track, speed,
    offset)``; the votes are counted by one sort of their keys (no Python loop over them).
    """
    s = settings or MatchSettings()
    if dh.size == 0 or qh.size == 0:
        return None
    # join the store's rows to the query entries with the same hash
    order = np.argsort(qh, kind="stable")
    qh_s, qt_s, qk_s = qh[order], qt[order], qk[order]
    lo = np.searchsorted(qh_s, dh, side="left")
    hi = np.searchsorted(qh_s, dh, side="right")
    reps = hi - lo
    keep = reps > 0
    if not keep.any():
        return None
    lo, reps = lo[keep], reps[keep]
    dtrack, dt = dtrack[keep], dt[keep]
    row = np.repeat(np.arange(lo.shape[0]), reps)
    qidx = np.repeat(lo - np.cumsum(reps) + reps, reps) + np.arange(row.shape[0])
    tr = dtrack[row]
    k = qk_s[qidx]
    off = np.rint(dt[row] - qt_s[qidx]).astype(np.int64)
    # vote: key = (track, speed, offset); offsets of one (track, speed) lie in 2..span-1, so
    # key +- 1 never reaches another (track, speed)
    off_min = int(off.min()) - 2
    span = int(off.max()) - off_min + 3
    n_speeds = speeds.shape[0]
    key = (tr * n_speeds + k) * span + (off - off_min)
    if n_speeds * span * (int(tr.max()) + 1) < 2**31:  # 32-bit keys sort about twice as fast
        key = key.astype(np.int32)
    sk = np.sort(key)
    first = np.empty(sk.shape[0], dtype=bool)
    first[0] = True
    np.not_equal(sk[1:], sk[:-1], out=first[1:])
    at = np.flatnonzero(first)
    keys = sk[at]
    counts = np.diff(np.append(at, sk.shape[0]))
    # a bin's score includes its neighbours (+-1 frame of jitter): in the sorted distinct keys
    # a neighbour is the next or previous key
    score = counts.copy()
    adj = keys[1:] == keys[:-1] + 1
    score[:-1][adj] += counts[1:][adj]
    score[1:][adj] += counts[:-1][adj]
    # the best bin of each track (keys are sorted by track), then the n_verify best tracks
    track_of = keys // (n_speeds * span)
    new_track = np.empty(keys.shape[0], dtype=bool)
    new_track[0] = True
    np.not_equal(track_of[1:], track_of[:-1], out=new_track[1:])
    starts = np.flatnonzero(new_track)
    ends = np.append(starts[1:], keys.shape[0])
    best_of_track = np.maximum.reduceat(score, starts)
    ranked = np.argsort(-best_of_track, kind="stable")
    second = int(best_of_track[ranked[1]]) if ranked.shape[0] > 1 else 0
    block = max(1.0, s.block_s / frame_s)
    verify = ranked[: max(1, s.n_verify)]
    # the votes of the verified tracks only (one pass over all votes, then small arrays)
    mine = np.isin(tr, track_of[starts[verify]])
    key_v, qidx_v = key[mine], qidx[mine]
    bins, spreads = [], []
    for ti in verify.tolist():
        b = int(starts[ti]) + int(np.argmax(score[starts[ti]: ends[ti]]))
        kb = int(keys[b])
        bins.append(kb)
        m = np.abs(key_v - kb) <= 1
        # each query hash once (it may hit the track at two neighbouring offsets)
        qq = np.unique(qidx_v[m])
        kk = (kb // span) % n_speeds
        blocks = np.floor(qt_s[qq] / speeds[kk] / block).astype(np.int64)
        spreads.append(float(np.minimum(np.bincount(blocks - blocks.min()), s.block_cap).sum())
                       if qq.size else 0.0)
    best_key = bins[0]
    best_track = best_key // (n_speeds * span)
    aligned = int(best_of_track[ranked[0]])
    spread = spreads[0]
    second_spread = max(spreads[1:], default=0.0)
    rest = best_key - best_track * n_speeds * span
    k_best, off_best = int(rest // span), int(rest % span) + off_min
    accepted = accept(aligned, second, spread, second_spread, s)
    conf = _confidence(spread, second_spread, s) if accepted else 0.0
    return Candidate(track_id=int(best_track), aligned=aligned, second=second,
                     offset_frames=float(off_best), speed=float(speeds[k_best]), accepted=accepted,
                     confidence=conf, n_query_hashes=int(qh.shape[0]), spread=spread,
                     second_spread=second_spread)
