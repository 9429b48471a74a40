"""Lyrics as data: sections of lines, each line with its sung syllables; text files both ways.

``lyrics.txt`` is plain text: a ``[section]`` header, then one line per lyric line, sections in
the order they are sung (a chorus sung three times is written three times), a blank line between
sections. English lines are plain words (no hyphens); Chinese lines are characters.

>>> lyr = Lyrics.parse("[verse 1]\\n月光照旧窗\\n故人在远方\\n\\n[chorus]\\n花开又一年\\n", language="zh")
>>> [s.name for s in lyr.sections], lyr.sections[0].lines[0].syllables
(['verse 1', 'chorus'], ('月', '光', '照', '旧', '窗'))
>>> Lyrics.parse(lyr.to_text(), language="zh") == lyr
True
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from yuefu.core.errors import ParameterError
from yuefu.lyrics.phonetics import (
    han_chars,
    line_rhyme_key,
    rhymes_en,
    split_syllables,
    tone_classes_zh,
    words_en,
)

__all__ = ["LyricLine", "LyricSection", "Lyrics", "rhyme_rate"]

_HEADER = re.compile(r"^\s*\[([^\]]{1,40})\]\s*$")


@dataclass(frozen=True)
class LyricLine:
    """One sung line: its text and its syllables in order (one note each, at least)."""

    text: str
    syllables: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str, *, language: str) -> LyricLine:
        return cls(text=text.strip(), syllables=split_syllables(text, language=language))


@dataclass(frozen=True)
class LyricSection:
    """A section as sung: its name (``verse 1``, ``chorus`` ...), its lines and its rhyme keys.

    ``rhyme_groups`` holds one key per rhyme of the section's scheme, in order of appearance: a
    十三辙 group name (Chinese) or a CMU rhyming part such as ``'AY T'`` (English).
    """

    name: str
    lines: tuple[LyricLine, ...]
    rhyme_groups: tuple[str, ...] = ()


def _end_key(line: LyricLine, language: str) -> str | None:
    return line_rhyme_key(line.text, language=language)


def _rhymes(a: LyricLine, b: LyricLine, language: str) -> bool:
    if language == "zh":
        ka, kb = _end_key(a, language), _end_key(b, language)
        return ka is not None and ka == kb
    wa, wb = words_en(a.text), words_en(b.text)
    return bool(wa and wb) and rhymes_en(wa[-1], wb[-1])


def rhyme_rate(sections: tuple[LyricSection, ...] | list[LyricSection], *, language: str) -> float:
    """Share of line ends that rhyme with another line end of the same section.

    Counted once per distinct section name, over sections of two or more lines; identical end
    words do not count as a rhyme in English. ``nan`` when no section has two lines.
    """
    seen: set[str] = set()
    hits = total = 0
    for sec in sections:
        if sec.name in seen or len(sec.lines) < 2:
            continue
        seen.add(sec.name)
        for i, line in enumerate(sec.lines):
            total += 1
            hits += any(_rhymes(line, other, language) for j, other in enumerate(sec.lines) if j != i)
    return hits / total if total else float("nan")


def _section_keys(lines: tuple[LyricLine, ...], language: str) -> tuple[str, ...]:
    keys = [k for k in (_end_key(ln, language) for ln in lines) if k]
    counts = Counter(keys)
    ordered = [k for k in dict.fromkeys(keys) if counts[k] >= 2 or len(lines) < 2]
    return tuple(ordered)


@dataclass(frozen=True)
class Lyrics:
    """A song's lyrics.

    Parameters
    ----------
    language : str
        ``"zh"`` or ``"en"``.
    sections : tuple of LyricSection
        In the order they are sung; sections with the same name have the same lines.
    score : float
        The ranking score of a generated candidate (higher is better; 0 for parsed lyrics).
    details : dict
        What the writer knew: theme words, imagery words, LM log-probability, seed ...
    """

    language: str
    sections: tuple[LyricSection, ...]
    score: float = 0.0
    details: dict = field(default_factory=dict, compare=False)

    # -- views ------------------------------------------------------------------------------------
    @property
    def lines(self) -> tuple[LyricLine, ...]:
        """Every sung line in order (repeated sections repeated)."""
        return tuple(ln for s in self.sections for ln in s.lines)

    def unique_sections(self) -> tuple[LyricSection, ...]:
        """Each distinct section once, in order of first appearance."""
        out: dict[str, LyricSection] = {}
        for s in self.sections:
            out.setdefault(s.name, s)
        return tuple(out.values())

    @property
    def rhyme_groups(self) -> dict[str, tuple[str, ...]]:
        """Section name -> its rhyme keys."""
        return {s.name: s.rhyme_groups for s in self.unique_sections()}

    def text_of(self, *, unique: bool = True) -> str:
        """All line texts joined (each distinct section once when ``unique``)."""
        secs = self.unique_sections() if unique else self.sections
        return "\n".join(ln.text for s in secs for ln in s.lines)

    def report(self) -> dict:
        """What the lyrics are and how they measure: rhyme groups and rate, theme words, LM score."""
        d = self.details
        text = self.text_of()
        theme = list(d.get("theme_words", ()))
        imagery = list(d.get("imagery_words", ()))
        used = [w for w in theme if _contains(text, w, self.language)]
        img_used = [w for w in imagery if _contains(text, w, self.language)]
        rep: dict = {
            "language": self.language,
            "form": [s.name for s in self.sections],
            "syllables_per_line": {s.name: [len(ln.syllables) for ln in s.lines]
                                   for s in self.unique_sections()},
            "rhyme_groups": {k: list(v) for k, v in self.rhyme_groups.items()},
            "rhyme_rate": _round(rhyme_rate(self.sections, language=self.language)),
            "theme_words": theme,
            "theme_words_used": used,
            "theme_coverage": _round(len(used) / len(theme)) if theme else None,
            "imagery_words_used": img_used,
            "score": _round(self.score),
        }
        if "lm_logprob_per_syllable" in d:
            lp = float(d["lm_logprob_per_syllable"])
            rep["lm_logprob_per_syllable"] = _round(lp)
            rep["lm_perplexity_per_syllable"] = _round(math.exp(-lp))
        if self.language == "zh":
            ends = [tone_classes_zh(ln.text)[-1] for s in self.unique_sections() for ln in s.lines
                    if han_chars(ln.text)]
            rep["line_end_ping_share"] = _round(sum(t == "平" for t in ends) / len(ends)) if ends else None
        for k in ("seed", "candidate", "model"):
            if k in d:
                rep[k] = d[k]
        return rep

    # -- text files -------------------------------------------------------------------------------
    def to_text(self) -> str:
        """``lyrics.txt``: ``[section]`` headers and one line per lyric line, sections in sung order."""
        blocks = []
        for s in self.sections:
            blocks.append("\n".join([f"[{s.name}]", *(ln.text for ln in s.lines)]))
        return "\n\n".join(blocks) + "\n"

    @classmethod
    def parse(cls, text: str, *, language: str, source: str = "lyrics.txt") -> Lyrics:
        """Read lyrics from text: ``[name]`` headers start sections; other non-blank lines are lines.

        Without any header, stanzas separated by blank lines become ``verse 1``, ``verse 2`` ...
        Lines starting with ``#`` are comments. A line without a Chinese character (``zh``) or an
        English word (``en``) is skipped.

        Raises
        ------
        ParameterError
            No usable lyric line (the message names ``source``), or an unknown language.
        """
        if language not in ("zh", "en"):
            raise ParameterError(f"unknown language {language!r}; valid: zh, en")
        if not isinstance(text, str):
            raise ParameterError(f"{source}: lyrics must be text")
        raw_sections: list[tuple[str, list[str]]] = []
        has_header = any(_HEADER.match(ln) for ln in text.splitlines())
        current: tuple[str, list[str]] | None = None
        stanza = 0
        for raw in text.splitlines():
            line = raw.strip().lstrip("\ufeff")
            m = _HEADER.match(line)
            if m:
                current = (m.group(1).strip(), [])
                raw_sections.append(current)
                continue
            if not line:
                if not has_header:
                    current = None
                continue
            if line.startswith("#") or not _usable(line, language):
                continue
            if current is None:
                stanza += 1
                current = (f"verse {stanza}" if not has_header else "verse", [])
                raw_sections.append(current)
            current[1].append(line)
        sections = []
        for name, lines in raw_sections:
            if not lines:
                continue
            lyr_lines = tuple(LyricLine.from_text(t, language=language) for t in lines)
            sections.append(LyricSection(name, lyr_lines, _section_keys(lyr_lines, language)))
        if not sections:
            what = "Chinese characters" if language == "zh" else "English words"
            raise ParameterError(
                f"{source}: no usable lyric line (expected lines of {what}, optionally under [verse] "
                "or [chorus] headers)"
            )
        return cls(language=language, sections=tuple(sections))

    @classmethod
    def load(cls, path: str | Path, *, language: str) -> Lyrics:
        """Read a lyrics file (UTF-8); errors name the file."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ParameterError(f"{p}: no such lyrics file") from None
        except IsADirectoryError:
            raise ParameterError(f"{p} is a folder; expected a lyrics file (lyrics.txt)") from None
        except UnicodeDecodeError:
            raise ParameterError(f"{p}: not UTF-8 text; save the lyrics as UTF-8") from None
        except OSError as e:
            raise ParameterError(f"{p}: cannot read the lyrics file ({e.strerror or e})") from None
        return cls.parse(text, language=language, source=str(p))


def _usable(line: str, language: str) -> bool:
    return bool(han_chars(line)) if language == "zh" else bool(words_en(line))


def _contains(text: str, word: str, language: str) -> bool:
    if language == "zh":
        return any(word in han_chars(line) for line in text.split("\n"))
    return word.lower() in set(words_en(text))


def _round(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)
