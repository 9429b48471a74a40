"""Fingerprints and the matcher on synthetic songs: noise, speed change, out-of-catalog clips."""

from __future__ import annotations

import numpy as np
import pytest
from identify_helpers import SR, synth_song

from yuefu.core.audio import Audio
from yuefu.core.errors import AudioLoadError, ParameterError
from yuefu.listen.identify import FingerprintConfig, find_peaks, fingerprint_audio, open_catalog
from yuefu.listen.identify.fingerprint import check_query_audio, speed_grid


def _resample(x: np.ndarray, speed: float) -> np.ndarray:
    """Play ``x`` ``speed`` times faster (pitch moves with it)."""
    from scipy.signal import resample

    return resample(x, int(round(x.shape[0] / speed))).astype(np.float32)


def test_fingerprint_is_deterministic_and_dense():
    a = Audio(synth_song(1, 10.0), SR)
    f1, f2 = fingerprint_audio(a), fingerprint_audio(a)
    assert np.array_equal(f1.hashes, f2.hashes) and np.array_equal(f1.times, f2.times)
    assert f1.hashes.max() < 2 ** 22
    # density: the peak cap is 30/s; a busy synthetic song gets at least half of it
    assert 15 * 10 <= f1.n_peaks <= 31 * 10, f1.n_peaks
    assert f1.hashes.shape[0] >= 3 * f1.n_peaks


def test_silence_has_no_peaks_and_is_refused():
    silent = Audio(np.zeros(SR * 3, np.float32), SR)
    assert find_peaks(silent).t.shape[0] == 0
    with pytest.raises(AudioLoadError, match="silent"):
        check_query_audio(silent)
    with pytest.raises(AudioLoadError, match="at least 1 s"):
        check_query_audio(Audio(synth_song(1, 0.5), SR))


def test_peaks_follow_a_speed_change():
    """Peaks of a 4% faster clip sit at t/1.04 and f*1.04 of the original's (the basis of the
    query-side speed search)."""
    x = synth_song(3, 8.0)
    p0 = find_peaks(Audio(x, SR))
    p1 = find_peaks(Audio(_resample(x, 1.04), SR))
    # map the fast clip's peaks back and count those within half a bin and half a frame
    t_back, f_back = p1.t * 1.04, p1.f / 1.04
    hit = 0
    for t, f in zip(t_back, f_back, strict=True):
        d = np.abs(p0.t - t) <= 0.5
        hit += bool(np.any(np.abs(p0.f[d] - f) <= 0.5))
    assert hit / p1.t.shape[0] >= 0.6, hit / p1.t.shape[0]


def test_speed_grid():
    g = speed_grid(0.06, 0.01)
    assert g.shape == (13,) and g[0] == 1.0 and np.isclose(g.min(), 0.94) and np.isclose(g.max(), 1.06)
    assert speed_grid(0.0, 0.01).tolist() == [1.0]
    with pytest.raises(ParameterError):
        speed_grid(0.5, 0.01)


def test_config_round_trip_and_unknown_key():
    c = FingerprintConfig(fan_out=4)
    assert FingerprintConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ParameterError, match="colour"):
        FingerprintConfig.from_dict({**c.to_dict(), "colour": 1})


@pytest.fixture(scope="module")
def catalog(songs_dir, tmp_path_factory):
    db = tmp_path_factory.mktemp("cat") / "catalog.db"
    with open_catalog(db, create=True) as cat:
        rep = cat.add([songs_dir / "library"], jobs=1)
        assert len(rep.added) == 6 and not rep.skipped
        yield cat


def _clip(rng, song, start_s, speed, snr_db):
    """7 s of catalog song ``song`` from ``start_s``, played at ``speed``, with white noise at
    ``snr_db`` (None: clean)."""
    seg = synth_song(100 + song)[int(start_s * SR): int((start_s + 7.0 * speed) * SR)]
    if speed != 1.0:
        seg = _resample(seg, speed)
    if snr_db is not None:
        noise = rng.standard_normal(seg.shape[0]).astype(np.float32)
        seg = seg + noise * np.sqrt(np.mean(seg ** 2) / np.mean(noise ** 2) / 10 ** (snr_db / 10))
    return Audio(seg, SR)


@pytest.mark.parametrize("song, start_s, snr_db, speed", [
    (0, 3.0, None, 1.0),
    (2, 9.5, 0.0, 1.0),      # white noise as loud as the music
    (4, 5.0, -5.0, 1.0),
    (1, 4.0, None, 1.05),    # 5% faster, pitch up
    (3, 6.0, None, 0.95),
    (5, 2.0, 5.0, 0.97),     # between grid points of the speed search, with noise
])
def test_query_finds_track_offset_and_speed(catalog, rng, song, start_s, snr_db, speed):
    res = catalog.query(_clip(rng, song, start_s, speed, snr_db))
    assert res.match is not None, (res.best_aligned, res.second_aligned)
    assert res.match.track == f"song{song}"
    assert abs(res.match.offset_s - start_s) <= 0.1, res.match.offset_s
    assert abs(res.match.speed - speed) <= 0.011
    assert 0.0 < res.match.confidence <= 1.0


@pytest.mark.parametrize("speed", [1.06, 0.94])
def test_a_semitone_of_speed_is_searched_but_never_accepted(catalog, rng, speed):
    """A clip played a semitone faster or slower (+-6%, pitch with it) is what another song's
    passage transposed a semitone at another tempo looks like: the search reaches it (its bin is
    the best and counts in the ratio tests) but neither rule accepts it, with the peak level
    switched on or off; the same clip at +-5% is found."""
    from yuefu.listen.identify.catalog import Catalog
    from yuefu.listen.identify.match import MatchSettings

    clip = _clip(rng, 1, 4.0, speed, None)
    for settings in (MatchSettings(), MatchSettings(peak_candidates=0)):
        res = Catalog(catalog.store, settings=settings).query(clip)
        assert res.match is None and res.candidate == "song1", (res.candidate, res.best_aligned)
        assert res.best_aligned >= 8 * MatchSettings().min_aligned  # found, strongly, and refused
    wide = Catalog(catalog.store, settings=MatchSettings(max_speed_change=0.06)).query(clip)
    assert wide.match is not None and abs(wide.match.speed - speed) <= 0.011
    near = catalog.query(_clip(rng, 1, 4.0, 1.05 if speed > 1 else 0.95, None))
    assert near.match is not None and near.match.track == "song1"


def test_clip_from_outside_the_catalog_is_no_match(catalog, songs_dir):
    from yuefu.core.io import read_audio

    x = read_audio(songs_dir / "outside.flac").samples[0]
    for start in (0.0, 6.0, 12.0):
        res = catalog.query(Audio(x[int(start * SR): int((start + 7) * SR)], SR))
        assert res.match is None, (res.candidate, res.best_aligned, res.second_aligned)
        assert res.to_dict() == {"match": None}


def test_catalog_verifies_at_the_peak_level_when_the_hash_rule_refuses(catalog, rng, songs_dir):
    """End to end through the catalog's stored peaks: with the hash rule switched off
    (``min_aligned`` out of reach) clips are still found, by the peaks, at the right offset and
    speed, and a clip from outside the catalog is still no match."""
    from yuefu.core.io import read_audio
    from yuefu.listen.identify.catalog import Catalog
    from yuefu.listen.identify.match import MatchSettings

    peaks_only = Catalog(catalog.store, settings=MatchSettings(min_aligned=10**9))
    for song, start_s, speed, snr_db in ((2, 4.0, 1.0, 0.0), (3, 6.0, 0.97, None)):
        clip = _clip(rng, song, start_s, speed, snr_db)
        res = peaks_only.query(clip)
        assert res.match is not None and res.accepted_by == "peaks", (res.candidate, res.best_aligned)
        assert res.match.track == f"song{song}"
        assert abs(res.match.offset_s - start_s) <= 0.1 and abs(res.match.speed - speed) <= 0.011
        assert catalog.query(clip).accepted_by == "hashes"  # the default rule takes it
    x = read_audio(songs_dir / "outside.flac").samples[0]
    for start in (0.0, 6.0, 12.0):
        res = peaks_only.query(Audio(x[int(start * SR): int((start + 7) * SR)], SR))
        assert res.match is None and res.accepted_by == "", (res.candidate, res.best_aligned)


class _RowsStore:
    """A stand-in store whose lookup answers with the rows given (hash, track, time)."""

    def __init__(self, rows: np.ndarray, peaks: dict | None = None):
        self.rows = rows
        self.asked: list[int | None] = []
        self.stored_peaks = peaks or {}
        self.peaks_asked: list[list[int]] = []

    def counts(self):
        return np.unique(self.rows[:, 1]).shape[0], self.rows.shape[0], 0.0

    def lookup(self, hashes, *, max_occurrences=None):
        self.asked.append(max_occurrences)
        m = np.isin(self.rows[:, 0], hashes)
        if max_occurrences is not None:
            u, n = np.unique(self.rows[:, 0], return_counts=True)
            m &= np.isin(self.rows[:, 0], u[n <= max_occurrences])
        r = self.rows[m]
        return r[:, 0], r[:, 1], r[:, 2]

    def peaks(self, ids):
        self.peaks_asked.append(list(ids))
        return {i: self.stored_peaks[i] for i in ids if i in self.stored_peaks}


def _aligned_rows(qh, qt, qk, pick, track, offset):
    """Catalog rows that line up the picked query hashes (speed 1) on track at offset frames."""
    sel = np.flatnonzero(pick & (qk == 0))
    return np.stack([qh[sel], np.full(sel.shape[0], track), np.rint(qt[sel]).astype(np.int64) + offset],
                    axis=1)


def test_evidence_piled_into_one_second_is_not_a_match():
    """Regression: an out-of-catalog clip sharing one second of identical sound with a catalog
    song lined up 110 hashes in one bin (2.5x the runner-up) and was accepted. Evidence bunched
    in one second must not outvote a runner-up whose evidence is spread over the clip."""
    from yuefu.listen.identify.fingerprint import query_hashes
    from yuefu.listen.identify.match import MatchSettings, match_peaks

    cfg = FingerprintConfig()
    s = MatchSettings()
    peaks = find_peaks(Audio(synth_song(7, 10.0), SR), cfg)
    speeds = speed_grid(s.max_speed_change, s.speed_step)
    qh, qt, qk = query_hashes(peaks, speeds, cfg)
    sec = qt * cfg.frame_s
    one_second = (sec >= 4.0) & (sec < 5.0)
    # track 1 shares one second; track 2 matches a sparse scatter over the whole clip
    sparse = np.zeros(qh.shape[0], bool)
    sparse[np.flatnonzero(qk == 0)[::25]] = True
    sparse &= ~one_second
    rows1 = _aligned_rows(qh, qt, qk, one_second, 1, 500)
    rows2 = _aligned_rows(qh, qt, qk, sparse, 2, 900)
    assert rows1.shape[0] >= 2.5 * rows2.shape[0] >= 2.5 * 15
    store = _RowsStore(np.concatenate([rows1, rows2]))
    old_rule = MatchSettings(min_ratio=2.5, min_spread=0.0, min_spread_ratio=0.0)
    assert match_peaks(store, peaks, config=cfg, settings=old_rule).accepted  # the bug
    cand = match_peaks(store, peaks, config=cfg)
    assert cand is not None and cand.track_id == 1
    assert not cand.accepted, (cand.aligned, cand.second, cand.spread, cand.second_spread)
    # the same number of hashes spread over the clip is a match
    spread = np.zeros(qh.shape[0], bool)
    spread[np.flatnonzero(qk == 0)[:: max(1, int((qk == 0).sum()) // rows1.shape[0])]] = True
    rows1b = _aligned_rows(qh, qt, qk, spread, 1, 500)
    cand = match_peaks(_RowsStore(np.concatenate([rows1b, rows2])), peaks, config=cfg)
    assert cand is not None and cand.track_id == 1 and cand.accepted, (cand.spread, cand.second_spread)


def _random_peaks(rng, n, n_frames):
    t = np.sort(rng.uniform(0, n_frames, n))
    return t, rng.uniform(5, 240, n)


def test_weak_hash_evidence_is_verified_at_the_peak_level():
    """A clip whose pairs mostly broke (6 aligned hashes: the hash rule refuses) is accepted when
    its peaks land on the candidate track's stored peaks at the voted offset, and only then:
    the same vote with unrelated stored peaks, or with the peak level off, is no match."""
    from yuefu.listen.identify.fingerprint import query_hashes
    from yuefu.listen.identify.match import MatchSettings, match_peaks

    cfg = FingerprintConfig()
    s = MatchSettings()
    rng = np.random.default_rng(3)
    peaks = find_peaks(Audio(synth_song(11, 10.0), SR), cfg)
    speeds = speed_grid(s.max_speed_change, s.speed_step)
    qh, qt, qk = query_hashes(peaks, speeds, cfg)
    pick1 = np.zeros(qh.shape[0], bool)
    pick1[np.flatnonzero(qk == 0)[::97][:6]] = True
    pick2 = np.zeros(qh.shape[0], bool)
    pick2[np.flatnonzero(qk == 0)[50::89][:5]] = True
    rows = np.concatenate([_aligned_rows(qh, qt, qk, pick1, 1, 500),
                           _aligned_rows(qh, qt, qk, pick2, 2, 900)])
    n = peaks.t.shape[0]
    # track 1 holds the clip at frame 500: half of the clip's peaks (the rest was noise), and
    # peaks of its own; track 2 is an unrelated song
    keep = np.sort(rng.choice(n, n // 2, replace=False))
    t1, f1 = _random_peaks(rng, n, 2000)
    t1 = np.concatenate([t1, peaks.t[keep] + 500.0])
    f1 = np.concatenate([f1, peaks.f[keep]])
    o = np.argsort(t1)
    true_peaks = {1: (t1[o], f1[o]), 2: _random_peaks(rng, 2 * n, 2000)}
    cand = match_peaks(_RowsStore(rows, true_peaks), peaks, config=cfg)
    assert cand is not None and cand.accepted and cand.by == "peaks" and cand.track_id == 1
    assert abs(cand.offset_frames - 500) <= 1 and cand.speed == pytest.approx(1.0, abs=0.006)
    assert cand.peak_spread >= s.peak_ratio * max(cand.second_peak_spread, 1.0)
    assert match_peaks(_RowsStore(rows, true_peaks), peaks, config=cfg,
                       settings=MatchSettings(peak_candidates=0)).accepted is False
    unrelated = {1: _random_peaks(rng, 2 * n, 2000), 2: true_peaks[2]}
    store = _RowsStore(rows, unrelated)
    cand = match_peaks(store, peaks, config=cfg)
    assert cand is not None and not cand.accepted and cand.by == ""
    assert store.peaks_asked == [[1, 2]]  # one round trip for the candidates' peaks


def test_peak_scores_count_each_block_at_most_block_cap_times():
    """Peaks piled into one second count at most block_cap per block (the time-diverse count)."""
    from yuefu.listen.identify.fingerprint import Peaks
    from yuefu.listen.identify.match import MatchSettings, peak_scores

    s = MatchSettings(block_s=0.25, block_cap=3)
    frame_s = 0.032
    t = np.repeat(np.arange(0, 31, 8.0), 6) + np.tile(np.arange(6) * 0.1, 4)  # 4 blocks, 6 each
    f = np.tile(np.arange(6) * 20.0 + 10, 4)
    q = Peaks(t, f, 40)
    (sc,) = peak_scores(q, [(7, 1.0, 100.0)], {7: (t + 100.0, f)}, settings=s, frame_s=frame_s)
    assert sc.track_id == 7 and sc.hits == 24 and sc.spread == 4 * 3
    assert peak_scores(q, [(8, 1.0, 100.0)], {}, settings=s, frame_s=frame_s)[0].spread == 0


def test_bad_match_settings_are_refused():
    from yuefu.listen.identify.match import MatchSettings

    with pytest.raises(ParameterError, match="block_s"):
        MatchSettings(block_s=0.0)
    with pytest.raises(ParameterError, match="block_cap"):
        MatchSettings(block_cap=0)
    with pytest.raises(ParameterError, match="peak_candidates"):
        MatchSettings(peak_tol_bins=0.0)


def test_vote_counts_aligned_hashes_with_one_frame_of_jitter():
    """A hand-made vote: track 5 holds 9 of the query's 10 hashes, 7 at offset 100 and 2 at 101
    (jitter), track 3 holds 3 at offset 50 and 4 scattered ones."""
    from yuefu.listen.identify.match import MatchSettings, vote

    qh = np.arange(10, 20, dtype=np.int64)
    qt = np.arange(10, dtype=np.float64)
    qk = np.zeros(10, dtype=np.int64)
    dh = np.r_[np.arange(10, 19), [10, 11, 12], [13, 14, 15, 16]].astype(np.int64)
    dtrack = np.r_[np.full(9, 5), np.full(3, 3), np.full(4, 3)].astype(np.int64)
    dt = np.r_[np.arange(0, 7) + 100, np.arange(7, 9) + 101, np.arange(3) + 50, [7, 300, 900, 40]]
    s = MatchSettings(min_aligned=8, min_ratio=2.0, min_spread=8, min_spread_ratio=2.0)
    c = vote(qh, qt, qk, dh, dtrack, dt.astype(np.int64), np.ones(1), settings=s, frame_s=0.25)
    assert c is not None
    assert (c.track_id, c.aligned, c.second, c.offset_frames) == (5, 9, 3, 100.0)
    assert c.spread == 9.0 and c.second_spread == 3.0  # blocks of one frame: every hash counts
    assert c.accepted and c.speed == 1.0
    # the same rows without the jittered pair: 7 aligned, below min_aligned
    c2 = vote(qh, qt, qk, np.delete(dh, [7, 8]), np.delete(dtrack, [7, 8]), np.delete(dt, [7, 8]),
              np.ones(1), settings=s, frame_s=0.25)
    assert c2 is not None and c2.aligned == 7 and not c2.accepted
    z = np.zeros(0, np.int64)
    assert vote(qh, qt, qk, z, z, z, np.ones(1), settings=s, frame_s=0.25) is None


def test_query_fan_out_pairs_more_and_is_checked():
    from yuefu.listen.identify.fingerprint import query_hashes
    from yuefu.listen.identify.match import MatchSettings

    cfg = FingerprintConfig(fan_out=6)
    pk = find_peaks(Audio(synth_song(7, 6.0), SR), cfg)
    n6 = query_hashes(pk, np.ones(1), cfg)[0].size
    n10 = query_hashes(pk, np.ones(1), FingerprintConfig(fan_out=10))[0].size
    assert n10 > 1.4 * n6, (n6, n10)
    with pytest.raises(ParameterError, match="query_fan_out"):
        MatchSettings(query_fan_out=0)


def test_stop_list_drops_hashes_held_by_too_many_tracks():
    """Hashes stored more than max(stop_min, stop_share * tracks) times take no part in the
    vote: a clip whose evidence is only such hashes is no match, and the threshold follows
    the catalog's size."""
    from yuefu.listen.identify.match import MatchSettings, match_peaks

    s = MatchSettings(stop_min=3, stop_share=0.5)
    assert s.max_occurrences(2) == 3 and s.max_occurrences(100) == 50
    cfg = FingerprintConfig()
    peaks = find_peaks(Audio(synth_song(7, 8.0), SR), cfg)
    from yuefu.listen.identify.fingerprint import query_hashes

    qh, qt, qk = query_hashes(peaks, np.ones(1), cfg)
    pick = np.zeros(qh.shape[0], bool)
    pick[::3] = True
    rows = _aligned_rows(qh, qt, qk, pick, 1, 400)
    # the same hashes also held 4 more times by other tracks: each hash is stored 5 times
    common = np.concatenate([rows] + [np.stack([rows[:, 0], np.full(rows.shape[0], 10 + k),
                                                rows[:, 2] + 977 * (k + 1) + 13 * np.arange(rows.shape[0])],
                                               axis=1) for k in range(4)])
    store = _RowsStore(common)
    got = match_peaks(store, peaks, config=cfg, settings=MatchSettings())  # 5 tracks: stop at 200
    assert got is not None and got.track_id == 1 and got.accepted
    assert store.asked == [200]
    assert match_peaks(store, peaks, config=cfg, settings=s) is None  # every hash is stored 5 > 3 times
    assert store.asked[-1] == 3
