"""Performances with known errors, for benchmarking the practice partner (and the transcriber).

:func:`inject_errors` plays a score the way a student might: at another tempo that drifts, with
timing jitter, wrong notes, omitted notes, inserted notes, pauses, a restarted passage and a
skipped bar, each at a given rate, and returns the played notes with the ground truth of every
error. Every random choice comes from the ``numpy.random.Generator`` given.

>>> import numpy as np
>>> from yuefu.core import Note, Score, Track
>>> s = Score(); t = s.add_track(Track("piano"))
>>> t.notes += [Note(60 + i % 8, i * 0.5, 0.5) for i in range(64)]
>>> p = inject_errors(s, 0.1, np.random.default_rng(0))
>>> len(p.wrong) > 0 and len(p.missed) > 0 and len(p.extra) > 0
True
>>> clean = inject_errors(s, 0.0, np.random.default_rng(0))
>>> (clean.wrong, clean.missed, clean.extra, clean.restarts, clean.pauses)
({}, set(), [], [], [])

Ground truth conventions (the ones :mod:`yuefu.teach` reports):

* ``wrong``: score note index -> the pitch played instead (1 or 2 semitones off, or an octave off:
  a hand in the wrong octave; drawn evenly from those of -12, -2, -1, +1, +2, +12 that are not a
  pitch of the same chord);
* ``missed``: score note indices not played (omissions and the notes of a skipped bar);
* ``extra``: indices into ``rows`` of inserted notes (3 to 5 semitones from a neighbour, between
  two score moments);
* ``restarts``: (bar broken off in, bar gone back to); the abandoned first attempt is played
  cleanly and is not an error, the last pass is judged (a note it omits is missed, even though
  the abandoned attempt played it); ``pauses``: bars before which the student paused (beyond the pulse);
  ``skipped_bars``.

Score note indices are those of :func:`yuefu.teach.build_reference` (notes sorted by onset, then
pitch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yuefu.core import Note, Score, Tempo, TimeSignature, Track
from yuefu.teach import build_reference

__all__ = ["InjectedPerformance", "inject_errors", "seeded_take", "crop_score", "add_ornaments", "RATES"]

#: The error rates of the benchmark.
RATES = (0.0, 0.02, 0.05, 0.1, 0.2)

Row = tuple[int, float, float, int]


@dataclass
class InjectedPerformance:
    """Played notes and what went wrong in them."""

    rows: list[Row]
    rate: float
    wrong: dict[int, int] = field(default_factory=dict)
    missed: set[int] = field(default_factory=set)
    extra: list[int] = field(default_factory=list)
    restarts: list[tuple[int, int]] = field(default_factory=list)
    pauses: list[int] = field(default_factory=list)
    skipped_bars: list[int] = field(default_factory=list)
    tempo_scale: float = 1.0
    drift: float = 0.0
    source: list[int] = field(default_factory=list)  # per row: the score note played (-1: inserted)
    # trills, mordents and turns added by add_ornaments: (kind, score note, rows of the ornament
    # after the written strike)
    ornaments: list[tuple[str, int, list[int]]] = field(default_factory=list)

    def to_score(self) -> Score:
        """The performance as a one-track MIDI-ready score at 120 BPM (beats = 2 x seconds)."""
        s = Score(tempos=[Tempo(0, 120)])
        t = s.add_track(Track("piano", program=0))
        for p, a, b, v in self.rows:
            t.notes.append(Note(int(p), 2 * a, max(2 * (b - a), 0.01), int(v)))
        return s.normalize()


def crop_score(score: Score, bars: int, *, tracks: tuple[str, ...] | None = None) -> Score:
    """The first ``bars`` bars (from the bar of the first note) of the chosen tracks of a score."""
    keep = [t for t in score.tracks if not t.is_drum and t.notes and (tracks is None or t.name in tracks)]
    first = min(n.onset for t in keep for n in t.notes)
    b0 = score.bar_of(first)
    out = Score(tempos=list(score.tempos), time_signatures=list(score.time_signatures) or [TimeSignature(0)],
                title=score.title)
    for t in keep:
        nt = out.add_track(Track(t.name, program=t.program))
        nt.notes = [Note(n.pitch, n.onset, n.duration, n.velocity) for n in t.notes
                    if b0 <= score.bar_of(n.onset) < b0 + bars]
    out.tracks = [t for t in out.tracks if t.notes]
    return out.normalize()


def seeded_take(score: Score, piece: int, rate_index: int) -> InjectedPerformance:
    """The benchmark's take of ``score`` (piece number ``piece``) at ``RATES[rate_index]``: the same
    errors wherever it is played (MIDI, audio, live, training), from the seed
    ``1000 * piece + rate_index``."""
    return inject_errors(score, RATES[rate_index], np.random.default_rng(1000 * piece + rate_index))


def inject_errors(score: Score, rate: float, rng: np.random.Generator, *, restart: bool | None = None,
                  skip_bar: bool | None = None) -> InjectedPerformance:
    """Play ``score`` with errors at ``rate`` (0: a clean rendition at the score's own tempo).

    Parameters
    ----------
    score : Score
    rate : float
        Each score note is played wrong, omitted, or followed by an inserted note with probability
        ``rate / 3`` each; timing jitter has a standard deviation of ``rate * 0.25`` beat; the tempo
        drifts by up to ``+-2 * rate`` over the piece; about ``0.8 * rate`` pauses per bar
        (one in 12 bars at rate 0.1), each 1 to 2.5 s.
    restart, skip_bar : bool, optional
        Add a restarted passage / a skipped bar (default: when ``rate >= 0.05`` / ``>= 0.1``). The
        skipped bar is one whose first moment differs from the one after it and whose last moment
        differs from the one before it (where the piece has such a bar): otherwise the same notes
        would come out of skipping a span one moment later or earlier, and the truth would be a
        coin toss.
    """
    ref = build_reference(score)
    notes = ref.notes
    n_bars = ref.n_bars
    out = InjectedPerformance([], rate)
    if restart is None:
        restart = rate >= 0.05 and n_bars >= 6
    if skip_bar is None:
        skip_bar = rate >= 0.1 and n_bars >= 8
    spb = ref.beat_s
    out.tempo_scale = float(rng.uniform(0.8, 1.25)) if rate > 0 else 1.0
    out.drift = float(rng.uniform(-2 * rate, 2 * rate))
    total = max(n.onset_s for n in notes) + 1e-9

    def warp(t: float) -> float:  # seconds in the score -> seconds played (scaled, drifting)
        return out.tempo_scale * t * (1 + out.drift * t / (2 * total))

    bars = sorted({n.bar for n in notes})
    pause_bars: set[int] = set()
    if rate > 0:
        k = int(round(rate * len(bars) * 0.8))
        cands = [b for b in bars[2:]]
        if k and cands:
            pause_bars = set(rng.choice(cands, size=min(k, len(cands)), replace=False).tolist())
    skipped: int | None = None
    if skip_bar and len(bars) > 6:
        # a bar that can be told from its neighbours: when bar b begins like the music after it
        # (or ends like the music before it), leaving out b and leaving out the same span one moment
        # later (earlier) give the same notes at the same times -- no one could say which was skipped
        cl = ref.clusters

        def distinct(b: int) -> bool:
            idx = [c.index for c in cl if c.bar == b]
            if not idx or idx[0] == 0 or idx[-1] + 1 >= len(cl):
                return False
            return (cl[idx[0]].pitches != cl[idx[-1] + 1].pitches
                    and cl[idx[0] - 1].pitches != cl[idx[-1]].pitches)

        cands = [b for b in bars[3:-3] if distinct(b)] or bars[3:-3]
        skipped = int(rng.choice(cands))
    restart_at: tuple[int, int] | None = None
    if restart:
        r = int(rng.choice(bars[3:-2])) if len(bars) > 5 else None
        if r is not None and r != skipped and (skipped is None or abs(r - skipped) > 2):
            back = int(rng.choice([1, 2]))
            restart_at = (r, max(bars[0], r - back))

    # onset of each cluster as played (before pauses and restarts)
    clusters = ref.clusters
    cl_time = np.array([warp(c.onset_s) for c in clusters])
    if rate > 0:
        cl_time = cl_time + rng.normal(0, rate * 0.25 * spb * out.tempo_scale, size=len(clusters))
    cl_time = np.maximum.accumulate(np.maximum(cl_time, 0) + np.arange(len(cl_time)) * 1e-6)

    # shifts: pauses add time, a skipped bar removes its time
    shift = np.zeros(len(clusters))
    offset = 0.0
    for i, c in enumerate(clusters):
        if i and c.bar != clusters[i - 1].bar:
            if c.bar in pause_bars:
                offset += float(rng.uniform(1.0, 2.5))
                out.pauses.append(c.bar)
            if skipped is not None and clusters[i - 1].bar == skipped:
                first_of_skip = next(j for j, x in enumerate(clusters) if x.bar == skipped)
                offset -= cl_time[i] - cl_time[first_of_skip]
        shift[i] = offset
    play_t = cl_time + shift
    if skipped is not None:
        out.skipped_bars.append(skipped)

    def note_rows(n_idx: int, t0: float, *, clean: bool) -> list[tuple[Row, str, int]]:
        n = notes[n_idx]
        dur = max(0.05, warp(n.onset_s + n.duration_s) - warp(n.onset_s)) * 0.95
        on = t0 + (float(rng.normal(0, 0.006)) if rate > 0 else 0.0)
        on = max(0.0, on)
        vel = int(np.clip(n.velocity + (rng.normal(0, 8 * rate) if rate > 0 else 0), 1, 127))
        if clean or rate == 0:
            return [((n.pitch, on, on + dur, vel), "ok", n_idx)]
        u = rng.random()
        chord = set(clusters[n.cluster].pitches)
        if u < rate / 3:
            cands = [n.pitch + d for d in (-12, -2, -1, 1, 2, 12)
                     if 21 <= n.pitch + d <= 108 and n.pitch + d not in chord]
            q = int(rng.choice(cands))
            return [((q, on, on + dur, vel), "wrong", n_idx)]
        if u < 2 * rate / 3:
            return []
        res = [((n.pitch, on, on + dur, vel), "ok", n_idx)]
        if u > 1 - rate / 3:
            nxt = clusters[n.cluster + 1] if n.cluster + 1 < len(clusters) else None
            gap = (play_t[n.cluster + 1] - play_t[n.cluster]) if nxt is not None else 0.4
            if gap > 0.12:
                near = set(chord) | (set(nxt.pitches) if nxt is not None else set())
                cands = [n.pitch + d for d in (-5, -4, -3, 3, 4, 5) if 21 <= n.pitch + d <= 108
                         and n.pitch + d not in near]
                q = int(rng.choice(cands))
                at = on + float(rng.uniform(0.3, 0.6)) * gap
                res.append(((q, at, at + min(dur, 0.4 * gap), vel), "extra", -1))
        return res

    # a unison (two voices on one key at once) is one key stroke: play the first note of each
    # (cluster, pitch) and let the others share its fate
    first_of: dict[tuple[int, int], int] = {}
    for i, n in enumerate(notes):
        first_of.setdefault((n.cluster, n.pitch), i)
    twin = {i: first_of[(n.cluster, n.pitch)] for i, n in enumerate(notes)}
    events: list[tuple[Row, str, int]] = []
    for i, n in enumerate(notes):
        if skipped is not None and n.bar == skipped:
            out.missed.add(i)
            continue
        if twin[i] != i:
            continue
        events += note_rows(i, float(play_t[n.cluster]), clean=False)
    if restart_at is not None:
        r, back = restart_at
        # the first attempt plays bars back..r cleanly, then a pause, then the final pass from `back`
        first_idx = [i for i, n in enumerate(notes) if back <= n.bar <= r]
        start_c = notes[first_idx[0]].cluster
        end_next = next((c.index for c in clusters if c.bar > r), len(clusters) - 1)
        span = play_t[end_next] - play_t[start_c]
        pause = float(rng.uniform(0.4, 1.0))
        attempt = []
        for i in first_idx:
            if twin[i] == i:
                attempt += [(row, "attempt", idx)
                            for row, _, idx in note_rows(i, float(play_t[notes[i].cluster]), clean=True)]
        moved = []
        for row, kind, idx in events:
            if row[1] >= play_t[start_c] - 1e-6 - 0.05:
                p, a, b, v = row
                row = (p, a + span + pause, b + span + pause, v)
            moved.append((row, kind, idx))
        events = attempt + moved
        out.restarts.append(restart_at)
    events.sort(key=lambda e: (e[0][1], e[0][0]))
    for row, kind, idx in events:
        if kind == "wrong":
            out.wrong[idx] = row[0]
        elif kind == "extra":
            out.extra.append(len(out.rows))
        out.rows.append(row)
        out.source.append(idx)
    for i, j in twin.items():
        if i != j and j in out.wrong:
            out.wrong[i] = out.wrong[j]
    # the last pass is judged: a note omitted there is missed even if the abandoned attempt had it
    played = {i for i, j in twin.items()
              if j in {idx for _, kind, idx in events if kind in ("ok", "wrong")}}
    out.missed |= {i for i in range(len(notes)) if i not in played}
    return out


#: The ornaments :func:`add_ornaments` plays, in turn: (kind, offsets of the keys after the written
#: strike: +1 the upper auxiliary, -1 the lower, 0 the written key).
ORNAMENT_SHAPES = (("mordent", (1, 0)), ("trill", (1, 0) * 6), ("turn", (1, 0, -1, 0)))


def add_ornaments(take: InjectedPerformance, rng: np.random.Generator, *, most: int = 3,
                  step_s: float = 0.075) -> InjectedPerformance:
    """``take`` with a mordent, a trill and a turn (up to ``most``, in that order) played on written
    notes: after the written strike, the upper auxiliary (a tone or a semitone up), the written key,
    and so on, ``step_s`` apart (a trill of 13 notes a second; a trill stops before the note ends).

    Chosen among the notes played once and correctly that sound at least 0.35 s, with no other
    played note within two semitones from 0.2 s before them to 0.2 s after they end (so the
    ornament is the only thing there on those keys), and 0.3 s or more apart from one another (one
    ornament at a time). The written strike is cut short where the ornament's first note comes.
    Rows are re-sorted, every index of the truth moved with them."""
    rows = list(take.rows)
    once = {i for i in set(take.source) if i >= 0 and take.source.count(i) == 1}
    P = np.array([r[0] for r in rows])
    on = np.array([r[1] for r in rows])
    off = np.array([r[2] for r in rows])
    fit = []
    for k, i in enumerate(take.source):
        if i not in once or i in take.wrong or off[k] - on[k] < 0.35:
            continue
        near = (np.abs(P - P[k]) <= 2) & (on >= on[k] - 0.2) & (on <= off[k] + 0.2)
        if near.sum() == 1:
            fit.append(k)
    chosen: list[int] = []
    for k in rng.permutation(fit).tolist() if fit else []:
        # one ornament at a time: two keys trilled at once (a trill in thirds) is another figure
        if len(chosen) < most and all(on[k] > off[c] + 0.3 or off[k] < on[c] - 0.3 for c in chosen):
            chosen.append(int(k))
    chosen.sort()
    added: list[tuple[tuple[int, float, float, int], int]] = []  # (row, ornament number)
    kinds = []
    for n, k in enumerate(chosen):
        kind, shape = ORNAMENT_SHAPES[n % len(ORNAMENT_SHAPES)]
        p, a, b, v = rows[k]
        up, down = p + int(rng.choice([1, 2])), p - int(rng.choice([1, 2]))
        times = [a + step_s * (j + 1) for j in range(len(shape))]
        keep = [j for j, t in enumerate(times) if t + step_s <= b]
        if len(keep) < len(shape) and kind != "trill":
            continue
        if kind == "trill":
            keep = keep[: len(keep) - len(keep) % 2]  # end on the written key
            if len(keep) < 4:
                continue
        rows[k] = (p, a, times[0] - 0.005, v)
        for j in keep:
            q = {1: up, 0: p, -1: down}[shape[j]]
            end = times[j + 1] - 0.005 if j + 1 < len(times) else b
            added.append(((q, times[j], min(end, b), max(1, v - 10)), n))
        kinds.append((n, kind, take.source[k]))
    # re-sort and carry the truth's row indices along
    all_rows = [(r, ("take", k)) for k, r in enumerate(rows)] + [(r, ("orn", n)) for r, n in added]
    order = sorted(range(len(all_rows)), key=lambda j: (all_rows[j][0][1], all_rows[j][0][0]))
    new_of = {}
    out = InjectedPerformance([], take.rate, dict(take.wrong), set(take.missed), [], list(take.restarts),
                              list(take.pauses), list(take.skipped_bars), take.tempo_scale, take.drift)
    members: dict[int, list[int]] = {}
    for new, j in enumerate(order):
        r, (what, k) = all_rows[j]
        out.rows.append(r)
        if what == "take":
            new_of[k] = new
            out.source.append(take.source[k])
        else:
            out.source.append(-1)
            members.setdefault(k, []).append(new)
    out.extra = [new_of[k] for k in take.extra]
    out.ornaments = [(kind, note, members.get(n, [])) for n, kind, note in kinds]
    return out
