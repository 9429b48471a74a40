"""Train the compound-word music language model on POP909 and write ``compose_cp.pt`` + ``.json``.

Reads ``../shared/datasets/pop909/POP909/NNN/`` in place (see :mod:`yuefu.compose.lm.data`):
melody and accompaniment on the beat grid, in C major / A minor, with the chord annotations and
the conditions (style pop, a proxy emotion, mode, tempo, meter). Songs are split by a hash of
their name (90 % train, 5 % valid, 5 % test). Training windows start at every 8th bar of every
training song; each epoch visits them in an order drawn from ``seed + epoch``, and every batch's
random choices come from ``(seed, epoch, batch)``, so a resumed run continues exactly where it
stopped. The learning rate warms up and then follows a cosine to ``--max-steps``.

Reproduce the shipped weights with the command in the model card (``--max-steps`` fixes the
length of the run; ``--time-limit-min`` is only a safety stop). Every ``--ckpt-every`` steps a
checkpoint goes to ``--work``; ``--resume`` continues from the latest one.

Usage::

    python train/compose.py                 # the shipped model: its defaults, ~60 min on one thread
    python train/compose.py --trial --out /tmp/compose-trial     # a tiny model, a few minutes
    python train/compose.py --register /work/runs/compose-out    # ship trained weights

``--register DIR`` ships a finished run: it loads ``DIR/compose_cp.pt`` + ``.json`` (refusing
files that do not load), copies them and ``compose_cp_metrics.json`` into ``src/yuefu/models``,
writes their sha256 into ``yuefu.models.REGISTRY`` (entries ``compose_cp`` and
``compose_cp_config``, added or updated) and fills the figures of the model card
``src/yuefu/models/compose_cp.md`` that the run knows (``__NAME__`` markers); the benchmark
figures are filled by hand from ``benchmarks/compose.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from yuefu.compose.lm.api import save_language_model
from yuefu.compose.lm.data import SongTokens, batches, encode_song, song_folders, split_songs, windows
from yuefu.compose.lm.model import CompoundTransformer, ModelConfig
from yuefu.compose.lm.tokens import FI, HEAD_FAMILIES, Conditions, CPTokenizer, TokenizerSettings

HERE = Path(__file__).resolve().parent.parent
MODELS = HERE / "src/yuefu/models"
#: the model card with ``__NAME__`` markers that ``--register`` fills
CARD_TEMPLATE = HERE / "train/compose_cp_card.md"
#: registry name -> file in src/yuefu/models
SHIPPED = {"compose_cp": "compose_cp.pt", "compose_cp_config": "compose_cp.json"}


def set_registry_entry(init: Path, name: str, file: str, digest: str) -> str:
    """Add or update ``name`` in the REGISTRY literal of ``yuefu/models/__init__.py``; returns
    "added" or "updated"."""
    text = init.read_text(encoding="utf-8")
    pattern = re.compile(rf'("{name}": ModelEntry\(\s*file="[^"]+",\s*sha256=")([0-9a-f]{{64}})(")')
    if pattern.search(text):
        init.write_text(pattern.sub(lambda m: m.group(1) + digest + m.group(3), text), encoding="utf-8")
        return "updated"
    head = "REGISTRY: dict[str, ModelEntry] = {\n"
    start = text.index(head) + len(head)
    end = text.index("\n}\n", start)
    entry = (f'    "{name}": ModelEntry(\n        file="{file}",\n        sha256="{digest}",\n'
             f'        train="train/compose.py",\n    ),')
    init.write_text(text[:end] + "\n" + entry + text[end:], encoding="utf-8")
    return "added"


def fill_card(card: Path, values: dict[str, str]) -> list[str]:
    """Replace the ``__NAME__`` markers of the model card; returns the markers left unfilled."""
    text = card.read_text(encoding="utf-8")
    for k, v in values.items():
        text = text.replace(f"__{k}__", v)
    card.write_text(text, encoding="utf-8")
    return sorted(set(re.findall(r"__[A-Z0-9_]+__", text)))


def register(run: Path, models: Path = MODELS) -> int:
    """Ship the weights of a finished run (see the module docstring)."""
    from yuefu.compose.lm.api import load_language_model
    from yuefu.models import sha256_file

    src = run / "compose_cp.pt" if run.is_dir() else run
    lm = load_language_model(src)  # refuses files that do not load
    doc = lm.meta
    copied = {}
    for name, file in SHIPPED.items():
        dest = models / file
        shutil.copyfile(src.with_name(file), dest)
        copied[name] = (file, sha256_file(dest))
    metrics = src.with_name("compose_cp_metrics.json")
    if metrics.is_file():
        shutil.copyfile(metrics, models / metrics.name)
    for name, (file, digest) in copied.items():
        how = set_registry_entry(models / "__init__.py", name, file, digest)
        print(f"registry: {how} {name} ({file}, sha256 {digest})")
    cfg = doc["model"]
    valid = doc.get("valid", {})
    fam = valid.get("nll_per_family", {})
    split = doc.get("split", {})
    values = {
        "SHA_PT": copied["compose_cp"][1], "SHA_JSON": copied["compose_cp_config"][1],
        "SIZE_MB": f"{(models / 'compose_cp.pt').stat().st_size / 1e6:.1f}",
        "PARAMETERS": f"{int(doc.get('parameters', lm.net.n_params)):,}",
        "D_MODEL": str(cfg["d_model"]), "LAYERS": str(cfg["n_layers"]), "HEADS": str(cfg["n_heads"]),
        "D_FF": str(cfg["d_ff"]), "CONTEXT": str(cfg["max_len"]), "DROPOUT": str(cfg["dropout"]),
        "STEPS": str(doc.get("steps", "?")), "MINUTES": str(doc.get("minutes", "?")),
        "THREADS": str(doc.get("threads", "?")), "SEED": str(doc.get("seed", "?")),
        "COMMAND": str(doc.get("command", "?")),
        "SPLIT_TRAIN": str(split.get("train", "?")), "SPLIT_VALID": str(split.get("valid", "?")),
        "SPLIT_TEST": str(split.get("test", "?")),
        "VALID_NLL_ROW": f"{valid.get('nll_per_row', float('nan')):.3f}",
        "VALID_ROWS": str(valid.get("rows", "?")),
        "TRAINED_EMOTIONS": ", ".join(doc.get("trained_conditions", {}).get("emotion", [])),
        "TRAINED_METERS": ", ".join(doc.get("trained_conditions", {}).get("meter", [])),
    }
    for f in HEAD_FAMILIES:
        values[f"VALID_{f.upper()}"] = f"{fam[f]:.3f}" if f in fam else "?"
    card = models / "compose_cp.md"
    shutil.copyfile(CARD_TEMPLATE, card)
    left = fill_card(card, values)
    print(f"card: wrote {card} from {CARD_TEMPLATE.name}; "
          f"still to fill by hand: {', '.join(left) or 'nothing'}")
    print("now: pytest tests/compose tests/cli -q; python benchmarks/compose.py (fill the card and "
          "docs/benchmarks.md); git add src/yuefu/models/compose_cp.*")
    return 0


def load_songs(tok: CPTokenizer, data: Path, cache: Path | None, limit: int | None) -> list[SongTokens]:
    folders = song_folders(data)
    if limit:
        folders = folders[:limit]
    what = json.dumps([tok.settings.to_dict(), [f.name for f in folders]]).encode()
    key = hashlib.sha256(what).hexdigest()[:12]
    path = cache / f"pop909_tokens_{key}.npz" if cache else None
    if path is not None and path.is_file():
        z = np.load(path, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
        return [SongTokens(m["name"], z[f"rows_{i}"], z[f"bars_{i}"], Conditions(**m["cond"]), m["shift"])
                for i, m in enumerate(meta)]
    t0 = time.time()
    songs = []
    for f in folders:
        s = encode_song(tok, f)
        if s is not None:
            songs.append(s)
    print(f"tokenized {len(songs)} of {len(folders)} songs in {time.time() - t0:.0f} s", flush=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"rows_{i}": s.rows for i, s in enumerate(songs)}
        arrays.update({f"bars_{i}": s.bar_rows for i, s in enumerate(songs)})
        meta = [{"name": s.name, "shift": s.shift, "cond": s.cond.__dict__} for s in songs]
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)
    return songs


def track_ranges(songs: list[SongTokens], tok: CPTokenizer) -> dict[str, tuple[int, int]]:
    """Pitch range of each track in the training songs (0.1 and 99.9 percentiles, widened)."""
    out = {}
    for ti, name in ((1, "melody"), (2, "accompaniment")):
        p = np.concatenate([tok.pitch_of[s.rows[s.rows[:, FI["track"]] == ti, FI["pitch"]]] for s in songs])
        lo, hi = np.percentile(p, [0.1, 99.9])
        out[name] = (int(max(21, lo - 2)), int(min(108, hi + 2)))
    return out


def losses(net: CompoundTransformer,
           batch: torch.Tensor) -> tuple[torch.Tensor, dict[str, tuple[float, int]]]:
    """Summed NLL per compound token, and (sum, count) of NLL per family (PAD / inactive ignored)."""
    x, y = batch[:, :-1], batch[:, 1:]
    out = net(x, y)
    n_rows = (y[..., 0] != 0).sum().clamp(min=1)
    total = torch.zeros(())
    per = {}
    for fam in HEAD_FAMILIES:
        tgt = y[..., FI[fam]]
        s = F.cross_entropy(out[fam].reshape(-1, out[fam].shape[-1]), tgt.reshape(-1),
                            ignore_index=0, reduction="sum")
        total = total + s
        per[fam] = (float(s.detach()), int((tgt != 0).sum()))
    return total / n_rows, per


@torch.no_grad()
def evaluate(net: CompoundTransformer, songs: list[SongTokens], length: int, batch_size: int) -> dict:
    net.eval()
    wins = []
    for si, s in enumerate(songs):  # non-overlapping windows covering each song
        start = int(s.bar_rows[0])
        while start < len(s.rows) - 1:
            wins.append((si, start))
            nxt = s.bar_rows[s.bar_rows >= start + length - 1]
            if nxt.size == 0:
                break
            start = int(nxt[0])
    sums = {f: [0.0, 0] for f in HEAD_FAMILIES}
    rows = 0
    rng = np.random.default_rng(0)
    for b in batches(songs, wins, length=length, batch_size=batch_size, rng=rng, p_unknown=0.0):
        bt = torch.as_tensor(b)
        _, per = losses(net, bt)
        rows += int((bt[:, 1:, 0] != 0).sum())
        for f, (s, n) in per.items():
            sums[f][0] += s
            sums[f][1] += n
    net.train()
    fam = {f: round(s / max(n, 1), 4) for f, (s, n) in sums.items()}
    total = sum(s for s, _ in sums.values()) / max(rows, 1)
    return {"nll_per_row": round(total, 4), "nll_per_family": fam, "rows": rows,
            "tokens_per_family": {f: n for f, (_, n) in sums.items()}}


def lr_at(step: int, *, peak: float, warmup: int, total: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=HERE.parent / "shared/datasets/pop909/POP909")
    ap.add_argument("--out", type=Path, default=HERE / "src/yuefu/models")
    ap.add_argument("--work", type=Path, default=HERE / "runs/compose", help="checkpoints and token cache")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--d-model", type=int, default=192)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=768)
    ap.add_argument("--context", type=int, default=512, help="rows per training window")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--max-steps", type=int, default=1800)
    ap.add_argument("--time-limit-min", type=float, default=None, help="stop (and save) after this long")
    ap.add_argument("--eval-every", type=int, default=600)
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--limit-songs", type=int, default=None, help="use the first N songs (trials)")
    ap.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --work")
    ap.add_argument("--trial", action="store_true",
                    help="a tiny model on 200 songs for a few minutes (d 96, 2 layers, context 256)")
    ap.add_argument("--register", type=Path, metavar="RUN",
                    help="ship the weights of a finished run (a folder with compose_cp.pt/.json): copy "
                         "them into src/yuefu/models, set their sha256 in the registry, fill the card")
    args = ap.parse_args(argv)
    if args.register is not None:
        return register(args.register)
    if args.trial:
        args.d_model, args.layers, args.heads, args.d_ff, args.context = 96, 2, 4, 256, 256
        args.limit_songs = args.limit_songs or 200
        args.warmup, args.eval_every, args.ckpt_every = 100, 200, 200
        args.lr = 1e-3
    if not args.data.is_dir():
        print(f"POP909 not found at {args.data}; pass --data", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)

    tok0 = CPTokenizer()
    songs = load_songs(tok0, args.data, args.work, args.limit_songs)
    split = split_songs([s.name for s in songs])
    train = [s for s in songs if split[s.name] == "train"]
    valid = [s for s in songs if split[s.name] == "valid"]
    test = [s for s in songs if split[s.name] == "test"]
    settings = TokenizerSettings(track_pitch=track_ranges(train, tok0))
    tok = CPTokenizer(settings)
    wins = windows(train, length=args.context)
    print(f"songs: {len(train)} train / {len(valid)} valid / {len(test)} test; "
          f"{sum(len(s.rows) for s in train)} train rows; {len(wins)} windows; ranges {settings.track_pitch}",
          flush=True)
    cfg = ModelConfig(vocab_sizes=tok.sizes, d_model=args.d_model, n_layers=args.layers, n_heads=args.heads,
                      d_ff=args.d_ff, max_len=args.context, dropout=args.dropout)
    net = CompoundTransformer(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    print(f"model: {net.n_params} parameters {cfg.to_dict()}", flush=True)
    step, epoch, batch_in_epoch, elapsed = 0, 0, 0, 0.0
    history: list[dict] = []
    ckpt = args.work / "checkpoint.pt"
    if args.resume and ckpt.is_file():
        st = torch.load(ckpt, map_location="cpu", weights_only=False)
        net.load_state_dict(st["model"])
        opt.load_state_dict(st["optim"])
        step, epoch, batch_in_epoch, elapsed = st["step"], st["epoch"], st["batch_in_epoch"], st["elapsed"]
        history = st["history"]
        torch.set_rng_state(st["torch_rng"])
        print(f"resumed at step {step} (epoch {epoch}, batch {batch_in_epoch}, {elapsed / 60:.1f} min)")

    def save_ckpt() -> None:
        args.work.mkdir(parents=True, exist_ok=True)
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"model": net.state_dict(), "optim": opt.state_dict(), "step": step, "epoch": epoch,
                    "batch_in_epoch": batch_in_epoch, "elapsed": elapsed, "history": history,
                    "torch_rng": torch.get_rng_state(), "args": vars(args) | {"data": str(args.data),
                    "out": str(args.out), "work": str(args.work)}}, tmp)
        tmp.replace(ckpt)

    net.train()
    t_start = time.time() - elapsed
    run_loss, run_n, rows_seen = 0.0, 0, 0
    done = False
    while not done:
        order_rng = np.random.default_rng([args.seed, epoch])
        for bi, b in enumerate(batches(train, wins, length=args.context, batch_size=args.batch,
                                       rng=order_rng, p_unknown=0.2)):
            if bi < batch_in_epoch:
                continue
            for g in opt.param_groups:
                g["lr"] = lr_at(step, peak=args.lr, warmup=args.warmup, total=args.max_steps)
            bt = torch.as_tensor(b)
            loss, _ = losses(net, bt)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            step += 1
            batch_in_epoch = bi + 1
            run_loss += float(loss.detach())
            run_n += 1
            rows_seen += int((bt[:, 1:, 0] != 0).sum())
            elapsed = time.time() - t_start
            if step % 50 == 0:
                print(f"step {step} epoch {epoch} loss {run_loss / run_n:.3f} "
                      f"({rows_seen / max(elapsed, 1e-9):.0f} rows/s, {elapsed / 60:.1f} min)", flush=True)
                history.append({"step": step, "train_nll_per_row": round(run_loss / run_n, 4),
                                "minutes": round(elapsed / 60, 2)})
                run_loss, run_n = 0.0, 0
            if step % args.eval_every == 0:
                ev = evaluate(net, valid, args.context, args.batch)
                history.append({"step": step, "valid": ev, "minutes": round(elapsed / 60, 2)})
                print(f"  valid nll/row {ev['nll_per_row']:.3f} {ev['nll_per_family']}", flush=True)
            if step % args.ckpt_every == 0:
                save_ckpt()
            if step >= args.max_steps or (args.time_limit_min and elapsed >= 60 * args.time_limit_min):
                done = True
                break
        else:
            epoch += 1
            batch_in_epoch = 0
    save_ckpt()
    final_valid = evaluate(net, valid, args.context, args.batch)
    print(f"final valid nll/row {final_valid['nll_per_row']:.3f} {final_valid['nll_per_family']}", flush=True)
    trained = {f: sorted({getattr(s.cond, f) for s in train}) for f in ("style", "emotion", "mode", "meter")}
    meta = {"trained_conditions": trained, "data": "POP909 (MIT), MELODY + BRIDGE/PIANO, chord_midi.txt",
            "split": {"train": len(train), "valid": len(valid), "test": len(test),
                      "test_songs": sorted(s.name for s in test),
                      "valid_songs": sorted(s.name for s in valid)},
            "parameters": net.n_params, "steps": step, "minutes": round(elapsed / 60, 1),
            "threads": args.threads, "seed": args.seed, "valid": final_valid,
            "command": "python train/compose.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    pt, js = save_language_model(net, tok, args.out, meta=meta)
    (args.out / "compose_cp_metrics.json").write_text(
        json.dumps({"final_valid": final_valid, "history": history}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {pt} and {js}")
    # a sample, to show the weights write valid MIDI
    from yuefu.compose.lm.api import compose, load_language_model
    from yuefu.core.io.midi import read_midi, write_midi

    lm = load_language_model(pt)
    res = compose("pop", "happy", 8, seed=args.seed, model=lm)
    mid = args.out / "compose_cp_sample.mid"
    write_midi(res.score, mid, force=True)
    back = read_midi(mid)
    print(f"sample: {res.bars} bars, {back.n_notes} notes, tracks "
          f"{[(t.name, len(t.notes)) for t in back.tracks]}, {res.seconds:.2f} s, stopped at {res.stopped}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
