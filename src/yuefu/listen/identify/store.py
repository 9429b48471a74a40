"""Where fingerprints live: one interface, an embedded SQLite file or a PostgreSQL database.

A catalog holds three tables: ``meta`` (a format stamp and the fingerprint settings),
``tracks`` (one row per recording, with the sha256 of its file so that re-adding the same file
changes nothing) and ``hashes`` (``hash, track_id, t``: one row per landmark, looked up by
hash). Every change is one transaction: an interrupted ingest leaves whole tracks or none.

:func:`open_store` picks the backend from the ``db`` string: ``postgresql://...`` (or
``postgres://...``) is PostgreSQL (needs ``pip install 'yuefu[pg]'``), anything else a path to
an SQLite file.
"""

from __future__ import annotations

import json
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.errors import YuefuError
from yuefu.listen.identify.fingerprint import FingerprintConfig

__all__ = ["CatalogError", "TrackRecord", "NewTrack", "Store", "SQLiteStore", "open_store",
           "is_postgres_url", "FORMAT_NAME", "SCHEMA_VERSION"]

FORMAT_NAME = "yuefu-identify-catalog"
SCHEMA_VERSION = 1


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
    :class:`~yuefu.listen.identify.fingerprint.Fingerprint`).
    """

    name: str
    path: str
    digest: str
    duration_s: float
    hashes: np.ndarray
    times: np.ndarray


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
    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every stored ``(hash, track_id, t)`` whose hash is in ``hashes`` (unique int64)."""

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
        raise CatalogError(f"{where}: catalog schema {meta.get('schema')} is not supported "
                           f"(this yuefu reads schema {SCHEMA_VERSION}); re-create it with `yuefu id add`")
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
        # clustered on the hash: a lookup reads contiguous pages, and no second index is kept.
        # Deleting a track scans the table once per delete call (no track_id index: it would
        # double the file for a rare operation).
        c.execute("CREATE TABLE hashes (hash INTEGER NOT NULL, track_id INTEGER NOT NULL,"
                  " t INTEGER NOT NULL, PRIMARY KEY (hash, track_id, t)) WITHOUT ROWID")
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
            for tr in tracks:
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
                rows = zip(tr.hashes.tolist(), [tid] * tr.hashes.shape[0], tr.times.tolist(),
                           strict=True)
                c.executemany("INSERT OR IGNORE INTO hashes VALUES (?, ?, ?)", rows)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return ids

    def optimize(self) -> None:
        self.con.execute("PRAGMA optimize")

    def delete_tracks(self, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        c = self.con
        q = json.dumps([int(i) for i in ids])
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute("DELETE FROM hashes WHERE track_id IN (SELECT value FROM json_each(?))", (q,))
            n = c.execute("DELETE FROM tracks WHERE id IN (SELECT value FROM json_each(?))", (q,)).rowcount
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return int(n)

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if hashes.size == 0:
            z = np.zeros(0, np.int64)
            return z, z, z
        q = json.dumps(np.asarray(hashes, dtype=np.int64).tolist())
        rows = self.con.execute(
            "SELECT hash, track_id, t FROM hashes WHERE hash IN (SELECT value FROM json_each(?))",
            (q,)).fetchall()
        if not rows:
            z = np.zeros(0, np.int64)
            return z, z, z
        a = np.array(rows, dtype=np.int64)
        return a[:, 0], a[:, 1], a[:, 2]

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
