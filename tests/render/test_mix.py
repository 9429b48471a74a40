"""Mixing (pan law, streaming state, strips, errors) and the whole score -> song render."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from yuefu.core.errors import OutputExistsError, ParameterError
from yuefu.core.io.audio import read_audio
from yuefu.core.score import ROLES, Note, Score, Tempo, Track
from yuefu.render import (
    ROLE_MIX,
    BusSettings,
    MixSettings,
    default_mix_settings,
    measure_file,
    mix_stems,
    placement_matrix,
    render_score,
)

SR = 44100
DRY = BusSettings(comp_ratio=1.0, fade_out_s=0.0)  # no bus processing: exact levels


def write_wav(path: Path, x: np.ndarray, sr: int = SR) -> Path:
    sf.write(str(path), np.asarray(x, dtype=np.float32).T, sr, subtype="FLOAT")
    return path


def sine(hz: float, seconds: float, *, amp: float = 0.25, channels: int = 1,
         sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return np.tile(amp * np.sin(2 * np.pi * hz * t), (channels, 1)).astype(np.float32)


def energy_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-30))


def mix_one(tmp_path: Path, x: np.ndarray, settings: MixSettings, *,
            bus: BusSettings = DRY, **kwargs: float) -> np.ndarray:
    stem = write_wav(tmp_path / "stem.wav", x)
    out = mix_stems({"s": stem}, {"s": settings}, tmp_path / "mix.wav", bus=bus, force=True,
                    **kwargs)
    y, sr = sf.read(str(out), dtype="float32", always_2d=True)
    assert sr == SR and y.shape[1] == 2
    return y.T


# -- panning ---------------------------------------------------------------------------------

@pytest.mark.parametrize("channels", [1, 2])
def test_hard_left_puts_20_db_more_in_the_left_channel(tmp_path: Path, channels: int) -> None:
    y = mix_one(tmp_path, sine(440, 1.0, channels=channels), MixSettings(pan=-1.0))
    assert energy_db(y[0]) - energy_db(y[1]) >= 20.0
    y = mix_one(tmp_path, sine(440, 1.0, channels=channels), MixSettings(pan=1.0))
    assert energy_db(y[1]) - energy_db(y[0]) >= 20.0


def test_pan_law_is_equal_power(tmp_path: Path) -> None:
    x = sine(440, 1.0)
    centre = mix_one(tmp_path, x, MixSettings())
    assert np.allclose(centre[0], x[0], atol=1e-6) and np.allclose(centre[1], x[0], atol=1e-6)
    total = energy_db(centre[0]) + 10 * np.log10(2)
    for pan in (-1.0, -0.5, 0.3, 1.0):
        y = mix_one(tmp_path, x, MixSettings(pan=pan))
        both = 10 * np.log10(10 ** (energy_db(y[0]) / 10) + 10 ** (energy_db(y[1]) / 10))
        assert abs(both - total) <= 0.01, pan  # the power is the same wherever it is panned


def test_width_zero_makes_a_stereo_stem_mono(tmp_path: Path) -> None:
    x = np.stack([sine(440, 0.5)[0], sine(660, 0.5)[0]])
    y = mix_one(tmp_path, x, MixSettings(width=0.0))
    np.testing.assert_allclose(y[0], y[1], atol=1e-6)
    assert placement_matrix(MixSettings(width=0.0)).tolist() == [[0.5, 0.5], [0.5, 0.5]]


# -- strips, streaming, lengths ----------------------------------------------------------------

def test_highpass_cuts_the_rumble(tmp_path: Path) -> None:
    x = sine(40, 1.0)
    bass = mix_one(tmp_path, x, dataclasses.replace(ROLE_MIX["bass"], comp_ratio=1, gain_db=0))
    pad = mix_one(tmp_path, x, dataclasses.replace(ROLE_MIX["pad"], reverb_send=0, width=1,
                                                   gain_db=0))
    steady = slice(SR // 2, SR)
    assert energy_db(bass[:, steady]) - energy_db(pad[:, steady]) >= 12.0  # 30 vs 150 Hz cut


def test_compressor_reduces_loud_passages(tmp_path: Path) -> None:
    x = sine(440, 1.0, amp=0.5)
    plain = mix_one(tmp_path, x, MixSettings())
    squeezed = mix_one(tmp_path, x, MixSettings(comp_threshold_db=-20, comp_ratio=4))
    assert energy_db(plain[:, SR // 2:]) - energy_db(squeezed[:, SR // 2:]) >= 6.0


def test_block_size_does_not_change_the_mix(tmp_path: Path, rng: np.random.Generator) -> None:
    """Plug-in state carries across blocks: 0.1 s blocks give the same result as one block."""
    n = 3 * SR
    stems = {
        "drums": write_wav(tmp_path / "d.wav", rng.standard_normal((2, n)) * 0.1
                           * (np.arange(n) % (SR // 2) < 2000)),
        "lead": write_wav(tmp_path / "l.wav", sine(523.25, 2.0, channels=2)),
    }
    settings = {"drums": ROLE_MIX["drums"], "lead": ROLE_MIX["melody"]}
    whole = mix_stems(stems, settings, tmp_path / "a.wav", block_s=60.0)
    small = mix_stems(stems, settings, tmp_path / "b.wav", block_s=0.1)
    a, _ = sf.read(str(whole), dtype="float32")
    b, _ = sf.read(str(small), dtype="float32")
    assert a.shape == b.shape == (n, 2)
    np.testing.assert_allclose(b, a, atol=1e-5)
    assert energy_db(a[2 * SR:, :]) > -60  # the lead's reverb rings on after it stops


def test_stems_of_different_lengths_and_layouts(tmp_path: Path) -> None:
    stems = {"mono": write_wav(tmp_path / "m.wav", sine(220, 0.5)),
             "stereo": write_wav(tmp_path / "s.wav", sine(330, 1.25, channels=2))}
    y, sr = sf.read(str(mix_stems(stems, None, tmp_path / "mix.wav")), always_2d=True)
    assert sr == SR and y.shape == (int(1.25 * SR), 2)
    assert sf.info(str(tmp_path / "mix.wav")).subtype == "FLOAT"


def test_progress_reaches_one(tmp_path: Path) -> None:
    seen: list[float] = []
    mix_one(tmp_path, sine(440, 1.0), MixSettings(), block_s=0.25,
            progress=lambda f, m="": seen.append(f))
    assert len(seen) == 4 and seen[-1] == 1.0


# -- settings ------------------------------------------------------------------------------

def test_every_role_has_defaults_and_track_gain_pan_act_on_top() -> None:
    assert set(ROLE_MIX) == set(ROLES)
    bass = default_mix_settings(Track("b", program=33, role="bass", gain_db=-2.0, pan=0.25))
    assert bass.highpass_hz == 30 and bass.reverb_send == 0 and bass.width <= 0.3
    assert bass.comp_ratio > 1
    assert bass.gain_db == ROLE_MIX["bass"].gain_db - 2.0 and bass.pan == 0.25
    assert ROLE_MIX["vocal"].presence_db > 0 and ROLE_MIX["vocal"].comp_ratio > 1
    assert ROLE_MIX["pad"].reverb_send > ROLE_MIX["melody"].reverb_send > 0
    assert ROLE_MIX["pad"].width > 1 and ROLE_MIX["pad"].highpass_hz >= 100
    assert ROLE_MIX["drums"].comp_attack_ms >= 10  # lets the transient through
    assert default_mix_settings(None) == ROLE_MIX["other"]
    assert default_mix_settings(None, reverb_send=0.0).reverb_send == 0.0
    with pytest.raises(ParameterError, match="reverb"):
        default_mix_settings(None, reverb=0.5)


def test_settings_validate_and_round_trip() -> None:
    with pytest.raises(ParameterError, match="pan"):
        MixSettings(pan=2.0)
    with pytest.raises(ParameterError, match="comp_ratio"):
        MixSettings(comp_ratio=0.5)
    with pytest.raises(ParameterError, match="room_size"):
        BusSettings(reverb_room_size=1.5)
    s = ROLE_MIX["vocal"]
    assert MixSettings.from_dict(s.to_dict()) == s
    assert BusSettings.from_dict(BusSettings().to_dict()) == BusSettings()
    with pytest.raises(ParameterError, match="'presense_db'"):
        MixSettings.from_dict({"presense_db": 3.0})


def test_mix_errors(tmp_path: Path) -> None:
    stem = write_wav(tmp_path / "a.wav", sine(440, 0.2))
    other = write_wav(tmp_path / "b.wav", sine(440, 0.2), sr=48000)
    with pytest.raises(ParameterError, match="48000 Hz"):
        mix_stems({"a": stem, "b": other}, None, tmp_path / "mix.wav")
    with pytest.raises(ParameterError, match="'typo'"):
        mix_stems({"a": stem}, {"typo": MixSettings()}, tmp_path / "mix.wav")
    with pytest.raises(ParameterError, match="at least one"):
        mix_stems({}, None, tmp_path / "mix.wav")
    with pytest.raises(ParameterError, match=".wav"):
        mix_stems({"a": stem}, None, tmp_path / "mix.flac")
    with pytest.raises(ParameterError, match="missing.wav"):
        mix_stems({"a": tmp_path / "missing.wav"}, None, tmp_path / "mix.wav")
    assert not (tmp_path / "mix.wav").exists()
    (tmp_path / "mix.wav").write_bytes(b"keep")
    with pytest.raises(OutputExistsError):
        mix_stems({"a": stem}, None, tmp_path / "mix.wav")
    assert (tmp_path / "mix.wav").read_bytes() == b"keep"


# -- the whole render (needs FluidSynth) -----------------------------------------------------

needs_fluidsynth = pytest.mark.fluidsynth


def song() -> Score:
    """Four bars (4 s at 120 BPM) of lead, chords, bass and drums."""
    s = Score(tempos=[Tempo(0, 120)])
    lead = s.add_track(Track("lead", program=73, role="melody"))
    piano = s.add_track(Track("piano", program=0, role="chords", gain_db=-2.0, pan=-0.3))
    bass = s.add_track(Track("bass", program=33, role="bass"))
    drums = s.add_track(Track("drums", is_drum=True, role="drums"))
    for bar, root in enumerate([60, 57, 53, 55]):
        b0 = 4.0 * bar
        for k, deg in enumerate([0, 4, 7, 12]):
            lead.notes.append(Note(root + 12 + deg, b0 + k, 0.9, 95))
        for iv in (0, 4, 7):
            piano.notes.append(Note(root + iv, b0, 4.0, 70))
        for k in range(8):
            bass.notes.append(Note(root - 24, b0 + 0.5 * k, 0.45, 100))
            drums.notes.append(Note(36 if k % 4 == 0 else (38 if k % 4 == 2 else 42),
                                    b0 + 0.5 * k, 0.25, 100))
    return s


@needs_fluidsynth
@pytest.mark.parametrize("target", [-14.0, -23.0])
def test_render_score_hits_the_loudness_target(tmp_path: Path, target: float) -> None:
    dest = tmp_path / "song.wav"
    res = render_score(song(), dest, target_lufs=target, tail_s=1.0)
    assert res.path == dest and dest.exists()
    r = measure_file(dest)  # measured again, independently of what render_score reports
    assert abs(r.integrated_lufs - target) <= 0.5, r.integrated_lufs
    assert r.true_peak_dbtp <= -1.0, r.true_peak_dbtp
    assert abs(r.duration_s - (song().duration_s + 1.0)) <= 0.010
    assert set(res.stems) == {"lead", "piano", "bass", "drums"}
    assert all(p is None for p in res.stems.values())  # not kept: no stems_dir
    assert set(res.timings) == {"render_s", "mix_s", "master_s", "total_s"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.wav"]  # no temp left


@needs_fluidsynth
def test_render_score_keeps_stems_and_writes_flac(tmp_path: Path) -> None:
    seen: list[float] = []
    res = render_score(song(), tmp_path / "song.flac", stems_dir=tmp_path / "stems",
                       tail_s=0.5, progress=lambda f, m="": seen.append(f))
    assert sf.info(str(res.path)).format == "FLAC"
    assert sorted(p.name for p in (tmp_path / "stems").iterdir()) == [
        "bass.wav", "drums.wav", "lead.wav", "piano.wav"]
    assert all(p is not None and p.exists() for p in res.stems.values())
    assert abs(res.loudness.integrated_lufs + 14.0) <= 0.5
    assert seen[-1] == pytest.approx(1.0) and all(b >= a - 1e-9 for a, b in zip(seen, seen[1:],
                                                                                strict=False))


@needs_fluidsynth
def test_render_score_refuses_to_overwrite(tmp_path: Path) -> None:
    dest = tmp_path / "song.wav"
    dest.write_bytes(b"an earlier song")
    with pytest.raises(OutputExistsError):
        render_score(song(), dest)
    assert dest.read_bytes() == b"an earlier song"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.wav"]
    render_score(song(), dest, tail_s=0.2, force=True)
    assert sf.info(str(dest)).samplerate == SR


@needs_fluidsynth
def test_render_score_failure_leaves_nothing(tmp_path: Path, rng: np.random.Generator) -> None:
    bad = tmp_path / "corrupt.sf2"
    body = b"sfbk" + rng.integers(0, 256, 2048, dtype=np.uint8).tobytes()
    bad.write_bytes(b"RIFF" + len(body).to_bytes(4, "little") + body)
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match="corrupt.sf2"):
        render_score(song(), out / "song.wav", soundfont=bad, stems_dir=out / "stems")
    assert not (out / "song.wav").exists()
    assert list(out.iterdir()) == []  # no temp folder, no stems folder, no half-written stem


@needs_fluidsynth
def test_render_score_checks_arguments_before_work(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="target_lufs"):
        render_score(song(), tmp_path / "a.wav", target_lufs=0.0)
    with pytest.raises(ParameterError):
        render_score(song(), tmp_path / "a.xyz")
    with pytest.raises(ParameterError, match="'nope'"):
        render_score(song(), tmp_path / "a.wav", mix_settings={"nope": MixSettings()})
    assert list(tmp_path.iterdir()) == []


def test_skipping_silent_blocks_changes_nothing(tmp_path: Path, rng: np.random.Generator,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Stems that rest for whole blocks (an intro, a break) skip their strip there; the mix is
    the same (to 1e-8) as when every block is processed."""
    from yuefu.render import mix as mix_mod

    def gappy(seed: int) -> np.ndarray:
        x = np.zeros((2, 12 * SR), dtype=np.float32)
        r = np.random.default_rng(seed)
        for a, b in ((1.0, 2.5), (7.2, 9.0)):  # sound, a long rest, sound again, then silence
            n = int((b - a) * SR)
            x[:, int(a * SR):int(a * SR) + n] = 0.3 * r.standard_normal((2, n)).astype(np.float32)
        return x

    stems = {n: write_wav(tmp_path / f"{n}.wav", gappy(i)) for i, n in enumerate(("a", "b"))}
    sets = {"a": default_mix_settings(Track("a", role="drums")),
            "b": default_mix_settings(Track("b", role="vocal"))}
    import scipy.signal

    calls = {"n": 0}
    real = scipy.signal.sosfilt

    def counting(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.signal, "sosfilt", counting)  # the strip's first stage
    skipped = mix_stems(stems, sets, tmp_path / "skip.wav", block_s=1.0)
    worked = calls["n"]
    monkeypatch.setattr(mix_mod._Stem, "quiet", property(lambda self: False, lambda self, v: None))
    calls["n"] = 0
    full = mix_stems(stems, sets, tmp_path / "full.wav", block_s=1.0)
    a, _ = sf.read(str(skipped), dtype="float32")
    b, _ = sf.read(str(full), dtype="float32")
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)  # below the 24-bit master's floor
    assert calls["n"] == 2 * 12 and worked <= calls["n"] - 8  # 12 blocks per stem; rests skipped


@needs_fluidsynth
def test_streamed_render_equals_stems_then_mix(tmp_path: Path) -> None:
    """render_score's one pass (the mixer takes the stems as FluidSynth makes them) gives the
    song that render_stems -> mix_stems -> master_file gives, with and without kept stems."""
    from yuefu.render import master_file, render_stems

    s = song()
    stems = render_stems(s, tmp_path / "stems", tail_s=1.0)
    settings = {t.name: default_mix_settings(t) for t in s.tracks}
    mix_stems(stems, settings, tmp_path / "premix.wav")
    master_file(tmp_path / "premix.wav", tmp_path / "files.wav")
    want = read_audio(tmp_path / "files.wav").samples

    res = render_score(s, tmp_path / "one-pass.wav", tail_s=1.0)
    assert res.timings["render_s"] > 0 and res.timings["mix_s"] > 0
    got = read_audio(res.path).samples
    assert got.shape == want.shape
    assert float(np.max(np.abs(got - want))) < 1e-4  # 24-bit output: a few LSB at most

    kept = render_score(s, tmp_path / "kept.wav", tail_s=1.0, stems_dir=tmp_path / "kept")
    for name, p in kept.stems.items():
        assert p is not None
        np.testing.assert_array_equal(read_audio(p).samples, read_audio(stems[name]).samples)
    assert float(np.max(np.abs(read_audio(kept.path).samples - want))) < 1e-4
