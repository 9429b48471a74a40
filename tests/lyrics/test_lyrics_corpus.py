"""Training text from ../shared/datasets: hymn lyrics rebuilt from ABC, Chinese clauses, a small model."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from yuefu.lyrics.corpus import Poem, chinese_poems, hymn_poems, is_heldout
from yuefu.lyrics.ngram import SPECIALS, UNK, train_ngram
from yuefu.lyrics.phonetics import han_chars

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
pytestmark = [
    pytest.mark.dataset,
    pytest.mark.skipif(not DATASETS.is_dir(),
                       reason=f"needs the training data at {DATASETS} (../shared/datasets)"),
]


@pytest.fixture(scope="module")
def zh_poems() -> list[Poem]:
    return list(chinese_poems(DATASETS))


def test_hymn_lyrics_are_rebuilt_from_abc_syllables() -> None:
    poems = {p.key: p for p in hymn_poems(DATASETS)}
    assert len(poems) > 250
    abide = next(p for k, p in poems.items() if k.startswith("hymn/Abide_With_Me"))
    assert "Abide with me; fast falls the eventide;" in abide.lines
    assert "The darkness deepens; Lord with me abide." in abide.lines
    assert "Swift to its close ebbs out life's little day;" in abide.lines  # verse 2: the 2nd w: lines
    for p in poems.values():
        for line in p.lines:
            assert not re.search(r"[0-9*_|~]|\w- ", line), line  # no verse numbers, markup or split syllables


def test_chinese_clauses(zh_poems: list[Poem]) -> None:
    poems = zh_poems
    sources = Counter(p.source for p in poems)
    assert sources["song_ci"] > 20_000 and sources["yuan_qu"] > 10_000
    for p in poems[:2000]:
        for clause in p.lines:
            assert clause == han_chars(clause) and 2 <= len(clause) <= 12
            assert "囗" not in clause  # missing-character marks are dropped


def test_heldout_split_is_stable_and_about_five_percent(zh_poems: list[Poem]) -> None:
    keys = [p.key for p in zh_poems]
    held = [k for k in keys if is_heldout(k)]
    assert 0.04 < len(held) / len(keys) < 0.06
    assert held == [k for k in keys if is_heldout(k)]


def test_a_small_model_beats_the_unigram_baseline(zh_poems: list[Poem]) -> None:
    poems = zh_poems[:4000]
    train = [ln for p in poems if not is_heldout(p.key) for ln in p.lines]
    held = [list(ln) for p in poems if is_heldout(p.key) for ln in p.lines]
    counts = Counter(c for ln in train for c in ln)
    vocab = [*SPECIALS, *sorted(c for c, n in counts.items() if n >= 2)]
    index = {u: i for i, u in enumerate(vocab)}
    ids = [[index.get(c, UNK) for c in ln] for ln in train]
    lm = train_ngram(ids, vocab=vocab, order=3, min_counts=(1, 2))
    ppl, _ = lm.perplexity(held)
    assert ppl < 0.6 * lm.unigram_perplexity(held)
