"""Match a query's hashes against a store and verify the match by a consistent time offset.

For every candidate speed factor ``s`` the query's hashes are looked up; each hit votes for
``(track, s, offset)`` with ``offset = t_db - s * t_query`` (frames). A real match piles its
votes into one offset bin (and its neighbours: peak times jitter by a frame); chance hits
scatter.

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
catalog, thresholds chosen for <= 0.5% false accepts at the highest in-catalog top-1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.listen.identify.fingerprint import FingerprintConfig, Peaks, query_hashes
from yuefu.listen.identify.store import Store

__all__ = ["MatchSettings", "Candidate", "match_peaks", "accept"]


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
    """

    max_speed_change: float = 0.06
    speed_step: float = 0.01
    min_aligned: int = 8
    min_ratio: float = 1.75
    min_spread: float = 10.0
    min_spread_ratio: float = 2.1
    block_s: float = 0.25
    block_cap: int = 3
    n_verify: int = 5

    def __post_init__(self) -> None:
        if not self.block_s > 0:
            raise ParameterError(f"block_s must be > 0 seconds, got {self.block_s}")
        if self.block_cap < 1 or self.n_verify < 1:
            raise ParameterError(f"block_cap and n_verify must be >= 1, got {self.block_cap}, "
                                 f"{self.n_verify}")


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
                config: FingerprintConfig | None = None) -> Candidate | None:
    """The best catalog candidate for a query's peaks, or ``None`` when nothing matched at all.

    Parameters
    ----------
    store : Store
    peaks : Peaks
        The query's peaks (:func:`~yuefu.listen.identify.fingerprint.find_peaks`).
    settings : MatchSettings, optional
    config : FingerprintConfig, optional
        Defaults to the store's.

    Returns
    -------
    Candidate or None
        ``accepted`` tells whether it passes the verification.
    """
    from yuefu.listen.identify.fingerprint import speed_grid

    s = settings or MatchSettings()
    cfg = config or store.config
    speeds = speed_grid(s.max_speed_change, s.speed_step)
    qh, qt, qk = query_hashes(peaks, speeds, cfg)
    if qh.size == 0:
        return None
    uniq = np.unique(qh)
    dh, dtrack, dt = store.lookup(uniq)
    if dh.size == 0:
        return None
    # join the store's rows to the query entries with the same hash
    order = np.argsort(qh, kind="stable")
    qh_s, qt_s, qk_s = qh[order], qt[order], qk[order]
    lo = np.searchsorted(qh_s, dh, side="left")
    hi = np.searchsorted(qh_s, dh, side="right")
    reps = hi - lo
    keep = reps > 0
    lo, reps = lo[keep], reps[keep]
    dtrack, dt = dtrack[keep], dt[keep]
    row = np.repeat(np.arange(lo.shape[0]), reps)
    qidx = np.repeat(lo - np.cumsum(reps) + reps, reps) + np.arange(row.shape[0])
    tr = dtrack[row]
    k = qk_s[qidx]
    off = np.rint(dt[row] - qt_s[qidx]).astype(np.int64)
    # vote: (track, speed, offset) -> count
    off_min = int(off.min()) - 2
    span = int(off.max()) - off_min + 3
    n_speeds = speeds.shape[0]
    key = (tr * n_speeds + k) * span + (off - off_min)
    keys, counts = np.unique(key, return_counts=True)
    # a bin's score includes its neighbours (+-1 frame of jitter)
    score = counts.copy()
    for d in (-1, 1):
        pos = np.searchsorted(keys, keys + d)
        pos_c = np.minimum(pos, keys.shape[0] - 1)
        hit = (pos < keys.shape[0]) & (keys[pos_c] == keys + d)
        score[hit] += counts[pos_c[hit]]
    track_of = keys // (n_speeds * span)
    # the best bin of each track, then the n_verify best tracks
    by_track = np.lexsort((-score, track_of))
    first = np.unique(track_of[by_track], return_index=True)[1]
    top = by_track[first]
    top = top[np.argsort(-score[top], kind="stable")][: max(1, s.n_verify)]
    best = int(top[0])
    best_track = int(track_of[best])
    aligned = int(score[best])
    others = track_of != best_track
    second = int(score[others].max()) if others.any() else 0
    q_t = qt_s[qidx]
    block = max(1.0, s.block_s / cfg.frame_s)
    spreads = []
    for b in top:
        rest_b = keys[b] - track_of[b] * n_speeds * span
        kb, ob = int(rest_b // span), int(rest_b % span) + off_min
        m = (tr == track_of[b]) & (k == kb) & (np.abs(off - ob) <= 1)
        # each query hash once (it may hit the track at two neighbouring offsets)
        qq, at = np.unique(qidx[m], return_index=True)
        blocks = np.floor(q_t[m][at] / speeds[kb] / block).astype(np.int64)
        spreads.append(float(np.minimum(np.bincount(blocks - blocks.min()), s.block_cap).sum())
                       if qq.size else 0.0)
    spread = spreads[0]
    second_spread = max(spreads[1:], default=0.0)
    rest = keys[best] - best_track * n_speeds * span
    k_best, off_best = int(rest // span), int(rest % span) + off_min
    accepted = accept(aligned, second, spread, second_spread, s)
    conf = _confidence(spread, second_spread, s) if accepted else 0.0
    return Candidate(track_id=best_track, aligned=aligned, second=second,
                     offset_frames=float(off_best), speed=float(speeds[k_best]), accepted=accepted,
                     confidence=conf, n_query_hashes=int(qh.shape[0]), spread=spread,
                     second_spread=second_spread)
