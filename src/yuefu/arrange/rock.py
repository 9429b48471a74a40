"""Rock: two guitars, picked bass, organ, a hard-hitting kit.

The rhythm guitar (distortion, left) plays power chords (root, fifth, octave) in eighths:
palm-muted and short in the verse, open and ringing in the chorus, whole notes in a quiet
bridge. The second guitar (overdrive, right) thickens the chorus with sustained upper voicings
and picks a ringing arpeggio in the verse when the energy is up. The bass drives eighth-note
roots with an approach at each change; an organ pad fills the chorus; the kit plays a
backbeat with a pushed kick and ghost notes, a ride in the chorus, and tom fills. A lead guitar
plays the chorus hook in the intro and the last line in the outro; the song ends on one big
chord.
"""

from __future__ import annotations

from collections.abc import Mapping

from yuefu.arrange.bass import bass_line
from yuefu.arrange.drums import KITS, drum_track
from yuefu.arrange.parts import RootVoicer, gap_fills, hook_range, sustain
from yuefu.arrange.patterns import Bar, Hit, Song, Voicer, arpeggio_rhythm, comp_rhythm, play_hits
from yuefu.arrange.recipe import StyleRecipe, merge_instruments
from yuefu.core.score import Track

__all__ = ["ROCK"]

_ROCK_BASE = {"lead": 81, "chords": 30, "accompaniment": 29, "bass": 34, "pad": 16, "counter": 29}
_ROCK_EMOTION = {
    "sad": {"accompaniment": 27, "pad": 19},
    "calm": {"chords": 29, "accompaniment": 27, "pad": 19},
    "romantic": {"accompaniment": 27},
    "nostalgic": {"accompaniment": 27, "pad": 17},
    "epic": {"pad": 19, "lead": 56},
    "excited": {"counter": 30},
    "playful": {"pad": 17, "lead": 80},
    "happy": {},
}


def rock_instruments(emotion: str, pentatonic: bool) -> dict[str, int]:
    """GM programs of a rock arrangement: role -> program."""
    return merge_instruments(_ROCK_BASE, _ROCK_EMOTION, emotion)


def build_rock(song: Song, programs: Mapping[str, int]) -> list[Track]:
    """Write every part of a rock arrangement but the vocal."""
    g = song.grid
    sub = g.sub_beats
    rhythm = Track("guitar", program=programs["chords"], role="chords", gain_db=-5.0, pan=-0.55)
    power = RootVoicer(low=40, high=52)

    def power_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, (0, 1, 2), 6, 0.01)]
        offs = g.sub_offsets()
        if bar.kind == "bridge" and bar.energy < 0.6:
            return [Hit(0.0, g.bar_beats, (0, 1, 2), 2)]
        if bar.kind == "prechorus":
            return [Hit(p, g.pulse_beats * 0.9, (0, 1, 2), 2 if p == 0 else 0) for p in g.pulse_offsets()]
        if bar.kind in ("chorus", "outro") or (bar.kind == "intro" and bar.energy >= 0.5):
            return [Hit(o, sub * 0.95, (0, 1, 2), 0 if g.accent(o) >= 1 else -6) for o in offs]
        return [Hit(o, sub * 0.45, (0, 1), -6 if g.accent(o) >= 1 else -12) for o in offs]  # palm-muted

    play_hits(rhythm, song, song.bars, power_pattern, power, base_vel=84, rng=song.rng("guitar"))

    lead2 = Track("guitar2", program=programs["accompaniment"], role="accompaniment", gain_db=-8.0, pan=0.55)
    upper = Voicer(low=52, high=71, size=3)
    arp = arpeggio_rhythm(g, (0, 1, 2, 1), ring=2.0)

    def second_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, None, 4, 0.015)]
        if bar.kind in ("chorus", "outro"):
            return comp_rhythm(g, 1)
        if bar.kind in ("verse", "bridge") and bar.energy >= 0.4:
            return arp
        if bar.kind == "prechorus":
            return comp_rhythm(g, 2)
        return []

    play_hits(lead2, song, song.bars, second_pattern, upper, base_vel=70, rng=song.rng("guitar2"))

    organ = Track("organ", program=programs["pad"], role="pad", gain_db=-10.0)
    sustain(organ, song, [b for b in song.bars if b.kind in ("chorus", "bridge", "outro")],
            Voicer(low=55, high=76, size=4), base_vel=58)
    bass = bass_line(song, kind={"*": "rock", "bridge": "half"}, program=programs["bass"], low=28, high=48,
                     base_vel=92, gain_db=-1.0, legato=0.85, chromatic=0.3)
    drums = drum_track(song, KITS["rock"], gain_db=-1.0)
    counter = Track("counter", program=programs["counter"], role="counter", gain_db=-7.0, pan=0.2)
    lo, hi = hook_range(counter.program, vocal_median=song.vocal_median())
    gap_fills(counter, song, low=lo, high=hi, base_vel=70, kinds=("chorus",), density=0.3,
              rng=song.rng("counter"), min_gap=2.0)
    return [rhythm, lead2, organ, bass, drums, counter]


ROCK = StyleRecipe("rock", intro_bars=4, outro_bars=2, intro_source="chorus_head", ritardando=False,
                   instruments=rock_instruments, build=build_rock,
                   parts={"chords": "comp", "accompaniment": "comp", "pad": "sustain",
                          "bass": "bass", "counter": "line"})
