"""write_lyrics: the constraints hold on every line, candidates are distinct, seeds reproduce.

Generation is kept short (30-60 s songs: two to four sections) so the whole file runs in a few
seconds; the benchmark covers full songs.
"""

from __future__ import annotations

import pytest

from yuefu.core.errors import ParameterError
from yuefu.core.spec import SongSpec
from yuefu.lyrics import (
    Lyrics,
    LyricsRequest,
    SectionPlan,
    default_form,
    line_rhyme_key,
    syllable_count,
    write_lyrics,
)
from yuefu.lyrics.phonetics import han_chars, words_en

CASES = [
    ("zh", "夏夜的海边", "ballad", "nostalgic"),
    ("zh", "春天的校园", "children", "playful"),
    ("zh", "长城", "folk", "epic"),
    ("en", "summer night by the sea", "pop", "romantic"),
    ("en", "the old lighthouse", "folk", "sad"),
    ("en", "city lights", "electronic", "excited"),
]


def _check_song(lyr: Lyrics, req: LyricsRequest) -> None:
    form = req.form or default_form(req.style, req.language, length_s=req.length_s)
    assert [s.name for s in lyr.sections] == [p.name for p in form]
    for sec, plan in zip(lyr.sections, form, strict=True):
        assert len(sec.lines) == plan.n_lines
        for line, n in zip(sec.lines, plan.syllables, strict=True):
            # the planned count, by the text and by the stored syllables alike
            assert syllable_count(line.text, language=req.language) == n, line.text
            assert len(line.syllables) == n
            if req.language == "zh":
                assert line.text.replace(" ", "") == han_chars(line.text)  # characters (and clause spaces)
            else:
                assert " ".join(words_en(line.text)) == line.text.lower()
    # sections with the same name repeat verbatim; all other lines are distinct
    by_name: dict[str, tuple] = {}
    for sec in lyr.sections:
        assert by_name.setdefault(sec.name, sec.lines) == sec.lines
    texts = [ln.text for s in lyr.unique_sections() for ln in s.lines]
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize(("language", "theme", "style", "emotion"), CASES)
def test_constraints_hold_and_rhyme_rate(language: str, theme: str, style: str, emotion: str) -> None:
    rates = []
    for seed in (1, 2):
        req = LyricsRequest(theme=theme, emotion=emotion, style=style, language=language, length_s=60,
                            seed=seed)
        songs = write_lyrics(req, n=2)
        for lyr in songs:
            _check_song(lyr, req)
            rep = lyr.report()
            rates.append(rep["rhyme_rate"])
            # every theme word appears
            assert rep["theme_words_used"] == rep["theme_words"], lyr.to_text()
            assert rep["theme_coverage"] == 1.0
            assert set(rep) >= {"rhyme_groups", "rhyme_rate", "theme_words_used", "lm_logprob_per_syllable"}
        assert songs[0].score >= songs[1].score
    assert min(rates) >= 0.8, rates


def test_line_ends_rhyme_within_their_groups() -> None:
    req = LyricsRequest(theme="月亮", emotion="calm", style="pop", language="zh", length_s=30, seed=5)
    lyr = write_lyrics(req, n=1)[0]
    for sec in lyr.unique_sections():
        keys = {line_rhyme_key(ln.text, language="zh") for ln in sec.lines}
        assert keys == set(sec.rhyme_groups), (sec.name, [ln.text for ln in sec.lines])
    en = write_lyrics(LyricsRequest(theme="rain", emotion="sad", language="en", length_s=30, seed=5), n=1)[0]
    verse = en.sections[0]  # ABAB: lines 1/3 and 2/4 share their rhyming part
    keys = [line_rhyme_key(ln.text, language="en") for ln in verse.lines]
    assert keys[0] == keys[2] and keys[1] == keys[3] and keys[0] != keys[1]
    assert tuple(dict.fromkeys(keys)) == verse.rhyme_groups


def test_same_seed_same_lyrics_other_seed_other_lyrics() -> None:
    spec = SongSpec(theme="夏夜的海边", emotion="nostalgic", style="ballad", language="zh", length_s=30,
                    seed=7)
    a = write_lyrics(spec, n=3)
    b = write_lyrics(spec, n=3)
    assert [x.to_text() for x in a] == [x.to_text() for x in b]
    assert [x.score for x in a] == [x.score for x in b]
    c = write_lyrics(spec, n=3, seed=8)
    assert a[0].to_text() != c[0].to_text()
    assert {x.to_text() for x in a}.isdisjoint({x.to_text() for x in c})


@pytest.mark.parametrize("language", ["zh", "en"])
def test_thirty_distinct_ranked_candidates(language: str) -> None:
    theme = "故乡的月亮" if language == "zh" else "hometown moon"
    songs = write_lyrics(LyricsRequest(theme=theme, emotion="nostalgic", language=language, length_s=30,
                                       seed=3), n=30)
    assert len(songs) == 30
    assert len({s.to_text() for s in songs}) == 30
    scores = [s.score for s in songs]
    assert scores == sorted(scores, reverse=True)


def test_chorus_repeats_in_a_full_song() -> None:
    lyr = write_lyrics(LyricsRequest(theme="星空", emotion="romantic", style="pop", language="zh",
                                     length_s=180, seed=11), n=1)[0]
    choruses = [s for s in lyr.sections if s.name == "chorus"]
    assert len(choruses) == 3 and choruses[0] == choruses[1] == choruses[2]
    text = lyr.to_text()
    assert text.count("[chorus]") == 3
    back = Lyrics.parse(text, language="zh")  # a person's edit of lyrics.txt reads back the same
    assert [(s.name, s.lines) for s in back.sections] == [(s.name, s.lines) for s in lyr.sections]
    assert back.rhyme_groups == lyr.rhyme_groups


def test_custom_form() -> None:
    form = (SectionPlan("verse 1", 2, (5, 5), "AA"), SectionPlan("chorus", 3, (7, 7, 7), "AAA"))
    req = LyricsRequest(theme="the river", emotion="calm", language="en", form=form, seed=2)
    lyr = write_lyrics(req, n=1)[0]
    _check_song(lyr, req)


def test_bad_requests() -> None:
    with pytest.raises(ParameterError, match="empty"):
        write_lyrics(LyricsRequest(theme=" ", language="en"))
    with pytest.raises(ParameterError, match="no words"):
        LyricsRequest(theme="🎵🎶", language="zh")
    with pytest.raises(ParameterError, match="200"):
        LyricsRequest(theme="海" * 10_000, language="zh")
    with pytest.raises(ParameterError, match="valid: happy, sad"):
        LyricsRequest(theme="sea", emotion="meh", language="en")
    with pytest.raises(ParameterError, match="valid: pop, ballad"):
        LyricsRequest(theme="sea", style="polka", language="en")
    with pytest.raises(ParameterError, match="n must be"):
        write_lyrics(LyricsRequest(theme="sea", language="en"), n=0)
    with pytest.raises(ParameterError, match="seed"):
        write_lyrics(LyricsRequest(theme="sea", language="en"), seed=-1)
    with pytest.raises(ParameterError, match="SongSpec or a LyricsRequest"):
        write_lyrics("sea")  # type: ignore[arg-type]


def test_seeds_from_the_motive_stage_replace_the_imagery() -> None:
    req = LyricsRequest(theme="夏夜的海边", emotion="calm", language="zh", length_s=30, seed=4,
                        seeds=("夏夜", "海边", "渔火", "潮声", "moon"))
    lyr = write_lyrics(req, n=1)[0]
    assert lyr.details["imagery_words"] == ["渔火", "潮声"]  # the theme's own words and non-Chinese dropped
    with pytest.raises(ParameterError, match="seeds"):
        LyricsRequest(theme="sea", language="en", seeds="sea")  # type: ignore[arg-type]
