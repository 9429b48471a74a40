"""Frozen dataclass configurations read from dicts (TOML, JSON) with a version stamp.

Every saved configuration (spec.toml, motive.json, mix settings) carries ``version``; reading one
back refuses another version and any unknown key, naming it and listing the valid ones.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Reverb:
...     room: float = 0.5
>>> config_from_dict(Reverb, {"version": 1, "room": 0.8}, version=1)
Reverb(room=0.8)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

from yuefu.core.errors import ParameterError

__all__ = ["config_from_dict"]

T = TypeVar("T")


def config_from_dict(cls: Callable[..., T], data: Mapping[str, Any], *, version: int,
                     source: str = "", what: str = "", tuples: tuple[str, ...] = ()) -> T:
    """Build the dataclass ``cls`` from ``data``.

    Parameters
    ----------
    cls : dataclass type
    data : mapping
        Field values, plus an optional ``version`` (default: the current one).
    version : int
        The version this code writes and reads.
    source : str
        Names the file (or section) in error messages; default: the class name.
    what : str
        What the configuration is (``"spec"``), for the version message; default: the class name.
    tuples : tuple of str
        Fields stored as lists in JSON/TOML that the dataclass keeps as tuples.

    Raises
    ------
    ParameterError
        Another version, an unknown key (named, with the valid ones) or a value the class refuses.
    """
    name = getattr(cls, "__name__", "config")
    where, what = source or name, what or name
    d = dict(data)
    got = d.pop("version", version)
    if got != version:
        raise ParameterError(f"{where}: {what} version {got!r} is not supported (expected {version})")
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(d) - names)
    if unknown:
        raise ParameterError(f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(names))}")
    for k in tuples:
        if isinstance(d.get(k), list):
            d[k] = tuple(d[k])
    try:
        return cls(**d)
    except TypeError as e:
        raise ParameterError(f"{where}: {e}") from None
