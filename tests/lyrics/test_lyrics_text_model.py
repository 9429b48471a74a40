"""Lyrics files both ways, the rhyme rate, the n-gram model and the shipped weights' hashes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from yuefu.core.errors import ModelLoadError, ParameterError
from yuefu.lyrics import LyricLine, Lyrics, LyricSection, rhyme_rate
from yuefu.lyrics.ngram import BOS, EOS, NGramLM, train_ngram
from yuefu.models import REGISTRY, model_path, sha256_file, verified_path

ZH_TEXT = """[verse 1]
月光照旧窗
故人在远方

[chorus]
花开又一年
春风到江边
"""


def test_parse_and_to_text_round_trip_zh() -> None:
    lyr = Lyrics.parse(ZH_TEXT, language="zh")
    assert [s.name for s in lyr.sections] == ["verse 1", "chorus"]
    assert lyr.sections[0].lines[0] == LyricLine("月光照旧窗", ("月", "光", "照", "旧", "窗"))
    assert lyr.to_text() == ZH_TEXT
    assert Lyrics.parse(lyr.to_text(), language="zh") == lyr
    assert lyr.rhyme_groups == {"verse 1": ("江阳",), "chorus": ("言前",)}


def test_parse_english_with_repeated_chorus_and_comments() -> None:
    text = (
        "# my song\n[Verse 1]\nWalking through the lanterns bright,\nDreaming of the summer night\n\n"
        "[Chorus]\nHold me close\nNever let go\n\n[Verse 2]\nMorning comes\nOver the sea\n\n"
        "[Chorus]\nHold me close\nNever let go\n"
    )
    lyr = Lyrics.parse(text, language="en", source="song/lyrics.txt")
    assert [s.name for s in lyr.sections] == ["Verse 1", "Chorus", "Verse 2", "Chorus"]
    first = lyr.sections[0].lines[0]
    assert first.text == "Walking through the lanterns bright,"
    assert first.syllables == ("Walk-", "ing", "through", "the", "lan-", "terns", "bright")
    assert len(lyr.unique_sections()) == 3
    assert Lyrics.parse(lyr.to_text(), language="en") == lyr
    assert lyr.sections[0].rhyme_groups == ("AY T",)


def test_parse_without_headers_makes_verses_of_stanzas() -> None:
    lyr = Lyrics.parse("one two three\nfour five six\n\nseven eight nine\n", language="en")
    assert [s.name for s in lyr.sections] == ["verse 1", "verse 2"]
    assert [len(s.lines) for s in lyr.sections] == [2, 1]


@pytest.mark.parametrize("text", ["", "\n\n", "[verse]\n\n[chorus]\n", "# only a comment\n", "123 456\n!!!"])
def test_no_usable_line_names_the_file(text: str) -> None:
    with pytest.raises(ParameterError) as e:
        Lyrics.parse(text, language="en", source="out/lyrics.txt")
    assert "out/lyrics.txt" in str(e.value) and "no usable lyric line" in str(e.value)


def test_chinese_file_with_only_latin_is_unusable(tmp_path: Path) -> None:
    p = tmp_path / "lyrics.txt"
    p.write_text("[verse]\nhello world\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=str(p).replace("\\", "\\\\")):
        Lyrics.load(p, language="zh")
    with pytest.raises(ParameterError, match="no such lyrics file"):
        Lyrics.load(tmp_path / "missing.txt", language="zh")
    p.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ParameterError, match="not UTF-8"):
        Lyrics.load(p, language="zh")
    with pytest.raises(ParameterError, match="unknown language"):
        Lyrics.parse("hello", language="de")


def _sec(name: str, lines: list[str], lang: str) -> LyricSection:
    return LyricSection(name, tuple(LyricLine.from_text(t, language=lang) for t in lines))


def test_rhyme_rate() -> None:
    en = [_sec("verse 1", ["in the night", "hold the light", "a summer day", "far away"], "en"),
          _sec("chorus", ["I sing", "you sing"], "en")]
    # identical end words are not rhymes: the chorus scores 0 of 2
    assert rhyme_rate(en, language="en") == pytest.approx(4 / 6)
    zh = [_sec("verse", ["天上一朵花", "我想回到家", "月亮弯弯", "不说话"], "zh")]
    assert rhyme_rate(zh, language="zh") == pytest.approx(3 / 4)
    repeated = zh + zh
    assert rhyme_rate(repeated, language="zh") == pytest.approx(3 / 4)  # a repeated section counts once
    assert np.isnan(rhyme_rate([_sec("v", ["one line"], "en")], language="en"))


# -- the n-gram model ---------------------------------------------------------------------------
VOCAB = ["<unk>", "<s>", "</s>", *"abcdefg"]


@pytest.fixture
def toy_lm(rng: np.random.Generator) -> NGramLM:
    lines = [list(rng.integers(3, len(VOCAB), rng.integers(1, 9))) for _ in range(3000)]
    return train_ngram(lines, vocab=VOCAB, order=4, min_counts=(1, 2, 3))


def test_distributions_sum_to_one_and_match_point_queries(toy_lm: NGramLM) -> None:
    for ctx in [(BOS, BOS, BOS), (BOS, BOS, 3), (3, 4, 5), (9, 9, 9), (0, 0, 0)]:
        d = toy_lm.dist(ctx)
        assert d.sum() == pytest.approx(1.0, abs=1e-5)
        assert d[BOS] == 0.0 and d[EOS] > 0.0
        for u in (EOS, 3, 8):
            assert toy_lm.prob(ctx, u) == pytest.approx(float(d[u]), rel=1e-5)


def test_model_beats_unigram_on_structured_text() -> None:
    # a corpus with strong local structure: abc abc ... ; the n-gram must model it far better
    lines = [[3, 4, 5] * k for k in range(1, 5)] * 200 + [[6, 7, 8, 9]] * 200
    lm = train_ngram(lines, vocab=VOCAB, order=3, min_counts=(1, 1))
    held = [["a", "b", "c", "a", "b", "c"], ["d", "e", "f", "g"]]
    ppl, n = lm.perplexity(held)
    assert n == 6 + 4 + 2
    assert ppl < 0.5 * lm.unigram_perplexity(held)


def test_save_load_round_trip_and_determinism(toy_lm: NGramLM, tmp_path: Path) -> None:
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    toy_lm.save(a)
    toy_lm.save(b)
    assert a.read_bytes() == b.read_bytes()  # byte-identical: fixed zip member times
    back = NGramLM.load(a)
    assert back.vocab == toy_lm.vocab and back.order == 4
    np.testing.assert_allclose(back.dist((3, 4, 5)), toy_lm.dist((3, 4, 5)), atol=1e-7)


def test_corrupt_model_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not a zip at all")
    with pytest.raises(ModelLoadError):
        NGramLM.load(bad)
    with pytest.raises(ModelLoadError, match="missing"):
        NGramLM.load(tmp_path / "none.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ModelLoadError, match="incomplete"):
        NGramLM.load(tmp_path / "other.npz")


# -- the shipped weights ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lyrics_zh", "lyrics_en"])
def test_shipped_model_matches_its_hash(name: str) -> None:
    p = verified_path(name)
    assert p == model_path(name)
    assert sha256_file(p) == REGISTRY[name].sha256
    assert p.stat().st_size < 6_000_000  # small enough to ship
    assert p.with_name("lyrics.md").is_file()  # the model card


def test_corrupted_copy_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "lyrics_zh.npz"
    shutil.copy(model_path("lyrics_zh"), copy)
    verified_path("lyrics_zh", path=copy)  # an exact copy passes
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="sha256"):
        verified_path("lyrics_zh", path=copy)
    with pytest.raises(ModelLoadError, match="missing"):
        verified_path("lyrics_zh", path=tmp_path / "gone.npz")
    with pytest.raises(ModelLoadError, match="unknown model"):
        verified_path("no_such_model")
