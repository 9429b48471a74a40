"""The song-identification API: add recordings to a catalog, query a clip, delete, stats.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with open_catalog(d / "catalog.db", create=True) as cat:
...     cat.stats().tracks
0
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yuefu.core.audio import Audio
from yuefu.core.errors import ParameterError, YuefuError
from yuefu.core.files import sha256_file
from yuefu.core.io.audio import AUDIO_READ_EXTS, audio_info, iter_audio_blocks, read_audio
from yuefu.listen.identify.fingerprint import (
    FingerprintConfig,
    check_query_audio,
    find_peaks,
    find_peaks_stream,
    fingerprint_peaks,
)
from yuefu.listen.identify.match import MatchSettings, match_peaks
from yuefu.listen.identify.store import NewTrack, Store, open_store

__all__ = ["Catalog", "open_catalog", "Match", "QueryResult", "IngestReport", "CatalogStats",
           "collect_audio_files"]

#: ``progress(fraction, message)``, as elsewhere in yuefu
ProgressCallback = Callable[[float, str], None]


@dataclass(frozen=True)
class Match:
    """An identified track.

    Attributes
    ----------
    track : str
        The track's name (its file name without the extension).
    path : str
        The file it was added from.
    offset_s : float
        Where in the track the clip starts, seconds.
    confidence : float
        0..1.
    speed : float
        Playback speed of the clip relative to the track (1.03: 3% faster).
    aligned : int
        Hashes that agree on the offset.
    """

    track: str
    path: str
    offset_s: float
    confidence: float
    speed: float
    aligned: int

    def to_dict(self) -> dict[str, Any]:
        return {"track": self.track, "offset_s": round(self.offset_s, 2),
                "confidence": round(self.confidence, 3), "speed": round(self.speed, 3),
                "path": self.path, "aligned_hashes": self.aligned}


@dataclass(frozen=True)
class QueryResult:
    """The answer to a query: ``match`` is ``None`` for "no match"."""

    match: Match | None
    seconds: float
    n_peaks: int
    n_hashes: int
    best_aligned: int = 0
    second_aligned: int = 0
    candidate: str | None = None  # the best-scoring track, accepted or not (for diagnostics)
    best_spread: float = 0.0  # its time-diverse aligned count (see MatchSettings)
    second_spread: float = 0.0  # the best time-diverse count among the other verified tracks
    accepted_by: str = ""  # "hashes" or "peaks" (the peak-level verification), "" for no match

    def to_dict(self) -> dict[str, Any]:
        m = self.match
        return {"match": None if m is None else {"track": m.track, "offset_s": round(m.offset_s, 2),
                                                 "confidence": round(m.confidence, 3)}}


@dataclass
class IngestReport:
    """What :meth:`Catalog.add` did."""

    added: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    audio_s: float = 0.0
    seconds: float = 0.0


@dataclass(frozen=True)
class CatalogStats:
    """Size of a catalog."""

    location: str
    backend: str
    tracks: int
    hashes: int
    audio_s: float
    size_bytes: int

    @property
    def bytes_per_hour(self) -> float:
        return self.size_bytes / (self.audio_s / 3600.0) if self.audio_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "backend": self.backend, "tracks": self.tracks,
                "hashes": self.hashes, "audio_hours": round(self.audio_s / 3600.0, 3),
                "size_mb": round(self.size_bytes / 1e6, 2),
                "mb_per_hour": round(self.bytes_per_hour / 1e6, 2)}


def collect_audio_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to ingest: the given files, and the audio files under the given folders (sorted).

    Returns the files and ``(path, reason)`` for every given path that is missing.
    """
    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*")
                                if q.is_file() and q.suffix.lower() in AUDIO_READ_EXTS))
        elif p.exists():
            files.append(p)
        else:
            missing.append((str(p), "no such file or folder"))
    return files, missing


#: Files longer than this are read and fingerprinted block by block (memory stays flat).
STREAM_ABOVE_S = 300.0


def _fingerprint_file(path: str, digest: str, cfg: FingerprintConfig) -> NewTrack | tuple[str, str]:
    """Worker: read and fingerprint one file; a user error comes back as (path, reason).

    A file longer than :data:`STREAM_ABOVE_S` is streamed (:func:`find_peaks_stream` over
    :func:`~yuefu.core.io.audio.iter_audio_blocks`): an hour-long recording needs memory for
    one two-minute segment and its peaks, not for its samples.
    """
    try:
        info = audio_info(path)
        if info.duration_s > STREAM_ABOVE_S:
            pk, n_samples, peak = find_peaks_stream(iter_audio_blocks(path, block_s=10.0), info.sr, cfg)
            if peak < 1e-4:
                return (path, "silent (peak below -80 dBFS)")
            fp = fingerprint_peaks(pk, n_samples / info.sr, cfg)
        else:
            audio = read_audio(path)
            if audio.peak() < 1e-4:
                return (path, "silent (peak below -80 dBFS)")
            pk = find_peaks(audio, cfg)
            fp = fingerprint_peaks(pk, audio.duration_s, cfg)
        if fp.hashes.size == 0:
            return (path, "no spectral peaks found (silence or noise only)")
        key = np.unique((fp.hashes << 24) | fp.times.astype(np.int64))
        return NewTrack(name=Path(path).stem, path=path, digest=digest, duration_s=fp.duration_s,
                        hashes=key >> 24, times=(key & 0xFFFFFF).astype(np.int32),
                        peak_t=pk.t, peak_f=pk.f)
    except YuefuError as e:  # the report names the file: the reason need not say it again
        why = str(e)
        return (path, why[len(path) + 2:] if why.startswith(f"{path}: ") else why)
    except MemoryError:
        return (path, "out of memory while reading")


class Catalog:
    """A song catalog: ``add`` recordings, ``query`` clips, ``delete`` tracks, ``stats``.

    Use :func:`open_catalog` to make one. Close it (or use it in a ``with`` block) when done.
    """

    def __init__(self, store: Store, *, settings: MatchSettings | None = None):
        self.store = store
        self.settings = settings or MatchSettings()
        self._n_tracks: int | None = None  # cached for the stop-list; reset by add and delete

    @property
    def config(self) -> FingerprintConfig:
        return self.store.config

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    # -- add ---------------------------------------------------------------------------------

    def add(self, paths: Iterable[str | os.PathLike[str]], *, jobs: int | None = None,
            batch_tracks: int = 64, batch_hashes: int = 2_000_000,
            progress: ProgressCallback | None = None) -> IngestReport:
        """Fingerprint audio files (or every audio file under folders) into the catalog.

        Fingerprinting runs in ``jobs`` worker processes (default: every core); this process
        writes. A file already in the catalog (same content) is not added twice; an unreadable
        file is skipped and listed with its reason. Tracks are committed in batches of
        ``batch_tracks`` (or fewer, once they hold ``batch_hashes`` hashes), each batch one
        transaction: an interrupted ingest keeps whole tracks. A batch rewrites the last part of
        every hash it holds, so larger batches ingest faster.

        Parameters
        ----------
        paths : iterable of path
        jobs : int, optional
        batch_tracks : int
        batch_hashes : int
        progress : callable(fraction, message), optional

        Returns
        -------
        IngestReport
        """
        t0 = time.perf_counter()
        files, missing = collect_audio_files(paths)
        rep = IngestReport(skipped=list(missing))
        known = self.store.digests()
        todo: list[tuple[str, str]] = []
        seen: set[str] = set()
        for f in files:
            try:
                d = sha256_file(f)
            except OSError as e:
                rep.skipped.append((str(f), f"cannot read the file ({e.strerror or e})"))
                continue
            if d in known or d in seen:
                rep.duplicates.append(str(f))
                continue
            seen.add(d)
            todo.append((str(f), d))
        n_jobs = max(1, int(jobs or os.cpu_count() or 1))
        if jobs is not None and jobs < 1:
            raise ParameterError(f"jobs must be >= 1, got {jobs}")
        total = max(1, len(todo))
        done = 0
        pending: list[NewTrack] = []

        def flush() -> None:
            if pending:
                self.store.add_tracks(pending)
                for tr in pending:
                    rep.added.append(tr.path)
                    rep.audio_s += tr.duration_s
                pending.clear()

        def take(res: NewTrack | tuple[str, str]) -> None:
            nonlocal done
            done += 1
            if isinstance(res, NewTrack):
                pending.append(res)
                if len(pending) >= batch_tracks or sum(t.hashes.shape[0] for t in pending) >= batch_hashes:
                    flush()
            else:
                rep.skipped.append(res)
            if progress is not None:
                progress(done / total, Path(res.path if isinstance(res, NewTrack) else res[0]).name)

        cfg = self.config
        if n_jobs == 1 or len(todo) <= 1:
            for path, d in todo:
                take(_fingerprint_file(path, d, cfg))
        else:
            with ProcessPoolExecutor(max_workers=n_jobs) as ex:
                it = iter(todo)
                running: set[Future[Any]] = set()
                for path, d in it:  # keep the pool busy, results bounded in memory
                    running.add(ex.submit(_fingerprint_file, path, d, cfg))
                    if len(running) >= 2 * n_jobs:
                        finished, running = _wait_some(running)
                        for fu in finished:
                            take(fu.result())
                while running:
                    finished, running = _wait_some(running)
                    for fu in finished:
                        take(fu.result())
        flush()
        self._n_tracks = None
        if rep.added:
            self.store.optimize()
        rep.seconds = time.perf_counter() - t0
        return rep

    # -- query -------------------------------------------------------------------------------

    def query(self, clip: str | os.PathLike[str] | Audio) -> QueryResult:
        """Identify a clip (a file or :class:`~yuefu.core.audio.Audio`).

        Returns
        -------
        QueryResult
            ``match`` names the track, the offset of the clip in it and a confidence, or is
            ``None`` ("no match").

        Raises
        ------
        AudioLoadError
            Unreadable file, a clip shorter than 1 s, or silence.
        """
        t0 = time.perf_counter()
        if isinstance(clip, Audio):
            audio, name = clip, "query"
        else:
            audio, name = read_audio(Path(clip)), str(clip)
        check_query_audio(audio, name)
        peaks = find_peaks(audio, self.config)
        if peaks.t.shape[0] < 2:  # not silent (checked above), but nothing stands out: no match
            return QueryResult(None, time.perf_counter() - t0, int(peaks.t.shape[0]), 0)
        if self._n_tracks is None:
            self._n_tracks = self.store.counts()[0]
        cand = match_peaks(self.store, peaks, settings=self.settings, config=self.config,
                           n_tracks=self._n_tracks)
        if cand is None:
            return QueryResult(None, time.perf_counter() - t0, int(peaks.t.shape[0]), 0)
        match = None
        rec = self.store.tracks([cand.track_id])
        if cand.accepted:
            if rec:
                match = Match(track=rec[0].name, path=rec[0].path,
                              offset_s=cand.offset_frames * self.config.frame_s,
                              confidence=cand.confidence, speed=cand.speed, aligned=cand.aligned)
        return QueryResult(match, time.perf_counter() - t0, int(peaks.t.shape[0]),
                           cand.n_query_hashes, cand.aligned, cand.second,
                           rec[0].name if rec else None, cand.spread, cand.second_spread,
                           cand.by if match is not None else "")

    # -- delete, stats -----------------------------------------------------------------------

    def delete(self, keys: Sequence[str]) -> list[str]:
        """Delete tracks named by name, path or content digest; returns the deleted paths.

        Raises
        ------
        ParameterError
            A key matches no track (nothing is deleted then).
        """
        ids: dict[int, str] = {}
        for k in keys:
            recs = self.store.find_tracks(str(k))
            if not recs and Path(k).exists() and Path(k).is_file():
                recs = self.store.find_tracks(sha256_file(Path(k)))
            if not recs:
                raise ParameterError(f"{k}: no such track in {self.store.location} "
                                     "(give a track name, its path or its file)")
            ids.update({r.id: r.path for r in recs})
        self.store.delete_tracks(sorted(ids))
        self._n_tracks = None
        return [ids[i] for i in sorted(ids)]

    def tracks(self) -> list[Any]:
        return self.store.tracks()

    def stats(self) -> CatalogStats:
        n, h, d = self.store.counts()
        backend = type(self.store).__name__.replace("Store", "").lower()
        return CatalogStats(self.store.location, backend, n, h, d, self.store.size_bytes())


def _wait_some(running: set[Future[Any]]) -> tuple[set[Future[Any]], set[Future[Any]]]:
    done, rest = wait(running, return_when=FIRST_COMPLETED)
    return set(done), set(rest)


def open_catalog(db: str | os.PathLike[str], *, create: bool = False,
                 config: FingerprintConfig | None = None,
                 settings: MatchSettings | None = None) -> Catalog:
    """Open the catalog ``db``: an SQLite file path (default backend) or ``postgresql://...``.

    Parameters
    ----------
    db : str or path
    create : bool
        Make a new catalog when ``db`` does not exist yet.
    config : FingerprintConfig, optional
        Fingerprint settings of a new catalog.
    settings : MatchSettings, optional
        Query search and acceptance settings.

    Raises
    ------
    CatalogError
        Missing catalog (without ``create``), not a catalog, or cannot connect.
    """
    store = open_store(db if isinstance(db, str) else Path(db), create=create, config=config)
    return Catalog(store, settings=settings)
