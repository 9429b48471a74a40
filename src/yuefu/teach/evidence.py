"""Score-informed listening: a transcription asked again, knowing what the score says should sound.

A transcriber is blind: it must decide whether a faint onset an octave above a loud note is a key
or a partial without knowing the piece. The practice partner knows the piece. After a first
alignment (:func:`yuefu.teach.assess`), every candidate note the transcriber weighed is first
weighed again by a learned judge that knows what the score expects there
(:func:`yuefu.teach.rescore.rescore`, when the transcription kept its posteriors; its
probabilities then replace the verifier's, ``candidates.informed``), and the performance so made
is aligned and judged again. Then :func:`reconsider` revisits the candidate notes
(:class:`~yuefu.teach.performance.Candidates`, each with its probability that it was struck: the
verifier's, or the judge's after it; ``accept_informed`` then replaces ``accept_expected``, since
the judge's has the score's prior in it already):

* a written note judged missed, unheard or wrong is taken as played when a candidate of its pitch
  starts within ``window_s`` of the time its chord was played (``window_far_s`` of the time
  interpolated from its neighbours when no note of the chord was heard, or carried on at the
  played pace before the first chord heard and after the last) and the verifier gives it
  at least ``accept_expected`` -- the prior that a written note was played is high (the "wrong"
  note is then dropped if the verifier doubts it: a ghost, such as a sub-octave, paired with the
  written note it hid);
* with no candidate there, a written note judged missed is taken as played when the note model's
  onset posterior at its pitch peaks at least ``onset_expected`` in that window (``onset_chord``
  when other notes of its chord were heard: the chord was struck then);
* a written note judged missed whose key the score strikes again within ``repeat_s`` (a trill, a
  tremolo: re-strikes faster than the transcriber tells apart) is taken as played where the key
  posterior at its pitch averages at least ``note_repeat`` and no lower note's partial explains it;
* a played note judged extra (or set aside as an artefact) is dropped when the verifier gives it
  less than ``reject_unexpected`` -- the prior that a student adds a note is low;
* a written note judged played, but more than ``window_s`` from the other notes of its chord (the
  transcriber's onset of its key may be a neighbour's partial re-lighting it, or one strike heard
  twice), is taken where its chord was struck when a candidate of its pitch starts there with at
  least ``accept_expected`` (the note heard apart is dropped unless the verifier is sure of it and
  no note struck with it has a partial on its key);

and the performance so corrected is aligned and judged again -- and looked at again, since what one
look found moves the times the next one expects (a chord found struck, a note found in place), up to
a few times and while a look does not lose correct notes (:func:`yuefu.teach.assess`). Bayes' rule
in a threshold: the verifier's odds times the score's prior odds. Only a transcribed performance
with its candidates (``load_performance`` of audio) is reconsidered; MIDI never is.

>>> EvidenceConfig().accept_expected < 0.5 < EvidenceConfig().reject_unexpected
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.teach.performance import Performance
from yuefu.teach.reference import Reference, restruck_within
from yuefu.teach.verdict import PARTIAL_INTERVALS, NoteVerdict, Verdicts

__all__ = ["EvidenceConfig", "reconsider"]


@dataclass(frozen=True)
class EvidenceConfig:
    """Thresholds of the score-informed second look (fitted by ``benchmarks/practice.py --fit``).

    Parameters
    ----------
    enabled : bool
        Reconsider transcribed performances at all.
    rescore : bool
        First weigh every candidate again with the learned score-informed judge
        (:mod:`yuefu.teach.rescore`) and start from the candidates it takes for struck keys; the
        rules below then read its probabilities (``candidates.informed``).
    accept_expected : float
        Verifier probability (0..1) at which a candidate where the score expects its pitch is
        taken as played.
    accept_informed : float
        The same for a probability that already knows the score (after ``rescore``: the score's
        prior is in it, so the threshold is a plain decision, not a prior's correction).
    reject_unexpected : float
        Probability (the verifier's, or the judge's after ``rescore``) below which a note the score
        does not expect is dropped.
    window_s : float
        How far (seconds) a candidate may lie from the time its chord was played.
    window_far_s : float
        The same, when no note of the chord was heard (the time is interpolated from the
        neighbouring chords).
    onset_expected : float
        Where no candidate is near, a written note judged missed is taken as played when the note
        model's onset posterior at its pitch peaks at least this high (0..1) within the window
        and no played note of that pitch is already there (1: never).
    onset_chord : float
        The same threshold for a note of a chord whose other notes were heard (its time is then
        measured, not interpolated, and the chord was struck: a weaker onset suffices).
    repeat_s : float
        A written note whose key the score strikes again within this many seconds (at the played
        pace; a trill, a tremolo, a fast repeated note) is re-struck faster than the transcriber
        can tell strikes apart: judged missed, it is taken as played when the note model's key
        posterior at its pitch averages at least ``note_repeat`` over its start (up to 0.15 s),
        unless a played note an octave, a twelfth or two octaves below sounds then (its partials
        would light the key). Its time is interpolated from the chords around that are not such
        repeats (the first alignment's times inside a trill are not trusted). 0: never.
    note_repeat : float
        The key posterior (0..1) that such a fast-repeated written note needs (1: never).
    unheard : bool
        Last, ask the learned judge of :mod:`yuefu.teach.unheard` which written notes still judged
        missed were played but not heard (judged ``unheard`` then, not missed).
    """

    enabled: bool = True
    rescore: bool = True
    accept_expected: float = 0.05
    accept_informed: float = 0.3
    reject_unexpected: float = 0.9
    window_s: float = 0.06
    window_far_s: float = 0.15
    onset_expected: float = 0.5
    onset_chord: float = 0.4
    repeat_s: float = 0.1
    note_repeat: float = 0.2
    unheard: bool = True

    def __post_init__(self) -> None:
        if not all(0 <= x <= 1 for x in (self.accept_expected, self.accept_informed, self.reject_unexpected)):
            raise ParameterError("EvidenceConfig probabilities must be in [0, 1]")
        if not all(0 <= x <= 1 for x in (self.onset_expected, self.onset_chord, self.note_repeat)):
            raise ParameterError("EvidenceConfig posterior thresholds must be in [0, 1]")
        if self.window_s < 0 or self.window_far_s < 0 or self.repeat_s < 0:
            raise ParameterError("EvidenceConfig windows must be >= 0 seconds")


#: The chords heard within this many written seconds of either end of a performance (and at least
#: ``_EDGE_MIN_S`` from it) give the pace on beyond it (:func:`expected_times`).
_EDGE_SPAN_S = 3.0
_EDGE_MIN_S = 0.2


def expected_times(ref: Reference, v: Verdicts, unsure: np.ndarray | None = None) -> np.ndarray:
    """Played time (seconds) of every cluster: measured where played, else interpolated.

    Before the first chord heard and after the last one, the times go on at the pace of the
    nearest heard stretch (its chords within 3 written seconds; half to twice the written pace):
    the transcriber may have lost a piece's opening run or its last chord, and the looks must
    know where to look for them.

    ``unsure`` (bool per cluster) marks clusters whose measured time is not trusted (it is
    interpolated as if they had not been played).

    Returns
    -------
    np.ndarray [shape=(n_clusters,)]
        NaN where nothing around was played, and where the pace would put a chord before 0 s.
    """
    t = np.array(v.cluster_time_s, dtype=np.float64)
    if unsure is not None:
        t[unsure] = np.nan
    ok = np.flatnonzero(np.isfinite(t))
    if len(ok) < 2:
        return t.copy()
    written = np.array([c.onset_s for c in ref.clusters])
    # the judged pass runs forwards; keep the points whose time does too
    keep = ok[np.concatenate([[True], np.diff(t[ok]) > 0])]
    out = np.interp(written, written[keep], t[keep], left=np.nan, right=np.nan)
    overall = (t[keep[-1]] - t[keep[0]]) / max(written[keep[-1]] - written[keep[0]], 1e-9)
    for first in (True, False):
        end = keep[0] if first else keep[-1]
        dw = written[keep] - written[end]
        near = (np.abs(dw) >= _EDGE_MIN_S) & (np.abs(dw) <= _EDGE_SPAN_S)
        pace = float(np.median((t[keep][near] - t[end]) / dw[near])) if near.any() else overall
        pace = float(np.clip(pace, 0.5, 2.0))
        out_of = np.arange(0, end) if first else np.arange(end + 1, len(t))
        out[out_of] = t[end] + (written[out_of] - written[end]) * pace
    out[out < 0] = np.nan
    out[ok] = t[ok]
    return out


def reconsider(ref: Reference, perf: Performance, v: Verdicts,
               config: EvidenceConfig | None = None) -> Performance | None:
    """The performance with the transcriber's candidates re-decided knowing the score.

    Parameters
    ----------
    ref : Reference
    perf : Performance
        A transcribed performance with :attr:`~Performance.candidates`.
    v : Verdicts
        The first judgement of ``perf``.
    config : EvidenceConfig, optional

    Returns
    -------
    Performance or None
        The corrected performance (notes added and dropped), or None when nothing changes.
    """
    cfg = config or EvidenceConfig()
    c = perf.candidates
    if c is None or not cfg.enabled or len(c) == 0:
        return None
    # a probability that already knows the score (rescored) has the score's prior in it
    accept = cfg.accept_informed if c.informed else cfg.accept_expected
    # the played notes are candidates (those taken so far): find each one's candidate
    cand_of = perf.candidate_index()
    accepted = np.zeros(len(c), dtype=bool)
    accepted[cand_of[cand_of >= 0]] = True
    drop: set[int] = set()
    for k in [e.index for e in v.extras] + list(v.artefacts):
        i = cand_of[k]
        if i >= 0 and c.probability[i] < cfg.reject_unexpected:
            drop.add(k)
    exp = expected_times(ref, v)
    played = np.isfinite(np.asarray(v.cluster_time_s, dtype=np.float64))
    add: set[int] = set()
    spb = _seconds_per_beat(v, ref, 0)
    by_index = {n.index: n for n in v.notes}
    rep_beats = cfg.repeat_s / spb if spb > 0 else 0.0  # repeat_s in written beats
    beats_of = ref.strike_beats()
    # a cluster of fast-repeated keys only (a trill): its first judgement's time is not trusted
    fast_cl = np.array([ref.chord_restruck(beats_of, j, rep_beats) for j in range(len(ref.clusters))],
                       dtype=bool)
    exp_fast = expected_times(ref, v, fast_cl) if fast_cl.any() else exp
    extra_rows: list[tuple[int, float, float, int]] = []
    keep: set[int] = set()  # played notes taken for a written note after all: never dropped
    for n in v.notes:
        if n.verdict == "correct" and n.played is not None and n.played_onset_s is not None:
            # a chord note heard apart from its chord: the transcriber's onset may be a partial of
            # a neighbour re-lighting its key (or one strike heard twice); a candidate of its pitch
            # where the chord was struck wins (and is kept though the verifier doubts it)
            heard = [float(m.played_onset_s) for m in _mates(ref, by_index, n.index)
                     if m.played_onset_s is not None and m.verdict in ("correct", "wrong_pitch")]
            if heard:
                tc = float(np.median(heard))
                if abs(n.played_onset_s - tc) > cfg.window_s:
                    own = cand_of[n.played]
                    near = np.flatnonzero((c.pitch == n.pitch) & (np.abs(c.onset_s - tc) <= cfg.window_s)
                                          & (c.probability >= accept))
                    near = near[near != own]
                    if len(near):
                        best = int(near[np.argmax(c.probability[near])])
                        if accepted[best]:
                            keep.update(np.flatnonzero(cand_of == best).tolist())
                        else:
                            add.add(best)
                        # the note heard apart goes unless the verifier is sure of it and nothing
                        # struck with it has a partial on its key
                        with_it = np.abs(perf.onset_s - n.played_onset_s) <= cfg.window_s
                        partial = bool(np.any(with_it & np.isin(n.pitch - perf.pitch, PARTIAL_INTERVALS)))
                        if own < 0 or partial or c.probability[own] < cfg.reject_unexpected:
                            drop.add(n.played)
            continue
        if n.verdict not in ("missed", "unheard", "wrong_pitch"):
            continue
        cl = ref.notes[n.index].cluster
        t = exp[cl]
        if not np.isfinite(t):
            continue
        w = cfg.window_s if played[cl] else cfg.window_far_s
        near = np.flatnonzero((c.pitch == n.pitch) & ~accepted & (np.abs(c.onset_s - t) <= w)
                              & (c.probability >= accept))
        near = np.array([i for i in near if i not in add], dtype=np.int64)
        if len(near):
            add.add(int(near[np.argmax(c.probability[near])]))
            ghost = n.played
            if n.verdict == "wrong_pitch" and ghost is not None and cand_of[ghost] >= 0 \
                    and c.probability[cand_of[ghost]] < cfg.reject_unexpected:
                drop.add(ghost)  # the written pitch was heard after all: the "wrong" note was a ghost
        elif n.verdict == "missed" and restruck_within(beats_of, n.pitch, ref.notes[n.index].onset_beat,
                                                    rep_beats):
            if np.isfinite(exp_fast[cl]):
                t = exp_fast[cl]
            # a key written to be struck again and again faster than the transcriber can tell the
            # strikes apart (a trill, a tremolo): taken as played where the key sounds
            row = _from_key_posterior(perf, n.pitch, t, w, cfg.note_repeat,
                                      ref.notes[n.index].duration_beat * spb)
            if row is not None:
                extra_rows.append(row)
        elif n.verdict != "wrong_pitch" and not any(r[0] == n.pitch and abs(r[1] - t) <= 2 * w
                                                    for r in extra_rows):
            length = ref.notes[n.index].duration_beat * _seconds_per_beat(v, ref, cl)
            chord = played[cl] and any(m.played is not None for m in _mates(ref, by_index, n.index))
            row = _from_posterior(perf, n.pitch, t, w, cfg.onset_chord if chord else cfg.onset_expected,
                                  length)
            if row is not None:
                extra_rows.append(row)
    drop -= keep
    if not drop and not add and not extra_rows:
        return None
    rows = [(int(perf.pitch[k]), float(perf.onset_s[k]), float(perf.offset_s[k]), int(perf.velocity[k]))
            for k in range(len(perf)) if k not in drop]
    rows += [(int(c.pitch[i]), float(c.onset_s[i]), float(c.offset_s[i]), int(c.velocity[i])) for i in add]
    rows += extra_rows
    if not rows:
        return None
    out = Performance.from_notes(rows, source=perf.source)
    return replace(out, transcribed=perf.transcribed, candidates=c)


def _mates(ref: Reference, by_index: dict[int, NoteVerdict], index: int) -> list[NoteVerdict]:
    """The verdicts on the other notes of the chord of score note ``index``."""
    cl = ref.clusters[ref.notes[index].cluster]
    return [by_index[i] for i in cl.note_indices if i != index and i in by_index]


def _seconds_per_beat(v: Verdicts, ref: Reference, cluster: int) -> float:
    """The pace the piece was played at (median seconds per written beat of the first judgement;
    the written pace at ``cluster`` when there is none)."""
    spb = np.asarray(v.timing.seconds_per_beat, dtype=np.float64)
    ok = spb[np.isfinite(spb)]
    return float(np.median(ok)) if len(ok) else ref.clusters[cluster].seconds_per_beat


def _from_posterior(perf: Performance, pitch: int, t: float, window_s: float, threshold: float,
                    length_s: float) -> tuple[int, float, float, int] | None:
    """A note of ``pitch`` near ``t`` read from the onset posterior, or None.

    The note starts at the posterior's peak within ``t +- window_s`` when the peak reaches
    ``threshold`` and no played note of that pitch starts within the window; it lasts
    ``length_s`` (the written length at the played pace), with the median played velocity.
    """
    c = perf.candidates
    if c is None or c.onset_post is None or threshold >= 1 or not 21 <= pitch <= 108:
        return None
    if np.any((perf.pitch == pitch) & (np.abs(perf.onset_s - t) <= window_s)):
        return None
    lo = max(0, int(np.floor((t - window_s) / c.frame_s)))
    hi = min(len(c.onset_post), int(np.ceil((t + window_s) / c.frame_s)) + 1)
    if hi <= lo:
        return None
    col = c.onset_post[lo:hi, pitch - 21].astype(np.float64)
    g = int(np.argmax(col))
    if col[g] < threshold:
        return None
    on = (lo + g) * c.frame_s
    vel = int(np.median(perf.velocity)) if len(perf) else 64
    return (pitch, on, on + max(length_s, 0.05), vel)


#: Intervals (semitones) below a pitch whose played note's partials can light the pitch's key
#: posterior: an octave, a twelfth, two octaves.
_PARTIALS_BELOW = PARTIAL_INTERVALS[:3]


def _from_key_posterior(perf: Performance, pitch: int, t: float, window_s: float, threshold: float,
                        length_s: float, span_s: float = 0.15) -> tuple[int, float, float, int] | None:
    """A note of ``pitch`` at ``t`` read from the key (frame) posterior, or None.

    Taken when the posterior at ``pitch`` averages at least ``threshold`` over ``t`` to ``t +
    min(length_s, span_s)`` (at least three frames) and no played note sounding then explains it
    (one an octave, a twelfth or two octaves below). A played note of the same pitch does not: the
    key is written to be struck again and again, and the transcriber heard the strikes as one.
    """
    c = perf.candidates
    if c is None or c.note_post is None or threshold >= 1 or not 21 <= pitch <= 108:
        return None
    sounding = (perf.onset_s <= t + window_s) & (perf.offset_s >= t)
    if np.any(sounding & np.isin(perf.pitch, [pitch - d for d in _PARTIALS_BELOW])):
        return None
    lo = max(0, int(round(t / c.frame_s)))
    hi = min(len(c.note_post), lo + max(3, int(round(min(length_s, span_s) / c.frame_s))))
    if hi - lo < 3:
        return None
    if float(np.mean(c.note_post[lo:hi, pitch - 21].astype(np.float64))) < threshold:
        return None
    vel = int(np.median(perf.velocity)) if len(perf) else 64
    return (pitch, t, t + max(length_s, 0.05), vel)
