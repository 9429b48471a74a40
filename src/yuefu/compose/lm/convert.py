"""Between yuefu's :class:`~yuefu.core.score.Score` and the model's token rows.

The model writes in C major / A minor: a prompt is transposed there by the smallest shift
(-6..+5 semitones) and the output transposed back, so keys are handled exactly rather than
learned. Its melody (a track with role melody, vocal or lead, or a lone monophonic track) and
its accompaniment (every other pitched track) become the two tracks of the token stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.core.score import ChordSymbol, KeySignature, Note, Score, Tempo, TimeSignature, Track
from yuefu.core.theory import SCALES, Key, parse_chord

from .tokens import ACCOMP_PROGRAM, MELODY_PROGRAM, METERS, CPTokenizer, chord_label

__all__ = ["PreparedPrompt", "prepare_prompt", "key_shift", "rows_to_score", "estimate_chords", "MELODY_NAME",
           "ACCOMP_NAME"]

TPQ = 480
MELODY_NAME, ACCOMP_NAME = "melody", "piano"
#: GM programs of the tracks the model writes (flute lead, acoustic grand piano).
MELODY_GM, ACCOMP_GM = 73, 0


def key_shift(key: Key) -> tuple[int, str]:
    """Semitones (-6..5) that take ``key`` to C major (major-like) or A minor (minor-like)."""
    major = 4 in SCALES[key.mode]
    target = 0 if major else 9
    return ((target - key.tonic + 6) % 12) - 6, ("major" if major else "minor")


def _fold(pitch: int, lo: int = 21, hi: int = 108) -> int:
    while pitch < lo:
        pitch += 12
    while pitch > hi:
        pitch -= 12
    return pitch


@dataclass
class PreparedPrompt:
    """A person's score, ready to be tokenized as the start of a continuation."""

    symbolic: Any  # symusic.Score in C major / A minor, programs per track kind
    chords: list[tuple[int, str]]
    key: Key
    shift: int
    mode: str
    meter: str
    tempo_bpm: float
    bars: int  # whole bars the prompt spans (its end rounded up to a bar line)
    melody_track: str | None
    accomp_tracks: list[str]
    warnings: list[str] = field(default_factory=list)
    #: True when ``chords`` were estimated from the notes (the prompt had no chord symbols).
    chords_estimated: bool = False


#: Triads :func:`estimate_chords` chooses from, and the diatonic ones of C major / A minor that
#: it prefers on a tie (the model's frame).
_TRIADS = {"": (0, 4, 7), "m": (0, 3, 7)}
_DIATONIC = {"C", "Dm", "Em", "F", "G", "Am"}


def estimate_chords(notes: np.ndarray, *, bar_beats: float, end_beat: float,
                    split_beats: float | None = 2.0) -> list[tuple[float, str]]:
    """A chord per bar or half bar from the notes themselves (template matching), for a prompt
    that carries no chord symbols.

    Each span (a bar, or its halves when they want different chords) gets the major or minor
    triad whose tones hold the most sounding time minus half the time of the other notes, with
    the lowest note's pitch class counted twice and diatonic triads of C major / A minor (the
    model's frame) preferred by a small margin; a span with no notes keeps the chord before it.

    Parameters
    ----------
    notes : np.ndarray [shape=(n, 3)]
        Onset (beats), duration (beats) and MIDI pitch of every note.
    bar_beats : float
        Beats per bar (4 in 4/4, 3 in 3/4).
    end_beat : float
        Where the last bar ends.
    split_beats : float, optional
        Where a bar may change chord (2: on beat 3 of a 4/4 bar); None: one chord per bar.

    Returns
    -------
    list of (beat, label)
        Chord changes, labels as :func:`~yuefu.compose.lm.tokens.chord_label` writes them
        (``"C"``, ``"Am"``), consecutive repeats merged.
    """
    notes = np.asarray(notes, dtype=np.float64).reshape(-1, 3)
    templates = []
    for q, iv in _TRIADS.items():
        for root in range(12):
            t = np.full(12, -0.5)
            t[[(root + i) % 12 for i in iv]] = 1.0
            lab = chord_label(root, q)
            templates.append((lab, root, t, 0.05 if lab in _DIATONIC else 0.0))

    def best(a: float, b: float) -> tuple[str | None, float]:
        on, off = notes[:, 0], notes[:, 0] + notes[:, 1]
        w = np.clip(np.minimum(off, b) - np.maximum(on, a), 0.0, None)
        if not np.any(w > 1e-9):
            return None, 0.0
        hist = np.bincount(notes[:, 2].astype(np.int64) % 12, weights=w, minlength=12)
        sounding = w > 1e-9
        bass = int(notes[sounding, 2][np.argmin(notes[sounding, 2])]) % 12
        hist = hist / hist.sum()
        scores = [(float(t @ hist) + (0.25 if root == bass else 0.0) + prior, lab)
                  for lab, root, t, prior in templates]
        sc, lab = max(scores)
        return lab, sc

    out: list[tuple[float, str]] = []
    n_bars = max(1, int(np.ceil(end_beat / bar_beats - 1e-6)))
    for b in range(n_bars):
        a, e = b * bar_beats, (b + 1) * bar_beats
        whole, _ = best(a, e)
        spans: list[tuple[float, str | None]] = [(a, whole)]
        if split_beats and whole is not None and bar_beats > split_beats:
            first, _ = best(a, a + split_beats)
            second, _ = best(a + split_beats, e)
            if first and second and first != second:
                spans = [(a, first), (a + split_beats, second)]
        for beat, label in spans:
            if label is not None and (not out or out[-1][1] != label):
                out.append((beat, label))
    return out


def _is_monophonic(track: Track) -> bool:
    ons: dict[float, int] = {}
    for n in track.notes:
        ons[round(n.onset, 3)] = ons.get(round(n.onset, 3), 0) + 1
    return sum(1 for c in ons.values() if c > 1) <= 0.1 * max(1, len(ons))


def prepare_prompt(score: Score, *, source: str = "the prompt",
                   estimate_missing_chords: bool = True) -> PreparedPrompt:
    """Check a prompt and turn it into the model's frame (key, meter, tracks).

    A prompt without chord symbols gets chords estimated from its notes
    (:func:`estimate_chords`) unless ``estimate_missing_chords`` is False: the model was trained
    on annotated chords and reads a prompt without any as out of its experience.

    Raises
    ------
    ParameterError
        The prompt holds no notes, only drums, or a meter the model does not know (it knows
        4/4 and 3/4), or changes meter.
    """
    pitched = [t for t in score.tracks if not t.is_drum and t.notes]
    if not pitched:
        if any(t.is_drum and t.notes for t in score.tracks):
            raise ParameterError(f"{source} holds only drum notes; give a melody or a piano part "
                                 "to continue")
        raise ParameterError(f"{source} holds no notes; give a melody or a piano part to continue")
    meters = {(ts.numerator, ts.denominator) for ts in score.time_signatures} or {(4, 4)}
    if len(meters) > 1:
        raise ParameterError(f"{source} changes meter ({', '.join(f'{a}/{b}' for a, b in sorted(meters))}); "
                             "the model continues pieces in one meter, 4/4 or 3/4")
    num, den = next(iter(meters))
    meter = f"{num}/{den}"
    if meter not in METERS:
        raise ParameterError(f"{source} is in {meter}, a meter the model does not know; it writes "
                             f"in {' and '.join(METERS)}")
    first_ts = min(ts.beat for ts in score.time_signatures) if score.time_signatures else 0.0
    if first_ts > 1e-6:
        raise ParameterError(f"{source}: its time signature starts at beat {first_ts:g}, not at 0")
    key = score.key_at(0.0) or score.estimate_key()
    shift, mode = key_shift(key)
    roles = {t.name: t.role for t in pitched}
    melody = next((t.name for t in pitched if roles[t.name] in ("melody", "vocal", "lead")), None)
    if melody is None and len(pitched) == 1 and _is_monophonic(pitched[0]):
        melody = pitched[0].name
    accomp = [t.name for t in pitched if t.name != melody]

    import symusic

    sym = symusic.Score(TPQ)
    sym.time_signatures.append(symusic.TimeSignature(0, num, den))
    tempo = float(sorted(score.tempos, key=lambda t: t.beat)[0].bpm) if score.tempos else 120.0
    sym.tempos.append(symusic.Tempo(0, tempo))
    for prog, names in ((MELODY_PROGRAM, [melody] if melody else []), (ACCOMP_PROGRAM, accomp)):
        if not names:
            continue
        st = symusic.Track("melody" if prog == MELODY_PROGRAM else "accompaniment", prog, False)
        for t in pitched:
            if t.name in names:
                for n in t.notes:
                    on = int(round(n.onset * TPQ))
                    st.notes.append(symusic.Note(on, max(1, int(round(n.duration * TPQ))),
                                                 _fold(n.pitch + shift), int(n.velocity)))
        sym.tracks.append(st)
    chords = []
    for c in sorted(score.chords, key=lambda c: c.beat):
        try:
            ch = parse_chord(c.symbol)
        except ParameterError:
            continue
        chords.append((int(round(c.beat * TPQ)), chord_label(ch.root + shift, ch.quality)))
    bar_beats = num * 4.0 / den
    bars = max(1, int(np.ceil(score.end_beat / bar_beats - 1e-6)))
    estimated = False
    if not chords and estimate_missing_chords:
        arr = np.array([(n.onset, n.duration, n.pitch + shift) for t in pitched for n in t.notes])
        chords = [(int(round(b * TPQ)), lab) for b, lab in
                  estimate_chords(arr, bar_beats=bar_beats, end_beat=bars * bar_beats,
                                  split_beats=2.0 if num == 4 else None)]
        estimated = bool(chords)
    return PreparedPrompt(sym, chords, key, shift, mode, meter, tempo, bars, melody, accomp,
                          chords_estimated=estimated)


def rows_to_score(tok: CPTokenizer, rows: np.ndarray, *, meter: str, key: Key, shift: int,
                  tempo_bpm: float, offset_beats: float = 0.0, title: str = "") -> Score:
    """Decode model rows (starting with a BAR row) to a Score in ``key``.

    ``shift`` is the transposition that took ``key`` to the model's frame (it is undone);
    ``offset_beats`` moves everything later (a continuation starts after its prompt).
    """
    sym, chords = tok.decode(rows, meter=meter)
    num, den = (int(x) for x in meter.split("/"))
    score = Score(tempos=[Tempo(0.0, float(tempo_bpm))], time_signatures=[TimeSignature(0.0, num, den)],
                  key_signatures=[KeySignature(0.0, key)], title=title)
    tpq = sym.ticks_per_quarter
    mel = Track(MELODY_NAME, MELODY_GM, role="melody")
    acc = Track(ACCOMP_NAME, ACCOMP_GM, role="accompaniment")
    for st in sym.tracks:
        dest = mel if int(st.program) == MELODY_PROGRAM else acc
        for n in st.notes:
            if n.duration <= 0:
                continue
            dest.notes.append(Note(_fold(int(n.pitch) - shift, 0, 127), offset_beats + n.time / tpq,
                                   n.duration / tpq, max(1, min(127, int(n.velocity)))))
    for t in (mel, acc):
        if t.notes:
            t.sort()
            score.add_track(t)
    flats = key.sharps() < 0
    for beat, lab in chords:
        ch = parse_chord(lab)
        from yuefu.core.theory import Chord, chord_symbol

        sym_txt = chord_symbol(Chord((ch.root - shift) % 12, ch.quality), flats=flats)
        score.chords.append(ChordSymbol(offset_beats + beat, sym_txt))
    return score.normalize()
