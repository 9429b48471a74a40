"""Every candidate note of a transcription weighed again, knowing the score: a learned judge.

The transcriber's note verifier (:mod:`yuefu.listen.transcribe`) decides whether a candidate is a
struck key without knowing the piece. After a first alignment, the practice partner knows where
every written note should sound and what was heard around it. :func:`candidate_features` describes
each candidate in that light (its verifier probability, the model's posteriors there, how near a
written note of its pitch is expected, whether it sits on a partial of a written or a played note,
whether its key was already sounding); :class:`RescoreModel` (gradient-boosted trees, trained by
``train/practice_rescore.py``, shipped as ``yuefu/models/practice_rescore.json``) turns that into
the probability that the key was struck; :func:`rescore` gives the performance those candidates
make.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from yuefu.teach.performance import Performance
from yuefu.teach.reference import Reference
from yuefu.teach.verdict import PARTIAL_INTERVALS, Verdicts

__all__ = ["FEATURES", "candidate_features", "logit", "RescoreModel", "load_tree_model", "load_rescore_model",
           "rescore"]

#: Names of the columns of :func:`candidate_features`.
FEATURES = (
    "verifier_logit",      # the transcriber's verifier, log-odds
    "onset_peak",          # the note model's onset posterior at the candidate (+-2 frames)
    "key_after",           # mean key posterior over the 5 frames from the onset
    "key_before",          # mean key posterior over the 5 frames before it (the key already sounding)
    "pitch",               # MIDI pitch
    "written_s",           # seconds to the nearest expected time of a written note of its pitch
    "written_partial_s",   # ... of a written note it is a partial of (12, 19, 24, 28 below)
    "written_sub_s",       # ... of a written note an octave above it (a sub-octave ghost)
    "written_near_s",      # ... of a written note 1 or 2 semitones away (a slip of the hand)
    "moment_s",            # seconds to the nearest expected time of any written moment
    "played_partial",      # log-odds of the surest played note it is a partial of (within 60 ms)
    "played_sub",          # log-odds of the surest played note an octave above (within 60 ms)
    "restrike_s",          # seconds since a played note of its key started that still sounds
    "twin",                # log-odds of the surest other candidate of its key within 100 ms
    "loudness",            # its velocity less the loudest played note within 60 ms
    "crowd",               # played notes starting within 60 ms
    "stray_partial",       # log-odds of the surest played note it is a partial of that the score
                           # does not expect there (a hand in the wrong octave lights this key)
    "stray_neighbour",     # ... of the surest played note 1 or 2 semitones away that the score
                           # does not expect there (a slip of the hand, leaking into this key)
)

_CAP_S = 1.0
_WITH_S = 0.06


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities (clipped to 1e-4 .. 1 - 1e-4: at most +-9.2)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _nearest(times: dict[int, np.ndarray], pitches: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Seconds from each ``t`` to the nearest time listed for its pitch (capped)."""
    out = np.full(len(t), _CAP_S)
    for p in np.unique(pitches):
        ts = times.get(int(p))
        if ts is None or not len(ts):
            continue
        m = pitches == p
        j = np.clip(np.searchsorted(ts, t[m]), 1, len(ts)) - 1
        d = np.minimum(np.abs(t[m] - ts[j]), np.abs(t[m] - ts[np.minimum(j + 1, len(ts) - 1)]))
        out[m] = np.minimum(d, _CAP_S)
    return out


def _nearest_any(times: dict[int, np.ndarray], pitches: np.ndarray, t: np.ndarray,
                 offsets: tuple[int, ...]) -> np.ndarray:
    return np.min([_nearest(times, pitches + d, t) for d in offsets], axis=0)


def candidate_features(ref: Reference, perf: Performance, v: Verdicts) -> np.ndarray:
    """The features (:data:`FEATURES`) of every candidate of a transcribed ``perf``.

    ``v`` is the judgement of ``perf`` (the expected times of the written notes come from it).

    Returns
    -------
    np.ndarray [shape=(n_candidates, len(FEATURES)), float]
    """
    from yuefu.teach.evidence import expected_times

    c = perf.candidates
    if c is None:
        raise ValueError("candidate_features needs a transcribed performance with its candidates")
    m = len(c)
    cp = c.pitch.astype(np.int64)
    ct = c.onset_s.astype(np.float64)
    f = np.zeros((m, len(FEATURES)))
    f[:, 0] = logit(c.probability)
    if c.onset_post is not None and c.note_post is not None and len(c.onset_post):
        T = len(c.onset_post)
        g = np.clip(np.round(ct / c.frame_s).astype(np.int64), 0, T - 1)
        k = np.clip(cp - 21, 0, 87)
        on = c.onset_post.astype(np.float32)
        key = c.note_post.astype(np.float32)
        f[:, 1] = np.max([on[np.clip(g + d, 0, T - 1), k] for d in range(-2, 3)], axis=0)
        f[:, 2] = np.mean([key[np.clip(g + d, 0, T - 1), k] for d in range(0, 5)], axis=0)
        f[:, 3] = np.mean([key[np.clip(g - d, 0, T - 1), k] for d in range(1, 6)], axis=0)
    f[:, 4] = cp
    exp = expected_times(ref, v)
    written: dict[int, list[float]] = {}
    for n in ref.notes:
        t = exp[n.cluster]
        if np.isfinite(t):
            written.setdefault(n.pitch, []).append(float(t))
    wt = {p: np.sort(np.asarray(ts)) for p, ts in written.items()}
    f[:, 5] = _nearest(wt, cp, ct)
    f[:, 6] = _nearest_any(wt, cp, ct, tuple(-d for d in PARTIAL_INTERVALS))
    f[:, 7] = _nearest(wt, cp + 12, ct)
    f[:, 8] = _nearest_any(wt, cp, ct, (-2, -1, 1, 2))
    moments = np.sort(exp[np.isfinite(exp)])
    f[:, 9] = _nearest({0: moments}, np.zeros(m, dtype=np.int64), ct) if len(moments) else _CAP_S
    # the played notes (the accepted candidates of this performance) around each candidate
    pp, pt = perf.pitch.astype(np.int64), perf.onset_s.astype(np.float64)
    po = perf.offset_s.astype(np.float64)
    own = perf.candidate_index()
    pl = np.where(own >= 0, f[np.maximum(own, 0), 0], 6.0)  # log-odds; a note with no candidate: sure
    pv = perf.velocity.astype(np.float64)
    stray = _nearest(wt, pp, pt) > _WITH_S  # played notes the score does not expect there
    order = np.argsort(pt)
    pp, pt, po, pl, pv, stray = pp[order], pt[order], po[order], pl[order], pv[order], stray[order]
    for i in range(m):
        lo, hi = np.searchsorted(pt, [ct[i] - _WITH_S, ct[i] + _WITH_S])
        near = slice(lo, hi)
        dp = cp[i] - pp[near]
        same = (dp == 0) & (np.abs(pt[near] - ct[i]) < 1e-6)
        part = np.isin(dp, PARTIAL_INTERVALS) & ~same
        f[i, 10] = pl[near][part].max() if part.any() else -6.0
        sub = (dp == -12)
        f[i, 11] = pl[near][sub].max() if sub.any() else -6.0
        st = stray[near]
        f[i, 16] = pl[near][part & st].max() if (part & st).any() else -6.0
        nb = np.isin(dp, (-2, -1, 1, 2)) & st
        f[i, 17] = pl[near][nb].max() if nb.any() else -6.0
        f[i, 14] = c.velocity[i] - (pv[near][~same].max() if (~same).any() else c.velocity[i])
        f[i, 15] = int((~same).sum())
    f[:, 12] = _CAP_S
    f[:, 13] = -6.0
    for p in np.unique(cp):
        mine = np.flatnonzero(cp == p)
        # a played note of its key that started before it and still sounds (a re-strike)
        key_on, key_off = pt[pp == p], po[pp == p]
        for j in mine.tolist():
            before = (key_on < ct[j] - 0.02) & (key_off > ct[j])
            if before.any():
                f[j, 12] = min(_CAP_S, float(ct[j] - key_on[before].max()))
        # other candidates of its key close by
        for j in mine.tolist():
            o = mine[(np.abs(ct[mine] - ct[j]) <= 0.1) & (mine != j)]
            if len(o):
                f[j, 13] = f[o, 0].max()
    return f


@dataclass(frozen=True)
class RescoreModel:
    """Gradient-boosted regression trees over :data:`FEATURES` (log-odds summed, then a sigmoid).

    Every tree is a tuple of node arrays: ``feature`` (-1 at a leaf), ``threshold`` (go left when
    the value is at most it), ``left``, ``right`` and ``value`` (a leaf's log-odds).
    """

    features: tuple[str, ...]
    baseline: float
    trees: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], ...]
    threshold: float = 0.5

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probability (0..1) that each row's candidate is a struck key."""
        x = np.asarray(x, dtype=np.float64)
        z = np.full(len(x), self.baseline)
        rows = np.arange(len(x))
        for feat, thr, left, right, value in self.trees:
            node = np.zeros(len(x), dtype=np.int64)
            for _ in range(64):
                inner = feat[node] >= 0
                if not inner.any():
                    break
                ni = node[inner]
                go_left = x[rows[inner], feat[ni]] <= thr[ni]
                node[inner] = np.where(go_left, left[ni], right[ni])
            z += value[node]
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> str:
        def num(a: np.ndarray) -> list[float]:
            return [float(x) for x in a]

        return json.dumps({"format": "yuefu.rescore/1", "features": list(self.features),
                           "baseline": self.baseline, "threshold": self.threshold,
                           "trees": [{"feature": t[0].tolist(), "threshold": num(t[1]), "left": t[2].tolist(),
                                      "right": t[3].tolist(), "value": num(t[4])} for t in self.trees]})

    @classmethod
    def from_json(cls, text: str) -> RescoreModel:
        d = json.loads(text)
        if d.get("format") != "yuefu.rescore/1":
            raise ValueError("not a yuefu rescore model")
        trees = tuple((np.asarray(t["feature"], dtype=np.int64), np.asarray(t["threshold"], dtype=np.float64),
                       np.asarray(t["left"], dtype=np.int64), np.asarray(t["right"], dtype=np.int64),
                       np.asarray(t["value"], dtype=np.float64)) for t in d["trees"])
        return cls(tuple(d["features"]), float(d["baseline"]), trees, float(d.get("threshold", 0.5)))


def load_tree_model(name: str, features: tuple[str, ...], script: str) -> RescoreModel:
    """A shipped tree model ``yuefu/models/<name>.json``, checked (sha256, format, features);
    ``script`` rebuilds it."""
    from yuefu.core.errors import ModelLoadError
    from yuefu.models import verified_path

    path = verified_path(name)
    try:
        model = RescoreModel.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError) as e:
        raise ModelLoadError(f"model {name!r}: {path} is not a yuefu tree model ({e}); reinstall "
                             f"yuefu or rebuild it with `python {script}`") from None
    if model.features != features:
        raise ModelLoadError(f"model {name!r}: {path} was trained on other features; "
                             f"rebuild it with `python {script}`")
    return model


@lru_cache(maxsize=1)
def load_rescore_model() -> RescoreModel:
    """The shipped model (``yuefu/models/practice_rescore.json``)."""
    return load_tree_model("practice_rescore", FEATURES, "train/practice_rescore.py")


def rescore(ref: Reference, perf: Performance, v: Verdicts, model: RescoreModel | None = None
            ) -> Performance | None:
    """The performance made of the candidates the model takes for struck keys (None: no change)."""
    c = perf.candidates
    if c is None or len(c) == 0 or c.onset_post is None or c.note_post is None:
        return None  # the model weighs the posteriors too: without them it has nothing to go on
    mdl = model or load_rescore_model()
    q = mdl.predict(candidate_features(ref, perf, v))
    keep = q >= mdl.threshold
    if not keep.any():
        return None
    rows = zip(c.pitch[keep].tolist(), c.onset_s[keep].tolist(), c.offset_s[keep].tolist(),
               c.velocity[keep].tolist(), strict=True)
    out = Performance.from_notes(rows, source=perf.source)
    informed = replace(c, probability=q, threshold=mdl.threshold, informed=True)
    return replace(out, transcribed=perf.transcribed, candidates=informed)
