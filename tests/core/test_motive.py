"""The Motive vocabulary: validation and the motive.json round trip."""

from __future__ import annotations

import pytest

from yuefu.core.errors import ParameterError
from yuefu.core.motive import Motive


def test_round_trip(tmp_path):
    m = Motive(key="Eb major", tempo_bpm=92, meter=(6, 8), feel="compound", palette="sevenths",
               instruments={"lead": 73, "bass": 32}, voice_range=(57, 76), energy=0.3,
               style="ballad", emotion="romantic", language="zh", theme="月光",
               lexical_seeds=("月", "光"), seed=3, reasons={"key": "because"})
    m.save(tmp_path / "motive.json")
    assert Motive.load(tmp_path / "motive.json") == m
    assert m.bar_beats == 3.0 and m.key_obj.tonic == 3


@pytest.mark.parametrize("kwargs, match", [
    ({"key": "H major"}, "not a key"),
    ({"tempo_bpm": 500}, "tempo_bpm must be 40..220"),
    ({"meter": (5, 4)}, "meter must be"),
    ({"feel": "bouncy"}, "feel 'bouncy' is unknown; valid: straight"),
    ({"palette": "atonal"}, "palette 'atonal' is unknown"),
    ({"style": "jazz"}, "style 'jazz' is unknown"),
    ({"voice_range": (60, 62)}, "at least a fifth"),
    ({"energy": 2.0}, "energy must be 0..1"),
    ({"instruments": {"lead": 200}}, "GM program"),
])
def test_invalid(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        Motive(**kwargs)


def test_load_errors(tmp_path):
    p = tmp_path / "m.json"
    p.write_text("{not json")
    with pytest.raises(ParameterError, match="not a valid motive JSON"):
        Motive.load(p)
    p.write_text('{"key": "C major", "colour": "red"}')
    with pytest.raises(ParameterError, match="unknown key 'colour'"):
        Motive.load(p)
    with pytest.raises(ParameterError, match="no such motive file"):
        Motive.load(tmp_path / "none.json")
