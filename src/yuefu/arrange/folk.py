"""Folk arrangements, Western and 国风 (the Chinese pentatonic colour).

**folk**: a steel-string guitar fingerpicking (Travis style: the thumb alternates the root and
the fifth on the pulses, the fingers pick the upper strings between them), a second guitar
strumming in the chorus, a soft string section, an acoustic bass in boom-chick, light
percussion (side stick, shaker, tambourine), and a fiddle answering the voice.

**国风** (``pentatonic``): a guzheng (GM koto 107, or harp 46 when calm or romantic) rolling
pentatonic arpeggios whose off-beat notes take the neighbouring notes of the pentatonic scale,
with a glissando into each chorus; an erhu-like fiddle (110) answering the voice and playing
the hook over a tonic pedal in the intro; strings; a bass; wood blocks, a low tom for the
tanggu and a China cymbal.
"""

from __future__ import annotations

from collections.abc import Mapping

from yuefu.arrange.bass import bass_line
from yuefu.arrange.drums import KITS, drum_track
from yuefu.arrange.parts import RootVoicer, gap_fills, hook_range, sustain
from yuefu.arrange.patterns import (
    EPS,
    Bar,
    Hit,
    Song,
    Voicer,
    add_note,
    pick,
    play_hits,
    strum_rhythm,
    velocity,
)
from yuefu.arrange.recipe import StyleRecipe, merge_instruments
from yuefu.core.score import Track

__all__ = ["FOLK", "GUOFENG"]

_FOLK_BASE = {"lead": 73, "accompaniment": 25, "chords": 25, "bass": 32, "strings": 48, "counter": 110}
_FOLK_EMOTION = {
    "happy": {"chords": 105},
    "playful": {"chords": 105, "counter": 22},
    "sad": {"counter": 22, "accompaniment": 24},
    "nostalgic": {"counter": 22},
    "calm": {"accompaniment": 24, "counter": 71},
    "romantic": {"accompaniment": 24, "counter": 40},
    "epic": {"strings": 48},
    "excited": {"chords": 105},
}
_GUOFENG_BASE = {"lead": 73, "accompaniment": 107, "bass": 32, "strings": 49, "counter": 110}
_GUOFENG_EMOTION = {
    "calm": {"accompaniment": 46, "counter": 77},
    "romantic": {"accompaniment": 46, "counter": 40},
    "nostalgic": {"counter": 110},
    "sad": {"counter": 110, "strings": 49},
    "epic": {"strings": 48},
    "happy": {"counter": 110},
    "playful": {"counter": 110},
    "excited": {"strings": 48},
}


def folk_instruments(emotion: str, pentatonic: bool) -> dict[str, int]:
    """GM programs of a folk arrangement: role -> program (the 国风 set when ``pentatonic``)."""
    if pentatonic:
        return merge_instruments(_GUOFENG_BASE, _GUOFENG_EMOTION, emotion)
    return merge_instruments(_FOLK_BASE, _FOLK_EMOTION, emotion)


def _fingerpick(song: Song, track: Track) -> None:
    """Travis picking: thumb on the pulses (root on the strong beats, fifth between), fingers
    on the subdivisions."""
    g = song.grid
    L, sub = g.pulse_beats, g.sub_beats
    thumb = RootVoicer(low=40, high=52)
    fingers = Voicer(low=55, high=71, size=3)
    strong = g.strong_offsets()
    finger_order = (2, 1, 2, 0) if g.subs == 2 else (1, 2)

    def thumb_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.0, g.bar_beats, (0, 2), 2)]
        out = []
        for p in g.pulse_offsets():
            on_strong = any(abs(p - s) < EPS for s in strong)
            out.append(Hit(p, L, (0,) if on_strong else (1,), 2 if on_strong else -2))
        return out

    def finger_pattern(bar: Bar) -> list[Hit]:
        if bar.final:
            return [Hit(0.02, g.bar_beats, (0, 1, 2), 0, 0.04)]
        out = []
        k = 0
        for p in g.pulse_offsets():
            for s in range(1, g.subs):
                out.append(Hit(p + s * sub, 2 * sub, (finger_order[k % len(finger_order)],), -6))
                k += 1
        if bar.kind == "chorus":  # a pinch: the top string with the thumb on the downbeat
            out.append(Hit(0.0, L, (2,), -2))
        return out

    play_hits(track, song, song.bars, thumb_pattern, thumb, base_vel=70, rng=song.rng("thumb"))
    play_hits(track, song, song.bars, finger_pattern, fingers, base_vel=62, rng=song.rng("fingers"))


def build_folk(song: Song, programs: Mapping[str, int]) -> list[Track]:
    """Write every part of a Western folk arrangement but the vocal."""
    g = song.grid
    guitar = Track("guitar", program=programs["accompaniment"], role="accompaniment", gain_db=-3.0,
                   pan=-0.25)
    _fingerpick(song, guitar)

    strum = Track("strum", program=programs["chords"], role="chords", gain_db=-8.0, pan=0.4)
    strum_bars = [b for b in song.bars
                  if b.kind in ("chorus", "outro") or (b.kind == "bridge" and b.energy >= 0.6)]

    def strum_pattern(bar: Bar) -> list[Hit]:
        return [Hit(0.0, g.bar_beats, None, 0, 0.03)] if bar.final else strum_rhythm(g, roll=0.015)

    play_hits(strum, song, strum_bars, strum_pattern, Voicer(low=52, high=72, size=4), base_vel=62,
              rng=song.rng("strum"))

    strings = Track("strings", program=programs["strings"], role="strings", gain_db=-9.0)
    sustain(strings, song, [b for b in song.bars if b.kind in ("prechorus", "chorus", "bridge", "outro")],
            Voicer(low=55, high=76, size=3), base_vel=54)

    bass = bass_line(song, kind={"*": "folk", "verse": "folk" if song.energy >= 0.4 else "half"},
                     program=programs["bass"], kinds_off=("intro",), base_vel=84, gain_db=-2.0,
                     chromatic=0.1)
    drums = drum_track(song, KITS["folk"], gain_db=-6.0)
    counter = Track("counter", program=programs["counter"], role="counter", gain_db=-7.0, pan=0.3)
    lo, hi = hook_range(counter.program, vocal_median=song.vocal_median())
    gap_fills(counter, song, low=lo, high=hi, base_vel=62, kinds=("verse", "chorus", "bridge"),
              density=0.5, rng=song.rng("counter"))
    return [guitar, strum, strings, bass, drums, counter]


def _guzheng(song: Song, track: Track) -> None:
    """Rolling pentatonic arpeggios: chord tones on the pulses, the scale's neighbours between;
    a glissando up into the first bar of every chorus."""
    g = song.grid
    rng = song.rng("guzheng")
    voicer = Voicer(low=55, high=76, size=3)
    scale = song.scale_pcs()
    order = (0, 1, 2, 3, 4, 3, 2, 1)
    prev_pitch = None
    for bar in song.bars:
        if bar.final:
            span = song.span_at(bar.start)
            v = voicer.voice(span)
            for k, p in enumerate((v[0] - 12, *v, v[0] + 12)):
                add_note(track, p, bar.start + 0.05 * k, g.bar_beats - 0.05 * k,
                         velocity(70, song, bar.start, accent_scale=0))
            continue
        dense = (bar.kind == "chorus" and bar.energy >= 0.6 and not g.compound)
        step = g.sub_beats / 2 if dense else g.sub_beats
        n = int(round(g.bar_beats / step))
        for i in range(n):
            on = bar.start + i * step
            span = song.span_at(on)
            v = voicer.voice(span)
            p = pick(v, order[i % len(order)])
            accent = g.accent(on - bar.start)
            if accent < 1 and rng.random() < 0.35 and prev_pitch is not None:
                # a pentatonic neighbour of the previous note, in the direction of travel
                up = p >= prev_pitch
                cands = [q for q in range(prev_pitch + (1 if up else -1), prev_pitch + (5 if up else -5),
                                          1 if up else -1) if q % 12 in scale]
                if cands:
                    p = cands[0]
            vel = velocity(70 + (4 if accent >= 1 else -4), song, on, rng=rng, accent_scale=0.5)
            add_note(track, p, on, min(3 * step, bar.end - on), vel)
            prev_pitch = p
        nxt = song.next_bar(bar)
        if nxt is not None and nxt.first and nxt.kind == "chorus":
            _gliss(song, track, bar, nxt, voicer, scale)


def _gliss(song: Song, track: Track, bar: Bar, nxt: Bar, voicer: Voicer, scale: tuple[int, ...]) -> None:
    """A pentatonic glissando over the last half pulse of ``bar`` up to the next chord."""
    target = voicer.voice(song.span_at(nxt.start))[-1] + 12
    notes = [q for q in range(target - 19, target) if q % 12 in scale][-9:]
    span_beats = song.grid.pulse_beats / 2
    start = bar.end - span_beats
    track.notes = [n for n in track.notes if not (start - EPS <= n.onset < bar.end)]
    for k, q in enumerate(notes):
        on = start + span_beats * k / len(notes)
        add_note(track, q, on, 0.5, 52 + 4 * k)


def build_guofeng(song: Song, programs: Mapping[str, int]) -> list[Track]:
    """Write every part of a 国风 folk arrangement but the vocal."""
    guzheng = Track("guzheng", program=programs["accompaniment"], role="accompaniment", gain_db=1.0,
                    pan=-0.3)
    _guzheng(song, guzheng)
    strings = Track("strings", program=programs["strings"], role="strings", gain_db=-7.0)
    s_bars = [b for b in song.bars if b.kind in ("prechorus", "chorus", "bridge", "outro")
              or (b.kind == "verse" and b.occurrence >= 1)]
    sustain(strings, song, s_bars, Voicer(low=55, high=79, size=3), base_vel=56, top_double=True)
    bass = bass_line(song, kind={"*": "half", "intro": "sustain", "verse": "sustain"},
                     program=programs["bass"], base_vel=80, gain_db=-3.0, legato=0.98,
                     chromatic=0.0)
    drums = drum_track(song, KITS["guofeng"], gain_db=-6.0)
    counter = Track("counter", program=programs["counter"], role="counter", gain_db=-5.0, pan=0.3)
    lo, hi = hook_range(counter.program, vocal_median=song.vocal_median())
    gap_fills(counter, song, low=lo, high=hi, base_vel=64, kinds=("verse", "chorus", "bridge"),
              density=0.6, rng=song.rng("counter"))
    return [guzheng, strings, bass, drums, counter]


FOLK = StyleRecipe("folk", intro_bars=4, outro_bars=3, intro_source="chorus_head", ritardando=True,
                   instruments=folk_instruments, build=build_folk,
                   parts={"accompaniment": "comp", "chords": "comp", "strings": "sustain",
                          "bass": "bass", "counter": "line"})
GUOFENG = StyleRecipe("folk", intro_bars=4, outro_bars=3, intro_source="pedal", ritardando=True,
                      instruments=folk_instruments, build=build_guofeng,
                      parts={"accompaniment": "arp", "strings": "sustain", "bass": "bass", "counter": "line"})
