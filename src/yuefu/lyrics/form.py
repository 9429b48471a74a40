"""Song form: which sections, how many lines, how many syllables a line, which lines rhyme.

A form is a tuple of :class:`SectionPlan` in the order they are sung. Sections with the same
name are the same words (the chorus and the pre-chorus repeat verbatim); ``verse 1`` and
``verse 2`` are different words on the same plan. Parallel lines in a section have equal length.

>>> form = default_form("ballad", "zh", length_s=180)
>>> [s.name for s in form]
['verse 1', 'pre-chorus', 'chorus', 'verse 2', 'pre-chorus', 'chorus', 'bridge', 'chorus']
>>> form[0].syllables
(9, 9, 9, 9)
"""

from __future__ import annotations

from dataclasses import dataclass

from yuefu.core.errors import ParameterError
from yuefu.core.spec import LANGUAGES, STYLES

__all__ = ["SectionPlan", "default_form", "SECTION_KINDS", "LINE_SYLLABLES"]

SECTION_KINDS = ("verse", "pre-chorus", "chorus", "bridge")

#: Syllables per line for (verse, pre-chorus, chorus, bridge) by language and style; ``0``: no such
#: section. Chinese counts characters; English counts CMU syllables.
LINE_SYLLABLES: dict[str, dict[str, tuple[int, int, int, int]]] = {
    "zh": {
        "pop": (8, 7, 9, 8),
        "ballad": (9, 7, 9, 8),
        "folk": (7, 5, 7, 7),  # 国风: seven-character lines, a five-character lead-in
        "rock": (7, 6, 8, 6),
        "electronic": (6, 5, 7, 5),
        "children": (5, 0, 7, 0),
        "classical_piano": (7, 7, 8, 7),
    },
    "en": {
        "pop": (8, 6, 8, 7),
        "ballad": (9, 7, 9, 8),
        "folk": (8, 6, 8, 8),
        "rock": (7, 6, 7, 6),
        "electronic": (6, 5, 6, 5),
        "children": (6, 0, 5, 0),
        "classical_piano": (8, 8, 9, 8),
    },
}
_LINES = {"verse": 4, "pre-chorus": 2, "chorus": 4, "bridge": 2}
_SCHEMES = {
    "zh": {"verse": "AAAA", "pre-chorus": "AA", "chorus": "AAAA", "bridge": "AA"},
    "en": {"verse": "ABAB", "pre-chorus": "AA", "chorus": "AABB", "bridge": "AA"},
}


@dataclass(frozen=True)
class SectionPlan:
    """One section of a song's form.

    Parameters
    ----------
    name : str
        ``verse 1``, ``verse 2``, ``pre-chorus``, ``chorus``, ``bridge`` (a section sung twice has
        one name and the same words).
    n_lines : int
        Lines in the section, 1..16.
    syllables : tuple of int
        Sung syllables of each line (``len == n_lines``), 2..16 each.
    rhyme_scheme : str
        One letter per line; lines with the same letter rhyme (``"AAAA"``, ``"ABAB"``). Empty:
        every line rhymes with the others.
    """

    name: str
    n_lines: int
    syllables: tuple[int, ...]
    rhyme_scheme: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ParameterError("a section needs a name (verse 1, chorus, ...)")
        if isinstance(self.n_lines, bool) or not isinstance(self.n_lines, int) or not 1 <= self.n_lines <= 16:
            raise ParameterError(f"section {self.name!r}: n_lines must be 1..16, got {self.n_lines!r}")
        syl = tuple(int(s) for s in self.syllables)
        if len(syl) != self.n_lines:
            raise ParameterError(
                f"section {self.name!r}: {len(syl)} syllable counts for {self.n_lines} lines"
            )
        if any(not 2 <= s <= 16 for s in syl):
            raise ParameterError(f"section {self.name!r}: syllables per line must be 2..16, got {syl}")
        object.__setattr__(self, "syllables", syl)
        scheme = self.rhyme_scheme or "A" * self.n_lines
        if len(scheme) != self.n_lines or not scheme.isalpha():
            raise ParameterError(
                f"section {self.name!r}: rhyme scheme {self.rhyme_scheme!r} needs one letter per line"
            )
        object.__setattr__(self, "rhyme_scheme", scheme.upper())

    @property
    def kind(self) -> str:
        """verse, pre-chorus, chorus or bridge (the name without its number)."""
        base = self.name.split()[0].lower()
        return base if base in SECTION_KINDS else "verse"


def default_form(style: str, language: str, *, length_s: float = 180.0) -> tuple[SectionPlan, ...]:
    """The sections of a song of ``style`` in ``language`` lasting about ``length_s`` seconds.

    Under 45 s: verse, chorus. Under 90 s: verse, chorus, verse, chorus. Under 150 s: adds
    pre-choruses. Longer: verse, pre-chorus, chorus, verse, pre-chorus, chorus, bridge, chorus.
    Children's songs have no pre-chorus or bridge. Line lengths come from :data:`LINE_SYLLABLES`.

    Raises
    ------
    ParameterError
        An unknown style or language (the message lists the valid ones), or a length outside 10..600 s.
    """
    if language not in LANGUAGES:
        raise ParameterError(f"unknown language {language!r}; valid: {', '.join(LANGUAGES)}")
    if style not in STYLES:
        raise ParameterError(f"unknown style {style!r}; valid: {', '.join(STYLES)}")
    if isinstance(length_s, bool) or not isinstance(length_s, (int, float)) or not 10 <= length_s <= 600:
        raise ParameterError(f"length_s must be 10..600 seconds, got {length_s!r}")
    v, p, c, b = LINE_SYLLABLES[language][style]
    schemes = _SCHEMES[language]

    def plan(name: str, kind: str, syl: int) -> SectionPlan:
        n = _LINES[kind]
        return SectionPlan(name, n, (syl,) * n, schemes[kind])

    v1, v2, chorus = plan("verse 1", "verse", v), plan("verse 2", "verse", v), plan("chorus", "chorus", c)
    pre = plan("pre-chorus", "pre-chorus", p) if p else None
    bridge = plan("bridge", "bridge", b) if b else None
    if length_s < 45:
        return (v1, chorus)
    if length_s < 90 or pre is None and bridge is None and length_s < 150:
        return (v1, chorus, v2, chorus)
    if length_s < 150 or bridge is None:
        return tuple(s for s in (v1, pre, chorus, v2, pre, chorus) if s is not None) + (
            (chorus,) if length_s >= 150 else ()
        )
    return tuple(s for s in (v1, pre, chorus, v2, pre, chorus, bridge, chorus) if s is not None)
