"""Match a query's hashes against a store and verify the match by a consistent time offset.

For every candidate speed factor ``s`` the query's hashes are looked up; each hit votes for
``(track, s, offset)`` with ``offset = t_db - s * t_query`` (frames). A real match piles its
votes into one offset bin (and its neighbours: peak times jitter by a frame); chance hits
scatter. The best bin must hold at least ``min_aligned`` votes and beat the best bin of any
other track by ``min_ratio``; otherwise the answer is "no match".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yuefu.listen.identify.fingerprint import FingerprintConfig, Peaks, query_hashes
from yuefu.listen.identify.store import Store

__all__ = ["MatchSettings", "Candidate", "match_peaks"]


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
    """

    max_speed_change: float = 0.06
    speed_step: float = 0.01
    min_aligned: int = 8
    min_ratio: float = 2.5


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
    """

    track_id: int
    aligned: int
    second: int
    offset_frames: float
    speed: float
    accepted: bool
    confidence: float
    n_query_hashes: int


def _confidence(aligned: int, second: int, s: MatchSettings) -> float:
    """0..1 from the margin over the runner-up and the absolute count."""
    if aligned <= 0:
        return 0.0
    margin = 1.0 - (second + 1.0) / (aligned + 1.0)
    strength = min(1.0, aligned / (3.0 * s.min_aligned))
    return float(np.clip(margin * (0.5 + 0.5 * strength), 0.0, 1.0))


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
    best = int(np.argmax(score))
    best_track = int(track_of[best])
    aligned = int(score[best])
    others = track_of != best_track
    second = int(score[others].max()) if others.any() else 0
    rest = keys[best] - best_track * n_speeds * span
    k_best, off_best = int(rest // span), int(rest % span) + off_min
    accepted = aligned >= s.min_aligned and aligned >= s.min_ratio * max(second, 1)
    conf = _confidence(aligned, second, s) if accepted else 0.0
    return Candidate(track_id=best_track, aligned=aligned, second=second,
                     offset_frames=float(off_best), speed=float(speeds[k_best]), accepted=accepted,
                     confidence=conf, n_query_hashes=int(qh.shape[0]))
