"""Classical piano: the melody on top, a left hand in the classical manner, piano only.

The left hand (``piano_lh``) plays an Alberti bass (low - high - middle - high) in eighths in
simple time, a broken chord (bass, then up and down the chord) in compound time and in 3/4;
in the chorus it opens out into arpeggios spanning a tenth, and a 3/4 chorus becomes a waltz
(bass, chord, chord). The bass note is always the chord's root (or a slash chord's bass), so the
harmony is clear without a bass instrument. The right hand (``piano_rh``) adds a third or a sixth
under the melody's notes on the beats in the chorus, plays the chorus's opening as the intro and
echoes the last line in the outro. No drums, no bass, no pads; the piece slows into its last
chord. Every program is a piano (GM 0..7).
"""

from __future__ import annotations

from collections.abc import Mapping

from yuefu.arrange.parts import RootVoicer, harmony_below
from yuefu.arrange.patterns import Bar, Hit, Song, Voicer, play_hits
from yuefu.arrange.recipe import StyleRecipe, merge_instruments
from yuefu.core.score import Track

__all__ = ["CLASSICAL_PIANO"]

_PIANO_BASE = {"lead": 0, "accompaniment": 0, "counter": 0}
_PIANO_EMOTION = {"happy": {"lead": 1, "accompaniment": 1, "counter": 1},
                  "playful": {"lead": 1, "accompaniment": 1, "counter": 1}}


def classical_instruments(emotion: str, pentatonic: bool) -> dict[str, int]:
    """GM programs of a piano piece: role -> program (all pianos, 0..7)."""
    return merge_instruments(_PIANO_BASE, _PIANO_EMOTION, emotion)


def build_classical(song: Song, programs: Mapping[str, int]) -> list[Track]:
    """Write the left and right hands (the vocal track carries the melody)."""
    g = song.grid
    sub = g.sub_beats
    lh = Track("piano_lh", program=programs["accompaniment"], role="accompaniment", gain_db=-3.0, pan=-0.15)
    bass = RootVoicer(low=36, high=50)
    # the Alberti figure's upper notes: the chord without the bass's note, close above it
    upper = Voicer(low=48, high=62, size=2, omit_bass=True)
    chord = Voicer(low=52, high=67, size=3)
    n = g.pulses * g.subs
    strong = g.strong_offsets()

    def wide(bar: Bar) -> bool:
        return bar.kind == "chorus" or (bar.kind in ("bridge", "outro") and bar.energy >= 0.6)

    def is_strong(o: float) -> bool:
        return any(abs(o - s) < 1e-6 for s in strong)

    def bass_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, (0,), 2)]
        if wide(bar) and g.pulses == 3:
            return [Hit(0.0, g.pulse_beats, (0,), 4)]  # waltz: the bass, then two chords
        out = []
        for i in range(n):
            o = i * sub
            if is_strong(o):
                out.append(Hit(o, 2 * sub, (0,), 4))
            elif wide(bar):
                # a rolling arpeggio: bass, fifth, octave, (third above: the upper voicer)
                k = i % (2 * g.subs) if g.subs == 2 else i % g.subs
                if k in (1, 2):
                    out.append(Hit(o, 1.5 * sub, (k,), -6))
        return out

    def upper_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return []
        if wide(bar):
            if g.pulses == 3:
                return []
            if g.subs == 2:
                return [Hit(i * sub, 1.5 * sub, (1,), -4) for i in range(n) if i % 4 == 3]
            return []
        out = []
        k = 0
        order = (1, 0, 1) if g.subs == 2 and g.pulses != 3 else (0, 1, 2, 1, 0)
        for i in range(n):
            o = i * sub
            if is_strong(o):
                k = 0
                continue
            out.append(Hit(o, sub * 1.5, (order[k % len(order)],), -4))
            k += 1
        return out

    def chord_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.08, g.bar_beats - 0.08, None, 0, 0.06)]
        if wide(bar) and g.pulses == 3:
            return [Hit(1.0, 0.9, None, -4), Hit(2.0, 0.9, None, -6)]
        return []

    play_hits(lh, song, song.bars, bass_pattern, bass, base_vel=68, rng=song.rng("lh-bass"), extend=True)
    play_hits(lh, song, song.bars, upper_pattern, upper, base_vel=62, rng=song.rng("lh-upper"))
    play_hits(lh, song, song.bars, chord_pattern, chord, base_vel=60, rng=song.rng("lh-chord"))

    rh = Track("piano_rh", program=programs["counter"], role="counter", gain_db=-4.0, pan=0.1)
    harmony_below(rh, song, kinds=("chorus", "bridge"), vel_scale=0.72)
    return [lh, rh]


CLASSICAL_PIANO = StyleRecipe("classical_piano", intro_bars=2, outro_bars=2, intro_source="chorus_head",
                              ritardando=True, instruments=classical_instruments, build=build_classical,
                              hook="piano_rh", hook_role="counter", piano_only=True,
                              parts={"accompaniment": "comp", "counter": "line"})
