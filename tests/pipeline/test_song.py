"""`yuefu song` end to end: the project folder, determinism, resume, bad input."""

from __future__ import annotations

import json

import pytest

from yuefu.cli import main
from yuefu.core.io import read_midi, read_musicxml

ARTEFACTS = ("spec.toml", "pipeline.toml", "motive.json", "lyrics.txt", "lyrics_candidates.json",
             "melody.mid", "chords.json", "song.mid", "song.musicxml", "lyrics.lrc", "song.wav",
             "report.json")


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("yuefu: error: ") and "\n" not in err, err
    return err


@pytest.fixture(scope="module")
def en_song(tmp_path_factory):
    out = tmp_path_factory.mktemp("song") / "en"
    assert main(["song", "lanterns on the river", "--emotion", "nostalgic", "--style", "ballad",
                 "--length-s", "40", "--seed", "3", "-o", str(out), "-q"]) == 0
    return out


def test_project_folder(en_song):
    for name in ARTEFACTS:
        assert (en_song / name).is_file(), name
    report = json.loads((en_song / "report.json").read_text())
    st = report["stages"]
    assert set(st) == {"motive", "lyrics", "melody", "harmony", "arrange", "render", "sing", "mix"}
    assert st["motive"]["reasons"]["key"] and st["motive"]["reasons"]["tempo_bpm"]
    assert st["lyrics"]["candidates"] == 30
    assert st["lyrics"]["rhyme_rate"] >= 0.8
    assert st["melody"]["syllables_with_a_note"] == st["melody"]["syllables"]
    assert st["melody"]["in_key_ratio"] >= 0.95
    assert st["harmony"]["chord_tone_ratio"] >= 0.85
    assert "intro" in st["arrange"]["form"] and "outro" in st["arrange"]["form"]
    assert st["mix"]["loudness"]["integrated_lufs"] == pytest.approx(-14, abs=0.5)
    assert st["mix"]["loudness"]["true_peak_dbtp"] <= -1.0 + 1e-6
    candidates = json.loads((en_song / "lyrics_candidates.json").read_text())
    assert len({c["text"] for c in candidates}) == 30
    # the singer sang every word it was given (multi-syllable words arrive as "riv-", "er")
    assert st["sing"]["voice"] == "female" and st["sing"]["notes"] > 20
    assert st["sing"]["warnings"] == []


def test_the_vocal_is_sung_and_sits_above_the_band(en_song, tmp_path):
    """stems/vocal.wav is the singer's (mono), not the melody instrument's (stereo), and in the
    mix it is louder than everything else together."""
    import soundfile as sf

    from yuefu.render import default_mix_settings, measure_file, mix_stems

    assert sf.info(str(en_song / "stems" / "vocal.wav")).channels == 1
    song = read_midi(en_song / "song.mid")
    stems = {t.name: en_song / "stems" / f"{t.name}.wav" for t in song.tracks}
    sets = {t.name: default_mix_settings(t) for t in song.tracks}
    loud = {}
    for part, names in (("vocal", ["vocal"]), ("band", [n for n in stems if n != "vocal"])):
        out = mix_stems({n: stems[n] for n in names}, {n: sets[n] for n in names},
                        tmp_path / f"{part}.wav")
        loud[part] = measure_file(out).integrated_lufs
    assert 1.0 <= loud["vocal"] - loud["band"] <= 8.0, loud


def test_instrumental_song_has_no_singer(tmp_path):
    import soundfile as sf

    out = tmp_path / "inst"
    assert main(["song", "rain", "--instrumental", "--length-s", "30", "-o", str(out), "-q"]) == 0
    st = json.loads((out / "report.json").read_text())["stages"]
    assert "sing" not in st and "mix" in st
    assert sf.info(str(out / "stems" / "vocal.wav")).channels == 2  # the melody instrument


def test_lead_sheet_has_lyrics_and_chords(en_song):
    sheet = read_musicxml(en_song / "song.musicxml")
    assert len(sheet.tracks) == 1 and sheet.tracks[0].name == "vocal"
    assert sum(1 for n in sheet.tracks[0].notes if n.lyric and n.lyric != "-") > 20
    assert len(sheet.chords) >= 8
    song = read_midi(en_song / "song.mid")
    assert len(song.tracks) >= 4 and any(t.is_drum for t in song.tracks)


def test_same_seed_same_song(en_song, tmp_path):
    out = tmp_path / "again"
    assert main(["song", "lanterns on the river", "--emotion", "nostalgic", "--style", "ballad",
                 "--length-s", "40", "--seed", "3", "-o", str(out), "-q"]) == 0
    for name in ("lyrics.txt", "melody.mid", "chords.json", "song.mid"):
        assert (out / name).read_bytes() == (en_song / name).read_bytes(), name


def test_edit_lyrics_and_resume_from_melody(en_song, tmp_path, capsys):
    import shutil

    proj = tmp_path / "edit"
    shutil.copytree(en_song, proj)
    (proj / "lyrics.txt").write_text("[verse]\nthe sun goes down behind the hill\n"
                                     "and all the birds are sleeping still\n"
                                     "[chorus]\nsing with me tonight\nsing with me till light\n")
    assert main(["run", str(proj / "pipeline.toml"), "-o", str(proj), "--from", "melody", "-q"]) == 0
    melody = read_midi(proj / "melody.mid")
    sung = [n.lyric for n in melody.lyric_track().notes if n.lyric != "-"]
    assert len(sung) == 8 + 8 + 5 + 5  # syllables of the four edited lines
    song = read_midi(proj / "song.mid")  # the arrangement and the audio followed the edit
    assert [n.lyric for n in song.lyric_track().notes if n.lyric != "-"] == sung
    assert "sleep" in (proj / "lyrics.lrc").read_text()
    assert (proj / "song.wav").stat().st_mtime_ns > (proj / "lyrics.txt").stat().st_mtime_ns


def test_chinese_song(tmp_path):
    out = tmp_path / "zh"
    assert main(["song", "夏夜的海边", "--emotion", "nostalgic", "--style", "folk", "--lang", "zh",
                 "--length-s", "40", "-o", str(out), "-q"]) == 0
    report = json.loads((out / "report.json").read_text())["stages"]
    assert report["motive"]["palette"] == "pentatonic"
    assert report["melody"]["tone_agreement"] is not None
    assert report["lyrics"]["rhyme_rate"] >= 0.8
    text = (out / "lyrics.txt").read_text(encoding="utf-8")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("argv, needle", [
    (["song", "", "-o", "OUT"], "theme is empty"),
    (["song", "🎵🎶🌊", "-o", "OUT"], "no words"),
    (["song", "x" * 10_000, "-o", "OUT"], "characters long"),
    (["song", "rain", "--emotion", "grumpy", "-o", "OUT"], "happy, sad, calm"),
    (["song", "rain", "--style", "polka", "-o", "OUT"], "pop, ballad, folk"),
    (["song", "rain", "--length-s", "100000", "-o", "OUT"], "length_s"),
    (["lyrics", "rain", "--n", "0"], "n must be"),
])
def test_bad_requests(argv, needle, tmp_path, capsys):
    argv = [a.replace("OUT", str(tmp_path / "out")) for a in argv]
    assert main(argv) == 2
    assert needle in _err(capsys)
    assert not (tmp_path / "out").exists()


def test_lyrics_file_without_usable_lines(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("[verse]\n\n   \n[chorus]\n")
    assert main(["song", "rain", "--lyrics", str(bad), "-o", str(tmp_path / "out")]) == 2
    assert "bad.txt" in _err(capsys)
    assert not (tmp_path / "out" / "lyrics.txt").exists()
    assert not (tmp_path / "out" / "song.wav").exists()


def test_own_lyrics(tmp_path):
    mine = tmp_path / "mine.txt"
    mine.write_text("[verse]\nwalking home along the shore\nI can hear the ocean roar\n"
                    "[chorus]\nhold the night\nhold it tight\n")
    out = tmp_path / "out"
    assert main(["song", "the sea", "--lyrics", str(mine), "-o", str(out), "-q"]) == 0
    assert "ocean roar" in (out / "lyrics.txt").read_text()
    report = json.loads((out / "report.json").read_text())["stages"]
    assert report["lyrics"]["source"].endswith("mine.txt")


def test_lyrics_command(capsys):
    assert main(["lyrics", "月光", "--lang", "zh", "--length-s", "30", "--n", "5", "--json"]) == 0
    songs = json.loads(capsys.readouterr().out)
    assert len(songs) == 5 and len({s["text"] for s in songs}) == 5
    assert [s["rank"] for s in songs] == [1, 2, 3, 4, 5]
    assert songs[0]["score"] >= songs[-1]["score"]


@pytest.mark.parametrize("style, lang", [("pop", "en"), ("ballad", "zh"), ("children", "en")])
def test_form_fits_the_requested_length(style, lang):
    from yuefu.compose import choose_motive
    from yuefu.core.spec import SongSpec
    from yuefu.pipeline.song import fit_form

    estimates = []
    for length in (45.0, 90.0, 180.0):
        spec = SongSpec(theme="rain", style=style, language=lang, length_s=length, seed=1)
        form, est = fit_form(spec, choose_motive(spec, lexical_seeds=()))
        estimates.append(est)
        assert any(p.kind == "chorus" for p in form)
    assert estimates == sorted(estimates)
    assert estimates[2] == pytest.approx(180.0, rel=0.25)


def test_song_length_in_report(en_song):
    st = json.loads((en_song / "report.json").read_text())["stages"]
    assert st["arrange"]["duration_s"] == pytest.approx(40.0, rel=0.4)
    assert st["lyrics"]["form_estimate_s"] == pytest.approx(st["arrange"]["duration_s"], rel=0.15)


def test_voice_range_is_adjustable(tmp_path, capsys):
    out = tmp_path / "low"
    assert main(["song", "rain", "--style", "pop", "--length-s", "30", "--range", "C3-C4",
                 "-o", str(out), "-q"]) == 0
    notes = read_midi(out / "melody.mid").lyric_track().notes
    assert min(n.pitch for n in notes) >= 48 and max(n.pitch for n in notes) <= 60
    motive = json.loads((out / "motive.json").read_text())
    assert motive["voice_range"] == [48, 60] and "C3-C4" in motive["reasons"]["voice_range"]
    assert main(["song", "rain", "--range", "C4-D4", "-o", str(tmp_path / "x")]) == 2
    assert "at least a fifth" in _err(capsys)
    assert main(["song", "rain", "--range", "high", "-o", str(tmp_path / "y")]) == 2
    assert "A3-E5" in _err(capsys)
