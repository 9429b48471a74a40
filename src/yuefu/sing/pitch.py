"""The sung pitch line: score pitches with portamento, vibrato and a little drift.

Pure numpy, no audio. The curve is computed on any grid of frame times (the vocoder uses 5 ms
frames). Each note's pitch holds from its onset to the next note's onset (so the consonants
before a note already carry its pitch after a rest); between notes sung legato the pitch glides
along a raised cosine of 40..120 ms (longer for wider leaps), a little more after the onset than
before it, and never into the stable middle 60 % of either note. Notes longer than
``vibrato_min_note_s`` get a vibrato that starts ``vibrato_delay_s`` after the onset and fades
in over ``vibrato_fade_s``.

>>> import numpy as np
>>> t = np.arange(0, 1.0, 0.005)
>>> f0 = f0_curve([(0.0, 0.5, 69), (0.5, 1.0, 71)], t, vibrato_depth_cents=0, drift_cents=0)
>>> round(float(f0[50]), 1), round(float(f0[150]), 1)
(440.0, 493.9)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["VibratoStyle", "portamento_s", "f0_curve", "midi_to_hz", "hz_to_midi"]


def midi_to_hz(midi: np.ndarray | float) -> np.ndarray:
    """Frequency in Hz of (fractional) MIDI pitch(es); 69 = A4 = 440 Hz."""
    return 440.0 * np.power(2.0, (np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def hz_to_midi(hz: np.ndarray | float) -> np.ndarray:
    """Fractional MIDI pitch of frequencies in Hz (> 0)."""
    return 69.0 + 12.0 * np.log2(np.asarray(hz, dtype=np.float64) / 440.0)


@dataclass(frozen=True, slots=True)
class VibratoStyle:
    """How a voice sings: portamento and vibrato (seconds, Hz, cents)."""

    portamento_min_s: float = 0.04
    portamento_max_s: float = 0.12
    portamento_s_per_semitone: float = 0.008
    vibrato_rate_hz: float = 5.5
    vibrato_depth_cents: float = 32.0
    vibrato_min_note_s: float = 0.4
    vibrato_delay_s: float = 0.25
    vibrato_fade_s: float = 0.25
    drift_cents: float = 3.0
    legato_gap_s: float = 0.05


def portamento_s(interval_semitones: float, prev_s: float, next_s: float,
                 style: VibratoStyle = VibratoStyle()) -> float:
    """Length of the glide between two legato notes (seconds).

    40 ms plus 8 ms per semitone of leap, at most 120 ms, and short enough to stay out of the
    middle 60 % of both notes (it starts 40 % of its length before the onset).
    """
    p = style.portamento_min_s + style.portamento_s_per_semitone * abs(interval_semitones)
    p = min(max(p, style.portamento_min_s), style.portamento_max_s)
    return float(max(0.01, min(p, prev_s / 2.0, next_s / 3.0)))


def f0_curve(notes: Sequence[tuple[float, float, float]], times_s: np.ndarray, *,
             vibrato_rate_hz: float | None = None, vibrato_depth_cents: float | None = None,
             drift_cents: float | None = None, style: VibratoStyle = VibratoStyle(),
             rng: np.random.Generator | None = None) -> np.ndarray:
    """F0 in Hz at ``times_s`` for a monophonic line.

    Parameters
    ----------
    notes : sequence of (onset_s, offset_s, midi_pitch)
        Sorted by onset, not overlapping.
    times_s : np.ndarray [shape=(n,)]
        Frame times in seconds.
    vibrato_rate_hz, vibrato_depth_cents, drift_cents : float, optional
        Override ``style``. The depth is the peak deviation (±cents); each note's rate and depth
        vary by a few percent when ``rng`` is given.
    rng : numpy.random.Generator, optional
        Source of the per-note variation and of the slow drift; without it there is neither.

    Returns
    -------
    f0 : np.ndarray [shape=(n,)]
        Hz, > 0 everywhere (the caller sets unvoiced frames to 0).
    """
    t = np.asarray(times_s, dtype=np.float64)
    if not notes:
        return np.zeros_like(t)
    rate = style.vibrato_rate_hz if vibrato_rate_hz is None else vibrato_rate_hz
    depth = style.vibrato_depth_cents if vibrato_depth_cents is None else vibrato_depth_cents
    drift = style.drift_cents if drift_cents is None else drift_cents
    on = np.array([n[0] for n in notes], dtype=np.float64)
    off = np.array([n[1] for n in notes], dtype=np.float64)
    pitch = np.array([n[2] for n in notes], dtype=np.float64)
    # each note holds until the next onset; before the first onset, the first pitch
    idx = np.clip(np.searchsorted(on, t, side="right") - 1, 0, len(on) - 1)
    midi = pitch[idx].copy()
    for i in range(1, len(on)):
        if on[i] - off[i - 1] >= style.legato_gap_s:
            continue
        p = portamento_s(pitch[i] - pitch[i - 1], off[i - 1] - on[i - 1], off[i] - on[i], style)
        a, b = on[i] - 0.4 * p, on[i] + 0.6 * p
        m = (t >= a) & (t < b)
        x = (t[m] - a) / (b - a)
        midi[m] = pitch[i - 1] + (pitch[i] - pitch[i - 1]) * (0.5 - 0.5 * np.cos(np.pi * x))
    cents = np.zeros_like(t)
    for i in range(len(on)):
        dur = off[i] - on[i]
        if depth <= 0 or dur < style.vibrato_min_note_s:
            continue
        r, d = rate, depth
        if rng is not None:
            r *= 1.0 + rng.uniform(-0.04, 0.04)
            d *= 1.0 + rng.uniform(-0.1, 0.1)
        start = on[i] + style.vibrato_delay_s
        end = on[i + 1] if i + 1 < len(on) else off[i]
        m = (t >= start) & (t < end)
        tt = t[m] - start
        fade_in = np.clip(tt / style.vibrato_fade_s, 0.0, 1.0)
        fade_in = 0.5 - 0.5 * np.cos(np.pi * fade_in)
        fade_out = np.clip((off[i] - t[m]) / 0.08, 0.0, 1.0)  # calm before the next glide
        cents[m] += d * np.sin(2 * np.pi * r * tt) * fade_in * fade_out
    if drift > 0 and rng is not None and len(t) > 1:
        # slow random wander (a few cents, below ~1.5 Hz), the same for every frame grid
        knots_t = np.arange(t[0] - 0.5, t[-1] + 1.0, 0.35)
        knots = rng.normal(0.0, drift, size=len(knots_t))
        cents += np.interp(t, knots_t, knots)
    return midi_to_hz(midi + cents / 100.0)
