"""``SongSpec``: what a person asks for: theme, emotion, style, language, length, voice, seed.

>>> spec = SongSpec(theme="夏夜的海边", emotion="nostalgic", style="ballad", language="zh")
>>> int(spec.rng().integers(0, 10)) == int(SongSpec(theme="夏夜的海边").rng().integers(0, 10))
True
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from yuefu.core.config import config_from_dict
from yuefu.core.errors import ParameterError

__all__ = ["EMOTIONS", "STYLES", "LANGUAGES", "VOICES", "SongSpec", "SPEC_VERSION"]

EMOTIONS = ("happy", "sad", "calm", "excited", "romantic", "nostalgic", "epic", "playful")
STYLES = ("pop", "ballad", "folk", "rock", "electronic", "children", "classical_piano")
LANGUAGES = ("zh", "en")
VOICES = ("female", "male")
SPEC_VERSION = 1
MAX_THEME_CHARS = 200
#: The largest seed: TOML integers are signed 64-bit.
MAX_SEED = 2**63 - 1


def _one_of(field_name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ParameterError(f"unknown {field_name} {value!r}; valid: {', '.join(valid)}")


@dataclass(frozen=True)
class SongSpec:
    """A song request. Every random choice downstream comes from :meth:`rng`.

    Parameters
    ----------
    theme : str
        Keywords or a sentence, Chinese or English (1..200 characters with at least one letter).
    emotion, style, language, voice : str
        One of :data:`EMOTIONS`, :data:`STYLES`, :data:`LANGUAGES`, :data:`VOICES`.
    length_s : float
        Target length in seconds, 10..600.
    seed : int
        Seed of the random generator, 0..2**63-1 (TOML's integer range).
    """

    theme: str = "summer night by the sea"
    emotion: str = "happy"
    style: str = "pop"
    language: str = "en"
    length_s: float = 180.0
    voice: str = "female"
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.theme, str):
            raise ParameterError(f"the theme must be text, got {type(self.theme).__name__}")
        theme = self.theme.strip()
        if not theme:
            raise ParameterError("the theme is empty: give a few words or a sentence")
        if len(theme) > MAX_THEME_CHARS:
            raise ParameterError(
                f"the theme is {len(theme)} characters long; keep it to {MAX_THEME_CHARS}"
            )
        if not any(unicodedata.category(c).startswith("L") for c in theme):
            raise ParameterError(
                f"the theme {theme!r} has no words (only symbols or emoji): give a few words"
            )
        object.__setattr__(self, "theme", theme)
        _one_of("emotion", self.emotion, EMOTIONS)
        _one_of("style", self.style, STYLES)
        _one_of("language", self.language, LANGUAGES)
        _one_of("voice", self.voice, VOICES)
        if isinstance(self.length_s, bool) or not isinstance(self.length_s, (int, float)):
            raise ParameterError(f"length_s must be a number of seconds, got {self.length_s!r}")
        if not 10.0 <= float(self.length_s) <= 600.0:
            raise ParameterError(f"length_s must be 10..600 seconds, got {self.length_s}")
        object.__setattr__(self, "length_s", float(self.length_s))
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise ParameterError(f"seed must be a whole number 0..{MAX_SEED}, got {self.seed!r}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ParameterError(f"seed must be a whole number 0..{MAX_SEED}, got {self.seed!r}")
        object.__setattr__(self, "seed", int(self.seed))

    def rng(self, *, stream: str = "") -> np.random.Generator:
        """A generator seeded from the seed (and an optional stream name for independent parts).

        Every (seed, stream) pair gives its own sequence: the stream name's UTF-8 bytes are the
        seed sequence's spawn key, kept apart from the seed's own words.
        """
        spawn_key = tuple(stream.encode("utf-8"))
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=spawn_key))

    # -- files --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, object]:
        return {"version": SPEC_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, object], *, source: str = "spec") -> SongSpec:
        """A spec from :meth:`to_dict`'s form; another version or an unknown key is refused."""
        return config_from_dict(cls, data, version=SPEC_VERSION, source=source, what="spec")

    @classmethod
    def load(cls, path: str | Path) -> SongSpec:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ParameterError(f"{p}: no such spec file") from None
        except IsADirectoryError:
            raise ParameterError(f"{p} is a folder; expected a spec file (spec.toml)") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ParameterError(f"{p}: not a valid TOML spec ({e})") from None
        except OSError as e:
            raise ParameterError(f"{p}: cannot read the spec file ({e.strerror or e})") from None
        return cls.from_dict(data, source=str(p))

    def dumps(self) -> str:
        import tomli_w

        return tomli_w.dumps(self.to_dict())
