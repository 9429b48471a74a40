"""End to end: a short zh and en phrase sung on pitch; bad inputs; the file API and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from yuefu.cli import main
from yuefu.core.errors import OutputExistsError, ParameterError, YuefuError
from yuefu.core.io import save_score
from yuefu.core.score import Note, Score, Tempo, Track
from yuefu.sing import VOICES, SingResult, sing, sing_file

MELODY = [(67, 1.0), (69, 1.0), (72, 2.0), (69, 1.0), (67, 1.0)]  # G4 A4 C5 A4 G4 (beats)


def _score(lyrics, melody=MELODY, *, transpose=0, bpm=100.0, start=0.5):
    s = Score(tempos=[Tempo(0, bpm)])
    t = s.add_track(Track("vocal", role="vocal"))
    on = start
    for lyr, (p, d) in zip(lyrics, melody, strict=True):
        t.notes.append(Note(p + transpose, on, d, lyric=lyr))
        on += d
    return s


def _pitch_errors(res: SingResult) -> tuple[list[float], list[float]]:
    """Median |cents| and voiced fraction over the middle 60 % of each note (librosa.pyin)."""
    librosa = pytest.importorskip("librosa")
    y = res.audio.resample(22050).samples[0]
    f0, _, _ = librosa.pyin(y, fmin=70, fmax=1000, sr=22050, frame_length=2048, hop_length=256)
    t = librosa.times_like(f0, sr=22050, hop_length=256)
    errs, voiced = [], []
    for n in res.notes:
        d = n.offset_s - n.onset_s
        f = f0[(t >= n.onset_s + 0.2 * d) & (t <= n.offset_s - 0.2 * d)]
        ok = np.isfinite(f)
        voiced.append(float(ok.mean()))
        cents = 1200 * np.log2(f[ok] / (440 * 2 ** ((n.pitch - 69) / 12)))
        errs.append(float(np.median(np.abs(cents))) if ok.any() else np.inf)
    return errs, voiced


@pytest.mark.parametrize(("lyrics", "voice", "transpose", "lang"), [
    (list("月亮代表心"), "female", 0, "zh"),
    (["hel-", "lo", "moon", "ri-", "ver"], "male", -12, "en"),
])
def test_sings_on_pitch(lyrics, voice, transpose, lang):
    res = sing(_score(lyrics, transpose=transpose), voice=voice, seed=0)
    a = res.audio
    assert a.sr == 44100 and a.channels == 1 and a.is_finite()
    assert 0.3 < a.peak() <= 0.9
    assert res.lang == lang and res.warnings == []
    assert [n.pitch for n in res.notes] == [p + transpose for p, _ in MELODY]
    assert [n.syllable for n in res.notes] == [x.rstrip("-") for x in lyrics]
    for n in res.notes:
        assert abs(n.vowel_onset_s - n.onset_s) <= 0.03
    errs, voiced = _pitch_errors(res)
    assert max(errs) <= 30, errs            # cents, stable middle of each note
    assert min(voiced) >= 0.9, voiced
    # before the first consonant only a soft breath (t=0 is score time 0)
    before = a.samples[0, : int((res.notes[0].onset_s - 0.16) * a.sr)]
    assert np.sqrt(np.mean(before**2)) < 0.03
    assert a.duration_s >= res.notes[-1].offset_s


def test_melisma_holds_the_vowel_and_missing_lyrics_sing_la():
    s = _score(["月", "-", None, "亮", "代"], bpm=120)
    s.tracks[0].notes[2].onset += 0.5  # a rest before the lyric-less note: not a melisma
    s.tracks[0].notes[2].duration -= 0.5
    res = sing(s)
    assert [n.syllable for n in res.notes] == ["月", "-", "la", "亮", "代"]
    assert res.notes[1].vowel_onset_s == res.notes[1].onset_s
    assert any("no lyric" in w and "'la'" in w for w in res.warnings)


def test_no_lyrics_at_all_sings_la_with_one_warning_and_range_is_fixed_by_octaves():
    res = sing(_score([None] * 5, transpose=-24), voice="female")
    assert {n.syllable for n in res.notes} == {"la"}
    assert any("no lyrics" in w for w in res.warnings)
    assert any("1 octave up" in w for w in res.warnings)
    lo, hi = VOICES["female"].low, VOICES["female"].high
    assert all(lo <= n.pitch <= hi for n in res.notes)


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ParameterError, match="no notes"):
        sing(Score())
    s = Score()
    s.add_track(Track("a")).notes.append(Note(60, 0, 1))
    s.add_track(Track("b")).notes.append(Note(64, 0, 1))
    with pytest.raises(ParameterError, match="no melody"):
        sing(s)
    drums = Score()
    drums.add_track(Track("kit", is_drum=True, role="drums")).notes.append(Note(36, 0, 1))
    with pytest.raises(ParameterError):
        sing(drums)
    with pytest.raises(ParameterError, match="voice"):
        sing(_score(list("月亮代表心")), voice="alto")
    with pytest.raises(ParameterError, match="language"):
        sing(_score(list("月亮代表心")), lang="fr")


def test_sing_file_writes_wav_atomically_and_refuses_to_overwrite(tmp_path):
    src = save_score(_score(["la"] * 5), tmp_path / "song.mid")
    out = tmp_path / "vocal.wav"
    res = sing_file(src, out)
    y, sr = sf.read(out)
    assert sr == 44100 and len(y) == res.audio.n_samples
    with pytest.raises(OutputExistsError):
        sing_file(src, out)
    with pytest.raises(YuefuError):
        sing_file(tmp_path / "missing.mid", tmp_path / "x.wav")


def test_cli_sing(tmp_path, capsys):
    src = save_score(_score(["sing", "a", "-", "song", None]), tmp_path / "song.musicxml")
    out = tmp_path / "vocal.wav"
    assert main(["sing", str(src), "-o", str(out), "--voice", "male"]) == 0
    assert out.exists() and "wrote" in capsys.readouterr().out
    assert main(["sing", str(src), "-o", str(out)]) == 2          # exists, no --force
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err
    assert main(["sing", str(src), "-o", str(out), "--force", "-q"]) == 0
    assert capsys.readouterr().out == ""
    empty = save_score(Score(tempos=[Tempo(0, 120)]), tmp_path / "empty.mid")
    assert main(["sing", str(empty), "-o", str(tmp_path / "e.wav")]) == 2
    assert main(["sing", str(src), "-o", str(tmp_path / "v.wav"), "--voice", "alto"]) == 2


def test_a_melody_plus_a_lyrics_file(tmp_path, capsys):
    """`--lyrics FILE` lays a text on a melody without lyrics: characters, pinyin or English."""
    from yuefu.sing import attach_lyrics

    melody = _score([None] * 5)
    zh, w = attach_lyrics(melody, "[verse]\n# a comment\n月亮代表心\n")
    assert [n.lyric for n in zh.tracks[0].notes] == list("月亮代表心") and w == []
    assert melody.tracks[0].notes[0].lyric is None  # the input score is left alone
    py, _ = attach_lyrics(melody, "yue4 liang4 dai4 biao3 xin1")
    assert [n.lyric for n in py.tracks[0].notes][:2] == ["yue4", "liang4"]
    en, w = attach_lyrics(melody, "the river")
    assert [n.lyric for n in en.tracks[0].notes] == ["the", "riv-", "er", "-", "-"]
    assert "hold the last vowel" in w[0]
    with pytest.raises(ParameterError, match="8 syllables but track 'vocal' has 5 notes"):
        attach_lyrics(melody, "the river runs down to the sea")
    with pytest.raises(ParameterError, match="no words"):
        attach_lyrics(melody, "[chorus]\n\n# nothing\n")

    src = save_score(melody, tmp_path / "melody.mid")
    lyr = tmp_path / "words.txt"
    lyr.write_text("月亮代表心\n", encoding="utf-8")
    out = tmp_path / "v.wav"
    assert main(["sing", str(src), "--lyrics", str(lyr), "-o", str(out), "-q"]) == 0
    assert out.exists()
    lyr.write_bytes(b"\xff\xfe\x00bad")
    assert main(["sing", str(src), "--lyrics", str(lyr), "-o", str(tmp_path / "w.wav")]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert not (tmp_path / "w.wav").exists()


def test_a_sonorant_onset_does_not_leak_the_vowel_before_the_beat():
    # regression: 路 (l+u) after 小 in fast legato eighths read as a vowel 229 ms early, the l as
    # loud as the vowels around it; now the l is sung short and clearly softer (300-4000 Hz)
    from scipy.signal import butter, sosfiltfilt

    melody = [(55, 0.5), (57, 0.5), (59, 1.5)]
    res = sing(_score(["小", "路", "上"], melody, bpm=132), voice="male", seed=0)
    y, sr = res.audio.samples[0].astype(np.float64), res.audio.sr
    band = sosfiltfilt(butter(4, [300, 4000], btype="bandpass", fs=sr, output="sos"), y)

    def level_db(t0: float, t1: float) -> float:
        seg = band[int(t0 * sr):int(t1 * sr)]
        return 10 * np.log10(np.mean(seg**2) + 1e-20)

    lu = res.notes[1]
    d = lu.offset_s - lu.onset_s
    vowel = level_db(lu.onset_s + 0.2 * d, lu.offset_s - 0.2 * d)
    assert lu.vowel_onset_s == lu.onset_s
    # the l, in the 45 ms before the onset (a fifth of the previous note), dips well below it
    dip = min(level_db(t, t + 0.01) for t in np.arange(lu.onset_s - 0.045, lu.onset_s - 0.01, 0.002))
    assert dip <= vowel - 9.0, (dip, vowel)  # dB
