"""Benchmark: song identification (yuefu.listen.identify) against audfprint, side by side.

Catalog: the first 60 s of POP909 songs rendered with FluidSynth (each track of a song gets a
General MIDI program drawn from a palette, seeded), plus the real music recordings in
``real_audio/librosa_data/audio``. Out-of-catalog songs: further POP909 songs rendered the same
way (hard negatives: same style, same SoundFont), never added.

Queries of 3, 5 and 10 s from random offsets under: white and babble noise (babble: six
LJSpeech utterances summed) at SNR 10, 5, 0 and -5 dB; reverberation (pyroomacoustics shoebox
rooms, RT60 0.3-0.8 s); MP3 at 64 kbps (ffmpeg/libmp3lame); speed +-2%, +-3.5% and +-5%
(resampled, so the pitch moves too; +-3.5% lies half-way between two points of the matcher's
1% speed grid); plus 10 s clips of out-of-catalog songs (clean and noisy). Every random choice
comes from one seeded generator.

Calibration (``--calibrate``): the acceptance thresholds of ``MatchSettings`` are chosen on a
separate query set (another seed, against the 100-track catalog) whose out-of-catalog clips
come from POP909 songs that the benchmark never uses as out-of-catalog songs; it prints the
ROC points and the rule with the most top-1 at <= 0.5% false accepts, then the ROC of the
peak-level rule (``peak_min``, ``peak_ratio``) applied where the code's hash rule refuses.

Ours: ``Catalog.query(path)`` on an SQLite catalog (read, fingerprint, look up, verify), one
query at a time on one core. Anchor: audfprint (dpwe/audfprint, run from a copy outside the
repository, ``--audfprint DIR``; default ``../audfprint`` or ``$AUDFPRINT``) with its default
settings, same catalog and query files; its ingest is timed on one core too.

Rendered audio is cached in ``--work`` (default ``~/.cache/yuefu-bench/identify``).

Usage::

    python benchmarks/identify.py --quick    # 100 catalog tracks, fewer queries
    python benchmarks/identify.py            # 500 catalog tracks
    python benchmarks/identify.py --quick --calibrate --per-cell 30   # the ROC of the thresholds
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from _machine import machine

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "datasets"
SF2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SR = 22050
TRACK_S = 60.0
REAL_MIN_S = 20.0
DURATIONS = (3.0, 5.0, 10.0)
SNRS = (10, 5, 0, -5)

# melody-ish, accompaniment-ish GM programs
MELODY_PROGRAMS = [0, 4, 11, 24, 25, 40, 41, 56, 60, 64, 65, 68, 71, 73, 80, 81]
ACCOMP_PROGRAMS = [0, 1, 2, 4, 5, 16, 19, 24, 26, 27, 46, 48, 49, 50, 88, 89]

TARGETS = [
    ("10 s, 0 dB (white and babble) top-1", ">= 98%"),
    ("10 s, -5 dB (white and babble) top-1", ">= 90%"),
    ("speed +-5% (10 s) top-1", ">= 95%"),
    ("false accepts (out of catalog)", "<= 0.5%"),
    ("query p95 (SQLite)", "<= 200 ms"),
]


# -- catalog audio ---------------------------------------------------------------------------

def _render_one(args: tuple[str, str, int]) -> str | None:
    import soundfile as sf
    import symusic

    mid, out, seed = args
    if Path(out).exists():
        return out
    rng = np.random.default_rng(seed)
    s = symusic.Score(mid).to("second").clip(0, TRACK_S, clip_end=True)
    for tr in s.tracks:
        pal = MELODY_PROGRAMS if tr.name.upper() == "MELODY" else ACCOMP_PROGRAMS
        tr.program = int(rng.choice(pal))
    with tempfile.TemporaryDirectory() as d:
        m, w = Path(d) / "x.mid", Path(d) / "x.wav"
        s.to("tick").dump_midi(str(m))
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(SR), "-F", str(w), SF2, str(m)],
                       check=True, capture_output=True)
        x, sr = sf.read(str(w), dtype="float32")
    x = x.mean(axis=1) if x.ndim == 2 else x
    x = x[: int((TRACK_S + 2.0) * sr)]
    if np.max(np.abs(x)) < 1e-3:
        return None
    x = 0.5 * x / np.max(np.abs(x))
    tmp = out + ".part.flac"
    sf.write(tmp, x, sr, subtype="PCM_16")
    os.replace(tmp, out)
    return out


def build_audio(work: Path, n_catalog: int, n_outside: int, jobs: int) -> tuple[list[Path], list[Path]]:
    """Render (or reuse) the catalog and the out-of-catalog songs; returns their files."""
    songs = sorted(p for p in (DATA / "pop909" / "POP909").iterdir() if p.is_dir())
    if not songs:
        sys.exit(f"no POP909 songs under {DATA}; this benchmark needs ../shared/datasets")
    rng = np.random.default_rng(909)
    order = rng.permutation(len(songs))
    n_real = len(real_recordings())
    n_pop = n_catalog - n_real
    cat_dir, out_dir = work / "catalog", work / "outside"
    cat_dir.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs_list = []
    # out-of-catalog songs come from the end of the permutation: the same for every catalog size
    picks = [(int(i), cat_dir) for i in order[:n_pop]] + [(int(i), out_dir) for i in order[-n_outside:]]
    for i, where in picks:
        sdir = songs[i]
        dest = where / f"pop909-{sdir.name}.flac"
        jobs_list.append((str(sdir / f"{sdir.name}.mid"), str(dest), 1000 + int(i)))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(jobs) as ex:
        res = list(ex.map(_render_one, jobs_list, chunksize=4))
    print(f"rendered/reused {len(res)} songs in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    cat = [Path(r) for r, j in zip(res, jobs_list, strict=True) if r and Path(j[1]).parent == cat_dir]
    out = [Path(r) for r, j in zip(res, jobs_list, strict=True) if r and Path(j[1]).parent == out_dir]
    return cat + real_recordings(), out


def real_recordings() -> list[Path]:
    import soundfile as sf

    d = DATA / "real_audio" / "librosa_data" / "audio"
    files = sorted(p for p in d.glob("*.ogg") if ".hq." not in p.name)
    return [p for p in files if sf.info(str(p)).duration >= REAL_MIN_S]


# -- queries ---------------------------------------------------------------------------------

def _load(path: Path) -> np.ndarray:
    from yuefu.core.io import read_audio

    a = read_audio(path)
    x = a.samples.mean(axis=0)
    if a.sr != SR:
        from scipy.signal import resample_poly

        x = resample_poly(x, SR, a.sr).astype(np.float32)
    return x


def _babble(rng: np.random.Generator, n: int, speech: list[np.ndarray]) -> np.ndarray:
    out = np.zeros(n, np.float32)
    for _ in range(6):
        s = speech[int(rng.integers(len(speech)))]
        s = np.tile(s, int(np.ceil(n / s.shape[0])) + 1)
        o = int(rng.integers(0, s.shape[0] - n))
        seg = s[o: o + n]
        out += seg / (np.std(seg) + 1e-9)
    return out


def _add_noise(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    ps = float(np.mean(x ** 2)) + 1e-12
    pn = float(np.mean(noise ** 2)) + 1e-12
    return x + noise * np.sqrt(ps / pn / 10 ** (snr_db / 10))


def _rirs(rng: np.random.Generator, n: int) -> list[tuple[float, np.ndarray]]:
    import pyroomacoustics as pra

    out = []
    for k in range(n):
        rt60 = 0.3 + 0.5 * k / max(1, n - 1)
        dim = np.array([rng.uniform(4, 9), rng.uniform(3, 7), rng.uniform(2.5, 3.5)])
        absorb, max_order = pra.inverse_sabine(rt60, dim)
        room = pra.ShoeBox(dim, fs=SR, materials=pra.Material(absorb), max_order=min(max_order, 30))
        room.add_source(dim * rng.uniform(0.2, 0.8, 3))
        room.add_microphone(dim * rng.uniform(0.2, 0.8, 3))
        room.compute_rir()
        h = np.asarray(room.rir[0][0], dtype=np.float64)
        out.append((rt60, h / np.max(np.abs(h))))
    return out


def _speed(seg: np.ndarray, n: int) -> np.ndarray:
    from scipy.signal import resample

    return resample(seg, n).astype(np.float32)


def _mp3(x: np.ndarray, tmp: Path) -> np.ndarray:
    import soundfile as sf

    w, m, w2 = tmp / "a.wav", tmp / "a.mp3", tmp / "b.wav"
    sf.write(str(w), x, SR)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(w), "-b:a", "64k", str(m)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(m), "-ar", str(SR), str(w2)], check=True)
    y, _ = sf.read(str(w2), dtype="float32")
    return y


def conditions() -> list[str]:
    c = ["clean"]
    c += [f"white {s:+d} dB" for s in SNRS]
    c += [f"babble {s:+d} dB" for s in SNRS]
    c += ["reverb RT60 0.3-0.8 s", "mp3 64 kbps"]
    # +-2% and +-5% lie on the matcher's 1% speed grid; +-3.5% lies half-way between two points
    c += ["speed -5%", "speed -3.5%", "speed -2%", "speed +2%", "speed +3.5%", "speed +5%"]
    return c


def query_dir(work: Path, n_catalog: int, per_cell: int, n_outside: int, seed: int = 7,
              tag: str = "") -> Path:
    return work / f"queries{tag}-{n_catalog}-{per_cell}-{n_outside}-{seed}"


def make_queries(work: Path, catalog: list[Path], outside: list[Path], per_cell: int, n_outside: int,
                 seed: int = 7, tag: str = "") -> list[dict]:
    """Write query WAVs under work/queries; returns their descriptions (cached by a manifest)."""
    import soundfile as sf
    from scipy.signal import fftconvolve

    qdir = query_dir(work, len(catalog), per_cell, n_outside, seed, tag)
    manifest = qdir / "manifest.json"
    if manifest.exists():
        cached = json.loads(manifest.read_text())
        if set(conditions()) <= {q["cond"] for q in cached}:
            return cached
        shutil.rmtree(qdir)  # made before a condition was added: make them again
    qdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lj = sorted((DATA / "real_audio" / "ljspeech_subset").rglob("*.wav"))
    speech = [_load(p) for p in lj]
    rirs = _rirs(rng, 6)
    cache: dict[Path, np.ndarray] = {}

    def audio(p: Path) -> np.ndarray:
        if p not in cache:
            if len(cache) > 64:
                cache.pop(next(iter(cache)))
            cache[p] = _load(p)
        return cache[p]

    eligible = [p for p in catalog if sf.info(str(p)).duration >= 14.0]
    out: list[dict] = []
    tmp = Path(tempfile.mkdtemp())

    def one(track: Path, cond: str, dur: float, inside: bool) -> dict:
        x = audio(track)
        speed = 1.0
        if cond.startswith("speed"):
            speed = 1.0 + float(cond.split()[1].rstrip("%")) / 100.0
        n = int(dur * SR)
        src_n = int(round(n * speed))
        start = int(rng.integers(0, max(1, x.shape[0] - src_n - SR)))
        seg = x[start: start + src_n].astype(np.float32)
        info: dict = {}
        if speed != 1.0:
            seg = _speed(seg, n)
        if cond.startswith("white"):
            seg = _add_noise(seg, rng.standard_normal(n).astype(np.float32), float(cond.split()[1]))
        elif cond.startswith("babble"):
            seg = _add_noise(seg, _babble(rng, n, speech), float(cond.split()[1]))
        elif cond.startswith("reverb"):
            rt60, h = rirs[int(rng.integers(len(rirs)))]
            seg = fftconvolve(seg, h)[:n].astype(np.float32)
            info["rt60_s"] = rt60
        elif cond.startswith("mp3"):
            seg = _mp3(seg, tmp)
        elif cond.startswith("outside"):
            kind = rng.integers(3)
            if kind == 1:
                seg = _add_noise(seg, rng.standard_normal(n).astype(np.float32), 5.0)
            elif kind == 2:
                seg = _add_noise(seg, _babble(rng, n, speech), 5.0)
        seg = 0.5 * seg / (np.max(np.abs(seg)) + 1e-9)
        name = f"q{len(out):05d}.wav"
        sf.write(str(qdir / name), seg, SR, subtype="PCM_16")
        return {"file": name, "cond": cond, "dur": dur, "track": track.stem if inside else None,
                "source": track.stem, "offset_s": start / SR, "speed": speed, **info}

    for cond in conditions():
        for dur in DURATIONS:
            for _ in range(per_cell):
                out.append(one(eligible[int(rng.integers(len(eligible)))], cond, dur, True))
    for k in range(n_outside):
        out.append(one(outside[k % len(outside)], "outside", 10.0, False))
    shutil.rmtree(tmp, ignore_errors=True)
    manifest.write_text(json.dumps(out))
    return out


# -- runners ---------------------------------------------------------------------------------

def run_ours(db: Path, files: list[Path], queries: list[dict], qdir: Path, jobs: int) -> dict:
    from yuefu.listen.identify import open_catalog

    if db.exists():
        db.unlink()
    with open_catalog(db, create=True) as cat:
        t0 = time.perf_counter()
        rep = cat.add(files, jobs=jobs)
        ingest_s = time.perf_counter() - t0
        st = cat.stats()
    # ingest on one core: time a sample of files without the pool
    from yuefu.core.io import read_audio
    from yuefu.listen.identify import fingerprint_audio

    t1 = time.perf_counter()
    sample_s = 0.0
    for f in files[:20]:
        a = read_audio(f)
        fingerprint_audio(a)
        sample_s += a.duration_s
    one_core_x = sample_s / (time.perf_counter() - t1)
    answers = []
    load = [os.getloadavg()[0]]
    with open_catalog(db) as cat:
        cat.query(qdir / queries[0]["file"])  # warm-up
        for k, q in enumerate(queries):
            if k % 100 == 99:
                load.append(os.getloadavg()[0])
            t = time.perf_counter()
            r = cat.query(qdir / q["file"])
            dt = time.perf_counter() - t
            m = r.match
            answers.append({"track": m.track if m else None, "offset_s": m.offset_s if m else None,
                            "s": dt, "aligned": r.best_aligned, "second": r.second_aligned,
                            "spread": r.best_spread, "second_spread": r.second_spread,
                            "by": r.accepted_by})
    return {"answers": answers, "ingest_s": ingest_s, "audio_s": rep.audio_s,
            "one_core_x": one_core_x, "size_bytes": st.size_bytes, "skipped": rep.skipped,
            "tracks": st.tracks, "query_load": [min(load), float(np.mean(load)), max(load)]}


def run_audfprint(adir: Path, py: str, work: Path, files: list[Path], queries: list[dict],
                  qdir: Path) -> dict:
    script = adir / "audfprint.py"
    db = work / "audfprint.pklz"
    lst = work / "audfprint-files.txt"
    lst.write_text("\n".join(str(f) for f in files) + "\n")
    if db.exists():
        db.unlink()
    t0 = time.perf_counter()
    r = subprocess.run([py, str(script), "new", "--dbase", str(db), "--list", str(lst), "--ncores", "1"],
                       capture_output=True, text=True)
    ingest_s = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"audfprint new failed: {r.stderr[-2000:]}")
    qlist = work / "audfprint-queries.txt"
    qlist.write_text("\n".join(str(qdir / q["file"]) for q in queries) + "\n")
    t0 = time.perf_counter()
    r = subprocess.run([py, str(script), "match", "--dbase", str(db), "--list", str(qlist)],
                       capture_output=True, text=True)
    match_s = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"audfprint match failed: {r.stderr[-2000:]}")
    found: dict[str, str | None] = {}
    offs: dict[str, float] = {}
    for line in r.stdout.splitlines():
        if line.startswith("Matched "):
            # Matched Q 10.0 sec N raw hashes as REF at T s with ...
            parts = line.split(" as ", 1)
            q = Path(parts[0].split()[1]).name
            ref = parts[1].split(" at ")[0]
            found[q] = Path(ref).stem
            try:
                offs[q] = float(parts[1].split(" at ")[1].split()[0])
            except (IndexError, ValueError):
                pass
        elif line.startswith("NOMATCH "):
            found[Path(line.split()[1]).name] = None
    answers = [{"track": found.get(q["file"]), "offset_s": offs.get(q["file"])} for q in queries]
    return {"answers": answers, "ingest_s": ingest_s, "match_s": match_s,
            "per_query_s": match_s / max(1, len(queries)), "size_bytes": db.stat().st_size}


# -- report ----------------------------------------------------------------------------------

def _acc(qs: list[dict], ans: list[dict]) -> tuple[int, int]:
    ok = sum(1 for q, a in zip(qs, ans, strict=True) if a["track"] == q["track"])
    return ok, len(qs)


def report(queries: list[dict], ours: dict, anchor: dict | None, args: argparse.Namespace,
           n_tracks: int) -> None:
    inside = [i for i, q in enumerate(queries) if q["track"] is not None]
    outside = [i for i, q in enumerate(queries) if q["track"] is None]
    print(f"Machine: {machine()}; catalog {n_tracks} tracks "
          f"({ours['audio_s'] / 3600:.2f} h), {len(inside)} in-catalog + {len(outside)} "
          f"out-of-catalog queries")
    print()
    head = "| condition | " + " | ".join(f"{d:g} s ours" + (f" | {d:g} s audfprint" if anchor else "")
                                         for d in DURATIONS) + " |"
    print(head)
    print("|" + "---|" * (1 + len(DURATIONS) * (2 if anchor else 1)))
    cells: dict[tuple[str, float], tuple[float, float | None]] = {}
    worse = []
    for cond in conditions():
        row = [cond]
        for d in DURATIONS:
            idx = [i for i in inside if queries[i]["cond"] == cond and queries[i]["dur"] == d]
            qs = [queries[i] for i in idx]
            ok, n = _acc(qs, [ours["answers"][i] for i in idx])
            row.append(f"{100 * ok / n:.0f}%")
            a_pct = None
            if anchor:
                aok, _ = _acc(qs, [anchor["answers"][i] for i in idx])
                a_pct = 100 * aok / n
                row.append(f"{a_pct:.0f}%")
                if aok > ok:
                    worse.append(f"{cond} {d:g} s ({ok}/{n} vs {aok}/{n})")
            cells[(cond, d)] = (100 * ok / n, a_pct)
        print("| " + " | ".join(row) + " |")
    fa = sum(1 for i in outside if ours["answers"][i]["track"] is not None)
    wrong = sum(1 for i in inside if ours["answers"][i]["track"] not in (None, queries[i]["track"]))
    lat = np.array([a["s"] for a in ours["answers"]]) * 1000
    print()
    print("| measure | ours | audfprint |")
    print("|---|---|---|")
    a_fa = sum(1 for i in outside if anchor["answers"][i]["track"] is not None) if anchor else None
    a_wrong = (sum(1 for i in inside if anchor["answers"][i]["track"] not in (None, queries[i]["track"]))
               if anchor else None)
    print(f"| false accepts, out-of-catalog clips | {fa}/{len(outside)} ({100 * fa / len(outside):.2f}%) | "
          + (f"{a_fa}/{len(outside)} ({100 * a_fa / len(outside):.2f}%)" if anchor else "-") + " |")
    print(f"| wrong track named, in-catalog clips | {wrong}/{len(inside)} | "
          + (f"{a_wrong}/{len(inside)}" if anchor else "-") + " |")
    ld = ours.get("query_load")
    ld_s = f" (1-min load {ld[0]:.1f}-{ld[2]:.1f}, mean {ld[1]:.1f}, on {os.cpu_count()} cores)" if ld else ""
    p50, p95 = np.percentile(lat, 50), np.percentile(lat, 95)
    print(f"| query latency p50 / p95 | {p50:.0f} / {p95:.0f} ms{ld_s} | "
          + (f"{1000 * anchor['per_query_s']:.0f} ms mean (batch, one process)" if anchor else "-") + " |")
    hours = ours["audio_s"] / 3600
    print(f"| ingest speed | {ours['audio_s'] / ours['ingest_s']:.0f}× real time ({args.jobs} workers); "
          f"{ours['one_core_x']:.0f}× on one core | "
          + (f"{ours['audio_s'] / anchor['ingest_s']:.0f}× real time (one core)" if anchor else "-") + " |")
    print(f"| index size per hour of audio | {ours['size_bytes'] / 1e6 / hours:.1f} MB (SQLite) | "
          + (f"{anchor['size_bytes'] / 1e6 / hours:.1f} MB (pklz)" if anchor else "-") + " |")
    print()

    def mean_cell(conds: list[str], d: float) -> float:
        return float(np.mean([cells[(c, d)][0] for c in conds]))

    verdict = [
        (mean_cell(["white +0 dB", "babble +0 dB"], 10.0), 98.0, "%"),
        (mean_cell(["white -5 dB", "babble -5 dB"], 10.0), 90.0, "%"),
        (min(cells[("speed -5%", 10.0)][0], cells[("speed +5%", 10.0)][0]), 95.0, "%"),
    ]
    print("| target (issue 6) | result | verdict |")
    print("|---|---|---|")
    for (name, tgt), (val, thr, unit) in zip(TARGETS[:3], verdict, strict=True):
        print(f"| {name} {tgt} | {val:.1f}{unit} | {'**pass**' if val >= thr else '**FAIL**'} |")
    far = 100 * fa / len(outside)
    print(f"| {TARGETS[3][0]} {TARGETS[3][1]} | {far:.2f}% | {'**pass**' if far <= 0.5 else '**FAIL**'} |")
    p95 = float(np.percentile(lat, 95))
    print(f"| {TARGETS[4][0]} {TARGETS[4][1]} | {p95:.0f} ms | {'**pass**' if p95 <= 200 else '**FAIL**'} |")
    if anchor:
        print(f"| no condition where audfprint does better | {len(worse)} cells worse | "
              f"{'**pass**' if not worse else '**FAIL**: ' + '; '.join(worse)} |")


# -- calibration -----------------------------------------------------------------------------

CAL_SEED = 11
CAL_VARIANTS = {"0.5 s cap 6": (0.5, 6), "0.25 s cap 3": (0.25, 3), "1 s cap 10": (1.0, 10)}


def _calibration_rows(args: argparse.Namespace, files: list[Path], queries: list[dict],
                      qdir: Path) -> list[dict]:
    """Score every calibration query once per block/cap variant (acceptance left open)."""
    from dataclasses import replace

    from yuefu.core.io import read_audio
    from yuefu.listen.identify import find_peaks, open_catalog
    from yuefu.listen.identify.fingerprint import query_hashes, speed_grid
    from yuefu.listen.identify.match import MatchSettings, peak_scores, vote

    db = args.work / f"ours-{len(files)}.db"
    if db.exists():
        db.unlink()
    with open_catalog(db, create=True) as cat:
        cat.add(files, jobs=args.jobs)
    rows = []
    t0 = time.perf_counter()
    with open_catalog(db) as cat:
        tname = {r.id: r.name for r in cat.tracks()}
        base = MatchSettings()
        speeds = speed_grid(base.search_speed_change, base.speed_step)
        qcfg = replace(cat.config, fan_out=max(cat.config.fan_out, base.query_fan_out))
        for q in queries:
            pk = find_peaks(read_audio(qdir / q["file"]), cat.config)
            row = {"truth": q["track"], "cond": q["cond"], "dur": q["dur"]}
            # what match_peaks does, with the lookup shared by the variants
            qh, qt, qk = query_hashes(pk, speeds, qcfg)
            found = cat.store.lookup(np.unique(qh), max_occurrences=base.max_occurrences(len(tname)))
            for v, (bs, cap) in CAL_VARIANTS.items():
                c = vote(qh, qt, qk, *found, speeds, frame_s=cat.config.frame_s,
                         settings=replace(base, block_s=bs, block_cap=cap))
                row[v] = None if c is None else (tname[c.track_id], c.aligned, c.second, c.spread,
                                                 c.second_spread, c.speed)
                if v == "0.25 s cap 3":  # the peak-level scores of the default's candidates
                    bins = c.bins[: base.peak_candidates] if c is not None else ()
                    ps = peak_scores(pk, bins, cat.store.peaks(sorted({b[0] for b in bins})),
                                     settings=base, frame_s=cat.config.frame_s)
                    row["peaks"] = [(tname[x.track_id], x.spread, x.hits, b[1])
                                    for x, b in zip(ps, bins, strict=True)]
            rows.append(row)
    print(f"{len(rows)} calibration queries scored in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return rows


def calibrate(args: argparse.Namespace, files: list[Path], per_cell: int) -> None:
    """ROC of the acceptance rule on a calibration set held out from the benchmark's queries.

    Positives: clips of the (quick) catalog's songs drawn with another seed (CAL_SEED).
    Negatives: one 10 s clip of every POP909 song that is rendered for the 500-track catalog
    but is not in this catalog; the benchmark's out-of-catalog songs are never used here, so
    the thresholds are not tuned on the clips that measure the false accepts.
    """
    from yuefu.listen.identify.match import MatchSettings, accept

    full, _ = build_audio(args.work, 500, max(60, args.outside // 2), args.jobs)
    names = {p.stem for p in files}
    negatives = [p for p in full if p.stem not in names and p.stem.startswith("pop909-")]
    queries = make_queries(args.work, files, negatives, per_cell, len(negatives), seed=CAL_SEED,
                           tag="-cal")
    qdir = query_dir(args.work, len(files), per_cell, len(negatives), CAL_SEED, "-cal")
    saved = args.work / "calibration-rows.json"
    rows = json.loads(saved.read_text()) if args.reuse_rows and saved.exists() else []
    if any(len(r.get("0.25 s cap 3") or ()) < 6 for r in rows):
        print("saved rows predate the speed column: scoring again", file=sys.stderr)
        rows = []
    if not rows:
        rows = _calibration_rows(args, files, queries, qdir)
    saved.write_text(json.dumps(rows))
    pos = [r for r in rows if r["truth"] is not None]
    neg = [r for r in rows if r["truth"] is None]
    print(f"Calibration: {len(files)}-track catalog, {len(pos)} in-catalog clips (seed {CAL_SEED}, "
          f"{per_cell} per condition and length), {len(neg)} out-of-catalog clips (one per POP909 "
          "song outside this catalog and outside the benchmark's out-of-catalog set)")
    print()
    old = MatchSettings(min_ratio=2.5, min_spread=0.0, min_spread_ratio=0.0)
    grid = [(v, MatchSettings(block_s=bs, block_cap=cap, min_ratio=r1, min_spread_ratio=r2, min_spread=t))
            for v, (bs, cap) in CAL_VARIANTS.items() for r1 in (1.25, 1.5, 1.75, 2.0, 2.5)
            for r2 in (1.5, 1.75, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5) for t in (6.0, 8.0, 10.0, 12.0)]
    grid.insert(0, ("(old rule: aligned >= 8, ratio >= 2.5)", old))

    def score(v: str, st: MatchSettings) -> tuple[int, int]:
        col = v if v in CAL_VARIANTS else "0.5 s cap 6"

        def ok(r: dict) -> bool:
            c = r[col]
            return c is not None and accept(c[1], c[2], c[3], c[4], st) and st.acceptable_speed(c[5])
        return (sum(1 for r in neg if ok(r)), sum(1 for r in pos if ok(r) and r[col][0] == r["truth"]))

    scored = [(v, st, *score(v, st)) for v, st in grid]
    print("ROC points (for each block/cap and each false-accept count, the rule with the most")
    print("in-catalog clips identified; ties: the first in grid order):")
    print()
    print("| block, cap | min_ratio | min_spread_ratio | min_spread | false accepts | top-1 (in-catalog) |")
    print("|---|---|---|---|---|---|")
    for v in ["(old rule: aligned >= 8, ratio >= 2.5)", *CAL_VARIANTS]:
        best: dict[int, tuple] = {}
        for row in scored:
            if row[0] == v and (row[2] not in best or row[3] > best[row[2]][3]):
                best[row[2]] = row
        front, top = [], -1
        for fa in sorted(best):
            if best[fa][3] > top:
                front.append(best[fa])
                top = best[fa][3]
        for v_, st, fa, hit in front[:6]:
            print(f"| {v_} | {st.min_ratio:g} | {st.min_spread_ratio:g} | {st.min_spread:g} | "
                  f"{fa}/{len(neg)} ({100 * fa / len(neg):.2f}%) | "
                  f"{hit}/{len(pos)} ({100 * hit / len(pos):.1f}%) |")
    print()
    for what, limit in (("no false accept (the code's defaults)", 0.0), ("false accepts <= 0.5%", 0.005)):
        ok_rows = [r for r in scored if r[0] in CAL_VARIANTS and r[2] <= limit * len(neg)]
        if ok_rows:
            v, st, fa, hit = max(ok_rows, key=lambda r: r[3])
            print(f"Most top-1 with {what}: {v}, min_ratio {st.min_ratio:g}, "
                  f"min_spread_ratio {st.min_spread_ratio:g}, min_spread {st.min_spread:g}: "
                  f"{fa}/{len(neg)} false accepts, {hit}/{len(pos)} top-1")
    calibrate_peaks(pos, neg)


def calibrate_peaks(pos: list[dict], neg: list[dict]) -> None:
    """ROC of the peak-level rule (``peak_min``, ``peak_ratio``), applied when the hash rule of
    the code's defaults does not accept (rows of :func:`_calibration_rows`)."""
    from yuefu.listen.identify.match import MatchSettings, accept

    if not all("peaks" in r for r in pos + neg):
        print("\n(no peak-level scores in these rows: run without --reuse-rows)")
        return
    base = MatchSettings()
    col = "0.25 s cap 3"

    def answer(r: dict, pmin: float, pratio: float) -> str | None:
        c = r[col]
        if c is not None and accept(c[1], c[2], c[3], c[4], base) and base.acceptable_speed(c[5]):
            return str(c[0])
        ps = r["peaks"]
        allowed = [i for i in range(len(ps)) if base.acceptable_speed(ps[i][3])]
        if not allowed:
            return None
        best = min(allowed, key=lambda i: (-ps[i][1], -ps[i][2], i))
        p2 = max((x[1] for x in ps if x[0] != ps[best][0]), default=0.0)
        ok = ps[best][1] >= pmin and ps[best][1] >= pratio * max(p2, 1.0)
        return str(ps[best][0]) if ok else None

    def noisy10(rows: list[dict], pmin: float, pratio: float) -> int:
        return sum(1 for r in rows if r["dur"] == 10.0 and r["cond"] in
                   ("white +0 dB", "babble +0 dB", "white -5 dB", "babble -5 dB")
                   and answer(r, pmin, pratio) == r["truth"])

    print()
    print("Peak-level verification (when the hash rule above, the code's, does not accept): for")
    print("each false-accept count, the (peak_min, peak_ratio) with the most top-1:")
    print()
    print("| peak_min | peak_ratio | false accepts | top-1 (in-catalog) | 10 s at 0 / -5 dB |")
    print("|---|---|---|---|---|")
    off = (float("inf"), 1.0)
    grid = [off] + [(m, r) for m in (10.0, 15.0, 20.0, 25.0, 30.0, 40.0)
                    for r in (1.5, 1.75, 2.0, 2.25, 2.5, 3.0)]
    res = []
    for pmin, pratio in grid:
        fa = sum(1 for r in neg if answer(r, pmin, pratio) is not None)
        hit = sum(1 for r in pos if answer(r, pmin, pratio) == r["truth"])
        res.append((fa, hit, noisy10(pos, pmin, pratio), pmin, pratio))
    n10 = sum(1 for r in pos if r["dur"] == 10.0 and r["cond"] in
              ("white +0 dB", "babble +0 dB", "white -5 dB", "babble -5 dB"))
    best: dict[int, tuple] = {}
    for x in res:
        if x[0] not in best or x[1] > best[x[0]][1]:
            best[x[0]] = x
    top = -1
    for fa in sorted(best):
        x = best[fa]
        if x[1] > top:
            top = x[1]
            name = "(hash rule only)" if x[3] == float("inf") else f"{x[3]:g}"
            print(f"| {name} | {x[4]:g} | {fa}/{len(neg)} ({100 * fa / len(neg):.2f}%) | "
                  f"{x[1]}/{len(pos)} ({100 * x[1] / len(pos):.1f}%) | {x[2]}/{n10} |")


def latency_only(db: Path, queries: list[dict], qdir: Path, n: int) -> None:
    """Query latency alone: ``n`` random benchmark queries (seeded), pinned to one CPU, three
    rounds, on the catalog a full run built (the quick check after a change to the matcher)."""
    from yuefu.listen.identify import open_catalog

    if not db.exists():
        raise SystemExit(f"{db} does not exist: run the full benchmark once first")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    rng = np.random.default_rng(0)
    pick = [queries[i] for i in rng.permutation(len(queries))[:n]]
    print("| round | queries | p50 ms | p95 ms | max ms | 1-min load |\n|---|---|---|---|---|---|")
    with open_catalog(db) as cat:
        cat.query(qdir / pick[0]["file"])  # warm-up
        for r in range(3):
            ts = []
            for q in pick:
                t = time.perf_counter()
                cat.query(qdir / q["file"])
                ts.append(1000.0 * (time.perf_counter() - t))
            print(f"| {r + 1} | {len(ts)} | {np.percentile(ts, 50):.0f} | {np.percentile(ts, 95):.0f} "
                  f"| {max(ts):.0f} | {os.getloadavg()[0]:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 tracks, 10 queries per cell")
    ap.add_argument("--tracks", type=int, help="catalog size (default 500; 100 with --quick)")
    ap.add_argument("--per-cell", type=int, help="queries per condition and duration (default 25)")
    ap.add_argument("--outside", type=int, default=250, help="out-of-catalog queries (default 250)")
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "yuefu-bench" / "identify")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--audfprint", type=Path,
                    default=Path(os.environ.get("AUDFPRINT", str(ROOT.parent / "audfprint"))))
    ap.add_argument("--audfprint-python", default=os.environ.get("AUDFPRINT_PYTHON", sys.executable),
                    help="the Python that runs audfprint (it needs numpy, scipy, librosa, docopt, psutil)")
    ap.add_argument("--no-anchor", action="store_true", help="skip audfprint")
    ap.add_argument("--calibrate", action="store_true",
                    help="calibration of the acceptance thresholds on a held-out query set (see calibrate)")
    ap.add_argument("--reuse-rows", action="store_true",
                    help="with --calibrate: re-score the saved calibration-rows.json, query nothing")
    ap.add_argument("--latency", type=int, metavar="N",
                    help="only time N random benchmark queries on the catalog already built (one "
                         "CPU, three rounds) and print p50 / p95")
    args = ap.parse_args()
    n_tracks = args.tracks or (100 if args.quick else 500)
    per_cell = args.per_cell or (10 if args.quick else 25)
    files, outside = build_audio(args.work, n_tracks, max(60, args.outside // 2), args.jobs)
    if args.calibrate:
        calibrate(args, files, per_cell)
        return
    queries = make_queries(args.work, files, outside, per_cell, args.outside)
    qdir = query_dir(args.work, len(files), per_cell, args.outside)
    print(f"{len(files)} catalog files, {len(queries)} queries", file=sys.stderr)
    if args.latency:
        latency_only(args.work / f"ours-{len(files)}.db", queries, qdir, args.latency)
        return
    ours = run_ours(args.work / f"ours-{len(files)}.db", files, queries, qdir, args.jobs)
    anchor = None
    if not args.no_anchor:
        if (args.audfprint / "audfprint.py").exists():
            anchor = run_audfprint(args.audfprint, args.audfprint_python, args.work, files, queries, qdir)
        else:
            print(f"audfprint not found at {args.audfprint}; pass --audfprint DIR", file=sys.stderr)
    (args.work / f"results-{len(files)}.json").write_text(json.dumps(
        {"queries": queries, "ours": ours, "audfprint": anchor}))
    report(queries, ours, anchor, args, len(files))


if __name__ == "__main__":
    main()
