"""Benchmark: Score -> mastered song (FluidSynth stems, mix, master) against plain FluidSynth.

Builds a deterministic 3-minute, 8-track arrangement in code (drums in 8ths with 16th-note
hi-hats every fourth bar, bass in 8ths, piano chords in quarters, a pad, strings in half
notes, a lead melody in 8ths, a guitar arpeggio in 16ths and a counter-melody, 120 BPM) and
renders it with :func:`yuefu.render.render_score` on one core (``jobs=1``): stems, mix and
master to -14 LUFS / -1 dBTP. Side by side, in the same run, the anchor renders the same MIDI
file with the plain ``fluidsynth`` program to one WAV (its default settings, no mixing or
mastering). The 30-minute case repeats the material ten times to show that memory stays flat.

Each case runs in a fresh child process pinned to one CPU (``sched_setaffinity``; the
anchor's ``fluidsynth`` inherits it); its peak memory is that process's ru_maxrss plus that of
its children. Results go to stdout only, as a markdown table.

Usage::

    python benchmarks/render.py            # 3-minute and 30-minute cases
    python benchmarks/render.py --quick    # 3-minute case only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine as machine_line

TARGET_RTF = 30.0
TEMPO_BPM = 120.0


def build_song(minutes: float = 3.0):  # noqa: ANN201 - a Score; yuefu imported lazily
    """A deterministic 8-track pop arrangement of about ``minutes`` minutes."""
    import numpy as np

    from yuefu.core.score import Note, Score, Section, Tempo, TimeSignature, Track

    rng = np.random.default_rng(2024)
    s = Score(tempos=[Tempo(0, TEMPO_BPM)], time_signatures=[TimeSignature(0, 4, 4)],
              title="benchmark")
    drums = s.add_track(Track("drums", is_drum=True, role="drums"))
    bass = s.add_track(Track("bass", program=33, role="bass"))
    piano = s.add_track(Track("piano", program=0, role="chords", gain_db=-2.0, pan=-0.25))
    pad = s.add_track(Track("pad", program=89, role="pad", gain_db=-3.0))
    strings = s.add_track(Track("strings", program=48, role="strings", pan=0.2))
    lead = s.add_track(Track("lead", program=73, role="melody"))
    arp = s.add_track(Track("arp", program=25, role="accompaniment", pan=0.4))
    counter = s.add_track(Track("counter", program=71, role="counter", pan=-0.4))

    chords = [(0, (0, 4, 7)), (9, (0, 3, 7)), (5, (0, 4, 7)), (7, (0, 4, 7))]  # I vi IV V
    scale = (0, 2, 4, 5, 7, 9, 11)
    motif = [int(x) for x in rng.integers(0, 7, 16)]
    n_bars = int(round(minutes * 60.0 * TEMPO_BPM / 60.0 / 4.0))
    for bar in range(n_bars):
        b0 = bar * 4.0
        if bar % 16 == 0:
            s.sections.append(Section(b0, "verse" if bar % 32 == 0 else "chorus"))
        root, triad = chords[bar % 4]
        for beat in range(4):  # kick and snare
            drums.notes.append(Note(36 if beat % 2 == 0 else 38, b0 + beat, 0.25, 100))
        step = 0.25 if bar % 4 == 3 else 0.5  # hi-hats: 8ths, 16ths every fourth bar
        for k in range(int(4 / step)):
            drums.notes.append(Note(42, b0 + k * step, step, 80 if k % 2 == 0 else 68))
        if bar % 8 == 7:
            drums.notes.append(Note(49, b0 + 3.5, 0.5, 95))
        for k in range(8):
            bass.notes.append(Note(36 + root + (12 if k == 6 else 0), b0 + 0.5 * k, 0.45,
                                   96 if k % 2 == 0 else 82))
        for beat in range(4):
            for iv in triad:
                piano.notes.append(Note(60 + (root + iv) % 12, b0 + beat, 0.9, 72))
        for iv in triad:
            pad.notes.append(Note(48 + (root + iv) % 12, b0, 4.0, 60))
        for half in range(2):
            for iv in triad:
                strings.notes.append(Note(55 + (root + iv) % 12, b0 + 2.0 * half, 2.0, 66))
        for k in range(8):
            if (bar + k) % 5 == 4:
                continue  # breathe
            deg = (motif[(k + bar) % 16] + bar // 4) % 7
            lead.notes.append(Note(72 + scale[deg], b0 + 0.5 * k, 0.45, 92))
        for k in range(16):
            arp.notes.append(Note(60 + root + triad[k % 3] + (12 if k % 4 == 3 else 0),
                                  b0 + 0.25 * k, 0.24, 74))
        for beat in range(4):
            deg = (motif[(3 * beat + bar) % 16] + 2) % 7
            counter.notes.append(Note(65 + scale[deg], b0 + beat, 0.95, 70))
    return s


def repeat(score, times: int):  # noqa: ANN001, ANN201
    """The score's material played ``times`` times in a row."""
    from yuefu.core.score import Note, Section

    out = score.copy()
    span = 4.0 * round(score.end_beat / 4.0)
    for t in out.tracks:
        src = list(t.notes)
        t.notes = [Note(n.pitch, n.onset + r * span, n.duration, n.velocity)
                   for r in range(times) for n in src]
    out.sections = [Section(sec.beat + r * span, sec.name)
                    for r in range(times) for sec in score.sections]
    return out


def song(minutes: float):  # noqa: ANN201
    return build_song(3.0) if minutes <= 3.0 else repeat(build_song(3.0), int(minutes // 3))


# -- children ---------------------------------------------------------------------------------

def _peak_mb() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (me + kids) / 1024.0


def child_ours(minutes: float, work: Path, jobs: int, keep_stems: bool = False) -> dict:
    from yuefu.render import render_score

    score = song(minutes)
    t0 = time.perf_counter()
    res = render_score(score, work / "song.wav", jobs=jobs, force=True,
                       stems_dir=work / "stems" if keep_stems else None)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "audio_s": res.loudness.duration_s, "timings": res.timings,
            "lufs": res.loudness.integrated_lufs, "dbtp": res.loudness.true_peak_dbtp,
            "peak_mb": _peak_mb(), "notes": score.n_notes}


def child_anchor(minutes: float, work: Path) -> dict:
    import soundfile as sf

    from yuefu.core.io.midi import write_midi
    from yuefu.render import find_soundfont

    mid = write_midi(song(minutes), work / "song.mid", force=True)
    wav = work / "anchor.wav"
    cmd = ["fluidsynth", "-ni", "-q", "-F", str(wav), "-r", "44100", str(find_soundfont()),
           str(mid)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {"wall_s": wall, "audio_s": sf.info(str(wav)).duration, "peak_mb": kids,
            "cmd": " ".join(["fluidsynth", *cmd[1:4], "song.wav", *cmd[5:7], "FluidR3_GM.sf2",
                             "song.mid"])}


def run_child(kind: str, minutes: float, jobs: int = 1, keep_stems: bool = False) -> dict:
    work = Path(tempfile.mkdtemp(prefix="yuefu-bench-", dir=os.environ.get("TMPDIR")))
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--minutes", str(minutes),
             "--jobs", str(jobs), "--work", str(work)] + (["--keep-stems"] if keep_stems else []),
            check=True, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the table ------------------------------------------------------------------------------

def machine() -> str:
    try:
        fs = subprocess.run(["fluidsynth", "--version"], capture_output=True, text=True)
        fsv = fs.stdout.splitlines()[0]
    except (OSError, IndexError):
        fsv = "fluidsynth ?"
    return machine_line(fsv)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the 3-minute case only")
    ap.add_argument("--child", choices=("ours", "anchor"), help=argparse.SUPPRESS)
    ap.add_argument("--minutes", type=float, default=3.0, help=argparse.SUPPRESS)
    ap.add_argument("--jobs", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--keep-stems", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        # one core, strictly: the child (and the fluidsynth program it starts) may run only on
        # one CPU, so that no library's worker threads (BLAS) borrow the other
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        res = (child_ours(a.minutes, a.work, a.jobs, a.keep_stems) if a.child == "ours"
               else child_anchor(a.minutes, a.work))
        print(json.dumps(res))
        return 0

    cases = [3.0] if a.quick else [3.0, 30.0]
    print(f"# render benchmark — {time.strftime('%Y-%m-%d')}\n")
    print(f"Machine: {machine()}\n")
    rows = []
    anchor_cmd = ""
    for minutes in cases:
        ours = run_child("ours", minutes)
        anchor = run_child("anchor", minutes)
        anchor_cmd = anchor["cmd"]
        rows.append((f"{minutes:g} min, 8 tracks", minutes, ours, anchor))
        if minutes == cases[0]:  # the same with the 8 stems written to a folder as well
            rows.append((f"{minutes:g} min, 8 tracks, stems kept", minutes,
                         run_child("ours", minutes, keep_stems=True), anchor))
    print("| piece | notes | ours: wall s | ours: × real time | anchor: wall s "
          "| anchor: × real time | ratio (ours / anchor speed) | ours: fluidsynth / mix / master s "
          "| ours: peak MB | anchor: peak MB | song LUFS / dBTP |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, _, o, an in rows:
        o_rtf = o["audio_s"] / o["wall_s"]
        a_rtf = an["audio_s"] / an["wall_s"]
        t = o["timings"]
        print(f"| {label} | {o['notes']} | {o['wall_s']:.1f} | {o_rtf:.1f}× "
              f"| {an['wall_s']:.1f} | {a_rtf:.1f}× | {o_rtf / a_rtf:.2f} "
              f"| {t['render_s']:.1f} / {t['mix_s']:.1f} / {t['master_s']:.1f} "
              f"| {o['peak_mb']:.0f} | {an['peak_mb']:.0f} "
              f"| {o['lufs']:.2f} / {o['dbtp']:.2f} |")
    print()
    print("ours: `render_score(score, 'song.wav', jobs=1)` — one stem per track (libfluidsynth, "
          "one pass, float32, note cache) mixed as it is synthesised (per-stem EQ/compressor, "
          "shared reverb, bus compressor), master to -14 LUFS / -1 dBTP; \"stems kept\" also "
          "writes the stems (`stems_dir=`), in the same pass; the fluidsynth / mix split of one "
          "pass is the time spent synthesising and the rest. anchor: `" + anchor_cmd + "` (one "
          "stereo WAV, FluidSynth's own reverb and chorus, no stems, no mixing or mastering).")
    first = rows[0][2]
    rtf = first["audio_s"] / first["wall_s"]
    verdict = "met" if rtf >= TARGET_RTF else "not met"
    print(f"\nTarget: >= {TARGET_RTF:g}× real time on one core for the 3-minute song: {verdict} "
          f"({rtf:.1f}×).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
