"""An interpolated modified Kneser-Ney n-gram language model in numpy: training, saving, querying.

The model predicts the next *unit* (a Han character for Chinese, a word for English) from the
previous ``order - 1`` units of the same line. Every line is padded on the left with ``<s>`` and
ends with ``</s>``. Probabilities interpolate all orders (Chen & Goodman's modified Kneser-Ney
with three discounts per order): the highest order uses raw counts, lower orders continuation
counts (how many different units precede an n-gram), except n-grams that start with ``<s>``,
which have no left context and keep their raw counts.

Pruning keeps the file small: an n-gram seen fewer than ``min_counts[n]`` times is dropped, and its
discounted mass moves to the context's back-off weight, so every distribution still sums to one.

Storage (``.npz``, no pickles): ``vocab`` (units, ``<unk>``, ``<s>``, ``</s>`` first), ``p0`` (the
unigram level, already mixed with the uniform distribution), and for each context length k:
``keys{k}`` (sorted packed context ids), ``offsets{k}``, ``succ{k}`` (successor ids, ascending within
a context), ``prob{k}`` (their discounted probabilities) and ``gamma{k}`` (back-off weights).
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yuefu.core.errors import ModelLoadError, ParameterError

__all__ = ["NGramLM", "UNK", "BOS", "EOS", "train_ngram"]

UNK, BOS, EOS = 0, 1, 2
SPECIALS = ("<unk>", "<s>", "</s>")
FORMAT_VERSION = 1


def _bits(n_vocab: int) -> int:
    return max(1, int(math.ceil(math.log2(max(2, n_vocab)))))


def _pack(rows: np.ndarray, bits: int) -> np.ndarray:
    """Pack each row of ids (shape (m, k)) into one uint64, the last id in the lowest bits."""
    out = np.zeros(rows.shape[0], dtype=np.uint64)
    for j in range(rows.shape[1]):
        out = (out << np.uint64(bits)) | rows[:, j].astype(np.uint64)
    return out


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of an int array in lexicographic order, with their counts."""
    if rows.shape[0] == 0:
        return rows, np.zeros(0, dtype=np.int64)
    order = np.lexsort(rows.T[::-1])
    s = rows[order]
    change = np.ones(s.shape[0], dtype=bool)
    change[1:] = np.any(s[1:] != s[:-1], axis=1)
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, s.shape[0]))
    return s[starts], counts.astype(np.int64)


def _discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """Modified Kneser-Ney discounts D1, D2, D3+ from the count-of-counts."""
    n = [int(np.sum(counts == i)) for i in (1, 2, 3, 4)]
    if n[0] == 0 or n[1] == 0:
        return 0.5, 1.0, 1.5
    y = n[0] / (n[0] + 2 * n[1])
    d1 = 1 - 2 * y * n[1] / n[0]
    d2 = 2 - 3 * y * n[2] / n[1] if n[1] else 1.0
    d3 = 3 - 4 * y * n[3] / n[2] if n[2] else 1.5
    return float(np.clip(d1, 0.05, 0.95)), float(np.clip(d2, 0.1, 1.9)), float(np.clip(d3, 0.1, 2.9))


@dataclass
class NGramLM:
    """A trained n-gram model (see the module docstring for the file layout).

    Parameters
    ----------
    order : int
        n of the n-gram (context of ``order - 1`` units).
    vocab : tuple of str
        Units by id; ids 0, 1, 2 are ``<unk>``, ``<s>``, ``</s>``.
    p0 : np.ndarray [shape=(V,), float32]
        The unigram level, mixed with the uniform distribution; ``p0[BOS] == 0``.
    levels : list of dict
        For k = 1 .. order-1: arrays ``keys``, ``offsets``, ``succ``, ``prob``, ``gamma``.
    meta : dict
        Free-form training facts (corpus, counts, discounts, held-out perplexity).
    """

    order: int
    vocab: tuple[str, ...]
    p0: np.ndarray
    levels: list[dict[str, np.ndarray]]
    meta: dict = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {u: i for i, u in enumerate(self.vocab)}
        self.bits = _bits(len(self.vocab))
        self._rows: list[dict[int, int] | None] = [None] * self.order
        self._cache: dict[tuple[int, ...], np.ndarray] = {}
        self._log_cache: dict[tuple[int, ...], np.ndarray] = {}
        # Cached distributions (and their logs), about 96 MB at most whatever the vocabulary.
        self.cache_size = max(256, int(96e6 // (8 * max(1, len(self.vocab)))))

    # -- queries ----------------------------------------------------------------------------------
    @property
    def n_vocab(self) -> int:
        return len(self.vocab)

    def ids(self, units: Iterable[str]) -> list[int]:
        """Ids of units (``<unk>`` for unknown ones)."""
        return [self.index.get(u, UNK) for u in units]

    def _row_index(self, k: int) -> dict[int, int]:
        rows = self._rows[k]
        if rows is None:
            keys = self.levels[k - 1]["keys"]
            rows = dict(zip(keys.tolist(), range(keys.shape[0]), strict=True))
            self._rows[k] = rows
        return rows

    def _key(self, ctx: Sequence[int]) -> int:
        key = 0
        for i in ctx:
            key = (key << self.bits) | int(i)
        return key

    def start(self) -> tuple[int, ...]:
        """The context at the start of a line: ``order - 1`` times ``<s>``."""
        return (BOS,) * (self.order - 1)

    def dist(self, ctx: Sequence[int]) -> np.ndarray:
        """P(next unit | ctx) over the vocabulary, shape (V,), float32; cached.

        ``ctx`` is the last ``order - 1`` ids (pad with ``<s>`` at a line start).
        """
        ctx = tuple(ctx[-(self.order - 1):])
        hit = self._cache.get(ctx)
        if hit is not None:
            return hit
        p = self.p0.copy()
        for k in range(1, self.order):
            if k > len(ctx):
                break
            row = self._row_index(k).get(self._key(ctx[-k:]))
            if row is None:
                continue
            lv = self.levels[k - 1]
            a, b = int(lv["offsets"][row]), int(lv["offsets"][row + 1])
            p *= lv["gamma"][row]
            p[lv["succ"][a:b]] += lv["prob"][a:b]
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
            self._log_cache.clear()
        self._cache[ctx] = p
        return p

    def logdist(self, ctx: Sequence[int]) -> np.ndarray:
        """Natural log of :meth:`dist` (``-inf`` where the probability is 0, i.e. ``<s>``); cached."""
        ctx = tuple(ctx[-(self.order - 1):])
        hit = self._log_cache.get(ctx)
        if hit is not None:
            return hit
        with np.errstate(divide="ignore"):
            lp = np.log(self.dist(ctx))
        self._log_cache[ctx] = lp
        return lp

    def prob(self, ctx: Sequence[int], unit: int) -> float:
        """P(unit | ctx) for one unit, without building the whole distribution."""
        ctx = tuple(ctx[-(self.order - 1):])
        p = float(self.p0[unit])
        for k in range(1, self.order):
            if k > len(ctx):
                break
            row = self._row_index(k).get(self._key(ctx[-k:]))
            if row is None:
                continue
            lv = self.levels[k - 1]
            a, b = int(lv["offsets"][row]), int(lv["offsets"][row + 1])
            succ = lv["succ"][a:b]
            j = int(np.searchsorted(succ, unit))
            pk = float(lv["prob"][a + j]) if j < succ.shape[0] and int(succ[j]) == unit else 0.0
            p = pk + float(lv["gamma"][row]) * p
        return p

    def line_logprob(self, ids: Sequence[int], *, eos: bool = True) -> float:
        """Natural-log probability of one line of ids (with ``</s>`` at the end when ``eos``)."""
        ctx = list(self.start())
        total = 0.0
        for i in [*ids, EOS] if eos else list(ids):
            total += math.log(max(self.prob(ctx, i), 1e-30))
            ctx = [*ctx[1:], i]
        return total

    def perplexity(self, lines: Iterable[Sequence[str]]) -> tuple[float, int]:
        """Per-unit perplexity over lines of units (``</s>`` counted as a unit), and the unit count."""
        total, n = 0.0, 0
        for line in lines:
            ids = self.ids(line)
            total += self.line_logprob(ids)
            n += len(ids) + 1
        if n == 0:
            raise ParameterError("perplexity needs at least one line")
        return math.exp(-total / n), n

    def unigram_perplexity(self, lines: Iterable[Sequence[str]]) -> float:
        """Perplexity of the maximum-likelihood unigram baseline stored in ``extras['unigram']``."""
        uni = self.extras["unigram"]
        total, n = 0.0, 0
        for line in lines:
            for i in [*self.ids(line), EOS]:
                total += math.log(max(float(uni[i]), 1e-30))
                n += 1
        return math.exp(-total / max(n, 1))

    # -- files ------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the model as a compressed ``.npz`` (no pickled objects)."""
        arrays: dict[str, np.ndarray] = {
            "vocab": np.array(json.dumps(list(self.vocab), ensure_ascii=False)),
            "meta": np.array(json.dumps({**self.meta, "order": self.order,
                                         "format_version": FORMAT_VERSION}, ensure_ascii=False)),
            "p0": self.p0.astype(np.float32),
        }
        for k, lv in enumerate(self.levels, start=1):
            for name, arr in lv.items():
                arrays[f"{name}{k}"] = arr
        for name, arr in self.extras.items():
            arrays[f"x_{name}"] = arr
        _write_npz(Path(path), arrays)

    @classmethod
    def load(cls, path: str | Path) -> NGramLM:
        """Read a model written by :meth:`save`; raises :class:`ModelLoadError` if it is not one."""
        p = Path(path)
        try:
            with np.load(p, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except FileNotFoundError:
            raise ModelLoadError(f"{p}: model file missing") from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise ModelLoadError(f"{p}: not a readable model file ({e})") from None
        try:
            meta = json.loads(str(data["meta"]))
            vocab = tuple(json.loads(str(data["vocab"])))
            order = int(meta["order"])
            levels = [
                {n: data[f"{n}{k}"] for n in ("keys", "offsets", "succ", "prob", "gamma")}
                for k in range(1, order)
            ]
            extras = {k[2:]: v for k, v in data.items() if k.startswith("x_")}
            p0 = data["p0"].astype(np.float32)
        except (KeyError, ValueError, TypeError) as e:
            raise ModelLoadError(f"{p}: incomplete model file (missing {e})") from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise ModelLoadError(
                f"{p}: model format {meta.get('format_version')!r}; expected {FORMAT_VERSION}"
            )
        if p0.shape != (len(vocab),):
            raise ModelLoadError(f"{p}: unigram table has {p0.shape} entries for {len(vocab)} units")
        return cls(order=order, vocab=vocab, p0=p0, levels=levels, meta=meta, extras=extras)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A compressed ``.npz`` with fixed member times, so equal arrays give byte-identical files."""
    import io

    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    tmp.replace(path)


def train_ngram(
    lines: Sequence[Sequence[int]],
    *,
    vocab: Sequence[str],
    order: int,
    min_counts: Sequence[int],
    prob_dtype: type = np.float32,
) -> NGramLM:
    """Train an interpolated modified Kneser-Ney model on lines of unit ids.

    Parameters
    ----------
    lines : sequence of sequences of int
        Training lines as ids into ``vocab`` (without ``<s>``/``</s>``; 0 is ``<unk>``).
    vocab : sequence of str
        The units; the first three must be ``<unk>``, ``<s>``, ``</s>``.
    order : int
        n of the n-gram, 2..6.
    min_counts : sequence of int
        ``min_counts[n - 2]`` is the least count an n-gram (n >= 2) needs to be stored.
    prob_dtype : numpy dtype
        Storage type of the discounted probabilities (float32, or float16 for a smaller file).

    Returns
    -------
    NGramLM
    """
    if tuple(vocab[:3]) != SPECIALS:
        raise ParameterError(f"the vocabulary must start with {SPECIALS}")
    if not 2 <= order <= 6:
        raise ParameterError(f"order must be 2..6, got {order}")
    if len(min_counts) != order - 1:
        raise ParameterError(f"min_counts needs {order - 1} entries (orders 2..{order})")
    V = len(vocab)
    pad = order - 1
    # One flat array: each line padded with order-1 <s> on the left and </s> on the right.
    seqs = [np.concatenate([np.full(pad, BOS), np.asarray(ln, dtype=np.int64), [EOS]]) for ln in lines]
    flat = np.concatenate(seqs).astype(np.int32)
    line_id = np.concatenate([np.full(len(s), i) for i, s in enumerate(seqs)])
    targets = np.flatnonzero(flat != BOS)  # every position that is predicted
    # Windows ending at each target, for every n: all stay inside their line thanks to the padding.
    grams: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for n in range(1, order + 1):
        idx = targets[:, None] + np.arange(-n + 1, 1)[None, :]
        assert np.all(line_id[idx[:, 0]] == line_id[targets])
        grams[n] = _unique_rows(flat[idx])
    # Adjusted counts: raw for the top order and <s>-initial n-grams, continuation counts otherwise.
    adjusted: dict[int, tuple[np.ndarray, np.ndarray]] = {order: grams[order]}
    for n in range(order - 1, 0, -1):
        rows, raw = grams[n]
        higher = grams[n + 1][0][:, 1:]  # suffixes of the distinct (n+1)-grams
        suf, cont = _unique_rows(higher)
        keys_rows, keys_suf = _pack(rows, _bits(V)), _pack(suf, _bits(V))
        pos = np.searchsorted(keys_suf, keys_rows)
        pos = np.clip(pos, 0, max(len(keys_suf) - 1, 0))
        found = keys_suf[pos] == keys_rows if len(keys_suf) else np.zeros(len(rows), bool)
        c = np.where(found, cont[pos] if len(cont) else 0, 0)
        c = np.where(rows[:, 0] == BOS, raw, c)
        adjusted[n] = (rows, c.astype(np.int64))
    meta: dict = {"discounts": {}, "n_lines": len(lines), "n_units": int(len(targets)), "ngrams": {}}
    # Unigram level, interpolated with the uniform distribution over every unit but <s>.
    rows1, c1 = adjusted[1]
    d = _discounts(c1[c1 > 0])
    meta["discounts"]["1"] = d
    p0 = np.zeros(V, dtype=np.float64)
    dd = np.where(c1 == 1, d[0], np.where(c1 == 2, d[1], d[2]))
    p0[rows1[:, 0]] = np.maximum(c1 - dd, 0) / c1.sum()
    gamma0 = 1.0 - p0.sum()
    p0 += gamma0 / (V - 1)
    p0[BOS] = 0.0
    p0 /= p0.sum()
    levels: list[dict[str, np.ndarray]] = []
    for n in range(2, order + 1):
        rows, c = adjusted[n]
        d = _discounts(c[c > 0])
        meta["discounts"][str(n)] = d
        ctx_keys = _pack(rows[:, :-1], _bits(V))
        # rows are sorted lexicographically, so contexts are contiguous and ascending.
        change = np.ones(len(rows), dtype=bool)
        change[1:] = ctx_keys[1:] != ctx_keys[:-1]
        ctx_start = np.flatnonzero(change)
        ctx_of = np.cumsum(change) - 1
        totals = np.add.reduceat(c, ctx_start)
        dd = np.where(c == 1, d[0], np.where(c == 2, d[1], d[2]))
        pk = np.maximum(c - dd, 0) / totals[ctx_of]
        keep = c >= int(min_counts[n - 2])
        stored = pk[keep].astype(prob_dtype)  # back-off weights from the stored (rounded) values
        kept_mass = np.bincount(ctx_of[keep], weights=stored.astype(np.float64), minlength=len(ctx_start))
        has = np.bincount(ctx_of[keep], minlength=len(ctx_start)) > 0
        gamma = np.clip(1.0 - kept_mass, 0.0, 1.0)
        new_ctx = np.cumsum(has) - 1
        succ = rows[keep, -1]
        counts_per_ctx = np.bincount(new_ctx[ctx_of[keep]], minlength=int(has.sum()))
        offsets = np.concatenate([[0], np.cumsum(counts_per_ctx)]).astype(np.int32)
        levels.append({
            "keys": ctx_keys[ctx_start][has],
            "offsets": offsets,
            "succ": succ.astype(np.uint16 if V <= 65535 else np.uint32),
            "prob": stored,
            "gamma": gamma[has].astype(np.float32),
        })
        meta["ngrams"][str(n)] = {"distinct": int(len(rows)), "kept": int(keep.sum()),
                                  "contexts": int(has.sum())}
    uni = np.bincount(flat[targets], minlength=V).astype(np.float64)
    uni = (uni + 0.01) / (uni.sum() + 0.01 * V)  # the ML unigram baseline, lightly smoothed
    return NGramLM(order=order, vocab=tuple(vocab), p0=p0.astype(np.float32), levels=levels, meta=meta,
                   extras={"unigram": uni.astype(np.float32)})
