"""The style registry: one :class:`~yuefu.arrange.recipe.StyleRecipe` per style, and the
instruments table that the motive chooser can read.

>>> style_instruments("folk", "sad", pentatonic=True)["accompaniment"]   # a guzheng-like koto
107
>>> all(p <= 7 for p in style_instruments("classical_piano", "calm").values())
True
"""

from __future__ import annotations

from yuefu.arrange.children import CHILDREN
from yuefu.arrange.classical_piano import CLASSICAL_PIANO
from yuefu.arrange.electronic import ELECTRONIC
from yuefu.arrange.folk import FOLK, GUOFENG
from yuefu.arrange.pop import BALLAD, POP
from yuefu.arrange.recipe import StyleRecipe
from yuefu.arrange.rock import ROCK
from yuefu.core.errors import ParameterError
from yuefu.core.spec import EMOTIONS

__all__ = ["STYLE_RECIPES", "recipe_for", "style_instruments"]

#: Style name -> its recipe (folk's 国风 variant is chosen by :func:`recipe_for`).
STYLE_RECIPES: dict[str, StyleRecipe] = {
    "pop": POP,
    "ballad": BALLAD,
    "folk": FOLK,
    "rock": ROCK,
    "electronic": ELECTRONIC,
    "children": CHILDREN,
    "classical_piano": CLASSICAL_PIANO,
}


def _check_style(style: str) -> None:
    if style not in STYLE_RECIPES:
        raise ParameterError(f"arrange: unknown style {style!r}; valid: {', '.join(STYLE_RECIPES)}")


def recipe_for(style: str, *, pentatonic: bool = False) -> StyleRecipe:
    """The recipe of a style (folk with ``pentatonic`` is the 国风 variant)."""
    _check_style(style)
    if style == "folk" and pentatonic:
        return GUOFENG
    return STYLE_RECIPES[style]


def style_instruments(style: str, emotion: str, *, pentatonic: bool = False) -> dict[str, int]:
    """The GM programs the arranger uses for a style and an emotion.

    Parameters
    ----------
    style : str
        One of :data:`yuefu.core.spec.STYLES`.
    emotion : str
        One of :data:`yuefu.core.spec.EMOTIONS`.
    pentatonic : bool
        The Chinese pentatonic (国风) colour: guzheng, dizi and erhu-like instruments in folk,
        a dizi and a guzheng in pop, a dizi answering the voice in a ballad.

    Returns
    -------
    dict of str to int
        Role -> GM program: always ``"lead"`` (the instrument that plays the melody until a
        singer replaces it) and ``"bass"`` except in classical piano, plus the style's
        ``"chords"``, ``"accompaniment"``, ``"pad"``, ``"strings"`` and ``"counter"`` parts.
        Pass it (edited if you like) as ``Motive.instruments``: :func:`~yuefu.arrange.arrange`
        uses the motive's program for every role it names and this table for the rest.

    Raises
    ------
    ParameterError
        An unknown style or emotion.
    """
    _check_style(style)
    if emotion not in EMOTIONS:
        raise ParameterError(f"arrange: unknown emotion {emotion!r}; valid: {', '.join(EMOTIONS)}")
    return dict(recipe_for(style, pentatonic=pentatonic).instruments(emotion, pentatonic))
