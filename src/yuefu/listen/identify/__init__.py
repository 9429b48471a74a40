"""Song identification (听歌识曲): landmark fingerprints, a catalog, a speed-tolerant matcher.

A catalog is an SQLite file (the default, nothing to set up) or a PostgreSQL database
(``postgresql://...``, ``pip install 'yuefu[pg]'``). Clips may be noisy, reverberant, lossy and
played up to 5% faster or slower; a clip from outside the catalog answers "no match".

>>> import tempfile, pathlib
>>> from yuefu.listen.identify import open_catalog
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with open_catalog(d / "songs.db", create=True) as cat:   # doctest: +SKIP
...     report = cat.add(["~/Music"])
...     result = cat.query("clip.wav")
...     print(result.match.track if result.match else "no match")
"""

from __future__ import annotations

from yuefu.listen.identify.catalog import (
    Catalog,
    CatalogStats,
    IngestReport,
    Match,
    QueryResult,
    collect_audio_files,
    open_catalog,
)
from yuefu.listen.identify.fingerprint import (
    MIN_QUERY_S,
    Fingerprint,
    FingerprintConfig,
    Peaks,
    find_peaks,
    find_peaks_stream,
    fingerprint_audio,
    fingerprint_peaks,
)
from yuefu.listen.identify.match import MatchSettings
from yuefu.listen.identify.store import CatalogError, Store, open_store

__all__ = [
    "Catalog",
    "CatalogStats",
    "CatalogError",
    "IngestReport",
    "Match",
    "MatchSettings",
    "QueryResult",
    "Fingerprint",
    "FingerprintConfig",
    "Peaks",
    "Store",
    "MIN_QUERY_S",
    "collect_audio_files",
    "find_peaks",
    "find_peaks_stream",
    "fingerprint_audio",
    "fingerprint_peaks",
    "open_catalog",
    "open_store",
]
