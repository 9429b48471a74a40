"""Train the practice partner's score-informed candidate judge (``practice_rescore.json``).

A transcribed take holds every candidate note the transcriber weighed. After a first alignment to
the score, :func:`yuefu.teach.rescore.candidate_features` describes each candidate knowing the
score; this script learns, from takes whose played notes are known, the probability that a
candidate is a struck key, and ships it as gradient-boosted trees (scikit-learn's
``HistGradientBoostingClassifier``, exported to JSON and evaluated by yuefu in numpy).

The takes are the practice benchmark's (``benchmarks/practice.py``): 24-bar POP909 piano parts,
and full arrangements (melody and bridge over the piano) of some of the songs (MIT licence; read
in place from ``../shared/datasets``), played by
``benchmarks/practice_errors.inject_errors`` at 0-20% error rates, rendered with FluidSynth (two
piano programs), 30 dB noise, transcribed. Only POP909 is trained on: ASAP's score MIDIs are
CC BY-NC-SA, for evaluation -- and the audio benchmark measures the model on ASAP excerpts it
never saw, classical textures that a pop accompaniment does not have. The songs are the POP909
parts that the benchmark draws with seeds 2-17 (eight per draw, each song once). A candidate is a
struck key when a played note of its pitch starts within 50 ms of it (one candidate per played
note, the surest).

Deterministic given the cached transcriptions; rendering and transcribing the takes takes about
40 minutes on one core the first time (kept in ``--cache``), training about 10 minutes.

Usage::

    python train/practice_rescore.py [--seeds 2-17] [--out src/yuefu/models]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "train"))  # melody.update_registry


#: Which of a seed's 50 drawn pieces are played: eight POP909 piano parts (the benchmark's draw
#: puts 25 ASAP score excerpts first, then 25 POP909 songs).
PIECES = tuple(range(25, 33))


#: The POP909 tracks of a full arrangement (the benchmark plays the PIANO part alone).
ARRANGEMENT = ("MELODY", "BRIDGE", "PIANO")


def full_arrangement(name: str):  # noqa: ANN201
    """The first 24 bars of POP909 song ``pop909:NNN`` with its melody and bridge over the piano."""
    import practice as P
    from practice_errors import crop_score

    from yuefu.core.io import read_midi

    song = name.split(":", 1)[1]
    full = P.with_annotated_meter(read_midi(P.POP / song / f"{song}.mid"), P.POP / song / "beat_midi.txt")
    return crop_score(full, 24, tracks=ARRANGEMENT)


def takes(seeds: list[int], cache: Path, held: set[str], pieces: tuple[int, ...] = PIECES,
          arrangements: int = 0, rooms: int = 0):  # noqa: ANN201
    """Every take of ``seeds``, as ``(name, score, truth, performance)``: ``pieces`` of each draw
    (a song already taken, or in ``held``, is left out), at each of the benchmark's error rates;
    with ``arrangements``, also the full arrangement of the first that many songs of each draw; with
    ``rooms``, the piano part of the last that many songs of each draw is played in a reverberant
    room instead (pink noise and hum at 20 dB). Rendered and transcribed once (kept in ``cache``)."""
    import practice as P
    from practice_errors import seeded_take

    tmp = tempfile.TemporaryDirectory(prefix="yuefu-takes-")
    fns = {"white30": P.make_audio_fn(Path(tmp.name), cache),
           "room20": P.make_audio_fn(Path(tmp.name), cache, condition="room20")}
    for seed in seeds:
        drawn = P.pick_pieces(50, 24, np.random.default_rng(seed))
        todo = []
        for k, pi in enumerate(pieces):
            name, score = drawn[pi]
            if name in held:
                continue
            held = held | {name}
            room = k >= len(pieces) - rooms
            todo.append((name + ("+room" if room else ""), score, pi, "room20" if room else "white30"))
            if k < arrangements:
                todo.append((name + "+arrangement", full_arrangement(name), 100 + pi, "white30"))
        for name, score, pi, condition in todo:
            for ri, rate in enumerate(P.RATES):
                truth = seeded_take(score, pi, ri)
                yield f"{seed}:{name}:{rate}", score, truth, fns[condition](truth, pi)
            print(f"  seed {seed} {name}", file=sys.stderr, flush=True)
    tmp.cleanup()


def take_rows(seeds: list[int], cache: Path, held: set[str], pieces: tuple[int, ...] = PIECES,
              arrangements: int = 0, rooms: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features and labels of every candidate of the takes of ``seeds`` (see :func:`takes`)."""
    from yuefu.teach import build_reference
    from yuefu.teach.align import align
    from yuefu.teach.rescore import candidate_features
    from yuefu.teach.verdict import judge

    xs, ys, names = [], [], []
    for name, score, truth, perf in takes(seeds, cache, held, pieces, arrangements, rooms):
        ref = build_reference(score)
        v = judge(ref, perf, align(ref, perf))
        xs.append(candidate_features(ref, perf, v))
        ys.append(struck(perf, truth.rows))
        names += [name] * len(ys[-1])
    return np.concatenate(xs), np.concatenate(ys), names


def struck(perf, rows) -> np.ndarray:  # noqa: ANN001
    """1 for each candidate that is a played note (its pitch, within 50 ms; the surest per note)."""
    c = perf.candidates
    y = np.zeros(len(c), dtype=np.int64)
    for p, t, _, _ in rows:
        m = np.flatnonzero((c.pitch == p) & (np.abs(c.onset_s - t) <= 0.05) & (y == 0))
        if len(m):
            y[m[np.argmax(c.probability[m])]] = 1
    return y


def export(clf, threshold: float, features: tuple[str, ...] | None = None):  # noqa: ANN001, ANN201
    """The fitted trees as a :class:`~yuefu.teach.rescore.RescoreModel` (over ``features``, default
    :data:`~yuefu.teach.rescore.FEATURES`)."""
    from yuefu.teach.rescore import FEATURES, RescoreModel

    trees = []
    for (pred,) in clf._predictors:  # one predictor per iteration for a binary problem
        nodes = pred.nodes
        leaf = nodes["is_leaf"].astype(bool)
        feat = np.where(leaf, -1, nodes["feature_idx"]).astype(np.int64)
        value = np.where(leaf, nodes["value"], 0.0).astype(np.float64)
        trees.append((feat, nodes["num_threshold"].astype(np.float64), nodes["left"].astype(np.int64),
                      nodes["right"].astype(np.int64), value))
    base = float(np.ravel(clf._baseline_prediction)[0])
    return RescoreModel(features or FEATURES, base, tuple(trees), threshold)


def parse_seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="2-17", help="training seeds (the benchmark's are 0 and 1)")
    ap.add_argument("--val-seed", type=int, default=1,
                    help="the seed whose audio benchmark takes report the held-out figures")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "yuefu-bench" / "practice")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "yuefu" / "models")
    ap.add_argument("--arrangements", type=int, default=4,
                    help="per draw, also play the full arrangement (melody, bridge, piano) of this many "
                         "songs")
    ap.add_argument("--rooms", type=int, default=0,
                    help="per draw, play this many of the songs in a reverberant room instead of 30 dB noise")
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--leaves", type=int, default=31)
    a = ap.parse_args(argv)
    import practice as P
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import log_loss, roc_auc_score

    if not (P.ASAP / "metadata.csv").exists() or not P.POP.exists():
        print(f"needs {P.ASAP} and {P.POP}; absent")
        return 2
    t0 = time.time()
    # the benchmark's own draws (seeds 0 and 1) are never trained on
    held = {n for s in (0, 1) for n, _ in P.pick_pieces(50, 24, np.random.default_rng(s))}
    x, y, names = take_rows(parse_seeds(a.seeds), a.cache, held, arrangements=a.arrangements, rooms=a.rooms)
    # held-out figures: the audio benchmark's six pieces of the tuning seed (ASAP excerpts)
    xv, yv, _ = take_rows([a.val_seed], a.cache, set(), pieces=tuple(range(6)))
    clf = HistGradientBoostingClassifier(max_iter=a.iterations, max_leaf_nodes=a.leaves, learning_rate=0.1,
                                         l2_regularization=1.0, min_samples_leaf=40, random_state=0)
    clf.fit(x, y)
    model = export(clf, 0.5)
    q = model.predict(xv)
    assert np.allclose(q, clf.predict_proba(xv)[:, 1], atol=1e-6), "exported trees disagree with sklearn"
    p0 = 1 / (1 + np.exp(-xv[:, 0]))
    metrics = {
        "train_candidates": int(len(y)), "train_struck": int(y.sum()),
        "train_takes": len(set(names)),
        "val_seed": a.val_seed, "val_candidates": int(len(yv)), "val_struck": int(yv.sum()),
        "val_auc": {"verifier": round(float(roc_auc_score(yv, p0)), 4),
                    "rescore": round(float(roc_auc_score(yv, q)), 4)},
        "val_log_loss": {"verifier": round(float(log_loss(yv, np.clip(p0, 1e-4, 1 - 1e-4))), 4),
                         "rescore": round(float(log_loss(yv, np.clip(q, 1e-6, 1 - 1e-6))), 4)},
        "val_errors_at_0.5": {"verifier": int(np.sum((p0 >= 0.5) != yv)),
                              "rescore": int(np.sum((q >= 0.5) != yv))},
        "iterations": a.iterations, "leaves": a.leaves, "seeds": a.seeds, "arrangements": a.arrangements,
        "rooms": a.rooms,
        "seconds": round(time.time() - t0, 1),
    }
    ship(a.out, "practice_rescore", model, metrics, model_card)
    return 0


def ship(out: Path, name: str, model, metrics: dict, card) -> None:  # noqa: ANN001
    """Write ``out/<name>.json`` (the trees), its metrics and its model card (``card(metrics,
    sha256, size)``), and register its sha256 in ``out/__init__.py``."""
    from melody import update_registry

    print(json.dumps(metrics, indent=1))
    out.mkdir(parents=True, exist_ok=True)
    text = model.to_json()
    path = out / f"{name}.json"
    path.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    (out / f"{name}_metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    (out / f"{name}.md").write_text(card(metrics, digest, len(text.encode("utf-8"))), encoding="utf-8")
    update_registry(out / "__init__.py", name, digest)
    print(f"wrote {path} ({len(text) / 1024:.0f} KiB, sha256 {digest})")


def model_card(m: dict, digest: str, size: int) -> str:
    """The model card ``practice_rescore.md``, written with the figures it reports."""
    from yuefu.teach.rescore import FEATURES

    feats = ", ".join(f"`{f}`" for f in FEATURES)
    return f"""# practice_rescore: the practice partner's score-informed judge of transcribed notes

Written by `python train/practice_rescore.py` (this card too); read by `yuefu.teach.rescore`
(`assess` of a recording: the first step of the score-informed second look, see
`yuefu/teach/evidence.py`). A JSON file of {m['iterations']} regression trees of at most
{m['leaves']} leaves ({size / 1024:.0f} KiB), sha256 `{digest}`, registered in
`yuefu.models.REGISTRY` as `practice_rescore`; evaluated by yuefu in numpy (no scikit-learn at run
time).

## What it does
The piano transcriber (`yuefu.listen.transcribe`: basic-pitch's note model and yuefu's decoder)
weighs candidate notes without knowing the piece. After a first alignment of a recording to its
score, every candidate is described by {len(FEATURES)} numbers ({feats}): the transcriber's own
verifier, the note model's posteriors there, how near a written note of its pitch (or one it could
be a partial, a sub-octave or a slip of) is expected, what was played around it. The trees give
the probability that the candidate is a struck key; the performance judged next is made of the
candidates at or above {0.5}. The score's prior is in it: a faint candidate where the score
expects its key is believed, a clear one on a key the score lacks needs more, a partial of a note
the score does not expect (a hand in the wrong octave) is not taken for the written key.

## Data
POP909 (Wang, Chen et al., ISMIR 2020; MIT licence): the PIANO tracks of the songs that the
practice benchmark draws with seeds `{m['seeds']}` (eight per draw, each song once; every song the
benchmark's seeds 0 and 1 draw is left out), and the full arrangement (MELODY and BRIDGE tracks
over the PIANO part: a melody on top, denser textures) of the first {m['arrangements']} songs of
each draw, cut to 24 bars, played by the benchmark's generator
(`benchmarks/practice_errors.inject_errors`) at 0, 2, 5, 10 and 20% error rates (wrong notes, a
third of them an octave off; omissions, insertions, jitter, tempo drift, pauses, a restart, a
skipped bar), rendered by FluidSynth with FluidR3_GM (two piano programs), 30 dB white noise,
transcribed. {m['train_takes']} takes, {m['train_candidates']} candidates ({m['train_struck']}
struck keys). A candidate is a struck key when a played note of its pitch starts within 50 ms
(one candidate per played note). ASAP (CC BY-NC-SA) is not trained on: it is the evaluation.

## Metrics
The audio benchmark's six pieces of its tuning seed {m['val_seed']} (ASAP classical excerpts: music
of another kind than the training songs), 5 takes each: {m['val_candidates']} candidates,
{m['val_struck']} struck.

| | transcriber's verifier | this model |
|---|---|---|
| ROC AUC | {m['val_auc']['verifier']} | {m['val_auc']['rescore']} |
| log loss | {m['val_log_loss']['verifier']} | {m['val_log_loss']['rescore']} |
| wrong decisions at 0.5 | {m['val_errors_at_0.5']['verifier']} | {m['val_errors_at_0.5']['rescore']} |

What it does for the practice partner (wrong, missed and extra notes found from a recording) is
measured by `benchmarks/practice.py --audio-only` on seed 0; see `docs/benchmarks.md`.

## Limits
Trained on one synthesiser's piano, without sustain pedal, and on the benchmark generator's kinds
of mistakes at its rates: real recordings (another piano, a room, the pedal) and real students'
slips are not measured. It knows the score only through the first alignment: where that alignment
is lost, so is its prior. Reproduce with `python train/practice_rescore.py` (renders and
transcribes the takes into `~/.cache/yuefu-bench/practice` the first time, about 40 minutes on one
core; training about 10 minutes).
"""


if __name__ == "__main__":
    sys.exit(main())
