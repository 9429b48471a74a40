"""Small hand-made melodies for the arranger's tests: 2-bar sung lines with lyrics, a verse and
a chorus twice, one chord a bar."""

from __future__ import annotations

from yuefu.core.score import ChordSymbol, KeySignature, Note, Score, Section, Tempo, TimeSignature, Track
from yuefu.core.theory import Key, parse_chord

#: (section, chords of its four bars); the verse comes back with a slash chord and a seventh.
FORM = [
    ("verse", ["C", "Am", "F", "G"]),
    ("chorus", ["F", "G", "Em", "Am"]),
    ("verse", ["C", "G/B", "Am", "G7"]),
    ("chorus", ["F", "G", "C", "C"]),
]
SYLLABLES = "la lu li lo le na nu ni no ne".split()

# per meter: (beats per bar, rhythm of the line's first bar, of its second bar (then a rest))
RHYTHMS = {
    (4, 4): (4.0, [1.0, 1.0, 1.0, 0.5, 0.5], [1.0, 1.0]),
    (3, 4): (3.0, [1.0, 1.0, 1.0], [1.0, 0.5]),
    (6, 8): (3.0, [1.0, 0.5, 1.0, 0.5], [1.5]),
    (2, 4): (2.0, [1.0, 0.5, 0.5], [1.0]),
    (12, 8): (6.0, [1.0, 0.5, 1.0, 0.5, 1.5, 1.5], [1.5, 1.0, 0.5]),
}


def make_melody(meter=(4, 4), *, key="C major", tempo_bpm=100.0, form=FORM, shift=0, title="test"):
    """A melody Score (one 'vocal' track with lyrics, sections, chords) and its chord list.

    Strong-beat notes are chord tones near the previous note; the others step through the scale.
    ``shift`` transposes the sung notes (not the chords) by semitones, to test extreme registers.
    """
    k = Key.parse(key)
    bar_beats, r1, r2 = RHYTHMS[tuple(meter)]
    score = Score(tempos=[Tempo(0.0, tempo_bpm)], time_signatures=[TimeSignature(0.0, *meter)],
                  key_signatures=[KeySignature(0.0, k)], title=title)
    vocal = score.add_track(Track("vocal", program=73, role="vocal"))
    chords: list[ChordSymbol] = []
    scale = [p for p in range(48, 90) if k.contains(p)]
    prev = 64
    bar = 0
    syl = 0
    for section, names in form:
        score.sections.append(Section(bar * bar_beats, section))
        lo, hi = (60, 70) if section == "verse" else (65, 77)
        for i, name in enumerate(names):
            t0 = bar * bar_beats
            chords.append(ChordSymbol(t0, name))
            pcs = parse_chord(name).pitch_classes
            t = t0
            for j, d in enumerate(r1 if i % 2 == 0 else r2):
                if j == 0 or (t - t0) % (bar_beats / 2) == 0:
                    cands = [p for p in range(lo, hi + 1) if p % 12 in pcs]
                else:
                    cands = [p for p in scale if lo - 2 <= p <= hi + 2 and p != prev]
                pitch = min(cands, key=lambda p: (abs(p - prev - 1), p))
                vocal.notes.append(Note(pitch + shift, t, d, velocity=88, lyric=SYLLABLES[syl % 10]))
                syl += 1
                prev = pitch
                t += d
            bar += 1
    score.chords = list(chords)
    return score, chords
