"""The Compound Word Transformer: relative attention by skewing, causality, the key/value cache."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="the music language model needs PyTorch (yuefu[ml])")

from yuefu.compose.lm.model import (  # noqa: E402
    CompoundTransformer,
    Decoder,
    KVCache,
    ModelConfig,
    relative_logits_naive,
    relative_logits_skewed,
)

SIZES = (6, 17, 20, 3, 30, 12, 9, 9, 10, 4, 9, 3)


def _net(max_len: int = 24, seed: int = 0) -> CompoundTransformer:
    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_sizes=SIZES, d_model=32, n_layers=2, n_heads=4, d_ff=64, max_len=max_len,
                      dropout=0.0)
    return CompoundTransformer(cfg).eval()


def _rows(n: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randint(0, s, (1, n), generator=g) for s in SIZES], dim=-1)


@pytest.mark.parametrize("n, max_len", [(1, 1), (7, 7), (7, 20), (33, 40)])
def test_skewing_equals_naive_relative_attention(n: int, max_len: int) -> None:
    torch.manual_seed(n)
    q = torch.randn(2, 3, n, 8, dtype=torch.float64)
    rel = torch.randn(3, max_len, 8, dtype=torch.float64)
    lower = torch.ones(n, n, dtype=torch.bool).tril()
    fast = relative_logits_skewed(q, rel)[..., lower]
    slow = relative_logits_naive(q, rel)[..., lower]
    assert torch.allclose(fast, slow, atol=1e-12)


def test_naive_reference_is_the_definition() -> None:
    # S_rel[i, j] = q_i . E[max_len - 1 - (i - j)], written out by hand for one (i, j)
    torch.manual_seed(0)
    q = torch.randn(1, 1, 5, 4, dtype=torch.float64)
    rel = torch.randn(1, 9, 4, dtype=torch.float64)
    s = relative_logits_skewed(q, rel)
    assert torch.isclose(s[0, 0, 4, 1], q[0, 0, 4] @ rel[0, 9 - 1 - 3], atol=1e-12)
    assert torch.isclose(s[0, 0, 2, 2], q[0, 0, 2] @ rel[0, 8], atol=1e-12)


def test_changing_a_future_row_leaves_past_logits_unchanged() -> None:
    net = _net()
    x = _rows(16)
    y = _rows(16, seed=2)
    a = net(x, y)
    x2 = x.clone()
    x2[0, 10] = (x2[0, 10] + 1) % torch.tensor(SIZES)
    b = net(x2, y)
    for fam in a:
        assert torch.allclose(a[fam][0, :10], b[fam][0, :10], atol=1e-6), fam
        assert not torch.allclose(a[fam][0, 10:], b[fam][0, 10:], atol=1e-6), fam


def test_cached_step_by_step_logits_equal_full_sequence_logits() -> None:
    net = _net(max_len=24)
    x = _rows(20)
    y = _rows(20, seed=3)
    with torch.no_grad():
        full = net(x, y)
        cache = KVCache(net.cfg.n_layers, net.cfg.max_len)
        hs = [net.hidden(x[:, :6], cache)]  # prefill (skewing path), then one row at a time
        for t in range(6, 20):
            hs.append(net.hidden(x[:, t:t + 1], cache))
        h = torch.cat(hs, dim=1)
        for k, fam in enumerate(full):
            chosen = [y[..., net.head_idx[j]] for j in range(k)]
            step = net.head_logits(h, k, chosen)
            assert torch.allclose(step, full[fam], atol=1e-5), fam


def test_fast_decoder_equals_full_sequence_logits() -> None:
    net = _net(max_len=24)
    x = _rows(20)
    y = _rows(20, seed=3)
    with torch.no_grad():
        full = net(x, y)
        dec = Decoder(net)
        hs = [dec.prefill(x[0, :5])] + [dec.step(x[0, t]) for t in range(5, 20)]
        h = torch.stack(hs)  # the states at rows 4..19 (each predicts the row after it)
        for k, fam in enumerate(full):
            z = h
            for j in range(k):
                z = z + dec.chain[j][y[0, 4:20, net.head_idx[j]]]
            assert torch.allclose(dec.head(k, z), full[fam][0, 4:20], atol=1e-5), fam


def test_fast_decoder_equals_the_module_while_sliding_and_after_truncation() -> None:
    net = _net(max_len=8)
    x = _rows(30)
    with torch.no_grad():
        cache = KVCache(net.cfg.n_layers, net.cfg.max_len)
        ref = [net.hidden(x[:, :3], cache)[0, -1]] + [net.hidden(x[:, t:t + 1], cache)[0, 0]
                                                      for t in range(3, 30)]
        dec = Decoder(net)
        got = [dec.prefill(x[0, :3])] + [dec.step(x[0, t]) for t in range(3, 30)]
        for a, b in zip(ref, got, strict=True):
            assert torch.allclose(a, b, atol=1e-5)
        # forget the last 4 rows and feed them again: the same states, in both
        cache.truncate(26)
        dec.cache.truncate(26)
        assert len(cache) == len(dec.cache) == 4 and cache.pos.tolist() == [0, 23, 24, 25]
        for t in range(26, 30):
            a = net.hidden(x[:, t:t + 1], cache)[0, 0]
            b = dec.step(x[0, t])
            assert torch.allclose(a, b, atol=1e-5)
        assert len(cache) == 8 and cache.pos.tolist() == [0, 23, 24, 25, 26, 27, 28, 29]


def test_a_query_sees_at_most_the_context_once_the_ring_is_full() -> None:
    # a row's state depends on the COND row and the max_len - 1 latest rows only: changing a row
    # that has left the window changes nothing at layer 1 (one layer, so no indirect path)
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_sizes=SIZES, d_model=32, n_layers=1, n_heads=4, d_ff=64, max_len=6, dropout=0.0)
    net = CompoundTransformer(cfg).eval()
    x = _rows(12)
    x2 = x.clone()
    x2[0, 5] = (x2[0, 5] + 1) % torch.tensor(SIZES)  # row 5 is outside the window of row 11
    with torch.no_grad():
        outs = []
        for rows in (x, x2):
            dec = Decoder(net)
            dec.prefill(rows[0, :1])
            hs = [dec.step(rows[0, t]) for t in range(1, 12)]
            outs.append(hs)
        # row t sees row 0 and rows t-4..t: rows 10 and 11 no longer see row 5, row 9 does
        assert torch.allclose(outs[0][-1], outs[1][-1], atol=1e-6)
        assert torch.allclose(outs[0][-2], outs[1][-2], atol=1e-6)
        assert not torch.allclose(outs[0][-3], outs[1][-3], atol=1e-6)


def test_cache_slides_past_the_context_and_truncates() -> None:

    net = _net(max_len=8)
    x = _rows(20)
    with torch.no_grad():
        cache = KVCache(net.cfg.n_layers, net.cfg.max_len)
        net.hidden(x[:, :1], cache)
        for t in range(1, 20):
            h = net.hidden(x[:, t:t + 1], cache)
            assert torch.isfinite(h).all()
        assert len(cache) == 8 and int(cache.pos[0]) == 0 and int(cache.pos[-1]) == 19
        cache.truncate(17)
        assert int(cache.pos[-1]) == 16 and cache.next_pos == 17


def test_sequence_longer_than_the_context_is_refused() -> None:
    from yuefu.core.errors import ParameterError

    net = _net(max_len=8)
    with pytest.raises(ParameterError, match="longer than the context"):
        net.hidden(_rows(9))
