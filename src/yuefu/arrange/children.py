"""Children's songs: a simple oom-pah with a bright melody doubling.

The bass (or a tuba when the song is happy or playful) and the piano's left hand play the
"oom" on the strong beats; the piano's right hand plays short "pah" chords on the other pulses
(on the last eighth of each group in compound time), on every off-beat in the chorus;
pizzicato strings join the pahs in the chorus. A glockenspiel (xylophone when playful, music
box when calm) plays the chorus's last line as the intro, answers the singer in the verse and
doubles the tune an octave up in the chorus. The kit is light: kick, snare, a tambourine and
hand claps in the chorus.
"""

from __future__ import annotations

from collections.abc import Mapping

from yuefu.arrange.bass import bass_line
from yuefu.arrange.drums import KITS, drum_track
from yuefu.arrange.parts import RootVoicer, double_melody, gap_fills, hook_range
from yuefu.arrange.patterns import EPS, Bar, Hit, Song, Voicer, play_hits
from yuefu.arrange.recipe import StyleRecipe, merge_instruments
from yuefu.core.score import Track

__all__ = ["CHILDREN"]

_KIDS_BASE = {"lead": 73, "accompaniment": 0, "bass": 32, "strings": 45, "counter": 9}
_KIDS_EMOTION = {
    "happy": {"bass": 58},
    "playful": {"bass": 58, "counter": 13, "lead": 79},
    "excited": {"counter": 13, "accompaniment": 1},
    "calm": {"counter": 10},
    "sad": {"counter": 10},
    "romantic": {"counter": 10},
    "nostalgic": {"counter": 10},
    "epic": {"accompaniment": 1},
}


def children_instruments(emotion: str, pentatonic: bool) -> dict[str, int]:
    """GM programs of a children's-song arrangement: role -> program."""
    return merge_instruments(_KIDS_BASE, _KIDS_EMOTION, emotion)


def _pahs(song: Song, bar: Bar, *, dense: bool) -> list[Hit]:
    g = song.grid
    strong = g.strong_offsets()
    offs = g.sub_offsets() if dense else g.pulse_offsets()
    if g.compound and not dense:
        offs = [p + 2 * g.sub_beats for p in g.pulse_offsets()]
    return [Hit(o, g.sub_beats * 0.8, None, 0) for o in offs
            if not any(abs(o - s) < EPS for s in strong)]


def build_children(song: Song, programs: Mapping[str, int]) -> list[Track]:
    """Write every part of a children's-song arrangement but the vocal."""
    g = song.grid
    piano = Track("piano", program=programs["accompaniment"], role="accompaniment", gain_db=-3.0, pan=-0.2)
    lh = RootVoicer(low=41, high=55)
    rh = Voicer(low=55, high=72, size=3)

    def oom(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, (0, 2), 2)]
        return [Hit(s, g.pulse_beats * 0.9, (0, 2) if bar.kind == "chorus" else (0,), 2)
                for s in g.strong_offsets()]

    def pah(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, None, 2, 0.02)]
        return _pahs(song, bar, dense=bar.kind == "chorus")

    play_hits(piano, song, song.bars, oom, lh, base_vel=74, rng=song.rng("oom"))
    play_hits(piano, song, song.bars, pah, rh, base_vel=64, rng=song.rng("pah"))

    pizz = Track("pizzicato", program=programs["strings"], role="strings", gain_db=-6.0, pan=0.3)
    play_hits(pizz, song, [b for b in song.bars if b.kind in ("chorus", "outro")],
              lambda bar: _pahs(song, bar, dense=False) if not bar.final else [Hit(0.0, 1.0, None, 2)],
              Voicer(low=60, high=79, size=3), base_vel=66, rng=song.rng("pizz"))

    bass = bass_line(song, kind="oompah", program=programs["bass"], low=33, high=52, base_vel=86,
                     gain_db=-2.0, legato=0.85, chromatic=0.0)
    drums = drum_track(song, KITS["children"], gain_db=-6.0)
    counter = Track("counter", program=programs["counter"], role="counter", gain_db=4.0, pan=0.2)
    lo, hi = hook_range(counter.program, vocal_median=song.vocal_median())
    double_melody(counter, song, kinds=("chorus",), low=lo, high=hi, vel_scale=0.75)
    gap_fills(counter, song, low=lo, high=hi, base_vel=62, kinds=("verse", "bridge"), density=0.5,
              rng=song.rng("counter"))
    return [piano, pizz, bass, drums, counter]


CHILDREN = StyleRecipe("children", intro_bars=2, outro_bars=2, intro_source="chorus_tail", ritardando=True,
                       instruments=children_instruments, build=build_children,
                       parts={"accompaniment": "comp", "strings": "arp", "bass": "bass", "counter": "line"})
