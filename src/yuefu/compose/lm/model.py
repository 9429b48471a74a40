"""The Compound Word Transformer: CP embeddings, relative self-attention, chained family heads.

* Input: each family's embedding (``d_model`` wide) is summed (equivalent to concatenating
  per-family embeddings and projecting, as in Hsiao et al. 2021).
* Decoder blocks (pre-LayerNorm) with causal *relative* self-attention (Shaw et al. 2018;
  Huang et al. 2018, Music Transformer): a learned embedding per head and relative distance
  0..``max_len``-1, added to the content logits. Over a whole sequence it is computed with the
  memory-efficient "skewing" (O(L·D) extra memory, not O(L²·D)); one step at a time, with a
  key/value cache, by gathering the distances directly. Distances beyond ``max_len``-1 are
  clipped, so sampling can slide past the context (the COND row stays pinned in the cache, the
  other rows are a ring buffer of the latest ``max_len`` - 1). :class:`Decoder` is the same
  arithmetic for one row at a time without ``nn.Module`` dispatch: what sampling uses.
* Heads, sampled in :data:`~yuefu.compose.lm.tokens.HEAD_FAMILIES` order: the type head reads the
  hidden state; each later head reads the hidden state plus the embeddings of the families
  already chosen in that step (the CP paper conditions on the type; we chain all of them, so
  that e.g. the pitch head knows the track).

Weights are a plain ``state_dict``; :class:`ModelConfig` (JSON) rebuilds the module.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from yuefu.core.errors import ParameterError

from .tokens import FAMILIES, HEAD_FAMILIES

__all__ = ["ModelConfig", "CompoundTransformer", "KVCache", "Decoder", "skew", "relative_logits_naive",
           "relative_logits_skewed"]


@dataclass(frozen=True)
class ModelConfig:
    """Constructor arguments of :class:`CompoundTransformer` (saved as JSON with the weights)."""

    vocab_sizes: tuple[int, ...]
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    d_ff: int = 1024
    max_len: int = 512
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if len(self.vocab_sizes) != len(FAMILIES):
            raise ParameterError(f"vocab_sizes: {len(self.vocab_sizes)} families, expected {len(FAMILIES)}")
        if self.max_len < 2:
            raise ParameterError(f"max_len must be >= 2, got {self.max_len}")
        if self.d_model % self.n_heads:
            raise ParameterError(f"d_model {self.d_model} is not a multiple of n_heads {self.n_heads}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["vocab_sizes"] = list(self.vocab_sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ParameterError(f"model config: unknown key(s) {', '.join(sorted(unknown))}")
        return cls(**{**d, "vocab_sizes": tuple(d["vocab_sizes"])})


def skew(qe: torch.Tensor) -> torch.Tensor:
    """Huang et al.'s skewing: ``(..., L, L)`` logits against distances ``L-1..0`` (column m is
    distance L-1-m) -> ``(..., L, L)`` logits by key index: ``out[i, j] = qe[i, L-1-i+j]`` for
    ``j <= i`` (the upper triangle is garbage, to be masked)."""
    *b, n, m = qe.shape
    padded = F.pad(qe, (1, 0))  # (..., L, L+1)
    return padded.reshape(*b, m + 1, n)[..., 1:, :]


def relative_logits_skewed(q: torch.Tensor, rel: torch.Tensor) -> torch.Tensor:
    """``q`` (B, H, L, Dh) against relative embeddings ``rel`` (H, max_len, Dh), row m of which
    is distance max_len-1-m: the (B, H, L, L) relative logits, by skewing."""
    n = q.shape[-2]
    qe = torch.einsum("bhld,hmd->bhlm", q, rel[:, rel.shape[1] - n:, :])
    return skew(qe)


def relative_logits_naive(q: torch.Tensor, rel: torch.Tensor) -> torch.Tensor:
    """The same as :func:`relative_logits_skewed` the O(L²·D) way (a reference for tests):
    gather the embedding of each (query, key) distance, then take the dot product."""
    n = q.shape[-2]
    max_len = rel.shape[1]
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    dist = (i - j).clamp(min=0)
    e = rel[:, max_len - 1 - dist, :]  # (H, L, L, Dh)
    out = torch.einsum("bhid,hijd->bhij", q, e)
    return out.masked_fill(j > i, 0.0)


_FREE = 1 << 40  # position of an empty cache slot: later than any query, so always masked


class KVCache:
    """Keys and values per layer in pre-allocated slots, for step-by-step decoding.

    Slot 0 holds the first row (the COND row) for good; slots 1..``max_len``-1 are a ring
    buffer of the latest rows. Once the ring is full each new row overwrites the oldest, so
    generation can run past the context with O(1) work per row (no concatenation, no copy),
    and a query always sees at most ``max_len`` keys, as in training. Attention does not care
    about the order of the keys: each slot keeps its row's absolute position, from which the
    relative distances are computed.

    Attributes
    ----------
    k, v : torch.Tensor [shape=(n_layers, batch, heads, max_len, head_dim)] or None
        Allocated on the first write.
    slot_pos : torch.Tensor [shape=(max_len,), dtype=int64]
        The absolute position of the row in each slot (a huge value in an empty slot).
    hi : int
        Slots ``[0, hi)`` have been written; attention reads only those.
    next_pos : int
        The absolute position of the next row.
    """

    def __init__(self, n_layers: int, max_len: int):
        if max_len < 2:
            raise ParameterError(f"a key/value cache needs max_len >= 2, got {max_len}")
        self.n_layers = n_layers
        self.max_len = max_len
        self.k: torch.Tensor | None = None
        self.v: torch.Tensor | None = None
        self.slot_pos = torch.full((max_len,), _FREE, dtype=torch.long)
        self._pos = [_FREE] * max_len  # the same, as Python ints (cheap to read)
        self._reset()

    def _reset(self) -> None:
        self.slot_pos.fill_(_FREE)
        self._pos = [_FREE] * self.max_len
        self.hi = 0
        self.n_ring = 0  # rows in slots 1.. (the newest is in the slot before ``w``)
        self.w = 1  # the ring slot the next row goes to
        self.next_pos = 0

    def __len__(self) -> int:
        return int(self._pos[0] != _FREE) + self.n_ring

    @property
    def pos(self) -> torch.Tensor:
        """Absolute positions of the cached rows, ascending."""
        return torch.tensor(sorted(p for p in self._pos[: self.hi] if p != _FREE), dtype=torch.long)

    def _ensure(self, like: torch.Tensor) -> None:
        if self.k is None:
            b, h, _, dh = like.shape
            self.k = like.new_zeros((self.n_layers, b, h, self.max_len, dh))
            self.v = like.new_zeros((self.n_layers, b, h, self.max_len, dh))

    def alloc(self, n: int) -> list[int]:
        """Slots for the next ``n`` rows (evicting the oldest ring rows when full); their
        positions are ``next_pos``, ``next_pos + 1``, ..."""
        slots = []
        for i in range(n):
            if self._pos[0] == _FREE:
                s = 0
            else:
                s = self.w
                if self.n_ring < self.max_len - 1:
                    self.n_ring += 1
                self.w = s + 1 if s + 1 < self.max_len else 1
            self._pos[s] = self.next_pos + i
            slots.append(s)
            self.hi = max(self.hi, s + 1)
        if slots == list(range(slots[0], slots[0] + n)):
            self.slot_pos[slots[0]:slots[0] + n] = torch.arange(self.next_pos, self.next_pos + n)
        else:
            self.slot_pos[torch.tensor(slots)] = torch.arange(self.next_pos, self.next_pos + n)
        self.next_pos += n
        return slots

    def truncate(self, before_pos: int) -> None:
        """Forget every entry at absolute position >= ``before_pos`` (to re-sample a bar).

        Rows the ring already evicted do not come back: after a truncation past the context
        the re-drawn rows see a shorter history until the ring fills again."""
        if self._pos[0] != _FREE and self._pos[0] >= before_pos:
            self._reset()  # the buffers are kept (and overwritten)
        while self.n_ring > 0:
            prev = self.w - 1 if self.w > 1 else self.max_len - 1
            if self._pos[prev] < before_pos:
                break
            self._pos[prev] = _FREE
            self.slot_pos[prev] = _FREE
            self.w = prev
            self.n_ring -= 1
        self.next_pos = before_pos


@dataclass
class _Step:
    """What every layer of one cached call shares: the slots written, the relative-distance
    index of each (query, slot) and the mask (None when nothing is masked)."""

    slots: list[int]
    prefill: bool  # the cache was empty: attend by skewing over the new rows alone
    idx: torch.Tensor | None = None  # (n, hi) index into the relative embeddings
    mask: torch.Tensor | None = None  # (n, hi) True where masked


def _step_info(cache: KVCache, n: int) -> _Step:
    was_empty = len(cache) == 0
    if was_empty and n > cache.max_len:
        raise ParameterError(f"sequence of {n} rows is longer than the context ({cache.max_len})")
    first = cache.next_pos
    slots = cache.alloc(n)
    if was_empty:
        return _Step(slots, True)
    new_pos = torch.arange(first, first + n)
    dist = new_pos[:, None] - cache.slot_pos[None, : cache.hi]
    m = cache.max_len
    idx = (m - 1) - dist.clamp(0, m - 1)
    mask = dist < 0 if (n > 1 or len(cache) < cache.hi) else None
    return _Step(slots, False, idx, mask)


class RelativeSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, max_len: int, dropout: float):
        super().__init__()
        self.h, self.dh, self.max_len = n_heads, d_model // n_heads, max_len
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.rel = nn.Parameter(torch.randn(n_heads, max_len, self.dh) * self.dh ** -0.5)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0,
                step: _Step | None = None) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.h, self.dh).permute(2, 0, 3, 1, 4)
        scale = 1.0 / math.sqrt(self.dh)
        if cache is None or step is None or step.prefill:
            if n > self.max_len:
                raise ParameterError(f"sequence of {n} rows is longer than the context ({self.max_len})")
            logits = q @ k.transpose(-1, -2) + relative_logits_skewed(q, self.rel)
            causal = torch.ones(n, n, dtype=torch.bool, device=x.device).triu(1)
            logits = (logits * scale).masked_fill(causal, float("-inf"))
            if cache is not None:
                cache._ensure(k)
                assert cache.k is not None and cache.v is not None
                cache.k[layer, :, :, :n] = k
                cache.v[layer, :, :, :n] = v
            keys, vals = k, v
        else:
            cache._ensure(k)
            assert cache.k is not None and cache.v is not None and step.idx is not None
            s = step.slots
            if s == list(range(s[0], s[0] + n)):
                cache.k[layer, :, :, s[0]:s[0] + n] = k
                cache.v[layer, :, :, s[0]:s[0] + n] = v
            else:
                cache.k[layer, :, :, s] = k
                cache.v[layer, :, :, s] = v
            keys = cache.k[layer, :, :, : cache.hi]
            vals = cache.v[layer, :, :, : cache.hi]
            # q . rel[distance] for every distance, then picked per (query, slot)
            qr = q @ self.rel.transpose(-1, -2)  # (B, H, n, max_len)
            rel = torch.gather(qr, 3, step.idx.expand(b, self.h, n, cache.hi))
            logits = (q @ keys.transpose(-1, -2) + rel) * scale
            if step.mask is not None:
                logits = logits.masked_fill(step.mask, float("-inf"))
        att = self.drop(torch.softmax(logits, dim=-1))
        y = (att @ vals).transpose(1, 2).reshape(b, n, d)
        return self.out(y)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.att = RelativeSelfAttention(cfg.d_model, cfg.n_heads, cfg.max_len, cfg.dropout)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.ff = nn.Sequential(nn.Linear(cfg.d_model, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, cfg.d_model))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, cache: KVCache | None, layer: int,
                step: _Step | None) -> torch.Tensor:
        x = x + self.drop(self.att(self.ln1(x), cache, layer, step))
        return x + self.drop(self.ff(self.ln2(x)))


class CompoundTransformer(nn.Module):
    """A causal Transformer over compound tokens with one output head per family.

    Parameters
    ----------
    cfg : ModelConfig

    Examples
    --------
    >>> import torch
    >>> m = CompoundTransformer(ModelConfig(vocab_sizes=(6,) + (5,) * 11, d_model=16, n_layers=1,
    ...                                     n_heads=2, d_ff=32, max_len=8))
    >>> x = torch.zeros(1, 4, 12, dtype=torch.long)
    >>> {f: v.shape[-1] for f, v in m(x, x).items()}["type"]
    6
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.emb = nn.ModuleList(nn.Embedding(n, cfg.d_model) for n in cfg.vocab_sizes)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head_idx = [FAMILIES.index(f) for f in HEAD_FAMILIES]
        self.head_ln = nn.ModuleList(nn.LayerNorm(cfg.d_model) for _ in HEAD_FAMILIES)
        self.heads = nn.ModuleList(nn.Linear(cfg.d_model, cfg.vocab_sizes[i]) for i in self.head_idx)
        # embeddings of the families already sampled in a step, fed to the later heads
        self.chain = nn.ModuleList(nn.Embedding(cfg.vocab_sizes[i], cfg.d_model) for i in self.head_idx[:-1])
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, F) ids -> (B, L, D): the sum of the family embeddings."""
        e = self.emb[0](x[..., 0])
        for i in range(1, len(self.emb)):
            e = e + self.emb[i](x[..., i])
        return e

    def hidden(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """The final hidden states (B, L, D) of rows ``x`` (B, L, F).

        With a ``cache``, ``x`` continues the cached rows (or starts them if it is empty) and
        the cache is extended.
        """
        if cache is not None and len(cache) > 0 and x.shape[1] > 1 \
                and len(cache) + x.shape[1] > cache.max_len:
            # rows that would evict each other's keys: one at a time, each seeing its own window
            return torch.cat([self.hidden(x[:, i:i + 1], cache) for i in range(x.shape[1])], dim=1)
        h = self.drop(self.embed(x))
        step = _step_info(cache, x.shape[1]) if cache is not None else None
        for i, blk in enumerate(self.blocks):
            h = blk(h, cache, i, step)
        return self.ln_f(h)

    def head_logits(self, h: torch.Tensor, k: int, chosen: list[torch.Tensor]) -> torch.Tensor:
        """Logits of head ``k`` (index into HEAD_FAMILIES) given the ids ``chosen`` of heads 0..k-1."""
        z = h
        for j in range(k):
            z = z + self.chain[j](chosen[j])
        return self.heads[k](self.head_ln[k](z))

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """Teacher-forced logits per head family for predicting ``target`` (B, L, F) from ``x``."""
        h = self.hidden(x)
        out = {}
        z = h
        for k, fi in enumerate(self.head_idx):
            out[HEAD_FAMILIES[k]] = self.heads[k](self.head_ln[k](z))
            if k < len(self.chain):
                z = z + self.chain[k](target[..., fi])
        return out


class Decoder:
    """Fast one-row-at-a-time decoding with a :class:`KVCache` (inference only).

    The same arithmetic as :meth:`CompoundTransformer.hidden` and :meth:`head_logits` in eval
    mode, written with functional calls on the module's weights: a generation step costs a few
    dozen tensor operations and no ``nn.Module`` dispatch. The weights are read when the
    decoder is made; make a new one after training further.

    Parameters
    ----------
    net : CompoundTransformer
    cache : KVCache, optional
        Default: an empty one of the model's context.

    Examples
    --------
    >>> import torch
    >>> net = CompoundTransformer(ModelConfig(vocab_sizes=(6,) + (5,) * 11, d_model=16, n_layers=1,
    ...                                       n_heads=2, d_ff=32, max_len=8)).eval()
    >>> dec = Decoder(net)
    >>> h = dec.prefill(torch.zeros(3, 12, dtype=torch.long))
    >>> dec.step(torch.zeros(12, dtype=torch.long)).shape
    torch.Size([16])
    """

    def __init__(self, net: CompoundTransformer, cache: KVCache | None = None):
        cfg = net.cfg
        self.net = net
        m_: Any = net  # nn.Module attributes are untyped
        self.cache = cache or KVCache(cfg.n_layers, cfg.max_len)
        self.d, self.h = cfg.d_model, cfg.n_heads
        self.dh = cfg.d_model // cfg.n_heads
        self.m = cfg.max_len
        self.scale = 1.0 / math.sqrt(self.dh)
        self.emb = torch.cat([e.weight.detach() for e in m_.emb])
        self.offsets = torch.tensor([0, *torch.tensor(cfg.vocab_sizes).cumsum(0)[:-1].tolist()])
        self.layers: list[tuple[Any, ...]] = []
        for blk in m_.blocks:
            att = blk.att
            ff1, ff2 = blk.ff[0], blk.ff[2]
            self.layers.append((
                blk.ln1.weight.detach(), blk.ln1.bias.detach(), blk.ln1.eps,
                att.qkv.weight.detach(), att.qkv.bias.detach(),
                att.rel.detach().transpose(1, 2).contiguous(),  # (H, Dh, max_len)
                att.out.weight.detach(), att.out.bias.detach(),
                blk.ln2.weight.detach(), blk.ln2.bias.detach(), blk.ln2.eps,
                ff1.weight.detach(), ff1.bias.detach(), ff2.weight.detach(), ff2.bias.detach()))
        self.ln_f = (m_.ln_f.weight.detach(), m_.ln_f.bias.detach(), float(m_.ln_f.eps))
        self.heads = [(ln.weight.detach(), ln.bias.detach(), float(ln.eps), lin.weight.detach(),
                       lin.bias.detach()) for ln, lin in zip(m_.head_ln, m_.heads, strict=True)]
        self.chain = [c.weight.detach() for c in m_.chain]

    def prefill(self, rows: torch.Tensor) -> torch.Tensor:
        """Feed rows (L, F) into the cache; the last hidden state (D,)."""
        return self.net.hidden(rows[None], self.cache)[0, -1]

    def step(self, row: torch.Tensor) -> torch.Tensor:
        """Feed one row (F,) into the cache; its hidden state (D,)."""
        cache, d, m = self.cache, self.d, self.m
        x = self.emb.index_select(0, row + self.offsets).sum(0)
        pos = cache.next_pos
        slot = cache.alloc(1)[0]
        hi = cache.hi
        dist = pos - cache.slot_pos[:hi]
        idx = (m - 1) - dist.clamp(0, m - 1)
        mask = (dist < 0).view(1, 1, hi) if len(cache) < hi else None
        if cache.k is None:
            cache.k = torch.zeros((cache.n_layers, 1, self.h, m, self.dh))
            cache.v = torch.zeros_like(cache.k)
        assert cache.v is not None
        for i, layer in enumerate(self.layers):
            w1, b1, e1, wqkv, bqkv, rel_t, wo, bo, w2, b2, e2, wf1, bf1, wf2, bf2 = layer
            qkv = F.linear(F.layer_norm(x, (d,), w1, b1, e1), wqkv, bqkv).view(3, self.h, 1, self.dh)
            keys, vals = cache.k[i, 0], cache.v[i, 0]  # (H, max_len, Dh)
            keys[:, slot] = qkv[1, :, 0]
            vals[:, slot] = qkv[2, :, 0]
            q = qkv[0] * self.scale  # (H, 1, Dh)
            rel = torch.bmm(q, rel_t).index_select(2, idx)  # (H, 1, hi)
            logits = torch.baddbmm(rel, q, keys[:, :hi].transpose(1, 2))
            if mask is not None:
                logits = logits.masked_fill(mask, float("-inf"))
            y = torch.bmm(torch.softmax(logits, dim=-1), vals[:, :hi]).reshape(d)
            x = x + F.linear(y, wo, bo)
            x = x + F.linear(F.gelu(F.linear(F.layer_norm(x, (d,), w2, b2, e2), wf1, bf1)), wf2, bf2)
        return F.layer_norm(x, (d,), *self.ln_f[:2], self.ln_f[2])

    def head(self, k: int, z: torch.Tensor) -> torch.Tensor:
        """Logits of head ``k`` (index into HEAD_FAMILIES) from ``z``: the hidden state plus the
        chain embeddings of the families already chosen (see :meth:`chained`)."""
        w, b, eps, lw, lb = self.heads[k]
        return F.linear(F.layer_norm(z, (self.d,), w, b, eps), lw, lb)

    def chained(self, z: torch.Tensor, k: int, value: int) -> torch.Tensor:
        """``z`` plus the chain embedding of id ``value`` of head ``k``'s family."""
        return z + self.chain[k][value]
