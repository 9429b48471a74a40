"""Learn the melody and chord statistics of POP909 and ship them as ``melody_pop909.json``.

Reads ``../shared/datasets/pop909/POP909/NNN/`` in place (``NNN.mid`` MELODY track,
``beat_midi.txt``, ``chord_midi.txt``, ``key_audio.txt``); nothing is copied. Every melody is
read relative to the key in force (C major / A minor), on a beat grid from ``beat_midi.txt``
(onsets quantised to sixteenths), and split into phrases at rests of at least 3/4 of a beat.

It counts

* note lengths (inter-onset intervals, in sixteenths) by metric position in a 4/4 bar,
* intervals (semitones) given the class of the previous interval, and at phrase starts,
* degrees relative to the chord in force (root, third, ...) on strong and weak beats,
  and relative to the tonic, per mode,
* phrase lengths, phrase-final durations, positions and degrees, phrase start offsets and the
  rests between phrases,
* chord transitions in Roman-numeral terms per mode, chord lengths, where chords change, the
  sevenths used on each degree and the commonest four-chord progressions,

holds out 10 % of the songs (a fixed permutation) and reports the held-out log-likelihood of the
learned note-length, interval+degree and chord models against uniform and random-walk baselines.
Deterministic; about a minute on two cores.

Usage::

    python train/melody.py [--data ../shared/datasets/pop909/POP909] [--out src/yuefu/models]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import symusic

from yuefu.compose._common import interval_class
from yuefu.core.theory import CHORD_QUALITIES, pitch_class_of

SEED = 0
HOLDOUT_FRACTION = 0.1
GRID = 4  # sixteenths per beat
BAR16 = 16  # sixteenths per 4/4 bar
MAX_IOI16 = 16  # longer inter-onset intervals inside a phrase are clipped
MAX_FINAL16 = 32
MAX_REST16 = 32
PHRASE_REST_BEATS = 0.75
MAX_INTERVAL = 12
N_INT = 2 * MAX_INTERVAL + 1
#: previous-interval classes: phrase start, leap down, skip down, step down, repeat, step up, skip up, leap up
N_PREV = 8
MODES = ("major", "minor")
CHORD_CLASSES = ("maj", "min", "dim", "aug", "sus")
_QUALITY = {  # POP909 quality -> (class, yuefu chord suffix)
    "maj": ("maj", ""), "min": ("min", "m"), "dim": ("dim", "dim"), "aug": ("aug", "aug"),
    "sus2": ("sus", "sus2"), "sus4": ("sus", "sus4"), "maj7": ("maj", "maj7"), "min7": ("min", "m7"),
    "7": ("maj", "7"), "maj6": ("maj", "6"), "min6": ("min", "m6"), "hdim7": ("dim", "m7b5"),
    "dim7": ("dim", "dim7"), "minmaj7": ("min", "mmaj7"), "sus4(b7)": ("sus", "7sus4"),
}
ROMAN = ("I", "bII", "II", "bIII", "III", "IV", "#IV", "V", "bVI", "VI", "bVII", "VII")


def parse_label(label: str) -> tuple[int, str, str] | None:
    """``'F#:maj7/5'`` -> (root pc, class, yuefu suffix); None for 'N' or an unknown quality."""
    if ":" not in label:
        return None
    root, qual = label.split(":", 1)
    qual = qual.split("/", 1)[0]
    if qual not in _QUALITY:
        return None
    cls, suffix = _QUALITY[qual]
    return pitch_class_of(root), cls, suffix


def roman_state(root_rel: int, cls: str) -> int:
    return root_rel * len(CHORD_CLASSES) + CHORD_CLASSES.index(cls)


def read_song(folder: Path) -> dict | None:
    """Notes of one song on its beat grid, with key and chord in force, or None if unusable."""
    name = folder.name
    beats = np.loadtxt(folder / "beat_midi.txt", ndmin=2)
    if beats.shape[0] < 16:
        return None
    times = beats[:, 0]
    down = np.flatnonzero(beats[:, 2] == 1)
    if down.size < 4 or np.median(np.diff(down)) != 4:
        return None  # only songs in four (the rest, 3 % of POP909, are left out)
    phase = int(down[0] % 4)
    keys = []
    for line in (folder / "key_audio.txt").read_text().split("\n"):
        parts = line.split()
        if len(parts) == 3:
            tonic, mode = parts[2].split(":")
            keys.append((float(parts[0]), pitch_class_of(tonic), "major" if mode == "maj" else "minor"))
    if not keys:
        return None
    chords = []
    for line in (folder / "chord_midi.txt").read_text().split("\n"):
        parts = line.split()
        if len(parts) == 3:
            chords.append((float(parts[0]), float(parts[1]), parse_label(parts[2])))
    score = symusic.Score(str(folder / f"{name}.mid"), ttype="second")
    mel = next((t for t in score.tracks if t.name.strip().upper() == "MELODY"), None)
    if mel is None or len(mel.notes) < 20:
        return None
    arr = mel.notes.numpy()
    idx = np.arange(times.size, dtype=np.float64)
    spb = float(np.median(np.diff(times)))

    def to_beat(t: np.ndarray) -> np.ndarray:
        b = np.interp(t, times, idx)
        b = np.where(t < times[0], (t - times[0]) / spb, b)
        return np.where(t > times[-1], idx[-1] + (t - times[-1]) / spb, b)

    on = np.round(to_beat(arr["time"]) * GRID).astype(int) - phase * GRID
    off = np.round(to_beat(arr["time"] + arr["duration"]) * GRID).astype(int) - phase * GRID
    order = np.lexsort((-arr["pitch"], on))
    notes = []
    last_on = None
    for i in order:
        if on[i] == last_on:
            continue  # a chord in the melody track: keep the highest note
        last_on = on[i]
        notes.append([int(on[i]), int(max(off[i], on[i] + 1)), int(arr["pitch"][i]), float(arr["time"][i])])
    for a, b in zip(notes[:-1], notes[1:], strict=False):
        a[1] = min(a[1], b[0])  # monophonic: a note ends where the next begins
    key_times = np.array([k[0] for k in keys])
    chord_starts = np.array([c[0] for c in chords]) if chords else np.zeros(0)
    out = []
    for on16, off16, pitch, t in notes:
        ki = max(0, int(np.searchsorted(key_times, t, side="right")) - 1)
        ci = int(np.searchsorted(chord_starts, t + 1e-3, side="right")) - 1
        chord = chords[ci][2] if 0 <= ci < len(chords) and t < chords[ci][1] + 1e-3 else None
        out.append((on16, off16, pitch, keys[ki][1], keys[ki][2], chord))
    # chord sequence on the beat grid (for chord statistics)
    chord_seq = []
    for start, end, lab in chords:
        if lab is None:
            chord_seq.append(None)
            continue
        b0 = int(round(float(to_beat(np.array([start]))[0]))) - phase
        b1 = int(round(float(to_beat(np.array([end]))[0]))) - phase
        ki = max(0, int(np.searchsorted(key_times, start + 1e-3, side="right")) - 1)
        chord_seq.append((b0, b1, lab, keys[ki][1], keys[ki][2]))
    return {"name": name, "notes": out, "chords": chord_seq}


def phrases_of(notes: list) -> list[list]:
    """Split a song's notes into phrases at rests of >= PHRASE_REST_BEATS or gaps > 2 bars."""
    out, cur = [], []
    for i, n in enumerate(notes):
        cur.append(n)
        nxt = notes[i + 1] if i + 1 < len(notes) else None
        if nxt is None or nxt[0] - n[1] >= PHRASE_REST_BEATS * GRID or nxt[0] - n[0] > 2 * BAR16:
            out.append(cur)
            cur = []
    return out


def rel_pc(pitch: int, tonic: int) -> int:
    return (pitch - tonic) % 12


def mode_i(mode: str) -> int:
    return MODES.index(mode)


class Counts:
    def __init__(self) -> None:
        self.ioi = np.zeros((BAR16, MAX_IOI16 + 1))
        self.final_dur = np.zeros(MAX_FINAL16 + 1)
        self.final_pos = np.zeros(BAR16)
        self.start_offset = np.zeros(BAR16)  # start position in the bar, sixteenths
        self.rest = np.zeros(MAX_REST16 + 1)
        self.phrase_notes = np.zeros(41)
        self.phrase_bars = np.zeros(9)
        self.interval = np.zeros((N_PREV, N_INT))
        self.deg_chord = np.zeros((len(CHORD_CLASSES), 2, 12))
        self.deg_tonic = np.zeros((2, 2, 12))
        self.final_degree = np.zeros((2, 12))
        self.chord_tone = np.zeros((2, 2))  # strength x (non-chord, chord)
        self.trans = np.zeros((2, 60, 60))
        self.unigram = np.zeros((2, 60))
        self.chord_beats = np.zeros(17)
        self.change_at = np.zeros(4)  # chord changes by beat in the bar
        self.sevenths: dict[str, Counter] = {m: Counter() for m in MODES}
        self.ngrams: dict[str, Counter] = {m: Counter() for m in MODES}
        self.pc_hist = np.zeros(12)
        self.n_notes = 0
        self.n_songs = 0


def count_song(song: dict, c: Counts) -> None:
    c.n_songs += 1
    for ph in phrases_of(song["notes"]):
        c.phrase_notes[min(len(ph), 40)] += 1
        c.phrase_bars[min(8, math.ceil((ph[-1][1] - ph[0][0]) / BAR16))] += 1
        c.start_offset[ph[0][0] % BAR16] += 1
        prev_int = None
        for j, (on, off, pitch, tonic, mode, chord) in enumerate(ph):
            c.n_notes += 1
            pos = on % BAR16
            strong = int(pos in (0, 8))
            m = mode_i(mode)
            c.pc_hist[rel_pc(pitch, tonic if mode == "major" else (tonic + 3) % 12)] += 1
            c.deg_tonic[m, strong, rel_pc(pitch, tonic)] += 1
            if chord is not None:
                root, cls, suffix = chord
                c.deg_chord[CHORD_CLASSES.index(cls), strong, (pitch - root) % 12] += 1
                tones = {(root + i) % 12 for i in CHORD_QUALITIES[suffix]}
                c.chord_tone[strong, int(pitch % 12 in tones)] += 1
            if j + 1 < len(ph):
                nxt = ph[j + 1]
                c.ioi[pos, min(nxt[0] - on, MAX_IOI16)] += 1
                iv = nxt[2] - pitch
                if abs(iv) <= MAX_INTERVAL:
                    c.interval[interval_class(prev_int), iv + MAX_INTERVAL] += 1
                prev_int = iv
            else:
                c.final_dur[min(off - on, MAX_FINAL16)] += 1
                c.final_pos[pos] += 1
                c.final_degree[m, rel_pc(pitch, tonic)] += 1
    phs = phrases_of(song["notes"])
    for a, b in zip(phs[:-1], phs[1:], strict=False):
        c.rest[min(b[0][0] - a[-1][1], MAX_REST16)] += 1
    # chords
    seq = [x for x in song["chords"] if x is not None]
    states = []
    for b0, b1, (root, cls, suffix), tonic, mode in seq:
        m = mode_i(mode)
        st = roman_state((root - tonic) % 12, cls)
        if states and states[-1][0] == st and states[-1][1] == m:
            continue
        c.chord_beats[min(16, max(1, b1 - b0))] += 1
        c.change_at[b0 % 4] += 1
        if suffix in ("7", "maj7", "m7", "m7b5", "dim7", "mmaj7", "7sus4"):
            c.sevenths[mode][f"{ROMAN[(root - tonic) % 12]}:{cls}:{suffix}"] += 1
        c.sevenths[mode][f"{ROMAN[(root - tonic) % 12]}:{cls}:*"] += 1
        if states and states[-1][1] == m:
            c.trans[m, states[-1][0], st] += 1
        c.unigram[m, st] += 1
        states.append((st, m))
    for i in range(len(states) - 3):
        win = states[i:i + 4]
        if len({s[1] for s in win}) == 1:
            c.ngrams[MODES[win[0][1]]][" ".join(state_name(s[0]) for s in win)] += 1


def state_name(st: int) -> str:
    root, cls = divmod(st, len(CHORD_CLASSES))
    name = ROMAN[root]
    cls_name = CHORD_CLASSES[cls]
    if cls_name in ("min", "dim"):
        name = name.lower() if not name.startswith(("b", "#")) else name[0] + name[1:].lower()
    return name + {"maj": "", "min": "", "dim": "°", "aug": "+", "sus": "sus"}[cls_name]


def norm(a: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    a = a + alpha
    return a / a.sum(axis=-1, keepdims=True)


# -- held-out evaluation ------------------------------------------------------------------------
def evaluate(songs: list[dict], c: Counts) -> dict:
    """Mean log-likelihood per event (nats) of held-out songs under the model and baselines."""
    p_ioi = norm(c.ioi[:, 1:])
    p_ioi_uni = norm(c.ioi[:, 1:].sum(0))
    p_int = norm(c.interval)
    p_int_uni = norm(c.interval.sum(0))
    p_deg = norm(c.deg_chord)
    # random walk: a discretised Laplace over intervals, scale fitted on the training set
    iv = np.arange(-MAX_INTERVAL, MAX_INTERVAL + 1)
    mean_abs = float((c.interval.sum(0) * np.abs(iv)).sum() / c.interval.sum())
    rw = np.exp(-np.abs(iv) / mean_abs)
    rw /= rw.sum()
    p_tr = norm(c.trans, alpha=0.1)
    p_tr_uni = norm(c.unigram, alpha=0.1)
    ll = Counter()
    n = Counter()
    for song in songs:
        for ph in phrases_of(song["notes"]):
            prev_int = None
            for j in range(len(ph) - 1):
                on, _off, pitch, _tonic, _mode, chord = ph[j]
                nxt = ph[j + 1]
                d = min(nxt[0] - on, MAX_IOI16)
                ll["dur_model"] += math.log(p_ioi[on % BAR16, d - 1])
                ll["dur_unigram"] += math.log(p_ioi_uni[d - 1])
                ll["dur_uniform"] += math.log(1.0 / MAX_IOI16)
                n["dur"] += 1
                step = nxt[2] - pitch
                if abs(step) > MAX_INTERVAL:
                    prev_int = step
                    continue
                # model: interval given previous interval class, times the degree given the chord
                # in force at the next note, renormalised over the 25 candidate next pitches
                logits = np.log(p_int[interval_class(prev_int)])
                nchord = nxt[5]
                if nchord is not None:
                    root, cls, _ = nchord
                    strong = int(nxt[0] % BAR16 in (0, 8))
                    cand_pc = (pitch + iv - root) % 12
                    logits = logits + np.log(p_deg[CHORD_CLASSES.index(cls), strong, cand_pc])
                logits -= np.logaddexp.reduce(logits)
                ll["pitch_model"] += logits[step + MAX_INTERVAL]
                ll["pitch_interval_only"] += math.log(p_int[interval_class(prev_int), step + MAX_INTERVAL])
                ll["pitch_unigram"] += math.log(p_int_uni[step + MAX_INTERVAL])
                ll["pitch_random_walk"] += math.log(rw[step + MAX_INTERVAL])
                ll["pitch_uniform"] += math.log(1.0 / N_INT)
                n["pitch"] += 1
                prev_int = step
        prev = None
        for x in song["chords"]:
            if x is None:
                continue
            b0, b1, (root, cls, _), tonic, mode = x
            m = mode_i(mode)
            st = roman_state((root - tonic) % 12, cls)
            if prev is not None and prev[1] == m and prev[0] != st:
                ll["chord_model"] += math.log(p_tr[m, prev[0], st])
                ll["chord_unigram"] += math.log(p_tr_uni[m, st])
                ll["chord_uniform"] += math.log(1.0 / 60)
                n["chord"] += 1
            prev = (st, m)
    out = {}
    for k, v in ll.items():
        out[k] = round(v / n[k.split("_")[0]], 4)
    out["n_notes"] = n["pitch"]
    out["n_durations"] = n["dur"]
    out["n_chords"] = n["chord"]
    return out


def reference_histograms(songs: list[dict]) -> dict:
    """Histograms of held-out melodies for the benchmark: intervals, note lengths, pitch classes."""
    iv = np.zeros(N_INT)
    dur = np.zeros(MAX_IOI16 + 1)
    pcs = np.zeros(12)
    for song in songs:
        for ph in phrases_of(song["notes"]):
            for j, (on, off, pitch, tonic, mode, _) in enumerate(ph):
                pcs[rel_pc(pitch, tonic if mode == "major" else (tonic + 3) % 12)] += 1
                # a note's length: to the next onset inside a phrase (sung legato), as sounded at its end
                length = ph[j + 1][0] - on if j + 1 < len(ph) else off - on
                dur[min(max(length, 1), MAX_IOI16)] += 1
                if j + 1 < len(ph):
                    step = ph[j + 1][2] - pitch
                    iv[int(np.clip(step, -MAX_INTERVAL, MAX_INTERVAL)) + MAX_INTERVAL] += 1
    return {
        "interval_semitones": iv.astype(int).tolist(),
        "duration_sixteenths": dur.astype(int).tolist(),
        "pitch_class_rel_major_tonic": pcs.astype(int).tolist(),
    }


def update_registry(init: Path, name: str, digest: str) -> None:
    """Write the new sha256 into the registry entry ``name`` of ``src/yuefu/models/__init__.py``."""
    if not init.is_file():
        print(f"registry: {init} not found; add {name!r} with sha256 {digest} by hand", file=sys.stderr)
        return
    text = init.read_text(encoding="utf-8")
    pattern = re.compile(rf'("{name}": ModelEntry\(\s*file="[^"]+",\s*sha256=")([0-9a-f]{{64}})(")')
    if not pattern.search(text):
        print(f"registry: add {name!r} with sha256 {digest} to {init} by hand", file=sys.stderr)
        return
    init.write_text(pattern.sub(lambda m: m.group(1) + digest + m.group(3), text), encoding="utf-8")


def model_card(stats: dict, digest: str, size: int) -> str:
    """The model card ``melody_pop909.md``, written with the statistics it describes."""
    ev = stats["heldout_loglik_nats"]
    ct = np.array(stats["chord_tone_counts"], dtype=float)
    prog = {m: ", ".join(f"{k} ({v})" for k, v in stats["progressions"][m][:6]) for m in MODES}
    rows = "\n".join([
        f"| next pitch ({ev['n_notes']} notes) | {ev['pitch_model']:.3f} (interval x degree-in-chord); "
        f"{ev['pitch_interval_only']:.3f} (interval only) | {ev['pitch_unigram']:.3f} | "
        f"{ev['pitch_random_walk']:.3f} | {ev['pitch_uniform']:.3f} |",
        f"| note length ({ev['n_durations']} notes) | {ev['dur_model']:.3f} (given metric position) | "
        f"{ev['dur_unigram']:.3f} | - | {ev['dur_uniform']:.3f} |",
        f"| next chord ({ev['n_chords']} changes) | {ev['chord_model']:.3f} (bigram) | "
        f"{ev['chord_unigram']:.3f} | - | {ev['chord_uniform']:.3f} |",
    ])
    return f"""# melody_pop909: melody and chord statistics learned from POP909

Written by `python train/melody.py` (this card too); read by `yuefu.compose` (`write_melody`,
`harmonize`). A JSON file of counts ({size / 1024:.0f} KiB), sha256 `{digest}`,
registered in `yuefu.models.REGISTRY` as `melody_pop909`. The loader smooths the counts.

## Data
POP909 (Wang, Chen et al., ISMIR 2020; MIT licence): 909 Chinese pop songs as aligned MIDI with
beat, chord and key annotations. The MELODY track of each song in 4/4 ({stats["songs_train"]} songs,
{stats["notes_train"]} notes for training; songs in other meters, 3 %, are left out) is read relative
to the key in force (`key_audio.txt`: C major / A minor), on the beat grid of `beat_midi.txt`
(onsets quantised to sixteenths), with the chord in force from `chord_midi.txt`. Phrases are split
at rests of at least 3/4 beat. A fixed permutation (seed {SEED}) holds out {stats["songs_heldout"]} songs
(10 %); their names are listed in the file.

## What it holds
- note lengths (inter-onset intervals, sixteenths) by metric position in the bar;
- intervals (semitones, -12..12) given the class of the previous interval (8 classes);
- the melody's pitch class relative to the chord root, per chord class and strong/weak beat;
  relative to the tonic per mode; phrase-final degrees per mode;
- phrase lengths (notes, bars), phrase-final durations and positions, phrase start positions,
  rests between phrases;
- chord transitions between Roman-numeral states (12 roots x maj/min/dim/aug/sus) per mode,
  chord lengths in beats, the beat on which chords change, the sevenths used on each degree, the
  20 commonest four-chord progressions per mode;
- histograms of the held-out melodies (intervals, note lengths, pitch classes) for
  `benchmarks/melody.py`.

Strong-beat melody notes in POP909 are chord tones {ct[1, 1] / ct[1].sum():.1%} of the time (weak beats
{ct[0, 1] / ct[0].sum():.1%}); `write_melody` asks more of itself (chord tones on strong beats by rule).

Commonest progressions: major {prog["major"]}; minor {prog["minor"]}.

## Held-out evaluation
Mean log-likelihood per event in nats on the {stats["songs_heldout"]} held-out songs (higher is better):

| event | model | unigram | random walk | uniform |
|---|---|---|---|---|
{rows}

The random walk is a discretised Laplace over intervals with the training set's mean |interval|;
uniform spreads over 25 intervals, 16 note lengths or 60 chord states.

## Limits
Chinese pop only: other styles are rules on top (`yuefu.compose.melody`). Keys come from the
audio annotation and may be the relative major/minor of the true mode; 6/8 and 3/4 rhythms are
rules, not learned. Statistics only, no neural model: it cannot remember a song.
"""


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=here.parent / "shared/datasets/pop909/POP909")
    ap.add_argument("--out", type=Path, default=here / "src/yuefu/models")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"POP909 not found at {args.data}; pass --data", file=sys.stderr)
        return 2
    folders = sorted(p for p in args.data.iterdir() if p.is_dir() and (p / "beat_midi.txt").exists())
    rng = np.random.default_rng(SEED)
    perm = rng.permutation(len(folders))
    n_hold = int(round(HOLDOUT_FRACTION * len(folders)))
    held = {folders[i].name for i in perm[:n_hold]}
    train_c = Counts()
    train_songs, held_songs = [], []
    for f in folders:
        song = read_song(f)
        if song is None:
            continue
        (held_songs if f.name in held else train_songs).append(song)
    for song in train_songs:
        count_song(song, train_c)
    ev = evaluate(held_songs, train_c)
    c = train_c
    stats = {
        "format": "yuefu-melody-stats",
        "version": 1,
        "source": "POP909 (MIT), MELODY tracks, beat_midi.txt, chord_midi.txt, key_audio.txt",
        "grid_per_beat": GRID,
        "songs_train": c.n_songs,
        "songs_heldout": len(held_songs),
        "notes_train": c.n_notes,
        "heldout_songs": sorted(s["name"] for s in held_songs),
        "prev_interval_classes": ["start", "leap_down", "skip_down", "step_down", "repeat",
                                  "step_up", "skip_up", "leap_up"],
        "chord_classes": list(CHORD_CLASSES),
        "modes": list(MODES),
        "ioi_given_pos": c.ioi.astype(int).tolist(),
        "final_duration": c.final_dur.astype(int).tolist(),
        "final_position": c.final_pos.astype(int).tolist(),
        "start_position": c.start_offset.astype(int).tolist(),
        "rest": c.rest.astype(int).tolist(),
        "phrase_notes": c.phrase_notes.astype(int).tolist(),
        "phrase_bars": c.phrase_bars.astype(int).tolist(),
        "interval_given_prev": c.interval.astype(int).tolist(),
        "degree_given_chord": c.deg_chord.astype(int).tolist(),
        "degree_given_tonic": c.deg_tonic.astype(int).tolist(),
        "final_degree": c.final_degree.astype(int).tolist(),
        "chord_tone_counts": c.chord_tone.astype(int).tolist(),
        "chord_transitions": c.trans.astype(int).tolist(),
        "chord_unigram": c.unigram.astype(int).tolist(),
        "chord_beats": c.chord_beats.astype(int).tolist(),
        "chord_change_beat": c.change_at.astype(int).tolist(),
        "sevenths": {m: dict(sorted(c.sevenths[m].items())) for m in MODES},
        "progressions": {m: [[k, v] for k, v in c.ngrams[m].most_common(20)] for m in MODES},
        "heldout_loglik_nats": ev,
        "heldout_reference": reference_histograms(held_songs),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "melody_pop909.json"
    text = json.dumps(stats, separators=(",", ":"), ensure_ascii=False, sort_keys=False) + "\n"
    path.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    print(f"wrote {path} ({len(text) / 1024:.0f} KiB, sha256 {sha})")
    update_registry(args.out / "__init__.py", "melody_pop909", sha)
    (args.out / "melody_pop909.md").write_text(model_card(stats, sha, len(text)), encoding="utf-8")
    print(f"train {c.n_songs} songs / {c.n_notes} notes; held out {len(held_songs)} songs")
    for k, v in ev.items():
        print(f"  {k}: {v}")
    ct = c.chord_tone
    print(f"  chord-tone rate strong {ct[1, 1] / ct[1].sum():.3f} weak {ct[0, 1] / ct[0].sum():.3f}")
    for m in MODES:
        print(f"  {m}: " + "; ".join(f"{k} ({v})" for k, v in c.ngrams[m].most_common(5)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
