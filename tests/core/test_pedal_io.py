"""Sustain pedal marks in the score: read from MIDI (controller 64) and MusicXML (``<pedal>``:
start, change, stop, as a line or as "Ped." and "*"), carried through an expansion of the repeats,
and written back; and a fermata over a rest (MusicXML)."""

from __future__ import annotations

import pytest

from yuefu.core import Note, Pedal, Score, Tempo, Track
from yuefu.core.errors import ParameterError
from yuefu.core.io import read_midi, write_midi
from yuefu.core.io.musicxml import (
    musicxml_bytes,
    read_musicxml,
    read_musicxml_measures,
    score_from_musicxml_bytes,
    write_musicxml,
)

NOTE = ('<note><pitch><step>{s}</step><octave>{o}</octave></pitch><duration>{d}</duration>'
        '<voice>{v}</voice><type>{t}</type><staff>{st}</staff></note>')
TYPES = {4: "whole", 2: "half"}


def _pedal(kind: str, extra: str = "", line: str = 'line="yes"') -> str:
    return (f'<direction placement="below"><direction-type><pedal type="{kind}" {line}/></direction-type>'
            f'{extra}<staff>2</staff></direction>')


def _measure(number: int, body: str, *, first: bool = False, right: str = "") -> str:
    attrs = ('<attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time>'
             '<staves>2</staves><clef number="1"><sign>G</sign><line>2</line></clef>'
             '<clef number="2"><sign>F</sign><line>4</line></clef></attributes>') if first else ""
    return f'<measure number="{number}">{attrs}{body}{right}</measure>'


def _two_staves(upper: tuple[str, int], lower: list[tuple[str, int, int]], marks: dict[int, str]) -> str:
    """One measure's body: a whole note above; below, notes (step, octave, duration) with pedal marks
    placed before the note at the given index (len(lower): after the last)."""
    s, o = upper
    body = NOTE.format(s=s, o=o, d=4, v=1, t="whole", st=1) + "<backup><duration>4</duration></backup>"
    for i, (step, octave, d) in enumerate(lower):
        body += marks.get(i, "") + NOTE.format(s=step, o=octave, d=d, v=5, t=TYPES[d], st=2)
    return body + marks.get(len(lower), "")


def _file(measures: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><score-partwise version="4.0"><part-list>'
            '<score-part id="P1"><part-name>Piano</part-name></score-part></part-list>'
            f'<part id="P1">{measures}</part></score-partwise>').encode()


PIECE = _file(
    _measure(1, _two_staves(("C", 5), [("C", 3, 4)], {0: _pedal("start")}), first=True)
    + _measure(2, _two_staves(("D", 5), [("G", 2, 4)], {0: _pedal("change"), 1: _pedal("stop")}))
    + _measure(3, _two_staves(("E", 5), [("C", 3, 2), ("G", 3, 2)],
                              {0: _pedal("start", line='sign="yes"'), 1: _pedal("stop", line='sign="yes"')}))
    + _measure(4, _two_staves(("F", 5), [("F", 2, 2), ("C", 3, 2)],
                              {0: _pedal("start", "<offset>1</offset>")})))


def test_musicxml_pedal_marks_are_read_as_spans() -> None:
    s = score_from_musicxml_bytes(PIECE)
    # a line with a change, "Ped." ... "*" over half a bar, and one pressed on beat 2 never let up
    assert s.tracks[0].pedals == [Pedal(0, 4), Pedal(4, 4), Pedal(8, 2), Pedal(13, 3)]


def test_pedal_marks_survive_the_repeats_expanded(tmp_path) -> None:
    path = tmp_path / "rep.musicxml"
    fwd = '<barline location="left"><repeat direction="forward"/></barline>'
    back = ('<barline location="right"><bar-style>light-heavy</bar-style>'
            '<repeat direction="backward"/></barline>')
    path.write_bytes(_file(
        _measure(1, _two_staves(("C", 5), [("C", 3, 4)], {0: _pedal("start")}), first=True)
        + _measure(2, fwd + _two_staves(("D", 5), [("G", 2, 4)], {0: _pedal("change"), 1: _pedal("stop")}),
                   right=back)
        + _measure(3, _two_staves(("E", 5), [("C", 3, 4)], {}))))
    once, _, played = read_musicxml_measures(path)
    assert once.tracks[0].pedals == [Pedal(0, 4), Pedal(4, 4)]
    assert played is not None
    # the second time through bar 2 the pedal is changed again on its first beat and let up at its end
    assert played[0].tracks[0].pedals == [Pedal(0, 4), Pedal(4, 4), Pedal(8, 4)]


def test_pedal_marks_read_from_musicxml_are_written_back() -> None:
    s = score_from_musicxml_bytes(PIECE)
    again = score_from_musicxml_bytes(musicxml_bytes(s))
    assert again.tracks[0].pedals == s.tracks[0].pedals


@pytest.mark.parametrize("write,read,name", [(write_midi, read_midi, "p.mid"),
                                             (write_musicxml, read_musicxml, "p.musicxml")])
def test_pedals_round_trip(write, read, name, tmp_path) -> None:  # noqa: ANN001
    s = Score(tempos=[Tempo(0, 90)])
    tr = s.add_track(Track("piano"))
    tr.notes += [Note(48, 0, 12), Note(60, 0, 4), Note(64, 4, 4), Note(67, 8, 4)]
    # off the beat, a change, one crossing a barline, one let up on a barline, one into the last bar
    tr.pedals = [Pedal(0.5, 1.5), Pedal(2, 2), Pedal(4, 3), Pedal(7.5, 0.5), Pedal(9, 3)]
    assert read(write(s, tmp_path / name)).tracks[0].pedals == tr.pedals


@pytest.mark.parametrize("onset,duration",
                         [(-1.0, 1.0), (0.0, 0.0), (0.0, float("nan")), (float("inf"), 1.0)])
def test_an_impossible_pedal_is_refused(onset: float, duration: float) -> None:
    with pytest.raises(ParameterError):
        Pedal(onset, duration)


@pytest.mark.parametrize("marks,want", [
    ({0: _pedal("stop")}, []),  # a "*" with no "Ped." before it
    ({0: _pedal("change")}, [Pedal(0, 4)]),  # a change with none before it: pressed there
    ({0: _pedal("start", "<offset>1/0</offset>")}, [Pedal(0, 4)]),  # an offset that is no number
    ({0: _pedal("start", "<offset>abc</offset>")}, [Pedal(0, 4)]),
])
def test_odd_pedal_marks_are_read_as_far_as_they_make_sense(marks: dict, want: list) -> None:
    s = score_from_musicxml_bytes(_file(_measure(1, _two_staves(("C", 5), [("C", 3, 4)], marks), first=True)))
    assert s.tracks[0].pedals == want


def test_a_fermata_over_a_rest_is_read_and_written_back() -> None:
    s = Score(tempos=[Tempo(0, 90)], fermatas=[4.0, 10.0])  # a whole bar's rest; a rest on beat 3
    tr = s.add_track(Track("piano"))
    tr.notes += [Note(60, 0, 4), Note(62, 8, 2), Note(64, 12, 4)]
    data = musicxml_bytes(s)
    assert data.count(b"<fermata") == 2
    assert score_from_musicxml_bytes(data).fermatas == [4.0, 10.0]
    with pytest.raises(ParameterError):
        Score(fermatas=[-1.0])


def test_pedal_marks_of_a_real_engraved_score() -> None:
    """Schumann's Dichterliebe no. 2 from music21's corpus (shipped in its wheel): "Ped." on the
    second half of beat 2 of bar 13 (after a 3/4-beat pickup), "*" three quarters into bar 14."""
    from music21 import corpus

    path = corpus.getWork("schumann_robert/dichterliebe_no2.xml")
    s, measures, _ = read_musicxml_measures(path)
    start13 = next(b for b, n in measures if n == 13)
    piano = [t for t in s.tracks if t.pedals]
    assert len(piano) == 1 and piano[0].pedals == [Pedal(start13 + 1.5, 2.25)]


def test_words_and_rest_fermatas_travel_through_midi(tmp_path) -> None:
    from yuefu.core import Direction

    s = Score(tempos=[Tempo(0, 90)], fermatas=[4.0], directions=[Direction(9.0, "poco rit."),
                                                                 Direction(12.0, "a tempo")])
    s.add_track(Track("piano")).notes += [Note(60, 0, 4), Note(62, 8, 4), Note(64, 12, 4)]
    back = read_midi(write_midi(s, tmp_path / "w.mid"))
    assert back.fermatas == [4.0]
    assert [(d.beat, d.text) for d in back.directions] == [(9.0, "poco rit."), (12.0, "a tempo")]
