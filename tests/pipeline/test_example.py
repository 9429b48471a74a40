"""The bundled example song: deterministic, in key, every syllable on a note."""

from __future__ import annotations

import pytest

from yuefu.core.io.midi import midi_bytes
from yuefu.core.theory import Key, parse_chord
from yuefu.pipeline.example import EXAMPLE_LYRICS, example_score


def test_same_seed_same_song_other_seed_other_melody():
    assert midi_bytes(example_score(seed=3)) == midi_bytes(example_score(seed=3))
    a = [n.pitch for n in example_score(seed=3).track("lead").notes]
    b = [n.pitch for n in example_score(seed=4).track("lead").notes]
    assert a != b


@pytest.mark.parametrize("seed", range(5))
def test_structure_and_key(seed):
    s = example_score(seed=seed, key="F major", tempo_bpm=120)
    assert [sec.name for sec in s.sections] == ["intro", "verse", "chorus", "outro"]
    assert s.duration_s == pytest.approx(24 * 4 * 0.5)
    key = Key.parse("F major")
    lead = s.track("lead")
    # every syllable of the lyric is sung on exactly one note, in order
    syllables = [syl for sec in ("verse", "chorus") for line in EXAMPLE_LYRICS[sec]
                 for syl in line.split()]
    assert [n.lyric for n in lead.notes] == syllables
    assert all(key.contains(n.pitch) for n in lead.notes)
    # notes do not overlap in the melody and stay in a singable range
    for a, b in zip(lead.notes, lead.notes[1:], strict=False):
        assert a.end <= b.onset + 1e-9
    assert max(n.pitch for n in lead.notes) - min(n.pitch for n in lead.notes) <= 19
    # the melody's notes on beats 1 and 3 are tones of the chord in force
    strong = [n for n in lead.notes if n.onset % 2 == 0]
    hits = sum(n.pitch % 12 in parse_chord(s.chord_at(n.onset).symbol).pitch_classes
               for n in strong)
    assert hits / len(strong) >= 0.9
    # the song ends on the tonic
    assert lead.notes[-1].pitch % 12 == key.tonic
    drums = s.track("drums")
    assert drums.is_drum and len(drums.notes) > 100


def test_key_must_be_major():
    from yuefu.core.errors import PipelineError
    from yuefu.pipeline import get_stage

    with pytest.raises(PipelineError, match="major key"):
        get_stage("example").params_from_dict({"key": "A minor"})
