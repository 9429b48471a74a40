"""Posteriorgrams -> piano notes: onset peak picking, note tracking, piano post-processing.

This is a re-implementation of basic-pitch's polyphonic note creation
(``basic_pitch.note_creation.output_to_notes_polyphonic``) in vectorised numpy, with the
changes that piano needs (each measured in ``benchmarks/transcribe.py``):

* a note starts only at a peak of the onset posterior (a piano key is always struck), so
  basic-pitch's "melodia trick" (notes grown from sustained energy without an onset) is off by
  default: on piano it mostly adds sustained partials and pedal resonance as notes;
* a note ends when its key's note posterior stays below ``frame_threshold`` for
  ``energy_tol_frames`` frames, or at the next onset of the same key (a re-struck key);
* two onsets of one key closer than ``merge_s`` are one note re-triggered (the onset posterior
  often has a second peak on the hammer's rebound);
* a small logistic "note verifier" (:func:`verify`, 12 weights fitted on the tuning split of
  rendered piano) drops candidates that look like a partial of another note (an octave, a
  twelfth or two octaves above or below a stronger note starting with it), echoes of a re-struck
  key, and weak short blips: the network's main errors on piano are such ghost notes;
* the onset time is refined between frames by a parabola through the onset peak.

Times here are frame indices (frame g at g * 256 / 22050 s); :mod:`.piano` turns them into
seconds and beats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yuefu.listen.transcribe.model import LOWEST_PITCH, N_KEYS

__all__ = ["DecodeSettings", "RawNote", "FEATURES", "VERIFIER_WEIGHTS", "decode_segment",
           "note_features", "verify", "merge_retriggers", "candidates", "postprocess"]


@dataclass(frozen=True)
class DecodeSettings:
    """How posteriorgrams become notes (frame units; :class:`.piano.TranscribeSettings` converts)."""

    onset_threshold: float
    frame_threshold: float
    min_note_frames: int
    energy_tol_frames: int = 11
    infer_onsets: bool = False
    melodia: bool = False
    merge_frames: float = 0.0
    verify_threshold: float = 0.0
    verifier_weights: tuple[float, ...] = ()
    min_pitch: int = 21
    max_pitch: int = 108
    refine_onsets: bool = True


@dataclass(frozen=True, slots=True)
class RawNote:
    """A decoded note in frames.

    Attributes
    ----------
    onset : float
        Onset frame (fractional when refined).
    end : int
        First frame after the note.
    pitch : int
        MIDI pitch.
    amplitude : float
        Mean note posterior over the note (0..1), basic-pitch's "amplitude".
    onset_strength : float
        Peak of the onset posterior.
    energy : float
        Peak power of the key's first harmonics in the first 4 frames (full-scale sine = 1).
    fund : float
        Peak power at the key's fundamental alone in the same frames.
    pre_note : float
        Largest note posterior of the key in the 3 frames before the onset (a key already sounding).
    jump_db : float
        Rise of the key's harmonic power at the onset: peak of the 4 frames from the onset over
        peak of the 4 frames before it, in dB.
    """

    onset: float
    end: int
    pitch: int
    amplitude: float
    onset_strength: float
    energy: float
    fund: float = 0.0
    pre_note: float = 0.0
    jump_db: float = 0.0


def _run_lengths_below(below: np.ndarray) -> np.ndarray:
    """For each frame (per column), how many consecutive True values start there."""
    t = below.shape[0]
    out = np.zeros(below.shape, dtype=np.int64)
    run = np.zeros(below.shape[1], dtype=np.int64)
    for i in range(t - 1, -1, -1):
        run = np.where(below[i], run + 1, 0)
        out[i] = run
    return out


def decode_segment(
    note: np.ndarray,
    onset: np.ndarray,
    energy: np.ndarray,
    fund: np.ndarray,
    settings: DecodeSettings,
    *,
    first: int = 0,
    onset_lo: int | None = None,
    onset_hi: int | None = None,
) -> list[RawNote]:
    """Notes whose onset frame lies in ``[onset_lo, onset_hi)`` of a segment of frames.

    Parameters
    ----------
    note, onset, energy, fund : np.ndarray [shape=(T, 88)]
        Frames ``first .. first + T`` of the model's posteriorgrams and the key energies
        (:class:`.frontend.FrameBlock`).
    settings : DecodeSettings
    first : int
        Absolute index of the segment's first frame; the notes' frames are absolute.
    onset_lo, onset_hi : int, optional
        Absolute frame range of the onsets to keep (default: the whole segment). Frames outside
        it are context: they end notes and are read for peaks, but start none.

    Returns
    -------
    list of RawNote
        Unsorted, before :func:`postprocess`.
    """
    t_len = note.shape[0]
    if t_len < 3:
        return []
    lo = 0 if onset_lo is None else max(0, onset_lo - first)
    hi = t_len if onset_hi is None else min(t_len, onset_hi - first)
    keys = np.arange(N_KEYS) + LOWEST_PITCH
    in_range = (keys >= settings.min_pitch) & (keys <= settings.max_pitch)
    on = onset.astype(np.float32, copy=True)
    if settings.infer_onsets:  # basic-pitch: onsets where the note posterior jumps
        d1 = np.diff(note, axis=0, prepend=note[:1])
        d2 = note - np.concatenate([note[:2], note[:-2]])
        jump = np.clip(np.minimum(d1, d2), 0.0, None)
        jump[:2] = 0.0
        on = np.maximum(on, jump)
    on[:, ~in_range] = 0.0
    # peaks in time: higher than the frame before, not lower than the frame after (zeros
    # stand before and after the segment, so a note struck in the very first frame counts)
    z = np.zeros((1, N_KEYS), dtype=np.float32)
    padded = np.concatenate([z, on, z])
    any_peak = (on > padded[:-2]) & (on >= padded[2:]) & (on >= settings.onset_threshold)
    peak = any_peak.copy()
    peak[:lo] = False
    peak[hi:] = False
    below = note < settings.frame_threshold
    tol = settings.energy_tol_frames
    # frames past the segment count as below, so a note running off the end stops there
    runs = _run_lengths_below(np.concatenate([below, np.ones((tol, N_KEYS), dtype=bool)]))[:t_len]
    stops = runs >= tol
    notes: list[RawNote] = []
    covered = np.zeros(note.shape, dtype=bool)
    for k in np.flatnonzero(peak.any(axis=0)):
        starts = np.flatnonzero(peak[:, k])
        # every peak of this key in the whole segment ends the previous note (also context peaks)
        all_peaks = np.flatnonzero(any_peak[:, k])
        stop_frames = np.flatnonzero(stops[:, k])
        for s in starts:
            j = np.searchsorted(stop_frames, s + 1)
            end = int(stop_frames[j]) if j < len(stop_frames) else t_len
            nxt = np.searchsorted(all_peaks, s + 1)
            if nxt < len(all_peaks):
                end = min(end, int(all_peaks[nxt]))
            if end - s < settings.min_note_frames:
                continue
            covered[s:end, k] = True
            frac = 0.0
            if settings.refine_onsets:
                a, b, c = float(padded[s, k]), float(on[s, k]), float(padded[s + 2, k])
                den = a - 2 * b + c
                if den < 0:
                    frac = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
            notes.append(RawNote(
                onset=first + s + frac,
                end=first + end,
                pitch=int(keys[k]),
                amplitude=float(note[s:end, k].mean()),
                onset_strength=float(on[s, k]),
                energy=float(energy[s:s + 4, k].max()),
                fund=float(fund[s:s + 4, k].max()),
                pre_note=float(note[max(0, s - 3):s, k].max()) if s > 0 else 0.0,
                jump_db=float(10.0 * np.log10((energy[s:s + 4, k].max() + 1e-12)
                                              / (energy[max(0, s - 4):s, k].max() + 1e-12)))
                if s > 0 else 30.0,
            ))
    if settings.melodia:
        notes += _sustained_notes(note, energy, fund, covered, settings, first, lo, hi, keys,
                                  in_range)
    return notes


def _sustained_notes(note: np.ndarray, energy: np.ndarray, fund: np.ndarray, covered: np.ndarray,
                     settings: DecodeSettings, first: int, lo: int, hi: int, keys: np.ndarray,
                     in_range: np.ndarray) -> list[RawNote]:
    """Runs of note posterior above threshold that no onset explains (basic-pitch's melodia)."""
    act = (note >= settings.frame_threshold) & ~covered
    act[:, ~in_range] = False
    out: list[RawNote] = []
    padded = np.vstack([np.zeros((1, N_KEYS), bool), act, np.zeros((1, N_KEYS), bool)])
    edges = np.diff(padded.astype(np.int8), axis=0)
    for k in np.flatnonzero(act.any(axis=0)):
        starts = np.flatnonzero(edges[:, k] == 1)
        ends = np.flatnonzero(edges[:, k] == -1)
        for s, e in zip(starts, ends, strict=True):
            if e - s <= settings.min_note_frames or not lo <= s < hi:
                continue
            out.append(RawNote(first + float(s), first + int(e), int(keys[k]),
                               float(note[s:e, k].mean()), 0.0, float(energy[s:s + 4, k].max()),
                               float(fund[s:s + 4, k].max())))
    return out


#: Names of the verifier's features, in order (see :func:`note_features`).
FEATURES = (
    "onset_strength", "amplitude", "log_frames", "rel_energy_db",
    "above_onset_gap", "above_amp_gap", "above_any",
    "below_onset_gap", "below_amp_gap", "below_any",
    "restruck", "fund_db", "pre_note", "jump_db", "above_fund_gap_db", "below_fund_gap_db",
)
#: Logistic-regression weights (intercept first, then :data:`FEATURES`) of the note verifier,
#: fitted by ``python benchmarks/transcribe.py --fit`` on the tuning split: 173,151 candidate notes
#: (onset threshold 0.3) of 16 excerpts x 2 pianos x 5 conditions; labels: mir_eval onset matches.
VERIFIER_WEIGHTS: tuple[float, ...] = (
    -3.9267, 9.0004, 6.1871, 0.1334, 0.1189, -1.6772, -4.0757, -0.4994, -4.146, -4.6331, -1.1642,
    -0.1634, 0.1555, -8.9521, 0.0371, 0.04, 0.1469,
)

_RELATED = (12, 19, 24)  # octave, twelfth, two octaves: where a piano's partials fall


def note_features(notes: list[RawNote], *, near_frames: float = 5.0) -> np.ndarray:
    """(n, len(FEATURES)) features that tell a struck key from a partial or an echo.

    ``above_*``: the note lies an octave / twelfth / two octaves above a note starting within
    ``near_frames``; the gaps are how much stronger the strongest such lower note is (onset
    peak, mean posterior). ``below_*``: the same for notes above it (a sub-octave ghost).
    ``rel_energy_db``: the key's harmonic energy against the loudest note starting with it.
    ``restruck``: the same key started within the 0.3 s before. ``fund_db``: the power at the
    key's fundamental against its first four harmonics (a sub-octave ghost has no fundamental).
    ``pre_note``, ``jump_db``: see :class:`RawNote` (a key that was already sounding, with no
    rise in its power, was not struck again). ``*_fund_gap_db``: the related notes' power at
    their fundamental over this note's (an octave ghost is as weak as the partial it is).
    """
    n = len(notes)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    on = np.array([x.onset for x in notes])
    pit = np.array([x.pitch for x in notes])
    ons = np.array([x.onset_strength for x in notes])
    amp = np.array([x.amplitude for x in notes])
    en = np.array([x.energy for x in notes]) + 1e-12
    fu = np.array([x.fund for x in notes]) + 1e-12
    order = np.argsort(on, kind="stable")
    son = on[order]
    for i, x in enumerate(notes):
        j0 = int(np.searchsorted(son, x.onset - near_frames))
        j1 = int(np.searchsorted(son, x.onset + near_frames, side="right"))
        near = order[j0:j1]
        d = x.pitch - pit[near]
        up = near[np.isin(d, _RELATED)]
        down = near[np.isin(-d, _RELATED)]
        out[i, 0] = x.onset_strength
        out[i, 1] = x.amplitude
        out[i, 2] = np.log(max(x.end - x.onset, 1.0))
        out[i, 3] = 10.0 * np.log10(en[i] / en[near].max())
        if len(up):
            out[i, 4] = ons[up].max() - x.onset_strength
            out[i, 5] = amp[up].max() - x.amplitude
            out[i, 6] = 1.0
        if len(down):
            out[i, 7] = ons[down].max() - x.onset_strength
            out[i, 8] = amp[down].max() - x.amplitude
            out[i, 9] = 1.0
        j2 = int(np.searchsorted(son, x.onset - 26.0))
        j3 = int(np.searchsorted(son, x.onset))
        out[i, 10] = float(np.any(pit[order[j2:j3]] == x.pitch))
        out[i, 11] = 10.0 * np.log10((x.fund + 1e-12) / en[i])
        out[i, 12] = x.pre_note
        out[i, 13] = np.clip(x.jump_db, -30.0, 30.0)
        if len(up):
            out[i, 14] = np.clip(10.0 * np.log10(fu[up].max() / (x.fund + 1e-12)), -40.0, 40.0)
        if len(down):
            out[i, 15] = np.clip(10.0 * np.log10(fu[down].max() / (x.fund + 1e-12)), -40.0, 40.0)
    return out


def verify(notes: list[RawNote], weights: tuple[float, ...] = VERIFIER_WEIGHTS) -> np.ndarray:
    """Probability (0..1) that each note is a struck key (the logistic note verifier)."""
    x = note_features(notes)
    w = np.asarray(weights, dtype=np.float64)
    z = w[0] + x @ w[1:]
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def merge_retriggers(notes: list[RawNote], settings: DecodeSettings) -> list[RawNote]:
    """Sort by onset and pitch and merge two onsets of one key closer than ``merge_frames``."""
    notes = sorted(notes, key=lambda n: (n.onset, n.pitch))
    if settings.merge_frames <= 0:
        return notes
    kept: list[RawNote] = []
    last: dict[int, int] = {}
    for n in notes:
        i = last.get(n.pitch)
        if i is not None and n.onset - kept[i].onset < settings.merge_frames:
            # one strike seen twice: keep the stronger onset (a hammer's rebound comes after
            # it, a weak precursor before it) and the later end
            p = kept[i]
            a, b = (p, n) if p.onset_strength >= n.onset_strength else (n, p)
            kept[i] = RawNote(a.onset, max(p.end, n.end), p.pitch, max(p.amplitude, n.amplitude),
                              a.onset_strength, max(p.energy, n.energy), max(p.fund, n.fund),
                              p.pre_note, max(p.jump_db, n.jump_db))
            continue
        last[n.pitch] = len(kept)
        kept.append(n)
    return kept


def candidates(notes: list[RawNote], settings: DecodeSettings) -> tuple[list[RawNote], np.ndarray]:
    """Every candidate note (re-triggers merged) with the verifier's probability that it was struck.

    Returns
    -------
    notes : list of RawNote
        Sorted by onset, then pitch.
    probability : np.ndarray [shape=(len(notes),)]
        :func:`verify` of each (1.0 for all when ``verify_threshold`` is 0: no verifier).
    """
    notes = merge_retriggers(notes, settings)
    if settings.verify_threshold > 0 and notes:
        return notes, verify(notes, settings.verifier_weights)
    return notes, np.ones(len(notes))


def postprocess(notes: list[RawNote], settings: DecodeSettings) -> list[RawNote]:
    """Merge re-triggered notes and drop those the verifier rejects; sorted by onset, pitch."""
    notes, prob = candidates(notes, settings)
    return [n for n, q in zip(notes, prob, strict=True) if q >= settings.verify_threshold]
