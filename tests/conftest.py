"""Shared fixtures for the whole test suite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

_FLUIDSYNTH: list[str | None] = []


def _fluidsynth_missing() -> str | None:
    """Why FluidSynth cannot render here (its library or a SoundFont is missing), or None."""
    if not _FLUIDSYNTH:
        from yuefu.core.errors import MissingDependencyError
        from yuefu.render import fluidsynth

        try:
            fluidsynth._load_lib()
            fluidsynth.find_soundfont()
            _FLUIDSYNTH.append(None)
        except MissingDependencyError as e:
            _FLUIDSYNTH.append(str(e))
    return _FLUIDSYNTH[0]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``fluidsynth`` skip, with the reason, where FluidSynth cannot render."""
    if item.get_closest_marker("fluidsynth") is not None:
        why = _fluidsynth_missing()
        if why is not None:
            pytest.skip(f"FluidSynth: {why}")


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator: every random test input is reproducible."""
    return np.random.default_rng(12345)


# -- tiny random music language models (no dataset, no shipped weights) -----------------------

_TOK: list[Any] = []


def _tokenizer() -> Any:
    from yuefu.compose.lm.tokens import CPTokenizer

    if not _TOK:
        _TOK.append(CPTokenizer())
    return _TOK[0]


def _tiny_model(*, max_len: int = 64, seed: int = 0, d_model: int = 32) -> Any:
    """A random 2-layer model; its type head is nudged towards notes so that pieces have some."""
    import torch

    from yuefu.compose.lm.api import LanguageModel
    from yuefu.compose.lm.model import CompoundTransformer, ModelConfig

    tok = _tokenizer()
    torch.manual_seed(seed)
    cfg = ModelConfig(vocab_sizes=tok.sizes, d_model=d_model, n_layers=2, n_heads=4, d_ff=64,
                      max_len=max_len, dropout=0.0)
    net = CompoundTransformer(cfg).eval()
    with torch.no_grad():
        net.heads[0].bias[:] = torch.tensor([0.0, 0.0, 0.0, 1.0, 2.5, 0.0])  # PAD COND BAR POS NOTE EOS
    meta = {"trained_conditions": {"style": ["pop"], "emotion": ["calm", "excited", "happy", "sad"]}}
    return LanguageModel(net, tok, meta)


@pytest.fixture
def tiny_lm() -> Callable[..., Any]:
    """A factory of tiny random language models (skips without PyTorch or miditok)."""
    pytest.importorskip("torch", reason="the music language model needs PyTorch (yuefu[ml])")
    pytest.importorskip("miditok", reason="the music language model needs miditok (yuefu[ml])")
    return _tiny_model


@pytest.fixture(scope="module")
def model_pt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random model saved as compose_cp.pt + .json, for ``--model`` / ``model =``."""
    pytest.importorskip("torch", reason="the music language model needs PyTorch (yuefu[ml])")
    pytest.importorskip("miditok", reason="the music language model needs miditok (yuefu[ml])")
    from yuefu.compose.lm.api import save_language_model

    lm = _tiny_model()
    pt, _ = save_language_model(lm.net, lm.tok, tmp_path_factory.mktemp("model"), meta=lm.meta)
    return pt
