"""Verdicts: what happened to every score note, which played notes were extra, and the events of
the performance (pauses, restarts, skipped passages).

From an :class:`~yuefu.teach.align.Alignment`:

1. **Passes.** The path is walked in playing order. A jump backwards starts a new attempt (a
   *restart*); when a later attempt reaches a score moment again, what the earlier attempt played
   there is set aside (``superseded``: neither right nor wrong -- the student corrected it). The
   last attempt is the one judged.
2. **Pitches.** In each cluster the played notes whose pitch is in the chord are *correct*; a
   played note that landed on the cluster with another pitch is paired with the nearest unplayed
   pitch of the chord as a *wrong_pitch* (the played pitch is kept; at most ``max_wrong_semitones``
   away, or an octave); what is left of the chord is
   *missed*, what is left of the played notes is *extra*, as are the notes the aligner inserted.
3. **Timing.** Each played cluster's time (median onset of its notes) is compared with its
   expected time from the local tempo (:mod:`yuefu.teach.tempo`): deviation in ms and in beats.
   A note is ``early``/``late`` when it is off by at least ``timing_tolerance_s`` *and*
   ``timing_tolerance_beats``; pauses are events, not lateness. In a transcribed recording a
   note whose key the score strikes again within ``repeat_s`` (a trill) is not timed, and its
   time does not set the local tempo.
4. **Duration.** Held time against the written length at the local tempo: ``too_short`` below
   ``short_ratio`` (and 0.1 s shorter), ``too_long`` above ``long_ratio`` (and 0.15 s longer);
   not judged for a transcribed recording, whose note ends are where the sound fades, not where
   the key was released. A note the score marks staccato is to be held about half its length
   (staccatissimo a quarter, portato -- staccato and tenuto -- three quarters:
   :data:`DETACHED_FRACTION`): it is never too short, and too long when its key was held more
   than ``long_ratio`` times that (a staccato note held 0.8 of its length or more, and 0.08 s
   longer than half of it); a tenuto note is too short below ``tenuto_ratio`` (and 0.08 s shorter).
   A note under a fermata is never too long, and the wait after its chord is no pause: the local
   tempo is fitted on either side of it. Where the score frees the tempo (rit., accel., rubato ...
   until a tempo: ``Reference.free_tempo``) notes are not judged early or late (their deviation
   is still given) and the tempo there is fitted apart. A chord marked arpeggio (rolled) is timed
   by its first note, and the notes of the roll that follow within ``roll_s`` share its timing.
5. **Ornaments.** A score writes a trill, a mordent or a turn as one note (or a sign over it); the
   player plays it as a quick alternation of that note's key with a key a semitone or a tone
   away. Extra notes that continue a correctly played written note that way (each within
   ``ornament_gap_s`` of the one before, the keys alternating, the written key coming back) are
   an :class:`Ornament` of that note rather than extra notes: listed, and not counted against the
   player. So are the grace notes a score writes before a note (``Note.grace``, from MusicXML),
   struck just before it or with it (an appoggiatura on the beat, taken by the alignment for its
   note played wrong, is mended). Where the score writes an ornament sign over a note
   (``Note.ornament``) or grace notes before it and the note was played right but without them, it
   is listed in ``Verdicts.ornaments_not_played`` (not from a recording, whose transcription merges
   a trill's quick strikes and often a grace note).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.teach.align import KIND_JUMP, KIND_SKIP, KIND_STAY, OP_INSERT, Alignment
from yuefu.teach.pedal import PedalVerdict, judge_pedal
from yuefu.teach.performance import Performance
from yuefu.teach.reference import Reference, RefNote, restruck_within
from yuefu.teach.tempo import LocalTiming, local_timing

__all__ = ["VerdictConfig", "NoteVerdict", "ExtraNote", "Ornament", "Event", "BarSummary", "Verdicts",
           "judge", "VERDICTS", "ORNAMENT_STEP", "CAUGHT_S", "DETACHED_FRACTION", "detached_fraction",
           "ornament_keys_fit", "ornament_kind"]

VERDICTS = ("correct", "wrong_pitch", "missed", "unheard")

#: Intervals (semitones) at which a piano note's partials lie: the octave, twelfth, double octave
#: and the major third two octaves up, where a transcription confuses a partial with a note.
PARTIAL_INTERVALS = (12, 19, 24, 28)

#: An ornament's other keys lie at most this many semitones from its written note (a semitone or
#: a tone: the auxiliary of a trill, mordent or turn).
ORNAMENT_STEP = 2

def ornament_keys_fit(written: int, keys: Iterable[int]) -> bool:
    """Whether ``keys`` can make an ornament on ``written``: all within :data:`ORNAMENT_STEP`
    semitones of it, at most one key above it and one below."""
    ks = set(keys)
    return (all(abs(q - written) <= ORNAMENT_STEP for q in ks)
            and sum(q > written for q in ks) <= 1 and sum(q < written for q in ks) <= 1)


def ornament_kind(written: int, pitches: Sequence[int]) -> str | None:
    """The ornament that ``pitches`` (a figure's keys in the order struck, the written note's own
    among them) play on ``written``: ``"mordent"`` (three notes), ``"trill"`` (four or more on two
    keys) or ``"turn"`` (keys above and below), or None (under three notes, the written key struck
    once, or keys that do not fit: :func:`ornament_keys_fit`)."""
    if len(pitches) < 3 or list(pitches).count(written) < 2 or not ornament_keys_fit(written, pitches):
        return None
    if any(q > written for q in pitches) and any(q < written for q in pitches):
        return "turn"
    return "mordent" if len(pitches) == 3 else "trill"


#: An extra note struck within this many seconds of a played written note a semitone or a tone
#: away is that neighbouring key caught with it (``ExtraNote.caught_with``).
CAUGHT_S = 0.035

#: How much of its written length a note marked detached is held, by its marks
#: (``RefNote.articulations``): staccatissimo a quarter, staccato half, portato (staccato and
#: tenuto together) three quarters.
DETACHED_FRACTION = {"staccatissimo": 0.25, "staccato": 0.5, "portato": 0.75}


@dataclass(frozen=True)
class VerdictConfig:
    """Thresholds of the verdicts.

    Parameters
    ----------
    timing_tolerance_s, timing_tolerance_beats : float
        A note is early or late when its onset is off by at least both.
    short_ratio, long_ratio : float
        Held time over written time (at the local tempo) below / above which a note is too short /
        too long. A note marked staccato (or staccatissimo, portato) is too long above
        ``long_ratio`` times its detached length (:data:`DETACHED_FRACTION`), and never too short.
    tenuto_ratio : float
        A note marked tenuto (held for its full value) is too short below this share of its length.
    max_wrong_semitones : int
        A played note is paired with a written one as a wrong pitch only within this interval
        (or an octave or two exactly); further off, it is an extra note and the written one missed.
    stop_s : float
        A pause at least this long (beyond the pulse) is a *stop* rather than a hesitation.
    sigma_beats : float
        Neighbourhood of the local tempo fit.
    audio : bool or None
        Judge a transcribed recording, whose transcription confuses a note's partials with notes:
        a played note left over as extra that is an octave, twelfth, double octave or 17th above
        another played note starting within ``partial_window_s`` is set aside as a likely
        partial, as is one on a partial (or the sub-octave) of a written note of a chord played
        then, heard or not, and a re-strike of a judged note within its written length
        (``ExtraNote`` not reported; ``Verdicts.artefacts``); a written note that is not heard is
        ``unheard`` (neither right nor missed) rather than missed when it lies an octave, twelfth
        or double octave above a correct note of its chord, below one as a deep bass note
        (``low_pitch``), or where a played note of its pitch still sounds when its chord is played
        (a re-struck key heard as one long note). A note played an octave off stays a wrong note
        (a hand in the wrong octave). None (default): when the performance was transcribed from
        audio (``Performance.transcribed``).
    partial_window_s : float
        How close in time a partial's onset lies to its note's (audio only).
    low_pitch : int
        A written note below this MIDI pitch (36 = C2) doubled an octave, twelfth or two octaves
        higher by a correct note of its chord and not heard is ``unheard`` rather than missed
        (audio only): the note model hears almost nothing of a deep bass note under its own
        octave (on rendered pianos: 121 such notes called missed, none of them omitted).
    double_strike_s : float
        A leftover played note within this many seconds of a judged note of the same key is set
        aside as that strike heard twice (audio only; the transcriber itself merges onsets within
        80 ms). 0: never.
    repeat_s : float
        A note whose key the score strikes again within this many seconds at the played pace (a
        trill, a tremolo) is not judged early or late from a recording (audio only): the
        transcriber hears some of such strikes and merges others (its deviation is still
        reported); nor is such a note a wrong note when the alignment answered it with the trill's
        other key and its own key was heard within ``2 * repeat_s`` seconds (``unheard``: which
        strike answers which written one is not heard). 0: always judged.
    ornament_gap_s, ornament_min_gap_s : float
        An ornament's notes follow one another within ``ornament_gap_s`` (a trill of 7 notes a
        second or faster; on 50 real ASAP performances, 0.15 s against 0.2 s changes 15 of 2,980
        extra notes) and no closer than ``ornament_min_gap_s`` (two neighbouring keys struck
        together are a smudge, not an ornament). ``ornament_gap_s = 0``: no ornaments, every such
        note is extra.
    roll_s : float
        A chord the score marks arpeggio (rolled, ``"arpeggio"`` in its notes' articulations) is
        timed by its first note, and its notes struck within this many seconds of it are as early
        or late as that note (a roll spreads them on purpose).
    grace_window_s : float
        A grace note the score writes before a note (``Note.grace``, from MusicXML) is found in an
        extra note of its key struck up to this many seconds before that note (an acciaccatura
        just before the beat; an appoggiatura on it, its note delayed). 0: grace notes are extra.
    """

    timing_tolerance_s: float = 0.07
    timing_tolerance_beats: float = 0.125
    short_ratio: float = 0.5
    long_ratio: float = 1.6
    tenuto_ratio: float = 0.8
    max_wrong_semitones: int = 7
    stop_s: float = 2.0
    sigma_beats: float = 2.0
    audio: bool | None = None
    partial_window_s: float = 0.05
    low_pitch: int = 36
    double_strike_s: float = 0.15
    repeat_s: float = 0.1
    ornament_gap_s: float = 0.15
    ornament_min_gap_s: float = 0.035
    grace_window_s: float = 0.4
    roll_s: float = 0.4

    def __post_init__(self) -> None:
        if not 0 < self.short_ratio < 1 < self.long_ratio:
            raise ParameterError("VerdictConfig needs 0 < short_ratio < 1 < long_ratio")
        if not self.short_ratio <= self.tenuto_ratio < 1:
            raise ParameterError("VerdictConfig needs short_ratio <= tenuto_ratio < 1")
        if min(self.timing_tolerance_s, self.timing_tolerance_beats, self.repeat_s) < 0 \
                or self.sigma_beats <= 0:
            raise ParameterError("VerdictConfig tolerances must be >= 0 and sigma_beats > 0")
        if not 0 <= self.roll_s <= 2:
            raise ParameterError(f"VerdictConfig.roll_s must be 0..2 s, got {self.roll_s}")
        if not 0 <= self.grace_window_s <= 2:
            raise ParameterError(f"VerdictConfig.grace_window_s must be 0..2 s, got {self.grace_window_s}")
        if not 0 <= self.ornament_min_gap_s <= self.ornament_gap_s <= 1 and self.ornament_gap_s:
            raise ParameterError("VerdictConfig needs 0 <= ornament_min_gap_s <= ornament_gap_s <= 1 s "
                                 f"(or ornament_gap_s = 0), got {self.ornament_min_gap_s} and "
                                 f"{self.ornament_gap_s}")


@dataclass(frozen=True)
class NoteVerdict:
    """The verdict on one score note (``played*`` fields are None for a missed note)."""

    index: int
    pitch: int
    bar: int
    hand: str
    onset_beat: float
    duration_beat: float
    verdict: str
    played: int | None = None
    played_pitch: int | None = None
    played_onset_s: float | None = None
    played_offset_s: float | None = None
    played_velocity: int | None = None
    expected_onset_s: float | None = None
    deviation_ms: float | None = None
    deviation_beats: float | None = None
    timing: str | None = None
    duration_ratio: float | None = None
    duration: str | None = None


@dataclass(frozen=True)
class ExtraNote:
    """A played note that the score does not have.

    ``caught_with``: the score note whose key was struck with it, a semitone or a tone away
    (within :data:`CAUGHT_S`: a neighbouring key caught with the right one, the commonest slip of
    a finger off the key's centre), or None.
    """

    index: int
    pitch: int
    onset_s: float
    offset_s: float
    velocity: int
    bar: int
    hand: str
    near_beat: float
    caught_with: int | None = None


@dataclass(frozen=True)
class Ornament:
    """A trill, mordent or turn played on a written note (its key alternating with a key at most
    :data:`ORNAMENT_STEP` semitones away, quickly, the written key coming back), or the grace notes
    a score writes before it, played.

    ``kind``: ``"mordent"`` (three notes: the note, its neighbour, the note), ``"trill"`` (four or
    more notes on two keys), ``"turn"`` (neighbours above and below) or ``"grace"`` (the grace
    notes the score writes before the note, played before it). ``note`` is the score note it
    decorates, ``played`` the performance notes of it in time order (the written note's own strike
    included; the others are not extra notes). ``written``: the ornament sign the score writes over
    that note (a MusicXML score's; ``"grace"`` for grace notes), or None (none written, or a score
    that cannot say, as MIDI).
    """

    kind: str
    note: int
    pitch: int
    bar: int
    hand: str
    onset_s: float
    end_s: float
    played: tuple[int, ...]
    pitches: tuple[int, ...]
    written: str | None = None


@dataclass(frozen=True)
class Event:
    """Something about the flow: ``hesitation``, ``stop``, ``restart``, ``skip`` or ``ended_early``.

    ``bar`` is where it happened (for a restart: the bar the student broke off in; ``to_bar``: the
    bar they went back to; for a skip: the first and last bar left out).
    """

    kind: str
    bar: int
    to_bar: int | None = None
    at_s: float = 0.0
    seconds: float = 0.0
    notes: int = 0


@dataclass
class BarSummary:
    """Counts for one bar, for one hand or for both (``hand == "both"``)."""

    bar: int
    hand: str
    notes: int = 0
    correct: int = 0
    wrong_pitch: int = 0
    missed: int = 0
    extra: int = 0
    early: int = 0
    late: int = 0
    too_short: int = 0
    too_long: int = 0
    wrong_played: list[tuple[int, int]] = field(default_factory=list)  # (written, played)

    @property
    def pitch_errors(self) -> int:
        return self.wrong_pitch + self.missed + self.extra

    @property
    def timing_errors(self) -> int:
        return self.early + self.late

    @property
    def status(self) -> str:
        """``"unplayed"``, ``"pitch"`` (wrong, missed or extra notes), ``"timing"`` or ``"good"``."""
        if self.notes and self.missed == self.notes and not self.extra:
            return "unplayed"
        if self.pitch_errors:
            return "pitch"
        if self.timing_errors:
            return "timing"
        return "good"


@dataclass(frozen=True)
class Verdicts:
    """Everything judged from one alignment."""

    notes: tuple[NoteVerdict, ...]
    extras: tuple[ExtraNote, ...]
    superseded: tuple[int, ...]
    events: tuple[Event, ...]
    bars: tuple[BarSummary, ...]
    bar_hands: tuple[BarSummary, ...]
    timing: LocalTiming
    cluster_time_s: np.ndarray
    bar_bpm: dict[int, float]
    artefacts: tuple[int, ...] = ()  # played notes set aside as likely transcription artefacts
    ornaments: tuple[Ornament, ...] = ()
    # score notes with an ornament sign (Note.ornament) or grace notes (Note.grace), played right
    # but without them (not said from a recording)
    ornaments_not_played: tuple[int, ...] = ()
    # the sustain pedal against the score's pedal marks (yuefu.teach.pedal; empty where the score
    # marks none or the performance cannot say)
    pedal: tuple[PedalVerdict, ...] = ()

    def count(self, verdict: str) -> int:
        return sum(1 for n in self.notes if n.verdict == verdict)

    def decorated(self) -> tuple[set[int], set[int]]:
        """The score notes a trill, mordent or turn was played on, and those whose grace notes
        were played (see :func:`decorated_notes`)."""
        return decorated_notes(self.ornaments)


def decorated_notes(ornaments: Iterable[Ornament]) -> tuple[set[int], set[int]]:
    """The score notes a trill, mordent or turn was played on, and those whose grace notes were
    played."""
    orns = list(ornaments)
    return {o.note for o in orns if o.kind != "grace"}, {o.note for o in orns if o.kind == "grace"}


def _hand_for(ref: Reference, cluster: int, pitch: int) -> str:
    """The hand of an extra note struck at ``cluster``: see :meth:`Reference.hand_near` (the
    score's staves, track names or tracks where it has them, else the reference's own split)."""
    return ref.hand_near(cluster, pitch)


def judge(ref: Reference, perf: Performance, al: Alignment, config: VerdictConfig | None = None, *,
          unheard: frozenset[int] = frozenset()) -> Verdicts:
    """Turn an alignment into per-note verdicts, extra notes, events and per-bar summaries.

    ``unheard``: score notes that, if no played note answers them, are ``unheard`` rather than
    missed (the recording does not tell; :func:`yuefu.teach.unheard.unheard_notes`).
    """
    cfg = config or VerdictConfig()
    J = len(ref.clusters)
    K = len(perf)
    assigned: dict[int, list[int]] = {}
    inserted: dict[int, list[int]] = {}
    superseded: list[int] = []
    events: list[Event] = []
    visit = np.full(J, -1, dtype=np.int64)
    seg_of_visit: dict[int, int] = {}
    segment_id = 0
    visit_id = 0
    pos = -1

    def touch(c: int) -> None:
        nonlocal visit_id
        if assigned.get(c) or inserted.get(c):
            superseded.extend(assigned.pop(c, []))
            superseded.extend(inserted.pop(c, []))
        visit_id += 1
        visit[c] = visit_id
        seg_of_visit[visit_id] = segment_id

    for k in range(K):
        c, op, kind = int(al.cluster[k]), int(al.op[k]), int(al.kind[k])
        if kind != KIND_STAY:
            if kind == KIND_JUMP:
                if c <= pos:
                    events.append(Event("restart", ref.clusters[pos].bar, ref.clusters[c].bar,
                                        float(perf.onset_s[k])))
                elif c > pos + 1:
                    lost = sum(len(ref.clusters[x].note_indices) for x in range(pos + 1, c))
                    events.append(Event("skip", ref.clusters[pos + 1].bar, ref.clusters[c - 1].bar,
                                        float(perf.onset_s[k]), notes=lost))
                segment_id += 1
                touch(c)
            else:
                if kind == KIND_SKIP and c - pos - 1 >= 3:
                    lost = sum(len(ref.clusters[x].note_indices) for x in range(pos + 1, c))
                    events.append(Event("skip", ref.clusters[pos + 1].bar, ref.clusters[c - 1].bar,
                                        float(perf.onset_s[k]), notes=lost))
                for x in range(pos + 1, c + 1):
                    touch(x)
            pos = c
        if op == OP_INSERT or c < 0:
            inserted.setdefault(c, []).append(k)
        else:
            assigned.setdefault(c, []).append(k)

    # -- pitches -------------------------------------------------------------------------------
    played_for: dict[int, int] = {}  # score note -> perf note
    verdict_of: dict[int, str] = {}
    extra_idx: list[tuple[int, int]] = []  # (perf note, cluster)
    cluster_notes: dict[int, list[int]] = {}
    for c, ks in assigned.items():
        cl = ref.clusters[c]
        open_pitches = list(cl.pitches)
        subs: list[int] = []
        for k in ks:
            p = int(perf.pitch[k])
            if p in open_pitches:
                open_pitches.remove(p)
                for i in cl.members[cl.pitches.index(p)]:
                    played_for[i], verdict_of[i] = k, "correct"
                cluster_notes.setdefault(c, []).append(k)
            else:
                subs.append(k)
        # pair the wrong notes with the nearest unplayed written pitch
        pairs = sorted(((abs(int(perf.pitch[k]) - q), n, k, q) for n, k in enumerate(subs)
                        for q in open_pitches))
        used_k: set[int] = set()
        for dist, _, k, q in pairs:
            if k in used_k or q not in open_pitches:
                continue
            if dist > cfg.max_wrong_semitones and dist not in (12, 24):
                continue
            used_k.add(k)
            open_pitches.remove(q)
            for i in cl.members[cl.pitches.index(q)]:
                played_for[i], verdict_of[i] = k, "wrong_pitch"
            cluster_notes.setdefault(c, []).append(k)
        extra_idx += [(k, c) for k in subs if k not in used_k]
    for c, ks in inserted.items():
        extra_idx += [(k, c) for k in ks]

    # -- timing --------------------------------------------------------------------------------
    played_clusters = sorted(cluster_notes)
    # a chord's time is the median onset of its notes; a rolled chord's (an arpeggio sign) its first
    rolled = ref.rolled_clusters()
    ctimes = np.array([float((np.min if c in rolled else np.median)(perf.onset_s[cluster_notes[c]]))
                       for c in played_clusters])
    segs = np.array([seg_of_visit.get(int(visit[c]), 0) for c in played_clusters], dtype=np.int64)
    # a time that runs backwards (restarted passage) is a segment boundary as well
    if len(ctimes) > 1:
        back = np.concatenate([[0], (np.diff(ctimes) <= 0).astype(np.int64)])
        segs = segs * 1000 + np.cumsum(back)
        # a fermata holds its chord (or a rest) as long as the player likes: the wait for the next
        # chord is no pause, and the local tempo is fitted on either side of it
        held = ref.fermata_clusters()
        rests = ref.fermata_rests
        # where the score frees the tempo (rit. ... a tempo), the tempo is fitted apart from around it
        free = np.array([ref.in_free_tempo(ref.clusters[c].beat) for c in played_clusters])
        if held or rests or free.any():
            after = np.array([0] + [int(any(a <= c < b for c in held) or any(
                ref.clusters[a].beat < r <= ref.clusters[b].beat + 1e-6 for r in rests))
                                    for a, b in zip(played_clusters, played_clusters[1:], strict=False)])
            after |= np.concatenate([[0], (free[1:] != free[:-1]).astype(np.int64)])
            segs = np.cumsum(np.concatenate([[0], (segs[1:] != segs[:-1]).astype(np.int64)]) | after)
    # the fit runs against the score's own time (its written tempo changes included), counted in the
    # score's opening beats; its slope is then turned into seconds per written beat at each moment
    written = np.array([ref.clusters[c].onset_s for c in played_clusters]) / ref.beat_s
    audio = perf.transcribed if cfg.audio is None else cfg.audio
    strikes = ref.strike_beats() if audio else {}
    trusted = None
    pace = 1.0  # played seconds per written second, over the whole take
    if audio and cfg.repeat_s > 0 and len(ctimes) > 1:
        # a recording's trill is heard a few strikes at a time: its times do not tell the tempo
        pace = _pace(written * ref.beat_s, ctimes)
        trusted = np.array([not ref.chord_restruck(strikes, c,
                                                   cfg.repeat_s / (pace * ref.clusters[c].seconds_per_beat))
                            for c in played_clusters])
    lt = local_timing(written, ctimes, segs, sigma_beats=cfg.sigma_beats, trusted=trusted)
    wspb = np.array([ref.clusters[c].seconds_per_beat for c in played_clusters]) / ref.beat_s
    lt = replace(lt, seconds_per_beat=lt.seconds_per_beat * wspb)
    exp_of = {c: (lt.expected_s[i], lt.seconds_per_beat[i]) for i, c in enumerate(played_clusters)}
    cluster_time = np.full(J, np.nan)
    for i, c in enumerate(played_clusters):
        cluster_time[c] = ctimes[i]
    for i, extra in zip(lt.pauses.tolist(), lt.pause_s.tolist(), strict=True):
        c = played_clusters[i]
        what = "stop" if extra >= cfg.stop_s else "hesitation"
        events.append(Event(what, ref.clusters[c].bar, None, float(ctimes[i]), float(extra)))

    artefacts: list[int] = []
    if audio:
        extra_idx, artefacts = _partials_set_aside(ref, perf, extra_idx, played_for, cfg.partial_window_s,
                                                   cfg.double_strike_s, cluster_time)
    notes: list[NoteVerdict] = []
    for rn in ref.notes:
        v = verdict_of.get(rn.index, "missed")
        exp_s, spb = exp_of.get(rn.cluster, (np.nan, np.nan))
        pace_here = spb if np.isfinite(spb) else pace * ref.clusters[rn.cluster].seconds_per_beat
        if v == "missed":
            if rn.index in unheard or (audio and (
                    _masked(ref, rn.index, verdict_of, cfg.low_pitch)
                    or _held(perf, rn.pitch, float(cluster_time[rn.cluster]), cfg.partial_window_s)
                    or (perf.candidates is None  # with them, evidence.reconsider looks at the key
                        and restruck_within(strikes, rn.pitch, rn.onset_beat, cfg.repeat_s / pace_here)
                        and _key_heard_near(perf, rn.pitch, _due_s(ref, rn.cluster, cluster_time),
                                            cfg.repeat_s)))):
                # (the last: one strike of a trill, a tremolo or a fast repeated key, its key heard
                # struck about then: strikes that fast are not counted one by one, so the strike
                # left over is not heard rather than missed; basic-pitch's route reads the key's
                # posterior for them instead, EvidenceConfig.note_repeat)
                v = "unheard"
            notes.append(NoteVerdict(rn.index, rn.pitch, rn.bar, rn.hand, rn.onset_beat, rn.duration_beat, v))
            continue
        k = played_for[rn.index]
        on, off = float(perf.onset_s[k]), float(perf.offset_s[k])
        if (audio and v == "wrong_pitch"
                and _trill_mixup(strikes, rn, int(perf.pitch[k]), cfg.repeat_s / pace_here)
                and _key_heard_near(perf, rn.pitch, on, cfg.repeat_s)):
            # a trill whose two keys were both heard, struck faster than the transcriber tells apart:
            # which strike of which key answers which written one is not heard, so the pairing is
            # no wrong note
            notes.append(NoteVerdict(rn.index, rn.pitch, rn.bar, rn.hand, rn.onset_beat, rn.duration_beat,
                                     "unheard"))
            continue
        dev_ms = dev_b = ratio = None
        timing = duration = None
        if np.isfinite(exp_s) and np.isfinite(spb):
            first = float(cluster_time[rn.cluster])
            # a note of a rolled chord, struck as the roll goes up, is as early or late as the roll
            dev = (first if rn.cluster in rolled and 0 <= on - first <= cfg.roll_s else on) - exp_s
            dev_ms, dev_b = round(1000 * dev, 1), round(dev / spb, 3)
            if audio and restruck_within(strikes, rn.pitch, rn.onset_beat, cfg.repeat_s / spb):
                timing = None  # a trill's strikes are not told apart in a recording
            elif ref.in_free_tempo(rn.onset_beat):
                timing = None  # rit., accel., rubato: the score leaves the timing to the player
            elif abs(dev) >= cfg.timing_tolerance_s and abs(dev / spb) >= cfg.timing_tolerance_beats:
                timing = "late" if dev > 0 else "early"
            else:
                timing = "on_time"
            sound = float(perf.sounding_s[k]) if perf.sounding_s is not None else off
            beats, marks = _one_key(ref, rn)
            ratio, duration = _held_length(off - on, beats * spb, cfg, audio, sound - on, marks)
        notes.append(NoteVerdict(rn.index, rn.pitch, rn.bar, rn.hand, rn.onset_beat, rn.duration_beat, v,
                                 k, int(perf.pitch[k]), round(on, 4), round(off, 4), int(perf.velocity[k]),
                                 None if not np.isfinite(exp_s) else round(float(exp_s), 4),
                                 dev_ms, dev_b, timing, ratio, duration))

    ornaments = _ornaments(perf, notes, {k for k, _ in extra_idx}, cfg.ornament_gap_s,
                           cfg.ornament_min_gap_s) if cfg.ornament_gap_s > 0 else []
    if ornaments:
        decorating = {k for o in ornaments for k in o.played}
        extra_idx = [(k, c) for k, c in extra_idx if k not in decorating]
        ornaments = [replace(o, written=ref.notes[o.note].ornament) for o in ornaments]
        # a trilled note is held through its ornament: its key's first strike alone is short
        at = {n.index: j for j, n in enumerate(notes)}
        for o in ornaments:
            n = notes[at[o.note]]
            if n.played_onset_s is not None and n.played_offset_s is not None:
                notes[at[o.note]] = _held_again(n, n.played_onset_s, max(o.end_s, n.played_offset_s),
                                                _sounding_end(perf, o.played), cfg, audio,
                                                ref.notes[o.note].articulations)
    if cfg.grace_window_s > 0 and any(rn.grace for rn in ref.notes):
        graces = _graces(ref, perf, notes, {k for k, _ in extra_idx}, cfg, audio)
        if graces:
            taken = {k for o in graces for k in o.played}
            extra_idx = [(k, c) for k, c in extra_idx if k not in taken]
            ornaments = sorted(ornaments + graces, key=lambda o: (o.onset_s, o.note))
    # a written ornament (or grace note) played as a plain note; from a recording a trill's strikes
    # are heard a few at a time and a grace note is often merged, so there it is not said
    signs, led = decorated_notes(ornaments)
    plain = () if audio else tuple(
        n.index for n in notes if n.verdict == "correct"
        and ((ref.notes[n.index].ornament and n.index not in signs)
             or (ref.notes[n.index].grace and n.index not in led)))
    # a neighbouring key caught with a played written note: the written note it was struck with
    struck = sorted((float(perf.onset_s[int(n.played)]), int(perf.pitch[int(n.played)]), n.index)
                    for n in notes if n.played is not None and n.verdict in ("correct", "wrong_pitch"))
    s_on = np.array([x[0] for x in struck])
    extras = []
    for k, c in sorted(extra_idx):
        cc = min(max(c, 0), J - 1)
        on_k, p_k = float(perf.onset_s[k]), int(perf.pitch[k])
        lo, hi = np.searchsorted(s_on, [on_k - CAUGHT_S, on_k + CAUGHT_S])
        caught = next((i for _, q, i in struck[lo:hi] if 1 <= abs(q - p_k) <= 2), None)
        extras.append(ExtraNote(k, p_k, round(on_k, 4), round(float(perf.offset_s[k]), 4),
                                int(perf.velocity[k]), ref.clusters[cc].bar, _hand_for(ref, cc, p_k),
                                ref.clusters[cc].beat, caught))

    # the student stopped before the end
    last_played = max(played_clusters, default=-1)
    if 0 <= last_played < J - 1:
        rest = sum(len(ref.clusters[x].note_indices) for x in range(last_played + 1, J))
        if rest >= 3:
            events.append(Event("ended_early", ref.clusters[last_played].bar, None,
                                float(perf.onset_s[-1]), notes=rest))
    events.sort(key=lambda e: e.at_s)

    bars, bar_hands = _summaries(ref, notes, extras)
    spbs: dict[int, list[float]] = {}
    for i, c in enumerate(played_clusters):
        if np.isfinite(lt.seconds_per_beat[i]):
            spbs.setdefault(ref.clusters[c].bar, []).append(float(lt.seconds_per_beat[i]))
    bar_bpm = {b: round(60.0 / float(np.median(v)), 1) for b, v in spbs.items()}
    return Verdicts(tuple(notes), tuple(extras), tuple(sorted(superseded)), tuple(events), bars, bar_hands,
                    lt, cluster_time, dict(sorted(bar_bpm.items())), tuple(artefacts), tuple(ornaments),
                    plain, judge_pedal(ref, perf, cluster_time))


def _ornaments(perf: Performance, notes: list[NoteVerdict], extra: set[int], gap_s: float,
               min_gap_s: float) -> list[Ornament]:
    """The trills, mordents and turns among the extra notes: runs of extra notes that continue a
    correctly played written note's strike, forwards or backwards, each within ``gap_s`` (and no
    closer than ``min_gap_s``) of the one before and on another key than it, all within
    :data:`ORNAMENT_STEP` semitones of the written key with at most one key above and one below it,
    three notes at least, the written key struck twice at least."""
    if not extra:
        return []
    on, pitch = perf.onset_s, perf.pitch
    ek, e_on = _by_onset(perf, extra)
    taken: set[int] = set()
    out: list[Ornament] = []
    seen: set[int] = set()
    anchors = sorted((n for n in notes if n.verdict == "correct" and n.played is not None),
                     key=lambda n: (float(on[int(n.played or 0)]), n.index))
    for n in anchors:
        k0 = int(n.played or 0)
        if k0 in seen:
            continue
        seen.add(k0)
        t0, p = float(on[k0]), int(pitch[k0])
        lo, hi = np.searchsorted(e_on, [t0 - gap_s, t0 + gap_s])
        if not np.any(np.abs(pitch[ek[lo:hi]] - p) <= ORNAMENT_STEP):
            continue  # nothing to continue it with (the common case, answered quickly)
        # the played notes near the written key around it, in time order: an ornament runs through
        # extra notes only; a judged note ends it unless struck with the note before (a chord)
        band = np.flatnonzero(np.abs(pitch - p) <= ORNAMENT_STEP)
        band = band[np.argsort(on[band], kind="stable")]
        at = int(np.flatnonzero(band == k0)[0])
        chain = [k0]
        for step in (1, -1):
            j = at + step
            while 0 <= j < len(band):
                k = int(band[j])
                last = chain[-1] if step > 0 else chain[0]
                dt = abs(float(on[k]) - float(on[last]))
                if k not in extra and dt < min_gap_s:
                    j += step
                    continue
                if k not in extra or k in taken or dt > gap_s or dt < min_gap_s or pitch[k] == pitch[last]:
                    break
                if step > 0:
                    chain.append(k)
                else:
                    chain.insert(0, k)
                j += step
        ps = [int(pitch[k]) for k in chain]
        kind = ornament_kind(p, ps)
        if kind is None:
            continue
        taken.update(chain)
        out.append(Ornament(kind, n.index, n.pitch, n.bar, n.hand, round(float(on[chain[0]]), 4),
                            round(float(perf.offset_s[chain[-1]]), 4), tuple(chain), tuple(ps)))
    return out


def _by_onset(perf: Performance, notes: set[int]) -> tuple[np.ndarray, np.ndarray]:
    """The played notes ``notes`` in order of onset (then index), and their onsets."""
    k = np.array(sorted(notes, key=lambda i: (float(perf.onset_s[i]), i)), dtype=np.int64)
    return k, perf.onset_s[k]


def _graces(ref: Reference, perf: Performance, notes: list[NoteVerdict], extra: set[int],
            cfg: VerdictConfig, audio: bool) -> list[Ornament]:
    """The grace notes the score writes before notes, found among the extra notes: those of a written
    grace note's key struck within ``cfg.grace_window_s`` before its correctly played note, matched
    in the written order (a slide of several grace notes; some of them are enough). An appoggiatura
    struck on the beat, which the alignment took for its note played wrong, with the note itself
    following as an extra note within the window, is that note played right (``notes`` is mended
    in place: timed by the grace note's strike, on the beat; held from it to the note's end)."""
    if not extra:
        return []
    window_s = cfg.grace_window_s
    on, pitch = perf.onset_s, perf.pitch
    ek, e_on = _by_onset(perf, extra)
    taken: set[int] = set()
    out: list[Ornament] = []
    for j, n in enumerate(notes):
        rn = ref.notes[n.index]
        if not rn.grace or n.played is None:
            continue
        if n.verdict == "wrong_pitch" and n.played_pitch in rn.grace:
            # the appoggiatura taken for the note: the note itself comes after it
            k_g, t_g = int(n.played), float(on[int(n.played)])
            lo, hi = np.searchsorted(e_on, [t_g + 1e-6, t_g + window_s])
            k1 = next((k for k in ek[lo:hi].tolist() if k not in taken and int(pitch[k]) == rn.pitch), None)
            if k1 is None:
                continue
            off1 = float(perf.offset_s[k1])
            held = _held_again(n, t_g, off1, _sounding_end(perf, (k1,)), cfg, audio,  # from the grace note
                               rn.articulations)
            notes[j] = replace(held, verdict="correct", played=k1, played_pitch=rn.pitch,
                               played_onset_s=round(float(on[k1]), 4), played_offset_s=round(off1, 4),
                               played_velocity=int(perf.velocity[k1]))
            taken.update((k_g, k1))
            out.append(Ornament("grace", n.index, n.pitch, n.bar, n.hand, round(t_g, 4), round(off1, 4),
                                (k_g, k1), (int(pitch[k_g]), rn.pitch), "grace"))
            continue
        if n.verdict != "correct":
            continue
        k0 = int(n.played)
        t0 = float(on[k0])
        # before the note, or with it (a grace note crushed into its note)
        lo, hi = np.searchsorted(e_on, [t0 - window_s, t0 + 0.03])
        got: list[int] = []
        want_keys = list(rn.grace)
        for k in ek[lo:hi].tolist():
            if k in taken or not want_keys:
                continue
            if int(pitch[k]) in want_keys:
                # in the written order: what comes before the key found is passed over
                want_keys = want_keys[want_keys.index(int(pitch[k])) + 1:]
                got.append(k)
        if got:
            taken.update(got)
            played = tuple(got) + (k0,)
            out.append(Ornament("grace", n.index, n.pitch, n.bar, n.hand, round(float(on[got[0]]), 4),
                                round(float(perf.offset_s[k0]), 4), played,
                                tuple(int(pitch[k]) for k in played), "grace"))
    return out


def _one_key(ref: Reference, rn: RefNote) -> tuple[float, tuple[str, ...]]:
    """How long (beats) the key of ``rn`` is to be held, and with which marks: two voices writing
    the same key at once are one key on a piano, held as the longer of them, and detached
    (staccato) only when every one of them is."""
    cl = ref.clusters[rn.cluster]
    mates = [ref.notes[j] for j in cl.members[cl.pitches.index(rn.pitch)]]
    if len(mates) == 1:
        return rn.duration_beat, rn.articulations
    marks = rn.articulations
    if any(detached_fraction(m.articulations) is None for m in mates):
        marks = tuple(a for a in marks if a not in ("staccato", "staccatissimo"))
    return max(m.duration_beat for m in mates), marks


def _sounding_end(perf: Performance, played: Iterable[int]) -> float | None:
    """When the last of the played notes ``played`` stopped sounding under the sustain pedal (None:
    no pedal recorded)."""
    if perf.sounding_s is None:
        return None
    return max(float(perf.sounding_s[k]) for k in played)


def _held_again(n: NoteVerdict, start: float, key_end: float, sound_end: float | None,
                cfg: VerdictConfig, audio: bool, marks: tuple[str, ...] = ()) -> NoteVerdict:
    """``n`` with its held length judged again (:func:`_held_length`, its written articulation
    ``marks``), the key held from ``start`` to ``key_end`` and sounding to ``sound_end`` (None: to
    ``key_end``); the written length in seconds is the one of its first judgement (its held time
    over its ratio). Unchanged if it had none."""
    if not n.duration_ratio or n.played_onset_s is None or n.played_offset_s is None:
        return n
    want = (n.played_offset_s - n.played_onset_s) / n.duration_ratio
    ratio, duration = _held_length(key_end - start, want, cfg, audio,
                                   None if sound_end is None else sound_end - start, marks)
    return replace(n, duration_ratio=ratio, duration=duration)


def detached_fraction(marks: Iterable[str]) -> float | None:
    """The share of its written length that a note with these articulation marks is held
    (:data:`DETACHED_FRACTION`), or None for a note not marked detached."""
    m = set(marks)
    if "staccatissimo" in m:
        return DETACHED_FRACTION["staccatissimo"]
    if "staccato" in m:
        return DETACHED_FRACTION["portato" if "tenuto" in m else "staccato"]
    return None


def _held_length(held: float, want: float, cfg: VerdictConfig, audio: bool,
                 sounding: float | None = None, marks: tuple[str, ...] = ()) -> tuple[float, str | None]:
    """The held-to-written ratio of a note whose key was held ``held`` seconds against ``want``, and
    its duration verdict: ``too_short`` when it sounded (``sounding``: the sustain pedal may hold it
    past the key's release) less than ``short_ratio`` of its length, ``too_long`` when the key was
    held more than ``long_ratio`` of it, else ``ok``; None from a recording, whose transcribed note
    ends where its sound fades below the note model's threshold (a piano note decays; the pedal
    prolongs it), not where the key was released (the ratio is still reported). The written
    articulation ``marks`` change the measure: a detached note (staccato) is too long against
    its detached length, never too short; a tenuto note is too short below ``tenuto_ratio``."""
    ratio = round(held / want, 3)
    if audio:
        return ratio, None
    if "fermata" in marks:  # held as long as the player likes: never too long
        sound = held if sounding is None else max(held, sounding)
        return ratio, "too_short" if sound / want < cfg.short_ratio and want - sound > 0.1 else "ok"
    detached = detached_fraction(marks)
    if detached is not None:
        # the key's release is what detaches a note: the pedal does not excuse it
        if held > cfg.long_ratio * detached * want and held - detached * want > 0.08:
            return ratio, "too_long"
        return ratio, "ok"
    sound = held if sounding is None else max(held, sounding)
    if "tenuto" in marks:
        if sound / want < cfg.tenuto_ratio and want - sound > 0.08:
            return ratio, "too_short"
    elif sound / want < cfg.short_ratio and want - sound > 0.1:
        return ratio, "too_short"
    if ratio > cfg.long_ratio and held - want > 0.15:
        return ratio, "too_long"
    return ratio, "ok"


def _trill_mixup(strikes: dict[int, np.ndarray], rn: RefNote, played_pitch: int, within_beats: float) -> bool:
    """Whether written note ``rn``, answered by ``played_pitch``, is one of a trill's strikes and the
    played key is the trill's other key: both keys are written to be struck within
    ``within_beats`` of it, ``rn``'s again and again (see :func:`restruck_within`)."""
    other = strikes.get(played_pitch)
    return (other is not None and bool(np.any(np.abs(other - rn.onset_beat) <= within_beats))
            and restruck_within(strikes, rn.pitch, rn.onset_beat, within_beats))


def _key_heard_near(perf: Performance, pitch: int, t: float, repeat_s: float) -> bool:
    """Whether a played note of ``pitch`` starts within ``2 * repeat_s`` of ``t`` (a trill's or a
    fast repeated key's strikes about then; False for a time not known)."""
    return bool(np.isfinite(t) and np.any((perf.pitch == pitch) & (np.abs(perf.onset_s - t) <= 2 * repeat_s)))


def _due_s(ref: Reference, cluster: int, cluster_time: np.ndarray) -> float:
    """When ``cluster`` was played, or, where nothing of it was heard, its time interpolated
    between the chords that were (NaN with fewer than two)."""
    t = float(cluster_time[cluster])
    if np.isfinite(t):
        return t
    heard = np.flatnonzero(np.isfinite(cluster_time))
    if len(heard) < 2:
        return float("nan")
    at = [ref.clusters[h].onset_s for h in heard]
    return float(np.interp(ref.clusters[cluster].onset_s, at, cluster_time[heard]))


def _masked(ref: Reference, i: int, verdict_of: dict[int, str], low_pitch: int = 0) -> bool:
    """Whether written note ``i`` lies on a partial of a correct note of its chord, or is a deep bass
    note (below ``low_pitch``) doubled an octave, twelfth or two octaves higher by one (audio)."""
    rn = ref.notes[i]
    cl = ref.clusters[rn.cluster]
    for m in cl.members:
        for j in m:
            if verdict_of.get(j) != "correct":
                continue
            d = rn.pitch - ref.notes[j].pitch
            if d in PARTIAL_INTERVALS[:3] or (rn.pitch < low_pitch and -d in PARTIAL_INTERVALS[:3]):
                return True
    return False


def _held(perf: Performance, pitch: int, t: float, window_s: float) -> bool:
    """Whether a played note of ``pitch`` struck before ``t - window_s`` still sounds at ``t`` (a
    transcription hears a re-struck key that still rings as one long note)."""
    if not np.isfinite(t):
        return False
    same = perf.pitch == pitch
    return bool(np.any(same & (perf.onset_s < t - window_s) & (perf.offset_s > t + window_s)))


def _partials_set_aside(ref: Reference, perf: Performance, extra_idx: list[tuple[int, int]],
                        played_for: dict[int, int], window_s: float, double_s: float,
                        cluster_time: np.ndarray) -> tuple[list[tuple[int, int]], list[int]]:
    """Split the extra notes of a transcription into real extras and likely artefacts: partials of a
    played note starting together; partials or the sub-octave of a written note of a chord played
    within ``window_s`` (heard or not: the score says it sounds; ``cluster_time`` gives when each
    chord was played); re-strikes of a judged note within its written length (a held note whose
    sound a neighbour's onset lights again: the transcription's own end of the note is where its
    sound faded, not where the key was released); and second onsets of a judged note's key within
    ``double_s`` of it (one strike heard twice)."""
    judged = sorted(set(played_for.values()))
    if not judged or not extra_idx:
        return extra_idx, []
    jk = np.array(judged, dtype=np.int64)
    j_on, j_p = perf.onset_s[jk], perf.pitch[jk]
    # the written end of each judged note, in the performance's time, from its onset and the written
    # length at the pace it was played (a held note split in two by the transcription)
    held_until: dict[int, float] = {}
    for i, k in played_for.items():
        rn = ref.notes[i]
        held_until[k] = max(held_until.get(k, 0.0), float(perf.onset_s[k]) + rn.duration_beat * ref.beat_s)
    keep: list[tuple[int, int]] = []
    aside: list[int] = []
    for k, c in extra_idx:
        on, p = float(perf.onset_s[k]), int(perf.pitch[k])
        near = np.abs(j_on - on) <= window_s
        partial = bool(np.any(near & np.isin(p - j_p, PARTIAL_INTERVALS)))
        if not partial:
            written = [q for cl in np.flatnonzero(np.abs(cluster_time - on) <= window_s)
                       for q in ref.clusters[int(cl)].pitches]
            partial = any(p - q in PARTIAL_INTERVALS or q - p == 12 for q in written)
        restrike = any(j_on[n] < on - window_s
                       and held_until[int(jk[n])] > on
                       for n in np.flatnonzero(j_p == p))
        doubled = bool(np.any((j_p == p) & (np.abs(j_on - on) <= double_s)))
        if partial or restrike or doubled:
            aside.append(k)
        else:
            keep.append((k, c))
    return keep, sorted(aside)


def _summaries(ref: Reference, notes: list[NoteVerdict],
               extras: list[ExtraNote]) -> tuple[tuple[BarSummary, ...], tuple[BarSummary, ...]]:
    both = {b: BarSummary(b, "both") for b in ref.bars}
    per = {(b, h): BarSummary(b, h) for b in ref.bars for h in ref.hands}

    def add(s: BarSummary, n: NoteVerdict) -> None:
        s.notes += 1
        if n.verdict == "correct":
            s.correct += 1
        elif n.verdict == "wrong_pitch":
            s.wrong_pitch += 1
            s.wrong_played.append((n.pitch, int(n.played_pitch or 0)))
        elif n.verdict == "missed":
            s.missed += 1
        if n.timing == "early":
            s.early += 1
        elif n.timing == "late":
            s.late += 1
        if n.duration == "too_short":
            s.too_short += 1
        elif n.duration == "too_long":
            s.too_long += 1

    for n in notes:
        add(both[n.bar], n)
        add(per[(n.bar, n.hand)], n)
    for e in extras:
        if e.bar in both:
            both[e.bar].extra += 1
        if (e.bar, e.hand) in per:
            per[(e.bar, e.hand)].extra += 1
    return tuple(both.values()), tuple(per.values())


def _pace(written_s: np.ndarray, played_s: np.ndarray) -> float:
    """Played seconds per written second (the median over consecutive played moments; 1 if none)."""
    dw, dp = np.diff(written_s), np.diff(played_s)
    ok = (dw > 1e-6) & (dp > 0)
    return float(np.median(dp[ok] / dw[ok])) if ok.any() else 1.0
