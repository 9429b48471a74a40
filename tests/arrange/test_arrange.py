"""arrange(): form, chords, bass, accompaniment, drums, dynamics, determinism, errors."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest
from arrange_melodies import make_melody

from yuefu.arrange import STYLE_RECIPES, arrange, section_kind, style_instruments
from yuefu.core.errors import ParameterError
from yuefu.core.motive import Motive
from yuefu.core.score import ChordSymbol, Score, Track
from yuefu.core.spec import EMOTIONS, STYLES
from yuefu.core.theory import Key, parse_chord
from yuefu.render.mix import default_mix_settings

METERS = [(4, 4), (3, 4), (6, 8)]
DRUM_STYLES = ("pop", "ballad", "folk", "rock", "electronic", "children")
TOL = 0.04  # beats: an onset this close to a strong beat counts as on it (strums roll a little)


def _motive(style, meter, **kw):
    feel = "compound" if meter in ((6, 8), (12, 8)) else "straight"
    kw.setdefault("energy", 0.5)
    return Motive(style=style, meter=meter, feel=feel, **kw)


def _song(style, meter=(4, 4), seed=7, **kw):
    melody, chords = make_melody(meter)
    return melody, arrange(melody, chords, _motive(style, meter, **kw), seed=seed)


def _strong_offsets(score: Score) -> list[float]:
    ts = score.time_signatures[0]
    bar = ts.bar_beats
    return [0.0, bar / 2] if (ts.numerator, ts.denominator) in ((4, 4), (6, 8), (2, 4), (12, 8)) else [0.0]


def _on_strong(score: Score, beat: float) -> bool:
    bar = score.time_signatures[0].bar_beats
    off = beat % bar
    return any(min(abs(off - s), abs(off - s - bar)) <= TOL for s in _strong_offsets(score))


def _chord(score: Score, beat: float):
    return parse_chord(score.chord_at(beat + TOL).symbol)


def _bars(score: Score, name: str) -> list[tuple[float, float]]:
    """(start, end) of every bar of the sections with this kind."""
    bar = score.time_signatures[0].bar_beats
    secs = sorted(score.sections, key=lambda s: s.beat)
    out = []
    for i, s in enumerate(secs):
        end = secs[i + 1].beat if i + 1 < len(secs) else score.end_beat
        if section_kind(s.name) == name:
            b = s.beat
            while b < end - 1e-6:
                out.append((b, b + bar))
                b += bar
    return out


def _section_spans(score: Score) -> list[tuple[str, float, float]]:
    secs = sorted(score.sections, key=lambda s: s.beat)
    return [(s.name, s.beat, secs[i + 1].beat if i + 1 < len(secs) else score.end_beat)
            for i, s in enumerate(secs)]


CASES = list(itertools.product(STYLES, METERS))


@pytest.mark.parametrize("style, meter", CASES)
def test_vocal_kept_and_shifted_by_the_intro(style, meter):
    melody, song = _song(style, meter)
    vocal = song.track("vocal")
    assert vocal.role == "vocal"
    intro = next(s for s in song.sections if s.name == "intro")
    shift = min(s.beat for s in song.sections if s.name == "verse") - intro.beat
    bar = song.time_signatures[0].bar_beats
    assert 2 * bar <= shift <= 4 * bar  # a 2..4-bar intro
    want = [(n.pitch, n.onset + shift, n.duration, n.velocity, n.lyric) for n in melody.track("vocal").notes]
    got = [(n.pitch, n.onset, n.duration, n.velocity, n.lyric) for n in vocal.notes]
    assert [g[:1] + g[2:] for g in got] == [w[:1] + w[2:] for w in want]
    assert np.allclose([g[1] for g in got], [w[1] for w in want], atol=1e-6)
    # tempo, meter and key travel with the song
    assert song.tempos[0].bpm == melody.tempos[0].bpm
    assert (song.time_signatures[0].numerator, song.time_signatures[0].denominator) == meter
    assert song.key_at(0) == Key.parse("C major")


@pytest.mark.parametrize("style, meter", CASES)
def test_intro_outro_and_tonic_ending(style, meter):
    melody, song = _song(style, meter)
    names = [s.name for s in sorted(song.sections, key=lambda s: s.beat)]
    assert names == ["intro", "verse", "chorus", "verse", "chorus", "outro"]
    bar = song.time_signatures[0].bar_beats
    outro = next(s for s in song.sections if s.name == "outro")
    assert 2 * bar <= song.end_beat - outro.beat <= 4 * bar + 1e-6
    # the chords cover the song, and the last one is the tonic chord, on the last bar
    assert song.chords[0].beat == 0.0
    last = parse_chord(song.chords[-1].symbol)
    assert last.root == 0 and song.chords[-1].beat == pytest.approx(song.end_beat - bar)
    # every pitched part that sounds in the last bar ends on a tone of the tonic chord
    final_bar = song.end_beat - bar
    for t in song.tracks:
        if t.is_drum or t.name == "vocal":
            continue
        last_notes = [n for n in t.notes if n.onset >= final_bar - 1e-6]
        assert all(n.pitch % 12 in last.pitch_classes for n in last_notes), t.name
    # the bass (or the left hand) ends on the tonic
    low = _bass_track(song)
    assert min(n.pitch for n in low.notes if n.onset >= final_bar - 1e-6) % 12 == 0


def _bass_track(song: Score) -> Track:
    basses = song.tracks_with_role("bass")
    if basses:
        return basses[0]
    return song.track("piano_lh")


@pytest.mark.parametrize("style, meter", CASES)
def test_bass_plays_roots_on_strong_beats(style, meter):
    _, song = _song(style, meter)
    bass = _bass_track(song)
    strong = [n for n in bass.notes if _on_strong(song, n.onset)]
    # with the left hand, only its lowest note at each strong beat is the bass
    lowest: dict[float, int] = {}
    for n in strong:
        k = round(n.onset, 3)
        lowest[k] = min(lowest.get(k, 128), n.pitch)
    assert len(lowest) >= 8
    hits = 0
    for beat, pitch in lowest.items():
        c = _chord(song, beat)
        hits += pitch % 12 == (c.bass if c.bass is not None else c.root)
    assert hits / len(lowest) >= 0.8, f"{hits}/{len(lowest)} strong-beat bass notes are roots"


@pytest.mark.parametrize("style, meter", CASES)
def test_accompaniment_sounds_chord_tones_on_strong_beats(style, meter):
    _, song = _song(style, meter)
    parts = [t for t in song.tracks if t.role in ("chords", "accompaniment", "pad", "strings")]
    assert parts
    total = good = 0
    for t in parts:
        for n in t.notes:
            if _on_strong(song, n.onset):
                total += 1
                good += n.pitch % 12 in _chord(song, n.onset).pitch_classes
    assert total >= 16
    assert good / total >= 0.9, f"{good}/{total} strong-beat accompaniment notes are chord tones"


@pytest.mark.parametrize("style, meter", list(itertools.product(DRUM_STYLES, METERS)))
def test_drums_fill_the_last_bar_of_each_section(style, meter):
    _, song = _song(style, meter)
    drums = [t for t in song.tracks if t.is_drum]
    assert len(drums) == 1 and drums[0].role == "drums" and len(drums[0].notes) > 40
    onsets = np.array([n.onset for n in drums[0].notes])
    bar = song.time_signatures[0].bar_beats
    spans = _section_spans(song)
    checked = 0
    for i, (name, a, z) in enumerate(spans[:-1]):  # the outro ends on one hit, not a fill
        nxt_a, nxt_z = spans[i + 1][1], spans[i + 1][2]
        counts = [int(np.sum((onsets >= b - 1e-6) & (onsets < b + bar - 1e-6)))
                  for b in np.arange(a, z - 1e-6, bar)]
        leads_in = np.any((onsets >= nxt_a) & (onsets < nxt_z - bar))
        if sum(counts[:-1]) == 0 and not leads_in:
            continue  # a section without drums leading to one without drums
        assert counts[-1] > np.mean(counts[:-1]), f"{name}: {counts}"
        checked += 1
    assert checked >= 3
    # a crash on the first beat of each section with drums after the intro
    crash = {round(n.onset, 3) for n in drums[0].notes if n.pitch in (49, 52, 57)}
    for name, a, _ in spans[1:]:
        if np.any((onsets >= a + 1e-6) & (onsets < a + bar)):  # drums play in its first bar
            assert round(a, 3) in crash, name


def test_ballad_verse_without_drums_and_classical_without_drums():
    _, song = _song("ballad")
    drums = song.track("drums")
    for a, z in _bars(song, "verse")[:-1]:
        in_bar = [n for n in drums.notes if a - 1e-6 <= n.onset < z - 1e-6]
        assert not in_bar or a == _bars(song, "verse")[3][0]  # only the verse's last bar fills
    _, piano = _song("classical_piano")
    assert not any(t.is_drum for t in piano.tracks)
    assert not piano.tracks_with_role("bass")


@pytest.mark.parametrize("style, meter", CASES)
def test_chorus_is_denser_and_louder_than_the_verse(style, meter):
    _, song = _song(style, meter)
    stats = {}
    for kind in ("verse", "chorus"):
        bars = _bars(song, kind)
        notes = [n for t in song.tracks if t.name != "vocal" for n in t.notes
                 if any(a - 1e-6 <= n.onset < z - 1e-6 for a, z in bars)]
        stats[kind] = (len(notes) / len(bars), float(np.mean([n.velocity for n in notes])))
    assert stats["chorus"][0] > stats["verse"][0], stats
    assert stats["chorus"][1] > stats["verse"][1], stats


@pytest.mark.parametrize("style", STYLES)
def test_same_seed_same_song_other_seed_other_song(style):
    def key(s: Score):
        return [(t.name, t.program, t.role, t.gain_db, t.pan,
                 [(n.pitch, n.onset, n.duration, n.velocity, n.lyric) for n in t.notes]) for t in s.tracks]

    _, a = _song(style, seed=11)
    _, b = _song(style, seed=11)
    _, c = _song(style, seed=12)
    assert key(a) == key(b)
    assert [(ch.beat, ch.symbol) for ch in a.chords] == [(ch.beat, ch.symbol) for ch in b.chords]
    assert key(a) != key(c)


@pytest.mark.parametrize("style, meter", CASES)
def test_every_track_is_renderable_and_mixed(style, meter):
    _, song = _song(style, meter)
    names = [t.name for t in song.tracks]
    assert len(names) == len(set(names)) and len(names) >= 3
    for t in song.tracks:
        assert t.role in ("vocal", "chords", "accompaniment", "bass", "drums", "pad", "strings", "counter")
        assert 0 <= t.program <= 127 and -1 <= t.pan <= 1 and -20 <= t.gain_db <= 6
        assert all(0 <= n.pitch <= 127 and 1 <= n.velocity <= 127 and n.duration > 0 for n in t.notes)
        by_pitch = defaultdict(list)
        for n in t.notes:
            by_pitch[n.pitch].append(n)
        for seq in by_pitch.values():  # the same key never re-struck while it still sounds
            seq.sort(key=lambda n: n.onset)
            assert all(x.end <= y.onset + 1e-6 for x, y in zip(seq, seq[1:], strict=False)), t.name
        assert all(n.end <= song.end_beat + 1e-6 for n in t.notes)
    # the vocal's fader is the highest (role default plus the track's gain), the bass sits in the centre
    faders = {t.name: default_mix_settings(t).gain_db for t in song.tracks}
    assert all(g <= faders["vocal"] for g in faders.values()), faders
    for b in song.tracks_with_role("bass"):
        assert b.pan == 0.0 and max(n.pitch for n in b.notes) <= 60
        assert np.median([n.pitch for n in b.notes]) <= 48


@pytest.mark.parametrize("style", STYLES)
def test_intro_hook_and_outro_echo(style):
    _, song = _song(style)
    hook = song.track(STYLE_RECIPES[style].hook)
    intro_end = min(s.beat for s in song.sections if s.name == "verse")
    outro = next(s.beat for s in song.sections if s.name == "outro")
    assert sum(n.onset < intro_end for n in hook.notes) >= 3
    assert sum(n.onset >= outro for n in hook.notes) >= 2
    assert max(hook.notes, key=lambda n: n.onset).pitch % 12 == 0  # the echo ends on the tonic


def test_classical_piano_uses_only_pianos():
    for meter in METERS:
        melody, chords = make_melody(meter)
        motive = Motive(style="classical_piano", meter=meter,
                        instruments={"lead": 73, "counter": 40, "bass": 33})
        song = arrange(melody, chords, motive)
        assert all(0 <= t.program <= 7 for t in song.tracks)
        assert {t.name for t in song.tracks} == {"vocal", "piano_lh", "piano_rh"}


def test_motive_instruments_override_the_table():
    melody, chords = make_melody()
    song = arrange(melody, chords, Motive(style="pop", instruments={"lead": 66, "bass": 35, "pad": 50}))
    assert song.track("vocal").program == 66
    assert song.track("bass").program == 35 and song.track("pad").program == 50
    assert song.track("piano").program == style_instruments("pop", "happy")["chords"]


def test_guofeng_colour_for_pentatonic_folk():
    melody, chords = make_melody()
    motive = Motive(style="folk", palette="pentatonic", emotion="nostalgic", language="zh")
    song = arrange(melody, chords, motive, seed=2)
    guzheng = song.track("guzheng")
    assert guzheng.program == 107 and song.track("counter").program == 110
    # off-beat notes of the guzheng stay in the C major pentatonic scale
    pent = {0, 2, 4, 7, 9}
    off = [n for n in guzheng.notes if not _on_strong(song, n.onset)]
    body = [n for n in off if n.onset >= 16]
    in_scale = sum(n.pitch % 12 in pent or n.pitch % 12 in _chord(song, n.onset).pitch_classes for n in body)
    assert in_scale / len(body) >= 0.95
    # the intro is a tonic pedal, and a glissando runs into each chorus
    intro_chords = [c.symbol for c in song.chords if c.beat < 16]
    assert intro_chords == ["C"]
    for a, _ in [b for b in _bars(song, "chorus")][::4]:
        run = sorted(n.pitch for n in guzheng.notes if a - 0.5 - 1e-6 <= n.onset < a)
        assert len(run) >= 6


def test_ballad_slows_down_at_the_end():
    _, song = _song("ballad")
    assert song.tempos[0].bpm == 100.0
    assert song.tempos[-1].bpm < 90.0 and song.tempos[-1].beat > song.end_beat - 8


def test_counter_answers_in_the_gaps_not_over_the_voice():
    _, song = _song("folk", seed=3)
    vocal = song.track("vocal")
    intro_end = min(s.beat for s in song.sections if s.name == "verse")
    outro = next(s.beat for s in song.sections if s.name == "outro")
    fills = [n for n in song.track("counter").notes if intro_end <= n.onset < outro]
    assert len(fills) >= 6
    for n in fills:
        assert not any(v.onset < n.end - 1e-6 and n.onset < v.end - 1e-6 for v in vocal.notes)


@pytest.mark.parametrize("meter, feel", [((4, 4), "swing"), ((4, 4), "halftime"), ((4, 4), "compound"),
                                         ((12, 8), "compound"), ((2, 4), "straight")])
@pytest.mark.parametrize("style", ["pop", "rock", "electronic", "folk"])
def test_other_meters_and_feels(style, meter, feel):
    melody, chords = make_melody(meter)
    song = arrange(melody, chords, Motive(style=style, meter=meter, feel=feel, energy=0.6), seed=5)
    assert [s.name for s in song.sections][0] == "intro" and song.sections[-1].name == "outro"
    bass = song.track("bass")
    strong = [n for n in bass.notes if _on_strong(song, n.onset)]
    roots = sum(n.pitch % 12 == (_chord(song, n.onset).bass if _chord(song, n.onset).bass is not None
                                 else _chord(song, n.onset).root) for n in strong)
    assert roots / len(strong) >= 0.8
    if feel == "swing":  # off-beat eighths are pushed late
        offs = {round(n.onset % 1.0, 3) for t in song.tracks if t.role in ("bass", "chords", "accompaniment")
                for n in t.notes}
        assert 0.667 in offs and 0.5 not in offs


@pytest.mark.parametrize("energy", [0.05, 0.3, 0.8, 1.0])
def test_energy_extremes(energy):
    for style in STYLES:
        melody, chords = make_melody()
        song = arrange(melody, chords, Motive(style=style, energy=energy), seed=1)
        assert song.n_notes > len(melody.track("vocal").notes)


def test_extreme_registers_stay_in_midi_range():
    for shift in (-40, 40):
        melody, chords = make_melody(shift=shift)
        for style in STYLES:
            song = arrange(melody, chords, Motive(style=style), seed=0)
            assert all(0 <= n.pitch <= 127 for t in song.tracks for n in t.notes)


def test_intro_and_outro_lengths_and_chords_from_the_chorus():
    melody, chords = make_melody()
    song = arrange(melody, chords, Motive(style="pop"), intro_bars=2, outro_bars=3)
    assert [c.symbol for c in song.chords if c.beat < 8] == ["F", "G"]  # the chorus's first bars
    assert song.end_beat == pytest.approx(8 + 64 + 12)
    bare = arrange(melody, chords, Motive(style="pop"), intro_bars=0, outro_bars=0)
    assert [s.name for s in bare.sections] == ["verse", "chorus", "verse", "chorus"]
    assert bare.track("vocal").notes[0].onset == melody.track("vocal").notes[0].onset


def test_chords_default_to_the_melodys_and_accept_pairs():
    melody, chords = make_melody()
    a = arrange(melody, [], Motive(style="pop"), seed=4)
    b = arrange(melody, [(c.beat, c.symbol) for c in chords], Motive(style="pop"), seed=4)
    c = arrange(melody, [{"beat": c.beat, "symbol": c.symbol} for c in chords], Motive(style="pop"), seed=4)
    assert [x.symbol for x in a.chords] == [x.symbol for x in b.chords] == [x.symbol for x in c.chords]


def test_bad_input_is_one_clear_parameter_error():
    melody, chords = make_melody()
    empty = Score()
    empty.add_track(Track("vocal", role="vocal"))
    with pytest.raises(ParameterError, match="no notes"):
        arrange(empty, chords, Motive())
    with pytest.raises(ParameterError, match="not a chord symbol"):
        arrange(melody, [(0.0, "H7")], Motive())
    with pytest.raises(ParameterError, match="unknown chord quality"):
        arrange(melody, [(0.0, "Cblah")], Motive())
    with pytest.raises(ParameterError, match="chord #0"):
        arrange(melody, [42], Motive())
    bare = make_melody()[0]
    bare.chords = []
    with pytest.raises(ParameterError, match="no chords"):
        arrange(bare, [], Motive())
    motive = Motive()
    object.__setattr__(motive, "style", "jazz")  # e.g. a motive.json from a newer version
    with pytest.raises(ParameterError, match="unknown style 'jazz'; valid: pop"):
        arrange(melody, chords, motive)
    with pytest.raises(ParameterError, match="intro_bars"):
        arrange(melody, chords, Motive(), intro_bars=-1)
    with pytest.raises(ParameterError, match="seed"):
        arrange(melody, chords, Motive(), seed=-3)
    with pytest.raises(ParameterError, match="melody must be a Score"):
        arrange("melody.mid", chords, Motive())
    for err in (ParameterError,):
        try:
            arrange(empty, chords, Motive())
        except err as e:
            assert "\n" not in str(e)


def test_style_instruments_table():
    for style, emotion in itertools.product(STYLES, EMOTIONS):
        for pent in (False, True):
            table = style_instruments(style, emotion, pentatonic=pent)
            assert "lead" in table and all(0 <= p <= 127 for p in table.values())
            if style == "classical_piano":
                assert all(p <= 7 for p in table.values())
            else:
                assert "bass" in table
    assert style_instruments("folk", "sad", pentatonic=True)["counter"] == 110
    with pytest.raises(ParameterError, match="unknown style"):
        style_instruments("polka", "happy")
    with pytest.raises(ParameterError, match="unknown emotion"):
        style_instruments("pop", "bored")


def test_chord_symbols_are_valid_and_follow_the_melody():
    melody, chords = make_melody()
    song = arrange(melody, chords, Motive(style="rock"), intro_bars=4)
    body = [(c.beat - 16, c.symbol) for c in song.chords if 16 <= c.beat < 16 + 64]
    assert body == [(c.beat, c.symbol) for c in chords]
    assert all(isinstance(c, ChordSymbol) for c in song.chords)


def test_instruments_that_do_not_suit_a_part_are_not_used():
    melody, chords = make_melody()
    kids = arrange(melody, chords, Motive(style="children", instruments={"accompaniment": 9, "counter": 13}))
    assert kids.track("piano").program == style_instruments("children", "happy")["accompaniment"]
    assert kids.track("counter").program == 13
    zh = Motive(style="folk", palette="pentatonic",
                instruments={"lead": 77, "strings": 110, "accompaniment": 46})
    song = arrange(melody, chords, zh)
    assert song.track("strings").program == 49  # an erhu does not hold chords: the string section does
    assert song.track("guzheng").program == 46  # a harp may play the guzheng's arpeggios
    assert song.track("vocal").program == 77
    # the counter-line never doubles the lead's colour
    rock = arrange(melody, chords, Motive(style="rock", instruments={"lead": 29}))
    assert rock.track("counter").program != 29
    # the Motive's untouched default instruments leave the style's own table in charge
    plain = arrange(melody, chords, Motive(style="rock"))
    assert plain.track("guitar").program == style_instruments("rock", "happy")["chords"]


def test_strings_swell_into_the_chorus():
    _, song = _song("pop")
    pad = song.track("pad")
    verse2 = _bars(song, "verse")[4:]
    firsts = [max(n.velocity for n in pad.notes if abs(n.onset - a) < 1e-6) for a, _ in verse2]
    assert firsts == sorted(firsts) and firsts[-1] >= firsts[0] + 10
    chorus = _bars(song, "chorus")
    top = max(n.pitch for n in pad.notes if chorus[0][0] <= n.onset < chorus[0][1])
    assert top > max(n.pitch for n in pad.notes if verse2[0][0] <= n.onset < verse2[0][1])  # fuller
