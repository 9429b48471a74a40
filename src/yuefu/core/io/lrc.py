"""LRC lyrics with timestamps, including enhanced (word-timed) LRC.

A line is ``[mm:ss.xx]text``; several timestamps may share one text
(``[00:12.00][00:47.50]chorus``); ``<mm:ss.xx>`` tags inside the text time its words or
syllables (enhanced LRC, "A2"). Tags ``[ti:]`` (title), ``[ar:]`` (artist) and ``[offset:]``
(milliseconds; positive shows the lyrics earlier) are honoured; other ``[xx:...]`` tags are kept
in the tag dictionary of :func:`lrc_from_text`. Times are written to the centisecond, so a
write -> read round trip is exact to 10 ms.

In a line with word timing, ``words`` holds ``(time_s, syllable)`` pairs whose syllables, joined,
give the text: a syllable carries the space that follows it (``"lo "``), and none where a word
goes on (``"hel"``) or in Chinese (``"月"``).

>>> line = LrcLine(1.5, "月亮", ((1.5, "月"), (2.0, "亮")))
>>> text = lrc_text([line], title="月")
>>> print(text, end="")
[ti:月]
[00:01.50]<00:01.50>月<00:02.00>亮
>>> lrc_from_text(text)[0] == [line]
True
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yuefu.core.errors import ParameterError, ScoreLoadError
from yuefu.core.files import atomic_output, read_input
from yuefu.core.score import Score

__all__ = ["LrcLine", "read_lrc", "write_lrc", "score_to_lrc", "lrc_text", "lrc_from_text",
           "PUNCTUATION"]

#: A syllable ending in one of these ends its LRC line.
PUNCTUATION = "，。、；：！？…,.;:!?"

_MELISMA = "-"
_TIME_TAG = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_WORD_TAG = re.compile(r"<(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?>")
_META_TAG = re.compile(r"^\[([A-Za-z#]+):(.*)\]\s*$")


@dataclass(frozen=True, slots=True)
class LrcLine:
    """One timed lyric line.

    Parameters
    ----------
    time_s : float
        When the line starts, in seconds (>= 0).
    text : str
        The line's text, one line (may be empty: a blank line clears the display).
    words : tuple of (float, str)
        Enhanced-LRC timing: ``(time_s, syllable)`` per sung syllable, in order; empty when the
        line has no word timing. Joined, the syllables give ``text`` (or its end, after
        untimed leading text).
    """

    time_s: float
    text: str
    words: tuple[tuple[float, str], ...] = ()

    def __post_init__(self) -> None:
        if not (math.isfinite(self.time_s) and self.time_s >= 0):
            raise ParameterError(f"LRC line time must be a finite number of seconds >= 0, "
                                 f"got {self.time_s}")
        if "\n" in self.text or "\r" in self.text:
            raise ParameterError(f"LRC line text must be one line, got {self.text!r}")
        words = tuple((float(t), str(s)) for t, s in self.words)
        for t, s in words:
            if not (math.isfinite(t) and t >= 0):
                raise ParameterError(f"LRC word time must be finite and >= 0, got {t} for {s!r}")
            if "\n" in s or "\r" in s:
                raise ParameterError(f"LRC word must be on one line, got {s!r}")
        if words and not self.text.endswith(_joined(words)):
            raise ParameterError(
                f"LRC line {self.text!r}: its words {[s for _, s in words]} do not spell the end "
                "of the text; give each syllable with the space that follows it")
        object.__setattr__(self, "time_s", float(self.time_s))
        object.__setattr__(self, "words", words)


# -- writing ---------------------------------------------------------------------------------
def _joined(words: tuple[tuple[float, str], ...]) -> str:
    return "".join(s for _, s in words).rstrip()


def _stamp(t: float) -> str:
    cs = int(round(t * 100.0))
    minutes, cs = divmod(cs, 6000)
    return f"{minutes:02d}:{cs // 100:02d}.{cs % 100:02d}"


def lrc_text(lines: list[LrcLine], *, title: str | None = None, artist: str | None = None,
             enhanced: bool = True) -> str:
    """Format lines as LRC text (one ``\\n``-terminated line each, tags first).

    Parameters
    ----------
    lines : list of LrcLine
        Written in the given order.
    title, artist : str, optional
        Written as ``[ti:]`` and ``[ar:]`` tags.
    enhanced : bool
        Write word timing as ``<mm:ss.xx>`` tags where a line has it; off for players that show
        such tags as text.
    """
    out: list[str] = []
    for tag, value in (("ti", title), ("ar", artist)):
        if value is not None and value.strip():
            if "\n" in value or "\r" in value:
                raise ParameterError(f"LRC [{tag}:] must be one line, got {value!r}")
            out.append(f"[{tag}:{value.strip()}]")
    for line in lines:
        if not isinstance(line, LrcLine):
            raise ParameterError(f"write_lrc takes LrcLine objects, got {type(line).__name__}")
        if enhanced and line.words:
            spelled = _joined(line.words)
            lead = line.text[: len(line.text) - len(spelled)]
            body = "".join(f"<{_stamp(t)}>{s}" for t, s in line.words)
            out.append(f"[{_stamp(line.time_s)}]{lead}{body}".rstrip())
        else:
            out.append(f"[{_stamp(line.time_s)}]{line.text}".rstrip())
    return "".join(s + "\n" for s in out)


def write_lrc(lines: list[LrcLine], path: str | Path, *, force: bool = False,
              title: str | None = None, artist: str | None = None,
              enhanced: bool = True) -> Path:
    """Write LRC lyrics (UTF-8) atomically; refuse to overwrite unless ``force``.

    Parameters
    ----------
    lines : list of LrcLine
    path : str or Path
        Destination, usually ``lyrics.lrc``.
    force : bool
        Overwrite an existing file.
    title, artist : str, optional
        ``[ti:]`` and ``[ar:]`` tags.
    enhanced : bool
        Write word timing (``<mm:ss.xx>`` tags) where lines have it.

    Returns
    -------
    Path
        ``path``.

    An empty ``lines`` (a song without lyrics) writes one blank line at 0 s, which reads back
    as ``[LrcLine(0.0, "")]``.

    Raises
    ------
    ParameterError
        ``lines`` holds something other than :class:`LrcLine`.
    OutputExistsError
        ``path`` exists and ``force`` is False.
    """
    if not lines:  # an instrumental: one blank line, so that the file still reads as LRC
        lines = [LrcLine(0.0, "")]
    text = lrc_text(lines, title=title, artist=artist, enhanced=enhanced)
    with atomic_output(path, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


# -- reading ---------------------------------------------------------------------------------
def _seconds(m: re.Match[str]) -> float:
    frac = m.group(3) or ""
    value = int(m.group(1)) * 60 + int(m.group(2))
    if frac:
        value += int(frac) / 10 ** len(frac)
    return float(value)


def lrc_from_text(text: str, *, source: str = "<text>") -> tuple[list[LrcLine], dict[str, str]]:
    """Parse LRC text into lines (sorted by time) and tags (``{"ti": ..., "ar": ...}``).

    ``[offset:]`` is applied to every time (and kept in the tags). Raises
    :class:`ScoreLoadError` when no line carries a timestamp.
    """
    tags: dict[str, str] = {}
    raw: list[tuple[float, str, tuple[tuple[float, str], ...], int]] = []
    for lineno, line in enumerate(text.splitlines()):
        line = line.strip()
        if not line:
            continue
        stamps: list[float] = []
        pos = 0
        while True:
            m = _TIME_TAG.match(line, pos)
            if not m:
                break
            stamps.append(_seconds(m))
            pos = m.end()
        if not stamps:
            mt = _META_TAG.match(line)
            if mt:
                tags[mt.group(1).lower()] = mt.group(2).strip()
            continue
        body = line[pos:]
        words: list[tuple[float, str]] = []
        matches = list(_WORD_TAG.finditer(body))
        if matches:
            plain = [body[: matches[0].start()]]
            for i, wm in enumerate(matches):
                end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
                syl = body[wm.end():end]
                plain.append(syl)
                if syl.strip():
                    words.append((_seconds(wm), syl))
                elif words:  # a tag on a bare space: the space belongs to the word before
                    words[-1] = (words[-1][0], words[-1][1] + syl)
                else:
                    plain[0] += syl
            body = "".join(plain)
        body = body.strip()
        if words:  # the last syllable carries no trailing space
            words[-1] = (words[-1][0], words[-1][1].rstrip())
        for k, t in enumerate(stamps):
            shift = t - stamps[0]
            raw.append((t, body, tuple((wt + shift, s) for wt, s in words), lineno * 1000 + k))
    if not raw:
        raise ScoreLoadError(
            f"{source}: no timestamped lyric lines ('[mm:ss.xx]text'); not an LRC file")
    offset_s = 0.0
    if "offset" in tags:
        try:
            offset_s = float(tags["offset"].replace("+", "")) / 1000.0
        except ValueError:
            offset_s = 0.0
        if not math.isfinite(offset_s):
            offset_s = 0.0
    raw.sort(key=lambda r: (r[0], r[3]))
    lines = [
        LrcLine(max(0.0, round(t - offset_s, 6)), body,
                tuple((max(0.0, round(wt - offset_s, 6)), s) for wt, s in words))
        for t, body, words, _ in raw
    ]
    return lines, tags


def _decode(data: bytes, source: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ScoreLoadError(f"{source}: broken UTF-16 text; expected an LRC file") from None
    if b"\x00" in data:
        raise ScoreLoadError(f"{source}: a binary file, not LRC lyrics (text '[mm:ss.xx]line')")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # many Chinese LRC files are GBK-encoded
    except UnicodeDecodeError:
        raise ScoreLoadError(
            f"{source}: not text in UTF-8 or GB18030; expected an LRC file") from None


def read_lrc(path: str | Path) -> list[LrcLine]:
    """Read an LRC file into lines sorted by time.

    Parameters
    ----------
    path : str or Path
        A ``.lrc`` file in UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK.

    Returns
    -------
    list of LrcLine
        One per timestamp (a text with two timestamps gives two lines), ``[offset:]`` applied;
        ``words`` filled from enhanced ``<mm:ss.xx>`` tags.

    Raises
    ------
    ScoreLoadError
        The file is missing, empty, binary, or has no timestamped line.
    """
    p = Path(path)
    data = read_input(p, what="LRC file", error=ScoreLoadError)
    if not data.strip():
        raise ScoreLoadError(f"{p}: the file is empty; expected LRC lyrics ('[mm:ss.xx]line')")
    lines, _ = lrc_from_text(_decode(data, str(p)), source=str(p))
    return lines


# -- from a score ----------------------------------------------------------------------------
def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF
            or 0x20000 <= o <= 0x2FA1F or 0x3000 <= o <= 0x303F)


def _separator(prev: str, nxt: str) -> str:
    """What goes between two syllables of a line (``prev`` already without its '-')."""
    if not prev or not nxt:
        return ""
    if _is_cjk(prev[-1]) or _is_cjk(nxt[0]) or nxt[0] in PUNCTUATION:
        return ""
    return " "


def score_to_lrc(score: Score) -> list[LrcLine]:
    """Timed lyric lines from the score's lyric track (see :meth:`Score.lyric_track`).

    A line breaks before a syllable that follows a rest of at least one beat, that starts a new
    section, or that follows a syllable ending in punctuation (:data:`PUNCTUATION`). Chinese
    syllables join without spaces, other syllables with one; a syllable ending in ``-`` joins
    the next without a space (``"hel-"``, ``"lo"`` -> ``"hello"``); a melisma ``"-"`` adds no text
    but holds the line open. Times go through the score's tempo map.

    Returns
    -------
    list of LrcLine
        With ``words``: the time of each syllable. Empty when no track has lyrics.
    """
    track = score.lyric_track()
    if track is None:
        return []
    sung = sorted((n for n in track.notes if n.lyric and n.lyric.strip()),
                  key=lambda n: (n.onset, n.pitch))
    if not sung:
        return []
    seconds = score.tempo_map.to_seconds(np.array([n.onset for n in sung], dtype=np.float64))
    section_beats = sorted(s.beat for s in score.sections)

    def section_of(beat: float) -> int:
        return bisect.bisect_right(section_beats, beat + 1e-9)

    lines: list[LrcLine] = []
    words: list[tuple[float, str]] = []  # syllables of the current line, without separators
    joined: list[bool] = []  # does syllable i continue its word into the next?
    prev_end = None
    prev_section = None
    prev_punct = False

    def flush() -> None:
        if not words:
            return
        timed: list[tuple[float, str]] = []
        for i, (t, s) in enumerate(words):
            sep = "" if i + 1 == len(words) or joined[i] else _separator(s, words[i + 1][1])
            timed.append((t, s + sep))
        lines.append(LrcLine(timed[0][0], "".join(s for _, s in timed), tuple(timed)))
        words.clear()
        joined.clear()

    for n, t in zip(sung, seconds, strict=True):
        syl = n.lyric.strip() if n.lyric else ""
        sec = section_of(n.onset)
        if syl == _MELISMA:
            prev_end = max(prev_end or n.end, n.end)
            continue
        brk = prev_end is not None and (
            n.onset - prev_end >= 1.0 - 1e-9 or sec != prev_section or prev_punct)
        if brk:
            flush()
        cont = syl.endswith("-") and len(syl) > 1
        text = syl[:-1] if cont else syl
        words.append((float(t), text))
        joined.append(cont)
        prev_end = n.end
        prev_section = sec
        prev_punct = text[-1:] in PUNCTUATION
    flush()
    return lines
