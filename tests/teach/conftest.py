"""Synthetic pieces and performances for the practice partner's tests.

A piece: a right-hand melody of eighth notes (C major, stepwise with leaps) over a left-hand part of
two-note chords on every beat, 4/4, 100 BPM. A performance is the score's notes in seconds, to
which the tests apply known errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from yuefu.core import Note, Score, Tempo, TimeSignature, Track
from yuefu.core.errors import MissingDependencyError
from yuefu.teach import Performance
from yuefu.teach.performance import Candidates

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


def bass_melody_score(beats: int = 12) -> Score:
    """A bass C3 and a melody note (E4, F4, F#4 in turn) on every beat, 120 BPM."""
    s = Score()
    t = s.add_track(Track("piano"))
    for i in range(beats):
        t.notes += [Note(48, i * 1.0, 1.0), Note(64 + i % 3, i * 1.0, 1.0)]
    return s


def bass_melody_rows(beats: int = 12) -> list[Row]:
    """:func:`bass_melody_score` played in time (the melody 2 ms after its bass)."""
    return [r for i in range(beats) for r in ((48, 0.5 * i, 0.5 * i + 0.45, 70),
                                              (64 + i % 3, 0.5 * i + 0.002, 0.5 * i + 0.45, 80))]


#: The note model's hop (seconds): basic-pitch's 256 samples at 22.05 kHz.
FRAME_S = 256 / 22050


def painted_transcription(cands: list[tuple[Row, float]], seconds: float = 9.0) -> Performance:
    """A transcription whose posteriors show every candidate as the note model would: an onset peak
    that grows with the verifier's probability, the key sounding while the note lasts; the notes at or
    above 0.5 are the played ones."""
    cands = sorted(cands, key=lambda x: (x[0][1], x[0][0]))
    onset = np.zeros((int(seconds / FRAME_S), 88), dtype=np.float16)
    key = np.zeros_like(onset)
    for (p, a, b, _), q in cands:
        g, e = int(round(a / FRAME_S)), int(round(b / FRAME_S))
        for d, o in ((-1, 0.2), (0, 0.3 + 0.6 * q), (1, 0.2)):
            if g + d >= 0:
                onset[g + d, p - 21] = max(float(onset[g + d, p - 21]), o)
        key[g:e, p - 21] = np.maximum(key[g:e, p - 21], 0.3 + 0.5 * q)
    arr = np.array([r for r, _ in cands], dtype=np.float64)
    prob = np.array([q for _, q in cands])
    c = Candidates(arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], arr[:, 3].astype(np.int64), prob, 0.5,
                   onset, key, FRAME_S)
    acc = [r for r, q in cands if q >= 0.5]
    return replace(Performance.from_notes(acc), transcribed=True, candidates=c)


# -- rendered piano, through the product's audio route ---------------------------------------------


def transcriber_missing() -> str | None:
    """Why the piano transcriber cannot run here (None: it can)."""
    try:
        from yuefu.listen.transcribe import model_file

        model_file()
        import onnxruntime  # noqa: F401
    except (ImportError, MissingDependencyError) as e:
        return str(e)
    return None


def two_bar_piece() -> Score:
    """Two bars at 100 BPM: an eighth-note melody over two-note left-hand chords on every beat."""
    s = Score(tempos=[Tempo(0, 100)])
    rh, lh = s.add_track(Track("right")), s.add_track(Track("left"))
    melody = [72, 74, 76, 79, 77, 76, 74, 72, 71, 72, 74, 76, 77, 79, 81, 79]
    rh.notes += [Note(p, 0.5 * i, 0.5, 80) for i, p in enumerate(melody)]
    for b, root in enumerate([48, 53, 55, 48, 45, 50, 55, 48]):
        lh.notes += [Note(root, float(b), 1.0, 70), Note(root + 7, float(b), 1.0, 70)]
    return s.normalize()


def render_take(rows: list[Row], path: Path) -> Path:
    """``rows`` (pitch, onset s, offset s, velocity) rendered by FluidSynth (GM 0) with 30 dB of
    noise, as ``path/take.wav``."""
    import soundfile as sf

    from yuefu.render import render_stems

    sc = Score(tempos=[Tempo(0, 120)])
    t = sc.add_track(Track("piano", program=0))
    for p, a, b, v in rows:
        t.notes.append(Note(p, 2 * a, 2 * (b - a), v))
    stems = render_stems(sc.normalize(), path, force=True, tail_s=1.0)
    y, sr = sf.read(next(iter(stems.values())), dtype="float32", always_2d=True)
    mono = y.mean(axis=1)
    noise = np.random.default_rng(0).normal(0, np.sqrt(np.mean(mono ** 2) / 1000), mono.shape)  # 30 dB
    f = path / "take.wav"
    sf.write(f, (mono + noise).astype(np.float32), sr)
    return f
