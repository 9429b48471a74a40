"""Local tempo: where each score moment *should* have been played, given how the student played
around it.

A teacher does not call a note late because the whole piece is slower than the metronome mark, or
because the student slowed down over eight bars; a note is late against the pulse *around it*.
:func:`local_timing` fits, for every played score cluster, a straight line time = a + b * beat
through the other clusters nearby (Gaussian weights, ``sigma_beats``; the cluster itself is left
out, and a robust re-weighting (Tukey's biweight, c = 0.15 s) keeps a neighbouring wrong-timed
note from pulling the line). The line's value at the cluster's beat is its expected time, its
slope the local seconds per beat.

Pauses are found first and the piece is cut there, so that a hesitation is reported as a
hesitation (fluency) and not as every following note being late: an interval between two
consecutive played clusters is a *pause* when it exceeds the local pulse (the median seconds per
beat of the four intervals either side) by at least ``max(pause_min_s, pause_min_beats)`` and the
next interval does not give the time back (a single late note does).

>>> import numpy as np
>>> beats = np.arange(8.0)
>>> times = 0.5 * beats; times[5:] += 1.0            # a 1 s pause before beat 5
>>> t = local_timing(beats, times, np.zeros(8, dtype=int))
>>> [int(i) for i in t.pauses], round(float(t.pause_s[0]), 2)
([5], 1.0)
>>> bool(np.nanmax(np.abs(t.expected_s - times)) < 1e-6)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LocalTiming", "local_timing"]


@dataclass(frozen=True)
class LocalTiming:
    """Expected times and local tempo of played clusters (arrays in the order given).

    Attributes
    ----------
    expected_s : np.ndarray [shape=(n,)]
        Expected onset in seconds (NaN where too few neighbours tell).
    seconds_per_beat : np.ndarray [shape=(n,)]
        Local tempo (NaN where unknown).
    segment : np.ndarray [shape=(n,), int]
        Segment id after cutting at restarts and pauses.
    pauses : np.ndarray [shape=(m,), int]
        Indices of the clusters *before which* the student paused.
    pause_s : np.ndarray [shape=(m,)]
        How much longer than the pulse each pause lasted, in seconds.
    """

    expected_s: np.ndarray
    seconds_per_beat: np.ndarray
    segment: np.ndarray
    pauses: np.ndarray
    pause_s: np.ndarray


def _running_median(x: np.ndarray, half: int) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(len(x)):
        w = x[max(0, i - half):i + half + 1]
        w = w[np.isfinite(w)]
        out[i] = np.median(w) if len(w) else np.nan
    return out


def _fit_at(b0: float, beats: np.ndarray, times: np.ndarray, sigma: float) -> tuple[float, float]:
    """Robust, Gaussian-weighted local fit at ``b0``: (expected time, seconds per beat).

    A quadratic where the neighbourhood is wide enough (it follows a ritardando), else a line.
    """
    if len(beats) < 2 or np.ptp(beats) < 1e-6:
        return np.nan, np.nan
    x = (beats - b0) / sigma
    base = np.exp(-0.5 * x ** 2)
    quad = len(beats) >= 5 and (beats < b0).any() and (beats > b0).any()
    X = np.stack([np.ones_like(x), x, x ** 2] if quad else [np.ones_like(x), x], axis=1)
    w = base
    coef = None
    for _ in range(3):
        sw = np.sqrt(w)
        if w.sum() < 1e-9:
            break
        sol, _res, rank, _sv = np.linalg.lstsq(X * sw[:, None], times * sw, rcond=None)
        if rank < X.shape[1]:
            break
        coef = sol
        r = times - X @ sol
        u = np.clip(np.abs(r) / 0.15, 0, 1)
        w = base * (1 - u ** 2) ** 2
    if coef is None:
        return np.nan, np.nan
    return float(coef[0]), float(coef[1] / sigma)


def local_timing(beats: np.ndarray, times: np.ndarray, segment: np.ndarray, *, sigma_beats: float = 3.0,
                 pause_min_s: float = 0.35, pause_min_beats: float = 0.75,
                 trusted: np.ndarray | None = None) -> LocalTiming:
    """Expected times of played clusters from their neighbours.

    Parameters
    ----------
    beats : np.ndarray [shape=(n,)]
        Score beats of the played clusters, increasing.
    times : np.ndarray [shape=(n,)]
        When each was played (seconds).
    segment : np.ndarray [shape=(n,), int]
        Initial segments (a restart or a jump starts a new one); timing never crosses them.
    sigma_beats : float
        Width of the neighbourhood.
    pause_min_s, pause_min_beats : float
        The least excess over the pulse that counts as a pause.
    trusted : np.ndarray [shape=(n,), bool], optional
        Clusters whose time may inform their neighbours' expected times (default: all). An
        untrusted one still gets its own expected time from the others.
    """
    beats = np.asarray(beats, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    n = len(beats)
    seg = np.asarray(segment, dtype=np.int64).copy()
    pauses: list[int] = []
    pause_s: list[float] = []
    if n >= 2:
        db = np.diff(beats)
        dt = np.diff(times)
        same = seg[1:] == seg[:-1]
        with np.errstate(invalid="ignore", divide="ignore"):
            spb = np.where(same & (db > 1e-6) & (dt > 0), dt / db, np.nan)
        pulse = _running_median(spb, 4)
        fallback = np.nanmedian(spb) if np.isfinite(spb).any() else np.nan
        pulse = np.where(np.isfinite(pulse), pulse, fallback)
        excess = dt - db * pulse
        for i in range(n - 1):
            if not same[i] or not np.isfinite(excess[i]):
                continue
            if excess[i] < max(pause_min_s, pause_min_beats * pulse[i]):
                continue
            nxt = excess[i + 1] if i + 1 < n - 1 and same[i + 1] else 0.0
            if np.isfinite(nxt) and nxt < -0.5 * excess[i]:
                continue  # a single late note: the next one is back on the pulse
            pauses.append(i + 1)
            pause_s.append(float(excess[i]))
        cuts = np.zeros(n, dtype=np.int64)
        for p in pauses:
            cuts[p] = 1
        # new ids: change at old segment boundaries and at pauses
        change = np.concatenate([[0], ((seg[1:] != seg[:-1]) | (cuts[1:] == 1)).astype(np.int64)])
        seg = np.cumsum(change)
    expected = np.full(n, np.nan)
    slope = np.full(n, np.nan)
    for s in np.unique(seg):
        idx = np.flatnonzero(seg == s)
        b, t = beats[idx], times[idx]
        for k, i in enumerate(idx.tolist()):
            near = np.abs(b - b[k]) <= 3 * sigma_beats
            if trusted is not None:
                near &= trusted[idx]
            near[k] = False
            icpt, sl = _fit_at(b[k], b[near], t[near], sigma_beats)
            if np.isfinite(sl) and sl > 0:
                expected[i], slope[i] = icpt, sl
    return LocalTiming(expected, slope, seg, np.array(pauses, dtype=np.int64), np.array(pause_s))
