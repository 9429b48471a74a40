"""Lyric syllables to phones: Mandarin (pypinyin, phrase-aware), English (CMU + fallback)."""

from __future__ import annotations

import pytest

from yuefu.core.errors import ParameterError
from yuefu.sing.phonetics import (
    arpabet_to_espeak,
    detect_language,
    is_melisma,
    split_word,
    syllabify,
)


def test_polyphonic_characters_read_in_their_phrase():
    syls, warns = syllabify(list("银行行走"), lang="zh")
    assert [s.pinyin for s in syls] == ["yin2", "hang2", "xing2", "zou3"]
    assert warns == []


def test_phrase_breaks_keep_lines_apart():
    # without the break, pypinyin would read 银行 across the line end
    syls, _ = syllabify(["银", "行", "走"], lang="zh", breaks=[1])
    assert syls[1].pinyin == "xing2"


def test_tone_numbers_initials_and_finals():
    syls, _ = syllabify(["月", "亮", "的", "女"], lang="zh")
    assert [(s.phones, s.tone) for s in syls] == [
        (("y", "ue"), 4), (("l", "iang"), 4), (("d", "e"), 5), (("n", "v"), 3)]
    # spoken level (tone 1): the melody, not the lexical tone, sets the pitch
    assert [s.espeak for s in syls] == ["yue1", "liang1", "de1", "nv1"]
    assert all(not s.espeak_phonemes for s in syls)


def test_pinyin_lyrics_with_numbers_or_marks():
    syls, warns = syllabify(["yue4", "liàng", "lüe4", "nv3"], lang="zh")
    assert [s.pinyin for s in syls] == ["yue4", "liang4", "lve4", "nv3"]
    assert warns == []


def test_unreadable_mandarin_syllables_are_named_and_sung_as_la():
    syls, warns = syllabify(["月", "xq3", "?!"], lang="zh")
    assert syls[1].pinyin == "la1" and syls[2].pinyin == "la1"
    assert len(warns) == 1 and "'xq3'" in warns[0] and "la" in warns[0]


def test_english_words_split_across_notes_with_cmu_stress():
    syls, warns = syllabify(["beau-", "ti-", "ful", "mon-", "ster"], lang="en")
    assert [s.phones for s in syls] == [("B", "Y", "UW1"), ("T", "AH0"), ("F", "AH0", "L"),
                                        ("M", "AA1", "N"), ("S", "T", "ER0")]
    assert syls[0].espeak == "[[bj'u:]]" and syls[0].espeak_phonemes
    assert warns == []


def test_unknown_english_word_falls_back_to_espeak_rules_with_a_warning():
    syls, warns = syllabify(["the", "zorblax"], lang="en")
    assert syls[0].phones == ("DH", "AH0")
    assert syls[1].phones == () and syls[1].espeak == "zorblax" and not syls[1].espeak_phonemes
    assert len(warns) == 1 and "'zorblax'" in warns[0]


def test_english_syllable_without_letters_is_named():
    syls, warns = syllabify(["123"], lang="en")
    assert syls[0].text == "la" and "'123'" in warns[0]


def test_split_word_maximal_legal_onsets():
    assert split_word(["EH1", "K", "S", "T", "R", "AH0"], 2) == [("EH1", "K"), ("S", "T", "R", "AH0")]
    assert split_word(["HH", "AH0", "L", "OW1"], 3) is None
    assert arpabet_to_espeak(["S", "T", "AA1", "R"]) == "[[st'A@]]"  # espeak's r-coloured vowel


def test_language_detection_and_melisma_marks():
    assert detect_language(["月", "-", "亮"]) == "zh"
    assert detect_language(["ni3", "hao3"]) == "zh"
    assert detect_language(["hel-", "lo", "-"]) == "en"
    assert detect_language([]) == "en"
    assert is_melisma("-") and is_melisma(" _ ") and not is_melisma("la") and not is_melisma(None)


def test_unknown_language_is_refused():
    with pytest.raises(ParameterError, match="lang"):
        syllabify(["a"], lang="fr")
