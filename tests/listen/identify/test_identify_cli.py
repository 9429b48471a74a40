"""`yuefu id add|query|stats|delete` through main(argv): outputs, JSON, exit codes, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from identify_helpers import SR, synth_song

from yuefu.cli import main


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("yuefu: error: "), err
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def cli_db(songs_dir, tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "catalog.db"
    assert main(["id", "add", str(songs_dir / "library"), "--db", str(db), "--jobs", "2", "-q"]) == 0
    return db


def test_add_reports_added_duplicates_and_skipped(cli_db, songs_dir, tmp_path, capsys):
    bad = tmp_path / "notes.mp3"
    bad.write_text("not audio at all")
    assert main(["id", "add", str(songs_dir / "library" / "song0.flac"), str(bad), "--db", str(cli_db)]) == 0
    cap = capsys.readouterr()
    assert "added 0 tracks" in cap.out and "1 already there" in cap.out and "1 skipped" in cap.out
    assert f"skipped {bad}:" in cap.err


def test_query_text_and_json(cli_db, tmp_path, capsys):
    clip = tmp_path / "clip.wav"
    sf.write(str(clip), synth_song(104)[4 * SR: 11 * SR], SR)
    assert main(["id", "query", str(clip), "--db", str(cli_db)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("song4 at 4.0 s (confidence "), out
    assert main(["id", "query", str(clip), "--db", str(cli_db), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert set(got["match"]) == {"track", "offset_s", "confidence"}
    assert got["match"]["track"] == "song4" and abs(got["match"]["offset_s"] - 4.0) <= 0.1
    assert 0 < got["match"]["confidence"] <= 1


def test_query_outside_clip_says_no_match(cli_db, tmp_path, capsys):
    clip = tmp_path / "other.wav"
    sf.write(str(clip), synth_song(4242)[: 8 * SR], SR)
    assert main(["id", "query", str(clip), "--db", str(cli_db)]) == 0
    assert capsys.readouterr().out.strip() == "no match"
    assert main(["id", "query", str(clip), "--db", str(cli_db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"match": None}


def test_stats_and_delete(songs_dir, tmp_path, capsys):
    db = tmp_path / "c.db"
    assert main(["id", "add", str(songs_dir / "library" / "song0.flac"),
                 str(songs_dir / "library" / "song1.flac"), "--db", str(db), "-q", "--jobs", "1"]) == 0
    assert main(["id", "stats", "--db", str(db), "--json", "--tracks"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["tracks"] == 2 and st["track_names"] == ["song0", "song1"] and st["backend"] == "sqlite"
    assert main(["id", "delete", "song0", "--db", str(db)]) == 0
    assert "deleted" in capsys.readouterr().out
    assert main(["id", "stats", "--db", str(db)]) == 0
    assert "tracks          1" in capsys.readouterr().out


@pytest.mark.parametrize("what", ["silence", "short", "not_audio", "missing"])
def test_bad_clips_exit_2_with_one_line(cli_db, tmp_path, capsys, what):
    clip = tmp_path / ("clip.wav" if what != "not_audio" else "clip.flac")
    if what == "silence":
        sf.write(str(clip), np.zeros(5 * SR, np.float32), SR)
        needle = "silent"
    elif what == "short":
        sf.write(str(clip), synth_song(101)[: SR // 2], SR)
        needle = "at least 1 s"
    elif what == "not_audio":
        clip.write_text("hello, I am a text file")
        needle = "not a readable audio file"
    else:
        needle = "no such"
    assert main(["id", "query", str(clip), "--db", str(cli_db)]) == 2
    assert needle in _one_line_error(capsys)


def test_db_that_is_not_a_catalog_exits_2(songs_dir, tmp_path, capsys):
    not_cat = tmp_path / "notes.txt"
    not_cat.write_text("shopping list")
    clip = songs_dir / "outside.flac"
    for argv in (["id", "query", str(clip), "--db", str(not_cat)],
                 ["id", "stats", "--db", str(not_cat)],
                 ["id", "add", str(clip), "--db", str(not_cat)]):
        assert main(argv) == 2
        assert "not a yuefu song catalog" in _one_line_error(capsys)
    assert main(["id", "stats", "--db", str(tmp_path / "none.db")]) == 2
    assert "no such catalog" in _one_line_error(capsys)
    assert not (tmp_path / "none.db").exists()
    assert main(["id"]) == 2
    assert "give an id command" in _one_line_error(capsys)


def test_catalog_of_format_v2_exits_2_with_how_to_rebuild(songs_dir, tmp_path, capsys):
    """Regression (format v3 stores each track's peaks): a v2 catalog is one line and exit 2
    that names the rebuild command, for every command, and is left as it was."""
    import sqlite3

    db = tmp_path / "v2.db"
    assert main(["id", "add", str(songs_dir / "library" / "song0.flac"), "--db", str(db), "-q"]) == 0
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    con.execute("DROP TABLE peaks")
    con.commit()
    con.close()
    before = db.read_bytes()
    clip = songs_dir / "outside.flac"
    for argv in (["id", "query", str(clip), "--db", str(db)], ["id", "stats", "--db", str(db)],
                 ["id", "add", str(clip), "--db", str(db)]):
        assert main(argv) == 2
        err = _one_line_error(capsys)
        assert "catalog format v2, this yuefu reads format v3" in err and "yuefu id add" in err, err
    assert db.read_bytes() == before
