"""Synthetic pieces and performances for the practice partner's tests.

A piece: a right-hand melody of eighth notes (C major, stepwise with leaps) over a left-hand part of
two-note chords on every beat, 4/4, 100 BPM. A performance is the score's notes in seconds, to
which the tests apply known errors.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from yuefu.core import Note, Score, Tempo, TimeSignature, Track

ASAP = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "asap"

Row = tuple[int, float, float, int]
SCALE = [0, 2, 4, 5, 7, 9, 11]


def make_piece(rng: np.random.Generator, *, bars: int = 8, two_hands: bool = True, bpm: float = 100.0,
               velocities: bool = False) -> Score:
    s = Score(tempos=[Tempo(0, bpm)], time_signatures=[TimeSignature(0, 4, 4)], title="study")
    rh = s.add_track(Track("right", program=0))
    lh = s.add_track(Track("left", program=0)) if two_hands else rh
    degree = 7
    for i in range(bars * 8):
        degree = int(np.clip(degree + rng.choice([-2, -1, 1, 2, 3]), 3, 13))
        pitch = 60 + 12 * (degree // 7) + SCALE[degree % 7]
        vel = int(50 + 60 * (i // 8 % 2)) if velocities else 80
        rh.notes.append(Note(pitch, i * 0.5, 0.5, vel))
    for b in range(bars * 4):
        root = int(rng.choice([0, 5, 7, 9]))
        vel = int(40 + 60 * (b // 4 % 2)) if velocities else 70
        lh.notes += [Note(36 + root, float(b), 1.0, vel), Note(43 + root, float(b), 1.0, vel)]
    return s.normalize()


def rows_of(score: Score, *, scale: float = 1.0) -> list[Row]:
    """The score's notes as played rows (pitch, onset_s, offset_s, velocity), time scaled."""
    tm = score.tempo_map
    out = []
    for t in score.tracks:
        for n in t.notes:
            a, b = tm.to_seconds(np.array([n.onset, n.end]))
            out.append((n.pitch, float(a) * scale, float(b) * scale - 0.02, n.velocity))
    return sorted(out, key=lambda r: (r[1], r[0]))


@pytest.fixture
def piece(rng: np.random.Generator) -> Score:
    return make_piece(rng)


@pytest.fixture
def make() -> Callable[..., Score]:
    return make_piece
