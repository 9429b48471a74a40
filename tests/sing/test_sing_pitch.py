"""The F0 line: exact pitches, portamento length, vibrato rate and depth."""

from __future__ import annotations

import numpy as np
import pytest

from yuefu.sing.pitch import VibratoStyle, f0_curve, hz_to_midi, portamento_s

FRAME = 0.001


def _cents(f0, midi):
    return 100 * (hz_to_midi(f0) - midi)


def test_steps_hit_the_score_pitch_outside_the_glide():
    t = np.arange(0, 1.0, FRAME)
    f0 = f0_curve([(0.0, 0.3, 60), (0.3, 0.6, 64), (0.6, 1.0, 67)], t, vibrato_depth_cents=0,
                  drift_cents=0)
    assert np.max(np.abs(_cents(f0[(t > 0.06) & (t < 0.24)], 60))) < 1e-6
    assert np.max(np.abs(_cents(f0[(t > 0.36) & (t < 0.54)], 64))) < 1e-6
    assert np.max(np.abs(_cents(f0[t > 0.66], 67))) < 1e-6


@pytest.mark.parametrize("interval", [1, 5, 12])
def test_portamento_length_between_40_and_120_ms(interval):
    t = np.arange(0, 2.0, FRAME)
    f0 = f0_curve([(0.0, 1.0, 60), (1.0, 2.0, 60 + interval)], t, vibrato_depth_cents=0,
                  drift_cents=0)
    m = hz_to_midi(f0)
    moving = t[(m > 60 + 1e-6) & (m < 60 + interval - 1e-6)]
    length = moving[-1] - moving[0]
    expected = portamento_s(interval, 1.0, 1.0)
    assert 0.04 - 2 * FRAME <= length <= 0.12
    assert length == pytest.approx(expected, abs=3 * FRAME)
    # mostly after the onset, as a singer arrives
    assert moving[0] == pytest.approx(1.0 - 0.4 * expected, abs=2 * FRAME)


def test_no_portamento_across_a_rest():
    t = np.arange(0, 2.0, FRAME)
    f0 = f0_curve([(0.0, 0.8, 60), (1.0, 2.0, 67)], t, vibrato_depth_cents=0, drift_cents=0)
    m = hz_to_midi(f0)
    assert np.all((np.abs(m - 60) < 1e-6) | (np.abs(m - 67) < 1e-6))


def test_short_notes_keep_the_glide_out_of_their_middle():
    p = portamento_s(12, 0.15, 0.15)
    assert p <= 0.15 / 3 + 1e-9


def test_vibrato_rate_depth_and_delay_measured():
    t = np.arange(0, 3.0, FRAME)
    style = VibratoStyle()
    f0 = f0_curve([(0.0, 3.0, 69)], t, drift_cents=0)
    c = _cents(f0, 69)
    assert np.max(np.abs(c[t < style.vibrato_delay_s])) < 1e-6  # delayed onset
    steady = c[(t > 1.0) & (t < 2.9)]
    depth = 0.5 * (steady.max() - steady.min())
    assert 30 <= depth <= 50 and depth == pytest.approx(style.vibrato_depth_cents, abs=1)
    spec = np.abs(np.fft.rfft(steady * np.hanning(len(steady)), 1 << 16))
    rate = np.fft.rfftfreq(1 << 16, FRAME)[np.argmax(spec)]
    assert rate == pytest.approx(5.5, abs=0.1)
    # faded in: the first cycle is smaller than the steady depth
    first = np.abs(c[(t > style.vibrato_delay_s) & (t < style.vibrato_delay_s + 0.09)])
    assert first.max() < 0.8 * depth


def test_no_vibrato_on_short_notes_and_drift_is_small_and_seeded():
    t = np.arange(0, 0.35, FRAME)
    f0 = f0_curve([(0.0, 0.35, 69)], t, drift_cents=0)
    assert np.max(np.abs(_cents(f0, 69))) < 1e-6
    t = np.arange(0, 4.0, 0.005)
    a = f0_curve([(0.0, 0.3, 69)], t, vibrato_depth_cents=0, rng=np.random.default_rng(1))
    b = f0_curve([(0.0, 0.3, 69)], t, vibrato_depth_cents=0, rng=np.random.default_rng(1))
    assert np.array_equal(a, b) and np.max(np.abs(_cents(a, 69))) < 15
