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

Peak-level verification. A pair hash survives noise only when both of its peaks do (at -5 dB
babble about a quarter of the catalog's peaks survive, so a sixteenth of its pairs), and a weak
true match can lose the vote's ratio test to chance bins of other tracks. When the hash rule
does not accept, the best bins ``(track, speed, offset)`` of the ``peak_candidates`` best-voted
tracks are re-scored against each track's stored peaks (:meth:`Store.peaks`): the query's peaks
are mapped onto the track (``t_ref = offset + s * t``, ``f_ref = f / s``, over a few sub-frame
shifts and speed nudges of +-0.5%), a query peak that lands within ``peak_tol_frames`` and
``peak_tol_bins`` of a stored peak counts, and the counts are made time-diverse as above. The
best track is accepted when its count is at least ``peak_min`` and ``peak_ratio`` times that of
every other candidate track (see :func:`peak_scores`, :func:`decide_peaks`).

The defaults were calibrated on a held-out query set (``benchmarks/identify.py --calibrate``,
see docs/benchmarks.md): out-of-catalog clips of other POP909 songs against a 100-track
catalog; the thresholds are the rule with the highest in-catalog top-1 and no false accept
there (the rule at 0.5% false accepts there let 5 of 300 hard negatives through against a
400-track catalog). The peak-level rule (``peak_min`` 10, ``peak_ratio`` 2.0) was calibrated on
the same clips, applied after that hash rule: the most top-1 with no false accept there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.listen.identify.fingerprint import FingerprintConfig, Peaks, query_hashes
from yuefu.listen.identify.store import Store

__all__ = ["MatchSettings", "Candidate", "PeakScore", "match_peaks", "vote", "accept", "peak_scores",
           "decide_peaks"]


@dataclass(frozen=True)
class MatchSettings:
    """How a query is searched and when a match is accepted.

    Attributes
    ----------
    max_speed_change : float
        Largest playback speed change accepted (0.05 = +-5%).
    search_speed_change : float
        Largest speed change searched (0.06 = +-6%): one step further than what is accepted.
        A clip played a semitone faster (+5.9%) looks like another song's passage transposed
        a semitone up at a faster tempo, and the +-6% bins draw a quarter of the out-of-catalog
        clips' best candidates (no in-catalog clip was found there on the calibration clips).
        Searched, such bins still count as other tracks in the ratio tests (the cohort a match
        must stand out from); they are never accepted.
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
    peak_candidates : int
        Tracks (best bins by aligned count) re-scored at the peak level when the hash rule does
        not accept (0: no peak-level verification).
    peak_tol_frames, peak_tol_bins : float
        How close a mapped query peak must land to a stored peak, frames and bins.
    peak_min : float
        Fewest time-diverse peak matches for a peak-level accept.
    peak_ratio : float
        The best track's time-diverse peak matches over those of every other candidate track.
    """

    max_speed_change: float = 0.05
    search_speed_change: float = 0.06
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
    peak_candidates: int = 10
    peak_tol_frames: float = 0.75
    peak_tol_bins: float = 0.6
    peak_min: float = 10.0
    peak_ratio: float = 2.0

    def __post_init__(self) -> None:
        if not self.block_s > 0:
            raise ParameterError(f"block_s must be > 0 seconds, got {self.block_s}")
        if self.block_cap < 1 or self.n_verify < 1:
            raise ParameterError(f"block_cap and n_verify must be >= 1, got {self.block_cap}, "
                                 f"{self.n_verify}")
        if not 1 <= self.query_fan_out <= 64:
            raise ParameterError(f"query_fan_out must be 1..64, got {self.query_fan_out}")
        if self.peak_candidates < 0 or not (self.peak_tol_frames > 0 and self.peak_tol_bins > 0):
            raise ParameterError(f"peak_candidates must be >= 0 and the peak tolerances > 0, got "
                                 f"{self.peak_candidates}, {self.peak_tol_frames}, {self.peak_tol_bins}")
        if not 0 <= self.max_speed_change <= self.search_speed_change:
            raise ParameterError(f"max_speed_change must be 0..search_speed_change, got "
                                 f"{self.max_speed_change}, {self.search_speed_change}")
        if self.stop_share <= 0 or self.stop_min < 1:
            raise ParameterError(f"stop_share must be > 0 and stop_min >= 1, got {self.stop_share}, "
                                 f"{self.stop_min}")

    def acceptable_speed(self, speed: float) -> bool:
        """Whether a match at this speed factor (a grid point of the search) may be accepted."""
        return abs(float(speed) - 1.0) <= self.max_speed_change + 1e-9

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
    bins : tuple of (int, float, float, int)
        ``(track_id, speed, offset_frames, aligned)``: the best bin of each of the best-voted tracks
        (at most ``max(n_verify, peak_candidates)``), for the peak-level verification.
    peak_spread, second_peak_spread : float
        Time-diverse peak matches of the chosen track and of the best other candidate track
        (0 when the peak level was not looked at).
    by : str
        What accepted the match: ``"hashes"``, ``"peaks"``, or ``""`` (not accepted).
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
    bins: tuple[tuple[int, float, float, int], ...] = ()
    peak_spread: float = 0.0
    second_peak_spread: float = 0.0
    by: str = ""


@dataclass(frozen=True)
class PeakScore:
    """A candidate bin re-scored at the peak level (see :func:`peak_scores`).

    Attributes
    ----------
    track_id : int
    spread : float
        Time-diverse count of the query peaks that land on a stored peak.
    hits : int
        Query peaks that land on a stored peak.
    speed : float
        Refined speed factor.
    offset_frames : float
        Refined offset, frames.
    """

    track_id: int
    spread: float
    hits: int
    speed: float
    offset_frames: float


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
    speeds = speed_grid(s.search_speed_change, s.speed_step)
    qcfg = replace(cfg, fan_out=max(cfg.fan_out, s.query_fan_out))
    qh, qt, qk = query_hashes(peaks, speeds, qcfg)
    if qh.size == 0:
        return None
    if n_tracks is None:
        n_tracks = store.counts()[0]
    dh, dtrack, dt = store.lookup(np.unique(qh), max_occurrences=s.max_occurrences(n_tracks))
    cand = vote(qh, qt, qk, dh, dtrack, dt, speeds, settings=s, frame_s=cfg.frame_s)
    if cand is None or cand.accepted or s.peak_candidates == 0 or not cand.bins:
        return cand
    bins = cand.bins[: s.peak_candidates]
    scores = peak_scores(peaks, bins, store.peaks(sorted({b[0] for b in bins})), settings=s,
                         frame_s=cfg.frame_s)
    return decide_peaks(cand, scores, s)


#: Sub-frame shifts of the offset and speed nudges tried by the peak-level verification (the
#: vote's offset is rounded to a frame, its speed to the grid's step).
_PEAK_SHIFTS = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
_PEAK_NUDGES = np.array([0.995, 1.0, 1.005])


def peak_scores(peaks: Peaks, bins: Sequence[tuple[Any, ...]],
                track_peaks: Mapping[int, tuple[np.ndarray, np.ndarray]], *,
                settings: MatchSettings | None = None, frame_s: float) -> list[PeakScore]:
    """Re-score candidate bins by the query peaks that land on the tracks' stored peaks.

    Parameters
    ----------
    peaks : Peaks
        The query's peaks.
    bins : sequence of (track_id, speed, offset_frames[, aligned])
        Candidates, e.g. :attr:`Candidate.bins`.
    track_peaks : mapping of track_id to (t, f)
        The stored peaks (frames, bins; ``t`` sorted), from :meth:`Store.peaks`.
    settings : MatchSettings, optional
    frame_s : float
        Seconds per frame (for the time-diverse blocks).

    Returns
    -------
    list of PeakScore
        One per bin, in the order given (a track without stored peaks scores 0).
    """
    s = settings or MatchSettings()
    qt, qf = np.asarray(peaks.t, dtype=np.float64), np.asarray(peaks.f, dtype=np.float64)
    out: list[PeakScore] = []
    if qt.size == 0:
        return [PeakScore(int(b[0]), 0.0, 0, float(b[1]), float(b[2])) for b in bins]
    block = max(1.0, s.block_s / frame_s)
    blk = np.floor((qt - qt.min()) / block).astype(np.int64)
    n_blk = int(blk.max()) + 1
    mt = float(qt.mean())
    # variants: every shift with every nudge; the nudge turns the clip about its mean time
    sh = np.repeat(_PEAK_SHIFTS, _PEAK_NUDGES.shape[0])
    nu = np.tile(_PEAK_NUDGES, _PEAK_SHIFTS.shape[0])
    n_var = sh.shape[0]
    vblk = (np.arange(n_var)[:, None] * n_blk + blk[None, :]).ravel()
    for b in bins:
        track, speed, off = int(b[0]), float(b[1]), float(b[2])
        ct, cf = track_peaks.get(int(track), (np.zeros(0), np.zeros(0)))
        if ct.size == 0:
            out.append(PeakScore(int(track), 0.0, 0, float(speed), float(off)))
            continue
        # the stored peaks near each query peak under the central variant (one search), wide
        # enough for every variant; then every variant tests its own shift on those few
        dtv = sh[:, None] + speed * (nu[:, None] - 1.0) * (qt[None, :] - mt)  # (variants, peaks)
        reach = s.peak_tol_frames + float(np.abs(dtv).max())
        tr0 = off + speed * qt
        lo = np.searchsorted(ct, tr0 - reach, side="left")
        hi = np.searchsorted(ct, tr0 + reach, side="right")
        w = int((hi - lo).max())
        if w == 0:
            out.append(PeakScore(int(track), 0.0, 0, float(speed), float(off)))
            continue
        idx = lo[:, None] + np.arange(w)[None, :]
        inside = idx < hi[:, None]
        np.minimum(idx, ct.shape[0] - 1, out=idx)
        # pairs (query peak, stored peak) close enough in frequency for some variant
        f0 = qf / speed
        near = inside & (np.abs(cf[idx] - f0[:, None])
                         <= s.peak_tol_bins + (float(np.abs(1.0 / _PEAK_NUDGES - 1.0).max()) * f0)[:, None])
        qi, col = np.nonzero(near)
        j = idx[qi, col]
        ok = ((np.abs((ct[j] - tr0[qi])[None, :] - dtv[:, qi]) <= s.peak_tol_frames)
              & (np.abs(cf[j][None, :] - qf[qi][None, :] / (speed * nu[:, None])) <= s.peak_tol_bins))
        hit2 = np.zeros((n_var, qt.shape[0]), dtype=bool)
        vv, pp = np.nonzero(ok)
        hit2[vv, qi[pp]] = True
        hit = hit2.ravel()
        per = np.bincount(vblk[hit], minlength=n_var * n_blk).reshape(n_var, n_blk)
        spread = np.minimum(per, s.block_cap).sum(axis=1)
        hits = per.sum(axis=1)
        v = int(np.lexsort((-hits, -spread))[0])  # the most spread, then the most hits
        sv = speed * float(nu[v])
        out.append(PeakScore(int(track), float(spread[v]), int(hits[v]), sv,
                             float(off + sh[v] + (speed - sv) * mt)))
    return out


def decide_peaks(cand: Candidate, scores: list[PeakScore], s: MatchSettings) -> Candidate:
    """The peak-level decision for a candidate the hash rule did not accept.

    The best-scoring track (time-diverse peak matches, then raw matches) among the bins at an
    accepted speed is accepted when its score is at least ``peak_min`` and ``peak_ratio`` times
    the best score of any other track (at any searched speed). ``scores`` are in the order of
    ``cand.bins``.
    """
    # a bin outside the accepted speeds may be the best and still counts as another track
    allowed = [i for i, b in enumerate(cand.bins[: len(scores)]) if s.acceptable_speed(b[1])]
    if not allowed:
        return cand
    best = min(allowed, key=lambda i: (-scores[i].spread, -scores[i].hits, i))
    b = scores[best]
    p2 = max((x.spread for x in scores if x.track_id != b.track_id), default=0.0)
    ok = b.spread >= s.peak_min and b.spread >= s.peak_ratio * max(p2, 1.0)
    if not ok:  # no match; the scores of the hash vote's best track, for diagnostics
        own = next((x.spread for x in scores if x.track_id == cand.track_id), 0.0)
        others = max((x.spread for x in scores if x.track_id != cand.track_id), default=0.0)
        return replace(cand, peak_spread=own, second_peak_spread=others)
    aligned = next((int(x[3]) for x in cand.bins if x[0] == b.track_id), cand.aligned)
    return replace(cand, track_id=b.track_id, aligned=int(aligned), offset_frames=b.offset_frames,
                   speed=b.speed, accepted=True, confidence=_confidence(b.spread, p2, s),
                   peak_spread=b.spread, second_peak_spread=p2, by="peaks")



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
    # join the store's occurrences to the query entries with the same hash. A lookup returns
    # a hash's occurrences together: each run of one hash is searched once (any order works;
    # runs are only shorter then)
    order = np.argsort(qh, kind="stable")
    qh_s, qt_s, qk_s = qh[order], qt[order], qk[order]
    head = np.empty(dh.shape[0], dtype=bool)
    head[0] = True
    np.not_equal(dh[1:], dh[:-1], out=head[1:])
    at_run = np.flatnonzero(head)
    run = np.diff(np.append(at_run, dh.shape[0]))
    lo_run = np.searchsorted(qh_s, dh[at_run], side="left")
    reps_run = np.searchsorted(qh_s, dh[at_run], side="right") - lo_run
    hit = reps_run > 0
    if not hit.any():
        return None
    if not hit.all():
        keep = np.repeat(hit, run)
        dtrack, dt = dtrack[keep], dt[keep]
        lo_run, reps_run, run = lo_run[hit], reps_run[hit], run[hit]
    lo = np.repeat(lo_run, run)
    reps = np.repeat(reps_run, run)
    tr = np.repeat(dtrack, reps)
    qidx = np.repeat(lo - np.cumsum(reps) + reps, reps) + np.arange(tr.shape[0])
    k = qk_s[qidx]
    off = np.rint(np.repeat(dt, reps) - qt_s[qidx]).astype(np.int64)
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
    is_verified = np.zeros(int(tr.max()) + 1, dtype=bool)
    is_verified[track_of[starts[verify]]] = True
    mine = is_verified[tr]
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
    accepted = accept(aligned, second, spread, second_spread, s) and s.acceptable_speed(speeds[k_best])
    conf = _confidence(spread, second_spread, s) if accepted else 0.0
    # the best bin of each of the best-voted tracks, for the peak-level verification
    cands = []
    for ti in ranked[: max(s.n_verify, s.peak_candidates)].tolist():
        b = int(starts[ti]) + int(np.argmax(score[starts[ti]: ends[ti]]))
        rb = int(keys[b]) % (n_speeds * span)
        cands.append((int(keys[b]) // (n_speeds * span), float(speeds[rb // span]),
                      float(rb % span + off_min), int(score[b])))
    return Candidate(track_id=int(best_track), aligned=aligned, second=second,
                     offset_frames=float(off_best), speed=float(speeds[k_best]), accepted=accepted,
                     confidence=conf, n_query_hashes=int(qh.shape[0]), spread=spread,
                     second_spread=second_spread, bins=tuple(cands), by="hashes" if accepted else "")
