"""A score with other instruments beside the piano (a song's voice, a violin): the pianist is judged
on the piano part; ``part`` picks another."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_piece, rows_of
from yuefu.core import Score, Track
from yuefu.core.errors import ParameterError
from yuefu.core.io.musicxml import write_musicxml
from yuefu.teach import AssessConfig, assess


def _song(rng: np.random.Generator, tmp_path, voice_program: int = 53):  # noqa: ANN001, ANN202
    """The study as a one-part piano (two staves) under a voice line, written as MusicXML."""
    piano = make_piece(rng)
    s = Score(tempos=piano.tempos, time_signatures=piano.time_signatures, title="song")
    voice = s.add_track(Track("Voice", program=voice_program, role="vocal"))
    voice.notes = [n for n in piano.tracks[0].notes[::4]]  # the tune, slower
    both = s.add_track(Track("Piano", program=0))
    for staff, t in enumerate(piano.tracks, start=1):
        both.notes += [type(n)(n.pitch, n.onset, n.duration, n.velocity, staff=staff) for n in t.notes]
    both.sort()
    return write_musicxml(s.normalize(), tmp_path / "song.musicxml"), piano


def test_the_piano_part_is_judged_and_the_voice_left_out(rng, tmp_path) -> None:
    path, piano = _song(rng, tmp_path)
    a = assess(path, rows_of(piano))
    assert a.reference.parts == ("Piano",)
    assert a.summary()["correct"] == a.summary()["notes"] == sum(len(t.notes) for t in piano.tracks)
    assert a.to_dict()["score"]["parts"] == ["Piano"]
    assert a.reference.hands_from == "staves"


def test_a_part_chosen_by_name_and_an_unknown_one_refused(rng, tmp_path) -> None:
    path, piano = _song(rng, tmp_path, voice_program=0)  # a voice line with no instrument of its own
    tune = [r for r in rows_of(piano) if r[0] >= 60][::4]
    a = assess(path, tune, config=AssessConfig(part="voice"))
    assert a.reference.parts == ("Voice",) and a.summary()["correct"] == a.summary()["notes"]
    with pytest.raises(ParameterError, match="no part named 'Violin'.*'Voice', 'Piano'"):
        assess(path, tune, config=AssessConfig(part="Violin"))
    b = assess(path, rows_of(piano))  # its role still says it is sung: the piano part is judged
    assert b.reference.parts == ("Piano",)
