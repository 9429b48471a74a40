"""Safe outputs: never overwrite without ``force``, never leave a half-written file behind.

Every writer in yuefu goes through :func:`atomic_output`: it hands out a temporary path in the
destination folder and renames it over the destination only when the block ends without error.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_output(d / "a.txt") as tmp:
...     _ = tmp.write_text("hello")
>>> (d / "a.txt").read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from yuefu.core.errors import OutputExistsError, ParameterError, YuefuError

__all__ = ["atomic_output", "atomic_dir", "check_output", "check_input", "read_input", "sha256_file"]


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (shipped weights, catalogued audio files)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _umask() -> int:
    """The process umask, read without changing it where the system allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere it can only be read by setting it; set it straight back
    os.umask(mask)
    return mask


def check_output(path: str | Path, *, force: bool = False) -> Path:
    """Refuse an existing output unless ``force``; make sure its folder can be created."""
    p = Path(path)
    if p.exists() and not force:
        raise OutputExistsError(f"{p} already exists; pass --force to overwrite it")
    if p.exists() and p.is_dir():
        raise ParameterError(f"{p} is a folder; give a file name for the output")
    return p


def check_input(path: str | Path, *, what: str = "input file",
                error: type[YuefuError] = ParameterError) -> Path:
    """An existing, non-folder input path, or ``error`` with a clear message."""
    p = Path(path)
    if not p.exists():
        raise error(f"{p}: no such {what}; check the path")
    if p.is_dir():
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise error(f"{p} is a folder; expected {article} {what}")
    return p


def read_input(path: str | Path, *, what: str = "input file",
               error: type[YuefuError] = ParameterError) -> bytes:
    """The bytes of an input file; a missing, folder or unreadable path raises ``error``."""
    p = check_input(path, what=what, error=error)
    try:
        return p.read_bytes()
    except OSError as e:
        raise error(f"{p}: cannot read the file ({e.strerror or e})") from None


@contextlib.contextmanager
def atomic_output(path: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place when the block succeeds.

    The temporary file keeps the destination's suffix so that writers choosing a format by
    extension (soundfile, music21, ffmpeg) still work. On any exception it is deleted. An
    existing ``path`` is refused with :class:`OutputExistsError` unless ``force``. The result
    gets the usual permissions of a new file (0666 less the umask), not the temporary's 0600.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is false (checked before the block runs).
    OSError
        The block left the temporary file missing or empty.
    """
    dest = check_output(path, force=force)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".part{dest.suffix}",
                                    dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise OSError(f"writing {dest} produced no data")
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder next to ``path``; it replaces ``path`` when the block succeeds.

    An existing ``path`` (folder or file) is refused with :class:`OutputExistsError` unless
    ``force``; with ``force`` it is set aside and removed only once the new folder is in place.
    On any exception the temporary folder is removed and ``path`` is left as it was.
    """
    dest = Path(path)
    if (dest.exists() or dest.is_symlink()) and not force:
        raise OutputExistsError(f"{dest} already exists; pass --force to overwrite it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        old: Path | None = None
        if dest.exists() or dest.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".old", dir=dest.parent))
            os.replace(dest, old / dest.name)
        try:
            os.replace(tmp, dest)
        except BaseException:
            if old is not None:  # put the previous output back
                os.replace(old / dest.name, dest)
            raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
