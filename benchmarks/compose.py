"""Benchmark: the music language model against a first-order Markov baseline and held-out POP909.

Everything is measured on the model's own token rows (C major / A minor, sixteenth grid, 4/4), so
the three sources are compared in one frame:

* **model**: ``generate`` with the default :class:`~yuefu.compose.SamplingConfig` (temperature 1,
  top-p 0.95, at most 2 identical bars in a row, chords pulled by 2 nats towards those of 8 bars
  before), style pop, emotions cycling through the four the model was trained on, seeds 0..N-1;
  the same without the chord pull (``chord_period_bars=0``, the sampler before 2026-11-24) in
  the options table;
* **first-order Markov**: trained on the same training split (songs whose hashed name is
  ``train``, :func:`yuefu.compose.lm.data.split_songs`), over the same compound tokens, one chain
  per family: type | previous type; position | previous position; chord | previous chord;
  track | previous track; pitch, duration, velocity | the previous value *in the same track*
  (additive smoothing 0.1). It samples under the same grammar masks as the model (so its pieces
  are valid MIDI too), at temperature 1, no top-p;
* **held-out POP909**: 32-bar excerpts (bars 0-31, 32-63, ...) of the test-split songs, taken in
  turn from each song.

Measures (Wu & Yang 2020 and Yang & Lerch 2020, computed per piece and averaged):

* NLL per token family (nats) on the test songs: the model over windows of its context (as in
  training), the Markov chain over every row;
* pitch-class histogram entropy (bits; note counts, both tracks);
* grooving pattern similarity: per bar a binary vector of onset positions (16 sixteenths); 1 -
  Hamming distance / 16, averaged over all pairs of non-empty bars;
* chord progression irregularity: the percentage of unique chord trigrams among all trigrams
  of the piece's chord progression, from the chord tokens (consecutive repeats merged, N left
  out; the test songs' chords are POP909's annotations);
* notes per bar (both tracks);
* the longest run of exactly repeated bars (the same notes: position, track, pitch, duration;
  empty bars do not count): max and median over pieces (1 = no bar repeats the one before);
* continuations: an 8-bar prompt (bars 8-15 of a test song) continued by 8 bars; the real bars
  16-23 are the anchor. Key consistency: the share of continuations whose Krumhansl key
  (:func:`yuefu.core.theory.estimate_key`, duration-weighted) equals the prompt's. Overlapping
  area of the pitch (MIDI number) and duration (sixteenths) histograms of prompt and
  continuation (sum of the bin-wise minimum of the two normalised histograms; Yang & Lerch use
  kernel density estimates). A prompt longer than 3/4 of the model's context is cut to its last
  bars that fit, as :func:`yuefu.compose.continue_score` does; it is measured whole. The model
  continues as ``continue_score`` does by default (``chords="prompt"``: the chords of the
  prompt's last 8 bars it reads, cycled and forced); the options table adds ``chords="free"``
  (the model's own chords: the sampler before 2026-11-24), ``key_strength`` 2 and 20 on top of
  it, and prompts stripped of their chord annotations (every chord token N), continued free or
  with chords estimated from the prompt's notes (:func:`yuefu.compose.lm.convert.estimate_chords`,
  what ``continue_score`` does for a MIDI file without chord symbols);
* speed: :func:`yuefu.compose.compose` of 32 bars, median seconds over 5 seeds (3 with
  ``--quick``), and the process's peak memory (``ru_maxrss``) right after it.

Needs PyTorch and miditok (``yuefu[ml]``), POP909 under ``../shared/datasets`` (or ``--data``)
and, to skip tokenizing POP909 again (a few minutes), the token cache that ``train/compose.py``
leaves in its ``--work`` folder (``--cache``).

Usage::

    python benchmarks/compose.py [--model compose_cp.pt] [--n 100] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.compose.lm.api import EMOTION_DEFAULTS, LanguageModel, compose, load_language_model
from yuefu.compose.lm.convert import estimate_chords
from yuefu.compose.lm.data import split_songs
from yuefu.compose.lm.sampling import Grammar, SamplingConfig, generate, sample_index
from yuefu.compose.lm.tokens import ACTIVE, BAR, EOS, FI, HEAD_FAMILIES, NOTE, POS, Conditions, CPTokenizer
from yuefu.core.errors import YuefuError
from yuefu.core.theory import estimate_key

ROOT = Path(__file__).resolve().parent.parent
PPB = 16  # positions per bar (4/4)
BARS = 32
PROMPT_BARS = (8, 16)
CONT_BARS = 8
PER_TRACK = ("pitch", "duration", "velocity")


def _train_module() -> Any:
    spec = importlib.util.spec_from_file_location("train_compose", ROOT / "train/compose.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -- pieces and their measures ------------------------------------------------------------------

@dataclass
class Piece:
    """Notes (onset and duration in sixteenths from the piece's start), chords, bars."""

    notes: np.ndarray  # (n, 4) int: onset16, track (1 melody, 2 accompaniment), pitch, dur16
    chords: list[str]  # the chord label of every position row, in order
    bars: int


def piece_from_rows(tok: Any, rows: np.ndarray) -> Piece:
    notes, chords = [], []
    bar, pos = -1, 0
    for r in rows:
        t = int(r[0])
        if t == BAR:
            bar, pos = bar + 1, 0
        elif t == POS:
            pos = int(tok.vocab["position"][int(r[FI["position"]])].split("_")[1])
            chords.append(tok.vocab["chord"][int(r[FI["chord"]])])
        elif t == NOTE:
            pitch = int(tok.pitch_of[int(r[FI["pitch"]])])
            notes.append((max(bar, 0) * PPB + pos, int(r[FI["track"]]), pitch,
                          int(tok.duration16_of[int(r[FI["duration"]])])))
        elif t == EOS:
            break
    arr = np.array(notes, dtype=np.int64).reshape(-1, 4)
    return Piece(arr, chords, max(bar + 1, 1))


def pc_entropy(p: Piece) -> float:
    if not len(p.notes):
        return float("nan")
    h = np.bincount(p.notes[:, 2] % 12, minlength=12).astype(float)
    q = h[h > 0] / h.sum()
    return float(-(q * np.log2(q)).sum())


def groove_similarity(p: Piece) -> float:
    g = np.zeros((p.bars, PPB), dtype=bool)
    if len(p.notes):
        g[p.notes[:, 0] // PPB, p.notes[:, 0] % PPB] = True
    g = g[g.any(axis=1)]
    if len(g) < 2:
        return float("nan")
    ham = (g[:, None, :] != g[None, :, :]).sum(-1)
    iu = np.triu_indices(len(g), 1)
    return float(np.mean(1.0 - ham[iu] / PPB))


def chord_irregularity(p: Piece) -> float:
    seq: list[str] = []
    for c in p.chords:
        if c not in ("N", "<none>") and (not seq or seq[-1] != c):
            seq.append(c)
    tri = [tuple(seq[i:i + 3]) for i in range(len(seq) - 2)]
    return 100.0 * len(set(tri)) / len(tri) if tri else float("nan")


def density(p: Piece) -> float:
    return len(p.notes) / p.bars


def longest_repeat(p: Piece) -> int:
    sig: list[bytes] = []
    for b in range(p.bars):
        n = p.notes[p.notes[:, 0] // PPB == b].copy()
        n[:, 0] %= PPB
        sig.append(n[np.lexsort(n.T[::-1])].tobytes() if len(n) else b"")
    best = run = 0
    for i, s in enumerate(sig):
        run = run + 1 if s and i > 0 and s == sig[i - 1] else (1 if s else 0)
        best = max(best, run)
    return best


def _hist_overlap(a: np.ndarray, b: np.ndarray, size: int) -> float:
    if not len(a) or not len(b):
        return float("nan")
    ha = np.bincount(np.clip(a, 0, size - 1), minlength=size) / len(a)
    hb = np.bincount(np.clip(b, 0, size - 1), minlength=size) / len(b)
    return float(np.minimum(ha, hb).sum())


def estimated_chord_rows(tok: Any, rows: np.ndarray) -> np.ndarray:
    """``rows`` (COND first) with every position's chord estimated from the notes, as for a
    prompt without chord symbols."""
    out = rows.copy()
    p = piece_from_rows(tok, out[1:])
    notes = np.column_stack([p.notes[:, 0] / 4.0, p.notes[:, 3] / 4.0, p.notes[:, 2]])
    ch = estimate_chords(notes, bar_beats=PPB / 4, end_beat=p.bars * PPB / 4)
    beats = np.array([b for b, _ in ch])
    bar = -1
    for r in out[1:]:
        if r[0] == BAR:
            bar += 1
        elif r[0] == POS:
            beat = bar * PPB / 4 + int(tok.vocab["position"][int(r[FI["position"]])].split("_")[1]) / 4
            j = int(np.searchsorted(beats, beat + 1e-6, side="right")) - 1
            r[FI["chord"]] = tok.index["chord"][ch[j][1]] if j >= 0 else 1
    return out


def continuation_measures(prompt: Piece, cont: Piece) -> dict[str, float]:
    if not len(prompt.notes) or not len(cont.notes):
        return {"key": float("nan"), "oa_pitch": float("nan"), "oa_duration": float("nan")}
    kp, _ = estimate_key(prompt.notes[:, 2].tolist(), prompt.notes[:, 3].astype(float).tolist())
    kc, _ = estimate_key(cont.notes[:, 2].tolist(), cont.notes[:, 3].astype(float).tolist())
    return {"key": float(kp == kc), "oa_pitch": _hist_overlap(prompt.notes[:, 2], cont.notes[:, 2], 128),
            "oa_duration": _hist_overlap(prompt.notes[:, 3], cont.notes[:, 3], 64)}


# -- the Markov baseline -----------------------------------------------------------------------

class Markov:
    """First-order chains per token family (see the module docstring)."""

    def __init__(self, sizes: tuple[int, ...], alpha: float = 0.1):
        self.sizes = sizes
        self.alpha = alpha
        self.type = np.zeros((sizes[0], sizes[0]))
        self.fam: dict[tuple[str, int], np.ndarray] = {}
        for f in HEAD_FAMILIES[1:]:
            for t in ((1, 2) if f in PER_TRACK else (0,)):
                n = sizes[FI[f]]
                self.fam[(f, t)] = np.zeros((n, n))

    @staticmethod
    def _streams(rows: np.ndarray, f: str, track: int) -> tuple[np.ndarray, np.ndarray]:
        """(previous value, value) of family f over the rows where it is active (in one track)."""
        sel = rows[:, FI[f]] != 0
        if track:
            sel &= rows[:, FI["track"]] == track
        v = rows[sel, FI[f]]
        return np.concatenate([[0], v[:-1]]).astype(np.int64), v

    def fit(self, songs: list[np.ndarray]) -> Markov:
        for rows in songs:
            np.add.at(self.type, (rows[:-1, 0], rows[1:, 0]), 1)
            for (f, t), m in self.fam.items():
                prev, v = self._streams(rows, f, t)
                np.add.at(m, (prev, v), 1)
        self.logp_type = self._logp(self.type)
        self.logp = {k: self._logp(m) for k, m in self.fam.items()}
        return self

    def _logp(self, m: np.ndarray) -> np.ndarray:
        m = m + self.alpha
        return np.log(m / m.sum(axis=1, keepdims=True))

    def nll(self, songs: list[np.ndarray]) -> dict[str, Any]:
        sums = {f: [0.0, 0] for f in HEAD_FAMILIES}
        rows_n = 0
        for rows in songs:
            rows_n += len(rows) - 1
            sums["type"][0] -= float(self.logp_type[rows[:-1, 0], rows[1:, 0]].sum())
            sums["type"][1] += len(rows) - 1
            for (f, t), lp in self.logp.items():
                prev, v = self._streams(rows, f, t)
                sums[f][0] -= float(lp[prev, v].sum())
                sums[f][1] += len(v)
        return {"nll_per_row": sum(s for s, _ in sums.values()) / max(rows_n, 1),
                "nll_per_family": {f: s / max(n, 1) for f, (s, n) in sums.items()}}

    def generate(self, tok: Any, prompt: np.ndarray, bars: int, rng: np.random.Generator) -> np.ndarray:
        g = Grammar(tok, positions_per_bar=PPB)
        g.min_bars = bars
        last = {k: 0 for k in self.fam}
        for r in prompt:
            for (f, t) in self.fam:
                if r[FI[f]] != 0 and (not t or r[FI["track"]] == t):
                    last[(f, t)] = int(r[FI[f]])
        prev_type = int(prompt[-1, 0])
        out = []
        for _ in range(200 * bars):
            t = sample_index(self.logp_type[prev_type], g.allowed_types(), temperature=1.0, top_p=1.0,
                             rng=rng)
            if t == BAR and g.bar + 1 >= bars:
                break
            row = np.zeros(len(tok.sizes), dtype=np.int64)
            row[0] = t
            chosen = {"type": t}
            for f in HEAD_FAMILIES[1:]:
                if f not in ACTIVE[t]:
                    continue
                key = (f, chosen["track"] if f in PER_TRACK else 0)
                v = sample_index(self.logp[key][last[key]], g.allowed(f, chosen), temperature=1.0, top_p=1.0,
                                 rng=rng)
                chosen[f] = v
                row[FI[f]] = v
                last[key] = v
            g.advance(row)
            out.append(row)
            prev_type = t
            if t == EOS:
                break
        return np.stack(out)


# -- the run -------------------------------------------------------------------------------------

def _cond_rows(lm: LanguageModel, i: int) -> tuple[np.ndarray, str]:
    emotions: list[str] = [e for e in ("happy", "sad", "calm", "excited")
                           if e in lm.trained.get("emotion", [])] \
        or ["unknown"]
    e = emotions[i % len(emotions)]
    mode, tempo = EMOTION_DEFAULTS.get(e, ("major", 100.0))
    style = "pop" if "pop" in lm.trained.get("style", ["pop"]) else "unknown"
    return lm.tok.cond_row(Conditions(style=style, emotion=e, mode=mode, tempo_bpm=tempo))[None], e


def _mean(xs: list[float]) -> float:
    xs = [x for x in xs if not math.isnan(x)]
    return float(np.mean(xs)) if xs else float("nan")


def summarise(pieces: list[Piece]) -> dict[str, float]:
    reps = [longest_repeat(p) for p in pieces]
    return {"pieces": len(pieces), "pc_entropy": _mean([pc_entropy(p) for p in pieces]),
            "groove_similarity": _mean([groove_similarity(p) for p in pieces]),
            "chord_irregularity": _mean([chord_irregularity(p) for p in pieces]),
            "notes_per_bar": _mean([density(p) for p in pieces]),
            "repeat_max": float(max(reps)), "repeat_median": float(statistics.median(reps))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="music language model benchmark")
    ap.add_argument("--model", type=Path, default=None, help="a compose_cp .pt (default: the shipped model)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/datasets/pop909/POP909")
    ap.add_argument("--cache", type=Path, default=None,
                    help="train/compose.py's --work folder with its POP909 token cache "
                         "(default: runs/compose, then ../runs/compose)")
    ap.add_argument("--n", type=int, default=100, help="generated pieces (default 100)")
    ap.add_argument("--quick", action="store_true", help="10 pieces, 10 continuations, 5 test songs for NLL")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args(argv)
    n = 10 if args.quick else args.n
    t_all = time.perf_counter()
    import torch

    try:
        lm = load_language_model(args.model)
    except YuefuError as e:
        print(f"compose benchmark: {e}", file=sys.stderr)
        return 2
    cfg = lm.net.cfg
    # speed first, so that the peak memory is the model's, not the dataset's
    reps = 3 if args.quick else 5
    compose("pop", "happy", 2, seed=999, model=lm)  # warm-up
    secs = []
    for s in range(reps):
        res = compose("pop", "happy", BARS, seed=s, model=lm)
        secs.append(res.seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    speed = {"median_s": statistics.median(secs), "all_s": [round(x, 2) for x in secs], "peak_mb": peak_mb}

    if not args.data.is_dir():
        print(f"POP909 not found at {args.data}; pass --data", file=sys.stderr)
        return 2
    cache = args.cache or next((p for p in (ROOT / "runs/compose", ROOT.parent / "runs/compose")
                                if p.is_dir()), ROOT / "runs/compose")
    tc = _train_module()
    songs = tc.load_songs(CPTokenizer(), args.data, cache, None)  # the cache is keyed by default settings
    split = split_songs([s.name for s in songs])
    train = [s for s in songs if split[s.name] == "train"]
    test = [s for s in songs if split[s.name] == "test"]
    nll_songs = test[:5] if args.quick else test

    # NLL per family
    t0 = time.perf_counter()
    torch.set_num_threads(1)
    ev = tc.evaluate(lm.net, nll_songs, cfg.max_len, 8)
    lm.net.eval()
    markov = Markov(lm.tok.sizes).fit([s.rows for s in train])
    mk_nll = markov.nll([s.rows for s in nll_songs])
    t_nll = time.perf_counter() - t0

    # pieces
    t0 = time.perf_counter()
    sampling = SamplingConfig()
    free_chords = replace(sampling, chord_period_bars=0)
    pull4 = replace(sampling, chord_strength=4.0)
    gen, gen_free, gen4, mk = [], [], [], []
    for i in range(n):
        cond, _ = _cond_rows(lm, i)
        r = generate(lm.net, lm.tok, cond, bars=BARS, positions_per_bar=PPB, sampling=sampling,
                     rng=np.random.default_rng(i))
        gen.append(piece_from_rows(lm.tok, r.rows))
        r = generate(lm.net, lm.tok, cond, bars=BARS, positions_per_bar=PPB, sampling=free_chords,
                     rng=np.random.default_rng(i))
        gen_free.append(piece_from_rows(lm.tok, r.rows))
        r = generate(lm.net, lm.tok, cond, bars=BARS, positions_per_bar=PPB, sampling=pull4,
                     rng=np.random.default_rng(i))
        gen4.append(piece_from_rows(lm.tok, r.rows))
        mk.append(piece_from_rows(lm.tok, markov.generate(lm.tok, cond, BARS, np.random.default_rng(i))))
    real: list[Piece] = []
    starts = [list(range(0, len(s.bar_rows) - BARS + 1, BARS)) for s in test]
    k = 0
    while len(real) < n and any(starts):
        s = test[k % len(test)]
        if starts[k % len(test)]:
            b = starts[k % len(test)].pop(0)
            end = s.bar_rows[b + BARS] if b + BARS < len(s.bar_rows) else len(s.rows)
            real.append(piece_from_rows(lm.tok, s.rows[s.bar_rows[b]:end]))
        k += 1
    t_pieces = time.perf_counter() - t0

    # continuations
    t0 = time.perf_counter()
    lo, hi = PROMPT_BARS
    usable = [s for s in test if len(s.bar_rows) > hi + CONT_BARS]
    cont: dict[str, list[dict[str, float]]] = {"model": [], "markov": [], "real": []}
    # name -> (sampling, prompt chords: "annotated", "estimated" or "N")
    variants = {
        "chords prompt (default)": (replace(sampling, chord_strength=math.inf), "annotated"),
        "chords free (before)": (free_chords, "annotated"),
        "chords free, key-strength 2": (replace(free_chords, key_strength=2.0), "annotated"),
        "chords prompt, key-strength 2": (replace(sampling, chord_strength=math.inf, key_strength=2.0),
                                          "annotated"),
        "chords prompt, key-strength 20": (replace(sampling, chord_strength=math.inf, key_strength=20.0),
                                           "annotated"),
        "no chord symbols: free (before)": (free_chords, "N"),
        "no chord symbols: estimated, chords prompt (default)": (replace(sampling, chord_strength=math.inf),
                                                                  "estimated"),
    }
    cont_v: dict[str, list[dict[str, float]]] = {k: [] for k in variants}
    pieces_v: dict[str, list[Piece]] = {k: [] for k in variants}
    for i in range(min(n, len(usable) * 3)):
        s = usable[i % len(usable)]
        seed = i // len(usable)
        p_rows = np.concatenate([s.rows[:1], s.rows[s.bar_rows[lo]:s.bar_rows[hi]]])
        prompt = piece_from_rows(lm.tok, p_rows[1:])
        budget = cfg.max_len * 3 // 4  # as continue_score: the prompt's last bars that fit
        for b in range(lo + 1, hi):
            if len(p_rows) <= budget:
                break
            p_rows = np.concatenate([s.rows[:1], s.rows[s.bar_rows[b]:s.bar_rows[hi]]])
        for name, (samp, chords) in variants.items():
            rows_in = p_rows
            if chords == "N":
                rows_in = p_rows.copy()
                rows_in[rows_in[:, 0] == POS, FI["chord"]] = 1
            elif chords == "estimated":
                rows_in = estimated_chord_rows(lm.tok, p_rows)
            kept = int(np.sum(rows_in[:, 0] == BAR))
            if samp.chord_period_bars:
                samp = replace(samp, chord_period_bars=min(samp.chord_period_bars, kept))
            r = generate(lm.net, lm.tok, rows_in, bars=CONT_BARS, positions_per_bar=PPB, sampling=samp,
                         rng=np.random.default_rng(seed))
            c = piece_from_rows(lm.tok, r.rows)
            cont_v[name].append(continuation_measures(prompt, c))
            pieces_v[name].append(c)
        cont["model"].append(cont_v["chords prompt (default)"][-1])
        m_rows = markov.generate(lm.tok, p_rows, CONT_BARS, np.random.default_rng(seed))
        cont["markov"].append(continuation_measures(prompt, piece_from_rows(lm.tok, m_rows)))
        if seed == 0:
            real_rows = s.rows[s.bar_rows[hi]:s.bar_rows[hi + CONT_BARS]]
            cont["real"].append(continuation_measures(prompt, piece_from_rows(lm.tok, real_rows)))
    t_cont = time.perf_counter() - t0
    contsum = {k: {m: _mean([d[m] for d in v]) for m in ("key", "oa_pitch", "oa_duration")} | {"n": len(v)}
               for k, v in cont.items()}

    optsum = {k: {m: _mean([d[m] for d in v]) for m in ("key", "oa_pitch", "oa_duration")}
              | summarise(pieces_v[k]) for k, v in cont_v.items()}
    summ = {"model": summarise(gen), "markov": summarise(mk), "real": summarise(real),
            "model_free": summarise(gen_free), "model_pull4": summarise(gen4)}
    print(f"compose benchmark: {args.model or 'shipped model'} ({lm.net.n_params:,} parameters, "
          f"d {cfg.d_model}, {cfg.n_layers} layers, context {cfg.max_len}); {platform.machine()} "
          f"Python {platform.python_version()}, "
          f"torch {torch.__version__}; {len(train)} train / {len(test)} test songs; total "
          f"{time.perf_counter() - t_all:.0f} s (NLL {t_nll:.0f} s, pieces {t_pieces:.0f} s, "
          f"continuations {t_cont:.0f} s)")
    print()
    print(f"NLL in nats on {len(nll_songs)} held-out songs ({ev['rows']} rows; model over windows of "
          f"{cfg.max_len} rows, Markov over every row):")
    print()
    print("| family | model | first-order Markov | tokens |")
    print("|---|---|---|---|")
    for f in HEAD_FAMILIES:
        print(f"| {f} | {ev['nll_per_family'][f]:.3f} | {mk_nll['nll_per_family'][f]:.3f} | "
              f"{ev['tokens_per_family'][f]} |")
    print(f"| **per compound token** | **{ev['nll_per_row']:.3f}** | **{mk_nll['nll_per_row']:.3f}** | "
          f"{ev['rows']} |")
    print()
    print(f"{n} generated pieces of {BARS} bars (model, Markov) vs {len(real)} held-out {BARS}-bar excerpts; "
          f"{contsum['model']['n']} continuations of 8-bar prompts by {CONT_BARS} bars "
          f"({contsum['real']['n']} real):")
    print()
    print("| measure | model | first-order Markov | held-out POP909 |")
    print("|---|---|---|---|")
    rows = [("pitch-class entropy (bits)", "pc_entropy", "{:.3f}"),
            ("grooving pattern similarity", "groove_similarity", "{:.3f}"),
            ("chord progression irregularity (%)", "chord_irregularity", "{:.1f}"),
            ("notes per bar", "notes_per_bar", "{:.1f}")]
    for label, key, fmt in rows:
        print(f"| {label} | " + " | ".join(fmt.format(summ[w][key]) for w in ("model", "markov", "real"))
              + " |")
    print("| longest run of repeated bars: max / median | "
          + " | ".join(f"{summ[w]['repeat_max']:.0f} / {summ[w]['repeat_median']:.0f}"
                       for w in ("model", "markov", "real")) + " |")
    print("| continuation: same key as the prompt | "
          + " | ".join(f"{100 * contsum[w]['key']:.0f}%" for w in ("model", "markov", "real")) + " |")
    print("| continuation: pitch overlapping area | "
          + " | ".join(f"{contsum[w]['oa_pitch']:.3f}" for w in ("model", "markov", "real")) + " |")
    print("| continuation: duration overlapping area | "
          + " | ".join(f"{contsum[w]['oa_duration']:.3f}" for w in ("model", "markov", "real")) + " |")
    print()
    print(f"Options (the same {n} pieces and {contsum['model']['n']} continuations; the first rows are "
          "the defaults):")
    print()
    print("| sampler | chord irregularity (%) | pitch-class entropy | notes per bar | longest repeat "
          "max / median | same key | pitch OA | duration OA |")
    print("|---|---|---|---|---|---|---|---|")
    for label, sm in (("pieces: chord pull 2 nats from 8 bars before (default)", summ["model"]),
                      ("pieces: chord pull 4 nats", summ["model_pull4"]),
                      ("pieces: chords free (before)", summ["model_free"])):
        print(f"| {label} | {sm['chord_irregularity']:.1f} | {sm['pc_entropy']:.3f} | "
              f"{sm['notes_per_bar']:.1f} "
              f"| {sm['repeat_max']:.0f} / {sm['repeat_median']:.0f} | | | |")
    for name, o in optsum.items():
        print(f"| continuation: {name} | {o['chord_irregularity']:.1f} | {o['pc_entropy']:.3f} | "
              f"{o['notes_per_bar']:.1f} | {o['repeat_max']:.0f} / {o['repeat_median']:.0f} | "
              f"{100 * o['key']:.0f}% | {o['oa_pitch']:.3f} | {o['oa_duration']:.3f} |")
    print()
    print(f"Speed: {BARS} bars with `compose()` (model loaded), median {speed['median_s']:.2f} s of "
          f"{speed['all_s']} (target <= 5 s); peak memory {speed['peak_mb']:.0f} MB (ru_maxrss after it).")
    if args.json:
        args.json.write_text(json.dumps({"nll": {"model": ev, "markov": mk_nll}, "pieces": summ,
                                         "continuations": contsum, "options": optsum, "speed": speed},
                                        indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
