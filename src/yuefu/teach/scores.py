"""The four marks of a performance, 0-100, and the overall mark.

Definitions (also in ``docs/practice.md``); *played notes* below are score notes whose verdict is
``correct`` or ``wrong_pitch``.

**Pitch accuracy (音准)** = 100 * correct / (score notes + extra notes). Every wrong, missed or
extra note costs the same; a clean rendition scores 100.

**Rhythm (节奏)** = 100 * (0.7 * onset + 0.3 * steadiness).
*onset* is the mean, over played notes, of ``max(0, 1 - max(0, |d| - 0.05) / 0.25)`` where ``d``
is the onset deviation in beats from the local tempo (within 1/20 beat: full marks; 0.3 beat off
or more: nothing). *steadiness* is ``max(0, 1 - cv / 0.25)`` where ``cv`` is the coefficient of
variation of the per-bar tempo (1 with fewer than two bars), the bars where the score frees the
tempo (rit., accel., rubato) left out.

**Fluency (流畅度)** = 100 * max(0, 1 - points / max(2, bars / 2)), where *bars* is the number of
bars assessed and each event costs points: a hesitation 1, a stop (a pause of 2 s or more beyond
the pulse) 2, a restart 3, a skipped passage 2. One hesitation in 16 bars gives 87.5; a restart
in 16 bars 62.5.

**Expression (表现力)**, from the velocities and held lengths of the played notes:
*dynamics* = ``min(1, r / r0)`` where ``r`` is the spread (90th minus 10th percentile) of the
played velocities and ``r0`` the score's spread where the score marks dynamics (its mean
velocity changes by 8 or more from bar to bar; ``r0`` at least 10), else 25; *shape* (only where
the score marks dynamics) =
``max(0, correlation)`` of the per-bar mean velocity, played against written; *articulation* =
the share of played notes whose held length is neither too short nor too long. With markings:
100 * (0.4 * dynamics + 0.3 * shape + 0.3 * articulation); without: 100 * (0.6 * dynamics +
0.4 * articulation). Where no held length is judged (a recording: its note ends are where the
sound fades), articulation is left out and the other parts keep their proportions. Where the score
marks accents (at least two played notes marked accent or marcato, from MusicXML), *accents* is the
share of them played at least :data:`ACCENT_MIN` velocity louder than the median of the unaccented
played notes of the same hand within a beat either side, and expression is 0.85 times the mark
above plus 15 times it.

**Overall** = 0.4 * pitch + 0.25 * rhythm + 0.2 * fluency + 0.15 * expression.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yuefu.teach.performance import Performance
from yuefu.teach.reference import Reference
from yuefu.teach.verdict import Verdicts

__all__ = ["Scores", "compute_scores", "accents_heard", "WEIGHTS", "EVENT_POINTS", "ACCENT_MIN"]

#: Weights of the overall mark.
WEIGHTS = {"pitch": 0.4, "rhythm": 0.25, "fluency": 0.2, "expression": 0.15}
#: Fluency points of each event kind.
EVENT_POINTS = {"hesitation": 1.0, "stop": 2.0, "restart": 3.0, "skip": 2.0, "ended_early": 0.0}
#: An accented note is heard as one when played at least this much (velocity) louder than the
#: unaccented notes around it.
ACCENT_MIN = 6.0


@dataclass(frozen=True)
class Scores:
    """Marks 0-100 and the measurements behind them (``details``)."""

    pitch: float
    rhythm: float
    fluency: float
    expression: float
    overall: float
    details: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, float]:
        return {"pitch": self.pitch, "rhythm": self.rhythm, "fluency": self.fluency,
                "expression": self.expression, "overall": self.overall}


def _r(x: float) -> float:
    return round(float(x), 1)


def accents_heard(ref: Reference, v: Verdicts) -> dict[int, bool]:
    """For each played note the score marks accent or marcato whose loudness can be compared (an
    unaccented played note of its hand within a beat either side): whether it was played at least
    :data:`ACCENT_MIN` louder than the median of those."""
    played = [n for n in v.notes if n.verdict not in ("missed", "unheard") and n.played_velocity is not None]
    marked = [n for n in played if {"accent", "marcato"} & set(ref.notes[n.index].articulations)]
    if not marked:
        return {}
    plain = [n for n in played if not {"accent", "marcato"} & set(ref.notes[n.index].articulations)]
    by_hand: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for hand in {n.hand for n in marked}:
        mine = sorted((m.onset_beat, float(m.played_velocity or 0)) for m in plain if m.hand == hand)
        by_hand[hand] = (np.array([b for b, _ in mine]), np.array([x for _, x in mine]))
    out: dict[int, bool] = {}
    for n in marked:
        beats, vel = by_hand[n.hand]
        lo, hi = np.searchsorted(beats, [n.onset_beat - 1.0 - 1e-9, n.onset_beat + 1.0 + 1e-9])
        if hi > lo:
            out[n.index] = float(n.played_velocity or 0) >= float(np.median(vel[lo:hi])) + ACCENT_MIN
    return out


def compute_scores(ref: Reference, perf: Performance, v: Verdicts) -> Scores:
    """Compute the marks defined in this module's docstring."""
    n_score = len(v.notes) - v.count("unheard")
    correct = v.count("correct")
    pitch = 100.0 * correct / max(1, n_score + len(v.extras))

    played = [n for n in v.notes if n.verdict not in ("missed", "unheard")]
    devs = np.array([abs(n.deviation_beats) for n in played if n.deviation_beats is not None])
    onset = float(np.mean(np.clip(1 - np.maximum(0, devs - 0.05) / 0.25, 0, 1))) if len(devs) else 0.0
    free = ref.free_tempo_bars()  # rit. ... a tempo: no count against a steady tempo
    bpm = np.array([x for b, x in v.bar_bpm.items() if b not in free])
    cv = float(np.std(bpm) / np.mean(bpm)) if len(bpm) >= 2 else 0.0
    steady = max(0.0, 1 - cv / 0.25)
    rhythm = 100.0 * (0.7 * onset + 0.3 * steady) if played else 0.0

    points = sum(EVENT_POINTS.get(e.kind, 0.0) for e in v.events)
    fluency = 100.0 * max(0.0, 1 - points / max(2.0, ref.n_bars / 2))
    if not played:
        fluency = 0.0

    vel = np.array([n.played_velocity for n in played if n.played_velocity is not None], dtype=float)
    written = np.array([ref.notes[n.index].velocity for n in played], dtype=float)
    spread = float(np.percentile(vel, 90) - np.percentile(vel, 10)) if len(vel) else 0.0
    w_spread = float(np.percentile(written, 90) - np.percentile(written, 10)) if len(written) else 0.0
    # the score marks dynamics when its loudness changes from bar to bar (all its notes counted)
    w_bar: dict[int, list[float]] = {}
    for rn in ref.notes:
        w_bar.setdefault(rn.bar, []).append(float(rn.velocity))
    w_means = [float(np.mean(x)) for x in w_bar.values()]
    marked = len(w_means) >= 3 and max(w_means) - min(w_means) >= 8
    dyn = min(1.0, spread / (max(10.0, w_spread) if marked else 25.0))
    judged = [n for n in played if n.duration is not None]
    artic = sum(n.duration == "ok" for n in judged) / len(judged) if judged else 0.0
    shape = 0.0
    if marked:
        bars = sorted({n.bar for n in played})
        pv = np.array([np.mean([float(n.played_velocity or 0) for n in played if n.bar == b]) for b in bars])
        wv = np.array([np.mean([float(ref.notes[n.index].velocity) for n in played if n.bar == b])
                       for b in bars])
        if len(bars) >= 3 and np.std(pv) > 0 and np.std(wv) > 0:
            shape = max(0.0, float(np.corrcoef(pv, wv)[0, 1]))
        expression = 100.0 * ((0.4 * dyn + 0.3 * shape + 0.3 * artic) if judged
                              else (0.4 * dyn + 0.3 * shape) / 0.7)
    else:
        expression = 100.0 * ((0.6 * dyn + 0.4 * artic) if judged else dyn)
    heard = accents_heard(ref, v)
    accents = sum(heard.values()) / len(heard) if len(heard) >= 2 else None
    if accents is not None:
        expression = 0.85 * expression + 15.0 * accents
    if not played:
        expression = 0.0
    parts = {"pitch": pitch, "rhythm": rhythm, "fluency": fluency, "expression": expression}
    overall = sum(WEIGHTS[k] * parts[k] for k in WEIGHTS)
    details = {"onset": round(onset, 3), "steadiness": round(steady, 3), "tempo_cv": round(cv, 3),
               "fluency_points": points, "velocity_spread": round(spread, 1),
               "written_velocity_spread": round(w_spread, 1), "dynamics": round(dyn, 3),
               "shape": round(shape, 3), "articulation": round(artic, 3),
               "dynamics_marked": float(marked)}
    if accents is not None:
        details["accents"] = round(accents, 3)
    return Scores(_r(pitch), _r(rhythm), _r(fluency), _r(expression), _r(overall), details)
