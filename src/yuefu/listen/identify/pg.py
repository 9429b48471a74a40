"""The PostgreSQL catalog backend (``--db postgresql://user@host/dbname``), for catalogs that
outgrow one file. Same tables as the SQLite store (a hash's occurrences packed in ``bytea``
parts, each track's peaks in one ``bytea``); a batch of tracks is loaded with ``COPY`` into a
temporary table and written with one ``INSERT ... ON CONFLICT``, deleting a track rewrites the
rows that hold it, and every change is one transaction.

Needs psycopg 3: ``pip install 'yuefu[pg]'``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from yuefu.core.errors import MissingDependencyError
from yuefu.listen.identify.fingerprint import FingerprintConfig
from yuefu.listen.identify.store import (
    CatalogError,
    NewTrack,
    Store,
    TrackRecord,
    _check_meta,
    _decode,
    _merge,
    _meta_rows,
    _rewrites,
    group_by_hash,
    pack_peaks,
    unpack_peaks,
)

__all__ = ["PostgresStore"]


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PostgresStore(Store):
    """A catalog in a PostgreSQL database (its ``yuefu_*`` tables).

    Parameters
    ----------
    url : str
        ``postgresql://user:password@host:port/dbname`` (libpq syntax).
    create : bool
        Create the tables when the database has none (an empty database is then a new catalog).
    config : FingerprintConfig, optional
        Settings for a new catalog.
    """

    def __init__(self, url: str, *, create: bool = False, config: FingerprintConfig | None = None):
        try:
            import psycopg
        except ImportError:
            raise MissingDependencyError(
                "a PostgreSQL catalog needs psycopg 3; install it with `pip install 'yuefu[pg]'`"
            ) from None
        self.location = _redact(url)
        self._psycopg = psycopg
        try:
            self.con = psycopg.connect(url, connect_timeout=10, autocommit=True)
        except psycopg.Error as e:
            msg = " ".join(str(e).split())[:200]
            raise CatalogError(f"{self.location}: cannot connect to PostgreSQL ({msg})") from None
        try:
            with self.con.transaction():
                have = self.con.execute("SELECT to_regclass('yuefu_meta') IS NOT NULL").fetchone()
                if have and have[0]:
                    rows = self.con.execute("SELECT key, value FROM yuefu_meta").fetchall()
                    meta: dict[str, str] = dict(rows)
                    self.config = _check_meta(meta, self.location)
                    return
                if not create:
                    raise CatalogError(
                        f"{self.location}: no yuefu song catalog in this database; "
                        f"create one with `yuefu id add MUSIC... --db {self.location}`")
                self.config = config or FingerprintConfig()
                self._create()
        except BaseException:
            self.con.close()
            raise

    def _create(self) -> None:
        c = self.con
        c.execute("CREATE TABLE yuefu_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        c.execute("CREATE TABLE yuefu_tracks (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL,"
                  " path TEXT NOT NULL, digest TEXT NOT NULL UNIQUE, duration_s DOUBLE PRECISION NOT NULL,"
                  " n_hashes INTEGER NOT NULL, added_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        c.execute("CREATE TABLE yuefu_hashes (hash INTEGER NOT NULL, part INTEGER NOT NULL,"
                  " data BYTEA NOT NULL, PRIMARY KEY (hash, part))")
        c.execute("CREATE TABLE yuefu_peaks (track_id BIGINT PRIMARY KEY, data BYTEA NOT NULL)")
        with c.cursor() as cur:
            cur.executemany("INSERT INTO yuefu_meta VALUES (%s, %s)", _meta_rows(self.config))

    def digests(self) -> dict[str, int]:
        with self.con.transaction():
            return {d: int(i) for d, i in self.con.execute("SELECT digest, id FROM yuefu_tracks")}

    def add_tracks(self, tracks: Sequence[NewTrack]) -> list[int]:
        ids: list[int] = []
        new: list[tuple[int, np.ndarray, np.ndarray]] = []
        with self.con.transaction(), self.con.cursor() as cur:
            for tr in tracks:
                if tr.hashes.shape != tr.times.shape:
                    raise ValueError(f"{tr.path}: {tr.hashes.shape[0]} hashes but {tr.times.shape[0]} times")
                row = cur.execute(
                    "INSERT INTO yuefu_tracks (name, path, digest, duration_s, n_hashes)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (digest) DO NOTHING RETURNING id",
                    (tr.name, tr.path, tr.digest, float(tr.duration_s), int(tr.hashes.shape[0]))).fetchone()
                if row is None:
                    got = cur.execute("SELECT id FROM yuefu_tracks WHERE digest = %s",
                                      (tr.digest,)).fetchone()
                    ids.append(int(got[0]) if got else -1)
                    continue
                tid = int(row[0])
                ids.append(tid)
                new.append((tid, tr.hashes, tr.times))
                cur.execute("INSERT INTO yuefu_peaks (track_id, data) VALUES (%s, %s) ON CONFLICT"
                            " (track_id) DO UPDATE SET data = EXCLUDED.data",
                            (tid, pack_peaks(tr.peak_t, tr.peak_f)))
            uh, blobs = group_by_hash(new)
            if uh.size:
                rows = cur.execute(
                    "SELECT DISTINCT ON (hash) hash, part, data FROM yuefu_hashes"
                    " WHERE hash = ANY(%s::integer[]) ORDER BY hash, part DESC", (uh.tolist(),)).fetchall()
                last = {int(h): (int(k), bytes(d)) for h, k, d in rows}
                cur.execute("CREATE TEMPORARY TABLE yuefu_new (hash INTEGER, part INTEGER, data BYTEA)"
                            " ON COMMIT DROP")
                with cur.copy("COPY yuefu_new (hash, part, data) FROM STDIN") as cp:
                    for row in _merge(uh, blobs, last):
                        cp.write_row(row)
                cur.execute("INSERT INTO yuefu_hashes (hash, part, data) SELECT hash, part, data"
                            " FROM yuefu_new ON CONFLICT (hash, part) DO UPDATE SET data = EXCLUDED.data")
        return ids

    def optimize(self) -> None:
        """Refresh the planner's statistics after a bulk ingest (else it may scan the table)."""
        self.con.execute("ANALYZE yuefu_tracks")
        self.con.execute("ANALYZE yuefu_hashes")

    def delete_tracks(self, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        drop = np.asarray(sorted({int(i) for i in ids}), dtype=np.int64)
        with self.con.transaction(), self.con.cursor() as cur:
            n = int(cur.execute("DELETE FROM yuefu_tracks WHERE id = ANY(%s)", (drop.tolist(),)).rowcount)
            cur.execute("DELETE FROM yuefu_peaks WHERE track_id = ANY(%s)", (drop.tolist(),))
            last = (-(1 << 31), 0)
            while True:  # the rows that hold these tracks, a chunk of rows at a time
                rows = cur.execute("SELECT hash, part, data FROM yuefu_hashes WHERE (hash, part) > (%s, %s)"
                                   " ORDER BY hash, part LIMIT 65536", last).fetchall()
                if not rows:
                    break
                last = (int(rows[-1][0]), int(rows[-1][1]))
                upd, gone = _rewrites(rows, drop)
                if upd:
                    cur.executemany("UPDATE yuefu_hashes SET data = %s WHERE hash = %s AND part = %s", upd)
                if gone:
                    cur.executemany("DELETE FROM yuefu_hashes WHERE hash = %s AND part = %s", gone)
        return n

    def lookup(self, hashes: np.ndarray, *, max_occurrences: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = np.zeros(0, np.int64)
        if hashes.size == 0:
            return z, z, z
        with self.con.transaction():
            rows = self.con.execute("SELECT hash, data FROM yuefu_hashes WHERE hash = ANY(%s::integer[])",
                                    (np.asarray(hashes, dtype=np.int64).tolist(),)).fetchall()
        return _decode(rows, max_occurrences)

    def peaks(self, ids: Sequence[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        with self.con.transaction():
            rows = self.con.execute("SELECT track_id, data FROM yuefu_peaks WHERE track_id = ANY(%s)",
                                    ([int(i) for i in ids],)).fetchall()
        return {int(i): unpack_peaks(d) for i, d in rows}

    def scan(self, *, chunk_rows: int = 65536) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        last = (-(1 << 31), 0)
        while True:
            with self.con.transaction():
                rows = self.con.execute(
                    "SELECT hash, part, data FROM yuefu_hashes WHERE (hash, part) > (%s, %s)"
                    " ORDER BY hash, part LIMIT %s", (*last, int(chunk_rows))).fetchall()
            if not rows:
                return
            last = (int(rows[-1][0]), int(rows[-1][1]))
            yield _decode(rows)

    def _records(self, rows: list[Any]) -> list[TrackRecord]:
        return [TrackRecord(int(r[0]), r[1], r[2], r[3], float(r[4]), int(r[5])) for r in rows]

    _SELECT = "SELECT id, name, path, digest, duration_s, n_hashes FROM yuefu_tracks"

    def tracks(self, ids: Sequence[int] | None = None) -> list[TrackRecord]:
        with self.con.transaction():
            if ids is None:
                return self._records(self.con.execute(self._SELECT + " ORDER BY id").fetchall())
            return self._records(self.con.execute(self._SELECT + " WHERE id = ANY(%s) ORDER BY id",
                                                  ([int(i) for i in ids],)).fetchall())

    def find_tracks(self, key: str) -> list[TrackRecord]:
        with self.con.transaction():
            return self._records(self.con.execute(
                self._SELECT + " WHERE name = %s OR path = %s OR digest = %s ORDER BY id",
                (key, key, key)).fetchall())

    def counts(self) -> tuple[int, int, float]:
        with self.con.transaction():
            row = self.con.execute("SELECT COUNT(*), COALESCE(SUM(n_hashes), 0),"
                                   " COALESCE(SUM(duration_s), 0) FROM yuefu_tracks").fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), float(row[2])

    def size_bytes(self) -> int:
        with self.con.transaction():
            row = self.con.execute(
                "SELECT COALESCE(SUM(pg_total_relation_size(c)), 0) FROM unnest(ARRAY["
                "'yuefu_meta'::regclass, 'yuefu_tracks'::regclass, 'yuefu_hashes'::regclass,"
                " 'yuefu_peaks'::regclass]) AS c"
            ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        if not self.con.closed:
            self.con.close()
