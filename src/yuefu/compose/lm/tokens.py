"""The compound-word token layout of the music language model, and its miditok CPWord wrapper.

A piece is a sequence of *compound tokens* (Hsiao et al., 2021): each step is one row of
:data:`N_FAMILIES` integers, one per token family. The ``type`` family says what the row is;
the families a type does not use hold 0 (``<none>``)::

    type   active families                         meaning
    COND   style, emotion, mode, tempo, meter      the conditions; always the first row
    BAR    -                                       a new bar starts
    POS    position, chord                         an onset position in the bar (16ths), with
                                                   the chord in force there
    NOTE   track, pitch, duration, velocity        a note at the last position
    EOS    -                                       the piece ends

Notes, positions and bars are miditok's CPWord tokens (``Position_5``, ``Pitch_64``,
``Duration_1.2.4``, ``Velocity_79``): :class:`CPTokenizer` encodes a ``symusic.Score`` with
miditok and re-labels its rows; decoding goes back through miditok's ``decode``. What CPWord
cannot carry (POP909's chord annotations, the conditions, melody vs accompaniment as two
"programs") is added here. Pieces are written in C major / A minor (the mode is a condition);
the caller transposes (see :mod:`yuefu.compose.lm.convert`).

Needs ``miditok`` (the ``ml`` extra) for encoding and decoding; the layout constants do not.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.core.spec import EMOTIONS, STYLES

__all__ = [
    "FAMILIES",
    "HEAD_FAMILIES",
    "COND_FAMILIES",
    "N_FAMILIES",
    "TYPE_NAMES",
    "PAD",
    "COND",
    "BAR",
    "POS",
    "NOTE",
    "EOS",
    "ACTIVE",
    "TRACKS",
    "MELODY_PROGRAM",
    "ACCOMP_PROGRAM",
    "CHORD_QUALITIES_LM",
    "TEMPO_EDGES",
    "METERS",
    "TokenizerSettings",
    "CPTokenizer",
    "Conditions",
    "tempo_bin",
    "chord_label",
]

#: Token families, one column each, in this order.
FAMILIES = ("type", "position", "chord", "track", "pitch", "duration", "velocity",
            "style", "emotion", "mode", "tempo", "meter")
N_FAMILIES = len(FAMILIES)
FI = {f: i for i, f in enumerate(FAMILIES)}
#: Families the model predicts, in the order they are sampled within one step (each head sees
#: the embeddings of the families sampled before it).
HEAD_FAMILIES = ("type", "position", "chord", "track", "pitch", "duration", "velocity")
COND_FAMILIES = ("style", "emotion", "mode", "tempo", "meter")

TYPE_NAMES = ("PAD", "COND", "BAR", "POS", "NOTE", "EOS")
PAD, COND, BAR, POS, NOTE, EOS = range(6)
#: type -> the families a row of that type fills (the others hold 0).
ACTIVE: dict[int, tuple[str, ...]] = {
    PAD: (), COND: COND_FAMILIES, BAR: (), POS: ("position", "chord"),
    NOTE: ("track", "pitch", "duration", "velocity"), EOS: (),
}

TRACKS = ("melody", "accompaniment")
#: The miditok "programs" that stand for the two tracks inside the token stream.
MELODY_PROGRAM, ACCOMP_PROGRAM = 73, 0

#: Chord qualities of the chord family (yuefu suffixes); others map to the nearest of these.
CHORD_QUALITIES_LM = ("", "m", "7", "maj7", "m7", "dim", "aug", "sus2", "sus4", "m7b5")
_QUALITY_FOLD = {"5": "", "6": "", "add9": "", "9": "7", "maj9": "maj7", "m6": "m", "madd9": "m",
                 "m9": "m7", "mmaj7": "m", "dim7": "dim", "7sus4": "sus4"}
_PC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

#: Tempo bins (BPM edges); bin i spans [edge i-1, edge i).
TEMPO_EDGES = (72.0, 84.0, 96.0, 108.0, 120.0, 136.0)
_TEMPO_CENTRES = (66.0, 78.0, 90.0, 102.0, 114.0, 128.0, 144.0)
METERS = ("4/4", "3/4")


def tempo_bin(tempo_bpm: float) -> int:
    """Index 0..6 of the tempo bin of ``tempo_bpm``."""
    return int(np.searchsorted(TEMPO_EDGES, tempo_bpm, side="right"))


def chord_label(root: int, quality: str) -> str:
    """The chord family's label of a chord: ``(9, "m7")`` -> ``"Am7"`` (qualities folded)."""
    q = _QUALITY_FOLD.get(quality, quality)
    if q not in CHORD_QUALITIES_LM:
        q = ""
    return _PC_NAMES[root % 12] + q


def _vocabs() -> dict[str, list[str]]:
    """The label lists of the families that do not come from miditok."""
    return {
        "type": list(TYPE_NAMES),
        "chord": ["<none>", "N"] + [p + q for p in _PC_NAMES for q in CHORD_QUALITIES_LM],
        "track": ["<none>", *TRACKS],
        "style": ["<none>", "unknown", *STYLES],
        "emotion": ["<none>", "unknown", *EMOTIONS],
        "mode": ["<none>", "unknown", "major", "minor"],
        "tempo": ["<none>", "unknown"] + [f"bin{i}" for i in range(len(TEMPO_EDGES) + 1)],
        "meter": ["<none>", *METERS],
    }


@dataclass(frozen=True)
class Conditions:
    """What a piece is asked to be: the COND row.

    ``style`` and ``emotion`` may be ``"unknown"``; ``mode`` is ``"major"`` or ``"minor"``;
    ``meter`` one of :data:`METERS`.
    """

    style: str = "unknown"
    emotion: str = "unknown"
    mode: str = "major"
    tempo_bpm: float = 100.0
    meter: str = "4/4"

    def __post_init__(self) -> None:
        v = _vocabs()
        if self.style not in v["style"][1:]:
            raise ParameterError(f"style {self.style!r} is unknown to the model; valid: "
                                 + ", ".join(v["style"][1:]))
        if self.emotion not in v["emotion"][1:]:
            raise ParameterError(f"emotion {self.emotion!r} is unknown to the model; valid: "
                                 + ", ".join(v["emotion"][1:]))
        if self.mode not in ("major", "minor", "unknown"):
            raise ParameterError(f"mode must be 'major' or 'minor', got {self.mode!r}")
        if self.meter not in METERS:
            raise ParameterError(f"the model writes in {' or '.join(METERS)}, not {self.meter}")
        if not 20.0 <= self.tempo_bpm <= 400.0:
            raise ParameterError(f"tempo_bpm must be 20..400, got {self.tempo_bpm}")

    @property
    def positions_per_bar(self) -> int:
        num, den = (int(x) for x in self.meter.split("/"))
        return num * 16 // den


@dataclass(frozen=True)
class TokenizerSettings:
    """The miditok CPWord configuration and the track pitch ranges (saved beside the weights).

    Positions are sixteenths (4 per beat); durations are sixteenths up to one bar and eighths up
    to two; velocities in 8 bins; pitches 21..108 (the piano); meters 4/4 and 3/4.
    """

    version: int = 1
    pitch_range: tuple[int, int] = (21, 109)
    beat_res: tuple[tuple[int, int, int], ...] = ((0, 4, 4), (4, 8, 2))
    num_velocities: int = 8
    #: MIDI pitch range (inclusive) each track may sample; a mask, set from the training data.
    track_pitch: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {"melody": (48, 96), "accompaniment": (21, 108)})

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenizerSettings:
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ParameterError(f"tokenizer settings: unknown key(s) {', '.join(sorted(unknown))}")
        d = dict(data)
        if "pitch_range" in d:
            d["pitch_range"] = tuple(d["pitch_range"])
        if "beat_res" in d:
            d["beat_res"] = tuple(tuple(x) for x in d["beat_res"])
        if "track_pitch" in d:
            d["track_pitch"] = {k: (int(v[0]), int(v[1])) for k, v in d["track_pitch"].items()}
        return cls(**d)


class CPTokenizer:
    """miditok's CPWord with yuefu's families: encode a ``symusic.Score`` to rows, and back.

    Parameters
    ----------
    settings : TokenizerSettings

    Attributes
    ----------
    vocab : dict of str -> list of str
        The labels of each family (index = token id).
    sizes : tuple of int
        Vocabulary size per family, in :data:`FAMILIES` order.
    """

    def __init__(self, settings: TokenizerSettings | None = None):
        import miditok

        self.settings = settings or TokenizerSettings()
        s = self.settings
        cfg = miditok.TokenizerConfig(
            pitch_range=tuple(s.pitch_range),
            beat_res={(a, b): r for a, b, r in s.beat_res},
            num_velocities=s.num_velocities,
            use_velocities=True,
            use_programs=True,
            programs=[ACCOMP_PROGRAM, MELODY_PROGRAM],
            one_token_stream_for_programs=True,
            use_time_signatures=True,
            time_signature_range={4: [3, 4]},
            use_tempos=False,
            use_chords=False,
            use_rests=False,
            special_tokens=["PAD", "BOS", "EOS"],
        )
        self.mt = miditok.CPWord(cfg)
        self._col = dict(self.mt.vocab_types_idx)  # miditok column of each of its families
        v = _vocabs()

        def mt_labels(kind: str) -> list[str]:
            return ["<none>"] + [t for t in self.mt.vocab[self._col[kind]] if t.startswith(kind + "_")]

        v["position"] = mt_labels("Position")
        v["pitch"] = mt_labels("Pitch")
        v["duration"] = mt_labels("Duration")
        v["velocity"] = mt_labels("Velocity")
        self.vocab = {f: v[f] for f in FAMILIES}
        self.index = {f: {lab: i for i, lab in enumerate(self.vocab[f])} for f in FAMILIES}
        self.sizes = tuple(len(self.vocab[f]) for f in FAMILIES)
        # pitch id -> MIDI pitch, and duration id -> length in sixteenths
        self.pitch_of = np.array([0] + [int(x.split("_")[1]) for x in self.vocab["pitch"][1:]])
        self.duration16_of = np.array([0] + [self._dur16(x) for x in self.vocab["duration"][1:]])

    @staticmethod
    def _dur16(label: str) -> int:
        beats, ticks, res = (int(x) for x in label.split("_")[1].split("."))
        return beats * 4 + ticks * 4 // res

    # -- encoding ----------------------------------------------------------------------------
    def cond_row(self, cond: Conditions) -> np.ndarray:
        """The COND row of ``cond``."""
        row = np.zeros(N_FAMILIES, dtype=np.int64)
        row[FI["type"]] = COND
        row[FI["style"]] = self.index["style"][cond.style]
        row[FI["emotion"]] = self.index["emotion"][cond.emotion]
        row[FI["mode"]] = self.index["mode"][cond.mode]
        row[FI["tempo"]] = self.index["tempo"][f"bin{tempo_bin(cond.tempo_bpm)}"]
        row[FI["meter"]] = self.index["meter"][cond.meter]
        return row

    def encode(self, score: Any, *, cond: Conditions,
               chords: list[tuple[int, str]] | None = None, eos: bool = True) -> np.ndarray:
        """Rows of a piece: its COND row, then its bars, positions and notes (then EOS).

        Parameters
        ----------
        score : symusic.Score
            Notes of the melody in tracks of program :data:`MELODY_PROGRAM`, the accompaniment
            in program :data:`ACCOMP_PROGRAM`; one time signature (``cond.meter``) at tick 0;
            bar lines every bar from tick 0.
        cond : Conditions
        chords : list of (tick, label), optional
            Chord labels (:func:`chord_label`, or ``"N"``) from the ticks given, in the
            score's ticks; each position row carries the one in force.
        eos : bool
            End with an EOS row.

        Returns
        -------
        rows : np.ndarray [shape=(n, N_FAMILIES), dtype=int64]
        """
        seq = self.mt.encode(score)
        if isinstance(seq, list):  # not expected with one token stream
            seq = seq[0]
        ticks_mt = self.mt.time_division
        scale = score.ticks_per_quarter / ticks_mt
        ch_ticks = np.array([c[0] for c in chords or []], dtype=np.float64)
        ch_labels = [c[1] for c in chords or []]
        rows = [self.cond_row(cond)]
        pc, ic = self._col["Position"], self._col
        for toks, evs in zip(seq.tokens, seq.events, strict=True):
            row = np.zeros(N_FAMILIES, dtype=np.int64)
            if toks[0] == "Family_Metric":
                if toks[pc] == "Bar_None":
                    ts = toks[ic["TimeSig"]].split("_", 1)[1]
                    if ts != cond.meter:
                        raise ParameterError(f"a bar in {ts} in a piece conditioned on {cond.meter}")
                    row[0] = BAR
                else:
                    row[0] = POS
                    row[FI["position"]] = self.index["position"][toks[pc]]
                    lab = "N"
                    if ch_labels:
                        i = int(np.searchsorted(ch_ticks, evs[0].time * scale + 1e-6, side="right")) - 1
                        lab = ch_labels[i] if i >= 0 else "N"
                    row[FI["chord"]] = self.index["chord"].get(lab, 1)
            elif toks[0] == "Family_Note":
                row[0] = NOTE
                prog = int(toks[ic["Program"]].split("_")[1])
                row[FI["track"]] = 1 if prog == MELODY_PROGRAM else 2
                row[FI["pitch"]] = self.index["pitch"][toks[ic["Pitch"]]]
                row[FI["duration"]] = self.index["duration"][toks[ic["Duration"]]]
                row[FI["velocity"]] = self.index["velocity"][toks[ic["Velocity"]]]
            else:
                continue
            rows.append(row)
        if eos:
            end = np.zeros(N_FAMILIES, dtype=np.int64)
            end[0] = EOS
            rows.append(end)
        return np.stack(rows)

    # -- decoding ----------------------------------------------------------------------------
    def decode(self, rows: np.ndarray, *, meter: str = "4/4") -> tuple[Any, list[tuple[float, str]]]:
        """A ``symusic.Score`` (miditok's ticks) and the chord changes ``[(beat, label)]`` of rows.

        COND, PAD and EOS rows are skipped (decoding stops at the first EOS). The rows must
        start with a BAR row, as the model's output does.
        """
        mt_rows: list[list[str]] = []
        chords: list[tuple[float, str]] = []
        ppb = Conditions(meter=meter).positions_per_bar
        bar = -1
        n_cols = len(self.mt.vocab)
        for r in np.asarray(rows):
            t = int(r[0])
            if t == EOS:
                break
            if t == BAR:
                bar += 1
                toks = ["Family_Metric", "Bar_None"] + ["Ignore_None"] * (n_cols - 2)
                toks[self._col["TimeSig"]] = f"TimeSig_{meter}"
            elif t == POS:
                if bar < 0:
                    raise ParameterError("token rows must start with a bar before a position")
                toks = ["Family_Metric", self.vocab["position"][int(r[FI["position"]])]]
                toks += ["Ignore_None"] * (n_cols - 2)
                lab = self.vocab["chord"][int(r[FI["chord"]])]
                if lab not in ("<none>", "N") and (not chords or chords[-1][1] != lab):
                    pos = int(self.vocab["position"][int(r[FI["position"]])].split("_")[1])
                    chords.append(((bar * ppb + pos) / 4.0, lab))
            elif t == NOTE:
                toks = ["Family_Note", "Ignore_None"] + ["Ignore_None"] * (n_cols - 2)
                toks[self._col["Pitch"]] = self.vocab["pitch"][int(r[FI["pitch"]])]
                toks[self._col["Velocity"]] = self.vocab["velocity"][int(r[FI["velocity"]])]
                toks[self._col["Duration"]] = self.vocab["duration"][int(r[FI["duration"]])]
                prog = MELODY_PROGRAM if int(r[FI["track"]]) == 1 else ACCOMP_PROGRAM
                toks[self._col["Program"]] = f"Program_{prog}"
            else:
                continue
            mt_rows.append(toks)
        ids = [[self.mt.vocab[c][tok] for c, tok in enumerate(row)] for row in mt_rows]
        if not ids:
            import symusic

            return symusic.Score(self.mt.time_division), chords
        return self.mt.decode(ids), chords

    def describe(self, row: np.ndarray) -> str:
        """A readable form of one row, e.g. ``NOTE track=melody pitch=Pitch_64 ...``."""
        t = int(row[0])
        parts = [TYPE_NAMES[t] if 0 <= t < len(TYPE_NAMES) else f"type?{t}"]
        for f in ACTIVE.get(t, ()):
            i = int(row[FI[f]])
            parts.append(f"{f}={self.vocab[f][i] if 0 <= i < len(self.vocab[f]) else '?'}")
        return " ".join(parts)
