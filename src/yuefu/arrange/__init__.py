"""yuefu.arrange: from a melody and its chords to a whole song, one module per style family.

:func:`arrange` lays out the form (intro, the melody's sections, outro), the chords of the
whole song and the energy of every bar, and lets the style's recipe write its parts:
:mod:`~yuefu.arrange.pop` (pop, ballad), :mod:`~yuefu.arrange.folk` (folk and its 国风
colour), :mod:`~yuefu.arrange.rock`, :mod:`~yuefu.arrange.electronic`,
:mod:`~yuefu.arrange.children`, :mod:`~yuefu.arrange.classical_piano`, on the shared
machinery of :mod:`~yuefu.arrange.patterns`, :mod:`~yuefu.arrange.parts`,
:mod:`~yuefu.arrange.bass` and :mod:`~yuefu.arrange.drums`. :func:`replace_keys` puts a piano
part written elsewhere (the music language model's) in place of the style's own.

>>> from yuefu.core.motive import Motive
>>> from yuefu.core.score import ChordSymbol, Note, Score, Section, Track
>>> m = Score(sections=[Section(0, "verse"), Section(8, "chorus")])
>>> v = m.add_track(Track("vocal", program=73, role="vocal"))
>>> v.notes += [Note(64 + (i % 3), float(i), 1.0, lyric="la") for i in range(16)]
>>> chords = [ChordSymbol(4.0 * i, s) for i, s in enumerate(["C", "Am", "F", "G"])]
>>> song = arrange(m, chords, Motive(style="rock", energy=0.7), seed=3)
>>> [t.name for t in song.tracks]
['vocal', 'guitar', 'guitar2', 'organ', 'bass', 'drums', 'counter']
>>> style_instruments("rock", "epic")["pad"]
19
"""

from yuefu.arrange.keys import KEYS_TRACKS, keys_track_name, replace_keys
from yuefu.arrange.patterns import SECTION_KINDS, section_kind
from yuefu.arrange.recipe import StyleRecipe
from yuefu.arrange.song import arrange
from yuefu.arrange.styles import STYLE_RECIPES, recipe_for, style_instruments

__all__ = [
    "KEYS_TRACKS",
    "SECTION_KINDS",
    "STYLE_RECIPES",
    "StyleRecipe",
    "arrange",
    "keys_track_name",
    "recipe_for",
    "replace_keys",
    "section_kind",
    "style_instruments",
]
