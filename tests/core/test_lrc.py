"""LRC lyrics: reading (standard, multi-stamp, tags, offset, enhanced), writing, score -> LRC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from yuefu.core.errors import OutputExistsError, ParameterError, ScoreLoadError
from yuefu.core.io.lrc import LrcLine, lrc_from_text, lrc_text, read_lrc, score_to_lrc, write_lrc
from yuefu.core.score import Note, Score, Section, Tempo, Track

STAMP_TOL_S = 0.005 + 1e-9  # written to the centisecond: off by at most half of 10 ms


def test_round_trip_is_exact_to_10_ms(tmp_path: Path, rng: np.random.Generator) -> None:
    lines = []
    t = 0.0
    for i in range(200):
        t += float(rng.uniform(0.01, 9.0))
        if i % 3 == 0:
            a, b = t, t + float(rng.uniform(0.05, 1.0))
            lines.append(LrcLine(a, "月亮代表我的心", ((a, "月亮"), (b, "代表我的心"))))
        elif i % 3 == 1:
            a, b, c = t, t + 0.31, t + 0.77
            lines.append(LrcLine(a, "hello big world", ((a, "hel"), (b, "lo big "), (c, "world"))))
        else:
            lines.append(LrcLine(t, f"line {i}: 你好, world!"))
    path = write_lrc(lines, tmp_path / "a.lrc", title="月亮", artist="邓丽君")
    back = read_lrc(path)
    assert len(back) == len(lines)
    assert t > 600  # minutes past 10 are written and read too
    for want, got in zip(lines, back, strict=True):
        assert got.text == want.text
        assert abs(got.time_s - want.time_s) <= STAMP_TOL_S
        assert [s for _, s in got.words] == [s for _, s in want.words]
        for (tw, _), (tg, _) in zip(want.words, got.words, strict=True):
            assert abs(tg - tw) <= STAMP_TOL_S
    _, tags = lrc_from_text(path.read_text(encoding="utf-8"))
    assert tags == {"ti": "月亮", "ar": "邓丽君"}


def test_reads_standard_lrc_with_tags_and_several_stamps(tmp_path: Path) -> None:
    path = tmp_path / "s.lrc"
    path.write_text(
        "[ti:Song]\n[ar:Someone]\n[al:Album]\n[by:me]\n"
        "[00:12.00]first line\n"
        "[00:05.5][01:02.25]chorus\n"  # two stamps, one or two decimals
        "[00:20.123]millis\n"
        "[00:21:50]colon hundredths\n"
        "[00:30]no fraction\n"
        "[00:31.00]\n"  # a blank line clears the display
        "just text without a stamp\n",
        encoding="utf-8")
    got = [(round(x.time_s, 6), x.text) for x in read_lrc(path)]
    assert got == [(5.5, "chorus"), (12.0, "first line"), (20.123, "millis"),
                   (21.5, "colon hundredths"), (30.0, "no fraction"), (31.0, ""),
                   (62.25, "chorus")]


@pytest.mark.parametrize(("offset", "shift_s"), [("+500", -0.5), ("-250", 0.25), ("0", 0.0),
                                                 ("1500", -1.5), ("junk", 0.0)])
def test_offset_tag_shifts_every_time(offset: str, shift_s: float) -> None:
    text = f"[offset:{offset}]\n[00:01.00]<00:01.00>a <00:02.00>b\n[00:10.00]c\n"
    lines, tags = lrc_from_text(text)
    assert tags["offset"] == offset
    assert [x.time_s for x in lines] == pytest.approx(
        [max(0.0, 1.0 + shift_s), 10.0 + shift_s], abs=1e-9)  # never before 0
    assert [t for t, _ in lines[0].words] == pytest.approx(
        [max(0.0, 1.0 + shift_s), 2.0 + shift_s], abs=1e-9)


def test_enhanced_word_tags() -> None:
    text = ("[00:01.00]<00:01.00>When <00:01.50>the <00:02.00>truth <00:03.00>\n"
            "[00:04.00][00:14.00]<00:04.00>月<00:04.50>亮\n"
            "[00:06.00]Intro: <00:06.50>go<00:07.00> <00:07.25>on\n")
    lines, _ = lrc_from_text(text)
    assert [(x.time_s, x.text) for x in lines] == [
        (1.0, "When the truth"), (4.0, "月亮"), (6.0, "Intro: go on"), (14.0, "月亮")]
    assert lines[0].words == ((1.0, "When "), (1.5, "the "), (2.0, "truth"))
    assert lines[1].words == ((4.0, "月"), (4.5, "亮"))
    assert lines[2].words == ((6.5, "go "), (7.25, "on"))  # a tag on a bare space joins "go"
    assert [s for _, s in lines[3].words] == ["月", "亮"]
    assert [t for t, _ in lines[3].words] == pytest.approx([14.0, 14.5], abs=1e-9)  # shifted


def test_write_without_enhanced_tags(tmp_path: Path) -> None:
    lines = [LrcLine(1.234, "hello world", ((1.234, "hello "), (2.0, "world")))]
    path = write_lrc(lines, tmp_path / "plain.lrc", enhanced=False)
    assert path.read_text(encoding="utf-8") == "[00:01.23]hello world\n"
    assert lrc_text(lines) == "[00:01.23]<00:01.23>hello <00:02.00>world\n"


def test_write_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = write_lrc([LrcLine(0, "a")], tmp_path / "x.lrc")
    with pytest.raises(OutputExistsError):
        write_lrc([LrcLine(0, "b")], path)
    assert read_lrc(path)[0].text == "a"
    write_lrc([LrcLine(0, "b")], path, force=True)
    assert read_lrc(path)[0].text == "b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.lrc"]


def test_line_validation() -> None:
    with pytest.raises(ParameterError):
        LrcLine(-1.0, "a")
    with pytest.raises(ParameterError):
        LrcLine(float("nan"), "a")
    with pytest.raises(ParameterError):
        LrcLine(0.0, "two\nlines")
    with pytest.raises(ParameterError, match="do not spell"):
        LrcLine(0.0, "hello world", ((0.0, "hello"), (1.0, "world")))  # the space is missing
    with pytest.raises(ParameterError):
        write_lrc(["[00:01.00]text"], "/nonexistent/never.lrc")  # type: ignore[list-item]


def test_an_instrumental_writes_a_blank_line_that_reads_back(tmp_path: Path) -> None:
    # a file of tags only would not read back as LRC; the pipeline writes lyrics.lrc for every
    # song, instrumentals included
    path = write_lrc([], tmp_path / "none.lrc", title="instrumental")
    assert path.read_text(encoding="utf-8") == "[ti:instrumental]\n[00:00.00]\n"
    assert read_lrc(path) == [LrcLine(0.0, "")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_reads_common_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"{encoding}.lrc"
    path.write_bytes("[ti:月亮]\n[00:01.00]月亮代表我的心\n".encode(encoding))
    assert [(x.time_s, x.text) for x in read_lrc(path)] == [(1.0, "月亮代表我的心")]


@pytest.mark.parametrize(("name", "data", "why"), [
    ("empty.lrc", b"", "empty"),
    ("blank.lrc", b"\n  \n", "empty"),
    ("image.lrc", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    ("notes.lrc", b"Just some lyrics\nwithout any timestamps\n[ti:tags only]\n", "no timestamp"),
    ("latin1.lrc", b"\xff\xff\xff\xfe\x80abc", "not text"),
])
def test_broken_files_raise_score_load_error(tmp_path: Path, name: str, data: bytes,
                                             why: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ScoreLoadError, match=why) as err:
        read_lrc(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ScoreLoadError, match="no such LRC file"):
        read_lrc(tmp_path / "missing.lrc")
    with pytest.raises(ScoreLoadError, match="folder"):
        read_lrc(tmp_path)


# -- score -> LRC ----------------------------------------------------------------------------
def lyric_score() -> Score:
    # 120 BPM (0.5 s a beat) until beat 16, then 60 BPM (1 s a beat)
    s = Score(tempos=[Tempo(0, 120), Tempo(16, 60)],
              sections=[Section(0, "verse"), Section(16, "chorus")])
    s.add_track(Track("piano", role="chords")).notes.append(Note(48, 0, 40))  # no lyrics
    v = s.add_track(Track("vocal", role="vocal"))
    syllables = [
        (0, "月"), (1, "亮"), (2, "代"), (2.5, "表"), (3, "我"), (3.5, "的"), (4, "心，"),
        (5, "你"), (6, "问"), (7, "-"),  # punctuation ended the line; a melisma adds no text
        (9, "hel-"), (9.5, "lo"), (10, "big"), (10.5, "world."),  # rest 8..9: one beat, break
        (11, "next"), (12.5, "line"),  # a half-beat rest (12..12.5) does not break
        (16, "cho-"), (17, "rus"), (17.5, "!"),  # a new section breaks; "!" joins without space
    ]
    for beat, syl in syllables:
        v.notes.append(Note(60, beat, 1.0 if beat < 12 else 0.5, lyric=syl))
    v.notes.append(Note(62, 11.5, 0.5))  # an unsung note inside a line is fine
    return s


def test_score_to_lrc_lines_and_joining() -> None:
    lines = score_to_lrc(lyric_score())
    assert [x.text for x in lines] == ["月亮代表我的心，", "你问", "hello big world.",
                                       "next line", "chorus!"]
    # each line's words spell it
    for x in lines:
        assert "".join(s for _, s in x.words) == x.text
    assert [s for _, s in lines[2].words] == ["hel", "lo ", "big ", "world."]


def test_score_to_lrc_times_follow_the_tempo_map() -> None:
    lines = score_to_lrc(lyric_score())
    assert [x.time_s for x in lines] == pytest.approx([0.0, 2.5, 4.5, 5.5, 8.0], abs=1e-9)
    # beat 17 is one beat (1 s at 60 BPM) after the tempo change at beat 16 (8 s)
    assert [t for t, _ in lines[4].words] == pytest.approx([8.0, 9.0, 9.5], abs=1e-9)
    assert [t for t, _ in lines[0].words][:4] == pytest.approx([0.0, 0.5, 1.0, 1.25], abs=1e-9)


def test_score_to_lrc_round_trips_through_a_file(tmp_path: Path) -> None:
    lines = score_to_lrc(lyric_score())
    back = read_lrc(write_lrc(lines, tmp_path / "lyrics.lrc"))
    assert [(x.text, [s for _, s in x.words]) for x in back] == [
        (x.text, [s for _, s in x.words]) for x in lines]
    assert np.allclose([x.time_s for x in back], [x.time_s for x in lines], atol=STAMP_TOL_S)


def test_score_to_lrc_without_lyrics_is_empty() -> None:
    s = Score()
    s.add_track(Track("piano")).notes.append(Note(60, 0, 1))
    assert score_to_lrc(s) == []
    assert score_to_lrc(Score()) == []


def test_score_to_lrc_prefers_the_vocal_track() -> None:
    s = Score()
    s.add_track(Track("melody", role="melody")).notes.append(Note(60, 0, 1, lyric="la"))
    s.add_track(Track("vocal", role="vocal")).notes.append(Note(60, 2, 1, lyric="唱"))
    assert [(x.time_s, x.text) for x in score_to_lrc(s)] == [(1.0, "唱")]
