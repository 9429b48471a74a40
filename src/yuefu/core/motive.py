"""``Motive``: the musical parameters a song request turns into (motive.json).

It is the shared vocabulary between the songwriter's stages: lyrics read its lexical seeds,
melody its key, meter, tempo, feel and voice range, harmony its palette, arrangement its
instruments and energy. ``reasons`` says why each value was chosen (it goes into report.json).

>>> m = Motive(key="D major", tempo_bpm=96.0, style="pop", emotion="happy", language="en")
>>> m.key_obj.tonic, m.bar_beats
(2, 4.0)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from yuefu.core.config import config_from_dict
from yuefu.core.errors import ParameterError
from yuefu.core.spec import EMOTIONS, LANGUAGES, STYLES, VOICES
from yuefu.core.theory import Key

__all__ = ["Motive", "FEELS", "PALETTES", "MOTIVE_VERSION"]

MOTIVE_VERSION = 1
#: Rhythmic feels: straight eighths, swung eighths, compound (6/8, 12/8) lilt, half-time.
FEELS = ("straight", "swing", "compound", "halftime")
#: Harmonic palettes: which chords the harmoniser may use.
PALETTES = ("diatonic", "pentatonic", "minor_modal", "sevenths", "power", "classical")


@dataclass(frozen=True)
class Motive:
    """Musical parameters of a song.

    Parameters
    ----------
    key : str
        ``"D major"``, ``"A minor"`` (parsed with :meth:`Key.parse`).
    tempo_bpm : float
        Quarter notes per minute, 40..220.
    meter : tuple of int
        (numerator, denominator): (4, 4), (3, 4), (6, 8), (2, 4).
    feel : str
        One of :data:`FEELS`.
    palette : str
        One of :data:`PALETTES`.
    instruments : dict
        Role -> GM program (``{"lead": 73, "chords": 0, "bass": 33, ...}``); drums use the kit.
    voice_range : tuple of int
        Lowest and highest MIDI pitch of the sung melody.
    energy : float
        0 (still) .. 1 (driving): density of accompaniment and drums.
    lexical_seeds : tuple of str
        Words and imagery the lyrics should use.
    reasons : dict
        Field -> why it was chosen.
    """

    key: str = "C major"
    tempo_bpm: float = 100.0
    meter: tuple[int, int] = (4, 4)
    feel: str = "straight"
    palette: str = "diatonic"
    instruments: dict[str, int] = field(default_factory=lambda: {"lead": 73, "chords": 0,
                                                                  "bass": 33})
    voice_range: tuple[int, int] = (57, 76)
    energy: float = 0.5
    style: str = "pop"
    emotion: str = "happy"
    language: str = "en"
    voice: str = "female"
    theme: str = ""
    lexical_seeds: tuple[str, ...] = ()
    seed: int = 0
    reasons: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        Key.parse(self.key)
        if not 40.0 <= float(self.tempo_bpm) <= 220.0:
            raise ParameterError(f"motive tempo_bpm must be 40..220, got {self.tempo_bpm}")
        if tuple(self.meter) not in ((4, 4), (3, 4), (6, 8), (2, 4), (12, 8)):
            raise ParameterError(f"motive meter must be 4/4, 3/4, 6/8, 2/4 or 12/8, got {self.meter}")
        object.__setattr__(self, "meter", tuple(int(x) for x in self.meter))
        for name, value, valid in (("feel", self.feel, FEELS), ("palette", self.palette, PALETTES),
                                   ("style", self.style, STYLES), ("emotion", self.emotion, EMOTIONS),
                                   ("language", self.language, LANGUAGES),
                                   ("voice", self.voice, VOICES)):
            if value not in valid:
                raise ParameterError(f"motive {name} {value!r} is unknown; valid: {', '.join(valid)}")
        lo, hi = (int(x) for x in self.voice_range)
        if not (0 <= lo < hi <= 127 and hi - lo >= 7):
            raise ParameterError(f"motive voice_range must span at least a fifth, got {self.voice_range}")
        object.__setattr__(self, "voice_range", (lo, hi))
        if not 0.0 <= self.energy <= 1.0:
            raise ParameterError(f"motive energy must be 0..1, got {self.energy}")
        for role, prog in self.instruments.items():
            if not 0 <= int(prog) <= 127:
                raise ParameterError(f"motive instrument {role!r}: GM program must be 0..127")
        object.__setattr__(self, "lexical_seeds", tuple(self.lexical_seeds))

    @property
    def key_obj(self) -> Key:
        return Key.parse(self.key)

    @property
    def bar_beats(self) -> float:
        """Length of a bar in quarter notes."""
        return self.meter[0] * 4.0 / self.meter[1]

    # -- files --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["meter"] = list(self.meter)
        d["voice_range"] = list(self.voice_range)
        d["lexical_seeds"] = list(self.lexical_seeds)
        return {"version": MOTIVE_VERSION, **d}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "motive") -> Motive:
        """A motive from :meth:`to_dict`'s form; another version or an unknown key is refused."""
        return config_from_dict(cls, data, version=MOTIVE_VERSION, source=source, what="motive",
                                tuples=("meter", "voice_range", "lexical_seeds"))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n",
                              encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Motive:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ParameterError(f"{p}: no such motive file") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise ParameterError(f"{p}: not a valid motive JSON file ({e})") from None
        if not isinstance(data, dict):
            raise ParameterError(f"{p}: a motive file holds a JSON object")
        return cls.from_dict(data, source=str(p))
