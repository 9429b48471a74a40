"""Sounds of lyrics: 十三辙 rhyme groups, 平仄, CMU rhymes, syllable counts and splits."""

from __future__ import annotations

import pytest

from yuefu.lyrics.phonetics import (
    RHYME_GROUPS_ZH,
    SHISANZHE,
    line_rhyme_group_zh,
    line_rhyme_key,
    rhyme_group_zh,
    rhymes_en,
    rhyming_part_en,
    split_syllables,
    syllable_count,
    syllable_count_en,
    syllables_en,
    tone_class_zh,
    tone_classes_zh,
)


@pytest.mark.parametrize(
    ("a", "b", "group"),
    [
        ("花", "家", "发花"),
        ("月", "雪", "乜斜"),
        ("天", "边", "言前"),
        ("光", "乡", "江阳"),
        ("风", "中", "中东"),
        ("人", "云", "人辰"),
        ("秋", "愁", "油求"),
        ("飞", "归", "灰堆"),
        ("来", "怀", "怀来"),
        ("桥", "遥", "遥条"),
        ("波", "歌", "梭波"),
        ("路", "无", "姑苏"),
    ],
)
def test_known_pairs_share_their_group(a: str, b: str, group: str) -> None:
    assert rhyme_group_zh(a) == rhyme_group_zh(b) == group


def test_different_groups_differ() -> None:
    assert rhyme_group_zh("花") != rhyme_group_zh("月")
    assert rhyme_group_zh("天") != rhyme_group_zh("光")  # -an and -ang are different groups


def test_apical_i_and_yu_and_er_are_yiqi() -> None:
    # the -i of zhi chi shi ri zi ci si, the i of yi, the ü of yu and er all rhyme in 一七辙
    for ch in "知吃是日子词四一去女耳":
        assert rhyme_group_zh(ch) == "一七", ch


def test_erhua_at_line_end() -> None:
    assert line_rhyme_group_zh("一朵小花儿") == "小言前儿"
    assert line_rhyme_group_zh("找个好玩儿") == "小言前儿"
    assert line_rhyme_group_zh("心里有点儿") == "小言前儿"
    assert line_rhyme_group_zh("一阵风儿") == "中东"  # -eng does not merge: keeps its group
    assert line_rhyme_group_zh("儿") == "一七"  # a lone 儿 is a syllable of its own


def test_heteronym_read_in_context() -> None:
    # 行 reads hang in 银行 (江阳辙) but xing on its own (中东辙)
    assert rhyme_group_zh("行") == "中东"
    assert line_rhyme_group_zh("我去银行") == "江阳"


def test_every_final_has_one_group() -> None:
    finals = [f for fs in SHISANZHE.values() for f in fs]
    assert len(finals) == len(set(finals))
    assert len(SHISANZHE) == 13
    assert set(SHISANZHE) <= set(RHYME_GROUPS_ZH)


def test_tone_classes() -> None:
    assert "".join(tone_classes_zh("春风又绿江南岸")) == "平平仄仄平平仄"
    assert tone_class_zh("花") == "平" and tone_class_zh("月") == "仄"
    assert tone_classes_zh("明月，几时有？") == ("平", "仄", "仄", "平", "仄")  # punctuation skipped


def test_english_rhymes() -> None:
    assert rhymes_en("night", "light")
    assert rhymes_en("Night", "delight")
    assert not rhymes_en("night", "day")
    assert not rhymes_en("night", "night")  # a repeat is not a rhyme
    assert rhyming_part_en("night") == "AY T"
    assert rhymes_en("sea", "free") and rhymes_en("away", "day")


def test_english_rhyme_fallback_for_unknown_words() -> None:
    part = rhyming_part_en("moonlite")
    assert part.startswith("~") and part.endswith("ite")
    assert rhymes_en("zorblite", "moonlite")
    assert not rhymes_en("moonlite", "night")  # letters never rhyme with phones


@pytest.mark.parametrize(
    ("word", "n"),
    [("night", 1), ("lantern", 2), ("lanterns", 2), ("beautiful", 3), ("remember", 3),
     ("yesterday", 3), ("I'm", 1), ("don't", 1), ("memory", 3)],
)
def test_cmu_syllables(word: str, n: int) -> None:
    assert syllable_count_en(word) == n


def test_fallback_syllable_counter() -> None:
    assert syllable_count_en("zorbleflam") == 3
    assert syllable_count_en("glimmerstone") == 3
    assert syllable_count_en("brrr") == 1  # never zero


@pytest.mark.parametrize(
    "word",
    ["lanterns", "remember", "beautiful", "evening", "fire", "hour", "memories", "silently", "together",
     "poetry", "wandering", "zorbleflam", "strengths", "queue", "rhythm", "everywhere", "Jerusalem"],
)
def test_sung_syllables_match_the_count(word: str) -> None:
    parts = syllables_en(word)
    assert len(parts) == syllable_count_en(word)
    assert "".join(parts) == word
    assert all(parts)


def test_split_examples() -> None:
    assert syllables_en("lanterns") == ("lan", "terns")
    assert split_syllables("Holy lanterns in the night", language="en") == (
        "Ho-", "ly", "lan-", "terns", "in", "the", "night")
    assert split_syllables("月光，照旧窗。", language="zh") == ("月", "光", "照", "旧", "窗")


def test_line_counts_and_keys() -> None:
    assert syllable_count("月光照旧窗 abc 123", language="zh") == 5
    assert syllable_count("Remember the lanterns", language="en") == 3 + 1 + 2
    assert line_rhyme_key("walking in the night,", language="en") == "AY T"
    assert line_rhyme_key("明月几时有", language="zh") == "油求"
    assert line_rhyme_key("!!!", language="en") is None
