"""Stems from FluidSynth: one per track, exact lengths, right pitch, atomic, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from yuefu.core.errors import (
    MissingDependencyError,
    OutputExistsError,
    ParameterError,
    YuefuError,
)
from yuefu.core.score import Note, Score, Tempo, Track
from yuefu.render import fluidsynth as fs
from yuefu.render import render_stems, stem_filename

SR = 44100


pytestmark = pytest.mark.fluidsynth


def band_score() -> Score:
    """Two seconds of flute, bass and drums at 120 BPM, plus an empty track."""
    s = Score(tempos=[Tempo(0, 120)])
    flute = s.add_track(Track("flute", program=73, role="melody"))
    bass = s.add_track(Track("bass", program=33, role="bass"))
    drums = s.add_track(Track("drums", is_drum=True, role="drums"))
    s.add_track(Track("silent pad", program=89, role="pad"))
    for i, p in enumerate([69, 71, 72, 74]):
        flute.notes.append(Note(p, float(i), 1.0, 90))
    for i in range(8):
        bass.notes.append(Note(45 if i < 4 else 43, i * 0.5, 0.45, 100))
        drums.notes.append(Note(36 if i % 2 == 0 else 38, i * 0.5, 0.25, 100))
        drums.notes.append(Note(42, i * 0.5 + 0.25, 0.25, 80))
    return s


@pytest.fixture(scope="module")
def band(tmp_path_factory: pytest.TempPathFactory) -> tuple[Score, dict[str, Path]]:
    s = band_score()
    out = tmp_path_factory.mktemp("band")
    return s, render_stems(s, out, tail_s=1.0)


def read(path: Path) -> tuple[np.ndarray, int]:
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return x.T, sr


def test_one_stem_per_track_with_exact_length(band: tuple[Score, dict[str, Path]]) -> None:
    score, stems = band
    assert list(stems) == [t.name for t in score.tracks]
    expected_s = score.duration_s + 1.0
    for name, path in stems.items():
        assert path.name == stem_filename(name)
        info = sf.info(str(path))
        assert info.samplerate == SR and info.channels == 2 and info.subtype == "FLOAT"
        assert abs(info.frames / SR - expected_s) <= 0.010, (name, info.frames / SR)


def test_empty_track_gives_a_silent_stem(band: tuple[Score, dict[str, Path]]) -> None:
    x, _ = read(band[1]["silent pad"])
    assert x.shape[1] > 0 and np.max(np.abs(x)) == 0.0


def test_drums_render_and_are_not_silent(band: tuple[Score, dict[str, Path]]) -> None:
    x, _ = read(band[1]["drums"])
    rms_db = 10 * np.log10(np.mean(x**2))
    assert rms_db > -45.0, rms_db
    # a hit every 8th note: the onsets at 0, 0.25, 0.5 s ... are all there
    env = np.abs(x).max(axis=0)
    for k in range(8):
        t = int(k * 0.25 * SR)
        assert env[t:t + int(0.05 * SR)].max() > 0.01, k


def test_release_tail_is_rendered_after_the_last_note(band: tuple[Score, dict[str, Path]]) -> None:
    score, stems = band
    x, _ = read(stems["flute"])
    end = int(score.duration_s * SR)
    tail = x[:, end:end + int(0.2 * SR)]
    assert np.sqrt(np.mean(tail**2)) > 1e-4  # still ringing after the note-off
    assert np.max(np.abs(x[:, -int(0.1 * SR):])) < np.max(np.abs(x)) * 0.05  # and dying away


def f0_hz(y: np.ndarray, sr: int) -> float:
    """The strongest spectral peak (Hann window, zero-padded, parabolic interpolation)."""
    w = y * np.hanning(len(y))
    n = 1 << 20
    mag = np.abs(np.fft.rfft(w, n))
    k = int(np.argmax(mag[1:]) + 1)
    a, b, c = np.log(mag[k - 1:k + 2] + 1e-20)
    k_frac = k + 0.5 * (a - c) / (a - 2 * b + c)
    return float(k_frac * sr / n)


def test_a4_sounds_at_440_hz(tmp_path: Path) -> None:
    s = Score(tempos=[Tempo(0, 60)])
    s.add_track(Track("flute", program=73, role="melody")).notes.append(Note(69, 0.0, 2.0, 100))
    x, sr = read(render_stems(s, tmp_path, tail_s=0.5)["flute"])
    y = x.mean(axis=0)[int(0.5 * sr):int(1.8 * sr)]  # the steady part of the note
    assert abs(f0_hz(y, sr) - 440.0) <= 1.0, f0_hz(y, sr)


def test_tempo_map_is_kept(tmp_path: Path) -> None:
    # 120 BPM for 2 beats (1 s), then 60 BPM: beat 4 is at 1 s + 2 s = 3 s
    s = Score(tempos=[Tempo(0, 120), Tempo(2, 60)])
    s.add_track(Track("drums", is_drum=True, role="drums")).notes.append(Note(38, 4.0, 0.5, 110))
    x, sr = read(render_stems(s, tmp_path, tail_s=0.5)["drums"])
    onset = int(np.argmax(np.abs(x).max(axis=0) > 1e-3))
    assert abs(onset / sr - 3.0) <= 0.010, onset / sr
    assert abs(x.shape[1] / sr - (s.duration_s + 0.5)) <= 0.010


def test_parallel_jobs_give_the_same_stems(band: tuple[Score, dict[str, Path]],
                                           tmp_path: Path) -> None:
    score, stems = band
    par = render_stems(score, tmp_path, tail_s=1.0, jobs=2)
    assert list(par) == list(stems)
    for name in stems:
        a, _ = read(stems[name])
        b, _ = read(par[name])
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, atol=1e-6, err_msg=name)


def test_many_tracks_each_keep_their_own_instrument(tmp_path: Path) -> None:
    """Track 10 lands on MIDI channel 9 (the GM drum channel) and track 17 beyond channel 15:
    both must still play their flute, not a drum kit or nothing."""
    s = Score(tempos=[Tempo(0, 60)])
    for i in range(17):
        s.add_track(Track(f"flute{i}", program=73)).notes.append(Note(69, 0.0, 1.5, 100))
    stems = render_stems(s, tmp_path, tail_s=0.2)
    for name in ("flute0", "flute9", "flute16"):
        x, sr = read(stems[name])
        assert abs(f0_hz(x.mean(axis=0)[int(0.4 * sr):int(1.4 * sr)], sr) - 440.0) <= 1.0, name


def test_progress_is_reported_up_to_one(tmp_path: Path) -> None:
    seen: list[float] = []
    render_stems(band_score(), tmp_path, tail_s=0.2, progress=lambda f, m="": seen.append(f))
    assert seen and seen[-1] == 1.0
    assert all(b >= a for a, b in zip(seen, seen[1:], strict=False))


# -- errors and atomicity --------------------------------------------------------------------

def test_missing_soundfont_is_a_parameter_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "nope.sf2"
    with pytest.raises(ParameterError, match="nope.sf2"):
        render_stems(band_score(), tmp_path / "stems", soundfont=bad)
    with pytest.raises(ParameterError, match="folder"):
        render_stems(band_score(), tmp_path / "stems", soundfont=tmp_path)
    assert not (tmp_path / "stems").exists()


@pytest.mark.parametrize("jobs", [1, 2])
def test_corrupt_soundfont_fails_cleanly(tmp_path: Path, rng: np.random.Generator,
                                         jobs: int) -> None:
    bad = tmp_path / "garbage.sf2"
    # a well-formed RIFF 'sfbk' header, so that FluidSynth itself gets to reject the rest
    body = b"sfbk" + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes()
    bad.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)
    out = tmp_path / "stems"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ParameterError, match="garbage.sf2") as e:
        render_stems(band_score(), out, soundfont=bad, jobs=jobs)
    assert "FluidSynth" in str(e.value)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]  # no stem, no temp folder


def test_not_a_soundfont_or_truncated_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "text.sf2"
    bad.write_text("hello, not a soundfont")
    with pytest.raises(ParameterError, match="text.sf2.*not a SoundFont"):
        render_stems(band_score(), tmp_path / "stems", soundfont=bad)
    cut = tmp_path / "cut.sf2"
    with open(fs.find_soundfont(), "rb") as f:
        cut.write_bytes(f.read(65536))
    with pytest.raises(ParameterError, match="cut.sf2 is truncated"):
        render_stems(band_score(), tmp_path / "stems", soundfont=cut)
    assert not (tmp_path / "stems").exists()


def test_failure_mid_render_leaves_no_half_set(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "stems"
    calls = {"n": 0}
    real = fs._StemWriters.write

    def failing(self: fs._StemWriters, block: np.ndarray) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated)")
        real(self, block)

    monkeypatch.setattr(fs._StemWriters, "write", failing)
    with pytest.raises(OSError, match="simulated"):
        render_stems(band_score(), out, tail_s=1.0)
    assert calls["n"] == 3
    assert not out.exists()  # the folder it made is gone again
    out.mkdir()
    (out / "mine.wav").write_bytes(b"a recorded vocal")
    calls["n"] = 0
    with pytest.raises(OSError, match="simulated"):
        render_stems(band_score(), out, tail_s=1.0)
    assert [p.name for p in out.iterdir()] == ["mine.wav"]  # others' files are left alone


def test_existing_stem_needs_force(tmp_path: Path) -> None:
    s = band_score()
    (tmp_path / "flute.wav").write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match="flute.wav"):
        render_stems(s, tmp_path, tail_s=0.2)
    assert (tmp_path / "flute.wav").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flute.wav"]
    stems = render_stems(s, tmp_path, tail_s=0.2, force=True)
    assert sf.info(str(stems["flute"])).frames > 0


def test_missing_library_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fs, "_lib", None)
    monkeypatch.setattr(fs, "_LIB_NAMES", ("libdoes-not-exist.so.9",))
    with pytest.raises(MissingDependencyError, match="apt-get install fluidsynth fluid-soundfont-gm"):
        fs._load_lib()


def test_missing_default_soundfont_names_the_package(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fs, "DEFAULT_SOUNDFONTS", (tmp_path / "none.sf2",))
    with pytest.raises(MissingDependencyError, match="fluid-soundfont-gm"):
        render_stems(band_score(), tmp_path / "stems")


def test_bad_arguments(tmp_path: Path) -> None:
    s = band_score()
    for kwargs in ({"sr": 1000}, {"tail_s": -1.0}, {"tail_s": float("nan")}, {"jobs": 0}):
        with pytest.raises(ParameterError):
            render_stems(s, tmp_path, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="no tracks"):
        render_stems(Score(), tmp_path)
    clash = Score()
    clash.add_track(Track("a/b"))
    clash.add_track(Track("a_b"))
    with pytest.raises(ParameterError, match="a_b.wav"):
        render_stems(clash, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_stem_filename_is_safe() -> None:
    assert stem_filename("piano") == "piano.wav"
    assert stem_filename("../../etc/passwd") == "_.._etc_passwd.wav"
    assert stem_filename("琵琶") == "琵琶.wav"
    assert stem_filename("  ") == "track.wav"
    assert os.sep not in stem_filename("a/b\\c")


def test_fluidsynth_error_message_is_quoted() -> None:
    fs._messages[:] = [(2, "a warning"), (1, "Not a SoundFont file"), (1, "Failed to load")]
    assert fs._last_error() == "Not a SoundFont file; Failed to load"
    assert issubclass(ParameterError, YuefuError)


# -- the note cache -----------------------------------------------------------------------------

def cache_score() -> Score:
    """Repeated notes, a chord, a long note, the same key struck while it still sounds (and
    two overlapping notes of one key), a key struck again at its own note-off, and drums
    whose hi-hats cut each other (SoundFont exclusive class)."""
    s = Score(tempos=[Tempo(0, 120)])
    piano = s.add_track(Track("piano", program=0, role="chords"))
    strings = s.add_track(Track("strings", program=48, role="strings"))
    drums = s.add_track(Track("drums", is_drum=True, role="drums"))
    piano2 = s.add_track(Track("piano 2", program=0, role="accompaniment"))
    for bar in range(3):
        for p in (60, 64, 67):
            piano.notes.append(Note(p, bar * 4.0, 1.0, 80))
        piano.notes.append(Note(72, bar * 4.0 + 1.0, 1.0, 80))
        piano.notes.append(Note(72, bar * 4.0 + 2.0, 1.0, 80))  # struck again at its note-off
        strings.notes.append(Note(55, bar * 4.0, 3.0, 70))
        for k in range(8):
            drums.notes.append(Note(42 if k % 4 else 46, bar * 4.0 + 0.5 * k, 0.5, 90))
    piano.notes.append(Note(48, 12.0, 2.0, 100))
    piano.notes.append(Note(48, 12.5, 2.0, 90))  # overlaps the previous 48: its note-off ends it
    piano2.notes.append(Note(60, 0.0, 1.0, 80))  # same instrument as "piano": shares its notes
    return s


def test_note_cache_gives_the_live_render(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Cached and live stems agree everywhere except the first FluidSynth block (64 samples)
    of a note, where FluidSynth ramps a voice's gain from whatever its voice slot last held."""
    s = cache_score()
    with caplog.at_level("DEBUG", logger="yuefu.render.fluidsynth"):
        cached = render_stems(s, tmp_path / "cached", tail_s=1.0)
    live = render_stems(s, tmp_path / "live", tail_s=1.0, note_cache=False)
    msg = [r.getMessage() for r in caplog.records if "note cache" in r.getMessage()]
    assert msg, "the note cache was not used"
    rendered, reused = (int(w) for w in msg[0].split() if w.isdigit())
    assert rendered < reused  # repeats were rendered once
    tm = s.tempo_map
    onsets = {int(64 * round(float(tm.to_seconds(n.onset)) * SR / 64))
              for t in s.tracks for n in t.notes}
    for name in cached:
        a, _ = read(cached[name])
        b, _ = read(live[name])
        assert a.shape == b.shape
        diff = np.abs(a - b).max(axis=0)
        for o in onsets:
            diff[o:o + 64] = 0.0
        assert diff.max() < 1e-5, (name, int(np.argmax(diff)), float(diff.max()))
        err = np.sum((a - b) ** 2) / max(np.sum(b ** 2), 1e-12)
        assert err < 1e-3, (name, err)  # > 30 dB even counting the onset blocks (drum hits)


def test_note_releases_follow_fluidsynth() -> None:
    """A voice ends at the next event on its channel and key: a new strike or any note-off."""
    ev = np.array([  # frame, on, channel, key, velocity
        [0, 1, 0, 60, 90], [640, 1, 0, 60, 80],   # 60 struck again while held
        [1280, 0, 0, 60, 0], [1920, 0, 0, 60, 0],  # the first note-off ends the second note
        [0, 1, 1, 60, 70], [64, 0, 1, 60, 0],      # another channel is independent
        [3200, 1, 0, 62, 100],                     # never released: sounds to the end
    ], dtype=np.int64)
    ev = ev[np.lexsort((ev[:, 1], ev[:, 0]))]
    notes = fs._notes(ev, 5000)
    assert notes.tolist() == [[0, 640, 0, 60, 90], [0, 64, 1, 60, 70], [640, 1280, 0, 60, 80],
                              [3200, 5000, 0, 62, 100]]


def test_ring_buffer_grows_and_keeps_order() -> None:
    ring = fs._Ring(2, 8)
    ring.add(0, 3, np.ones((2, 4), dtype=np.float32))
    ring.add(0, 5, np.full((2, 20), 2.0, dtype=np.float32))  # beyond the capacity: it grows
    out = np.concatenate([ring.take(4), ring.take(30)], axis=1)
    expect = np.zeros(34, dtype=np.float32)
    expect[3:7] += 1.0
    expect[5:25] += 2.0
    np.testing.assert_array_equal(out[0], expect)
    np.testing.assert_array_equal(out[1], expect)


def test_a_very_long_note_is_rendered_live(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A drone longer than the cache's limit plays live, so memory stays bounded."""
    s = Score(tempos=[Tempo(0, 60)])
    s.add_track(Track("drone", program=89)).notes.append(Note(48, 0.0, 40.0, 80))
    s.add_track(Track("flute", program=73)).notes.extend(Note(72, float(i), 1.0, 80)
                                                          for i in range(4))
    with caplog.at_level("DEBUG", logger="yuefu.render.fluidsynth"):
        stems = render_stems(s, tmp_path, tail_s=0.5)
    msg = [r.getMessage() for r in caplog.records if "note cache" in r.getMessage()]
    assert msg and msg[0].startswith("note cache: 1 notes rendered, 3 reused")
    x, sr = read(stems["drone"])
    assert x.shape[1] == int(round(40.5 * sr)) and np.abs(x[:, int(39 * sr):]).max() > 1e-3


def test_streamed_stems_equal_the_written_ones(band: tuple[Score, dict[str, Path]],
                                               tmp_path: Path) -> None:
    """stream_stems hands over what render_stems writes, sample for sample; with a folder it
    writes the same files in the same pass."""
    score, paths = band
    parts = []
    with fs.stream_stems(score, tail_s=1.0) as (stems, n, blocks):
        assert list(stems) == [t.name for t in score.tracks]
        assert all(v is None for v in stems.values())
        for b in blocks:
            assert b.shape[0] == 2 * len(score.tracks)
            parts.append(b.copy())
    got = np.concatenate(parts, axis=1)
    assert got.shape[1] == n
    for k, tr in enumerate(score.tracks):
        want, _ = read(paths[tr.name])
        np.testing.assert_array_equal(got[2 * k:2 * k + 2], want)
    out = tmp_path / "kept"
    with fs.stream_stems(score, out, tail_s=1.0) as (stems, n, blocks):
        assert not out.exists() or not any(out.glob("*.wav"))  # nothing in place yet
        for _ in blocks:
            pass
    for tr in score.tracks:
        p = stems[tr.name]
        assert p is not None and p == out / stem_filename(tr.name)
        np.testing.assert_array_equal(read(p)[0], read(paths[tr.name])[0])


def test_streamed_stems_read_halfway_are_not_kept(tmp_path: Path) -> None:
    out = tmp_path / "stems"
    with pytest.raises(YuefuError, match="not read to the end"):
        with fs.stream_stems(band_score(), out, tail_s=1.0) as (_, _, blocks):
            next(blocks)
    assert not out.exists()  # created by the call, removed again: nothing half-written
    out.mkdir()
    (out / "flute.wav").write_bytes(b"mine")
    with pytest.raises(OutputExistsError):
        with fs.stream_stems(band_score(), out) as _:
            pytest.fail("an existing stem must be refused before anything is rendered")
    assert (out / "flute.wav").read_bytes() == b"mine"


def test_note_cache_borrows_the_soundfont(monkeypatch: pytest.MonkeyPatch) -> None:
    """The note cache's synthesiser shares the live one's SoundFont (FluidR3 is 140 MB in
    memory) instead of loading it a second time, and gives it back before the lender closes."""
    made: list[tuple[fs._Synth, int | None, int | None]] = []  # (synth, sfont, borrowed)
    closed: list[int] = []
    init, close = fs._Synth.__init__, fs._Synth.close

    def spy_init(self: fs._Synth, *a: object, **k: object) -> None:
        init(self, *a, **k)  # type: ignore[arg-type]
        made.append((self, self.sfont, self.borrowed))

    def spy_close(self: fs._Synth) -> None:
        closed.append(id(self))
        close(self)

    monkeypatch.setattr(fs._Synth, "__init__", spy_init)
    monkeypatch.setattr(fs._Synth, "close", spy_close)
    with fs.stream_stems(band_score(), tail_s=0.5) as (_, _, blocks):
        for _ in blocks:
            pass
    (live, live_sf, live_borrowed), (solo, solo_sf, solo_borrowed) = made
    assert live_sf is not None and live_borrowed is None
    assert solo_sf is None and solo_borrowed == live_sf
    assert closed == [id(solo), id(live)]  # the borrower first
    assert solo.borrowed is None  # given back
