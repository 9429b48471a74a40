"""The singer: a Score's lyric line in, a sung vocal out (espeak-ng phonemes, WORLD vocoder).

How it works, per phrase (rests split phrases): each distinct syllable is said once by espeak-ng
at a steady pitch and analysed by WORLD into spectral envelope and aperiodicity frames
(:mod:`yuefu.sing.units`); :mod:`yuefu.sing.timing` places the onset consonants before the beat,
the vowel from the onset through the note (its steady part stretched back and forth at a
fraction of its natural rate), the coda at the end; :mod:`yuefu.sing.pitch` draws the F0 line
with portamento and vibrato; WORLD synthesises the phrase at 44.1 kHz; velocity, attack and
release shape the level, and a soft breath comes before each phrase after a rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.audio import Audio
from yuefu.core.errors import ParameterError
from yuefu.core.score import Score, Track
from yuefu.sing.phonetics import LANGS, Syllable, detect_language, is_melisma, la_syllable, syllabify
from yuefu.sing.pitch import f0_curve
from yuefu.sing.timing import NoteSpan, SyllableTiming, UnitShape, nucleus_positions, phrases, plan_syllables
from yuefu.sing.units import FRAME_S, SYNTH_SR, Unit, Voice, load_unit, pyworld_module

__all__ = ["VOICES", "SungNote", "SingResult", "sing", "sing_file", "attach_lyrics"]

#: The singing voices, by name.
VOICES: Mapping[str, Voice] = {
    # espeak's female5: its formants scaled evenly (female3 moves F2 by 135% - 250 Hz, which
    # blurs the vowels under high notes: 28% of the benchmark's words recognised against 45%)
    "female": Voice("female", "+f5", 62, 1.0, 55, 81, tilt_db_per_octave=7.0),
    "male": Voice("male", "", 35, 0.97, 40, 69, tilt_db_per_octave=4.0),
}
_ESPEAK_VOICE = {"zh": "cmn-latn-pinyin", "en": "en-us"}
_LEGATO_GAP_S = 0.05
_PEAK = 0.89


@dataclass(frozen=True, slots=True)
class SungNote:
    """One sung note (seconds from score time 0).

    ``pitch`` is the MIDI pitch sung (after any octave transposition); ``syllable`` the lyric
    sung from this note (``"-"`` for a melisma note, which holds the previous vowel);
    ``vowel_onset_s`` where its vowel begins (the onset itself for a melisma note).
    """

    onset_s: float
    offset_s: float
    pitch: int
    syllable: str
    vowel_onset_s: float


@dataclass
class SingResult:
    """What :func:`sing` made.

    Parameters
    ----------
    audio : Audio
        Mono, float32, shape (1, n); sample 0 is score time 0; peak <= 0.9.
    notes : list of SungNote
    warnings : list of str
        One line each: lyric-less notes sung as "la", octave transpositions, unknown words.
    lang : str
        The language sung (``"zh"`` or ``"en"``).
    voice : str
    """

    audio: Audio
    notes: list[SungNote]
    warnings: list[str] = field(default_factory=list)
    lang: str = "en"
    voice: str = "female"


@dataclass(slots=True)
class _Note:
    onset_s: float
    offset_s: float
    pitch: int
    velocity: int
    lyric: str | None
    syllable: int = -1


def _pick_track(score: Score, track: str | None) -> Track:
    t: Track | None
    if track is not None:
        t = score.track(track)
    else:
        t = score.lyric_track()
        if t is None:
            cands = [x for x in score.tracks if not x.is_drum and x.notes]
            pref = [x for x in cands if x.role in ("vocal", "melody", "lead")]
            if pref:
                t = pref[0]
            elif len(cands) == 1:
                t = cands[0]
            elif not cands:
                raise ParameterError("the score has no notes to sing (an empty score or only drums)")
            else:
                raise ParameterError(
                    "no melody to sing: no track has lyrics or the role vocal/melody; name one "
                    f"(--track / track=) of: {', '.join(x.name for x in cands)}")
    if t.is_drum:
        raise ParameterError(f"track {t.name!r} is a drum track; name a melody track to sing")
    if not t.notes:
        raise ParameterError(f"track {t.name!r} has no notes to sing")
    return t


def _monophonic(score: Score, t: Track, warnings: list[str]) -> list[_Note]:
    tm = score.tempo_map
    src = sorted(t.notes, key=lambda n: (n.onset, -n.pitch))
    on = tm.to_seconds(np.array([n.onset for n in src]))
    off = tm.to_seconds(np.array([n.end for n in src]))
    notes: list[_Note] = []
    changed = 0
    for n, a, b in zip(src, on, off, strict=True):
        a, b = float(a), float(b)
        if notes and abs(a - notes[-1].onset_s) < 1e-6:  # a chord: keep the top, and a lyric
            changed += 1
            if not notes[-1].lyric and n.lyric:
                notes[-1].lyric = n.lyric
            continue
        if notes and notes[-1].offset_s > a:
            notes[-1].offset_s = a
            changed += 1
        notes.append(_Note(a, b, int(n.pitch), int(n.velocity), n.lyric))
    if changed:
        warnings.append(f"track {t.name!r} has chords or overlapping notes: sang the top line "
                        f"({changed} note(s) dropped or shortened)")
    return [n for n in notes if n.offset_s - n.onset_s > 1e-3]


def _note_name(midi: int) -> str:
    return ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"][midi % 12] + str(midi // 12 - 1)


def _fit_range(notes: list[_Note], voice: Voice, warnings: list[str]) -> None:
    pitches = np.array([n.pitch for n in notes])

    def outside(shift: int) -> int:
        p = pitches + 12 * shift
        return int(np.sum((p < voice.low) | (p > voice.high)))

    best = min(range(-4, 5), key=lambda k: (outside(k), abs(k)))
    lo, hi = int(pitches.min()), int(pitches.max())
    if best != 0 and outside(best) < outside(0):
        word = "up" if best > 0 else "down"
        n_oct = abs(best)
        warnings.append(
            f"the melody ({_note_name(lo)}-{_note_name(hi)}) lies outside the {voice.name} voice's range "
            f"({_note_name(voice.low)}-{_note_name(voice.high)}): "
            f"sung {n_oct} octave{'s' * (n_oct > 1)} {word}")
        for n in notes:
            n.pitch += 12 * best
    moved = 0
    for n in notes:
        p = n.pitch
        while p < voice.low and p + 12 <= 127:
            p += 12
        while p > voice.high and p - 12 >= 0:
            p -= 12
        if p != n.pitch:
            moved += 1
            n.pitch = p
    if moved:
        warnings.append(f"{moved} note(s) beyond the {voice.name} voice's range "
                        f"({_note_name(voice.low)}-{_note_name(voice.high)}) moved by octaves")


def _assign_syllables(notes: list[_Note], track: Track, warnings: list[str]) -> list[str]:
    """Give every note a syllable index; return the lyric of each syllable ("" = sing "la")."""
    has_lyrics = any(n.lyric and n.lyric.strip() and not is_melisma(n.lyric) for n in notes)
    lyrics: list[str] = []
    la = 0
    for i, n in enumerate(notes):
        text = (n.lyric or "").strip()
        prev_joined = i > 0 and n.onset_s - notes[i - 1].offset_s < _LEGATO_GAP_S
        if is_melisma(text) or (not text and has_lyrics and prev_joined):
            if lyrics:
                n.syllable = len(lyrics) - 1
                continue
        if not text or is_melisma(text):
            la += 1
            text = ""
        lyrics.append(text)
        n.syllable = len(lyrics) - 1
    if la and not has_lyrics:
        warnings.append(f"track {track.name!r} has no lyrics: sang all {la} note(s) on 'la'")
    elif la:
        warnings.append(f"{la} note(s) of track {track.name!r} have no lyric: sang them on 'la'")
    return lyrics


def _smooth_joins(a: np.ndarray, joins: list[int]) -> None:
    """Soften spectral jumps at syllable joins (in place; rows are frames): the end of the
    previous syllable leans into the next one's first frame, but the next syllable's consonant
    keeps its own envelope (a short sonorant must stay softer than the vowels around it)."""
    n = a.shape[0]
    for b in joins:
        lo, hi = max(1, b - 3), min(n - 1, b + 1)
        for _ in range(2):
            if hi > lo:
                a[lo:hi] = 0.25 * a[lo - 1:hi - 1] + 0.5 * a[lo:hi] + 0.25 * a[lo + 1:hi + 1]


def _breath(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of breath noise (band around 0.5-4 kHz), unit RMS, with a soft swell."""
    x = rng.standard_normal(n)
    spec = np.fft.rfft(x)
    hz = np.fft.rfftfreq(n, 1.0 / sr)
    shape = np.exp(-0.5 * (np.log2(np.maximum(hz, 20.0) / 1500.0) / 1.1) ** 2)
    y = np.fft.irfft(spec * shape, n)
    t = np.linspace(0.0, 1.0, n)
    env = np.where(t < 0.6, np.sin(0.5 * np.pi * t / 0.6) ** 2, np.cos(0.5 * np.pi * (t - 0.6) / 0.4) ** 2)
    y *= env
    rms = float(np.sqrt(np.mean(y**2))) or 1.0
    return y / rms


def _synth_phrase(timings: list[SyllableTiming], units: list[Unit], notes: list[_Note],
                  t0: float, t1: float, rng: np.random.Generator, pw: Any) -> np.ndarray:
    n_frames = int(math.ceil((t1 - t0) / FRAME_S)) + 1
    t = t0 + np.arange(n_frames) * FRAME_S
    # a phrase-local bank of the units' frames
    used = sorted({s.syllable for s in timings})
    offsets: dict[int, int] = {}
    off = 0
    for k in used:
        offsets[k] = off
        off += units[k].n_frames
    bank_sp = np.concatenate([units[k].log_sp for k in used])
    bank_ap = np.concatenate([units[k].ap for k in used])
    bank_v = np.concatenate([units[k].voiced for k in used])
    src = np.full(n_frames, -1.0)
    last = np.zeros(n_frames, dtype=np.int64)  # last frame of the unit each frame reads
    sound = np.zeros(n_frames, dtype=bool)
    joins: list[int] = []
    for s in timings:
        u = units[s.syllable]
        base = offsets[s.syllable]
        f_start = int(math.ceil((s.start_s - t0) / FRAME_S - 1e-9))
        f_vowel = int(math.ceil((s.vowel_s - t0) / FRAME_S - 1e-9))
        f_coda = int(math.ceil((s.coda_s - t0) / FRAME_S - 1e-9))
        f_end = int(math.ceil((s.end_s - t0) / FRAME_S - 1e-9))
        f_start, f_vowel, f_coda, f_end = (int(np.clip(v, 0, n_frames))
                                           for v in (f_start, f_vowel, f_coda, f_end))
        n0, n1 = u.nucleus
        if f_vowel > f_start:
            # obstruents over [start, sonorant), a sonorant or glide over [sonorant, vowel)
            son0 = n0 - u.sonorant
            tt = t[f_start:f_vowel]
            xo = (tt - s.start_s) / max(s.sonorant_s - s.start_s, 1e-9)
            xs = (tt - s.sonorant_s) / max(s.vowel_s - s.sonorant_s, 1e-9)
            pos = np.where(tt < s.sonorant_s, np.clip(xo, 0, 1) * son0,
                           son0 + np.clip(xs, 0, 1) * u.sonorant)
            src[f_start:f_vowel] = base + np.minimum(pos, n0 * (1 - 1e-6))
        if f_coda > f_vowel:
            x = (t[f_vowel:f_coda] - s.vowel_s) / FRAME_S
            src[f_vowel:f_coda] = base + nucleus_positions(x, (s.coda_s - s.vowel_s) / FRAME_S, u.nucleus,
                                                           u.hold, glide=u.glide)
        if f_end > f_coda:
            x = (t[f_coda:f_end] - s.coda_s) / max(s.end_s - s.coda_s, 1e-9)
            src[f_coda:f_end] = base + n1 + np.clip(x, 0, 1) * (u.n_frames - 1 - n1)
        last[f_start:f_end] = base + u.n_frames - 1
        sound[f_start:f_end] = True
        if f_start > 0 and sound[f_start - 1]:
            joins.append(f_start)
    # silent frames borrow the nearest sounding frame's spectrum (their gain is 0)
    idx = np.where(sound, np.arange(n_frames), -1)
    idx = np.maximum.accumulate(idx)
    first = int(np.argmax(sound)) if sound.any() else 0
    idx[idx < 0] = first
    src = src[idx]
    last = last[idx]
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, last)
    w = (src - i0)[:, None]
    log_sp = bank_sp[i0] * (1 - w) + bank_sp[i1] * w
    ap = bank_ap[i0] * (1 - w) + bank_ap[i1] * w
    voiced = bank_v[np.where(w[:, 0] < 0.5, i0, i1)] & sound
    _smooth_joins(log_sp, joins)
    # pitch
    f0 = f0_curve([(n.onset_s, n.offset_s, n.pitch) for n in notes], t, rng=rng)
    f0[~voiced] = 0.0
    # level: velocity per note, attack after silence, release before it
    on = np.array([n.onset_s for n in notes])
    vel = np.array([n.velocity for n in notes], dtype=np.float64)
    ni = np.clip(np.searchsorted(on, t, side="right") - 1, 0, len(notes) - 1)
    gain = np.where(sound, (vel[ni] / 100.0) ** 0.9, 0.0)
    for s in timings:
        if not s.legato_next:  # release: fade the last 40 ms of a vowel, 10 ms of a consonant
            r = min(0.04 if s.end_s - s.coda_s < 0.02 else 0.01, 0.3 * (s.end_s - s.vowel_s))
            m = (t >= s.end_s - r) & (t < s.end_s)
            gain[m] *= np.clip((s.end_s - t[m]) / r, 0, 1)
    tri3 = np.array([0.25, 0.5, 0.25])
    gain = np.convolve(np.pad(gain, 1, mode="edge"), tri3, mode="valid")
    sp = np.exp(log_sp)
    y = pw.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(sp), np.ascontiguousarray(ap),
                      SYNTH_SR, FRAME_S * 1000)
    ts = t0 + np.arange(len(y)) / SYNTH_SR
    env = np.interp(ts, t, gain)
    out: np.ndarray = y * env
    return out


def sing(score: Score, *, voice: str = "female", lang: str | None = None, track: str | None = None,
         sr: int = 44100, seed: int = 0) -> SingResult:
    """Sing a score's lyric line.

    Parameters
    ----------
    score : Score
        The melody: by default the track with lyrics (role vocal first, then melody), else the
        melody/vocal track, sung on "la". One syllable per note; ``"-"`` (or ``"_"``, ``"~"``,
        or no lyric on a note tied legato to a sung one) holds the previous vowel (a melisma);
        an English syllable ending in ``-`` continues its word into the next note.
    voice : {"female", "male"}
    lang : {"zh", "en"} or None
        None: Chinese if any lyric has a Han character or all read as pinyin, else English.
    track : str or None
        Name of the track to sing.
    sr : int
        Output sample rate; the vocoder runs at 44,100 Hz and anything else is resampled (with a
        warning saying so).
    seed : int
        Seeds the small random variations (vibrato rate and depth per note, pitch drift, breath).

    Returns
    -------
    SingResult
        ``audio`` (mono float32, sample 0 = score time 0, peak <= 0.9), ``notes``, ``warnings``.

    Raises
    ------
    ParameterError
        Unknown voice or language; an empty score; no melody track to sing.

    Examples
    --------
    >>> from yuefu.core.score import Note, Score, Track
    >>> s = Score()
    >>> t = s.add_track(Track("vocal", role="vocal"))
    >>> t.notes += [Note(67, 0, 1, lyric="月"), Note(69, 1, 2, lyric="亮")]
    >>> res = sing(s)  # doctest: +SKIP
    >>> res.audio.sr, [n.syllable for n in res.notes]  # doctest: +SKIP
    (44100, ['月', '亮'])
    """
    if voice not in VOICES:
        raise ParameterError(f"unknown voice {voice!r}; voices: {', '.join(VOICES)}")
    if lang is not None and lang not in LANGS:
        raise ParameterError(f"unknown language {lang!r}; the singer sings {', '.join(LANGS)}")
    if not 8000 <= int(sr) <= 192000:
        raise ParameterError(f"sr must be 8000..192000 Hz, got {sr}")
    pyworld = pyworld_module()
    v = VOICES[voice]
    if not score.tracks or score.n_notes == 0:
        raise ParameterError("the score has no notes to sing (an empty score)")
    warnings: list[str] = []
    tr = _pick_track(score, track)
    notes = _monophonic(score, tr, warnings)
    if not notes:
        raise ParameterError(f"track {tr.name!r} has no notes to sing")
    _fit_range(notes, v, warnings)
    lyrics = _assign_syllables(notes, tr, warnings)
    first_note: dict[int, int] = {}
    for i, n in enumerate(notes):
        first_note.setdefault(n.syllable, i)
    breaks = [k for k in range(1, len(lyrics))
              if notes[first_note[k]].onset_s - notes[first_note[k] - 1].offset_s >= 0.25]
    language = lang or detect_language(lyrics)
    readable = [x for x in lyrics if x]
    syls_read, warn_ph = syllabify(readable, lang=language,
                                   breaks=[sum(1 for x in lyrics[:k] if x) for k in breaks])
    warnings.extend(warn_ph)
    it = iter(syls_read)
    la = la_syllable(language)
    syls: list[Syllable] = [next(it) if x else la for x in lyrics]
    ev = _ESPEAK_VOICE[language]
    units = [load_unit(s.espeak, s.espeak_phonemes, ev, v) for s in syls]
    spans = [NoteSpan(n.onset_s, n.offset_s, n.syllable) for n in notes]
    timings = plan_syllables(spans, [UnitShape(u.onset_s, u.coda_s, u.sonorant_s) for u in units],
                             legato_gap_s=_LEGATO_GAP_S)
    rng = np.random.default_rng(seed)
    end_s = max(score.duration_s, max(s.end_s for s in timings)) + 0.1
    out = np.zeros(int(math.ceil(end_s * SYNTH_SR)) + 1)
    voiced_rms: list[float] = []
    phrase_list = phrases(timings)
    starts: list[tuple[float, float]] = []  # (phrase start, previous phrase end)
    prev_end = 0.0
    for a, b in phrase_list:
        ts = timings[a:b + 1]
        t0 = max(0.0, ts[0].start_s - 0.03)
        t0 = math.floor(t0 * SYNTH_SR) / SYNTH_SR
        t1 = ts[-1].end_s + 0.03
        pn = [n for n in notes[ts[0].first_note:ts[-1].last_note + 1]]
        y = _synth_phrase(list(ts), units, pn, t0, t1, rng, pyworld)
        i0 = int(round(t0 * SYNTH_SR))
        y = y[: max(0, len(out) - i0)]
        out[i0:i0 + len(y)] += y
        loud = y[np.abs(y) > 1e-4]
        if loud.size:
            voiced_rms.append(float(np.sqrt(np.mean(loud**2))))
        starts.append((ts[0].start_s, prev_end if a > 0 else -1.0))
        prev_end = ts[-1].end_s
    level = float(np.median(voiced_rms)) if voiced_rms else 0.0
    if level > 0:
        breath_amp = level * 10 ** (v.breath_db / 20)
        for start, before in starts:
            b1 = start - 0.02
            b0 = max(b1 - 0.32, (before + 0.08) if before >= 0 else 0.0)
            if b1 - b0 >= 0.12:
                i0, i1 = int(b0 * SYNTH_SR), int(b1 * SYNTH_SR)
                out[i0:i1] += breath_amp * _breath(i1 - i0, SYNTH_SR, rng)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 0:
        out *= _PEAK / peak
    audio = Audio(out.astype(np.float32), SYNTH_SR)
    if int(sr) != SYNTH_SR:
        audio = audio.resample(int(sr))
        audio = Audio(np.clip(audio.samples, -_PEAK, _PEAK), audio.sr)
        warnings.append(f"resampled the vocal from {SYNTH_SR} Hz to {sr} Hz")
    sung: list[SungNote] = []
    for i, n in enumerate(notes):
        tm = timings[n.syllable]
        if tm.first_note == i:
            sung.append(SungNote(n.onset_s, n.offset_s, n.pitch, syls[n.syllable].text, tm.vowel_s))
        else:
            sung.append(SungNote(n.onset_s, n.offset_s, n.pitch, "-", n.onset_s))
    return SingResult(audio, sung, warnings, language, voice)


def _lyric_syllables(text: str, lang: str | None) -> tuple[list[str], str]:
    """The syllables of a lyrics text, in order, and its language.

    Blank lines, ``#`` comments and section headers (``[verse]``) are skipped. Chinese lines give
    one syllable per Han character, or one per space-separated pinyin syllable (``yue4 liang4``);
    English lines give word pieces, a piece that continues its word ending in ``-``."""
    from yuefu.lyrics import split_syllables

    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")
             and not (ln.startswith("[") and ln.endswith("]"))]
    body = "\n".join(lines)
    if lang is None:
        lang = detect_language(body.split()) if body else "en"
    out: list[str] = []
    for ln in lines:
        syls = split_syllables(ln, language=lang)
        if lang == "zh" and not syls:  # no Han characters: pinyin syllables
            syls = tuple(w for w in ln.replace(",", " ").split() if w)
        out.extend(syls)
    return out, lang


def attach_lyrics(score: Score, text: str, *, lang: str | None = None,
                  track: str | None = None) -> tuple[Score, list[str]]:
    """The score with ``text`` laid on its melody, one syllable per note, and warnings.

    Parameters
    ----------
    score : Score
        Left unchanged; a copy is returned.
    text : str
        Lyrics: Chinese characters or pinyin, or English; section headers and ``#`` lines are
        skipped (the format of ``lyrics.txt``).
    lang : {"zh", "en"}, optional
        Default: Chinese when the text holds Han characters or pinyin.
    track : str, optional
        The melody; default as for :func:`sing` (its lyrics, if any, are replaced).

    Raises
    ------
    ParameterError
        No syllables in the text, or more syllables than the melody has notes (both counts are
        named). Fewer syllables than notes is a warning: the last vowel is held.
    """
    import copy

    syls, lang = _lyric_syllables(text, lang)
    if not syls:
        raise ParameterError("the lyrics file has no words to sing (only blank lines, comments or "
                             "[section] headers)")
    out = copy.deepcopy(score)
    t = _pick_track(out, track)
    notes = sorted(t.notes, key=lambda n: (n.onset, -n.pitch))
    starts = sorted({n.onset for n in notes})
    if len(syls) > len(starts):
        raise ParameterError(
            f"the lyrics have {len(syls)} syllables but track {t.name!r} has {len(starts)} notes; "
            "shorten the lyrics or give a longer melody (one syllable per note)")
    by_onset = {on: (syls[i] if i < len(syls) else "-") for i, on in enumerate(starts)}
    for n in notes:
        n.lyric = by_onset[n.onset]
    warnings = []
    if len(syls) < len(starts):
        warnings.append(f"the lyrics have {len(syls)} syllables for {len(starts)} notes: the last "
                        f"{len(starts) - len(syls)} note(s) hold the last vowel")
    return out, warnings


def sing_file(in_path: str | Path, out_path: str | Path, *, voice: str = "female", lang: str | None = None,
              force: bool = False, track: str | None = None, seed: int = 0,
              lyrics: str | Path | None = None) -> SingResult:
    """Sing a MusicXML or MIDI file into a WAV file (44.1 kHz, 24-bit), written atomically.

    Parameters
    ----------
    in_path : path
        ``.musicxml``/``.xml``/``.mxl`` or ``.mid``/``.midi`` with a lyric line.
    out_path : path
        The WAV file to write; an existing file is refused unless ``force``.
    voice, lang, track, seed
        As for :func:`sing`.
    lyrics : path, optional
        A lyrics text file (UTF-8) laid on the melody one syllable per note, replacing any lyrics
        in the score (see :func:`attach_lyrics`).

    Raises
    ------
    OutputExistsError
        ``out_path`` exists and ``force`` is false (checked before any work).
    ScoreLoadError, ParameterError
        The input cannot be read or has nothing to sing.
    """
    from yuefu.core.files import atomic_output, check_output, read_input
    from yuefu.core.io import load_score

    out = check_output(out_path, force=force)
    if out.suffix.lower() != ".wav":
        raise ParameterError(f"{out}: the vocal is written as WAV; give a .wav output name")
    read_input(in_path, what="score file")
    score = load_score(in_path)
    extra: list[str] = []
    if lyrics is not None:
        raw = read_input(lyrics, what="lyrics file")
        try:
            text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else str(raw)
        except UnicodeDecodeError:
            raise ParameterError(f"{lyrics}: the lyrics file is not UTF-8 text") from None
        score, extra = attach_lyrics(score, text, lang=lang, track=track)
    res = sing(score, voice=voice, lang=lang, track=track, seed=seed)
    res.warnings[:0] = extra
    import soundfile as sf

    with atomic_output(out, force=force) as tmp:
        sf.write(str(tmp), res.audio.samples[0], res.audio.sr, subtype="PCM_24")
    return res
