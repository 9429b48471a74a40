"""Where fingerprints live: one interface, an embedded SQLite file or a PostgreSQL database.

A catalog holds four tables: ``meta`` (a format stamp and the fingerprint settings),
``tracks`` (one row per recording, with the sha256 of its file so that re-adding the same file
changes nothing), ``peaks`` (``track_id, data``: the track's spectral peaks as float32 times and
frequencies, see :func:`pack_peaks`; 8 bytes a peak, about 0.7 MB per hour of audio, read for a
handful of candidate tracks when a query's hash vote is not conclusive) and ``hashes``
(``hash, part, data``: the occurrences of a hash packed as
little-endian int64 ``track_id << 32 | t``, see :func:`pack` and :func:`unpack`, in parts of
about :data:`PART_BYTES`; a hash held fewer than 512 times has one row). A query looks up a few
thousand hashes and gets a few hundred thousand occurrences: one row per hash makes that a few
thousand rows and one ``np.frombuffer``, not a Python tuple per occurrence. Adding tracks
appends to the last part of each hash they hold (a bounded rewrite: ingest stays linear in the
catalog's size). Format v1 had one row per occurrence, v2 had no peaks; an older catalog is
refused with one line that says how to rebuild it. Every change is one transaction: an
interrupted ingest leaves whole tracks or none.

:func:`open_store` picks the backend from the ``db`` string: ``postgresql://...`` (or
``postgres://...``) is PostgreSQL (needs ``pip install 'yuefu[pg]'``), anything else a path to
an SQLite file.
"""

from __future__ import annotations

import json
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.errors import YuefuError
from yuefu.listen.identify.fingerprint import FingerprintConfig

__all__ = ["CatalogError", "TrackRecord", "NewTrack", "Store", "SQLiteStore", "open_store",
           "is_postgres_url", "FORMAT_NAME", "SCHEMA_VERSION", "PART_BYTES", "pack", "unpack",
           "group_by_hash", "pack_peaks", "unpack_peaks"]

FORMAT_NAME = "yuefu-identify-catalog"
#: v1: one ``(hash, track_id, t)`` row per occurrence; v2: occurrences packed per hash;
#: v3: v2 and each track's spectral peaks (for the peak-level verification of a query)
SCHEMA_VERSION = 3

#: A part of a hash's occurrences stops growing at this size (bytes; 8 per occurrence): adding
#: tracks rewrites at most one part per hash, and a lookup reads few rows per hash.
PART_BYTES = 4096

_T_MASK = (1 << 32) - 1


def pack(track_ids: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Occurrences as int64 ``track_id << 32 | t`` (``t`` in frames, 0 <= t < 2**32)."""
    return (np.asarray(track_ids, dtype=np.int64) << 32) | (np.asarray(times, dtype=np.int64) & _T_MASK)


def unpack(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(track_ids, times)`` of packed occurrences (the inverse of :func:`pack`)."""
    v = np.asarray(values, dtype=np.int64)
    return v >> 32, v & _T_MASK


def pack_peaks(t: np.ndarray, f: np.ndarray) -> bytes:
    """A track's peaks as bytes: little-endian float32 times (frames), then frequencies (bins)."""
    t32 = np.asarray(t, dtype="<f4")
    f32 = np.asarray(f, dtype="<f4")
    if t32.shape != f32.shape or t32.ndim != 1:
        raise ValueError(f"peak times and frequencies must be 1-d of one length, got {t32.shape}, "
                         f"{f32.shape}")
    return t32.tobytes() + f32.tobytes()


def unpack_peaks(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``(t, f)`` float64 arrays of :func:`pack_peaks` bytes."""
    v = np.frombuffer(bytes(data), dtype="<f4").astype(np.float64)
    n = v.shape[0] // 2
    return v[:n], v[n: 2 * n]


def _decode(rows: Sequence[tuple[Any, Any]], max_occurrences: int | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(hash, track_id, t)`` arrays from ``(hash, ..., data)`` rows (data last), without the
    hashes stored more than ``max_occurrences`` times."""
    z = np.zeros(0, np.int64)
    if not rows:
        return z, z, z
    hs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    blobs = [bytes(r[-1]) for r in rows]
    lens = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=len(rows)) // 8
    if max_occurrences is not None:
        uh, inv = np.unique(hs, return_inverse=True)  # a hash may span parts (rows)
        keep = (np.bincount(inv.ravel(), weights=lens, minlength=uh.shape[0]) <= max_occurrences)[inv.ravel()]
        if not keep.all():
            hs, lens = hs[keep], lens[keep]
            blobs = [b for b, k in zip(blobs, keep.tolist(), strict=True) if k]
            if not blobs:
                return z, z, z
    v = np.frombuffer(b"".join(blobs), dtype="<i8")
    tr, t = unpack(v)
    return np.repeat(hs, lens), tr, t


def group_by_hash(tracks: Sequence[tuple[int, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, list[bytes]]:
    """The occurrences of several tracks grouped by hash: distinct hashes (sorted) and, for
    each, its packed occurrences as bytes. ``tracks`` holds ``(track_id, hashes, times)``."""
    if not tracks:
        return np.zeros(0, np.int64), []
    h = np.concatenate([np.asarray(x[1], dtype=np.int64) for x in tracks])
    v = np.concatenate([pack(np.full(x[1].shape[0], x[0]), x[2]) for x in tracks]).astype("<i8")
    o = np.argsort(h, kind="stable")
    h, v = h[o], v[o]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]]) if h.size else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], h.size].astype(np.int64)
    buf = v.tobytes()
    return h[starts], [buf[8 * a: 8 * b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def _merge(hashes: np.ndarray, blobs: list[bytes],
           last: dict[int, tuple[int, bytes]]) -> list[tuple[int, int, bytes]]:
    """Rows ``(hash, part, data)`` to write for new occurrences: appended to the hash's last
    part (``last[hash] = (part, data)``) while that is under :data:`PART_BYTES`, else a new part."""
    out = []
    for h, b in zip(hashes.tolist(), blobs, strict=True):
        got = last.get(h)
        if got is None:
            out.append((h, 0, b))
        elif len(got[1]) < PART_BYTES:
            out.append((h, got[0], bytes(got[1]) + b))
        else:
            out.append((h, got[0] + 1, b))
    return out


def _without(data: bytes, ids: np.ndarray) -> bytes | None:
    """``data`` (packed occurrences) without those of the tracks ``ids``; None when unchanged."""
    v = np.frombuffer(data, dtype="<i8")
    drop = np.isin(v >> 32, ids)
    if not drop.any():
        return None
    return v[~drop].tobytes()


def _rewrites(rows: Sequence[tuple[Any, Any, Any]], ids: np.ndarray
              ) -> tuple[list[tuple[bytes, int, int]], list[tuple[int, int]]]:
    """What deleting the tracks ``ids`` does to hash rows ``(hash, part, data)``: the rows to
    update, as ``(data, hash, part)``, and the rows left empty, as ``(hash, part)`` (both
    stores run them with ``executemany``)."""
    upd: list[tuple[bytes, int, int]] = []
    gone: list[tuple[int, int]] = []
    for h, k, data in rows:
        rest = _without(bytes(data), ids)
        if rest is None:
            continue
        if rest:
            upd.append((rest, int(h), int(k)))
        else:
            gone.append((int(h), int(k)))
    return upd, gone


class CatalogError(YuefuError):
    """A catalog (``--db``) is missing, is not a yuefu catalog, or cannot be opened."""


@dataclass(frozen=True)
class TrackRecord:
    """One catalog entry."""

    id: int
    name: str
    path: str
    digest: str
    duration_s: float
    n_hashes: int


@dataclass(frozen=True)
class NewTrack:
    """A fingerprinted recording waiting to be stored.

    ``hashes`` and ``times`` are int64/int32 arrays of the same length (see
    :class:`~yuefu.listen.identify.fingerprint.Fingerprint`); ``peak_t`` and ``peak_f`` are the
    track's spectral peaks (frames, bins; :class:`~yuefu.listen.identify.fingerprint.Peaks`),
    stored for the peak-level verification of queries.
    """

    name: str
    path: str
    digest: str
    duration_s: float
    hashes: np.ndarray
    times: np.ndarray
    peak_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    peak_f: np.ndarray = field(default_factory=lambda: np.zeros(0))


def is_postgres_url(db: str | Path) -> bool:
    s = str(db)
    return s.startswith(("postgresql://", "postgres://"))


class Store(ABC):
    """The catalog interface shared by the SQLite and the PostgreSQL backend."""

    #: where the catalog lives, for messages (a path or a URL without its password)
    location: str
    config: FingerprintConfig

    @abstractmethod
    def digests(self) -> dict[str, int]:
        """Content digest -> track id of every stored track."""

    @abstractmethod
    def add_tracks(self, tracks: Sequence[NewTrack]) -> list[int]:
        """Store tracks and their hashes in one transaction; returns their ids (a digest that is
        already stored keeps its id and is not stored twice)."""

    def optimize(self) -> None:
        """Called after a bulk ingest: refresh the query planner's statistics."""
        return None

    @abstractmethod
    def delete_tracks(self, ids: Sequence[int]) -> int:
        """Delete tracks and their hashes in one transaction; returns how many were deleted."""

    @abstractmethod
    def lookup(self, hashes: np.ndarray, *, max_occurrences: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every stored ``(hash, track_id, t)`` whose hash is in ``hashes`` (unique int64),
        leaving out the hashes stored more than ``max_occurrences`` times (a stop-list)."""

    @abstractmethod
    def peaks(self, ids: Sequence[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """The stored spectral peaks ``(t, f)`` (frames, bins; sorted by time) of the tracks
        ``ids`` that exist, in one round trip."""

    @abstractmethod
    def scan(self, *, chunk_rows: int = 65536) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Every stored ``(hash, track_id, t)``, a chunk of hashes at a time (for checks and
        exports; memory: one chunk)."""

    @abstractmethod
    def tracks(self, ids: Sequence[int] | None = None) -> list[TrackRecord]:
        """Track records (all, or those with the given ids)."""

    @abstractmethod
    def find_tracks(self, key: str) -> list[TrackRecord]:
        """Tracks whose name, path or digest equals ``key``."""

    @abstractmethod
    def counts(self) -> tuple[int, int, float]:
        """(tracks, hashes, total duration in seconds)."""

    @abstractmethod
    def size_bytes(self) -> int:
        """Bytes the catalog takes on disk (tables and indexes)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _meta_rows(config: FingerprintConfig) -> list[tuple[str, str]]:
    return [("format", FORMAT_NAME), ("schema", str(SCHEMA_VERSION)),
            ("fingerprint", json.dumps(config.to_dict(), sort_keys=True)),
            ("created", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))]


def _check_meta(meta: dict[str, str], where: str) -> FingerprintConfig:
    if meta.get("format") != FORMAT_NAME:
        raise CatalogError(f"{where} is not a yuefu song catalog (no '{FORMAT_NAME}' stamp); "
                           "give a catalog made by `yuefu id add`, or a new file name")
    if meta.get("schema") != str(SCHEMA_VERSION):
        raise CatalogError(f"{where}: catalog format v{meta.get('schema')}, this yuefu reads format "
                           f"v{SCHEMA_VERSION}; rebuild it with `yuefu id add MUSIC... --db NEW` "
                           "(a new file or database) from the same music")
    try:
        return FingerprintConfig.from_dict(json.loads(meta["fingerprint"]))
    except (KeyError, ValueError, TypeError, YuefuError) as e:
        raise CatalogError(f"{where}: the catalog's fingerprint settings are unreadable ({e}); "
                           "re-create it with `yuefu id add`") from None


class SQLiteStore(Store):
    """A catalog in one SQLite file (WAL mode; the hashes table is clustered on the hash).

    Parameters
    ----------
    path : path
        The catalog file.
    create : bool
        Create the file when it does not exist (otherwise a missing file is a
        :class:`CatalogError`).
    config : FingerprintConfig, optional
        Settings for a new catalog (an existing one keeps its own).
    """

    def __init__(self, path: str | Path, *, create: bool = False,
                 config: FingerprintConfig | None = None, read_only: bool = False):
        p = Path(path)
        self.location = str(p)
        if p.is_dir():
            raise CatalogError(f"{p} is a folder; give a catalog file (e.g. catalog.db)")
        exists = p.exists() and p.stat().st_size > 0
        if not exists and not create:
            raise CatalogError(f"{p}: no such catalog; create one with `yuefu id add MUSIC... --db {p}`")
        if not exists:
            p.parent.mkdir(parents=True, exist_ok=True)
        else:
            with open(p, "rb") as f:
                head = f.read(16)
            if head != b"SQLite format 3\x00":
                raise CatalogError(f"{p} is not a yuefu song catalog (not an SQLite file); "
                                   "give a catalog made by `yuefu id add`, or a new file name")
        try:
            if read_only and exists:
                self.con = sqlite3.connect(f"file:{p.resolve()}?mode=ro", uri=True,
                                           check_same_thread=False)
            else:
                self.con = sqlite3.connect(str(p), check_same_thread=False)
            self.con.isolation_level = None  # explicit transactions
            if not read_only:
                self.con.execute("PRAGMA journal_mode=WAL")
            self.con.execute("PRAGMA synchronous=NORMAL")
            self.con.execute("PRAGMA cache_size=-65536")
            if exists:
                rows = self.con.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchall()
                if not rows:
                    raise CatalogError(f"{p} is an SQLite file but not a yuefu song catalog; "
                                       "give a catalog made by `yuefu id add`, or a new file name")
                meta = dict(self.con.execute("SELECT key, value FROM meta").fetchall())
                self.config = _check_meta(meta, str(p))
            else:
                self.config = config or FingerprintConfig()
                self._create()
        except sqlite3.DatabaseError as e:
            raise CatalogError(f"{p}: cannot open the catalog ({e})") from None

    def _create(self) -> None:
        c = self.con
        c.execute("BEGIN")
        c.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        c.execute("CREATE TABLE tracks (id INTEGER PRIMARY KEY, name TEXT NOT NULL, path TEXT NOT NULL,"
                  " digest TEXT NOT NULL UNIQUE, duration_s REAL NOT NULL,"
                  " n_hashes INTEGER NOT NULL, added_at TEXT NOT NULL)")
        # clustered on the hash: a lookup reads one row (rarely a few) per query hash. Deleting
        # a track rewrites the rows that hold it, found by one scan of the table (no index by
        # track: it would double the file for a rare operation).
        c.execute("CREATE TABLE hashes (hash INTEGER NOT NULL, part INTEGER NOT NULL,"
                  " data BLOB NOT NULL, PRIMARY KEY (hash, part)) WITHOUT ROWID")
        c.execute("CREATE TABLE peaks (track_id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
        c.executemany("INSERT INTO meta VALUES (?, ?)", _meta_rows(self.config))
        c.execute("COMMIT")

    def digests(self) -> dict[str, int]:
        return {d: i for d, i in self.con.execute("SELECT digest, id FROM tracks")}

    def add_tracks(self, tracks: Sequence[NewTrack]) -> list[int]:
        c = self.con
        ids: list[int] = []
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        c.execute("BEGIN IMMEDIATE")
        try:
            new: list[tuple[int, np.ndarray, np.ndarray]] = []
            for tr in tracks:
                if tr.hashes.shape != tr.times.shape:
                    raise ValueError(f"{tr.path}: {tr.hashes.shape[0]} hashes but {tr.times.shape[0]} times")
                row = c.execute("SELECT id FROM tracks WHERE digest = ?", (tr.digest,)).fetchone()
                if row is not None:
                    ids.append(int(row[0]))
                    continue
                cur = c.execute("INSERT INTO tracks (name, path, digest, duration_s, n_hashes, added_at)"
                                " VALUES (?, ?, ?, ?, ?, ?)",
                                (tr.name, tr.path, tr.digest, float(tr.duration_s),
                                 int(tr.hashes.shape[0]), now))
                tid = int(cur.lastrowid or 0)
                ids.append(tid)
                new.append((tid, tr.hashes, tr.times))
                c.execute("INSERT OR REPLACE INTO peaks (track_id, data) VALUES (?, ?)",
                          (tid, pack_peaks(tr.peak_t, tr.peak_f)))
            uh, blobs = group_by_hash(new)
            if uh.size:
                # the last part of every hash these tracks hold (SQLite: the bare column comes
                # from the row of the max)
                q = json.dumps(uh.tolist())
                last = {int(h): (int(k), d) for h, k, d in c.execute(
                    "SELECT hash, MAX(part), data FROM hashes WHERE hash IN"
                    " (SELECT value FROM json_each(?)) GROUP BY hash", (q,))}
                c.executemany("INSERT OR REPLACE INTO hashes (hash, part, data) VALUES (?, ?, ?)",
                              _merge(uh, blobs, last))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return ids

    def optimize(self) -> None:
        self.con.execute("PRAGMA optimize")
        # fold the write-ahead log into the file (it holds every rewritten page of the ingest)
        self.con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def delete_tracks(self, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        c = self.con
        q = json.dumps([int(i) for i in ids])
        drop = np.asarray(sorted({int(i) for i in ids}), dtype=np.int64)
        c.execute("BEGIN IMMEDIATE")
        try:
            n = c.execute("DELETE FROM tracks WHERE id IN (SELECT value FROM json_each(?))", (q,)).rowcount
            c.execute("DELETE FROM peaks WHERE track_id IN (SELECT value FROM json_each(?))", (q,))
            last = (-(1 << 62), 0)
            while True:  # the rows that hold these tracks, a chunk of rows at a time
                rows = c.execute("SELECT hash, part, data FROM hashes WHERE (hash, part) > (?, ?)"
                                 " ORDER BY hash, part LIMIT 65536", last).fetchall()
                if not rows:
                    break
                last = (int(rows[-1][0]), int(rows[-1][1]))
                upd, gone = _rewrites(rows, drop)
                c.executemany("UPDATE hashes SET data = ? WHERE hash = ? AND part = ?", upd)
                c.executemany("DELETE FROM hashes WHERE hash = ? AND part = ?", gone)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return int(n)

    def lookup(self, hashes: np.ndarray, *, max_occurrences: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if hashes.size == 0:
            z = np.zeros(0, np.int64)
            return z, z, z
        q = json.dumps(np.asarray(hashes, dtype=np.int64).tolist())
        return _decode(self.con.execute(
            "SELECT hash, data FROM hashes WHERE hash IN (SELECT value FROM json_each(?))",
            (q,)).fetchall(), max_occurrences)

    def peaks(self, ids: Sequence[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        q = json.dumps([int(i) for i in ids])
        return {int(i): unpack_peaks(d) for i, d in self.con.execute(
            "SELECT track_id, data FROM peaks WHERE track_id IN (SELECT value FROM json_each(?))", (q,))}

    def scan(self, *, chunk_rows: int = 65536) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        last = (-(1 << 62), 0)
        while True:
            rows = self.con.execute("SELECT hash, part, data FROM hashes WHERE (hash, part) > (?, ?)"
                                    " ORDER BY hash, part LIMIT ?", (*last, int(chunk_rows))).fetchall()
            if not rows:
                return
            last = (int(rows[-1][0]), int(rows[-1][1]))
            yield _decode(rows)

    def _records(self, rows: list[Any]) -> list[TrackRecord]:
        return [TrackRecord(int(r[0]), r[1], r[2], r[3], float(r[4]), int(r[5])) for r in rows]

    def tracks(self, ids: Sequence[int] | None = None) -> list[TrackRecord]:
        sql = "SELECT id, name, path, digest, duration_s, n_hashes FROM tracks"
        if ids is None:
            return self._records(self.con.execute(sql + " ORDER BY id").fetchall())
        q = json.dumps([int(i) for i in ids])
        return self._records(self.con.execute(
            sql + " WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id", (q,)).fetchall())

    def find_tracks(self, key: str) -> list[TrackRecord]:
        return self._records(self.con.execute(
            "SELECT id, name, path, digest, duration_s, n_hashes FROM tracks"
            " WHERE name = ? OR path = ? OR digest = ? ORDER BY id", (key, key, key)).fetchall())

    def counts(self) -> tuple[int, int, float]:
        n, h, d = self.con.execute(
            "SELECT COUNT(*), COALESCE(SUM(n_hashes), 0), COALESCE(SUM(duration_s), 0) FROM tracks"
        ).fetchone()
        return int(n), int(h), float(d)

    def size_bytes(self) -> int:
        p = Path(self.location)
        return sum(q.stat().st_size for q in (p, Path(f"{p}-wal")) if q.exists())

    def close(self) -> None:
        try:
            self.con.close()
        except sqlite3.Error:  # pragma: no cover - closing twice
            pass


def open_store(db: str | Path, *, create: bool = False, config: FingerprintConfig | None = None,
               read_only: bool = False) -> Store:
    """Open (or, with ``create``, make) the catalog named by ``db``: a file path or a PostgreSQL URL."""
    if is_postgres_url(db):
        from yuefu.listen.identify.pg import PostgresStore

        return PostgresStore(str(db), create=create, config=config)
    return SQLiteStore(db, create=create, config=config, read_only=read_only)
