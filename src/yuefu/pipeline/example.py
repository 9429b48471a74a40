"""The bundled example piece: a short song written in code, so that ``make song`` has
something of our own to render (no third-party music ships with yuefu).

It is a deterministic demonstration of the Score vocabulary (six tracks, chord symbols,
sections, lyrics under the melody), not the songwriter: the songwriter issue replaces it with
``yuefu song``. The lyric is original to this project.

>>> s = example_score(seed=1)
>>> [t.name for t in s.tracks]
['lead', 'piano', 'guitar', 'strings', 'bass', 'drums']
>>> round(s.duration_s)
60
"""

from __future__ import annotations

import numpy as np

from yuefu.core.score import ChordSymbol, KeySignature, Note, Score, Section, Tempo, Track
from yuefu.core.theory import Chord, Key, parse_chord

__all__ = ["example_score", "EXAMPLE_LYRICS"]

#: Verse and chorus, two bars a line; a trailing "-" joins a syllable to the next one.
EXAMPLE_LYRICS = {
    "verse": [
        "Lan- terns drift a- long the ri- ver,",
        "night is soft and stars are near;",
        "songs we wrote in sum- mer wea- ther,",
        "come a- gain when skies are clear.",
    ],
    "chorus": [
        "Sing with me the old- est mel- o- dy,",
        "hear it rise a- bove the sea;",
        "sing with me the old- est mel- o- dy,",
        "home is where the mu- sic leads me.",
    ],
}

# Roman-numeral degrees of the major scale -> chord (root degree, quality).
_DEGREES = {"I": (1, ""), "ii": (2, "m"), "iii": (3, "m"), "IV": (4, ""), "V": (5, ""),
            "vi": (6, "m"), "V7": (5, "7"), "Isus4": (1, "sus4")}
_FORM = [  # section, bars, progression (one chord a bar)
    ("intro", 4, ["I", "vi", "IV", "V"]),
    ("verse", 8, ["I", "vi", "IV", "V", "I", "vi", "IV", "V7"]),
    ("chorus", 8, ["IV", "V", "iii", "vi", "IV", "V", "I", "I"]),
    ("outro", 4, ["IV", "V", "Isus4", "I"]),
]


def _chord_name(key: Key, numeral: str) -> str:
    degree, quality = _DEGREES[numeral]
    root = key.degree_pitch(degree) % 12
    return Chord(root, quality).symbol


def _melody_line(rng: np.random.Generator, syllables: list[str], start: float, chords: list[str],
                 key: Key, low: int, high: int, prev: int, last_line: bool) -> tuple[list[Note], int]:
    """One two-bar sung line: strong beats on chord tones, steps in between, a long last note."""
    n = len(syllables)
    durs = [1.0] * n
    while sum(durs[:-1]) > 5.5:
        i = int(rng.integers(0, n - 1))
        if durs[i] > 0.5:
            durs[i] = 0.5
    rest = 1.0 if rng.random() < 0.5 else 0.5
    durs[-1] = 8.0 - rest - sum(durs[:-1])
    scale = [p for p in range(low, high + 1) if key.contains(p)]
    notes, t, pitch = [], start, prev
    for i, (syl, d) in enumerate(zip(syllables, durs, strict=True)):
        chord = parse_chord(chords[int((t - start) // 4)])
        on_strong = abs((t - start) % 2.0) < 1e-9
        if i == n - 1:
            pcs = [key.tonic] if last_line else list(chord.pitch_classes[:2])
            cands = [p for p in scale if p % 12 in pcs]
        elif on_strong:  # a chord tone, a leap of up to a fifth now and then
            tones = [p for p in scale if p % 12 in chord.pitch_classes and 0 < abs(p - pitch) <= 7]
            cands = [tones[int(rng.integers(0, len(tones)))]] if tones else [pitch]
        else:
            idx = min(range(len(scale)), key=lambda k: abs(scale[k] - pitch))
            step = int(rng.choice([-2, -1, -1, 1, 1, 2]))
            cands = [scale[int(np.clip(idx + step, 0, len(scale) - 1))]]
        pitch = min(cands, key=lambda p: (abs(p - pitch), p))
        notes.append(Note(pitch, t, d, velocity=int(rng.integers(84, 100)), lyric=syl))
        t += d
    return notes, pitch


def example_score(*, seed: int = 0, key: str = "D major", tempo_bpm: float = 96.0,
                  title: str = "Lanterns on the River") -> Score:
    """Write the example song.

    Parameters
    ----------
    seed : int
        Seeds every random choice (melody steps, rhythm, velocities, drum variations).
    key : str
        A major key, e.g. ``"D major"``.
    tempo_bpm : float
        Quarter notes per minute.
    title : str

    Returns
    -------
    Score
        24 bars of 4/4 (intro, verse, chorus, outro): lead, piano, guitar, strings, bass, drums.
    """
    rng = np.random.default_rng(seed)
    k = Key.parse(key)
    score = Score(tempos=[Tempo(0.0, tempo_bpm)], key_signatures=[KeySignature(0.0, k)],
                  title=title)
    lead = score.add_track(Track("lead", program=73, role="melody", gain_db=0.0))
    piano = score.add_track(Track("piano", program=0, role="chords", gain_db=-3.0, pan=-0.2))
    guitar = score.add_track(Track("guitar", program=25, role="accompaniment", gain_db=-6.0,
                                   pan=0.35))
    strings = score.add_track(Track("strings", program=48, role="strings", gain_db=-8.0))
    bass = score.add_track(Track("bass", program=33, role="bass", gain_db=-2.0))
    drums = score.add_track(Track("drums", is_drum=True, role="drums", gain_db=-3.0))

    bar = 0
    prev_pitch = k.degree_pitch(1, octave=4)
    for section, n_bars, prog in _FORM:
        start = bar * 4.0
        score.sections.append(Section(start, section))
        names = [_chord_name(k, numeral) for numeral in prog]
        for b, name in enumerate(names):
            score.chords.append(ChordSymbol(start + 4 * b, name))
        if section in EXAMPLE_LYRICS:
            tonic = 60 + k.tonic  # the tonic in C4..B4
            low, high = (tonic - 3, tonic + 9) if section == "verse" else (tonic + 2, tonic + 14)
            for li, line in enumerate(EXAMPLE_LYRICS[section]):
                notes, prev_pitch = _melody_line(
                    rng, line.split(), start + 8 * li, names[2 * li:2 * li + 2], k, low, high,
                    prev_pitch, last_line=(li == 3 and section == "chorus"))
                lead.notes.extend(notes)
        for b, name in enumerate(names):
            t0 = start + 4 * b
            chord = parse_chord(name)
            voicing = chord.pitches(octave=4)
            root = chord.root + 36 if chord.root + 36 >= 38 else chord.root + 48
            last_bar = b == n_bars - 1
            # piano: a half-note pulse, the second hit pushed in the chorus
            hits = [(0.0, 2.0), (2.0, 2.0)] if section != "chorus" else [(0.0, 1.5), (1.5, 2.5)]
            if section == "outro" and last_bar:
                hits = [(0.0, 4.0)]
            for off, d in hits:
                for p in voicing:
                    piano.notes.append(Note(p, t0 + off, d, velocity=int(rng.integers(62, 76))))
            # guitar: eighth-note arpeggio in the verse and chorus
            if section in ("verse", "chorus"):
                arp = [voicing[0] - 12, voicing[1], voicing[2], voicing[1] + 12]
                for e in range(8):
                    p = arp[[0, 1, 2, 3, 2, 1, 2, 3][e]]
                    guitar.notes.append(Note(p, t0 + e * 0.5, 0.5,
                                             velocity=int(rng.integers(55, 70))))
            # strings: sustained chords from the chorus on
            if section in ("chorus", "outro", "intro"):
                for p in chord.pitches(octave=3)[-3:]:
                    strings.notes.append(Note(p + 12, t0, 4.0, velocity=58))
            # bass: root on 1, fifth on 3, a pickup before the next bar
            if section != "intro" or b >= 2:
                bass.notes.append(Note(root, t0, 1.5, velocity=92))
                bass.notes.append(Note(root + 7, t0 + 2.0, 1.0, velocity=84))
                bass.notes.append(Note(root + 12 if rng.random() < 0.5 else root, t0 + 3.0,
                                       0.5, velocity=80))
                bass.notes.append(Note(root, t0 + 3.5, 0.5, velocity=76))
            # drums: kick, snare, hats; a fill in the last bar of a section
            if section == "intro" and b < 2:
                continue
            if last_bar and section != "outro":
                drums.notes.append(Note(36, t0, 0.25, velocity=90))
                drums.notes.append(Note(36, t0 + 1.5, 0.25, velocity=90))
                for s in range(8, 16):
                    tom = [50, 50, 48, 48, 47, 47, 45, 45][s - 8]
                    drums.notes.append(Note(tom, t0 + s * 0.25, 0.25,
                                            velocity=int(70 + 3 * (s - 8))))
                drums.notes.append(Note(38, t0 + 1.0, 0.25, velocity=96))
                continue
            for beat in (0.0, 2.0):
                drums.notes.append(Note(36, t0 + beat, 0.25, velocity=100))
            if rng.random() < 0.4:
                drums.notes.append(Note(36, t0 + 2.5, 0.25, velocity=80))
            for beat in (1.0, 3.0):
                drums.notes.append(Note(38, t0 + beat, 0.25, velocity=98))
            for e in range(8):
                drums.notes.append(Note(42, t0 + e * 0.5, 0.25,
                                        velocity=78 if e % 2 == 0 else 60))
            if b == 0 and section != "intro":
                drums.notes.append(Note(49, t0, 1.0, velocity=96))
        bar += n_bars
    drums.notes.append(Note(49, bar * 4.0 - 4.0, 2.0, velocity=100))
    return score.normalize()
