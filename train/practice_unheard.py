"""Train the practice partner's judge of unanswered written notes (``practice_unheard.json``).

After the score-informed looks, a written note of a recording that no played note answers is
judged missed -- unless :mod:`yuefu.teach.unheard` takes it for played but lost by the transcriber
(judged ``unheard``). This script learns that probability from takes whose played notes are known:
every written note that the full assessment of a take (``yuefu.teach.assess``, with the shipped
``practice_rescore`` judge, the unheard judge off) leaves missed is described by
:func:`yuefu.teach.unheard.missed_features` and labelled played (the take played it at its pitch)
or not (the take omitted it; notes the take played at a wrong pitch are left out). Gradient-boosted
trees (scikit-learn's ``HistGradientBoostingClassifier``), exported to JSON like
``practice_rescore`` and evaluated by yuefu in numpy.

The takes are the practice benchmark's, as in ``train/practice_rescore.py``: POP909 piano parts and
full arrangements (MIT licence; read in place from ``../shared/datasets``) played by the benchmark's
generator at 0-20% error rates, rendered with FluidSynth, 30 dB noise, transcribed -- but of other
songs: the draws of seeds 26-57, leaving out every song of seeds 0-25 (the benchmark's seeds 0-1,
``practice_rescore``'s training seeds 2-17 -- on its own training takes that judge is surer than on
new music, and this one must learn what it leaves behind on new music -- and the clean-rendition
check seeds 18-25). ASAP (CC BY-NC-SA) is the evaluation, never trained on.

Rendering and transcribing the takes takes about 70 minutes on one core the first time (kept in
``--cache``), assessing them about 30 minutes, training a minute.

Usage::

    python train/practice_unheard.py [--seeds 26-57] [--out src/yuefu/models]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "train"))  # practice_rescore.takes, melody.update_registry

#: The seeds whose draws are never trained on: the benchmark's (0-1), practice_rescore's (2-17) and
#: the clean-rendition check's (18-25).
HELD_SEEDS = range(0, 26)


def note_rows(seeds: list[int], cache: Path, held: set[str], pieces: tuple[int, ...] | None = None,
              arrangements: int = 4) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features and labels of every written note left missed in the takes of ``seeds``."""
    from practice_rescore import PIECES, takes

    from yuefu.teach import AssessConfig, assess
    from yuefu.teach.errors import DifferentPieceError
    from yuefu.teach.evidence import EvidenceConfig
    from yuefu.teach.unheard import missed_features

    cfg = AssessConfig(evidence=EvidenceConfig(unheard=False))
    xs, ys, names = [], [], []
    for name, score, truth, perf in takes(seeds, cache, held, pieces or PIECES, arrangements=arrangements):
        try:
            a = assess(score, perf, config=cfg)
        except DifferentPieceError:
            continue
        idx, x = missed_features(a.reference, a.performance, a.verdicts)
        keep = [k for k, i in enumerate(idx) if i not in truth.wrong]
        xs.append(x[keep])
        ys.append(np.array([idx[k] not in truth.missed for k in keep], dtype=np.int64))
        names += [name] * len(keep)
    return np.concatenate(xs), np.concatenate(ys), names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="26-57", help="training seeds (draws of seeds 0-25 are left out)")
    ap.add_argument("--val-seed", type=int, default=1,
                    help="the seed whose audio benchmark takes report the held-out figures")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "yuefu-bench" / "practice")
    ap.add_argument("--rows", type=Path, default=None,
                    help="keep the collected rows in this .npz (and read them from it when present)")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "yuefu" / "models")
    ap.add_argument("--arrangements", type=int, default=4)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--leaves", type=int, default=15)
    ap.add_argument("--threshold", type=float, default=0.5,
                    help="probability of 'played' at which a missed note is judged unheard")
    a = ap.parse_args(argv)
    import practice as P
    from practice_rescore import export, parse_seeds, ship
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    from yuefu.teach.unheard import UNHEARD_FEATURES

    if not (P.ASAP / "metadata.csv").exists() or not P.POP.exists():
        print(f"needs {P.ASAP} and {P.POP}; absent")
        return 2
    t0 = time.time()
    if a.rows is not None and a.rows.exists():
        z = np.load(a.rows)
        x, y, names = z["x"], z["y"], z["names"].tolist()
    else:
        held = {n for s in HELD_SEEDS for n, _ in P.pick_pieces(50, 24, np.random.default_rng(s))}
        x, y, names = note_rows(parse_seeds(a.seeds), a.cache, held, arrangements=a.arrangements)
        if a.rows is not None:
            np.savez(a.rows, x=x, y=y, names=np.array(names))
    # held-out figures: the audio benchmark's six pieces of the tuning seed (ASAP excerpts)
    xv, yv, _ = note_rows([a.val_seed], a.cache, set(), pieces=tuple(range(6)), arrangements=0)
    clf = HistGradientBoostingClassifier(max_iter=a.iterations, max_leaf_nodes=a.leaves, learning_rate=0.1,
                                         l2_regularization=1.0, min_samples_leaf=20, early_stopping=False,
                                         random_state=0)
    clf.fit(x, y)
    model = export(clf, a.threshold, UNHEARD_FEATURES)
    q = model.predict(xv)
    assert np.allclose(q, clf.predict_proba(xv)[:, 1], atol=1e-6), "exported trees disagree with sklearn"
    flip = q >= a.threshold
    metrics = {
        "train_notes": int(len(y)), "train_played": int(y.sum()), "train_takes": len(set(names)),
        "val_seed": a.val_seed, "val_notes": int(len(yv)), "val_played": int(yv.sum()),
        "val_auc": round(float(roc_auc_score(yv, q)), 4) if 0 < yv.sum() < len(yv) else None,
        "val_unheard_played": int(np.sum(flip & (yv == 1))),
        "val_unheard_omitted": int(np.sum(flip & (yv == 0))),
        "threshold": a.threshold, "iterations": a.iterations, "leaves": a.leaves, "seeds": a.seeds,
        "arrangements": a.arrangements, "seconds": round(time.time() - t0, 1),
    }
    ship(a.out, "practice_unheard", model, metrics, model_card)
    return 0


def model_card(m: dict, digest: str, size: int) -> str:
    """The model card ``practice_unheard.md``, written with the figures it reports."""
    from yuefu.teach.unheard import UNHEARD_FEATURES

    feats = ", ".join(f"`{f}`" for f in UNHEARD_FEATURES)
    return f"""# practice_unheard: the practice partner's judge of written notes nobody heard

Written by `python train/practice_unheard.py` (this card too); read by `yuefu.teach.unheard` (the
last step of `assess` of a recording). A JSON file of {m['iterations']} regression trees of at most
{m['leaves']} leaves ({size / 1024:.0f} KiB), sha256 `{digest}`, registered in
`yuefu.models.REGISTRY` as `practice_unheard`; evaluated by yuefu in numpy (no scikit-learn at run
time).

## What it does
After the score-informed looks at a recording, a written note that no played note answers would be
judged missed. Some of those were played, and the transcriber lost them (an inner note of a thick
chord, a key its own octave below lights, a note of a fast run). Each such note is described by
{len(UNHEARD_FEATURES)} numbers ({feats}): the note model's posteriors at its key where it should
sound, the nearest candidate of its key, what of its chord was heard, what sounds that could hide
it. The trees give the probability that it was played; at or above {m['threshold']} it is judged
`unheard` (not heard in the recording: neither right nor missed, and not counted in the marks)
instead of missed.

## Data
POP909 (Wang, Chen et al., ISMIR 2020; MIT licence): the PIANO tracks of the songs that the
practice benchmark draws with seeds `{m['seeds']}` (eight per draw, each song once; every song that
seeds 0-25 draw is left out: the benchmark's, `practice_rescore`'s training songs, the clean-rendition
check's), and the full arrangement (MELODY and BRIDGE over the PIANO part) of the first
{m['arrangements']} songs of each draw, cut to 24 bars, played by the benchmark's generator at 0, 2,
5, 10 and 20% error rates, rendered by FluidSynth with FluidR3_GM (two piano programs), 30 dB white
noise, transcribed, assessed: in {m['train_takes']} takes {m['train_notes']} written notes were left missed,
{m['train_played']} of them played (the rest omitted by the generator; notes played at a wrong pitch
are left out). ASAP (CC BY-NC-SA) is not trained on: it is the evaluation.

## Metrics
The audio benchmark's six pieces of its tuning seed {m['val_seed']} (ASAP classical excerpts), 5
takes each: {m['val_notes']} written notes left missed, {m['val_played']} of them played. ROC AUC
{m['val_auc']}; at {m['threshold']}, {m['val_unheard_played']} played notes are judged unheard (right)
and {m['val_unheard_omitted']} omitted ones (missed omissions). What it does for the practice partner is
measured by `benchmarks/practice.py --audio-only` on seed 0; see `docs/benchmarks.md`.

## Limits
Trained on one synthesiser's piano, without sustain pedal, and on the benchmark generator's kinds
of mistakes and their rates: it has learned, in part, how often that generator omits a note where
the recording is silent -- a real student's omissions may be more or less common. Real recordings
(another piano, a room, the pedal) are not measured. Reproduce with `python train/practice_unheard.py`
(about 70 minutes of rendering and transcription the first time, 30 of assessing, a minute of
training).
"""


if __name__ == "__main__":
    sys.exit(main())
