"""Shipped model weights: a registry of files with their sha256, and a checked loader.

Every model the project trains is written by a script in ``train/`` into this folder, with a
model card (``<name>.md``) beside it. Nothing is ever downloaded at run time: a missing or
altered file is a :class:`~yuefu.core.errors.ModelLoadError` that names the file and says how to
get it back (reinstall yuefu, or re-run the training script).

>>> from yuefu.models import REGISTRY, model_path
>>> model_path("lyrics_zh").name
'lyrics_zh.npz'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yuefu.core.errors import ModelLoadError
from yuefu.core.files import sha256_file

__all__ = ["ModelEntry", "REGISTRY", "MODELS_DIR", "model_path", "verified_path", "sha256_file"]

MODELS_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ModelEntry:
    """One shipped file: its name in this folder, its sha256, and the script that makes it."""

    file: str
    sha256: str
    train: str


#: name -> entry. Training scripts update their own entries (see ``train/lyrics.py``).
REGISTRY: dict[str, ModelEntry] = {
    "lyrics_zh": ModelEntry(
        file="lyrics_zh.npz",
        sha256="78b60973b7fe53613088c35d32e40b722737840dab0ca30d2f8da44059126db0",
        train="train/lyrics.py",
    ),
    "lyrics_en": ModelEntry(
        file="lyrics_en.npz",
        sha256="be34ad29b39696523739a9b2a2f65c4678be96afe6214c4806602829c8b9ad0b",
        train="train/lyrics.py",
    ),
    "melody_pop909": ModelEntry(
        file="melody_pop909.json",
        sha256="7d743e3b37b24f22d38903cba7d6f6bddc0568dacf9f7b91294844a4a2196070",
        train="train/melody.py",
    ),
    "compose_cp": ModelEntry(
        file="compose_cp.pt",
        sha256="a19cec9303a64ba395d24089c39f25799bc55df0d0b515cdc57cdd1e15e6b660",
        train="train/compose.py",
    ),
    "compose_cp_config": ModelEntry(
        file="compose_cp.json",
        sha256="8901603e8bab5600c79bff8c3b0df84f6d1e31451b1a6715ade49a86b7aa4982",
        train="train/compose.py",
    ),
    "practice_rescore": ModelEntry(
        file="practice_rescore.json",
        sha256="3a9edb742e2b7262d81d56c59e159ea098ff65d2e7ec062ee3e319f40ccdd53f",
        train="train/practice_rescore.py",
    ),
    "practice_unheard": ModelEntry(
        file="practice_unheard.json",
        sha256="6b9f47f1bcfad94aeb6d772b28d2ffe5c3166e65572474f3ee95f4f26c82a486",
        train="train/practice_unheard.py",
    ),
}


def _entry(name: str) -> ModelEntry:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelLoadError(
            f"unknown model {name!r}; shipped models: {', '.join(sorted(REGISTRY))}"
        ) from None


def model_path(name: str) -> Path:
    """Where the registered model ``name`` lives (not checked; see :func:`verified_path`)."""
    return MODELS_DIR / _entry(name).file


def verified_path(name: str, *, path: str | Path | None = None) -> Path:
    """The path of model ``name`` after checking that it exists and its sha256 matches.

    Parameters
    ----------
    name : str
        A key of :data:`REGISTRY`.
    path : str or Path, optional
        Check this file against the registered hash instead of the shipped one (a copy).

    Raises
    ------
    ModelLoadError
        The file is missing, unreadable, or its hash differs from the registry's.
    """
    entry = _entry(name)
    p = Path(path) if path is not None else MODELS_DIR / entry.file
    if not p.is_file():
        raise ModelLoadError(
            f"model {name!r}: {p} is missing; reinstall yuefu or rebuild it with `python {entry.train}`"
        )
    try:
        digest = sha256_file(p)
    except OSError as e:
        raise ModelLoadError(f"model {name!r}: cannot read {p} ({e.strerror or e})") from None
    if digest != entry.sha256:
        raise ModelLoadError(
            f"model {name!r}: {p} has sha256 {digest[:12]}..., expected {entry.sha256[:12]}... "
            f"(corrupt or replaced); reinstall yuefu or rebuild it with `python {entry.train}`"
        )
    return p
