"""Sampling from the compound-word model: grammar masks, per-family temperature, stopping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from yuefu.compose.lm.sampling import SamplingConfig, sample_index
from yuefu.core.errors import ParameterError


def test_sample_index_temperature_and_top_p(rng: np.random.Generator) -> None:
    logits = np.array([3.0, 2.0, 1.0, 0.0, -1.0])
    allowed = np.ones(5, dtype=bool)
    cold = [sample_index(logits, allowed, temperature=0.05, top_p=1.0, rng=rng) for _ in range(300)]
    hot = [sample_index(logits, allowed, temperature=5.0, top_p=1.0, rng=rng) for _ in range(300)]
    assert set(cold) == {0}
    assert len(set(hot)) == 5 and hot.count(0) < 150  # p(0) = 0.30 at T = 5
    nucleus = {sample_index(logits, allowed, temperature=1.0, top_p=0.8, rng=rng) for _ in range(300)}
    assert nucleus == {0, 1}  # p = 0.64, 0.23, 0.09, ...: the top two reach 0.8
    allowed[0] = False
    assert 0 not in {sample_index(logits, allowed, temperature=1.0, top_p=1.0, rng=rng) for _ in range(100)}


def test_sampling_config_per_family_values() -> None:
    s = SamplingConfig(temperature=1.0, temperatures={"pitch": 0.7, "duration": 1.3})
    got = (s.temperature_of("pitch"), s.temperature_of("duration"), s.temperature_of("type"))
    assert got == (0.7, 1.3, 1.0)
    assert SamplingConfig.parse_families("pitch=0.8, duration=1.2") == {"pitch": 0.8, "duration": 1.2}
    with pytest.raises(ParameterError, match="unknown token family 'pich'"):
        SamplingConfig(temperatures={"pich": 0.5})
    with pytest.raises(ParameterError, match="temperature"):
        SamplingConfig(temperature=0.0)
    with pytest.raises(ParameterError, match="FAMILY=NUMBER"):
        SamplingConfig.parse_families("pitch:0.8")


@pytest.mark.parametrize("kw, match", [
    ({"key_strength": -1.0}, "key_strength"),
    ({"key_strength": float("nan")}, "key_strength"),
    ({"chord_period_bars": -1}, "chord_period_bars"),
    ({"chord_strength": 0.0}, "chord_strength"),
    ({"chord_strength": float("nan")}, "chord_strength"),
])
def test_sampling_config_refuses_bad_key_and_chord_values(kw: dict[str, float], match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        SamplingConfig(**kw)  # type: ignore[arg-type]


def test_chord_strength_default_is_the_callers() -> None:
    assert SamplingConfig().chord_strength_or(7.0) == 7.0
    assert SamplingConfig(chord_strength=float("inf")).chord_strength_or(7.0) == float("inf")


pytest.importorskip("torch", reason="the music language model needs PyTorch (yuefu[ml])")
pytest.importorskip("miditok", reason="the music language model needs miditok (yuefu[ml])")

from yuefu.compose.lm.convert import rows_to_score  # noqa: E402
from yuefu.compose.lm.sampling import Grammar, generate  # noqa: E402
from yuefu.compose.lm.tokens import BAR, EOS, FI, NOTE, POS, Conditions  # noqa: E402
from yuefu.core.io.midi import midi_bytes, score_from_midi_bytes  # noqa: E402
from yuefu.core.theory import Key  # noqa: E402


def _generate(lm: Any, bars: int, seed: int, meter: str = "4/4", **kw: Any) -> Any:
    cond = Conditions(style="pop", emotion="happy", mode="major", tempo_bpm=100, meter=meter)
    return generate(lm.net, lm.tok, lm.tok.cond_row(cond)[None], bars=bars,
                    positions_per_bar=cond.positions_per_bar, rng=np.random.default_rng(seed), **kw)


@pytest.mark.parametrize("seed, meter", [(0, "4/4"), (1, "3/4"), (2, "4/4")])
def test_random_model_samples_only_valid_rows_that_decode(seed: int, meter: str,
                                                          tiny_lm: Callable[..., Any]) -> None:
    lm = tiny_lm()
    res = _generate(lm, 400, seed, meter=meter, max_rows=200,
                    sampling=SamplingConfig(temperature=2.0, top_p=1.0))
    rows = res.rows
    assert len(rows) == 200 and res.stopped == "max_rows"
    assert {int(t) for t in rows[:, 0]} >= {BAR, POS, NOTE}
    ppb = 16 if meter == "4/4" else 12
    g = Grammar(lm.tok, positions_per_bar=ppb)
    g.check(rows)  # raises on a type, position, track, pitch or unused family out of place
    pitches = lm.tok.pitch_of[rows[rows[:, 0] == NOTE, FI["pitch"]]]
    mel = rows[rows[:, 0] == NOTE, FI["track"]] == 1
    lo, hi = lm.tok.settings.track_pitch["melody"]
    assert np.all((pitches[mel] >= lo) & (pitches[mel] <= hi))
    score = rows_to_score(lm.tok, rows, meter=meter, key=Key(2, "major"), shift=-2, tempo_bpm=100)
    back = score_from_midi_bytes(midi_bytes(score))
    assert back.n_notes == score.n_notes == int(np.sum(rows[:, 0] == NOTE))
    bar_beats = 4.0 if meter == "4/4" else 3.0
    n_bars = int(np.sum(rows[:, 0] == BAR))
    assert all(n.onset < n_bars * bar_beats for _, n in score.iter_notes())


def test_generation_stops_at_the_bar_count_and_eos_only_after_it(tiny_lm: Callable[..., Any]) -> None:
    lm = tiny_lm()
    res = _generate(lm, 6, 3)
    assert res.stopped in ("bars", "eos") and res.bars == 6
    assert int(np.sum(res.rows[:, 0] == BAR)) == 6
    assert EOS not in res.rows[:-1, 0]  # EOS only ends the piece, and only in its last bar


def test_chord_constraints_and_track_choice_are_obeyed(tiny_lm: Callable[..., Any]) -> None:
    lm = tiny_lm()
    res = _generate(lm, 4, 4, chords={0: "C", 2: "Am7"}, tracks=("melody",))
    rows = res.rows
    bar = np.cumsum(rows[:, 0] == BAR) - 1
    pos = rows[:, 0] == POS
    labels = [lm.tok.vocab["chord"][c] for c in rows[pos, FI["chord"]]]
    assert all(lab == "C" for lab, b in zip(labels, bar[pos], strict=True) if b == 0)
    assert all(lab == "Am7" for lab, b in zip(labels, bar[pos], strict=True) if b == 2)
    assert np.all(rows[rows[:, 0] == NOTE, FI["track"]] == 1)
    # one melody note per position
    for b in range(4):
        for p in np.unique(rows[(bar == b) & pos, FI["position"]]):
            assert p > 0


def test_pitch_temperature_narrows_or_widens_only_pitch(tiny_lm: Callable[..., Any]) -> None:
    import torch

    lm = tiny_lm(seed=5)
    k = 4  # pitch head
    with torch.no_grad():
        lm.net.heads[k].weight.zero_()
        lm.net.heads[k].bias[:] = torch.linspace(0.0, 60.0, lm.net.heads[k].bias.numel())

    def pitches(t: float) -> np.ndarray:
        res = _generate(lm, 100, 7, max_rows=300, tracks=("accompaniment",),
                        sampling=SamplingConfig(temperatures={"pitch": t}, top_p=1.0))
        return res.rows[res.rows[:, 0] == NOTE, FI["pitch"]]

    cold, hot = pitches(0.2), pitches(4.0)
    assert len(set(cold.tolist())) <= 3 < len(set(hot.tolist()))
    assert np.std(cold) < np.std(hot)


def test_same_seed_same_rows_and_repeat_control_runs(tiny_lm: Callable[..., Any]) -> None:
    lm = tiny_lm()
    a = _generate(lm, 8, 11)
    b = _generate(lm, 8, 11)
    assert np.array_equal(a.rows, b.rows)
    c = _generate(lm, 8, 11, sampling=SamplingConfig(max_repeat_bars=1, repetition_penalty=1.5))
    assert c.stopped in ("bars", "eos") and c.bars == 8


def test_generation_runs_on_one_thread_and_restores_the_callers_setting(tiny_lm: Callable[..., Any]) -> None:
    import torch

    from yuefu.compose.lm.sampling import generate
    from yuefu.compose.lm.tokens import Conditions

    lm = tiny_lm()
    seen: list[int] = []
    step = lm.net.blocks[0].forward

    def spy(*a: Any, **k: Any) -> Any:
        seen.append(torch.get_num_threads())
        return step(*a, **k)

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        lm.net.blocks[0].forward = spy  # the prompt's forward pass goes through the module
        generate(lm.net, lm.tok, lm.tok.cond_row(Conditions())[None], bars=1, positions_per_bar=16,
                 rng=np.random.default_rng(0))
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        del lm.net.blocks[0].forward
        torch.set_num_threads(before)


def _bar_pos_chord_rows(lm: Any, bars: list[list[tuple[int, str]]]) -> np.ndarray:
    rows = [lm.tok.cond_row(Conditions())]
    for bar in bars:
        r = np.zeros(len(lm.tok.sizes), dtype=np.int64)
        r[0] = BAR
        rows.append(r)
        for pos, lab in bar:
            r = np.zeros(len(lm.tok.sizes), dtype=np.int64)
            r[0], r[FI["position"]] = POS, lm.tok.index["position"][f"Position_{pos}"]
            r[FI["chord"]] = lm.tok.index["chord"][lab]
            rows.append(r)
    return np.stack(rows)


def test_chord_grid_carries_chords_across_positions_and_bars(tiny_lm: Callable[..., Any]) -> None:
    from yuefu.compose.lm.sampling import chord_grid

    lm = tiny_lm()
    rows = _bar_pos_chord_rows(lm, [[(0, "C"), (8, "G")], [], [(4, "Am")]])
    grid, carry = chord_grid(lm.tok, rows, positions_per_bar=16)
    c, g, am = (lm.tok.index["chord"][x] for x in ("C", "G", "Am"))
    assert grid.shape == (3, 16)
    assert grid[0].tolist() == [c] * 8 + [g] * 8
    assert grid[1].tolist() == [g] * 16  # an empty bar keeps the chord in force
    assert grid[2].tolist() == [g] * 4 + [am] * 12 and carry == am


def test_forced_chord_period_cycles_the_prompts_progression(tiny_lm: Callable[..., Any]) -> None:
    lm = tiny_lm()
    prompt = _bar_pos_chord_rows(lm, [[(0, "F")], [(0, "Dm"), (8, "G7")]])
    res = generate(lm.net, lm.tok, prompt, bars=10, positions_per_bar=16, rng=np.random.default_rng(2),
                   sampling=SamplingConfig(chord_period_bars=2, chord_strength=float("inf")))
    rows = res.rows
    bar = np.cumsum(rows[:, 0] == BAR) - 1
    pos = rows[:, 0] == POS
    assert pos.sum() >= 8 and len(set((bar[pos] % 2).tolist())) == 2
    for b, p, cid in zip(bar[pos], rows[pos, FI["position"]], rows[pos, FI["chord"]], strict=True):
        v = int(lm.tok.vocab["position"][p].split("_")[1])
        want = "F" if b % 2 == 0 else ("Dm" if v < 8 else "G7")
        assert lm.tok.vocab["chord"][cid] == want, (b, v)
    # a bar-level constraint wins over the period; off (period 0), the random model wanders
    res = generate(lm.net, lm.tok, prompt, bars=4, positions_per_bar=16, rng=np.random.default_rng(2),
                   chords=dict.fromkeys(range(4), "C"),
                   sampling=SamplingConfig(chord_period_bars=2, chord_strength=float("inf")))
    r = res.rows
    assert {lm.tok.vocab["chord"][c] for c in r[r[:, 0] == POS, FI["chord"]]} == {"C"}
    free = generate(lm.net, lm.tok, prompt, bars=5, positions_per_bar=16, rng=np.random.default_rng(2),
                    sampling=SamplingConfig(chord_period_bars=0))
    assert len(set(free.rows[free.rows[:, 0] == POS, FI["chord"]].tolist())) > 3


def test_key_strength_keeps_notes_in_the_scale(tiny_lm: Callable[..., Any]) -> None:
    """The random model plays every pitch class; the penalty keeps it to the white keys (C
    major / A minor, the model's frame), or to the pitch classes of a given profile."""
    from yuefu.compose.lm.sampling import SCALE_PCS

    lm = tiny_lm()

    def in_scale(strength: float, profile: list[float] | None = None,
                 pcs: tuple[int, ...] = SCALE_PCS) -> float:
        cond = lm.tok.cond_row(Conditions())[None]
        res = generate(lm.net, lm.tok, cond, bars=6, positions_per_bar=16, rng=np.random.default_rng(4),
                       sampling=SamplingConfig(key_strength=strength, chord_period_bars=0),
                       key_profile=profile)
        p = lm.tok.pitch_of[res.rows[res.rows[:, 0] == NOTE, FI["pitch"]]] % 12
        assert p.size > 30
        return float(np.isin(p, pcs).mean())

    off, on = in_scale(0.0), in_scale(20.0)
    assert off < 0.8 and on == 1.0  # 7 of 12 pitch classes: about 0.58 by chance
    assert 0.8 < in_scale(2.0) < 1.0
    pent = (0, 2, 4, 7, 9)
    assert in_scale(20.0, [1.0 if i in pent else 0.0 for i in range(12)], pent) == 1.0
    with pytest.raises(ParameterError, match="key_profile"):
        in_scale(1.0, [2.0] * 12)
