"""The PostgreSQL catalog backend (``--db postgresql://user@host/dbname``), for catalogs that
outgrow one file. Same tables as the SQLite store; hashes are bulk-loaded with ``COPY``,
deleting a track cascades to its hashes, and every change is one transaction.

Needs psycopg 3: ``pip install 'yuefu[pg]'``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    _meta_rows,
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
        c.execute("CREATE TABLE yuefu_hashes (hash INTEGER NOT NULL, track_id BIGINT NOT NULL"
                  " REFERENCES yuefu_tracks(id) ON DELETE CASCADE, t INTEGER NOT NULL)")
        c.execute("CREATE INDEX yuefu_hashes_hash ON yuefu_hashes (hash)")
        c.execute("CREATE INDEX yuefu_hashes_track ON yuefu_hashes (track_id)")
        with c.cursor() as cur:
            cur.executemany("INSERT INTO yuefu_meta VALUES (%s, %s)", _meta_rows(self.config))

    def digests(self) -> dict[str, int]:
        with self.con.transaction():
            return {d: int(i) for d, i in self.con.execute("SELECT digest, id FROM yuefu_tracks")}

    def add_tracks(self, tracks: Sequence[NewTrack]) -> list[int]:
        ids: list[int] = []
        with self.con.transaction(), self.con.cursor() as cur:
            for tr in tracks:
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
                with cur.copy("COPY yuefu_hashes (hash, track_id, t) FROM STDIN") as cp:
                    for h, t in zip(tr.hashes.tolist(), tr.times.tolist(), strict=True):
                        cp.write_row((h, tid, t))
        return ids

    def optimize(self) -> None:
        """Refresh the planner's statistics after a bulk ingest (else it may scan the table)."""
        self.con.execute("ANALYZE yuefu_tracks")
        self.con.execute("ANALYZE yuefu_hashes")

    def delete_tracks(self, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        with self.con.transaction():
            cur = self.con.execute("DELETE FROM yuefu_tracks WHERE id = ANY(%s)", ([int(i) for i in ids],))
            return int(cur.rowcount)

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = np.zeros(0, np.int64)
        if hashes.size == 0:
            return z, z, z
        with self.con.transaction():
            rows = self.con.execute(
                "SELECT h.hash, h.track_id, h.t FROM unnest(%s::integer[]) AS q(v)"
                " JOIN yuefu_hashes h ON h.hash = q.v",
                (np.asarray(hashes, dtype=np.int64).tolist(),)).fetchall()
        if not rows:
            return z, z, z
        a = np.array(rows, dtype=np.int64)
        return a[:, 0], a[:, 1], a[:, 2]

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
                "'yuefu_meta'::regclass, 'yuefu_tracks'::regclass, 'yuefu_hashes'::regclass]) AS c"
            ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        if not self.con.closed:
            self.con.close()
