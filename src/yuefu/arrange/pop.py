"""Pop and ballad arrangements.

**pop**: piano comping that grows from sustained chords in the verse to syncopated hits and
pumping eighths in the chorus; a steel-string guitar that picks arpeggios in the verse and
strums in the chorus; a syncopated bass with approach notes; a pad that swells into the chorus;
a full kit; a counter-line (clean electric guitar) that plays the chorus hook in the intro,
answers the singer in the chorus and echoes the last line in the outro.

**ballad**: piano arpeggios over a held left-hand root in the verse, block chords and octaves in
the chorus; strings from the second verse on, swelling into the chorus and doubled at the top
in it; a bass in whole notes, then half notes; drums only from the chorus on (a soft fill leads
them in); a cello or violin answering the voice; a ritardando to the last chord.
"""

from __future__ import annotations

from collections.abc import Mapping

from yuefu.arrange.bass import bass_line
from yuefu.arrange.drums import KITS, drum_track
from yuefu.arrange.parts import RootVoicer, gap_fills, hook_range, sustain
from yuefu.arrange.patterns import (
    Bar,
    Hit,
    Song,
    Voicer,
    arpeggio_rhythm,
    comp_rhythm,
    play_hits,
    strum_rhythm,
)
from yuefu.arrange.recipe import StyleRecipe, merge_instruments
from yuefu.core.score import Track

__all__ = ["POP", "BALLAD"]

_POP_BASE = {"lead": 73, "chords": 0, "accompaniment": 25, "bass": 33, "pad": 89, "counter": 27}
_POP_EMOTION = {
    "sad": {"pad": 48, "counter": 71, "lead": 68},
    "calm": {"chords": 4, "pad": 89, "counter": 11},
    "romantic": {"chords": 4, "pad": 48, "counter": 65, "lead": 71},
    "nostalgic": {"pad": 48, "counter": 71},
    "excited": {"accompaniment": 27, "pad": 50, "counter": 81, "bass": 34},
    "epic": {"pad": 48, "counter": 61, "accompaniment": 29},
    "playful": {"counter": 12, "lead": 72},
    "happy": {},
}
_POP_GUOFENG = {"counter": 73, "accompaniment": 107}  # the 国风 colour: dizi and guzheng

_BALLAD_BASE = {"lead": 73, "chords": 0, "strings": 48, "bass": 32, "counter": 42}
_BALLAD_EMOTION = {
    "romantic": {"counter": 40, "strings": 49, "lead": 71},
    "sad": {"counter": 42, "strings": 49, "lead": 68},
    "nostalgic": {"counter": 71, "strings": 48},
    "calm": {"counter": 11, "chords": 4, "strings": 49},
    "epic": {"counter": 60, "strings": 48},
    "happy": {"counter": 40},
    "excited": {"counter": 40},
    "playful": {"counter": 12},
}


def pop_instruments(emotion: str, pentatonic: bool) -> dict[str, int]:
    """GM programs of a pop arrangement: role -> program."""
    out = merge_instruments(_POP_BASE, _POP_EMOTION, emotion)
    if pentatonic:
        out.update(_POP_GUOFENG)
    return out


def ballad_instruments(emotion: str, pentatonic: bool) -> dict[str, int]:
    """GM programs of a ballad: role -> program."""
    out = merge_instruments(_BALLAD_BASE, _BALLAD_EMOTION, emotion)
    if pentatonic:
        out["counter"] = 73  # a dizi-like flute answers the voice
    return out


def _level(bar: Bar) -> int:
    if bar.kind == "chorus":
        return 3 if bar.energy >= 0.55 else 2
    if bar.kind in ("prechorus", "outro"):
        return 2
    if bar.kind == "verse":
        return 2 if bar.energy >= 0.5 else 1
    return 1


def _final(bar: Bar, grid_bar: float) -> list[Hit]:
    return [Hit(0.0, grid_bar, None, 4, 0.02)]


def build_pop(song: Song, programs: Mapping[str, int]) -> list[Track]:
    """Write every part of a pop arrangement but the vocal."""
    g = song.grid
    piano = Track("piano", program=programs["chords"], role="chords", gain_db=-3.0, pan=-0.2)
    lh = RootVoicer(low=36, high=50)
    rh = Voicer(low=55, high=74, size=3)
    body = song.bars

    def rh_pattern(bar: Bar) -> list[Hit]:
        return _final(bar, g.bar_beats) if bar.final else comp_rhythm(g, _level(bar))

    def lh_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, (0, 2), 4)]
        voices = (0, 2) if bar.kind == "chorus" else (0,)
        return comp_rhythm(g, 1 if _level(bar) >= 2 else 0, voices=voices)

    play_hits(piano, song, body, rh_pattern, rh, base_vel=70, rng=song.rng("piano"))
    play_hits(piano, song, body, lh_pattern, lh, base_vel=72, rng=song.rng("piano-lh"), extend=True)

    guitar = Track("guitar", program=programs["accompaniment"], role="accompaniment", gain_db=-5.0,
                   pan=0.35)
    gv = Voicer(low=50, high=71, size=4)
    arp = arpeggio_rhythm(g, (0, 1, 2, 3, 2, 1), ring=2.0)

    def guitar_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, None, 0, 0.03)]
        if bar.kind in ("chorus", "outro") or (bar.kind == "bridge" and bar.energy >= 0.6):
            return strum_rhythm(g)
        return arp

    play_hits(guitar, song, [b for b in song.bars if b.kind != "intro" or b.pos >= 1], guitar_pattern,
              gv, base_vel=66, rng=song.rng("guitar"))

    pad = Track("pad", program=programs["pad"], role="pad", gain_db=-7.0)
    pad_bars = [b for b in song.bars if b.kind in ("prechorus", "chorus", "bridge", "outro")
                or (b.kind == "verse" and (b.occurrence >= 1 or b.energy >= 0.5))]
    sustain(pad, song, pad_bars, Voicer(low=53, high=74, size=4), base_vel=60, top_double=True)

    bass_kind = {"*": "pop", "intro": "half", "verse": "pop" if song.energy >= 0.5 else "half",
                 "bridge": "half"}
    bass = bass_line(song, kind=bass_kind, program=programs["bass"], gain_db=-1.0, chromatic=0.35)
    drums = drum_track(song, KITS["pop"], gain_db=-2.0)

    counter = Track("counter", program=programs["counter"], role="counter", gain_db=-3.0, pan=-0.35)
    lo, hi = hook_range(counter.program, vocal_median=song.vocal_median())
    gap_fills(counter, song, low=lo, high=hi, base_vel=66, kinds=("chorus", "bridge"), density=0.45,
              rng=song.rng("counter"))
    return [piano, guitar, pad, bass, drums, counter]


def build_ballad(song: Song, programs: Mapping[str, int]) -> list[Track]:
    """Write every part of a ballad but the vocal."""
    g = song.grid
    piano = Track("piano", program=programs["chords"], role="chords", gain_db=1.5, pan=-0.15)
    lh = RootVoicer(low=36, high=50)
    rh = Voicer(low=55, high=74, size=3)
    chorus_rh = Voicer(low=57, high=77, size=4)
    step = None if song.energy >= 0.3 else g.pulse_beats
    arp = arpeggio_rhythm(g, (0, 1, 2, 3, 2, 1), step=step, ring=3.0, skip_first=True)

    def loud(bar: Bar) -> bool:
        return bar.kind == "chorus" or (bar.kind in ("bridge", "outro") and bar.energy >= 0.6)

    def rh_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, None, 0, 0.06)]
        return [] if loud(bar) else arp

    def chorus_pattern(bar: Bar) -> list[Hit]:
        if bar.final or not loud(bar):
            return []
        if bar.energy >= 0.85:
            return comp_rhythm(g, 3)
        return [Hit(p, g.pulse_beats, None, 2 if p == 0 else 0) for p in g.pulse_offsets()]

    def lh_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, (0, 2), 2)]
        if loud(bar):
            return comp_rhythm(g, 1, voices=(0, 2))
        return [Hit(0.0, g.bar_beats, (0,), 2)]

    bars = song.bars
    play_hits(piano, song, bars, rh_pattern, rh, base_vel=62, rng=song.rng("piano"))
    play_hits(piano, song, bars, chorus_pattern, chorus_rh, base_vel=68, rng=song.rng("piano-chorus"))
    play_hits(piano, song, bars, lh_pattern, lh, base_vel=66, rng=song.rng("piano-lh"), extend=True)

    strings = Track("strings", program=programs["strings"], role="strings", gain_db=-5.0)
    s_bars = [b for b in song.bars if b.kind in ("prechorus", "chorus", "bridge", "outro")
              or (b.kind == "verse" and b.occurrence >= 1)]
    sustain(strings, song, s_bars, Voicer(low=55, high=79, size=4), base_vel=58, top_double=True)

    bass = bass_line(song, kind={"*": "half", "verse": "sustain", "intro": "sustain"},
                     program=programs["bass"], base_vel=82, gain_db=-2.0, legato=0.98,
                     chromatic=0.15)
    drums = drum_track(song, KITS["ballad"], gain_db=-4.0)

    counter = Track("counter", program=programs["counter"], role="counter", gain_db=-4.0, pan=0.3)
    lo, hi = hook_range(counter.program, vocal_median=song.vocal_median())
    gap_fills(counter, song, low=lo, high=hi, base_vel=58, kinds=("verse", "chorus", "bridge"),
              density=0.4, rng=song.rng("counter"), min_gap=2.0, max_notes=3)
    return [piano, strings, bass, drums, counter]


POP = StyleRecipe("pop", intro_bars=4, outro_bars=4, intro_source="chorus_head", ritardando=False,
                  instruments=pop_instruments, build=build_pop,
                  parts={"chords": "comp", "accompaniment": "comp", "pad": "sustain",
                         "bass": "bass", "counter": "line"})
BALLAD = StyleRecipe("ballad", intro_bars=2, outro_bars=3, intro_source="chorus_head", ritardando=True,
                     instruments=ballad_instruments, build=build_ballad,
                     parts={"chords": "comp", "strings": "sustain", "bass": "bass", "counter": "line"})
