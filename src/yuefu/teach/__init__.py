"""The practice partner (AI 陪练): a piano performance against its score, note by note.

:func:`assess` aligns what was played (MIDI from a digital piano, an already transcribed score,
or audio through the piano transcriber) with the score, judges every score note (``correct``,
``wrong_pitch`` with what was played, ``missed``), lists the extra notes, measures timing against
the local tempo (early/late in ms and beats) and held lengths, finds hesitations, stops, restarts
and skipped passages, summarises per bar and per hand, gives marks 0-100 (pitch 音准, rhythm 节奏,
fluency 流畅度, expression 表现力, overall) and two to five practice suggestions.
:func:`render_html` and :meth:`Assessment.to_json` write the report; :class:`StreamFollower`
judges notes live, as they are played.

>>> from yuefu.core import Score, Track, Note
>>> s = Score(); t = s.add_track(Track("piano"))
>>> t.notes += [Note(60 + i % 7, float(i), 1.0) for i in range(16)]
>>> a = assess(s, [(60 + i % 7, 0.5 * i, 0.5 * i + 0.4, 80) for i in range(16) if i != 9])
>>> a.summary()["missed"], a.notes[9].verdict, a.notes[9].bar
(1, 'missed', 3)
"""

from yuefu.teach.align import AlignConfig, Alignment, Follower, align
from yuefu.teach.assess import AssessConfig, Assessment, assess
from yuefu.teach.errors import DifferentPieceError, PerformanceError
from yuefu.teach.pedal import PedalVerdict
from yuefu.teach.performance import Performance, load_performance, performance_from_score, with_pedal
from yuefu.teach.reference import Reference, build_reference
from yuefu.teach.report import render_html, write_report
from yuefu.teach.scores import Scores, compute_scores
from yuefu.teach.stream import LiveVerdict, StreamFollower
from yuefu.teach.suggest import Suggestion, suggest
from yuefu.teach.verdict import NoteVerdict, Ornament, VerdictConfig, Verdicts, judge

__all__ = [
    "AlignConfig",
    "Alignment",
    "AssessConfig",
    "Assessment",
    "DifferentPieceError",
    "Follower",
    "LiveVerdict",
    "NoteVerdict",
    "Ornament",
    "PedalVerdict",
    "Performance",
    "PerformanceError",
    "Reference",
    "Scores",
    "StreamFollower",
    "Suggestion",
    "VerdictConfig",
    "Verdicts",
    "align",
    "assess",
    "build_reference",
    "compute_scores",
    "judge",
    "load_performance",
    "performance_from_score",
    "render_html",
    "suggest",
    "with_pedal",
    "write_report",
]
