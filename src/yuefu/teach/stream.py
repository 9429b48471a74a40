"""Live mode: judge each note as it is played.

:class:`StreamFollower` runs the aligner's recursion (:class:`yuefu.teach.align.Follower`) one
note at a time. ``note_on`` returns at once (well under 50 ms: one step costs
``O(max_skip * clusters)`` array operations, about a millisecond for a few hundred chords) with the
current best explanation of the note: correct, wrong pitch (with the pitches that were expected)
or extra, the bar and hand, and how early or late it came against the tempo followed so far.
A trill, mordent or turn on a note just played correctly is told as it comes: from the note that
brings the written key back (the third of the figure), its notes are ``ornament`` rather than extra
or wrong (the rule of :func:`yuefu.teach.verdict.judge`, looking back only; the neighbour note
before it keeps its first verdict); so is a grace note the score writes before the notes being
played or the next ones. Live verdicts can be revised by later notes;
:meth:`StreamFollower.finish` returns the full
:class:`~yuefu.teach.assess.Assessment` of everything played, from the same recursion
back-tracked (the offline verdicts, with missed notes and the marks).

>>> from yuefu.core import Score, Track, Note
>>> s = Score(); t = s.add_track(Track("piano"))
>>> t.notes += [Note(60 + i % 5, float(i), 1.0) for i in range(8)]
>>> live = StreamFollower(s)
>>> [live.note_on(p, 0.5 * i).verdict for i, p in enumerate([60, 61, 63, 63])]
['correct', 'correct', 'wrong_pitch', 'correct']
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.core.score import Score
from yuefu.teach.align import KIND_JUMP, OP_INSERT, OP_MATCH, OP_SUBSTITUTE, Follower
from yuefu.teach.assess import AssessConfig, Assessment, _as_score, check_same_piece, keep_better_reading
from yuefu.teach.errors import PerformanceError
from yuefu.teach.performance import Performance, with_pedal
from yuefu.teach.reference import Reference, build_reference
from yuefu.teach.scores import compute_scores
from yuefu.teach.suggest import suggest
from yuefu.teach.verdict import judge, ornament_keys_fit, ornament_kind

__all__ = ["LiveVerdict", "StreamFollower", "VERDICT_OF_OP"]

#: The live verdict an alignment move gives a played note (before ``note_on``'s look ahead).
VERDICT_OF_OP = {OP_INSERT: "extra", OP_MATCH: "correct", OP_SUBSTITUTE: "wrong_pitch"}


@dataclass(frozen=True)
class LiveVerdict:
    """The live verdict on one played note.

    ``verdict`` is ``correct``, ``wrong_pitch``, ``extra`` or ``ornament`` (a note of a trill, mordent
    or turn on the note played before; not counted against the player); ``expected`` holds the pitches of the
    score moment the note was placed at; ``jumped`` is true when the student went to another place
    in the score (a restart or a skip); ``latency_ms`` is how long the decision took. ``label``
    names the bar as the student reads it (a MusicXML score's written number, "2 (2nd time)"
    through a repeat), ``repeats`` which reading of a score with repeats the note was placed in
    (True: the repeats played; None: the score has none).
    """

    pitch: int
    onset_s: float
    verdict: str
    bar: int | None
    hand: str | None
    expected: tuple[int, ...]
    deviation_ms: float | None
    timing: str | None
    jumped: bool
    latency_ms: float
    label: str | None = None
    repeats: bool | None = None


class _Reading:
    """One reading of the score (as written once, or with its repeats played) and its follower."""

    def __init__(self, ref: Reference, cfg: AssessConfig):
        self.ref = ref
        self.follower = Follower(ref, cfg.align)
        self.chains: list[list[tuple[int, float]]] = []  # ornaments that may be under way
        # the grace-note keys the score writes before each cluster's notes
        self.grace = [{g for i in c.note_indices for g in ref.notes[i].grace} for c in ref.clusters]
        self.cost = 0.0


@dataclass
class _Held:
    rows: list[list[float]] = field(default_factory=list)
    open: dict[int, int] = field(default_factory=dict)
    pedals: list[list[float]] = field(default_factory=list)  # [down_s, up_s] (up: NaN while down)


class StreamFollower:
    """Follow a performance live against ``score``.

    A MusicXML score with repeats (first and second endings, da capo, dal segno) is followed both
    ways at once, as written once and with its repeats played: each note's verdict comes from the
    reading that explains the notes so far better (a repeat played is no restart, one left out no
    skip), and :meth:`finish` keeps the better reading as :func:`~yuefu.teach.assess.assess` does
    (:attr:`Assessment.repeats`). Not with ``config.bars`` (a passage is read once).

    Parameters
    ----------
    score : Score or path
    config : AssessConfig, optional
    """

    def __init__(self, score: Score | str | Path, *, config: AssessConfig | None = None):
        self.cfg = cfg = config or AssessConfig()
        sc, self.source, measures, played = _as_score(score, repeats=cfg.bars is None)
        self._readings = [_Reading(build_reference(sc, split_pitch=cfg.split_pitch, bars=cfg.bars,
                                                   measures=measures, part=cfg.part), cfg)]
        if played is not None:
            self._readings.append(_Reading(build_reference(played[0], split_pitch=cfg.split_pitch,
                                                           measures=played[1], part=cfg.part), cfg))
        self._best = self._readings[0]
        self._held = _Held()
        # reading a MusicXML score leaves many objects in reference cycles (music21's): collect them
        # now, so that the collector's pass over them does not fall on a note (it took up to 87 ms)
        gc.collect()

    @property
    def ref(self) -> Reference:
        """The score as the reading that explains the notes so far best has it."""
        return self._best.ref

    @property
    def follower(self) -> Follower:
        """The follower of that reading."""
        return self._best.follower

    def note_on(self, pitch: int, time_s: float, velocity: int = 80) -> LiveVerdict:
        """A key went down: returns the live verdict on this note."""
        t0 = time.perf_counter()
        if not 0 <= int(pitch) <= 127:
            raise ParameterError(f"pitch must be 0..127, got {pitch}")
        h = self._held
        h.open[int(pitch)] = len(h.rows)
        h.rows.append([float(pitch), float(time_s), float("nan"), float(max(1, min(127, velocity)))])
        verdicts = [self._step(r, int(pitch), float(time_s)) for r in self._readings]
        k = min(range(len(verdicts)), key=lambda i: (self._readings[i].cost, i))  # once through on a tie
        self._best = self._readings[k]
        return replace(verdicts[k], latency_ms=round(1000 * (time.perf_counter() - t0), 3),
                       repeats=bool(k) if len(self._readings) > 1 else None)

    def _step(self, r: _Reading, pitch: int, time_s: float) -> LiveVerdict:
        """The live verdict on a note in one reading of the score."""
        st = r.follower.step(pitch, time_s)
        r.cost = st.cost
        ref = r.ref
        bar = hand = None
        expected: tuple[int, ...] = ()
        if st.cluster >= 0:
            c = ref.clusters[st.cluster]
            bar, expected = c.bar, c.pitches
            hand = ref.hand_near(st.cluster, pitch)
        verdict = VERDICT_OF_OP[st.op]
        nxt = st.cluster + 1
        if (verdict == "extra" and st.complete and nxt < len(ref.clusters)
                and pitch not in expected and pitch not in ref.clusters[nxt].pitches):
            # the chord in hand is complete and the note is not the next one's: as played so far it
            # stands where the next note should be -- a wrong note (the offline verdict may revise it)
            verdict = "wrong_pitch"
            c = ref.clusters[nxt]
            bar, expected = c.bar, c.pitches
        if self._ornament(r, pitch, time_s, verdict == "correct"):
            verdict = "ornament"
        elif verdict != "correct" and self._is_grace(r, pitch, st.cluster):
            verdict = "ornament"  # a grace note written before the next notes (or these, on the beat)
        dev_ms = timing = None
        if verdict not in ("extra", "ornament") and np.isfinite(st.expected_s):
            dev = time_s - st.expected_s
            dev_ms = round(1000 * dev, 1)
            vc = self.cfg.verdict
            spb = st.seconds_per_beat if np.isfinite(st.seconds_per_beat) else 0.5
            late = abs(dev) >= vc.timing_tolerance_s and abs(dev) / spb >= vc.timing_tolerance_beats
            timing = ("late" if dev > 0 else "early") if late else "on_time"
        return LiveVerdict(pitch, time_s, verdict, bar, hand, expected, dev_ms, timing, st.kind == KIND_JUMP,
                           0.0, ref.bar_name(bar) if bar is not None else None)

    def _ornament(self, r: _Reading, pitch: int, t: float, correct: bool) -> bool:
        """Whether this note goes on a trill, mordent or turn begun on a note played correctly just
        before, and is its third note or later (the written key has come back)."""
        vc = self.cfg.verdict
        if vc.ornament_gap_s <= 0:
            return False
        # a figure ends when its next note is overdue
        r.chains = [c for c in r.chains if t - c[-1][1] <= vc.ornament_gap_s]
        if correct:
            r.chains.append([(pitch, t)])
            return False
        for c in r.chains:
            p0, (lp, lt) = c[0][0], c[-1]
            if pitch == lp or t - lt < vc.ornament_min_gap_s or not ornament_keys_fit(
                    p0, [q for q, _ in c] + [pitch]):
                continue
            c.append((pitch, t))
            return ornament_kind(p0, [q for q, _ in c]) is not None
        return False

    def _is_grace(self, r: _Reading, pitch: int, cluster: int) -> bool:
        """Whether ``pitch`` is a grace note the score writes before the notes of the cluster the
        follower stands at or of the next one (a grace note comes just before its note)."""
        if self.cfg.verdict.grace_window_s <= 0:
            return False
        return any(pitch in r.grace[c] for c in (cluster, cluster + 1) if 0 <= c < len(r.grace))

    def note_off(self, pitch: int, time_s: float) -> None:
        """A key came up (used for the held lengths in :meth:`finish`)."""
        i = self._held.open.pop(int(pitch), None)
        if i is not None:
            self._held.rows[i][2] = float(time_s)

    def pedal(self, down: bool, time_s: float) -> None:
        """The sustain pedal went down or came up (a note it holds is not cut short in :meth:`finish`)."""
        ped = self._held.pedals
        if down and not (ped and np.isnan(ped[-1][1])):
            ped.append([float(time_s), float("nan")])
        elif not down and ped and np.isnan(ped[-1][1]):
            ped[-1][1] = float(time_s)

    def finish(self) -> Assessment:
        """The full assessment of everything played so far."""
        rows = self._held.rows
        if not rows:
            raise PerformanceError("no notes were played (silence?)")
        arr = np.array(rows)
        end = float(np.nanmax(arr[:, 1])) + 0.5
        off = np.where(np.isfinite(arr[:, 2]), arr[:, 2], np.maximum(arr[:, 1] + 0.05, end))
        perf = Performance(arr[:, 0].astype(np.int64), arr[:, 1].copy(), np.maximum(off, arr[:, 1] + 1e-3),
                           arr[:, 3].astype(np.int64), "stream")
        if self._held.pedals:  # a pedal still down holds its notes to the end
            perf = with_pedal(perf, [(a, b if np.isfinite(b) else end) for a, b in self._held.pedals])
        once = self._readings[0]
        if len(self._readings) == 1:
            return self._assessment(once, perf)
        return keep_better_reading(lambda: self._assessment(once, perf),
                                   lambda: self._assessment(self._readings[1], perf))

    def _assessment(self, r: _Reading, perf: Performance) -> Assessment:
        al = r.follower.alignment()
        v = judge(r.ref, perf, al, self.cfg.verdict)
        check_same_piece(r.ref, perf, v, self.cfg.min_fit)
        s = compute_scores(r.ref, perf, v)
        return Assessment(r.ref, perf, al, v, s, tuple(suggest(r.ref, v, s)), self.source)
