"""Sampling from the compound-word model: per-family temperature and top-p, repetition control,
and a grammar that masks every token combination that could not be decoded into sound MIDI.

The grammar (:class:`Grammar`) allows, after

* the COND row (or a continuation's prompt): a BAR only;
* a BAR: another BAR (an empty bar), a POS, or EOS;
* a POS: a NOTE;
* a NOTE: a NOTE (at most ``max_notes_per_position`` per position), a later POS in the same
  bar, a BAR or EOS.

A POS carries a position strictly after the last one in its bar and inside the bar (16 in 4/4,
12 in 3/4), and a chord (forced where a bar-level chord constraint is given); a NOTE carries a
track from those asked for (at most one melody note per position), a pitch inside that track's
range, a duration and a velocity. Families a type does not use are never sampled. Generation
stops at EOS (only allowed once the asked-for bars are written) or when a BAR would start the
bar after the last one asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yuefu.core.errors import ParameterError

from .tokens import ACTIVE, BAR, COND, EOS, FI, HEAD_FAMILIES, NOTE, POS, TRACKS, CPTokenizer

__all__ = ["SamplingConfig", "Grammar", "GenerationResult", "generate", "sample_index", "chord_grid",
           "SCALE_PCS", "CHORD_STRENGTH"]

#: nats a chord of ``chord_period_bars`` earlier gains by default in a new piece (measured:
#: ``benchmarks/compose.py``).
CHORD_STRENGTH = 2.0
#: The pitch classes of the model's frame (C major / A natural minor): what ``key_strength`` keeps.
SCALE_PCS = (0, 2, 4, 5, 7, 9, 11)


@dataclass(frozen=True)
class SamplingConfig:
    """How to draw each step.

    Parameters
    ----------
    temperature, top_p : float
        Defaults for every family (temperature > 0; 0 < top_p <= 1).
    temperatures, top_ps : mapping of str -> float
        Per-family overrides, e.g. ``{"pitch": 0.8, "duration": 1.1}`` (families:
        type, position, chord, track, pitch, duration, velocity).
    repetition_penalty : float
        >= 1; divides the (positive) logits of pitches the same track played in its last
        ``repetition_window`` notes (CTRL-style); 1 turns it off.
    max_repeat_bars : int
        A bar that would make more than this many identical bars in a row is drawn again (up to
        ``max_retries`` times); 0 turns it off.
    max_notes_per_position : int
        Cap on notes at one onset (all tracks together).
    key_strength : float
        >= 0 nats taken off the logit of every pitch outside the key's scale (in the model's
        frame, C major / A minor: the seven white keys, unless ``generate`` is given other
        pitch classes); 0 turns it off. At 2 an out-of-scale pitch is e^2 = 7.4 times less
        likely than the model says; a large value (20) keeps every note in the scale.
    chord_period_bars : int
        Chord repetition: the chord at a position of bar ``b`` is pulled towards the chord in
        force at the same position of bar ``b - chord_period_bars`` (the prompt's bars count, so a
        continuation cycles its prompt's progression); 0 turns it off. Bar-level chord
        constraints (``chords=``) win over it.
    chord_strength : float, optional
        > 0 nats added to the logit of that chord; ``math.inf`` forces it. None: the caller's
        default (:data:`CHORD_STRENGTH` for a new piece; :func:`~yuefu.compose.continue_score`
        forces its prompt's progression).
    """

    temperature: float = 1.0
    top_p: float = 0.95
    temperatures: Mapping[str, float] = field(default_factory=dict)
    top_ps: Mapping[str, float] = field(default_factory=dict)
    repetition_penalty: float = 1.0
    repetition_window: int = 16
    max_repeat_bars: int = 2
    max_retries: int = 4
    max_notes_per_position: int = 10
    key_strength: float = 0.0
    chord_period_bars: int = 8
    chord_strength: float | None = None

    def __post_init__(self) -> None:
        for name, t in [("temperature", self.temperature),
                        *((f"the {f} temperature", v) for f, v in self.temperatures.items())]:
            if not (isinstance(t, int | float) and 0.0 < t <= 10.0):
                raise ParameterError(f"sampling: {name} must be in (0, 10], got {t!r}")
        for name, p in [("top_p", self.top_p), *((f"the {f} top_p", v) for f, v in self.top_ps.items())]:
            if not (isinstance(p, int | float) and 0.0 < p <= 1.0):
                raise ParameterError(f"sampling: {name} must be in (0, 1], got {p!r}")
        for fam in (*self.temperatures, *self.top_ps):
            if fam not in HEAD_FAMILIES:
                raise ParameterError(f"unknown token family {fam!r}; families: {', '.join(HEAD_FAMILIES)}")
        if self.repetition_penalty < 1.0:
            raise ParameterError(f"repetition_penalty must be >= 1, got {self.repetition_penalty}")
        if self.max_repeat_bars < 0 or self.max_retries < 0 or self.max_notes_per_position < 1:
            raise ParameterError("max_repeat_bars and max_retries must be >= 0, "
                                 "max_notes_per_position >= 1")
        if not (isinstance(self.key_strength, int | float) and 0.0 <= self.key_strength <= 100.0):
            raise ParameterError(f"key_strength must be 0..100 nats (0: off), got {self.key_strength!r}")
        if not (isinstance(self.chord_period_bars, int) and 0 <= self.chord_period_bars <= 64):
            raise ParameterError(f"chord_period_bars must be 0..64 bars (0: off), got "
                                 f"{self.chord_period_bars!r}")
        if self.chord_strength is not None and not (
                isinstance(self.chord_strength, int | float) and self.chord_strength > 0.0
                and not np.isnan(self.chord_strength)):
            raise ParameterError(f"chord_strength must be > 0 nats (inf: forced), "
                                 f"got {self.chord_strength!r}")

    def chord_strength_or(self, default: float) -> float:
        """``chord_strength``, or ``default`` where it is None."""
        return float(default if self.chord_strength is None else self.chord_strength)

    def temperature_of(self, family: str) -> float:
        return float(self.temperatures.get(family, self.temperature))

    def top_p_of(self, family: str) -> float:
        return float(self.top_ps.get(family, self.top_p))

    @staticmethod
    def parse_families(text: str, *, what: str = "temperature") -> dict[str, float]:
        """``"pitch=0.8,duration=1.2"`` -> ``{"pitch": 0.8, "duration": 1.2}`` (for the CLI)."""
        out: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = part.partition("=")
            try:
                if not sep:
                    raise ValueError
                out[name.strip()] = float(value)
            except ValueError:
                raise ParameterError(f"{what}: expected FAMILY=NUMBER[,...] (e.g. pitch=0.8), "
                                     f"got {part!r}") from None
        return out


def sample_index(logits: np.ndarray, allowed: np.ndarray, *, temperature: float, top_p: float,
                 rng: np.random.Generator) -> int:
    """Draw an index from softmax(logits / temperature) restricted to ``allowed`` and to the
    smallest set of top tokens whose probability reaches ``top_p``."""
    idx = np.flatnonzero(allowed)
    if idx.size == 0:
        raise RuntimeError("the grammar left no token to choose")  # a bug, not a user error
    if idx.size == 1:
        return int(idx[0])
    z = logits[idx].astype(np.float64) / temperature
    z -= z.max()
    p = np.exp(z)
    if top_p < 1.0:
        p /= p.sum()
        order = np.argsort(-p, kind="stable")
        cum = np.cumsum(p[order])
        keep = order[: int(np.searchsorted(cum, top_p) + 1)]
        q = np.zeros_like(p)
        q[keep] = p[keep]
        p = q
    # what rng.choice(n, p=p) does, without its checks: the same draws for the same seed
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    return int(idx[min(int(np.searchsorted(cdf, rng.random(), side="right")), idx.size - 1)])


class Grammar:
    """What may come next, given the rows so far (see the module docstring)."""

    def __init__(self, tok: CPTokenizer, *, positions_per_bar: int, tracks: Sequence[str] = TRACKS,
                 chords: Mapping[int, str] | None = None, max_notes_per_position: int = 10):
        self.tok = tok
        self.ppb = positions_per_bar
        for t in tracks:
            if t not in TRACKS:
                raise ParameterError(f"unknown track {t!r}; the model writes {', '.join(TRACKS)}")
        self.tracks = tuple(tracks)
        self.max_notes = max_notes_per_position
        pos_val = np.array([-1] + [int(x.split("_")[1]) for x in tok.vocab["position"][1:]])
        self.pos_val = pos_val
        self.chord_ids: dict[int, int] = {}
        for bar, lab in (chords or {}).items():
            if lab not in tok.index["chord"]:
                raise ParameterError(f"chord constraint {lab!r} for bar {bar + 1} is not in the "
                                     "model's chord vocabulary")
            self.chord_ids[bar] = tok.index["chord"][lab]
        pitch = tok.pitch_of
        self.pitch_allowed = {}
        for name in TRACKS:
            lo, hi = tok.settings.track_pitch[name]
            self.pitch_allowed[name] = (pitch >= lo) & (pitch <= hi) & (np.arange(pitch.size) > 0)
        self.sizes = {f: len(tok.vocab[f]) for f in HEAD_FAMILIES}
        # state
        self.last_type = COND
        self.bar = -1  # index of the current bar among the generated ones
        self.bar_pos = -1
        self.notes_here = 0
        self.melody_here = False
        self.min_bars = 0
        self.prompt = True

    def state(self) -> tuple[Any, ...]:
        return (self.last_type, self.bar, self.bar_pos, self.notes_here, self.melody_here, self.prompt)

    def restore(self, s: tuple[Any, ...]) -> None:
        (self.last_type, self.bar, self.bar_pos, self.notes_here, self.melody_here, self.prompt) = s

    def allowed_types(self) -> np.ndarray:
        a = np.zeros(self.sizes["type"], dtype=bool)
        lt = self.last_type
        if lt == COND or self.prompt:
            a[BAR] = True
            return a
        if lt == BAR:
            a[[BAR, POS]] = True
        elif lt == POS:
            a[NOTE] = True
        elif lt == NOTE:
            a[BAR] = True
            a[NOTE] = self.notes_here < self.max_notes and (
                self._track_mask().any())
            a[POS] = True
        if a[POS] and self.bar_pos >= self.ppb - 1:
            a[POS] = False
        if lt in (BAR, NOTE) and self.bar + 1 >= self.min_bars:
            a[EOS] = True
        return a

    def _track_mask(self) -> np.ndarray:
        a = np.zeros(self.sizes["track"], dtype=bool)
        for i, name in enumerate(TRACKS, start=1):
            a[i] = name in self.tracks and not (name == "melody" and self.melody_here)
        return a

    def allowed(self, family: str, chosen: dict[str, int]) -> np.ndarray:
        """Allowed ids of ``family`` in a row whose earlier families are ``chosen``."""
        n = self.sizes[family]
        if family == "position":
            return (self.pos_val > self.bar_pos) & (self.pos_val < self.ppb)
        if family == "chord":
            a = np.zeros(n, dtype=bool)
            forced = self.chord_ids.get(self.bar)
            if forced is not None:
                a[forced] = True
            else:
                a[1:] = True
            return a
        if family == "track":
            return self._track_mask()
        if family == "pitch":
            return self.pitch_allowed[TRACKS[chosen["track"] - 1]]
        a = np.ones(n, dtype=bool)
        a[0] = False
        return a

    def advance(self, row: np.ndarray) -> None:
        t = int(row[0])
        if t == BAR:
            self.bar += 1
            self.bar_pos = -1
            self.notes_here = 0
            self.melody_here = False
            self.prompt = False
        elif t == POS:
            self.bar_pos = int(self.pos_val[int(row[FI["position"]])])
            self.notes_here = 0
            self.melody_here = False
        elif t == NOTE:
            self.notes_here += 1
            if int(row[FI["track"]]) == 1:
                self.melody_here = True
        self.last_type = t

    def check(self, rows: np.ndarray) -> None:
        """Raise ValueError if ``rows`` (after the COND row) break the grammar (for tests)."""
        for r in rows:
            t = int(r[0])
            if not self.allowed_types()[t]:
                raise ValueError(f"type {t} not allowed after {self.last_type}")
            chosen: dict[str, int] = {}
            for f in ACTIVE[t]:
                if f in HEAD_FAMILIES:
                    if not self.allowed(f, chosen)[int(r[FI[f]])]:
                        raise ValueError(f"{f}={int(r[FI[f]])} not allowed in {self.tok.describe(r)}")
                    chosen[f] = int(r[FI[f]])
            for f in HEAD_FAMILIES[1:]:
                if f not in ACTIVE[t] and int(r[FI[f]]) != 0:
                    raise ValueError(f"{f} set on a {t} row")
            self.advance(r)
            if t == EOS:
                return


@dataclass
class GenerationResult:
    """Rows written after the prompt, how generation stopped, and what was retried."""

    rows: np.ndarray  # (n, N_FAMILIES), starting with a BAR row
    bars: int
    stopped: str  # "bars", "eos" or "max_rows"
    retried_bars: int = 0
    warnings: list[str] = field(default_factory=list)


def chord_grid(tok: CPTokenizer, rows: np.ndarray, *, positions_per_bar: int,
               carry: int = 0) -> tuple[np.ndarray, int]:
    """The chord id in force at every position of every bar of ``rows``.

    Parameters
    ----------
    tok : CPTokenizer
    rows : np.ndarray [shape=(n, N_FAMILIES)]
        Token rows; only BAR and POS rows are read (a COND row first is skipped).
    positions_per_bar : int
    carry : int
        The chord id in force before the first bar (0: none).

    Returns
    -------
    grid : np.ndarray [shape=(bars, positions_per_bar), dtype=int64]
        A position with no POS row keeps the chord of the one before it (across bar lines).
    carry : int
        The chord id in force at the end.
    """
    pos_val = np.array([-1] + [int(x.split("_")[1]) for x in tok.vocab["position"][1:]])
    out: list[np.ndarray] = []
    cur: list[tuple[int, int]] = []  # (position, chord id) of the open bar

    def close() -> None:
        nonlocal carry
        g = np.empty(positions_per_bar, dtype=np.int64)
        c, k = carry, 0
        for p in range(positions_per_bar):
            while k < len(cur) and cur[k][0] <= p:
                c = cur[k][1]
                k += 1
            g[p] = c
        out.append(g)
        carry = c

    started = False
    for r in np.asarray(rows):
        t = int(r[0])
        if t == BAR:
            if started:
                close()
            started, cur = True, []
        elif t == POS and started:
            cid = int(r[FI["chord"]])
            if cid:
                cur.append((int(pos_val[int(r[FI["position"]])]), cid))
        elif t == EOS:
            break
    if started:
        close()
    grid = np.stack(out) if out else np.zeros((0, positions_per_bar), dtype=np.int64)
    return grid, carry


def generate(model: Any, tok: CPTokenizer, prompt_rows: np.ndarray, *, bars: int,
             positions_per_bar: int, sampling: SamplingConfig | None = None,
             rng: np.random.Generator | None = None, chords: Mapping[int, str] | None = None,
             tracks: Sequence[str] = TRACKS, max_rows: int | None = None,
             key_profile: Sequence[float] | None = None) -> GenerationResult:
    """Sample ``bars`` bars after ``prompt_rows`` (a COND row, optionally followed by a prompt).

    Parameters
    ----------
    model : CompoundTransformer
    tok : CPTokenizer
    prompt_rows : np.ndarray [shape=(n, N_FAMILIES)]
        Starts with the COND row; at most the model's context long.
    bars : int
        Bars to write (>= 1). The first generated row is a BAR.
    positions_per_bar : int
        16 for 4/4, 12 for 3/4.
    sampling : SamplingConfig
    rng : np.random.Generator
        Every draw comes from it (seeded: the same seed gives the same piece).
    chords : mapping of int -> str, optional
        Bar index (0-based, among the generated bars) -> chord label every position of that bar
        must carry.
    tracks : sequence of str
        Which tracks may get notes (``("melody",)`` for a melody alone).
    max_rows : int, optional
        A safety cap on generated rows (default 200 per bar).
    key_profile : sequence of 12 float in [0, 1], optional
        How much each pitch class (model frame, C = 0) belongs to the key: a pitch of class
        ``pc`` loses ``sampling.key_strength * (1 - key_profile[pc])`` nats. Default: 1 on
        :data:`SCALE_PCS`, 0 elsewhere.

    Notes
    -----
    PyTorch runs on one thread while this runs (the caller's setting is restored after): one
    row at a time is a chain of tiny matrix-vector products that a second thread only slows.
    """
    import torch

    from .model import Decoder

    if bars < 1:
        raise ParameterError(f"bars must be >= 1, got {bars}")
    sampling = sampling or SamplingConfig()
    rng = rng or np.random.default_rng(0)
    cfg = model.cfg
    if len(prompt_rows) > cfg.max_len:
        raise ParameterError(f"the prompt is {len(prompt_rows)} rows, longer than the model's context "
                             f"({cfg.max_len}); cut it first")
    max_rows = max_rows or 200 * bars
    g = Grammar(tok, positions_per_bar=positions_per_bar, tracks=tracks, chords=chords,
                max_notes_per_position=sampling.max_notes_per_position)
    g.min_bars = bars
    model.eval()
    dec = Decoder(model)
    cache = dec.cache
    n_prompt = len(prompt_rows)
    threads = torch.get_num_threads()
    # one row at a time is a chain of tiny matrix-vector products: a second thread only adds
    # synchronisation (measured: 2 threads are 10x slower than 1 while another process is busy)
    torch.set_num_threads(1)
    try:
        return _generate(dec, cache, tok, prompt_rows, g, sampling, rng, bars, max_rows, n_prompt,
                         key_profile)
    finally:
        torch.set_num_threads(threads)


def _generate(dec: Any, cache: Any, tok: CPTokenizer, prompt_rows: np.ndarray, g: Grammar,
              sampling: SamplingConfig, rng: np.random.Generator, bars: int, max_rows: int,
              n_prompt: int, key_profile: Sequence[float] | None) -> GenerationResult:
    import torch

    pitch_bias = None
    if sampling.key_strength > 0:
        prof = np.isin(np.arange(12), SCALE_PCS).astype(np.float64) if key_profile is None \
            else np.asarray(key_profile, dtype=np.float64)
        if prof.shape != (12,) or not np.all((prof >= 0) & (prof <= 1)):
            raise ParameterError(f"key_profile: expected 12 numbers in [0, 1], got {key_profile!r}")
        pitch_bias = -float(sampling.key_strength) * (1.0 - prof[tok.pitch_of % 12])
    period = sampling.chord_period_bars
    chord_strength = sampling.chord_strength_or(CHORD_STRENGTH)
    grid_rows, carry = chord_grid(tok, prompt_rows, positions_per_bar=g.ppb) if period else (None, 0)
    grid: list[np.ndarray] = list(grid_rows) if grid_rows is not None else []
    n_prompt_bars = len(grid)

    rows: list[np.ndarray] = []
    hs: list[torch.Tensor] = []  # hs[i]: the hidden state that predicts rows[i]
    recent: dict[int, list[int]] = {1: [], 2: []}
    bar_starts: list[int] = []  # index in rows of each BAR row
    bar_sigs: list[bytes] = []  # content of each accepted, closed bar
    states: list[tuple[Any, ...]] = []  # grammar state after rows[i]
    retried = 0
    retries_left = sampling.max_retries
    stopped = "max_rows"
    penalty = sampling.repetition_penalty
    with torch.inference_mode():
        h = dec.prefill(torch.as_tensor(np.asarray(prompt_rows, dtype=np.int64)))
        while len(rows) < max_rows:
            type_logits = dec.head(0, h).numpy()
            t = sample_index(type_logits, g.allowed_types(), temperature=sampling.temperature_of("type"),
                             top_p=sampling.top_p_of("type"), rng=rng)
            if t in (BAR, EOS) and bar_starts:
                # a bar closes: a run of identical bars longer than allowed is drawn again
                start = bar_starts[-1]
                sig = np.stack(rows[start:]).tobytes()
                run = 1
                for s in reversed(bar_sigs):
                    if s != sig:
                        break
                    run += 1
                if (len(rows) > start + 1 and sampling.max_repeat_bars > 0
                        and run > sampling.max_repeat_bars and retries_left > 0):
                    retries_left -= 1
                    retried += 1
                    keep = start + 1  # keep the bar's BAR row, draw its content again
                    h = hs[keep]
                    cache.truncate(n_prompt + keep)
                    del rows[keep:], hs[keep:], states[keep:]
                    g.restore(states[keep - 1])
                    recent = {1: [], 2: []}
                    for r in rows:
                        if int(r[0]) == NOTE:
                            recent[int(r[FI["track"]])].append(int(r[FI["pitch"]]))
                    continue
                bar_sigs.append(sig)
                retries_left = sampling.max_retries
            if t == BAR and g.bar + 1 >= bars:
                stopped = "bars"
                break
            row = np.zeros(len(tok.sizes), dtype=np.int64)
            row[0] = t
            chosen: dict[str, int] = {"type": t}
            z = dec.chained(h, 0, t)
            last = max(k for k, f in enumerate(HEAD_FAMILIES) if f in ACTIVE[t]) if ACTIVE[t] else 0
            for k, fam in enumerate(HEAD_FAMILIES[1:last + 1], start=1):
                v = 0
                if fam in ACTIVE[t]:
                    logits = dec.head(k, z).numpy().astype(np.float64)
                    if fam == "pitch" and penalty > 1.0:
                        used = recent[chosen["track"]][-sampling.repetition_window:]
                        if used:
                            u = np.array(sorted(set(used)))
                            logits[u] = np.where(logits[u] > 0, logits[u] / penalty, logits[u] * penalty)
                    if fam == "pitch" and pitch_bias is not None:
                        logits += pitch_bias
                    allowed = g.allowed(fam, chosen)
                    if fam == "chord" and period:
                        allowed = _guide_chord(logits, allowed, grid, n_prompt_bars + g.bar - period,
                                               int(g.pos_val[chosen["position"]]), chord_strength)
                    v = sample_index(logits, allowed, temperature=sampling.temperature_of(fam),
                                     top_p=sampling.top_p_of(fam), rng=rng)
                chosen[fam] = v
                row[FI[fam]] = v
                if k < last:
                    z = dec.chained(z, k, v)
            if t == NOTE:
                recent[int(row[FI["track"]])].append(int(row[FI["pitch"]]))
            if t == BAR:
                if period and bar_starts:  # the bar before closes: its chords guide a later one
                    carry = _close_bar(tok, np.stack(rows[bar_starts[-1]:]), g, grid, period, carry,
                                       chord_strength)
                bar_starts.append(len(rows))
            g.advance(row)
            rows.append(row)
            hs.append(h)
            states.append(g.state())
            if t == EOS:
                stopped = "eos"
                break
            h = dec.step(torch.from_numpy(row))
    out = np.stack(rows) if rows else np.zeros((0, len(tok.sizes)), dtype=np.int64)
    warnings = []
    if stopped == "max_rows":
        warnings.append(f"stopped after {max_rows} tokens before reaching {bars} bars")
    return GenerationResult(out, max(0, g.bar + 1), stopped, retried, warnings)



def _close_bar(tok: CPTokenizer, bar_rows: np.ndarray, g: Grammar, grid: list[np.ndarray], period: int,
               carry: int, strength: float) -> int:
    """Append the chords of a generated bar to ``grid``; return the chord in force after it.

    Where the bar followed a reference bar, the positions before its first chord (all of them
    in an empty bar), or every position when the reference was forced, keep the reference's
    chords: the progression goes on as planned instead of drifting with the carried chord.
    """
    row = chord_grid(tok, bar_rows, positions_per_bar=g.ppb, carry=carry)[0][0]
    ref_i = len(grid) - period
    if ref_i >= 0:
        ref = grid[ref_i]
        pos = bar_rows[bar_rows[:, 0] == POS, FI["position"]]
        first = g.ppb if np.isinf(strength) or not pos.size else int(g.pos_val[int(pos[0])])
        head = slice(0, first)
        row[head] = np.where(ref[head] > 1, ref[head], row[head])
    grid.append(row)
    return int(row[-1])


def _guide_chord(logits: np.ndarray, allowed: np.ndarray, grid: Sequence[np.ndarray], ref_bar: int,
                 pos: int, strength: float) -> np.ndarray:
    """Pull the chord towards ``grid[ref_bar][pos]`` (add ``strength`` to its logit, in place, or
    allow only it when ``strength`` is infinite and the grammar allows it); returns the mask."""
    if not 0 <= ref_bar < len(grid):
        return allowed
    cid = int(grid[ref_bar][pos])
    if cid <= 1 or not allowed[cid]:  # none or "N" (no chord): nothing to follow
        return allowed
    if np.isinf(strength):
        only = np.zeros_like(allowed)
        only[cid] = True
        return only
    logits[cid] += strength
    return allowed
