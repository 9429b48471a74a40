"""Safe outputs: atomic files and folders, refusal to overwrite, input checks."""

from __future__ import annotations

import os
import stat

import pytest

from yuefu.core.errors import OutputExistsError, ParameterError, YuefuError
from yuefu.core.files import atomic_dir, atomic_output, check_input, check_output


class Boom(RuntimeError):
    pass


def _names(folder) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


# -- atomic_output -------------------------------------------------------------------------------


def test_atomic_output_success_moves_into_place(tmp_path):
    dest = tmp_path / "song.wav"
    with atomic_output(dest) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.suffix == ".wav"  # writers that pick a format by extension still work
        assert tmp != dest
        assert not dest.exists()  # nothing at the destination while the block runs
        tmp.write_bytes(b"RIFF data")
    assert dest.read_bytes() == b"RIFF data"
    assert _names(tmp_path) == {"song.wav"}


def test_atomic_output_creates_missing_folders(tmp_path):
    dest = tmp_path / "a" / "b" / "out.txt"
    with atomic_output(dest) as tmp:
        tmp.write_text("x")
    assert dest.read_text() == "x"


def test_atomic_output_exception_leaves_nothing(tmp_path):
    dest = tmp_path / "song.mid"
    with pytest.raises(Boom), atomic_output(dest) as tmp:
        tmp.write_bytes(b"half a file")
        raise Boom()
    assert not dest.exists()
    assert _names(tmp_path) == set()


def test_atomic_output_exception_keeps_the_old_file(tmp_path):
    dest = tmp_path / "song.mid"
    dest.write_bytes(b"old")
    with pytest.raises(Boom), atomic_output(dest, force=True) as tmp:
        tmp.write_bytes(b"new")
        raise Boom()
    assert dest.read_bytes() == b"old"
    assert _names(tmp_path) == {"song.mid"}


def test_atomic_output_refuses_existing_destination_by_default(tmp_path):
    # regression: force defaulted to True, so a bare atomic_output overwrote silently
    dest = tmp_path / "song.wav"
    dest.write_bytes(b"precious")
    with pytest.raises(OutputExistsError) as exc, atomic_output(dest) as tmp:
        tmp.write_bytes(b"new")
    assert "already exists" in str(exc.value) and "--force" in str(exc.value)
    assert str(dest) in str(exc.value)
    assert isinstance(exc.value, YuefuError) and isinstance(exc.value, FileExistsError)
    assert dest.read_bytes() == b"precious"
    assert _names(tmp_path) == {"song.wav"}


def test_atomic_output_refusal_runs_no_block(tmp_path):
    dest = tmp_path / "song.wav"
    dest.write_bytes(b"precious")
    ran = []
    with pytest.raises(OutputExistsError), atomic_output(dest, force=False):
        ran.append(1)
    assert ran == []


def test_atomic_output_force_overwrites(tmp_path):
    dest = tmp_path / "song.wav"
    dest.write_bytes(b"old")
    with atomic_output(dest, force=True) as tmp:
        tmp.write_bytes(b"new")
    assert dest.read_bytes() == b"new"
    assert _names(tmp_path) == {"song.wav"}


def test_atomic_output_force_does_not_overwrite_a_folder(tmp_path):
    (tmp_path / "out.wav").mkdir()
    with pytest.raises(ParameterError, match="is a folder"), \
            atomic_output(tmp_path / "out.wav", force=True) as tmp:
        tmp.write_bytes(b"x")
    assert (tmp_path / "out.wav").is_dir()


@pytest.mark.parametrize("action", ["nothing", "empty", "delete"])
def test_atomic_output_block_that_writes_nothing(tmp_path, action):
    dest = tmp_path / "song.wav"
    with pytest.raises(OSError, match="produced no data"), atomic_output(dest) as tmp:
        if action == "empty":
            tmp.write_bytes(b"")
        elif action == "delete":
            tmp.unlink()
    assert _names(tmp_path) == set()


def test_atomic_output_result_has_normal_permissions(tmp_path, umask_022):
    # regression: the result kept mkstemp's 0600, unreadable to the group and the web studio
    with atomic_output(tmp_path / "a.txt") as tmp:
        tmp.write_text("x")
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    os.umask(0o077)
    with atomic_output(tmp_path / "b.txt") as tmp:
        tmp.write_text("x")
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o600


def test_check_output(tmp_path):
    assert check_output(tmp_path / "new.wav") == tmp_path / "new.wav"
    (tmp_path / "old.wav").write_bytes(b"x")
    with pytest.raises(OutputExistsError):
        check_output(tmp_path / "old.wav")
    assert check_output(tmp_path / "old.wav", force=True) == tmp_path / "old.wav"


# -- atomic_dir ----------------------------------------------------------------------------------


def test_atomic_dir_success(tmp_path):
    dest = tmp_path / "stems"
    with atomic_dir(dest) as tmp:
        assert tmp.parent == tmp_path and tmp.is_dir() and tmp != dest
        assert not dest.exists()
        (tmp / "vocal.wav").write_bytes(b"v")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "x").write_text("x")
    assert (dest / "vocal.wav").read_bytes() == b"v"
    assert (dest / "sub" / "x").read_text() == "x"
    assert _names(tmp_path) == {"stems"}


def test_atomic_dir_exception_leaves_nothing(tmp_path):
    dest = tmp_path / "stems"
    with pytest.raises(Boom), atomic_dir(dest) as tmp:
        (tmp / "vocal.wav").write_bytes(b"v")
        raise Boom()
    assert _names(tmp_path) == set()


def test_atomic_dir_refuses_existing_destination_without_force(tmp_path):
    # regression: atomic_dir had no force and deleted an existing folder silently
    dest = tmp_path / "stems"
    dest.mkdir()
    (dest / "keep.wav").write_bytes(b"keep")
    with pytest.raises(OutputExistsError, match="already exists"), atomic_dir(dest) as tmp:
        (tmp / "new.wav").write_bytes(b"new")
    assert _names(dest) == {"keep.wav"}
    assert _names(tmp_path) == {"stems"}


def test_atomic_dir_force_replaces_the_folder(tmp_path):
    dest = tmp_path / "stems"
    dest.mkdir()
    (dest / "old.wav").write_bytes(b"old")
    with atomic_dir(dest, force=True) as tmp:
        (tmp / "new.wav").write_bytes(b"new")
    assert _names(dest) == {"new.wav"}
    assert _names(tmp_path) == {"stems"}


def test_atomic_dir_force_replaces_a_file(tmp_path):
    # regression: an existing file at the destination made rmtree raise NotADirectoryError
    dest = tmp_path / "stems"
    dest.write_bytes(b"a file")
    with atomic_dir(dest, force=True) as tmp:
        (tmp / "new.wav").write_bytes(b"new")
    assert _names(dest) == {"new.wav"}
    assert _names(tmp_path) == {"stems"}


def test_atomic_dir_exception_keeps_the_old_folder(tmp_path):
    dest = tmp_path / "stems"
    dest.mkdir()
    (dest / "old.wav").write_bytes(b"old")
    with pytest.raises(Boom), atomic_dir(dest, force=True) as tmp:
        (tmp / "new.wav").write_bytes(b"new")
        raise Boom()
    assert _names(dest) == {"old.wav"}
    assert _names(tmp_path) == {"stems"}


def test_atomic_dir_result_has_normal_permissions(tmp_path, umask_022):
    # regression: the folder kept mkdtemp's 0700
    with atomic_dir(tmp_path / "stems") as tmp:
        (tmp / "a").write_text("x")
    assert stat.S_IMODE((tmp_path / "stems").stat().st_mode) == 0o755


# -- check_input ---------------------------------------------------------------------------------


def test_check_input(tmp_path):
    f = tmp_path / "song.mid"
    f.write_bytes(b"MThd")
    assert check_input(f) == f
    assert check_input(str(f)) == f
    with pytest.raises(ParameterError, match="no such MIDI file") as exc:
        check_input(tmp_path / "missing.mid", what="MIDI file")
    assert "missing.mid" in str(exc.value)
    with pytest.raises(ParameterError, match="no such input file"):
        check_input(tmp_path / "missing.mid")
    with pytest.raises(ParameterError, match="is a folder; expected a MIDI file"):
        check_input(tmp_path, what="MIDI file")
