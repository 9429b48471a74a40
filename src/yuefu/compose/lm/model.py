"""The Compound Word Transformer: CP embeddings, relative self-attention, chained family heads.

* Input: each family's embedding (``d_model`` wide) is summed (equivalent to concatenating
  per-family embeddings and projecting, as in Hsiao et al. 2021).
* Decoder blocks (pre-LayerNorm) with causal *relative* self-attention (Shaw et al. 2018;
  Huang et al. 2018, Music Transformer): a learned embedding per head and relative distance
  0..``max_len``-1, added to the content logits. Over a whole sequence it is computed with the
  memory-efficient "skewing" (O(L·D) extra memory, not O(L²·D)); one step at a time, with a
  key/value cache, by gathering the distances directly. Distances beyond ``max_len``-1 are
  clipped, so sampling can slide past the context (the COND row stays pinned in the cache).
* Heads, sampled in :data:`~yuefu.compose.lm.tokens.HEAD_FAMILIES` order: the type head reads the
  hidden state; each later head reads the hidden state plus the embeddings of the families
  already chosen in that step (the CP paper conditions on the type; we chain all of them, so
  that e.g. the pitch head knows the track).

Weights are a plain ``state_dict``; :class:`ModelConfig` (JSON) rebuilds the module.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from yuefu.core.errors import ParameterError

from .tokens import FAMILIES, HEAD_FAMILIES

__all__ = ["ModelConfig", "CompoundTransformer", "KVCache", "skew", "relative_logits_naive",
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


class KVCache:
    """Keys, values and absolute positions per layer, for step-by-step decoding.

    ``max_len`` bounds the cache: beyond it the oldest entries after the first (the COND row)
    are dropped, so generation can run past the context.
    """

    def __init__(self, n_layers: int, max_len: int):
        self.k: list[torch.Tensor | None] = [None] * n_layers
        self.v: list[torch.Tensor | None] = [None] * n_layers
        self.pos = torch.zeros(0, dtype=torch.long)
        self.max_len = max_len
        self.next_pos = 0

    def __len__(self) -> int:
        return int(self.pos.numel())

    def truncate(self, before_pos: int) -> None:
        """Forget every entry at absolute position >= ``before_pos`` (to re-sample a bar)."""
        keep = self.pos < before_pos
        self.pos = self.pos[keep]
        for i in range(len(self.k)):
            k, v = self.k[i], self.v[i]
            if k is not None and v is not None:
                self.k[i], self.v[i] = k[:, :, keep], v[:, :, keep]
        self.next_pos = before_pos

    def _trim(self) -> None:
        over = len(self) - self.max_len
        if over <= 0:
            return
        keep = torch.ones(len(self), dtype=torch.bool)
        keep[1:1 + over] = False
        self.pos = self.pos[keep]
        for i in range(len(self.k)):
            k, v = self.k[i], self.v[i]
            if k is not None and v is not None:
                self.k[i], self.v[i] = k[:, :, keep], v[:, :, keep]


class RelativeSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, max_len: int, dropout: float):
        super().__init__()
        self.h, self.dh, self.max_len = n_heads, d_model // n_heads, max_len
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.rel = nn.Parameter(torch.randn(n_heads, max_len, self.dh) * self.dh ** -0.5)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0,
                new_pos: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.h, self.dh).permute(2, 0, 3, 1, 4)
        scale = 1.0 / math.sqrt(self.dh)
        past_k = cache.k[layer] if cache is not None else None
        if past_k is None:
            if n > self.max_len:
                raise ParameterError(f"sequence of {n} rows is longer than the context ({self.max_len})")
            logits = q @ k.transpose(-1, -2) + relative_logits_skewed(q, self.rel)
            causal = torch.ones(n, n, dtype=torch.bool, device=x.device).triu(1)
            logits = (logits * scale).masked_fill(causal, float("-inf"))
            if cache is not None:
                cache.k[layer], cache.v[layer] = k, v
            keys, vals = k, v
        else:
            assert cache is not None and new_pos is not None
            past_v = cache.v[layer]
            assert past_v is not None
            keys = torch.cat([past_k, k], dim=2)
            vals = torch.cat([past_v, v], dim=2)
            kpos = torch.cat([cache.pos, new_pos])
            dist = new_pos[:, None] - kpos[None, :]  # (n, S)
            future = dist < 0
            idx = self.max_len - 1 - dist.clamp(0, self.max_len - 1)
            rel = self.rel[:, idx, :]  # (H, n, S, Dh)
            logits = q @ keys.transpose(-1, -2) + torch.einsum("bhnd,hnsd->bhns", q, rel)
            logits = (logits * scale).masked_fill(future, float("-inf"))
            cache.k[layer], cache.v[layer] = keys, vals
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
                new_pos: torch.Tensor | None) -> torch.Tensor:
        x = x + self.drop(self.att(self.ln1(x), cache, layer, new_pos))
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
        h = self.drop(self.embed(x))
        new_pos = None
        if cache is not None:
            n = x.shape[1]
            new_pos = torch.arange(cache.next_pos, cache.next_pos + n)
        for i, blk in enumerate(self.blocks):
            h = blk(h, cache, i, new_pos)
        if cache is not None and new_pos is not None:
            cache.pos = torch.cat([cache.pos, new_pos])
            cache.next_pos += x.shape[1]
            cache._trim()
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
