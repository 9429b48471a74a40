"""The piano (keys) part of an arrangement, replaceable by one written elsewhere (the music
language model's, :func:`yuefu.compose.accompany`).

Styles with a piano part: pop and ballad (``piano``, the chord comping) and children's song
(``piano``, its accompaniment). Folk, rock and electronic songs have no piano (guitars, strums
and synth stabs carry their chords) and classical piano keeps its left hand in the classical
manner (Alberti basses, waltzes: the model learned only POP909's pop piano).

>>> from yuefu.core.score import Note, Score, Track
>>> s = Score()
>>> _ = s.add_track(Track("piano", program=0, role="chords", notes=[Note(60, 0.0, 1.0)]))
>>> keys_track_name(s, "pop"), keys_track_name(s, "rock")
('piano', None)
>>> new = replace_keys(s, "piano", [Note(48, 0.5, 1.0), Note(64, 0.5, 1.0)], feel="swing")
>>> new.track("piano").notes[0].onset
0.666667
"""

from __future__ import annotations

from collections.abc import Sequence

from yuefu.arrange.patterns import EPS, swing_warp, tidy
from yuefu.core.errors import ParameterError
from yuefu.core.score import Note, Score

__all__ = ["KEYS_TRACKS", "keys_track_name", "replace_keys"]

#: Style -> the name of the track that plays its piano part.
KEYS_TRACKS = {"pop": "piano", "ballad": "piano", "children": "piano"}


def keys_track_name(song: Score, style: str) -> str | None:
    """The name of the arranged song's piano track for ``style``, or None if it has none."""
    name = KEYS_TRACKS.get(style)
    return name if name is not None and any(t.name == name for t in song.tracks) else None


def replace_keys(song: Score, name: str, notes: Sequence[Note], *, feel: str = "straight") -> Score:
    """The song with the notes of its track ``name`` replaced by ``notes`` (in the song's beats).

    The track keeps its name, program, role, gain and pan. Notes are swung as the arranger swings
    its own parts (``feel="swing"``), made safe to render (no same-pitch overlaps) and cut at the
    song's end.

    Raises
    ------
    ParameterError
        The song has no track ``name``.
    """
    if not any(t.name == name for t in song.tracks):
        raise ParameterError(f"arrange: the song has no track {name!r} to give a new piano part")
    out = song.copy()
    dest = out.track(name)
    end = song.end_beat
    new = []
    for n in notes:
        on, off = n.onset, n.end
        if feel == "swing":
            on, off = swing_warp(on), swing_warp(off)
        if on >= end - EPS:
            continue
        new.append(Note(n.pitch, round(on, 6), max(0.05, round(min(off, end) - on, 6)), n.velocity))
    dest.notes = new
    tidy(dest)
    return out
