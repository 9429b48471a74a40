"""MusicXML scores through music21 (no MuseScore needed).

Writing builds the measures itself (one ``<part>`` per track; notes split at barlines and into
note values a reader can notate, and tied; simultaneous notes as chords; overlapping notes in
voices), spells pitches for the key and marks the accidentals to show, beams through music21's
time signatures, and lets music21 bracket tuplets and serialise. Onsets and ends are quantised to
the nearest 1/12 beat (triplets) unless they already lie on the 1/8-beat grid (32nd notes), so
an unusual duration comes out as tied notes rather than an error.

What MusicXML says natively travels natively: track names (part names), GM programs
(``<midi-program>``), drum tracks (a percussion part with unpitched notes placed and shaped as in
a drum chart, each bound to a ``<midi-unpitched>`` instrument), tempo marks, meters, keys
(``<key>`` with its mode where MusicXML has one), lyrics (``<syllabic>``: a syllable ending in
``-`` continues a word; a melisma ``-`` is an ``<extend>`` line), chord symbols (``<harmony>``, in
the lead part), sections (rehearsal marks), words over the staff (``<words>``: tempo words such
as rit. and a tempo, characters such as dolce; ``Score.directions``, in the first part), the
title (``<work-title>``), gain and pan
(``<volume>``, ``<pan>``) and velocity (the note's ``dynamics`` attribute; members of a chord share
the loudest member's velocity). What it cannot say (track roles, exact gain and pan, modes such as
``gong`` or ``blues`` that have no MusicXML ``<mode>``) travels as one JSON
``<miscellaneous-field name="yuefu">`` that other programs ignore.

A track whose notes carry a staff (``Note.staff``, as a piano part read from MusicXML does) is
written as one part of that many staves, each note on its own; reading gives each note of a part
of several staves its staff (1 = the top one), and a one-staff part's notes none.

Reading parses with music21, merges tied notes, splits chords, and turns harmony, rehearsal marks,
tempo, meter and key marks back into the score's events. Notes of a file without ``dynamics``
come back at velocity 90 (``Note``'s default); only the first lyric
verse is read. A trill, mordent (upper or lower) or turn sign over a note is its ``Note.ornament``
(over a chord: its top note's), and is written back (a mordent as the lower one); grace notes
are read as the ``Note.grace`` pitches of the note (of a chord: the member nearest them) they lead
into, in the same voice, and written back as grace eighths. Staccato, staccatissimo (and
spiccato), tenuto, portato (staccato and tenuto), accent and marcato marks, a fermata and an
arpeggio sign (a rolled chord, on one staff or across both) are the note's ``Note.articulations``
(over a chord: every member's), and are written back (an arpeggio across staves as one per staff).
A fermata over a rest is a beat of ``Score.fermatas``; the sustain pedal's marks (``<pedal>``
start, change, stop, discontinue, resume) are the part's ``Track.pedals``; both are written back.

A note without a ``dynamics`` attribute (most files: MuseScore and Sibelius write the marks, not
the attribute) takes its velocity from the part's dynamic marks (:data:`DYNAMIC_VELOCITY`, the
levels MuseScore plays them at; ``sf``-like marks louden only the notes struck at them, ``fp``
and the like then drop to ``p``), the hairpins between them (the velocity moves linearly from the
level where a crescendo or diminuendo starts to the next mark's, when a mark follows within a beat
of its end, else by :data:`HAIRPIN_STEP`) and its accent (``+12``) or marcato (``+20``); the marks
of a piano part's staves all count for both hands. A part without any keeps velocity 90.

>>> import tempfile, pathlib
>>> from yuefu.core.score import Note, Score, Track
>>> s = Score(title="月")
>>> t = s.add_track(Track("voice", program=52, role="vocal"))
>>> t.notes.append(Note(69, 0.0, 1.5, lyric="月"))
>>> p = write_musicxml(s, pathlib.Path(tempfile.mkdtemp()) / "a.musicxml")
>>> back = read_musicxml(p)
>>> back.title, back.tracks[0].notes[0].lyric, back.tracks[0].notes[0].duration
('月', '月', 1.5)
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import functools
import io
import json
import math
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from yuefu.core.errors import ParameterError, ScoreLoadError
from yuefu.core.files import atomic_output, read_input
from yuefu.core.score import (
    ARTICULATIONS,
    ROLES,
    ChordSymbol,
    Direction,
    KeySignature,
    Note,
    Pedal,
    Score,
    Section,
    Tempo,
    TimeSignature,
    Track,
    pedal_marks,
)
from yuefu.core.theory import Key, parse_chord

__all__ = ["write_musicxml", "read_musicxml", "read_musicxml_as_played", "read_musicxml_measures",
           "musicxml_bytes", "score_from_musicxml_bytes"]

#: The finest grid that writing keeps, in beats: 1/12 (triplet 32nds); 1/8 (32nds) is kept too.
GRID_BEATS = Fraction(1, 12)

_META_FIELD = "yuefu"
_MELISMA = "-"
_EPS = 1e-6

# -- pitch spelling --------------------------------------------------------------------------
_SHARP_SPELL = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_SPELL = ("C", "D-", "D", "E-", "E", "F", "G-", "G", "A-", "A", "B-", "B")
_NEUTRAL_SPELL = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
_STEP_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# -- drums -----------------------------------------------------------------------------------
#: GM percussion key -> (display step, display octave, notehead), as on a drum chart. Keys not
#: listed are placed at their own pitch with a triangle notehead (inverted for black keys), so
#: every key 0..127 has its own look and reads back as the same key.
_DRUM_DISPLAY: dict[int, tuple[str, int, str]] = {
    35: ("E", 4, "normal"), 36: ("F", 4, "normal"), 37: ("C", 5, "x"), 38: ("C", 5, "normal"),
    39: ("B", 4, "x"), 40: ("B", 4, "normal"), 41: ("G", 4, "normal"), 42: ("G", 5, "x"),
    43: ("A", 4, "normal"), 44: ("D", 4, "x"), 45: ("D", 5, "normal"), 46: ("G", 5, "circle-x"),
    47: ("E", 5, "normal"), 48: ("F", 5, "normal"), 49: ("A", 5, "x"), 50: ("G", 5, "normal"),
    51: ("F", 5, "x"), 52: ("C", 6, "x"), 53: ("F", 5, "diamond"), 54: ("E", 5, "x"),
    55: ("A", 5, "circle-x"), 56: ("E", 5, "diamond"), 57: ("B", 5, "x"), 59: ("D", 5, "x"),
}
_DRUM_FROM_DISPLAY = {v: k for k, v in _DRUM_DISPLAY.items()}
_GM_DRUM_NAMES = (
    "Acoustic Bass Drum", "Bass Drum 1", "Side Stick", "Acoustic Snare", "Hand Clap",
    "Electric Snare", "Low Floor Tom", "Closed Hi-Hat", "High Floor Tom", "Pedal Hi-Hat",
    "Low Tom", "Open Hi-Hat", "Low-Mid Tom", "Hi-Mid Tom", "Crash Cymbal 1", "High Tom",
    "Ride Cymbal 1", "Chinese Cymbal", "Ride Bell", "Tambourine", "Splash Cymbal", "Cowbell",
    "Crash Cymbal 2", "Vibraslap", "Ride Cymbal 2", "Hi Bongo", "Low Bongo", "Mute Hi Conga",
    "Open Hi Conga", "Low Conga", "High Timbale", "Low Timbale", "High Agogo", "Low Agogo",
    "Cabasa", "Maracas", "Short Whistle", "Long Whistle", "Short Guiro", "Long Guiro", "Claves",
    "Hi Wood Block", "Low Wood Block", "Mute Cuica", "Open Cuica", "Mute Triangle",
    "Open Triangle",
)  # keys 35..81


def _drum_name(key: int) -> str:
    return _GM_DRUM_NAMES[key - 35] if 35 <= key <= 81 else f"Percussion {key}"


def _drum_display(key: int) -> tuple[str, int, str]:
    if key in _DRUM_DISPLAY:
        return _DRUM_DISPLAY[key]
    name = _SHARP_SPELL[key % 12]
    octave = key // 12 - 1
    black = len(name) > 1
    if octave < 0:  # MusicXML display octaves are 0..9
        return name[0], 0, "rectangle" if black else "square"
    return name[0], octave, "inverted triangle" if black else "triangle"


def _drum_key(step: str, octave: int, notehead: str) -> int:
    found = _DRUM_FROM_DISPLAY.get((step, octave, notehead))
    if found is not None:
        return found
    base = (octave + 1) * 12 + _STEP_PC.get(step, 0)
    if notehead in ("square", "rectangle"):
        base = _STEP_PC.get(step, 0)
    if notehead in ("inverted triangle", "rectangle"):
        base += 1
    return max(0, min(127, base))


# -- chord symbols ---------------------------------------------------------------------------
#: yuefu chord quality -> (MusicXML kind, added degree or None, its alteration in semitones
#: from the major-scale degree). Only kinds of the MusicXML schema are written.
_Kind = tuple[str, int | None, int]
_KIND_OF_QUALITY: dict[str, _Kind] = {
    "": ("major", None, 0), "m": ("minor", None, 0), "dim": ("diminished", None, 0),
    "aug": ("augmented", None, 0), "sus2": ("suspended-second", None, 0),
    "sus4": ("suspended-fourth", None, 0), "5": ("power", None, 0),
    "6": ("major-sixth", None, 0), "m6": ("minor-sixth", None, 0),
    "7": ("dominant", None, 0), "maj7": ("major-seventh", None, 0),
    "m7": ("minor-seventh", None, 0), "mmaj7": ("major-minor", None, 0),
    "m7b5": ("half-diminished", None, 0), "dim7": ("diminished-seventh", None, 0),
    "7sus4": ("suspended-fourth", 7, -1),  # sus4 add b7
    "add9": ("major", 9, 0), "madd9": ("minor", 9, 0), "9": ("dominant-ninth", None, 0),
    "maj9": ("major-ninth", None, 0), "m9": ("minor-ninth", None, 0),
}
#: (kind as music21 reads it, added degree, alteration) -> yuefu quality
_QUALITY_OF_KIND: dict[_Kind, str] = {v: k for k, v in _KIND_OF_QUALITY.items()}
_QUALITY_OF_KIND.update({
    ("dominant-seventh", None, 0): "7", ("minor-major-seventh", None, 0): "mmaj7",
    ("major-minor-seventh", None, 0): "mmaj7", ("half-diminished-seventh", None, 0): "m7b5",
    ("suspended-fourth-seventh", None, 0): "7sus4",  # music21's own name, not MusicXML's
    ("dominant-seventh", 9, 0): "9", ("dominant", 9, 0): "9",
})


def _m21_name(pc_name: str) -> str:
    """'Bb' -> 'B-' (music21 spells flats with '-')."""
    return pc_name[0] + pc_name[1:].replace("b", "-").replace("♭", "-").replace("♯", "#")


def _yuefu_name(m21_name: str) -> str:
    return m21_name[0] + m21_name[1:].replace("-", "b")


# -- modes -----------------------------------------------------------------------------------
_XML_MODES = ("major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian")
_MODE_FROM_XML = {"ionian": "major", "aeolian": "minor"}


# -- quantisation and note values --------------------------------------------------------------
def _q(beat: float) -> Fraction:
    """Snap a beat position to the 1/8 grid when it lies on it, else to the nearest 1/12."""
    b8 = beat * 8.0
    r8 = round(b8)
    if abs(b8 - r8) < _EPS:
        return Fraction(r8, 8)
    return Fraction(round(beat * 12.0), 12)


def _note_values() -> list[tuple[Fraction, Fraction, Fraction]]:
    """(duration, alignment for notes, alignment for rests) of every value we write.

    Longest first. A note may start off the beat (syncopation: a quarter on an off-beat eighth);
    a rest starts where its own value, or the beat, falls, and a dotted rest only where twice
    its undotted value falls (a dotted-quarter rest at the start of a 6/8 bar, not mid-bar).
    """
    out: set[tuple[Fraction, Fraction, Fraction]] = set()
    for k in range(2, -5, -1):  # whole .. 64th
        v = Fraction(2) ** k
        strict = min(v, Fraction(1))
        out.add((v, strict / 2, strict))
        if k > -4:
            out.add((v * Fraction(3, 2), strict / 2, 2 * v))  # dotted
        if k > -3:
            out.add((v * Fraction(7, 4), strict / 2, 4 * v))  # double dotted
        if -5 < k < 2:
            out.add((v * Fraction(2, 3), v / 3, v * Fraction(2, 3)))  # triplet
    out.add((Fraction(1, 24), Fraction(1, 48), Fraction(1, 24)))
    return sorted(out, key=lambda x: -x[0])


_NOTE_VALUES = _note_values()


def _grid(x: Fraction) -> Fraction:
    for g in (Fraction(1, 8), Fraction(1, 12)):
        if x % g == 0:
            return g
    return Fraction(1, 24)


def _split_values(start: Fraction, length: Fraction, *, rest: bool = False) -> list[Fraction]:
    """Split ``length`` beats starting ``start`` beats into the bar into notatable values.

    The pieces stay on the grid of the span's ends, so that a span of 5/12 beat becomes a
    triplet eighth and a triplet 32nd rather than a dotted 16th and a 64th triplet.
    """
    out: list[Fraction] = []
    pos, left = start, length
    g = max(_grid(start), _grid(start + length), key=lambda x: -x)  # the finer of the two
    while left > 0:
        for d, unit, rest_unit in _NOTE_VALUES:
            if d <= left and pos % (rest_unit if rest else unit) == 0 and (left - d) % g == 0:
                break
        else:
            d = left  # off every grid we know: let music21 express it as it can
        out.append(d)
        pos += d
        left -= d
    return out


# -- writing ---------------------------------------------------------------------------------
@dataclass
class _Group:
    """Notes of one track that start and end together: a note or a chord."""

    on: Fraction
    end: Fraction
    pitches: list[int]
    velocity: int
    lyric: str | None = None
    syllabic: str | None = None
    ornament: str | None = None
    grace: tuple[int, ...] = ()
    articulations: tuple[str, ...] = ()


def _bars(score: Score) -> list[tuple[Fraction, Fraction, TimeSignature | None]]:
    sigs: dict[Fraction, TimeSignature] = {}
    for ts in sorted(score.time_signatures, key=lambda e: e.beat):
        sigs[_q(ts.beat)] = ts
    if not sigs or min(sigs) > 0:
        sigs[Fraction(0)] = TimeSignature(0.0)
    starts = sorted(sigs)
    end = Fraction(0)
    for t in score.tracks:
        for n in t.notes:
            end = max(end, _q(n.onset + n.duration), _q(n.onset) + GRID_BEATS)
    event_beats = [e.beat for e in score.chords] + [e.beat for e in score.sections]
    event_beats += [e.beat for e in score.directions] + list(score.fermatas)
    event_beats += [e.beat for e in score.tempos] + [e.beat for e in score.key_signatures]
    event_beats += [e.beat for e in score.time_signatures]
    for beat in event_beats:
        end = max(end, _q(beat) + GRID_BEATS)
    for t in score.tracks:
        for p in t.pedals:
            end = max(end, _q(p.onset) + GRID_BEATS, _q(p.end))
    bars: list[tuple[Fraction, Fraction, TimeSignature | None]] = []
    prev: tuple[int, int] | None = None
    for i, s in enumerate(starts):
        sig = sigs[s]
        bar_len = Fraction(sig.numerator * 4, sig.denominator)
        stop = starts[i + 1] if i + 1 < len(starts) else max(end, s + bar_len)
        b = s
        first = True
        while b < stop:
            length = min(bar_len, stop - b) if i + 1 < len(starts) else bar_len
            shown = first and (sig.numerator, sig.denominator) != prev
            bars.append((b, length, sig if shown else None))
            if first:
                prev = (sig.numerator, sig.denominator)
            first = False
            b += length
    return bars


def _groups(track: Track) -> list[_Group]:
    by_span: dict[tuple[Fraction, Fraction], list[Note]] = {}
    for n in track.notes:
        on = _q(n.onset)
        end = max(_q(n.onset + n.duration), on + GRID_BEATS)
        by_span.setdefault((on, end), []).append(n)
    groups = []
    for (on, end), notes in sorted(by_span.items()):
        pitches = sorted({int(n.pitch) for n in notes})
        lyric = next((n.lyric.strip() for n in notes if n.lyric and n.lyric.strip()), None)
        ornament = next((n.ornament for n in notes if n.ornament), None)
        grace = next((n.grace for n in notes if n.grace), ())
        marks = {a for n in notes for a in n.articulations}
        groups.append(_Group(on, end, pitches, max(int(n.velocity) for n in notes), lyric, None, ornament,
                             grace, tuple(a for a in ARTICULATIONS if a in marks)))
    # syllabic: a syllable ending in '-' continues its word into the next syllable
    continues = False
    for g in groups:
        if g.lyric is None or g.lyric == _MELISMA:
            continue
        this = g.lyric.endswith("-") and len(g.lyric) > 1
        g.syllabic = {(False, False): "single", (False, True): "begin",
                      (True, True): "middle", (True, False): "end"}[(continues, this)]
        if this:
            g.lyric = g.lyric[:-1]
        continues = this
    return groups


def _voices(groups: list[_Group]) -> list[list[_Group]]:
    voices: list[list[_Group]] = []
    ends: list[Fraction] = []
    for g in groups:
        for i, e in enumerate(ends):
            if e <= g.on:
                voices[i].append(g)
                ends[i] = g.end
                break
        else:
            voices.append([g])
            ends.append(g.end)
    return voices


def _key_table(score: Score) -> tuple[list[Fraction], list[int]]:
    """Beats where the key signature changes and its accidentals (sharps > 0, flats < 0)."""
    beats, sharps = [Fraction(-1)], [0]
    for ks in sorted(score.key_signatures, key=lambda k: k.beat):
        beats.append(_q(ks.beat))
        sharps.append(ks.key.sharps())
    return beats, sharps


def _spelling(sharps: int) -> tuple[str, ...]:
    return _SHARP_SPELL if sharps > 0 else _FLAT_SPELL if sharps < 0 else _NEUTRAL_SPELL


def _signature_alters(sharps: int) -> dict[str, int]:
    alters = dict.fromkeys("CDEFGAB", 0)
    for step in ("FCGDAEB"[:sharps] if sharps > 0 else "BEADGCF"[:-sharps]):
        alters[step] = 1 if sharps > 0 else -1
    return alters


def _lead_track(score: Score) -> int:
    lead = score.lyric_track()
    if lead is not None:
        return score.tracks.index(lead)
    return next((i for i, t in enumerate(score.tracks) if not t.is_drum), 0)


def _m21_key(k: Key) -> Any:
    from music21 import key as m21key

    if k.mode in _XML_MODES:
        return m21key.Key(_m21_name(k.tonic_name), k.mode)
    return m21key.KeySignature(k.sharps())


def _m21_chord_symbol(symbol: str) -> Any:
    """A music21 ChordSymbol for a yuefu symbol, spelled as written (``Bb``, not ``A#``)."""
    from music21 import harmony

    ch = parse_chord(symbol)
    root_text, _, bass_text = symbol.strip().partition("/")
    root = _m21_name(root_text[:2] if root_text[1:2] in ("#", "b", "♯", "♭") else root_text[:1])
    bass = _m21_name(bass_text.strip()) if bass_text.strip() else None
    kind, added, alter = _KIND_OF_QUALITY[ch.quality]
    # pitches are not needed for <harmony>, and realising them is most of the cost
    cs = harmony.ChordSymbol(root=root, bass=bass, kind=kind, updatePitches=False)
    if added is not None:
        cs.addChordStepModification(harmony.ChordStepModification("add", added, alter),
                                    updatePitches=False)
    return cs


def _build_m21(score: Score) -> Any:
    """The music21 Score, measures made: what ``makeNotation`` would do, done for our case."""
    from music21 import (
        clef,
        expressions,
        instrument,
        layout,
        metadata,
        meter,
        stream,
        tempo,
    )

    if not score.tracks:
        raise ParameterError("the score has no tracks; MusicXML needs at least one part")
    bars = _bars(score)
    bar_starts = [b[0] for b in bars]
    key_beats, key_sharps = _key_table(score)
    rest_fermatas = frozenset(_q(b) for b in score.fermatas)  # over the rests that begin there

    def sharps_at(beat: Fraction) -> int:
        return key_sharps[bisect.bisect_right(key_beats, beat) - 1]

    lead = _lead_track(score)
    all_drums = all(t.is_drum for t in score.tracks)  # then the keys go in the first part

    def bar_index(beat: Fraction) -> int:
        return max(0, bisect.bisect_right(bar_starts, beat) - 1)

    # directions, by bar: (offset in the bar, music21 object)
    first_part_dirs: dict[int, list[tuple[Fraction, Any]]] = {}
    for t in sorted(score.tempos, key=lambda e: e.beat):
        b = _q(t.beat)
        bpm = round(float(t.bpm), 3)
        mm = tempo.MetronomeMark(number=int(bpm) if bpm == int(bpm) else bpm, referent=1.0)
        first_part_dirs.setdefault(bar_index(b), []).append((b - bar_starts[bar_index(b)], mm))
    for sec in sorted(score.sections, key=lambda e: e.beat):
        b = _q(sec.beat)
        first_part_dirs.setdefault(bar_index(b), []).append(
            (b - bar_starts[bar_index(b)], expressions.RehearsalMark(sec.name)))
    for words in sorted(score.directions, key=lambda e: e.beat):
        b = _q(words.beat)
        first_part_dirs.setdefault(bar_index(b), []).append(
            (b - bar_starts[bar_index(b)], expressions.TextExpression(words.text)))
    lead_dirs: dict[int, list[tuple[Fraction, Any]]] = {}
    for c in sorted(score.chords, key=lambda e: e.beat):
        b = _q(c.beat)
        lead_dirs.setdefault(bar_index(b), []).append(
            (b - bar_starts[bar_index(b)], _m21_chord_symbol(c.symbol)))
    key_dirs: dict[int, list[tuple[Fraction, Key]]] = {}
    for ks in sorted(score.key_signatures, key=lambda e: e.beat):
        b = _q(ks.beat)
        key_dirs.setdefault(bar_index(b), []).append((b - bar_starts[bar_index(b)], ks.key))

    sc = stream.Score()
    md = metadata.Metadata()
    if score.title:
        md.title = score.title
    sc.insert(0, md)
    for ti, track in enumerate(score.tracks):
        part = stream.Part()
        part.partName = track.name
        if track.is_drum:
            inst = instrument.UnpitchedPercussion()
            inst.instrumentName = "Drum Kit"
        else:
            try:
                inst = instrument.instrumentFromMidiProgram(track.program)
            except Exception:
                inst = instrument.Instrument()
            inst.midiProgram = track.program
        # a placeholder unique to the part, so that music21 assigns none and warns of none;
        # _postprocess writes the real channel (1..16, drums on 10)
        inst.midiChannel = 100 + ti
        inst.partName = track.name
        inst.partId = f"P{ti + 1}"
        inst.instrumentId = f"P{ti + 1}-I1"
        part.insert(0, inst)
        part.id = f"P{ti + 1}"

        # a part of several staves (a piano's, its notes carrying their staff) is written as one
        # <part> with <staves>: music21 joins the PartStaffs of a StaffGroup on export
        n_staves = 1 if track.is_drum else max((n.staff or 1 for n in track.notes), default=1)
        staff_parts: list[tuple[Any, list[Note]]] = [(part, track.notes)]
        if n_staves > 1:
            staff_parts = []
            for si in range(n_staves):
                ps = stream.PartStaff()
                ps.id = f"P{ti + 1}-Staff{si + 1}"
                ps.partName = track.name
                ps.insert(0, inst if si == 0 else copy.deepcopy(inst))  # the part's, on each
                staff_parts.append((ps, [n for n in track.notes if (n.staff or 1) == si + 1]))
        for si, (staff_part, staff_notes) in enumerate(staff_parts):
            groups = _groups(Track(track.name, notes=staff_notes))
            voices = _voices(groups)
            # cut every voice into bars: per bar, per voice, (offset, length, group, tie)
            per_bar: list[list[list[tuple[Fraction, Fraction, Any, str | None]]]] = [
                [] for _ in bars]
            for vi, voice in enumerate(voices):
                for g in voice:
                    pieces: list[tuple[int, Fraction, Fraction]] = []
                    pos = g.on
                    while pos < g.end:
                        bi = bar_index(pos)
                        bstart, blen, _ = bars[bi]
                        stop = min(g.end, bstart + blen)  # the bars reach past every note
                        for d in _split_values(pos - bstart, stop - pos):
                            pieces.append((bi, pos - bstart, d))
                            pos += d
                    for k, (bi, off, d) in enumerate(pieces):
                        kind = None
                        if len(pieces) > 1:
                            kind = "start" if k == 0 else "stop" if k == len(pieces) - 1 else "continue"
                        row = per_bar[bi]
                        while len(row) <= vi:
                            row.append([])
                        row[vi].append((off, d, g if k == 0 else _Continuation(g), kind))

            mean_pitch = (sum(p for g in groups for p in g.pitches)
                          / max(1, sum(len(g.pitches) for g in groups)))
            ts_obj = None
            for bi, (bstart, blen, sig) in enumerate(bars):
                m = stream.Measure(number=bi + 1)
                if bi == 0:
                    if track.is_drum:
                        m.insert(0, clef.PercussionClef())
                    else:
                        m.insert(0, clef.BassClef() if mean_pitch < 55 and groups
                                 else clef.TrebleClef())
                if sig is not None:
                    ts_obj = meter.TimeSignature(f"{sig.numerator}/{sig.denominator}")
                    m.insert(0, ts_obj)
                if not track.is_drum or (all_drums and ti == 0):
                    for off, key_here in key_dirs.get(bi, []):
                        m.insert(off, _m21_key(key_here))
                if ti == 0 and si == 0:
                    for off, obj in first_part_dirs.get(bi, []):
                        m.insert(off, obj)
                if ti == lead and si == 0:
                    for off, obj in lead_dirs.get(bi, []):
                        m.insert(off, obj)
                rows = per_bar[bi]
                # a track's voice keeps its number from bar to bar (ties are matched within a
                # voice on reading); voice 1 is always there, in rests where it is silent
                present = sorted({0} | {vi for vi, r in enumerate(rows) if r})
                containers = [m] if present == [0] else [
                    stream.Voice(id=str(vi + 1)) for vi in present]
                for vi, c in zip(present, containers, strict=True):
                    pieces_here = rows[vi] if vi < len(rows) else []
                    _fill(c, pieces_here, blen, bstart, hidden_rests=vi > 0, drum=track.is_drum,
                          sharps_at=sharps_at, fermatas=rest_fermatas)
                    if c is not m:
                        m.insert(0, c)
                _finish_measure(containers, ts_obj, blen, bstart, drum=track.is_drum,
                                sharps_at=sharps_at)
                staff_part.append(m)
        if n_staves > 1:
            for ps, _ in staff_parts:
                sc.insert(0, ps)
            sc.insert(0, layout.StaffGroup([ps for ps, _ in staff_parts], name=track.name,
                                           symbol="brace"))
        else:
            sc.insert(0, part)
    return sc


class _Continuation:
    """A tied-on piece of a group: same pitches, no lyric."""

    __slots__ = ("group",)

    def __init__(self, group: _Group):
        self.group = group


def _fill(container: Any, row: list[tuple[Fraction, Fraction, Any, str | None]],
          bar_len: Fraction, bar_start: Fraction, *, hidden_rests: bool, drum: bool,
          sharps_at: Any, fermatas: frozenset[Fraction] = frozenset()) -> None:
    """Append the pieces of one voice in one bar, with rests in the gaps (a rest beginning on one of
    ``fermatas``, beats from the start, gets a fermata)."""
    from music21 import articulations, chord, expressions, note, percussion, pitch, tie

    ornament_sign = {"trill": expressions.Trill, "mordent": expressions.Mordent, "turn": expressions.Turn}
    articulation_mark = {"staccato": articulations.Staccato, "staccatissimo": articulations.Staccatissimo,
                         "tenuto": articulations.Tenuto, "accent": articulations.Accent,
                         "marcato": articulations.StrongAccent}

    pos = Fraction(0)

    def rests(start: Fraction, length: Fraction) -> None:
        if length <= 0:
            return
        if start == 0 and length == bar_len and not hidden_rests:
            r = note.Rest(quarterLength=length)
            r.fullMeasure = True
            if bar_start in fermatas:
                r.expressions.append(expressions.Fermata())
            container.coreInsert(start, r)
            return
        p = start
        for d in _split_values(start, length, rest=True):
            r = note.Rest(quarterLength=d)
            if hidden_rests:
                r.style.hideObjectOnPrint = True
            elif bar_start + p in fermatas:
                r.expressions.append(expressions.Fermata())
            container.coreInsert(p, r)
            p += d

    for off, d, item, tie_kind in sorted(row, key=lambda x: x[0]):
        rests(pos, off - pos)
        first = isinstance(item, _Group)
        g: _Group = item if first else item.group
        if drum:
            members = []
            for key in g.pitches:
                step, octave, head = _drum_display(key)
                u = note.Unpitched(displayName=f"{step}{octave}")
                if head != "normal":
                    u.notehead = head
                members.append(u)
            obj = members[0] if len(members) == 1 else percussion.PercussionChord(members)
        else:
            names = _spelling(sharps_at(bar_start + off))
            # not "C-1": music21 reads '-' as a flat
            pitches = [pitch.Pitch(names[p % 12], octave=p // 12 - 1) for p in g.pitches]
            obj = note.Note(pitches[0]) if len(pitches) == 1 else chord.Chord(pitches)
        obj.quarterLength = d
        obj.volume.velocity = g.velocity
        if tie_kind is not None:
            obj.tie = tie.Tie(tie_kind)
        if first and g.ornament is not None and not drum:
            obj.expressions.append(ornament_sign[g.ornament]())
        if first and g.articulations and not drum:
            obj.articulations.extend(articulation_mark[a]() for a in g.articulations
                                     if a in articulation_mark)
            if "fermata" in g.articulations:
                obj.expressions.append(expressions.Fermata())
            if "arpeggio" in g.articulations and len(g.pitches) > 1:
                obj.expressions.append(expressions.ArpeggioMark())
        if first and g.grace and not drum:
            for gp in g.grace:  # the grace notes, an eighth each, before their note
                gn = note.Note(pitch.Pitch(names[gp % 12], octave=gp // 12 - 1), quarterLength=0.5)
                container.coreInsert(off, gn.getGrace())
        if first and g.lyric is not None:
            ly = note.Lyric(g.lyric, number=1, applyRaw=True)
            if g.lyric != _MELISMA:
                ly.syllabic = g.syllabic
            obj.lyrics = [ly]
        container.coreInsert(off, obj)
        pos = off + d
    rests(pos, bar_len - pos)
    container.coreElementsChanged()


def _finish_measure(containers: list[Any], ts: Any, bar_len: Fraction, bar_start: Fraction, *,
                    drum: bool, sharps_at: Any) -> None:
    """Beam, bracket tuplets and decide which accidentals to show, as music21's makeNotation
    would, but without its context searches (which dominate the time of a long score)."""
    from music21 import pitch
    from music21.stream.makeNotation import makeTupletBrackets

    timed: list[tuple[Fraction, Any]] = []
    for c in containers:
        elems = list(c.notesAndRests)
        if any(e.duration.tuplets for e in elems):
            makeTupletBrackets(c, inPlace=True)
        if (ts is not None and len(elems) > 1 and bar_len == ts.barDuration.quarterLength
                and any(e.quarterLength < 1 and not e.isRest for e in elems)):
            with contextlib.suppress(Exception):  # beaming is cosmetic; never fail on it
                for e, b in zip(elems, ts.getBeams(elems, measureStartOffset=0.0), strict=True):
                    if b is not None:
                        e.beams = b
        timed.extend((Fraction(c.elementOffset(e)), e) for e in elems if not e.isRest)
    if drum:
        return
    timed.sort(key=lambda x: x[0])
    state: dict[tuple[str, int], int] = {}
    sig_sharps = None
    alters: dict[str, int] = {}
    for off, e in timed:
        sh = sharps_at(bar_start + off)
        if sh != sig_sharps:
            sig_sharps, alters, state = sh, _signature_alters(sh), {}
        held = e.tie is not None and e.tie.type in ("stop", "continue")
        for p in e.pitches:
            alter = int(p.alter)
            spot = (p.step, int(p.octave))
            shown = state.get(spot, alters[p.step])
            show = not held and alter != shown
            if p.accidental is None:
                if show:
                    p.accidental = pitch.Accidental("natural")
                    p.accidental.displayStatus = True
            else:
                p.accidental.displayStatus = show
            if show:
                state[spot] = alter


def _misc_meta(score: Score) -> dict[str, Any]:
    from yuefu import __version__

    return {
        "version": __version__,
        "tracks": [{"name": t.name, "role": t.role, "drum": t.is_drum, "program": t.program,
                    "gain_db": t.gain_db, "pan": t.pan} for t in score.tracks],
        "keys": [[float(_q(k.beat)), k.key.tonic, k.key.mode]
                 for k in sorted(score.key_signatures, key=lambda e: e.beat)],
    }


def _postprocess(root: ET.Element, score: Score) -> None:
    """Add what music21 does not write: extenders, drum instruments, volume, pan, metadata."""
    from music21 import defaults

    # titles and credits music21 makes up when none are given
    if not score.title:
        for mt in root.findall("movement-title"):
            root.remove(mt)
    ident = root.find("identification")
    if ident is None:
        ident = ET.Element("identification")
        root.insert(0, ident)
    for cr in ident.findall("creator"):
        if cr.text == defaults.author:
            ident.remove(cr)
    misc = ET.SubElement(ident, "miscellaneous")
    field_el = ET.SubElement(misc, "miscellaneous-field", {"name": _META_FIELD})
    field_el.text = json.dumps(_misc_meta(score), ensure_ascii=False)

    part_list = root.find("part-list")
    score_parts = part_list.findall("score-part") if part_list is not None else []
    parts = root.findall("part")
    channels = [c for c in range(1, 17) if c != 10]
    n_pitched = 0
    for track, sp, part in zip(score.tracks, score_parts, parts, strict=False):
        volume = f"{100.0 * 10 ** (min(track.gain_db, 0.0) / 40.0):.1f}"
        pan = f"{90.0 * track.pan:.1f}"
        if track.is_drum:
            _drum_instruments(sp, part, volume, pan)
        else:
            channel = str(channels[n_pitched % len(channels)])
            n_pitched += 1
            for mi in sp.findall("midi-instrument"):
                for ch in mi.findall("midi-channel"):
                    ch.text = channel
                ET.SubElement(mi, "volume").text = volume
                ET.SubElement(mi, "pan").text = pan
        _extenders(part)
        if track.pedals:
            _write_pedals(part, track)


def _write_pedals(part: ET.Element, track: Track) -> None:
    """Write ``track``'s sustain pedal as MusicXML ``<pedal>`` directions: each at the start of
    its measure with an ``<offset>`` (a pedal let up on a barline ends the measure before), under
    the lowest staff."""
    measures = part.findall("measure")
    if not measures:
        return
    lengths = [Fraction(0)] * len(measures)
    divisions = [Fraction(1)] * len(measures)
    for mi, _, _, after, div in _positions(part):
        lengths[mi] = max(lengths[mi], after)
        divisions[mi] = div
    starts = [sum(lengths[:i], Fraction(0)) for i in range(len(measures))]
    staves = next((s for s in (m.findtext("attributes/staves") for m in measures) if s), None)
    for at, kind in pedal_marks(track.pedals, _q, Fraction(0)):
        i = bisect.bisect_right(starts, at) - 1
        if kind == "stop" and i > 0 and at == starts[i]:
            i -= 1  # let up on a barline: at the end of the measure it closes
        i = max(0, i)
        m = measures[i]
        el = ET.Element("direction", {"placement": "below"})
        ET.SubElement(ET.SubElement(el, "direction-type"), "pedal", {"type": kind, "line": "yes"})
        offset = (at - starts[i]) * divisions[i]  # in the measure's divisions
        if offset:
            ET.SubElement(el, "offset").text = str(round(float(offset)))
        if staves:
            ET.SubElement(el, "staff").text = staves
        lead = 0
        while lead < len(m) and m[lead].tag in ("print", "attributes", "barline"):
            lead += 1
        # after the marks already placed at this measure's start, in order
        while (lead < len(m) and m[lead].tag == "direction"
               and m[lead].find("direction-type/pedal") is not None):
            lead += 1
        m.insert(lead, el)


def _drum_instruments(sp: ET.Element, part: ET.Element, volume: str, pan: str) -> None:
    pid = sp.get("id", "P")
    for tag in ("score-instrument", "midi-instrument"):
        for el in sp.findall(tag):
            sp.remove(el)
    used: dict[int, str] = {}
    for n in part.iter("note"):
        up = n.find("unpitched")
        if up is None:
            continue
        head = n.findtext("notehead", "normal").strip()
        key = _drum_key(up.findtext("display-step", "C").strip(),
                        int(up.findtext("display-octave", "4")), head)
        iid = used.setdefault(key, f"{pid}-I{key + 1}")
        for old in n.findall("instrument"):
            n.remove(old)
        inst_el = ET.Element("instrument", {"id": iid})
        # <instrument> follows <duration> and <tie> in a <note>
        children = list(n)
        idx = max(i for i, c in enumerate(children) if c.tag in ("duration", "tie", "unpitched"))
        n.insert(idx + 1, inst_el)
    if not used:
        used[38] = f"{pid}-I39"
    for key, iid in sorted(used.items()):
        si = ET.SubElement(sp, "score-instrument", {"id": iid})
        ET.SubElement(si, "instrument-name").text = _drum_name(key)
    for key, iid in sorted(used.items()):
        mi = ET.SubElement(sp, "midi-instrument", {"id": iid})
        ET.SubElement(mi, "midi-channel").text = "10"
        ET.SubElement(mi, "midi-unpitched").text = str(key + 1)
        ET.SubElement(mi, "volume").text = volume
        ET.SubElement(mi, "pan").text = pan


def _note_lyric(n: ET.Element) -> ET.Element | None:
    lyrics = n.findall("lyric")
    return lyrics[0] if lyrics else None


def _iter_notes(part: ET.Element) -> Iterator[tuple[str, ET.Element]]:
    """(voice, <note>) in document order, chord members and grace notes left out."""
    for m in part.findall("measure"):
        for n in m.findall("note"):
            if n.find("chord") is not None or n.find("grace") is not None:
                continue
            yield (n.findtext("voice") or "1").strip(), n


def _extenders(part: ET.Element) -> None:
    """Turn the '-' melisma lyrics music21 wrote into extender lines."""
    last_text: dict[str, ET.Element] = {}
    last_ext: dict[str, ET.Element] = {}
    for voice, n in _iter_notes(part):
        ly = _note_lyric(n)
        if ly is None:
            continue
        if (ly.findtext("text") or "") == _MELISMA:
            for el in ly.findall("text") + ly.findall("syllabic"):
                ly.remove(el)
            ext = ET.Element("extend", {"type": "continue"})
            ly.insert(0, ext)
            prev = last_text.get(voice)
            if prev is not None and prev.find("extend") is None:
                ET.SubElement(prev, "extend", {"type": "start"})
            last_ext[voice] = ext
        else:
            if voice in last_ext:
                last_ext.pop(voice).set("type", "stop")
            last_text[voice] = ly
    for ext in last_ext.values():
        ext.set("type", "stop")


def musicxml_bytes(score: Score) -> bytes:
    """Encode a score as an uncompressed MusicXML (partwise) document.

    Parameters
    ----------
    score : Score
        At least one track. Times are quantised to 1/12 beat (1/8-beat positions are kept).

    Returns
    -------
    bytes
        UTF-8 MusicXML with its XML declaration and DOCTYPE.
    """
    from music21.musicxml.m21ToXml import ScoreExporter

    sc = _build_m21(score)
    exporter = ScoreExporter(sc, makeNotation=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = exporter.parse()
    _postprocess(root, score)
    return exporter.asBytes()


def write_musicxml(score: Score, path: str | Path, *, force: bool = False) -> Path:
    """Write ``score`` as MusicXML, atomically; refuse to overwrite unless ``force``.

    Parameters
    ----------
    score : Score
        The score; at least one track.
    path : str or Path
        Destination, usually ``*.musicxml`` (uncompressed; ``.mxl`` is not written).
    force : bool
        Overwrite an existing file.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False.
    ParameterError
        The score has no tracks.
    """
    data = musicxml_bytes(score)
    with atomic_output(path, force=force) as tmp:
        tmp.write_bytes(data)
    return Path(path)


# -- reading ---------------------------------------------------------------------------------
def read_musicxml(path: str | Path) -> Score:
    """Read a MusicXML file (``.musicxml``, ``.xml`` or compressed ``.mxl``) into a Score.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Score
        One track per part (the staves of a multi-staff part are one track, each note keeping
        its staff in ``Note.staff``), tied notes merged, chords split into simultaneous notes.
        Velocity comes from each note's ``dynamics`` attribute, else 90.

    Raises
    ------
    ScoreLoadError
        The file is missing, empty, not well-formed XML, not (partwise) MusicXML, or has no parts.
    """
    p = Path(path)
    data = read_input(p, what="MusicXML file (.musicxml, .xml, .mxl)", error=ScoreLoadError)
    return score_from_musicxml_bytes(data, source=str(p))


def _unzip_mxl(data: bytes, source: str) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
            target = None
            if "META-INF/container.xml" in names:
                with contextlib.suppress(ET.ParseError, KeyError):
                    cont = ET.fromstring(z.read("META-INF/container.xml"))
                    rf = next((e for e in cont.iter() if e.tag.endswith("rootfile")), None)
                    if rf is not None and rf.get("full-path") in names:
                        target = rf.get("full-path")
            if target is None:
                target = next((n for n in names if n.lower().endswith((".xml", ".musicxml"))
                               and not n.startswith("META-INF/")), None)
            if target is None:
                raise ScoreLoadError(
                    f"{source}: a zip archive without a MusicXML score inside; expected a "
                    "compressed MusicXML file (.mxl)")
            return z.read(target)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as e:
        raise ScoreLoadError(f"{source}: corrupt compressed MusicXML (.mxl) file ({e})") from None


@dataclass
class _FileInfo:
    title: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    parts: list[dict[str, Any]] = field(default_factory=list)  # per <part>: volume, pan
    # per <part>: its sustain pedal marks, (measure index, offset in quarters, type)
    pedals: list[list[tuple[int, float, str]]] = field(default_factory=list)


def _prepare(root: ET.Element) -> _FileInfo:
    """Read what music21 does not, and mark melisma notes with a '-' lyric for it."""
    info = _FileInfo()
    title = (root.findtext("work/work-title") or root.findtext("movement-title") or "").strip()
    from music21 import defaults

    info.title = "" if title == defaults.title else title
    for mf in root.iter("miscellaneous-field"):
        if mf.get("name") == _META_FIELD and mf.text:
            with contextlib.suppress(ValueError):
                meta = json.loads(mf.text)
                if isinstance(meta, dict):
                    info.meta = meta
    sps = {sp.get("id"): sp for sp in root.iter("score-part")}
    for part in root.findall("part"):
        sp = sps.get(part.get("id"))
        entry: dict[str, Any] = {}
        mi = sp.find("midi-instrument") if sp is not None else None
        if mi is not None:
            with contextlib.suppress(TypeError, ValueError):
                entry["volume"] = float(mi.findtext("volume"))  # type: ignore[arg-type]
            with contextlib.suppress(TypeError, ValueError):
                entry["pan"] = float(mi.findtext("pan"))  # type: ignore[arg-type]
            with contextlib.suppress(TypeError, ValueError):
                entry["program"] = int(mi.findtext("midi-program")) - 1  # type: ignore[arg-type]
        info.parts.append(entry)
        info.pedals.append(_pedal_marks(part))
        _mark_melismas(part)
    return info


def _positions(part: ET.Element) -> Iterator[tuple[int, ET.Element, Fraction, Fraction, Fraction]]:
    """Every element of every ``<measure>`` of a ``<part>``: ``(measure index, element, where the
    cursor is before it and after it in quarter notes from the measure's start, the divisions in
    force)``; a note advances the cursor (not a chord's later notes nor a grace note), ``<backup>``
    and ``<forward>`` move it."""
    div = Fraction(1)
    for mi, measure in enumerate(part.findall("measure")):
        cursor = Fraction(0)
        for el in measure:
            before = cursor
            if el.tag == "attributes":
                with contextlib.suppress(TypeError, ValueError, ZeroDivisionError):
                    div = Fraction(el.findtext("divisions") or div) or div
            elif el.tag in ("note", "backup", "forward"):
                try:
                    d = Fraction(el.findtext("duration") or 0) / div
                except (ValueError, ZeroDivisionError):
                    d = Fraction(0)
                if el.tag == "backup":
                    cursor -= d
                elif el.tag == "forward" or (el.find("chord") is None and el.find("grace") is None):
                    cursor += d
            yield mi, el, before, cursor, div


def _pedal_marks(part: ET.Element) -> list[tuple[int, float, str]]:
    """The sustain pedal marks of a ``<part>``: ``(measure index, offset in quarter notes, type)``
    with ``type`` one of MusicXML's ``start``, ``stop``, ``change``, ``discontinue``, ``resume``
    (music21 keeps a pedal only as the notes under it, not where it is let up)."""
    out: list[tuple[int, float, str]] = []
    for mi, el, at, _, div in _positions(part):
        if el.tag != "direction":
            continue
        with contextlib.suppress(ValueError, ZeroDivisionError):
            at += Fraction(el.findtext("offset") or 0) / div
        for ped in el.iter("pedal"):
            kind = ped.get("type", "")
            if kind in ("start", "stop", "change", "discontinue", "resume"):
                out.append((mi, max(0.0, float(at)), kind))
    return out


def _mark_melismas(part: ET.Element) -> None:
    """Give every note under an extender line a '-' lyric (music21 drops ``<extend>``)."""
    open_ext: dict[str, bool] = {}
    for m in part.findall("measure"):
        for n in m.findall("note"):
            if n.find("chord") is not None or n.find("grace") is not None:
                continue
            voice = (n.findtext("voice") or "1").strip()
            if n.find("rest") is not None:
                open_ext[voice] = False
                continue
            ly = _note_lyric(n)
            ext = ly.find("extend") if ly is not None else None
            has_text = ly is not None and any((t.text or "").strip() for t in ly.findall("text"))
            if has_text:
                open_ext[voice] = ext is not None and ext.get("type", "start") in ("start",
                                                                                    "continue")
                continue
            tie_stop = any(t.get("type") == "stop" for t in n.findall("tie"))
            if ext is not None or (open_ext.get(voice) and not tie_stop):
                if ly is None:
                    ly = ET.SubElement(n, "lyric", {"number": "1"})
                ET.SubElement(ly, "text").text = _MELISMA
                open_ext[voice] = ext is None or ext.get("type") != "stop"


def _parse_xml(data: bytes, source: str) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise ScoreLoadError(
            f"{source}: not well-formed XML ({e}); expected a MusicXML file") from None


def read_musicxml_as_played(path: str | Path) -> tuple[Score, list[tuple[float, int]]] | None:
    """The score in the order it is played: its repeats, first and second endings, da capo and dal
    segno expanded (music21's ``expandRepeats``), with the written number of each measure.

    Returns
    -------
    (Score, list of (float, int)) or None
        The expanded score and, for each of its measures in order, ``(start beat, the measure's
        written number)``: the numbers of a repeated passage come again. None when the score has
        no repeat to expand, or its repeat marks do not make sense (an end without a start that
        cannot be the beginning, an ending without a repeat): it is then read as written, once.

    Raises
    ------
    ScoreLoadError
        As :func:`read_musicxml`.
    """
    return read_musicxml_measures(path)[2]


Measures = list[tuple[float, int]]


def read_musicxml_measures(path: str | Path, *, played: bool = True
                           ) -> tuple[Score, Measures, tuple[Score, Measures] | None]:
    """A MusicXML file read once, three ways: the score as written (:func:`read_musicxml`), its
    measures as ``(start beat, written number)`` -- a pickup measure is shorter than its meter and
    often numbered 0, which the meter alone cannot tell --, and the score as played
    (:func:`read_musicxml_as_played`, None without repeats, and not worked out when ``played`` is
    False).

    Raises
    ------
    ScoreLoadError
        As :func:`read_musicxml`.
    """
    p = Path(path)
    data = read_input(p, what="MusicXML file (.musicxml, .xml, .mxl)", error=ScoreLoadError)
    m21, info = _m21_score(data, str(p))
    measures = _measures(m21)
    as_played = _as_played(m21, info, str(p), len(measures)) if played else None
    return _from_m21(m21, info, str(p)), measures, as_played


def _measures(m21: Any) -> list[tuple[float, int]]:
    """(start beat, written number) of each measure of the score's first part, tagging each
    measure with its number (:data:`_MEASURE_TAG`) for the expansion to keep."""
    from music21 import stream

    for part in m21.parts:  # the written numbers, kept through the expansion (which renumbers a D.C.)
        for m in part.getElementsByClass(stream.Measure):
            m.groups.append(f"{_MEASURE_TAG}{m.number}")
    return _numbered(m21)


def _numbered(m21: Any) -> list[tuple[float, int]]:
    from music21 import stream

    parts = list(m21.parts)
    out = []
    for m in (parts[0].getElementsByClass(stream.Measure) if parts else []):
        tag = next((g for g in m.groups if g.startswith(_MEASURE_TAG)), None)
        out.append((float(m.offset), int(tag[len(_MEASURE_TAG):]) if tag else int(m.number)))
    return out


def _as_played(m21: Any, info: _FileInfo, source: str, n_measures: int
               ) -> tuple[Score, list[tuple[float, int]]] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            played = m21.expandRepeats()
    except Exception:  # music21's Expander refuses marks that do not pair up: read it once
        return None
    numbers = _numbered(played)
    if len(numbers) <= n_measures:
        return None
    return _from_m21(played, info, source), numbers


_MEASURE_TAG = "yuefu-measure-"


def score_from_musicxml_bytes(data: bytes, *, source: str = "<bytes>") -> Score:
    """Decode MusicXML (or compressed .mxl) bytes; ``source`` names the file in errors."""
    m21, info = _m21_score(data, source)
    return _from_m21(m21, info, source)


def _m21_score(data: bytes, source: str) -> tuple[Any, _FileInfo]:
    """The music21 score of MusicXML (or .mxl) bytes, and what yuefu reads beside it."""
    if not data.strip():
        raise ScoreLoadError(f"{source}: the file is empty; expected a MusicXML file")
    if data[:4] == b"PK\x03\x04":
        data = _unzip_mxl(data, source)
    if b"<" not in data[:1024]:
        raise ScoreLoadError(
            f"{source}: not a MusicXML file (no XML markup at its start); "
            "give a .musicxml, .xml or .mxl score")
    root = _parse_xml(data, source)
    tag = root.tag.rsplit("}", 1)[-1]
    if tag == "score-timewise":
        raise ScoreLoadError(
            f"{source}: timewise MusicXML is not supported; re-export it as partwise MusicXML")
    if tag != "score-partwise":
        raise ScoreLoadError(
            f"{source}: not a MusicXML score (the root element is <{tag}>, expected "
            "<score-partwise>)")
    if not root.findall("part"):
        raise ScoreLoadError(f"{source}: the MusicXML score has no parts; nothing to read")
    info = _prepare(root)

    from music21.musicxml.xmlToM21 import MusicXMLImporter

    importer = MusicXMLImporter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importer.xmlRootToScore(root, importer.stream)
    except Exception as e:  # music21 raises many kinds; none may reach the user as a traceback
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ScoreLoadError(
            f"{source}: the MusicXML could not be interpreted ({msg}); check that it opens in a "
            "notation program") from None
    _insert_pedals(importer.stream, info)
    return importer.stream, info


@functools.cache
def _pedal_class() -> type:
    """A music21 object standing for one sustain pedal mark, placed in its measure so that an
    expansion of the repeats carries it along with the measure."""
    from music21 import base

    class PedalEvent(base.Music21Object):
        def __init__(self, kind: str = "start", **keywords: Any) -> None:
            super().__init__(**keywords)
            self.kind = kind

    return PedalEvent


def _insert_pedals(m21: Any, info: _FileInfo) -> None:
    from music21 import stream

    for gi, staff_parts in enumerate(_part_groups(m21)):
        marks = info.pedals[gi] if gi < len(info.pedals) else []
        if not marks:
            continue
        measures = list(staff_parts[0].getElementsByClass(stream.Measure))
        for mi, offset, kind in marks:
            if mi < len(measures):
                measures[mi].insert(offset, _pedal_class()(kind))


def _pedals_of(flats: list[Any], end: float) -> list[Pedal]:
    """The sustain pedal's spans from the pedal marks (:func:`_insert_pedals`) of one part's
    staves: a ``change`` lets the pedal up and presses it again, one still down at the end of
    the part is let up at ``end``."""
    cls = _pedal_class()
    order = {"stop": 0, "discontinue": 0, "change": 1, "start": 2, "resume": 2}
    marks = sorted((float(e.offset), order[e.kind], e.kind) for f in flats for e in f.getElementsByClass(cls))
    out: list[Pedal] = []
    down: float | None = None

    def up(at: float) -> None:
        if down is not None and at > down + 1e-9:
            out.append(Pedal(down, at - down))

    for at, _, kind in marks:
        if kind in ("stop", "discontinue"):
            up(at)
            down = None
        elif kind == "change":
            up(at)
            down = at
        elif down is None:  # start, resume
            down = at
        else:  # a start while down: a change
            up(at)
            down = at
    if down is not None:
        up(max(end, down))
    return out


def _lyric_text(el: Any) -> str | None:
    lyrics = getattr(el, "lyrics", None)
    if not lyrics:
        return None
    ly = lyrics[0]
    text = (ly.text or "").strip()
    if not text:
        return None
    if text == _MELISMA and not ly.syllabic:
        return _MELISMA
    if ly.syllabic in ("begin", "middle"):
        return text + "-"
    return text


def _velocity(*objs: Any) -> int | None:
    """The velocity a note's own ``dynamics`` attribute gives (None: it has none)."""
    for o in objs:
        with contextlib.suppress(AttributeError, TypeError):
            if o.hasVolumeInformation() and o.volume.velocityScalar is not None:
                return max(1, min(127, round(o.volume.velocityScalar * 127)))
    return None


#: Velocity of each dynamic mark: the levels MuseScore plays them at.
DYNAMIC_VELOCITY = {"pppppp": 1, "ppppp": 5, "pppp": 10, "ppp": 16, "pp": 33, "p": 49, "mp": 64,
                    "mf": 80, "f": 96, "ff": 112, "fff": 126, "ffff": 127, "fffff": 127, "ffffff": 127}
#: Marks that louden the notes struck at them only: (their velocity, the level after them or None
#: for the level before).
DYNAMIC_ACCENTS = {"sf": (112, None), "sfz": (112, None), "sffz": (126, None), "fz": (112, None),
                   "rf": (112, None), "rfz": (112, None), "fp": (96, 49), "sfp": (112, 49),
                   "sfpp": (112, 33)}
#: How far a hairpin moves the velocity when no mark follows it within a beat.
HAIRPIN_STEP = 16
#: How much louder than the level around an accented / marcato note is.
ACCENT_BOOST = {"accent": 12, "marcato": 20}
_DEFAULT_VELOCITY = 90


def _dynamics_of(staff_parts: list[Any], flats: list[Any]
                 ) -> tuple[list[tuple[float, str]], list[tuple[float, float, int]]]:
    """The dynamic marks ``(beat, name)`` and hairpins ``(start, end, +1 | -1)`` of a part's
    staves, each sorted by beat."""
    from music21 import dynamics

    marks: list[tuple[float, str]] = []
    for f in flats:
        for d in f.getElementsByClass(dynamics.Dynamic):
            name = str(d.value or "").strip()
            if name in DYNAMIC_VELOCITY or name in DYNAMIC_ACCENTS:
                marks.append((float(d.offset), name))
    wedges: list[tuple[float, float, int]] = []
    for sp in staff_parts:
        for w in sp.spannerBundle.getByClass(dynamics.DynamicWedge):
            with contextlib.suppress(Exception):  # a wedge music21 could not place: skip it
                first, last = w.getFirst(), w.getLast()
                start = float(first.getOffsetInHierarchy(sp))
                end = float(last.getOffsetInHierarchy(sp)) + float(last.quarterLength)
                if end > start:
                    wedges.append((start, end, 1 if isinstance(w, dynamics.Crescendo) else -1))
    return sorted(marks), sorted(wedges)


def _apply_dynamics(notes: list[Note], marks: list[tuple[float, str]],
                    wedges: list[tuple[float, float, int]]) -> None:
    """Set the velocity of ``notes`` (which have no ``dynamics`` attribute of their own) from the
    part's marks and hairpins (see the module's docstring), then their accents."""
    eps = 1e-6
    # the level in force from each beat on: the marks, the level after an fp, a hairpin's end
    levels: list[tuple[float, int]] = []
    for beat, name in marks:
        if name in DYNAMIC_VELOCITY:
            levels.append((beat, DYNAMIC_VELOCITY[name]))
        else:
            then = DYNAMIC_ACCENTS[name][1]
            if then is not None:
                levels.append((beat, then))

    def level_at(beat: float) -> int:
        before = [v for b, v in levels if b <= beat + eps]
        return before[-1] if before else _DEFAULT_VELOCITY

    ramps: list[tuple[float, float, int, int]] = []
    for start, end, sign in wedges:
        v0 = level_at(start)
        after = [(b, v) for b, v in levels if start + eps < b <= end + 1.0 + eps]
        v1 = after[0][1] if after else max(1, min(127, v0 + sign * HAIRPIN_STEP))
        if not after:
            levels.append((end, v1))
            levels.sort(key=lambda x: x[0])
        ramps.append((start, end, v0, v1))
    accents = {round(b, 6): DYNAMIC_ACCENTS[name][0] for b, name in marks if name in DYNAMIC_ACCENTS}
    for n in notes:
        v = level_at(n.onset)
        for start, end, v0, v1 in ramps:
            if start - eps <= n.onset < end - eps:
                v = round(v0 + (v1 - v0) * (n.onset - start) / (end - start))
        v = accents.get(round(n.onset, 6), v)
        v += max((ACCENT_BOOST.get(a, 0) for a in n.articulations), default=0)
        n.velocity = max(1, min(127, int(v)))


def _spanners_of(o: Any) -> list[Any]:
    try:
        return list(o.getSpannerSites())
    except Exception:  # an object music21 cannot place in a spanner
        return []


def _articulations_of(*objs: Any) -> tuple[str, ...]:
    """The articulation marks on a note or chord (and a fermata over it), as
    :data:`yuefu.core.score.ARTICULATIONS` names them."""
    from music21 import articulations as m21art
    from music21 import expressions

    found: set[str] = set()
    for o in objs:
        if any(isinstance(x, expressions.Fermata) for x in getattr(o, "expressions", ())):
            found.add("fermata")
        if any(isinstance(x, expressions.ArpeggioMark) for x in getattr(o, "expressions", ())) or any(
                isinstance(sp, expressions.ArpeggioMarkSpanner) for sp in _spanners_of(o)):
            found.add("arpeggio")  # a rolled chord (one staff, or both staves together)
        for x in getattr(o, "articulations", ()):
            if isinstance(x, m21art.Staccatissimo | m21art.Spiccato):
                found.add("staccatissimo")
            elif isinstance(x, m21art.Staccato):
                found.add("staccato")
            elif isinstance(x, m21art.DetachedLegato):  # portato
                found.update(("staccato", "tenuto"))
            elif isinstance(x, m21art.Tenuto):
                found.add("tenuto")
            elif isinstance(x, m21art.StrongAccent):
                found.add("marcato")
            elif isinstance(x, m21art.Accent):
                found.add("accent")
    return tuple(a for a in ARTICULATIONS if a in found)


def _from_m21_chord_symbol(cs: Any) -> str | None:
    try:
        root = cs.root()
        if root is None:
            return None
        kind = cs.chordKind
        mods = list(cs.chordStepModifications)
        added, alter = None, 0
        if mods:
            if len(mods) != 1 or mods[0].modType != "add":
                return None
            added = int(mods[0].degree)
            alter = int(mods[0].interval.semitones) if mods[0].interval is not None else 0
        quality = _QUALITY_OF_KIND.get((kind, added, alter))
        if quality is None:
            return None
        symbol = _yuefu_name(root.name) + quality
        bass = cs.bass()
        if bass is not None and bass.name != root.name:
            symbol += "/" + _yuefu_name(bass.name)
        parse_chord(symbol)
        return symbol
    except Exception:  # a chord music21 half-understood: skip it, never fail the score
        return None


def _part_groups(m21: Any) -> list[list[Any]]:
    """Parts of the score, the staves of one multi-staff part together."""
    from music21 import stream

    groups: list[list[Any]] = []
    last_prefix = None
    for p in m21.parts:
        pid = str(p.id)
        if isinstance(p, stream.PartStaff) and "-Staff" in pid:
            prefix = pid.rsplit("-Staff", 1)[0]
            if prefix == last_prefix and groups:
                groups[-1].append(p)
                continue
            last_prefix = prefix
        else:
            last_prefix = None
        groups.append([p])
    return groups


def _track_meta(meta_tracks: list[Any], index: int, part_name: str) -> dict[str, Any]:
    """What yuefu wrote about this part: by position, unless the parts were renamed or moved
    in another program since, then by name; nothing when neither fits."""
    entries = [m for m in meta_tracks if isinstance(m, dict)]
    if index < len(meta_tracks) and isinstance(meta_tracks[index], dict):
        m = meta_tracks[index]
        if not part_name or m.get("name") == part_name:
            return m
    return next((m for m in entries if part_name and m.get("name") == part_name), {})


def _from_m21(m21: Any, info: _FileInfo, source: str) -> Score:
    from music21 import expressions, harmony, instrument, meter, note, tempo
    from music21 import key as m21key

    from yuefu.core.io.midi import _cc7_to_gain, _guess_role

    groups = _part_groups(m21)
    if not groups:
        raise ScoreLoadError(f"{source}: the MusicXML score has no parts; nothing to read")
    meta_tracks: list[Any] = info.meta["tracks"] if isinstance(info.meta.get("tracks"),
                                                                list) else []
    score = Score(tempos=[], time_signatures=[], title=info.title)
    tempos: dict[float, float] = {}
    chords: dict[float, str] = {}
    sections: dict[float, str] = {}
    directions: set[tuple[float, str]] = set()
    fermatas: set[float] = set()
    keys_from: tuple[int, list[tuple[float, int, str]]] | None = None
    used: set[str] = set()
    for gi, staff_parts in enumerate(groups):
        flats = [p.flatten() for p in staff_parts]
        first = staff_parts[0]
        inst = first.getInstrument(returnDefault=False)
        meta = _track_meta(meta_tracks, gi, str(first.partName or "").strip())
        name = str(first.partName or "").strip() or str(meta.get("name") or "").strip()
        if not name and inst is not None:
            name = str(inst.instrumentName or "").strip()
        name = name or f"track{gi + 1}"
        base, k = name, 2
        while name in used:
            name = f"{base}_{k}"
            k += 1
        used.add(name)
        has_unpitched = any(isinstance(n, note.Unpitched) or
                            (hasattr(n, "notes") and any(isinstance(x, note.Unpitched)
                                                         for x in n.notes))
                            for f in flats for n in f.notes)
        is_drum = bool(meta.get("drum")) if "drum" in meta else (
            has_unpitched or isinstance(inst, instrument.UnpitchedPercussion)
            or (inst is not None and inst.midiChannel == 9))
        part_info = info.parts[gi] if gi < len(info.parts) else {}
        # the file's <midi-program> first (music21 drops programs it has no instrument for),
        # then music21's instrument, then what yuefu wrote beside it (drum tracks have none)
        program = 0
        if "program" in part_info:
            program = part_info["program"]
        elif inst is not None and inst.midiProgram is not None:
            program = int(inst.midiProgram)
        elif isinstance(meta.get("program"), int):
            program = meta["program"]
        program = max(0, min(127, program))
        try:
            gain_db = float(meta["gain_db"]) if "gain_db" in meta else (
                _cc7_to_gain(round(127 * part_info["volume"] / 100.0))
                if "volume" in part_info else 0.0)
            pan = float(meta["pan"]) if "pan" in meta else (
                part_info["pan"] / 90.0 if "pan" in part_info else 0.0)
        except (TypeError, ValueError):
            gain_db, pan = 0.0, 0.0
        if not math.isfinite(pan):
            pan = 0.0
        role = meta.get("role", "")
        if role not in ROLES:
            role = _guess_role(name, program, is_drum)
        track = Track(name, program, is_drum, role, gain_db=gain_db if math.isfinite(gain_db)
                      else 0.0, pan=max(-1.0, min(1.0, pan)))

        unmarked: list[Note] = []  # notes without a dynamics attribute of their own
        for si, (sp, f) in enumerate(zip(staff_parts, flats, strict=True)):
            # a part of several staves (a piano's) keeps each note's staff: 1 is the top one
            _read_notes(sp, track, staff=si + 1 if len(staff_parts) > 1 else None, unmarked=unmarked)
            for mm in f.getElementsByClass(tempo.MetronomeMark):
                bpm = mm.getQuarterBPM()
                if bpm and 1.0 <= bpm <= 1000.0:
                    tempos.setdefault(round(float(mm.offset), 9), round(float(bpm), 3))
            for cs in f.getElementsByClass(harmony.ChordSymbol):
                sym = _from_m21_chord_symbol(cs)
                if sym is not None:
                    chords.setdefault(round(float(cs.offset), 9), sym)
            for rm in f.getElementsByClass(expressions.RehearsalMark):
                text = str(rm.content or "").strip()
                if text:
                    sections.setdefault(round(float(rm.offset), 9), text)
            for r in f.getElementsByClass(note.Rest):  # a fermata over a rest: a general pause
                if any(isinstance(e, expressions.Fermata) for e in r.expressions):
                    fermatas.add(round(float(r.offset), 9))
            for te in f.getElementsByClass(expressions.TextExpression):
                if isinstance(te, expressions.RehearsalMark):
                    continue
                text = " ".join(str(te.content or "").split())
                if text:
                    directions.add((round(float(te.offset), 9), text))
        if unmarked:
            _apply_dynamics(unmarked, *_dynamics_of(staff_parts, flats))
        track.pedals = _pedals_of(flats, track.end)
        if gi == 0:
            prev = None
            for ts in flats[0].getElementsByClass(meter.TimeSignature):
                pair = (int(ts.numerator), int(ts.denominator))
                if pair == prev:
                    continue
                try:
                    score.time_signatures.append(TimeSignature(float(ts.offset), *pair))
                except ParameterError:
                    continue
                prev = pair
        if keys_from is None or (keys_from[0] == 1 and not is_drum):
            found: list[tuple[float, int, str]] = []
            for ks in flats[0].getElementsByClass(m21key.KeySignature):
                mode = str(ks.mode) if isinstance(ks, m21key.Key) else "major"
                found.append((float(ks.offset), max(-7, min(7, int(ks.sharps))), mode))
            keys_from = (1 if is_drum else 0, found)
        track.sort()
        score.tracks.append(track)

    meta_keys: list[Any] = info.meta["keys"] if isinstance(info.meta.get("keys"), list) else []
    exact: dict[float, tuple[int, str]] = {}
    for entry in meta_keys:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            exact[round(float(entry[0]), 6)] = (int(entry[1]), str(entry[2]))
    prev_key: Key | None = None
    for beat, sharps, mode in (keys_from[1] if keys_from else []):
        key_here = _make_key(sharps, mode, exact.get(round(beat, 6)))
        if prev_key is not None and key_here == prev_key and key_here.sharps() == prev_key.sharps():
            continue
        score.key_signatures.append(KeySignature(beat, key_here))
        prev_key = key_here
    score.tempos = [Tempo(b, bpm) for b, bpm in sorted(tempos.items())] or [Tempo(0.0, 120.0)]
    if not score.time_signatures:
        score.time_signatures.append(TimeSignature(0.0))
    score.chords = [ChordSymbol(b, s) for b, s in sorted(chords.items())]
    score.sections = [Section(b, s) for b, s in sorted(sections.items())]
    score.directions = [Direction(b, t) for b, t in sorted(directions)]
    score.fermatas = sorted(fermatas)
    return score.normalize()


def _make_key(sharps: int, mode: str, exact: tuple[int, str] | None) -> Key:
    """The key a ``<key>`` element names, made exact by what yuefu wrote beside it."""
    if exact is not None:
        tonic, exact_mode = exact
        with contextlib.suppress(ParameterError):
            k = Key.from_sharps(sharps, exact_mode)
            if k.tonic == tonic:
                return k
        with contextlib.suppress(ParameterError):
            k = Key(tonic, exact_mode)
            if k.sharps() == sharps:
                return k
    mode = _MODE_FROM_XML.get(mode, mode)
    return Key.from_sharps(sharps, mode if mode in _XML_MODES else "major")


def _read_notes(part: Any, track: Track, *, staff: int | None = None, unmarked: list[Note] | None = None
                ) -> None:
    """Append the notes of one part (or staff) to ``track``, merging ties.

    ``staff`` (1 = the top one) is given to every note read when the part has several staves. The
    notes without a ``dynamics`` attribute of their own (velocity 90 for now) are added to
    ``unmarked``.
    """
    from music21 import chord, harmony, note

    # a tie goes on from the note of the same pitch that ends where this one starts, in the
    # same voice where there is one: open ties by (pitch, exact end), with their voice
    open_ties: dict[tuple[int, Fraction], list[tuple[str, Note]]] = {}
    graces: dict[str, list[int]] = {}  # grace notes waiting for their note, by voice
    for start, voice, el in _timed_notes(part):
        if isinstance(el, harmony.Harmony):
            continue
        ql = el.duration.quarterLength
        if el.duration.isGrace:
            top = max((_member_pitch(m) for m in (el.notes if isinstance(el, chord.ChordBase) else [el])),
                      default=-1)
            if 0 <= top <= 127:
                graces.setdefault(voice, []).append(top)
            continue
        if ql <= 0:
            continue
        end = start + Fraction(ql)
        onset, dur = float(start), float(ql)
        is_chord = isinstance(el, chord.ChordBase)
        members = list(el.notes) if is_chord else [el]
        lyric = _lyric_text(el)
        orn = _ornament_of(el)
        marks = _articulations_of(el)
        # a sign over a chord is the top note's (a trill, a turn is played on the melody note)
        orn_at = max(range(len(members)), key=lambda j: _member_pitch(members[j])) if orn and is_chord else 0
        # grace notes lead into the member of the chord nearest them
        grace = tuple(graces.pop(voice, ()))
        grace_at = min(range(len(members)), key=lambda j: abs(_member_pitch(members[j]) - grace[-1])) \
            if grace else 0
        for i, mem in enumerate(members):
            if isinstance(mem, note.Unpitched):
                pitch = _drum_key(str(mem.displayStep), int(mem.displayOctave),
                                  str(mem.notehead or "normal"))
            else:
                pitch = int(mem.pitch.midi)
            if not 0 <= pitch <= 127:
                continue
            tie_type = mem.tie.type if mem.tie is not None else None
            if tie_type is None and is_chord and el.tie is not None:
                tie_type = el.tie.type
            held = None
            waiting = open_ties.get((pitch, start)) if tie_type in ("stop", "continue") else None
            if waiting:
                k = next((j for j, (v, _) in enumerate(waiting) if v == voice), 0)
                held = waiting.pop(k)[1]
            if held is not None:
                held.duration = float(end) - held.onset
                if tie_type == "continue":
                    open_ties.setdefault((pitch, end), []).append((voice, held))
                continue
            vel = _velocity(mem, el)
            n = Note(pitch, onset, dur, _DEFAULT_VELOCITY if vel is None else vel, lyric if i == 0 else None,
                     staff, orn if i == orn_at else None, grace if i == grace_at else (),
                     tuple(a for a in ARTICULATIONS if a in marks or a in _articulations_of(mem)))
            track.notes.append(n)
            if vel is None and unmarked is not None:
                unmarked.append(n)
            if tie_type in ("start", "continue"):
                open_ties.setdefault((pitch, end), []).append((voice, n))


def _member_pitch(mem: Any) -> int:
    p = getattr(mem, "pitch", None)
    return int(p.midi) if p is not None else -1


def _ornament_of(el: Any) -> str | None:
    """The ornament sign over a note or chord, as :data:`yuefu.core.score.ORNAMENTS` names it."""
    from music21 import expressions

    for x in getattr(el, "expressions", ()):
        if isinstance(x, expressions.Trill):  # and its kinds: half-step, whole-step, shake
            return "trill"
        if isinstance(x, expressions.GeneralMordent):  # upper (inverted) or lower
            return "mordent"
        if isinstance(x, expressions.Turn):  # and the inverted turn
            return "turn"
    return None


def _timed_notes(part: Any) -> list[tuple[Fraction, str, Any]]:
    """(offset in beats, voice, note or chord) of a part, in time order."""
    from music21 import stream

    measures = list(part.getElementsByClass(stream.Measure))
    if not measures:
        return [(Fraction(el.offset), "1", el) for el in part.flatten().notes]
    out: list[tuple[Fraction, str, Any]] = []
    for m in measures:
        base = Fraction(m.offset)
        out.extend((base + Fraction(el.offset), "1", el) for el in m.notes)
        for v in m.voices:
            vbase = base + Fraction(v.offset)
            out.extend((vbase + Fraction(el.offset), str(v.id), el) for el in v.notes)
    out.sort(key=lambda x: x[0])
    return out
