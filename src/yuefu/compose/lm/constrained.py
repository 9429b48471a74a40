"""Constrained decoding: the language model writes under a plan of melody notes and chords.

Two uses share one grammar (:class:`PlanGrammar`) and one loop (:func:`generate_planned`):

* **setting lyrics** (:func:`yuefu.compose.lm.songwriter.write_melody_lm`): each lyric line is a
  :class:`LinePlan` of ``n`` syllables between a planned first onset and a planned end; the
  model chooses where the other onsets fall (and their pitches), one melody note per syllable
  and no other melody note;
* **accompanying a given melody** (:func:`yuefu.compose.lm.songwriter.accompany`): every melody
  note is fixed (a one-note line with its onset, pitch and duration), and the model writes the
  piano part around it.

Time is counted in sixteenths from the first bar line (the model's positions; 4/4 only: 16 a
bar). At every step the grammar masks the type, position, track, pitch and duration families so
that

* a melody note sounds exactly when a syllable is due: the first note at the position where the
  syllable's window closes *must* be the melody (in POP909, and so in the model's training data,
  the melody note comes first at its position);
* no melody note sounds outside a syllable's window (accompaniment notes only), and a bar line
  cannot be crossed while a syllable is still due in the bar;
* a note's duration leaves room for the line's remaining syllables (each at least ``step``
  sixteenths apart, the last one early enough for a long final note), and the line's last note
  lasts to the line's end;
* every position carries the planned chord (the chord in force at that sixteenth).

Pitches of melody notes are re-ranked by a caller's function (range, scale, lexical tones,
register, cadences: see the songwriter); accompaniment notes follow the model alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yuefu.core.errors import ParameterError

from .sampling import SamplingConfig, sample_index
from .tokens import ACTIVE, BAR, EOS, FI, HEAD_FAMILIES, NOTE, POS, CPTokenizer

__all__ = ["LinePlan", "PlanGrammar", "PlannedResult", "generate_planned", "PitchBias"]

#: ``bias(line, syllable, onset16, previous_pitch_id) -> additive logits over the pitch family``
#: (``-inf`` forbids a pitch). ``previous_pitch_id`` is the model-frame pitch id of the previous
#: melody note (0 before the first).
PitchBias = Callable[[int, int, int, int], np.ndarray]


@dataclass
class LinePlan:
    """One phrase of melody notes (a lyric line), in sixteenths from the first bar line.

    Parameters
    ----------
    start : int
        Onset of the first note.
    end : int
        End of the last note (the phrase's rest starts here).
    n : int
        Notes (syllables), >= 1.
    step : int
        Onsets fall on multiples of ``step`` sixteenths and at least ``step`` apart (1 or 2).
    last_min, last_max : int
        Window of the last note's onset (``last_max`` < ``end``).
    max_gap : int
        Longest time from one onset to the next, in sixteenths.
    fixed : list of (onset, pitch_id, duration_id, velocity_id), optional
        The notes themselves (model ids): the line is given, not chosen.
    copy_of : int, optional
        Index of an earlier line of as many notes whose notes this one repeats ``shift``
        sixteenths later (a chorus sung again to the same words), when they fit in this line.
    shift : int
    """

    start: int
    end: int
    n: int
    step: int = 1
    last_min: int = 0
    last_max: int = 0
    max_gap: int = 16
    fixed: list[tuple[int, int, int, int]] | None = None
    copy_of: int | None = None
    shift: int = 0

    def __post_init__(self) -> None:
        if self.n < 1 or self.step < 1 or self.end <= self.start:
            raise ParameterError(f"a melody line needs n >= 1 notes in a span, got n={self.n}, "
                                 f"{self.start}..{self.end}")
        if self.fixed is not None and len(self.fixed) != self.n:
            raise ParameterError("a fixed line needs one note per syllable")
        if self.n == 1:
            self.last_min = self.last_max = self.start
        if not self.start + (self.n - 1) * self.step <= self.last_max < self.end:
            raise ParameterError(f"{self.n} notes do not fit between {self.start} and {self.last_max} "
                                 f"(every {self.step} sixteenths)")
        self.last_min = min(max(self.last_min, self.start), self.last_max,
                            self.start + (self.n - 1) * self.max_gap)


@dataclass
class PlannedResult:
    """What :func:`generate_planned` wrote."""

    rows: np.ndarray  # (n, N_FAMILIES), starting with a BAR row
    melody: list[tuple[int, int, int]]  # (line, syllable, onset16) of each melody note, in order
    bars: int
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


class PlanGrammar:
    """The masks of :func:`generate_planned` (see the module docstring).

    Parameters
    ----------
    tok : CPTokenizer
    lines : sequence of LinePlan
        In time order, not overlapping.
    chords : np.ndarray [shape=(bars * 16,), dtype=int]
        Chord-family id in force at every sixteenth (0: free).
    bars : int
        Bars to write.
    accompaniment : bool
        Let the model write its piano part around the melody (else positions only where the
        melody has notes).
    pitch_bias : PitchBias, optional
        Re-ranks melody pitches (add to the logits); default: the melody track's pitch range.
    max_notes_per_position : int
    accompaniment_pitch : (int, int), optional
        Lowest and highest pitch-family *value* (model frame) of accompaniment notes; default:
        the tokenizer's accompaniment range.
    """

    PPB = 16

    def __init__(self, tok: CPTokenizer, lines: Sequence[LinePlan], chords: np.ndarray, *, bars: int,
                 accompaniment: bool = True, pitch_bias: PitchBias | None = None,
                 max_notes_per_position: int = 10, accompaniment_pitch: tuple[int, int] | None = None):
        self.tok = tok
        self.lines = list(lines)
        for a, b in zip(self.lines, self.lines[1:], strict=False):
            if b.start < a.end:
                raise ParameterError(f"melody lines overlap ({a.start}..{a.end} and {b.start}..{b.end})")
        if self.lines and self.lines[-1].end > bars * self.PPB:
            raise ParameterError(f"the melody ends after the {bars} bars asked for")
        self.chords = np.asarray(chords, dtype=np.int64)
        if self.chords.shape != (bars * self.PPB,):
            raise ParameterError(f"chords: expected one id per sixteenth ({bars * self.PPB}), "
                                 f"got {self.chords.shape}")
        self.bars = bars
        self.accompaniment = accompaniment
        self.pitch_bias = pitch_bias
        self.max_notes = max_notes_per_position
        self.sizes = {f: len(tok.vocab[f]) for f in HEAD_FAMILIES}
        self.pos_val = np.array([-1] + [int(x.split("_")[1]) for x in tok.vocab["position"][1:]])
        self.dur16 = tok.duration16_of
        lo, hi = accompaniment_pitch or tok.settings.track_pitch["accompaniment"]
        self.acc_pitch = (tok.pitch_of >= lo) & (tok.pitch_of <= hi) & (np.arange(tok.pitch_of.size) > 0)
        lo, hi = tok.settings.track_pitch["melody"]
        self.mel_pitch = (tok.pitch_of >= lo) & (tok.pitch_of <= hi) & (np.arange(tok.pitch_of.size) > 0)
        # state
        self.bar = -1
        self.bar_pos = -1
        self.last_type = -1
        self.notes_here = 0
        self.melody_here = False
        self.used_here: list[int] = []  # accompaniment pitch ids at the current position
        self.li = 0  # current line
        self.si = 0  # next syllable in it
        self.prev_on = -1  # onset of the previous melody note of the line
        self.prev_dur = 0
        self.prev_pitch = 0
        self.melody: list[tuple[int, int, int]] = []
        self.notes_of: list[list[tuple[int, int, int, int]]] = [[] for _ in self.lines]
        self._enter_line()

    def _enter_line(self) -> None:
        """Resolve a line that repeats an earlier one into fixed notes (if they fit)."""
        if self.li >= len(self.lines):
            return
        ln = self.lines[self.li]
        if ln.copy_of is None or ln.fixed is not None:
            return
        src = self.notes_of[ln.copy_of] if 0 <= ln.copy_of < self.li else []
        notes = [(on + ln.shift, p, d, v) for on, p, d, v in src]
        if len(notes) != ln.n or notes[0][0] != ln.start or notes[-1][0] >= ln.end:
            return  # does not fit: the model writes this line afresh
        on, p, _, v = notes[-1]
        fits = np.flatnonzero((self.dur16 <= ln.end - on) & (np.arange(self.dur16.size) > 0))
        notes[-1] = (on, p, int(fits[-1]) if fits.size else 1, v)
        ln.fixed = notes

    # -- where the next melody note may fall ------------------------------------------------
    def due(self) -> tuple[int, int] | None:
        """(earliest, latest) onset of the next melody note, or None when the melody is done."""
        if self.li >= len(self.lines):
            return None
        ln = self.lines[self.li]
        if ln.fixed is not None:
            on = ln.fixed[self.si][0]
            return on, on
        if self.si == 0:
            return ln.start, ln.start
        r = ln.n - 1 - self.si  # notes after this one
        step = ln.step
        lo = self.prev_on + max(step, -(-self.prev_dur // step) * step)
        lo = max(lo, ln.last_min - r * ln.max_gap)
        hi = min(self.prev_on + ln.max_gap, ln.last_max - r * step)
        lo = -(-lo // step) * step
        hi = (hi // step) * step
        if lo > hi:  # cannot happen when the durations were masked; a safety net
            lo = hi = max(self.prev_on + step, min(hi, ln.last_max))
        return lo, hi

    def _now(self) -> int:
        return self.bar * self.PPB + self.bar_pos

    # -- masks --------------------------------------------------------------------------------
    def allowed_types(self) -> np.ndarray:
        a = np.zeros(self.sizes["type"], dtype=bool)
        due = self.due()
        next_bar = (self.bar + 1) * self.PPB
        lt = self.last_type
        if lt not in (BAR, POS, NOTE):
            a[BAR] = True
            return a
        bar_ok = due is None or due[1] >= next_bar
        if lt == POS:
            a[NOTE] = True
            return a
        if lt == NOTE:
            a[NOTE] = self.notes_here < self.max_notes and self.accompaniment and not (
                due is not None and due[1] == self._now() and not self.melody_here)
        a[BAR] = bar_ok
        a[POS] = self._positions().any()
        if not a.any():  # cannot happen with a feasible plan
            a[BAR] = True
        return a

    def _positions(self) -> np.ndarray:
        p = self.pos_val
        ok = (p > self.bar_pos) & (p < self.PPB)
        due = self.due()
        t = self.bar * self.PPB + p
        if due is not None:
            ok &= t <= due[1]
        if not self.accompaniment:  # positions only where a melody note may fall
            if due is None:
                return np.zeros_like(ok)
            step = self.lines[self.li].step
            ok &= (t >= due[0]) & ((t - due[0]) % step == 0)
        return ok

    def allowed(self, family: str, chosen: dict[str, int]) -> np.ndarray:
        n = self.sizes[family]
        if family == "position":
            return self._positions()
        if family == "chord":
            a = np.zeros(n, dtype=bool)
            pos = int(self.pos_val[chosen["position"]])
            cid = int(self.chords[self.bar * self.PPB + pos])
            if cid > 0:
                a[cid] = True
            else:
                a[1:] = True
            return a
        if family == "track":
            a = np.zeros(n, dtype=bool)
            due = self.due()
            now = self._now()
            first = self.notes_here == 0
            mel_ok = (first and due is not None and due[0] <= now <= due[1]
                      and (now - due[0]) % self._step() == 0)
            a[1] = mel_ok
            a[2] = self.accompaniment and not (mel_ok and due is not None and now == due[1])
            if not a.any():
                a[2] = True
            return a
        if family == "pitch":
            if chosen["track"] == 2:
                if self.used_here:  # no pitch twice at one onset
                    a = self.acc_pitch.copy()
                    a[self.used_here] = False
                    return a if a.any() else self.acc_pitch
                return self.acc_pitch
            fixed = self._fixed()
            if fixed is not None:
                a = np.zeros(n, dtype=bool)
                a[fixed[1]] = True
                return a
            if self.pitch_bias is None:
                return self.mel_pitch
            return np.isfinite(self._bias())
        if family == "duration":
            a = np.ones(n, dtype=bool)
            a[0] = False
            if chosen["track"] == 1:
                fixed = self._fixed()
                if fixed is not None:
                    a[:] = False
                    a[fixed[2]] = True
                    return a
                ln = self.lines[self.li]
                now = self._now()
                if self.si == ln.n - 1:  # the last note lasts to the line's end
                    want = ln.end - now
                    fits = np.flatnonzero(a & (self.dur16 <= want))
                    a[:] = False
                    a[fits[-1] if fits.size else 1] = True
                else:
                    r = ln.n - 2 - self.si  # notes after the next one
                    room = ln.last_max - r * ln.step - now
                    step = ln.step
                    ceil = -(-self.dur16 // step) * step
                    a &= (ceil <= room) & (self.dur16 <= ln.max_gap)
                    if not a[1:].any():
                        a[1] = True
            return a
        if family == "velocity":
            a = np.ones(n, dtype=bool)
            a[0] = False
            if chosen.get("track") == 1:
                fixed = self._fixed()
                if fixed is not None:
                    a[:] = False
                    a[fixed[3]] = True
            return a
        a = np.ones(n, dtype=bool)
        a[0] = False
        return a

    def bias(self, family: str, chosen: dict[str, int]) -> np.ndarray | None:
        """Additive logits for ``family`` (melody pitches only), or None."""
        if family == "pitch" and chosen.get("track") == 1 and self.pitch_bias is not None \
                and self._fixed() is None:
            b = self._bias()
            return np.where(np.isfinite(b), b, 0.0)
        return None

    def _bias(self) -> np.ndarray:
        assert self.pitch_bias is not None
        return self.pitch_bias(self.li, self.si, self._now(), self.prev_pitch)

    def _step(self) -> int:
        return self.lines[self.li].step if self.li < len(self.lines) else 1

    def _fixed(self) -> tuple[int, int, int, int] | None:
        if self.li >= len(self.lines):
            return None
        f = self.lines[self.li].fixed
        return f[self.si] if f is not None else None

    # -- state --------------------------------------------------------------------------------
    def advance(self, row: np.ndarray) -> None:
        t = int(row[0])
        if t in (BAR, POS):
            self.bar += t == BAR
            self.bar_pos = int(self.pos_val[int(row[FI["position"]])]) if t == POS else -1
            self.notes_here = 0
            self.melody_here = False
            self.used_here = []
        elif t == NOTE:
            self.notes_here += 1
            if int(row[FI["track"]]) == 2:
                self.used_here.append(int(row[FI["pitch"]]))
            if int(row[FI["track"]]) == 1:
                self.melody_here = True
                now = self._now()
                self.melody.append((self.li, self.si, now))
                self.prev_on = now
                self.prev_dur = int(self.dur16[int(row[FI["duration"]])])
                self.prev_pitch = int(row[FI["pitch"]])
                self.notes_of[self.li].append((now, self.prev_pitch, int(row[FI["duration"]]),
                                               int(row[FI["velocity"]])))
                self.si += 1
                if self.si >= self.lines[self.li].n:
                    self.li += 1
                    self.si = 0
                    self._enter_line()
        self.last_type = t


def generate_planned(model: Any, tok: CPTokenizer, prompt_rows: np.ndarray, grammar: PlanGrammar, *,
                     sampling: SamplingConfig | None = None, rng: np.random.Generator | None = None,
                     max_rows: int | None = None) -> PlannedResult:
    """Sample rows after ``prompt_rows`` (the COND row) under ``grammar`` until its bars are written.

    Every draw comes from ``rng``; forced tokens (a mask with one id) draw nothing, so the same
    seed and plan give the same rows. PyTorch runs on one thread meanwhile (as in
    :func:`~yuefu.compose.lm.sampling.generate`).

    Raises
    ------
    ParameterError
        The melody could not be placed (a plan the grammar cannot follow), or ``max_rows`` ran out.
    """
    import time

    import torch

    from .model import Decoder

    sampling = sampling or SamplingConfig()
    rng = rng or np.random.default_rng(0)
    max_rows = max_rows or 120 * grammar.bars + 64
    t0 = time.perf_counter()
    dec = Decoder(model.eval())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows: list[np.ndarray] = []
    penalty = sampling.repetition_penalty
    recent: list[int] = []
    try:
        with torch.inference_mode():
            h = dec.prefill(torch.as_tensor(np.asarray(prompt_rows, dtype=np.int64)))
            while len(rows) < max_rows:
                allowed = grammar.allowed_types()
                t = sample_index(dec.head(0, h).numpy(), allowed, temperature=sampling.temperature_of("type"),
                                 top_p=sampling.top_p_of("type"), rng=rng)
                if t == BAR and grammar.bar + 1 >= grammar.bars:
                    break
                if t == EOS:  # never allowed; a guard
                    break
                row = np.zeros(len(tok.sizes), dtype=np.int64)
                row[0] = t
                chosen: dict[str, int] = {"type": t}
                act = ACTIVE[t]
                last = max((k for k, f in enumerate(HEAD_FAMILIES) if f in act), default=0)
                z = dec.chained(h, 0, t) if last else h
                for k, fam in enumerate(HEAD_FAMILIES[1:last + 1], start=1):
                    v = 0
                    if fam in act:
                        mask = grammar.allowed(fam, chosen)
                        if np.count_nonzero(mask) == 1:
                            v = int(np.flatnonzero(mask)[0])
                        else:
                            logits = dec.head(k, z).numpy().astype(np.float64)
                            b = grammar.bias(fam, chosen)
                            if b is not None:
                                logits = logits + b
                            if fam == "pitch" and penalty > 1.0 and chosen["track"] == 2 and recent:
                                u = np.array(sorted(set(recent[-sampling.repetition_window:])))
                                logits[u] = np.where(logits[u] > 0, logits[u] / penalty, logits[u] * penalty)
                            v = sample_index(logits, mask, temperature=sampling.temperature_of(fam),
                                             top_p=sampling.top_p_of(fam), rng=rng)
                    chosen[fam] = v
                    row[FI[fam]] = v
                    if k < last:
                        z = dec.chained(z, k, v)
                if t == NOTE and row[FI["track"]] == 2:
                    recent.append(int(row[FI["pitch"]]))
                grammar.advance(row)
                rows.append(row)
                h = dec.step(torch.from_numpy(row))
    finally:
        torch.set_num_threads(threads)
    placed = len(grammar.melody)
    wanted = sum(ln.n for ln in grammar.lines)
    if placed != wanted:
        raise ParameterError(f"the model placed {placed} of {wanted} melody notes"
                             + (f" before the {max_rows}-token cap" if len(rows) >= max_rows else ""))
    out = np.stack(rows) if rows else np.zeros((0, len(tok.sizes)), dtype=np.int64)
    return PlannedResult(out, list(grammar.melody), grammar.bar + 1, time.perf_counter() - t0)
