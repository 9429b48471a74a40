"""`python train/compose.py --register RUN`: weights copied, registry entries, the card filled."""

from __future__ import annotations

import ast
import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _train_module() -> Any:
    spec = importlib.util.spec_from_file_location("train_compose", ROOT / "train/compose.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_register_ships_a_run(tiny_lm: Callable[..., Any], tmp_path: Path) -> None:
    from yuefu.compose.lm.api import save_language_model
    from yuefu.models import sha256_file

    lm = tiny_lm()
    run = tmp_path / "run"
    meta = {**lm.meta, "parameters": lm.net.n_params, "steps": 7, "minutes": 0.1, "threads": 1, "seed": 0,
            "command": "python train/compose.py --trial", "split": {"train": 8, "valid": 1, "test": 1},
            "valid": {"nll_per_row": 3.5, "rows": 99, "nll_per_family": {"pitch": 1.25}}}
    save_language_model(lm.net, lm.tok, run, meta=meta)
    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(ROOT / "src/yuefu/models/__init__.py", models / "__init__.py")
    before = (models / "__init__.py").read_text()
    mod = _train_module()
    assert mod.register(run, models=models) == 0
    init = (models / "__init__.py").read_text()
    digest = sha256_file(models / "compose_cp.pt")
    assert f'"compose_cp": ModelEntry(\n        file="compose_cp.pt",\n        sha256="{digest}"' in init
    assert '"compose_cp_config": ModelEntry(\n        file="compose_cp.json"' in init
    assert init.startswith(before.split("REGISTRY: dict")[0])  # nothing else changed
    card = (models / "compose_cp.md").read_text()
    assert digest in card and "| 1.250 |" in card and "python train/compose.py --trial" in card
    assert f"{lm.net.n_params:,}" in card
    # registering again updates the entries instead of adding new ones
    assert mod.register(run / "compose_cp.pt", models=models) == 0
    assert (models / "__init__.py").read_text().count('"compose_cp":') == 1
    ast.parse((models / "__init__.py").read_text())  # still valid Python
