"""An arrangement renders through FluidSynth and survives MIDI and MusicXML export."""

from __future__ import annotations

import time

import pytest
from arrange_melodies import make_melody

from yuefu.arrange import arrange
from yuefu.core.io.midi import midi_bytes, score_from_midi_bytes
from yuefu.core.io.musicxml import write_musicxml
from yuefu.core.motive import Motive
from yuefu.core.spec import STYLES

SHORT = [("verse", ["C", "Am"]), ("chorus", ["F", "G"])]


@pytest.mark.parametrize("style", STYLES)
def test_midi_round_trip_keeps_every_part(style):
    melody, chords = make_melody((6, 8))
    song = arrange(melody, chords, Motive(style=style, meter=(6, 8), feel="compound"), seed=2)
    back = score_from_midi_bytes(midi_bytes(song))
    assert [(t.name, t.role, t.program, t.is_drum) for t in back.tracks] == \
        [(t.name, t.role, t.program, t.is_drum) for t in song.tracks]
    assert [len(t.notes) for t in back.tracks] == [len(t.notes) for t in song.tracks]
    assert [c.symbol for c in back.chords] == [c.symbol for c in song.chords]
    assert [s.name for s in back.sections] == [s.name for s in song.sections]


def test_lead_sheet_musicxml(tmp_path):
    melody, chords = make_melody()
    song = arrange(melody, chords, Motive(style="pop"), seed=1)
    out = write_musicxml(song, tmp_path / "song.musicxml")
    text = out.read_text(encoding="utf-8")
    assert text.count("<lyric") == len(melody.track("vocal").notes)
    assert "<harmony" in text


def test_render_smoke(tmp_path):
    pytest.importorskip("pedalboard")
    from yuefu.render import render_score

    melody, chords = make_melody(tempo_bpm=128.0, form=SHORT)
    song = arrange(melody, chords, Motive(style="pop", tempo_bpm=128.0, energy=0.6), seed=0,
                   intro_bars=2, outro_bars=2)
    assert 14.0 <= song.duration_s <= 16.0  # 8 bars at 128 BPM
    t0 = time.perf_counter()
    res = render_score(song, tmp_path / "song.wav")
    assert res.path.is_file() and res.path.stat().st_size > 100_000
    assert res.loudness.integrated_lufs == pytest.approx(-14.0, abs=0.5)
    assert time.perf_counter() - t0 < 30
