"""A written note the recording does not let us hear: missed, or just not heard? A learned judge.

After the score-informed looks (:mod:`yuefu.teach.evidence`), a written note of a recording that
no played note answers is judged missed. Most such notes were not played; some were, and the
transcriber lost them: the inner note of a thick chord, a key its own octave below already
lights, a note in a run too fast for it. Calling those "missed" tells a student who played every
note that they did not. :func:`missed_features` describes each such note as the recording shows it
(the note model's onset and key posteriors at its key where it should sound, the nearest candidate
of its key, what else of its chord was heard, what sounds that could hide it);
:class:`~yuefu.teach.rescore.RescoreModel` trees (``train/practice_unheard.py``, shipped as
``yuefu/models/practice_unheard.json``) give the probability that it was played all the same, and
:func:`unheard_notes` names those at or above the model's threshold: they are judged ``unheard``
(neither right nor missed; not counted in the marks), as the rule-based masks of
:func:`yuefu.teach.verdict.judge` already do for a note on a partial of its chord.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from yuefu.teach.evidence import expected_times
from yuefu.teach.performance import Performance
from yuefu.teach.reference import Reference
from yuefu.teach.rescore import RescoreModel, load_tree_model, logit
from yuefu.teach.verdict import PARTIAL_INTERVALS, Verdicts

__all__ = ["UNHEARD_FEATURES", "missed_features", "load_unheard_model", "unheard_notes"]

#: Names of the columns of :func:`missed_features`.
UNHEARD_FEATURES = (
    "onset_near",     # the note model's onset posterior at its key, peak within 60 ms of its time
    "onset_far",      # ... within 150 ms
    "key_on",         # mean key posterior over its first 0.15 s (its written length if shorter)
    "key_before",     # mean key posterior over the 0.1 s before it (the key already sounding)
    "cand",           # log-odds of the surest candidate of its key within 150 ms (-6: none)
    "cand_s",         # seconds to that candidate (1: none)
    "pitch",          # MIDI pitch
    "chord",          # written notes of its chord
    "mates_heard",    # share of the other notes of its chord that were heard (-1: it is alone)
    "chord_played",   # 1 when its chord's time was heard, 0 when interpolated from the neighbours
    "rank_top",       # its place in its chord counted from the top (0: the top note)
    "rank_bottom",    # ... from the bottom
    "partial_of",     # log-odds of the surest played note sounding then that it is a partial of
    "held_s",         # seconds a played note of its key has sounded at its time (0: none)
    "restrike_s",     # seconds (at the played pace) to the nearest other written strike of its key
    "length_s",       # its written length at the played pace
    "density",        # written notes starting within a beat either side
    "mates_missed",   # other notes of its chord judged missed
    "loud",           # velocity of the loudest played note starting within 60 ms of it (0: none)
    "onset_wide",     # onset posterior peak at its key within 300 ms (its time is interpolated or off)
    "key_max",        # key posterior peak at its key within 150 ms
    "heard_gap_s",    # seconds from its time to the nearest chord heard (0: its own was)
)

_NEAR_S = 0.06
_FAR_S = 0.15
_WIDE_S = 0.3
_CAP_S = 1.0


def missed_features(ref: Reference, perf: Performance, v: Verdicts, indices: list[int] | None = None
                    ) -> tuple[list[int], np.ndarray]:
    """The features (:data:`UNHEARD_FEATURES`) of the written notes judged missed in ``v``.

    Only notes whose chord has an expected time (heard, interpolated between heard ones, or carried
    on at the played pace beyond them: :func:`~yuefu.teach.evidence.expected_times`) are described.

    Parameters
    ----------
    ref, perf, v
        The score, a transcribed performance with its candidates and posteriors, its judgement.
    indices : list of int, optional
        Score notes to describe (default: every note judged ``missed``).

    Returns
    -------
    (list of int, np.ndarray [shape=(n, len(UNHEARD_FEATURES))])
        The score notes described and their features.
    """
    c = perf.candidates
    if c is None or c.onset_post is None or c.note_post is None or not len(c.onset_post):
        raise ValueError("missed_features needs a transcription with its candidates and posteriors")
    if indices is None:
        indices = [n.index for n in v.notes if n.verdict == "missed"]
    exp = expected_times(ref, v)
    cluster_t = np.asarray(v.cluster_time_s, dtype=np.float64)
    heard_t = np.isfinite(cluster_t)
    heard_times = cluster_t[heard_t]
    by_index = {n.index: n for n in v.notes}
    spb_all = np.asarray(v.timing.seconds_per_beat, dtype=np.float64)
    spb_ok = spb_all[np.isfinite(spb_all)]
    spb = float(np.median(spb_ok)) if len(spb_ok) else ref.beat_s
    beats = ref.strike_beats()
    onset_beats = np.array([n.onset_beat for n in ref.notes])
    on_post, key_post = c.onset_post, c.note_post
    T = len(on_post)
    fr = c.frame_s
    own = perf.candidate_index()
    cand_logit = logit(c.probability)
    played_logit = cand_logit[np.maximum(own, 0)] if len(c) else np.zeros(len(own))
    played_logit = np.where(own >= 0, played_logit, 6.0)  # a note with no candidate: sure
    rows: list[int] = []
    feats: list[list[float]] = []
    for i in indices:
        rn = ref.notes[i]
        t = float(exp[rn.cluster])
        if not np.isfinite(t):
            continue
        k = rn.pitch - 21
        if not 0 <= k < 88:
            continue
        g = int(round(t / fr))

        def peak(w: float, k: int = k, g: int = g) -> float:
            lo, hi = max(0, g - int(round(w / fr))), min(T, g + int(round(w / fr)) + 1)
            return float(on_post[lo:hi, k].max()) if hi > lo else 0.0

        length = rn.duration_beat * spb
        span = max(3, int(round(min(length, 0.15) / fr)))
        on_lo, on_hi = min(max(g, 0), T), min(max(g, 0) + span, T)
        key_on = float(np.mean(key_post[on_lo:on_hi, k])) if on_hi > on_lo else 0.0
        b_lo, b_hi = min(max(0, g - int(round(0.1 / fr))), T), min(max(g, 0), T)
        key_before = float(np.mean(key_post[b_lo:b_hi, k])) if b_hi > b_lo else 0.0
        near = np.flatnonzero((c.pitch == rn.pitch) & (np.abs(c.onset_s - t) <= _FAR_S))
        if len(near):
            best = int(near[np.argmax(c.probability[near])])
            cand, cand_s = float(cand_logit[best]), float(abs(c.onset_s[best] - t))
        else:
            cand, cand_s = -6.0, _CAP_S
        cl = ref.clusters[rn.cluster]
        mates = [j for j in cl.note_indices if j != i]
        heard = [j for j in mates if by_index[j].verdict in ("correct", "wrong_pitch")]
        pitches = sorted({ref.notes[j].pitch for j in cl.note_indices})
        sounding = (perf.onset_s <= t + _NEAR_S) & (perf.offset_s >= t)
        part = sounding & np.isin(rn.pitch - perf.pitch, PARTIAL_INTERVALS)
        held = (perf.pitch == rn.pitch) & (perf.onset_s < t - _NEAR_S) & (perf.offset_s > t)
        others = beats.get(rn.pitch, np.zeros(0))
        d = np.abs(others - rn.onset_beat)
        d = d[d > 1e-6]
        starting = np.abs(perf.onset_s - t) <= _NEAR_S
        far = int(round(_FAR_S / fr))
        k_lo, k_hi = min(max(0, g - far), T), min(max(0, g + far + 1), T)
        feats.append([
            peak(_NEAR_S), peak(_FAR_S), key_on, key_before, cand, cand_s, float(rn.pitch),
            float(len(cl.note_indices)), len(heard) / len(mates) if mates else -1.0,
            float(heard_t[rn.cluster]),
            float(len(pitches) - 1 - pitches.index(rn.pitch)), float(pitches.index(rn.pitch)),
            float(played_logit[part].max()) if part.any() else -6.0,
            float(min(_CAP_S, t - perf.onset_s[held].min())) if held.any() else 0.0,
            float(min(_CAP_S, d.min() * spb)) if len(d) else _CAP_S,
            float(min(4.0, length)),
            float(np.sum(np.abs(onset_beats - rn.onset_beat) <= 1.0)),
            float(sum(by_index[j].verdict == "missed" for j in mates)),
            float(perf.velocity[starting].max()) if starting.any() else 0.0,
            peak(_WIDE_S),
            float(key_post[k_lo:k_hi, k].max()) if k_hi > k_lo else 0.0,
            float(min(_CAP_S, np.min(np.abs(heard_times - t)))) if len(heard_times) else _CAP_S,
        ])
        rows.append(i)
    return rows, np.asarray(feats, dtype=np.float64).reshape(len(rows), len(UNHEARD_FEATURES))


@lru_cache(maxsize=1)
def load_unheard_model() -> RescoreModel:
    """The shipped model (``yuefu/models/practice_unheard.json``)."""
    return load_tree_model("practice_unheard", UNHEARD_FEATURES, "train/practice_unheard.py")


def unheard_notes(ref: Reference, perf: Performance, v: Verdicts, model: RescoreModel | None = None
                  ) -> frozenset[int]:
    """The written notes judged missed that the model takes for played but not heard."""
    c = perf.candidates
    if c is None or c.onset_post is None or c.note_post is None or not len(c.onset_post):
        return frozenset()
    idx, x = missed_features(ref, perf, v)
    if not idx:
        return frozenset()
    mdl = model or load_unheard_model()
    q = mdl.predict(x)
    return frozenset(i for i, p in zip(idx, q.tolist(), strict=True) if p >= mdl.threshold)
