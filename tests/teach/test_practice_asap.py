"""Real human performances (ASAP): the alignment against the beat annotations; a different piece."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ASAP
from yuefu.core.io import read_midi
from yuefu.teach import DifferentPieceError, assess

pytestmark = [pytest.mark.dataset,
              pytest.mark.skipif(not (ASAP / "metadata.csv").exists(),
                                 reason="needs ../shared/datasets/asap (absent on this machine)")]

PIECE = "Bach/Fugue/bwv_846"
TAKE = "Shi05M"


def test_alignment_follows_a_real_performance_beat_by_beat():
    d = ASAP / PIECE
    a = assess(d / "midi_score.mid", d / f"{TAKE}.mid")
    score_beats = np.loadtxt(d / "midi_score_annotations.txt", usecols=0)
    perf_beats = np.loadtxt(d / f"{TAKE}_annotations.txt", usecols=0)
    v = a.verdicts
    ok = np.isfinite(v.cluster_time_s)
    cs = np.array([c.onset_s for c in a.reference.clusters])[ok]
    pred = np.interp(score_beats, cs, v.cluster_time_s[ok])
    err = np.abs(pred - perf_beats[: len(score_beats)])
    assert np.mean(err < 0.1) >= 0.95, f"only {np.mean(err < 0.1):.0%} of beats within 100 ms"
    s = a.summary()
    assert s["correct"] >= 0.95 * s["notes"]
    assert a.scores.pitch >= 90 and a.verdicts.events == ()
    # a professional's expressive timing is mostly not flagged
    assert s["early"] + s["late"] <= 0.1 * s["notes"]


def test_another_asap_piece_is_refused():
    score = ASAP / PIECE / "midi_score.mid"
    other = read_midi(ASAP / "Bach/Fugue/bwv_848/midi_score.mid")
    with pytest.raises(DifferentPieceError):
        assess(score, other)
