"""The catalog contract, run against SQLite and (when YUEFU_TEST_PG is set) PostgreSQL: ingest,
re-ingest without duplicates, delete, stats, bad catalogs, an interrupted ingest."""

from __future__ import annotations

import os
import sqlite3
import uuid

import numpy as np
import pytest
from identify_helpers import SR, synth_song

from yuefu.core.audio import Audio
from yuefu.listen.identify import CatalogError, open_catalog
from yuefu.listen.identify.store import NewTrack

PG_URL = os.environ.get("YUEFU_TEST_PG")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path):
    """A fresh catalog location for each backend (PostgreSQL: a fresh schema-less database)."""
    if request.param == "sqlite":
        yield str(tmp_path / "catalog.db")
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need YUEFU_TEST_PG=postgresql://... (.ci/run starts a server)")
    psycopg = pytest.importorskip("psycopg", reason="PostgreSQL tests need psycopg (pip install 'yuefu[pg]')")
    name = f"yuefu_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    base = PG_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _consistent(cat) -> None:
    """Every track's hash count matches the stored occurrences, no occurrence lacks its track,
    none is stored twice, and no hash row is left empty."""
    recs = cat.store.tracks()
    n_tracks, n_hashes, _ = cat.store.counts()
    assert n_tracks == len(recs)
    per_track: dict[int, int] = {}
    keys = []
    for h, tr, t in cat.store.scan(chunk_rows=1000):  # several chunks: the paging is tested too
        ids, n = np.unique(tr, return_counts=True)
        for i, k in zip(ids.tolist(), n.tolist(), strict=True):
            per_track[i] = per_track.get(i, 0) + k
        keys.append((h << 40) | (tr << 24) | t)
    allk = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    assert np.unique(allk).size == allk.size  # no duplicate occurrence
    assert per_track == {r.id: r.n_hashes for r in recs if r.n_hashes}
    assert sum(per_track.values()) == n_hashes


def test_add_reingest_delete_stats(db, songs_dir):
    lib = songs_dir / "library"
    with open_catalog(db, create=True) as cat:
        seen = []
        rep = cat.add([lib / "song0.flac", lib / "song1.flac"], jobs=2,
                      progress=lambda f, m: seen.append((f, m)))
        assert sorted(p.rsplit("/", 1)[-1] for p in rep.added) == ["song0.flac", "song1.flac"]
        assert seen[-1][0] == pytest.approx(1.0)
        rep = cat.add([lib], jobs=2)  # the folder: two already there, four new
        assert len(rep.added) == 4 and len(rep.duplicates) == 2
        st = cat.stats()
        assert st.tracks == 6 and st.audio_s == pytest.approx(120.0, abs=0.1) and st.size_bytes > 0
        _consistent(cat)
        # re-adding changes nothing
        rep = cat.add([lib], jobs=1)
        assert not rep.added and len(rep.duplicates) == 6
        assert cat.stats().hashes == st.hashes
        # delete by name, then by file; the hashes go with the track
        assert [p.rsplit("/", 1)[-1] for p in cat.delete(["song1"])] == ["song1.flac"]
        cat.delete([str(lib / "song2.flac")])
        assert cat.stats().tracks == 4
        _consistent(cat)
        x = synth_song(101)[3 * SR: 10 * SR]
        assert cat.query(Audio(x, SR)).match is None  # song1 is gone
        with pytest.raises(Exception, match="no such track"):
            cat.delete(["song1"])
    with open_catalog(db) as cat:  # reopens with its own settings
        assert cat.stats().tracks == 4
        assert cat.query(Audio(synth_song(103)[2 * SR: 9 * SR], SR)).match.track == "song3"


def test_unreadable_files_are_skipped_with_a_reason(db, songs_dir, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really audio")
    silent = tmp_path / "silent.wav"
    import soundfile as sf

    sf.write(str(silent), np.zeros(SR * 2, np.float32), SR)
    with open_catalog(db, create=True) as cat:
        rep = cat.add([bad, silent, tmp_path / "missing.flac", songs_dir / "library" / "song0.flac"], jobs=2)
    reasons = dict(rep.skipped)
    assert len(rep.added) == 1
    assert "not a readable audio file" in reasons[str(bad)]
    assert "silent" in reasons[str(silent)]
    assert "no such file" in reasons[str(tmp_path / "missing.flac")]
    assert not any(why.startswith(str(tmp_path)) for why in reasons.values())  # the report names the file


def test_interrupted_ingest_keeps_whole_tracks(db, songs_dir, monkeypatch):
    with open_catalog(db, create=True) as cat:
        cat.add([songs_dir / "library" / "song0.flac"], jobs=1)
        real = cat.store.add_tracks
        calls = {"n": 0}

        def crash(tracks):
            calls["n"] += 1
            if calls["n"] == 2:  # the second batch dies half-way through its hashes
                broken = [tracks[0], NewTrack("x", "x", "d" * 64, 1.0, np.array([1, 2]), np.array([1]))]
                real(broken)
            return real(tracks)

        monkeypatch.setattr(cat.store, "add_tracks", crash)
        with pytest.raises(ValueError):
            cat.add([songs_dir / "library"], jobs=1, batch_tracks=2)
        monkeypatch.undo()
        # the first batch (2 tracks) is in, the broken batch left nothing behind
        assert cat.stats().tracks == 3
        _consistent(cat)
        rep = cat.add([songs_dir / "library"], jobs=1)  # resuming adds the rest, once
        assert len(rep.added) == 3 and cat.stats().tracks == 6
        _consistent(cat)


def test_missing_catalog_is_refused(db):
    with pytest.raises(CatalogError, match="no such catalog|no yuefu song catalog"):
        open_catalog(db)


def test_sqlite_files_that_are_not_catalogs(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("hello")
    with pytest.raises(CatalogError, match="not a yuefu song catalog"):
        open_catalog(text, create=True)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(CatalogError, match="not a yuefu song catalog"):
        open_catalog(other)
    with pytest.raises(CatalogError, match="is a folder"):
        open_catalog(tmp_path)


@pytest.mark.skipif(not PG_URL, reason="needs YUEFU_TEST_PG=postgresql://... (.ci/run starts a server)")
def test_postgres_connection_error_is_one_clear_line():
    pytest.importorskip("psycopg")
    base = PG_URL.rsplit("/", 1)[0]
    with pytest.raises(CatalogError, match="cannot connect"):
        open_catalog(f"{base}/no_such_database_here")


def _occurrences(store, hashes) -> set[tuple[int, int, int]]:
    h, tr, t = store.lookup(np.asarray(sorted(hashes), dtype=np.int64))
    assert h.shape == tr.shape == t.shape
    return set(zip(h.tolist(), tr.tolist(), t.tolist(), strict=True))


def test_store_packs_occurrences_in_parts_and_deletes_them(db, monkeypatch):
    """Occurrences survive the packed layout exactly, also when a hash spills over several
    parts (a part is made tiny here), and a delete takes out exactly one track's."""
    from yuefu.listen.identify import store as store_mod

    monkeypatch.setattr(store_mod, "PART_BYTES", 24)  # three occurrences per part
    rng = np.random.default_rng(5)
    tracks = []
    for k in range(4):  # hashes 0..19, many shared between the tracks; times distinct per track
        h = np.sort(rng.choice(20, 12, replace=False)).astype(np.int64)
        tracks.append(NewTrack(f"t{k}", f"/m/t{k}.flac", f"{k}" * 64, 10.0, h,
                               (1000 * k + 7 * np.arange(12)).astype(np.int32)))
    with open_catalog(db, create=True) as cat:
        st = cat.store
        ids = st.add_tracks(tracks[:1]) + st.add_tracks(tracks[1:3]) + st.add_tracks(tracks[3:])
        assert st.add_tracks(tracks[2:3]) == [ids[2]]  # same digest: stored once
        want = {(int(h), ids[k], int(t)) for k, tr in enumerate(tracks)
                for h, t in zip(tr.hashes, tr.times, strict=True)}
        assert _occurrences(st, range(20)) == want
        assert _occurrences(st, [3, 99]) == {w for w in want if w[0] == 3}
        if isinstance(st, store_mod.SQLiteStore):
            (parts,) = st.con.execute("SELECT MAX(part) FROM hashes").fetchone()
            assert parts >= 1  # the layout really spilled over
        _consistent(cat)
        assert st.delete_tracks([ids[1]]) == 1
        assert _occurrences(st, range(20)) == {w for w in want if w[1] != ids[1]}
        _consistent(cat)
        st.delete_tracks([ids[0], ids[2], ids[3]])
        assert _occurrences(st, range(20)) == set()
        assert sum(h.size for h, _, _ in st.scan()) == 0  # no empty rows left behind


def test_pack_round_trip():
    from yuefu.listen.identify.store import group_by_hash, pack, unpack

    tr = np.array([1, 7, 2**31 - 1, 3])
    t = np.array([0, 5, 2**32 - 1, 123456])
    a, b = unpack(pack(tr, t))
    assert a.tolist() == tr.tolist() and b.tolist() == t.tolist()
    h, blobs = group_by_hash([(4, np.array([9, 2, 9]), np.array([1, 2, 3])),
                              (5, np.array([2]), np.array([8]))])
    assert h.tolist() == [2, 9]
    assert [unpack(np.frombuffer(b, "<i8"))[0].tolist() for b in blobs] == [[4, 5], [4, 4]]


@pytest.mark.parametrize("version", ["1", "2"])
def test_old_catalog_format_is_refused_with_how_to_rebuild(tmp_path, version):
    """A catalog of format v1 (one row per occurrence) or v2 (no stored peaks) gives one clear
    line, not a crash."""
    p = tmp_path / "old.db"
    with open_catalog(p, create=True):
        pass
    con = sqlite3.connect(p)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (version,))
    con.execute("DROP TABLE peaks")
    con.commit()
    con.close()
    with pytest.raises(CatalogError, match=rf"catalog format v{version}, this yuefu reads format v3; "
                                           r"rebuild it with `yuefu id add") as e:
        open_catalog(p)
    assert "\n" not in str(e.value)


def test_store_keeps_each_tracks_peaks_and_deletes_them(db):
    """A track's peaks come back as stored (float32), in one call for several tracks, and go
    with the track."""
    from yuefu.listen.identify.store import pack_peaks, unpack_peaks

    rng = np.random.default_rng(8)
    pk = [(np.sort(rng.uniform(0, 900, 50 + k)), rng.uniform(5, 250, 50 + k)) for k in range(3)]
    tracks = [NewTrack(f"t{k}", f"/m/t{k}.flac", f"{k}" * 64, 10.0, np.arange(5, dtype=np.int64) + k,
                       np.arange(5, dtype=np.int32), peak_t=pk[k][0], peak_f=pk[k][1]) for k in range(3)]
    with open_catalog(db, create=True) as cat:
        ids = cat.store.add_tracks(tracks)
        got = cat.store.peaks([ids[2], ids[0], 12345])
        assert sorted(got) == sorted([ids[0], ids[2]])
        for k in (0, 2):
            t, f = got[ids[k]]
            np.testing.assert_allclose(t, pk[k][0], atol=1e-3)  # float32 of frames < 1000
            np.testing.assert_allclose(f, pk[k][1], atol=1e-4)
        cat.store.delete_tracks([ids[0]])
        assert sorted(cat.store.peaks(ids)) == sorted(ids[1:])
    t, f = unpack_peaks(pack_peaks(np.array([1.5, 2.25]), np.array([3.0, 4.5])))
    assert t.tolist() == [1.5, 2.25] and f.tolist() == [3.0, 4.5]
    with pytest.raises(ValueError, match="one length"):
        pack_peaks(np.zeros(3), np.zeros(2))
