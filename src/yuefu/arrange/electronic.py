"""Electronic: arpeggiator, off-beat synth stabs, a pad under everything, a pumping synth bass
and a four-on-the-floor kit.

The arpeggiator climbs the chord over two octaves in subdivisions, in sixteenths in the chorus;
the stabs hit the strong beats in the verse and every off-beat in the chorus; the pad holds each
chord and swells into the chorus; the bass plays roots on the pulses and octaves off the beat;
the kit keeps a kick on every pulse, claps on the backbeat, off-beat open hats in the chorus and
snare-roll builds at the ends of sections. The intro builds from the kick alone; a square lead
plays the hook.
"""

from __future__ import annotations

from collections.abc import Mapping

from yuefu.arrange.bass import bass_line
from yuefu.arrange.drums import KITS, drum_track
from yuefu.arrange.parts import gap_fills, hook_range, sustain
from yuefu.arrange.patterns import Bar, Hit, Song, Voicer, arpeggio_rhythm, play_hits
from yuefu.arrange.recipe import StyleRecipe, merge_instruments
from yuefu.core.score import Track

__all__ = ["ELECTRONIC"]

_EL_BASE = {"lead": 80, "chords": 90, "accompaniment": 81, "bass": 38, "pad": 89, "counter": 81}
_EL_EMOTION = {
    "calm": {"pad": 94, "accompaniment": 88, "chords": 89},
    "sad": {"pad": 94, "bass": 39},
    "romantic": {"pad": 94},
    "nostalgic": {"pad": 95},
    "epic": {"pad": 91, "chords": 62},
    "excited": {"chords": 62, "bass": 39},
    "playful": {"accompaniment": 80, "counter": 84},
    "happy": {},
}


def electronic_instruments(emotion: str, pentatonic: bool) -> dict[str, int]:
    """GM programs of an electronic arrangement: role -> program."""
    out = merge_instruments(_EL_BASE, _EL_EMOTION, emotion)
    if out["counter"] == out["lead"]:
        out["counter"] = 81 if out["lead"] != 81 else 80
    return out


def build_electronic(song: Song, programs: Mapping[str, int]) -> list[Track]:
    """Write every part of an electronic arrangement but the vocal."""
    g = song.grid
    L, sub = g.pulse_beats, g.sub_beats
    arp = Track("arp", program=programs["accompaniment"], role="accompaniment", gain_db=-5.0, pan=0.3)
    av = Voicer(low=60, high=76, size=3)
    up = (0, 1, 2, 3) if g.subs == 2 and g.pulses != 3 else (0, 1, 2, 3, 4, 5)
    slow = arpeggio_rhythm(g, up, ring=0.9)
    fast = arpeggio_rhythm(g, up, step=sub / 2, ring=0.9) if not g.compound else slow

    def arp_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, L, (0, 1, 2, 3), 0, sub / 2)]
        return fast if bar.kind == "chorus" or bar.energy >= 0.8 else slow

    play_hits(arp, song, song.bars, arp_pattern, av, base_vel=64, rng=song.rng("arp"))

    stabs = Track("stabs", program=programs["chords"], role="chords", gain_db=-7.0, pan=-0.3)
    sv = Voicer(low=57, high=74, size=4)

    def stab_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, None, 4)]
        if bar.kind == "intro" and bar.pos < bar.length - 1:
            return []
        off = L / 2 if g.subs == 2 else 2 * sub
        if bar.kind in ("chorus", "outro") or bar.energy >= 0.7:
            return [Hit(p + off, sub * 0.8, None, 0) for p in g.pulse_offsets()]
        return [Hit(s, sub * 0.9, None, 2) for s in g.strong_offsets()]

    play_hits(stabs, song, song.bars, stab_pattern, sv, base_vel=70, rng=song.rng("stabs"))

    pad = Track("pad", program=programs["pad"], role="pad", gain_db=-8.0)
    sustain(pad, song, song.bars, Voicer(low=55, high=77, size=4), base_vel=56, top_double=True)
    bass = bass_line(song, kind="synth", program=programs["bass"], low=28, high=50, base_vel=92,
                     gain_db=-1.0, legato=0.9, chromatic=0.2)
    drums = drum_track(song, KITS["electronic"], gain_db=-1.0)
    counter = Track("counter", program=programs["counter"], role="counter", gain_db=-8.0, pan=-0.15)
    lo, hi = hook_range(counter.program, vocal_median=song.vocal_median())
    gap_fills(counter, song, low=lo, high=hi, base_vel=64, kinds=("chorus",), density=0.3,
              rng=song.rng("counter"), min_gap=2.0)
    return [arp, stabs, pad, bass, drums, counter]


ELECTRONIC = StyleRecipe("electronic", intro_bars=4, outro_bars=4, intro_source="chorus_head",
                         ritardando=False, instruments=electronic_instruments, build=build_electronic,
                         parts={"accompaniment": "arp", "chords": "comp", "pad": "sustain",
                                "bass": "bass", "counter": "line"})
