"""``StyleRecipe``: what a style module hands the arranger (its instruments, its form around
the song, the function that writes its parts)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from yuefu.arrange.patterns import Song
from yuefu.core.errors import ParameterError
from yuefu.core.score import Track

__all__ = ["StyleRecipe", "INTRO_SOURCES", "PART_KINDS", "merge_instruments", "suits"]

#: Where an intro takes its chords (and its hook) from: the first bars of the chorus, the last
#: bars of the chorus, or a pedal on the tonic.
INTRO_SOURCES = ("chorus_head", "chorus_tail", "pedal")


def _r(*spans: tuple[int, int]) -> frozenset[int]:
    return frozenset(p for a, b in spans for p in range(a, b + 1))


_COMP = _r((0, 7), (16, 31), (46, 46), (62, 63), (80, 95), (104, 107))
#: What each kind of part can be played on (GM programs): a part that strums or comps chords
#: needs a keyboard, guitar, harp, koto or synth; a broken chord may also be a mallet or a
#: pizzicato; a sustained pad an organ, a string or voice ensemble, brass or a synth pad; a bass
#: a bass, a cello, a tuba or a bassoon; a line anything melodic.
PART_KINDS: dict[str, frozenset[int]] = {
    "comp": _COMP,
    "arp": _COMP | _r((8, 15), (45, 45)),
    "sustain": _r((16, 23), (48, 55), (60, 63), (88, 95)),
    "bass": _r((32, 39), (42, 43), (58, 58), (70, 70), (87, 87)),
    "line": _r((0, 111)),
}


def suits(kind: str, program: int) -> bool:
    """Whether a GM program can play a part of this kind (:data:`PART_KINDS`)."""
    return program in PART_KINDS[kind]


@dataclass(frozen=True)
class StyleRecipe:
    """A style's arrangement.

    Parameters
    ----------
    name : str
        The style (:data:`yuefu.core.spec.STYLES`).
    intro_bars, outro_bars : int
        Default lengths of the intro and the outro, in bars (2..4).
    intro_source : str
        One of :data:`INTRO_SOURCES`.
    ritardando : bool
        Slow down over the last two bars.
    instruments : callable
        ``instruments(emotion, pentatonic) -> dict role -> GM program``.
    build : callable
        ``build(song, programs) -> list[Track]``: every part but the vocal. The tracks must
        include the hook track.
    hook : str or None
        Name of the track (built by ``build``) that plays the chorus hook in the intro and
        echoes the last line in the outro.
    hook_role : str
        The role key of the hook instrument in ``programs``.
    parts : mapping of str to str
        Role -> the kind of part the style writes for it (:data:`PART_KINDS`): a program that
        ``Motive.instruments`` gives for the role is used only if it suits the part.
    piano_only : bool
        Every program is a piano (GM 0..7).
    """

    name: str
    intro_bars: int
    outro_bars: int
    intro_source: str
    ritardando: bool
    instruments: Callable[[str, bool], dict[str, int]]
    build: Callable[[Song, Mapping[str, int]], list[Track]]
    hook: str | None = "counter"
    hook_role: str = "counter"
    parts: Mapping[str, str] = field(default_factory=dict)
    piano_only: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.parts.values()) - set(PART_KINDS))
        if unknown:
            raise ParameterError(f"style {self.name!r}: unknown part kind {unknown[0]!r}")
        if self.intro_source not in INTRO_SOURCES:
            raise ParameterError(
                f"style {self.name!r}: intro_source {self.intro_source!r}; valid: {', '.join(INTRO_SOURCES)}")


def merge_instruments(base: Mapping[str, int], overrides: Mapping[str, Mapping[str, int]],
                      emotion: str) -> dict[str, int]:
    """The style's table with the emotion's changes applied."""
    out = dict(base)
    out.update(overrides.get(emotion, {}))
    return out
