"""POP909 as training data for the compound-word model: songs on their beat grid, in C major /
A minor, with their chord annotations; a deterministic song-level split; training windows.

Each song folder (``POP909/NNN/``) is read in place: ``NNN.mid`` (tracks MELODY, BRIDGE, PIANO;
BRIDGE, a secondary instrumental melody, joins the accompaniment), ``beat_midi.txt`` (beat times
and downbeats: the meter, 4/4 or 3/4, and the grid the notes are quantised to), ``key_audio.txt``
(the longest key sets the transposition and the mode) and ``chord_midi.txt`` (the chord in force at
each position). POP909 has no style or emotion labels: every song is ``pop``, and the emotion is a
*proxy* from mode and tempo (major: happy from 100 BPM, calm below; minor: excited from 110 BPM,
sad below); a fraction of the training windows see ``unknown`` instead, so the model also learns
to write without them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.theory import pitch_class_of

from .tokens import ACCOMP_PROGRAM, BAR, FI, MELODY_PROGRAM, Conditions, CPTokenizer, chord_label

__all__ = ["SongTokens", "read_pop909_song", "split_songs", "proxy_emotion", "encode_song",
           "song_folders", "windows", "POP909_QUALITIES"]

TPQ = 480
#: POP909 chord qualities -> yuefu suffixes (as in train/melody.py).
POP909_QUALITIES = {
    "maj": "", "min": "m", "dim": "dim", "aug": "aug", "sus2": "sus2", "sus4": "sus4", "maj7": "maj7",
    "min7": "m7", "7": "7", "maj6": "6", "min6": "m6", "hdim7": "m7b5", "dim7": "dim7",
    "minmaj7": "mmaj7", "sus4(b7)": "7sus4",
}
def proxy_emotion(mode: str, tempo_bpm: float) -> str:
    """The emotion label POP909 songs are trained with (it has none of its own)."""
    if mode == "major":
        return "happy" if tempo_bpm >= 100 else "calm"
    return "excited" if tempo_bpm >= 110 else "sad"


@dataclass
class SongTokens:
    """One song, tokenized: its rows (COND first, EOS last) and the start of each bar."""

    name: str
    rows: np.ndarray
    bar_rows: np.ndarray  # indices of the BAR rows
    cond: Conditions
    shift: int


def song_folders(root: Path) -> list[Path]:
    """The song folders of POP909 under ``root``, sorted by name."""
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "beat_midi.txt").exists())


def split_songs(names: list[str], *, valid: float = 0.05, test: float = 0.05) -> dict[str, str]:
    """A deterministic song-level split: name -> ``"train"``, ``"valid"`` or ``"test"``.

    A song's part depends only on its name (a hash), so adding or removing songs never moves
    another song between parts.
    """
    out = {}
    for n in names:
        u = int(hashlib.sha256(f"yuefu-compose:{n}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        out[n] = "test" if u < test else "valid" if u < test + valid else "train"
    return out


def read_pop909_song(folder: Path) -> tuple[Any, list[tuple[int, str]], Conditions, int] | None:
    """A song on its beat grid in C major / A minor: (symusic.Score, chords, conditions, shift).

    None when the song cannot be used (too short, no key, an irregular meter, no melody).
    """
    import symusic

    name = folder.name
    beats = np.loadtxt(folder / "beat_midi.txt", ndmin=2)
    if beats.shape[0] < 16:
        return None
    times = beats[:, 0]
    down = np.flatnonzero(beats[:, 2] == 1)
    if down.size < 4:
        return None
    bpb = int(np.median(np.diff(down)))
    if bpb not in (3, 4):
        return None
    phase = int(down[0] % bpb)
    keys: list[tuple[float, int, str]] = []
    for line in (folder / "key_audio.txt").read_text().split("\n"):
        parts = line.split()
        if len(parts) == 3 and ":" in parts[2]:
            name_k, mode_k = parts[2].split(":")
            length = float(parts[1]) - float(parts[0])
            keys.append((length, pitch_class_of(name_k), "major" if mode_k == "maj" else "minor"))
    if not keys:
        return None
    _, tonic, mode = max(keys)
    target = 0 if mode == "major" else 9
    shift = ((target - tonic + 6) % 12) - 6
    score = symusic.Score(str(folder / f"{name}.mid"), ttype="second")
    idx = np.arange(times.size, dtype=np.float64)
    spb = float(np.median(np.diff(times)))

    def to_tick(t: np.ndarray) -> np.ndarray:
        b = np.interp(t, times, idx)
        b = np.where(t < times[0], (t - times[0]) / spb, b)
        b = np.where(t > times[-1], idx[-1] + (t - times[-1]) / spb, b)
        b = b - phase
        return np.round(b * 4).astype(np.int64) * (TPQ // 4)  # sixteenths

    out = symusic.Score(TPQ)
    out.time_signatures.append(symusic.TimeSignature(0, bpb, 4))
    tempo = 60.0 / spb
    out.tempos.append(symusic.Tempo(0, tempo))
    mel = symusic.Track("melody", MELODY_PROGRAM, False)
    acc = symusic.Track("accompaniment", ACCOMP_PROGRAM, False)
    for tr in score.tracks:
        if len(tr.notes) == 0:
            continue
        arr = tr.notes.numpy()
        on = to_tick(arr["time"])
        off = to_tick(arr["time"] + arr["duration"])
        dest = mel if tr.name.strip().upper() == "MELODY" else acc
        for o, f, p, v in zip(on, off, arr["pitch"], arr["velocity"], strict=True):
            if o < 0:
                continue
            pitch = int(p) + shift
            if not 21 <= pitch <= 108:
                continue
            dest.notes.append(symusic.Note(int(o), int(max(f - o, TPQ // 4)), pitch, int(max(1, v))))
    if len(mel.notes) < 20:
        return None
    out.tracks.append(mel)
    out.tracks.append(acc)
    chords = []
    for line in (folder / "chord_midi.txt").read_text().split("\n"):
        parts = line.split()
        if len(parts) != 3:
            continue
        tick = int(to_tick(np.array([float(parts[0])]))[0])
        lab = "N"
        if ":" in parts[2]:
            root, qual = parts[2].split(":", 1)
            qual = qual.split("/", 1)[0]
            if qual in POP909_QUALITIES:
                lab = chord_label(pitch_class_of(root) + shift, POP909_QUALITIES[qual])
        chords.append((max(0, tick), lab))
    cond = Conditions(style="pop", emotion=proxy_emotion(mode, tempo), mode=mode,
                      tempo_bpm=float(np.clip(tempo, 20, 400)), meter=f"{bpb}/4")
    return out, chords, cond, shift


def encode_song(tok: CPTokenizer, folder: Path) -> SongTokens | None:
    """Read and tokenize one POP909 song (None if unusable)."""
    got = read_pop909_song(folder)
    if got is None:
        return None
    sym, chords, cond, shift = got
    rows = tok.encode(sym, cond=cond, chords=chords)
    bar_rows = np.flatnonzero(rows[:, FI["type"]] == BAR)
    if bar_rows.size < 4:
        return None
    return SongTokens(folder.name, rows, bar_rows, cond, shift)


def windows(songs: list[SongTokens], *, length: int, stride_bars: int = 8) -> list[tuple[int, int]]:
    """Training windows: (song index, first BAR row), every ``stride_bars`` bars of every song.

    A window is the song's COND row followed by up to ``length - 1`` rows from that bar on.
    """
    out = []
    for si, s in enumerate(songs):
        for b in range(0, len(s.bar_rows), stride_bars):
            out.append((si, int(s.bar_rows[b])))
            if s.bar_rows[b] + length - 1 >= len(s.rows):
                break
    return out


def window_rows(song: SongTokens, start: int, length: int, *, rng: np.random.Generator | None = None,
                p_unknown: float = 0.0) -> np.ndarray:
    """The rows of a window: the COND row (style/emotion set to unknown with ``p_unknown``) and
    ``length - 1`` rows from ``start``."""
    cond = song.rows[0].copy()
    if rng is not None and p_unknown > 0:
        for f in ("style", "emotion"):
            if rng.random() < p_unknown:
                cond[FI[f]] = 1  # "unknown"
    return np.concatenate([cond[None], song.rows[start:start + length - 1]])


def batches(songs: list[SongTokens], wins: list[tuple[int, int]], *, length: int, batch_size: int,
            rng: np.random.Generator, p_unknown: float = 0.2) -> Iterator[np.ndarray]:
    """One epoch of padded batches (B, length, F) in an order drawn from ``rng``."""
    order = rng.permutation(len(wins))
    for i in range(0, len(order), batch_size):
        chunk = [window_rows(songs[wins[j][0]], wins[j][1], length, rng=rng, p_unknown=p_unknown)
                 for j in order[i:i + batch_size]]
        out = np.zeros((len(chunk), length, chunk[0].shape[1]), dtype=np.int64)
        for k, c in enumerate(chunk):
            out[k, :len(c)] = c
        yield out
