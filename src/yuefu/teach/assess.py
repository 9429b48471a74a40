"""``assess(score, performance)``: the practice partner's one call.

It prepares the score (:mod:`~yuefu.teach.reference`), aligns the performance to it
(:mod:`~yuefu.teach.align`), judges every note (:mod:`~yuefu.teach.verdict`), computes the marks
(:mod:`~yuefu.teach.scores`) and the practice suggestions (:mod:`~yuefu.teach.suggest`).

>>> from yuefu.core import Score, Track, Note
>>> s = Score(); t = s.add_track(Track("piano"))
>>> t.notes += [Note(60 + i % 5, i * 1.0, 1.0) for i in range(12)]
>>> played = [(60 + i % 5, 0.5 * i, 0.5 * i + 0.45, 80) for i in range(12)]
>>> played[3] = (70, 1.5, 1.95, 80)                       # a wrong note
>>> a = assess(s, played)
>>> [(n.bar, n.verdict, n.played_pitch) for n in a.notes if n.verdict != "correct"]
[(1, 'wrong_pitch', 70)]
>>> a.scores.pitch
91.7
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from yuefu import __version__
from yuefu.core.errors import ParameterError
from yuefu.core.io.musicxml import Measures
from yuefu.core.score import Score
from yuefu.core.theory import pitch_to_name
from yuefu.teach.align import AlignConfig, Alignment, align
from yuefu.teach.errors import DifferentPieceError, PerformanceError
from yuefu.teach.evidence import EvidenceConfig, reconsider
from yuefu.teach.pedal import pedal_judged
from yuefu.teach.performance import TRANSCRIBERS, Performance, load_performance, performance_from_score
from yuefu.teach.reference import Reference, build_reference
from yuefu.teach.rescore import rescore
from yuefu.teach.scores import Scores, compute_scores
from yuefu.teach.suggest import Suggestion, suggest
from yuefu.teach.unheard import unheard_notes
from yuefu.teach.verdict import ExtraNote, NoteVerdict, Ornament, VerdictConfig, Verdicts, judge

__all__ = ["AssessConfig", "Assessment", "assess", "JSON_FORMAT"]

#: At most this many score-informed looks at a transcription (each on the last one's judgement).
_MAX_PASSES = 8

#: The ``format`` stamp of the JSON report.
JSON_FORMAT = "yuefu.practice/1"


@dataclass(frozen=True)
class AssessConfig:
    """Settings of an assessment.

    Parameters
    ----------
    align : AlignConfig
        Costs of the alignment model.
    verdict : VerdictConfig
        Thresholds of the verdicts.
    evidence : EvidenceConfig
        The score-informed second look at a transcribed recording (audio only).
    bars : (int, int) or None
        Assess only these bars of the score (1-based, inclusive): a passage being practised.
    split_pitch : int
        Hand split of a one-staff score (notes at or above it are the right hand's).
    min_fit : float
        The least share of notes that must fit the score: correct notes over the smaller of the
        played and the written notes. Below it the performance is taken for a different piece and
        not scored (random music in the same key and chords fits 25-43%; the same piece with 30%
        of its notes wrong about 70%).
    part : str or None
        The part of the score to judge, by name (a song's piano part: ``"Piano"``). None: the
        keyboard part of a score that has other instruments beside it (a voice, a violin: GM
        programs 0-7 that are not a vocal line), else every pitched part
        (:func:`yuefu.teach.reference.piano_tracks`).
    transcriber : {"basic-pitch", "transkun"}
        Which piano transcriber reads a performance given as an audio file
        (:func:`yuefu.teach.load_performance`): ``"basic-pitch"`` is fast (about 30x real time
        on one core) and keeps its candidates for the score-informed second look;
        ``"transkun"`` is accurate (about 1.2x real time).
    """

    align: AlignConfig = field(default_factory=AlignConfig)
    verdict: VerdictConfig = field(default_factory=VerdictConfig)
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)
    bars: tuple[int, int] | None = None
    split_pitch: int = 60
    min_fit: float = 0.5
    part: str | None = None
    transcriber: str = "basic-pitch"

    def __post_init__(self) -> None:
        if self.transcriber not in TRANSCRIBERS:
            raise ParameterError(f"AssessConfig.transcriber: unknown transcriber {self.transcriber!r}; "
                                 f"choose one of {', '.join(TRANSCRIBERS)}")
        if not 0 <= self.min_fit < 1:
            raise ParameterError(f"AssessConfig.min_fit must be in [0, 1), got {self.min_fit}")
        if not 0 <= self.split_pitch <= 127:
            raise ParameterError(f"AssessConfig.split_pitch must be 0..127, got {self.split_pitch}")


@dataclass(frozen=True)
class Assessment:
    """The assessment of one performance against one score."""

    reference: Reference
    performance: Performance
    alignment: Alignment
    verdicts: Verdicts
    scores: Scores
    suggestions: tuple[Suggestion, ...]
    score_source: str = ""
    #: For a MusicXML score with repeats (first and second endings, da capo, dal segno): True when
    #: the performance was judged against the score with its repeats played, False when against
    #: the score played once through (whichever the performance follows better, :func:`assess`).
    #: None: the score has none, or it was not read from a file, or a passage (``bars``) was assessed.
    repeats: bool | None = None

    @property
    def notes(self) -> tuple[NoteVerdict, ...]:
        """One verdict per score note, in score order."""
        return self.verdicts.notes

    @property
    def extras(self) -> tuple[ExtraNote, ...]:
        """Played notes the score does not have."""
        return self.verdicts.extras

    @property
    def ornaments(self) -> tuple[Ornament, ...]:
        """Trills, mordents, turns and grace notes played on written notes (their notes are not extra)."""
        return self.verdicts.ornaments

    def summary(self) -> dict[str, int]:
        """Counts of every verdict."""
        v = self.verdicts
        t = [n.timing for n in v.notes]
        d = [n.duration for n in v.notes]
        return {"notes": len(v.notes), "correct": v.count("correct"), "wrong_pitch": v.count("wrong_pitch"),
                "missed": v.count("missed"), "extra": len(v.extras), "early": t.count("early"),
                "late": t.count("late"), "too_short": d.count("too_short"), "too_long": d.count("too_long"),
                "replayed": len(v.superseded), "unheard": v.count("unheard"),
                "artefacts": len(v.artefacts), "ornaments": len(v.ornaments),
                "ornaments_not_played": len(v.ornaments_not_played)}

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (see ``docs/practice.md``)."""
        ref, v, perf = self.reference, self.verdicts, self.performance
        hands = ref.hands
        bars = []
        per = {(s.bar, s.hand): s for s in v.bar_hands}
        for s in v.bars:
            row: dict[str, Any] = {"bar": s.bar, "label": ref.bar_name(s.bar), "status": s.status,
                                   **_counts(s),
                                   "tempo_bpm": v.bar_bpm.get(s.bar)}
            if len(hands) == 2:
                row["hands"] = {h: {"status": per[(s.bar, h)].status, **_counts(per[(s.bar, h)])}
                                for h in hands}
            bars.append(row)
        notes = []
        signs, led = v.decorated()
        for n in v.notes:
            d: dict[str, Any] = {"index": n.index, "bar": n.bar, "hand": n.hand, "pitch": n.pitch,
                                 "name": pitch_to_name(n.pitch), "onset_beat": round(n.onset_beat, 4),
                                 "duration_beat": round(n.duration_beat, 4), "verdict": n.verdict}
            if n.verdict not in ("missed", "unheard"):
                d.update({"played_pitch": n.played_pitch,
                          "played_name": pitch_to_name(int(n.played_pitch or 0)),
                          "played_onset_s": n.played_onset_s, "played_offset_s": n.played_offset_s,
                          "played_velocity": n.played_velocity, "expected_onset_s": n.expected_onset_s,
                          "deviation_ms": n.deviation_ms, "deviation_beats": n.deviation_beats,
                          "timing": n.timing, "duration_ratio": n.duration_ratio, "duration": n.duration})
            rn = ref.notes[n.index]
            judged = n.verdict == "correct" and not perf.transcribed
            if rn.ornament:
                d["ornament_written"] = rn.ornament
                d["ornament_played"] = (n.index in signs) if judged else None
            if rn.grace:
                d["grace_written"] = [pitch_to_name(g) for g in rn.grace]
                d["grace_played"] = (n.index in led) if judged else None
            if rn.articulations:
                d["articulations"] = list(rn.articulations)
            notes.append(d)
        bpm = list(v.bar_bpm.values())
        return {
            "format": JSON_FORMAT,
            "yuefu_version": __version__,
            "score": {"source": self.score_source, "title": ref.title, "notes": len(ref.notes),
                      "bars": [ref.first_bar, ref.first_bar + ref.n_bars - 1], "hands": list(hands),
                      "hands_from": ref.hands_from, "repeats": self.repeats, "parts": list(ref.parts)},
            "performance": {"source": perf.source, "notes": len(perf),
                            "duration_s": round(float(perf.offset_s.max() - perf.onset_s.min()), 3),
                            "tempo_bpm": round(float(np.median(bpm)), 1) if bpm else None},
            "scores": self.scores.to_dict(),
            "score_details": self.scores.details,
            "summary": self.summary(),
            "suggestions": [s.to_dict() for s in self.suggestions],
            "events": [{"kind": e.kind, "bar": e.bar, "to_bar": e.to_bar, "at_s": round(e.at_s, 3),
                        "seconds": round(e.seconds, 3), "notes": e.notes} for e in v.events],
            "bars": bars,
            "notes": notes,
            "extra_notes": [{"index": e.index, "pitch": e.pitch, "name": pitch_to_name(e.pitch),
                             "onset_s": e.onset_s, "offset_s": e.offset_s, "velocity": e.velocity,
                             "bar": e.bar, "hand": e.hand, "caught_with": e.caught_with} for e in v.extras],
            "ornaments": [{"kind": o.kind, "note": o.note, "bar": o.bar, "hand": o.hand, "pitch": o.pitch,
                           "name": pitch_to_name(o.pitch), "onset_s": o.onset_s, "end_s": o.end_s,
                           "played": list(o.played), "played_pitches": list(o.pitches), "written": o.written}
                          for o in v.ornaments],
            "replayed_notes": list(v.superseded),
            "pedal": {"marked_spans": len(ref.pedals),
                      "judged": pedal_judged(ref, perf),
                      "verdicts": [{"kind": p.kind, "bar": p.bar, "to_bar": p.to_bar,
                                    "label": ref.bar_name(p.bar), "beat": round(p.beat, 4),
                                    "at_s": round(p.at_s, 3)} for p in v.pedal]},
        }

    def to_json(self, *, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def _counts(s: Any) -> dict[str, int]:
    return {"notes": s.notes, "correct": s.correct, "wrong_pitch": s.wrong_pitch, "missed": s.missed,
            "extra": s.extra, "early": s.early, "late": s.late, "too_short": s.too_short,
            "too_long": s.too_long}


def _as_score(score: Score | str | Path, *, repeats: bool = True
              ) -> tuple[Score, str, Measures | None, tuple[Score, Measures] | None]:
    """The score, where it came from, its measures (start beat, written number) where the file
    says them (MusicXML), and, for a MusicXML file with repeats (when ``repeats``), the score with
    its repeats expanded and its measures."""
    if isinstance(score, Score):
        return score, score.title, None, None
    from yuefu.core.errors import ScoreLoadError
    from yuefu.core.files import check_input
    from yuefu.core.io import load_score
    from yuefu.core.io.musicxml import read_musicxml_measures

    p = check_input(score, what="score file", error=ScoreLoadError)
    if p.suffix.lower() not in (".musicxml", ".xml", ".mxl"):
        return load_score(p), str(p), None, None
    sc, measures, played = read_musicxml_measures(p, played=repeats)
    return sc, str(p), measures, played


def _as_performance(perf: Performance | Score | str | Path | Iterable[tuple[int, float, float, int]],
                    transcriber: str = "basic-pitch") -> Performance:
    if isinstance(perf, Performance):
        out = perf
    elif isinstance(perf, Score):
        out = performance_from_score(perf)
    elif isinstance(perf, (str, Path)):
        return load_performance(perf, transcriber=transcriber)
    else:
        out = Performance.from_notes(perf, source="notes")
    if len(out) == 0:
        raise PerformanceError(f"{out.source or 'the performance'}: no notes were played (silence?)")
    return out


def check_same_piece(ref: Reference, perf: Performance, v: Verdicts, min_fit: float) -> None:
    """Refuse to score a performance that does not follow the score (a different piece)."""
    correct = v.count("correct")
    # an audio transcription may add spurious notes, a passage may be played alone: measure against
    # the smaller of what was played and what was written
    fit = correct / max(1, min(len(perf), len(ref.notes)))
    if fit < min_fit:
        raise DifferentPieceError(
            f"{perf.source or 'the performance'} does not follow the score"
            f"{' ' + repr(ref.title) if ref.title else ''}: only {100 * fit:.0f}% of its {len(perf)} notes "
            f"fit it ({correct} of {len(ref.notes)} score notes found); was a different piece played? "
            "Check that the score and the recording belong together")


def assess(score: Score | str | Path,
           performance: Performance | Score | str | Path | Iterable[tuple[int, float, float, int]], *,
           config: AssessConfig | None = None) -> Assessment:
    """Assess a performance against its score, note by note.

    Parameters
    ----------
    score : Score or path
        The piece as written (MIDI or MusicXML; a score with two staves/tracks is judged per hand).
        A MusicXML file with repeat signs (first and second endings, da capo, dal segno) is judged
        both ways -- played with its repeats, and once through -- and the reading the performance
        follows better (the fewer notes left unexplained: missed, wrong, extra or replayed; once
        through on a tie) is kept (:attr:`Assessment.repeats`). A MusicXML score's bars are its
        measures, named by their written numbers (:meth:`Reference.bar_name`: "5 (2nd time)",
        "0 (the pickup)"). Repeats are not expanded when ``config.bars`` picks a passage.
    performance : Performance, Score, path or iterable of (pitch, onset_s, offset_s, velocity)
        What was played: a MIDI file from a digital piano, an already transcribed score, audio
        (WAV/MP3/FLAC/OGG, transcribed by ``config.transcriber``: basic-pitch's route,
        :func:`yuefu.listen.transcribe.transcribe`, whose candidate notes are then re-decided
        knowing the score, see :mod:`yuefu.teach.evidence`; or Transkun,
        :mod:`yuefu.listen.transcribe.transkun`) or the notes themselves.
    config : AssessConfig, optional

    Returns
    -------
    Assessment

    Raises
    ------
    ScoreLoadError
        The score cannot be read or holds no notes.
    PerformanceError
        The performance cannot be read or holds no notes (silence).
    DifferentPieceError
        The performance does not follow the score.
    """
    cfg = config or AssessConfig()
    sc, source, measures, played = _as_score(score, repeats=cfg.bars is None)
    perf = _as_performance(performance, cfg.transcriber)
    if played is None:
        return _assess(sc, source, perf, cfg, measures)
    return keep_better_reading(lambda: _assess(sc, source, perf, cfg, measures),
                               lambda: _assess(played[0], source, perf, cfg, played[1]))


def keep_better_reading(once: Callable[[], Assessment], twice: Callable[[], Assessment]) -> Assessment:
    """Of the assessments against a score read once through (``once``) and with its repeats
    played (``twice``), the one that leaves fewer notes unexplained (:func:`_unexplained`; once
    through on a tie), with :attr:`Assessment.repeats` set. A reading the performance does not
    follow at all is left out; both: the first's :class:`DifferentPieceError`."""
    first: Assessment | None = None
    refused: DifferentPieceError | None = None
    try:
        first = once()
    except DifferentPieceError as e:
        refused = e
    try:
        second = twice()
    except DifferentPieceError:
        if first is None and refused is not None:
            raise refused from None
        second = None
    if second is not None and (first is None or _unexplained(second) < _unexplained(first)):
        return replace(second, repeats=True)
    assert first is not None
    return replace(first, repeats=False)


def _unexplained(a: Assessment) -> int:
    """What a reading of the score leaves unexplained: written notes missed or played wrong, played
    notes extra or set aside as played again (a repeat read as a restart replays its first time
    through; a repeat not played leaves its second time missed)."""
    s = a.summary()
    return s["missed"] + s["wrong_pitch"] + s["extra"] + s["replayed"]


def _assess(sc: Score, source: str, perf: Performance, cfg: AssessConfig,
            measures: Measures | None = None) -> Assessment:
    """:func:`assess` against one reading of the score (``measures``: where its bars begin and
    their written numbers)."""
    ref = build_reference(sc, split_pitch=cfg.split_pitch, bars=cfg.bars, measures=measures, part=cfg.part)
    al = align(ref, perf, cfg.align)
    v = judge(ref, perf, al, cfg.verdict)
    # whether it is the same piece at all is judged on what the transcriber heard by itself
    check_same_piece(ref, perf, v, cfg.min_fit)
    if perf.candidates is not None and perf.transcribed:
        # a transcription: ask the transcriber's candidates again, knowing what should sound; the
        # Assessment's performance is then the corrected one (its notes are the ones judged)
        if cfg.evidence.enabled and cfg.evidence.rescore:
            better = rescore(ref, perf, v)
            if better is not None:
                al = align(ref, better, cfg.align)
                perf, v = better, judge(ref, better, al, cfg.verdict)
        for n_pass in range(_MAX_PASSES):
            better = reconsider(ref, perf, v, cfg.evidence)
            if better is None:
                break
            al2 = align(ref, better, cfg.align)
            v2 = judge(ref, better, al2, cfg.verdict)
            if n_pass and v2.count("correct") < v.count("correct"):
                break  # a further look that loses correct notes is not taken
            perf, al, v = better, al2, v2
        if cfg.evidence.enabled and cfg.evidence.unheard:
            # a written note still unanswered may have been played and lost by the transcriber
            lost = unheard_notes(ref, perf, v)
            if lost:
                v = judge(ref, perf, al, cfg.verdict, unheard=lost)
    s = compute_scores(ref, perf, v)
    sug = suggest(ref, v, s)
    return Assessment(ref, perf, al, v, s, tuple(sug), source)
