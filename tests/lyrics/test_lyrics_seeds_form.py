"""Lexical seeds (theme words + imagery), bad themes, and the song form."""

from __future__ import annotations

import pytest

from yuefu.core.errors import ParameterError
from yuefu.core.spec import EMOTIONS, STYLES
from yuefu.lyrics import IMAGERY, SectionPlan, default_form, lexical_seeds, theme_words


def test_chinese_theme_words_by_jieba() -> None:
    seeds = lexical_seeds("夏夜的海边", emotion="nostalgic", language="zh")
    assert seeds[:2] == ("夏夜", "海边")  # 的 is a stop word
    assert "故乡" in seeds and "黄昏" in seeds  # nostalgic imagery
    assert len(seeds) == len(set(seeds))


def test_english_theme_words_drop_stop_words() -> None:
    assert theme_words("Summer night by the sea", language="en") == ("summer", "night", "sea")
    seeds = lexical_seeds("summer night by the sea", emotion="romantic", language="en")
    assert seeds[:3] == ("summer", "night", "sea")
    assert "moonlight" in seeds


def test_imagery_table_is_complete() -> None:
    for lang in ("zh", "en"):
        assert set(IMAGERY[lang]) == set(EMOTIONS)
        for emotion, words in IMAGERY[lang].items():
            assert len(words) >= 10, (lang, emotion)
            assert len(set(words)) == len(words)


@pytest.mark.parametrize(
    ("theme", "needle"),
    [
        ("", "empty"),
        ("    ", "empty"),
        ("🌊🌙✨", "no words"),
        ("x" * 10_000, "10000 characters"),
        ("的了吗", "no content words"),
        ("the of and", "no content words"),
    ],
)
def test_bad_themes_are_refused_in_one_line(theme: str, needle: str) -> None:
    lang = "zh" if any("\u4e00" <= c <= "\u9fff" for c in theme) else "en"
    with pytest.raises(ParameterError) as e:
        lexical_seeds(theme, emotion="happy", language=lang)
    msg = str(e.value)
    assert needle in msg and "\n" not in msg


def test_theme_in_the_wrong_language() -> None:
    with pytest.raises(ParameterError, match="no Chinese characters"):
        lexical_seeds("summer night", emotion="happy", language="zh")
    with pytest.raises(ParameterError, match="no English words"):
        lexical_seeds("夏夜", emotion="happy", language="en")


def test_unknown_emotion_and_language_list_the_valid_ones() -> None:
    with pytest.raises(ParameterError) as e:
        lexical_seeds("sea", emotion="gloomy", language="en")
    assert all(em in str(e.value) for em in EMOTIONS)
    with pytest.raises(ParameterError, match="zh, en"):
        lexical_seeds("sea", emotion="happy", language="fr")
    with pytest.raises(ParameterError, match="must be text"):
        lexical_seeds(None, emotion="happy", language="en")  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("style", STYLES)
def test_default_form_parallel_lines_are_equal(style: str, language: str) -> None:
    form = default_form(style, language, length_s=180)
    names = [s.name for s in form]
    assert names[0] == "verse 1" and "chorus" in names and names.count("chorus") >= 2
    by_name: dict[str, SectionPlan] = {}
    for s in form:
        assert len(set(s.syllables)) == 1  # parallel lines have equal length
        assert len(s.rhyme_scheme) == s.n_lines
        assert by_name.setdefault(s.name, s) == s  # a repeated section is the same plan
    if style == "children":
        assert "pre-chorus" not in names and "bridge" not in names
        verse = form[0].syllables[0]
        assert verse <= min(default_form(o, language)[0].syllables[0] for o in STYLES)


def test_ballad_zh_verse_length_and_form_by_length() -> None:
    assert 7 <= default_form("ballad", "zh")[0].syllables[0] <= 9
    assert [s.name for s in default_form("pop", "en", length_s=30)] == ["verse 1", "chorus"]
    names = [s.name for s in default_form("pop", "en", length_s=60)]
    assert names == ["verse 1", "chorus", "verse 2", "chorus"]
    assert len(default_form("pop", "en", length_s=600)) == 8


def test_form_errors() -> None:
    with pytest.raises(ParameterError) as e:
        default_form("polka", "en")
    assert all(s in str(e.value) for s in STYLES)
    with pytest.raises(ParameterError, match="10..600"):
        default_form("pop", "en", length_s=5)
    with pytest.raises(ParameterError, match="syllable counts"):
        SectionPlan("verse", 2, (8,))
    with pytest.raises(ParameterError, match="2..16"):
        SectionPlan("verse", 1, (40,))
    with pytest.raises(ParameterError, match="one letter per line"):
        SectionPlan("verse", 2, (8, 8), "ABC")
    assert SectionPlan("outro", 2, (6, 6)).kind == "verse"  # unknown names count as verses
    assert SectionPlan("chorus 2", 2, (6, 6)).kind == "chorus"
    assert SectionPlan("chorus", 2, [6, 6]).syllables == (6, 6)


def test_jieba_loads_without_a_warning_on_stderr() -> None:
    """jieba imports pkg_resources, which setuptools 80 warns about on stderr; `yuefu song -q`
    must print nothing, so the import is silenced (a fresh process: jieba may be loaded here)."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c",
                        "from yuefu.lyrics.seeds import _jieba; _jieba()"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "pkg_resources" not in r.stderr
