"""Benchmark: `yuefu song` over many requests — quality of the written songs and speed.

Quality: for every style x language x seed (7 x 2 x 4 = 56 songs by default) it runs the
songwriter's stages (motive, lyrics, melody, harmony, arrange) exactly as `yuefu song` does and
measures the arranged song: melody in-key ratio, strong-beat chord-tone ratio against the song's
chord symbols, syllables with a note, range within the voice, rhyme rate of line ends within a
section, whether the chorus recurs with the same melody, lexical-tone agreement (Chinese), and
the melody's pitch-class entropy and interval / note-length / pitch-class histograms against the
held-out POP909 melodies (Jensen-Shannon divergence). The anchor is the random-walk baseline of
``benchmarks/melody.py``, set to the same syllables and harmonised the same way.

Speed and loudness: the whole pipeline (with FluidSynth rendering, mixing and mastering) for a
3-minute song, median of 5 seeds, and the loudness of each ``song.wav``.

``--engine model`` runs both with the music language model writing the melody and the piano
part (``yuefu song --engine model``). ``--compare`` instead sets the two engines side by side on
6 songs (Chinese and English x pop, ballad, folk; 120 s; seeds 0..``--seeds``-1), the same
requests for both: per song the lexical-tone agreement (Chinese), the melody's pitch-class
entropy (bits), its fraction of in-key notes, its longest run of repeated bars (bars with
notes whose notes repeat the bar before exactly; 1 = no bar repeats), strong-beat chord tones
against the song's chords, the melody's range used (5th-95th percentile, semitones), the piano
part's notes per bar and chord-tone ratio (all its notes, against the chord in force), and the
time from theme to song.mid (motive, lyrics, melody, harmony, arrange) with the melody and
arrange stages' share. Rendering, singing and mixing do not depend on the engine.

Usage::

    python benchmarks/songwriter.py [--seeds 4] [--speed-runs 5] [--quick] [--engine stats|model]
    python benchmarks/songwriter.py --compare [--seeds 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import melody as mb  # noqa: E402  (the melody benchmark's measures and baseline)

from yuefu.core.io import read_midi  # noqa: E402
from yuefu.core.motive import Motive  # noqa: E402
from yuefu.core.spec import STYLES, SongSpec  # noqa: E402
from yuefu.lyrics import Lyrics  # noqa: E402
from yuefu.pipeline import Pipeline, load_pipeline, run_pipeline  # noqa: E402
from yuefu.pipeline.song import song_pipeline_text  # noqa: E402

THEMES = {
    "zh": ["夏夜的海边", "江南烟雨", "故乡的月亮", "青春的远方", "雪夜归人", "城市的灯火", "春天的花园"],
    "en": ["summer night by the sea", "city lights in the rain", "the road back home",
           "dancing in the kitchen", "letters from an old friend", "mountains in the morning",
           "a ship on the horizon"],
}
EMOTIONS = ("happy", "sad", "calm", "excited", "romantic", "nostalgic", "epic", "playful")
SYMBOLIC = ("motive", "lyrics", "melody", "harmony", "arrange")


def _pipeline(spec: SongSpec, stages: tuple[str, ...], engine: str = "stats") -> Pipeline:
    """The `yuefu song` pipeline for ``spec``, keeping only ``stages``."""
    pipe = load_pipeline(text=song_pipeline_text(spec, engine=engine))
    return dataclasses.replace(pipe, stages=tuple(s for s in pipe.stages if s.name in stages),
                               params={k: v for k, v in pipe.params.items() if k in stages})


def _chorus_recurs(song, lyrics: Lyrics) -> float:
    """1 when every repeated chorus is sung to the same pitches and rhythm as its first time.

    Sung notes (melisma notes aside) follow the lyric's syllables one to one, so each section's
    notes are found by its syllables' positions; the last note's length may differ (a final
    cadence is held longer).
    """
    sung = [n for n in song.lyric_track().notes if n.lyric != "-"]
    seen: dict[str, tuple] = {}
    verdicts = []
    i = 0
    for sec in lyrics.sections:
        k = sum(len(ln.syllables) for ln in sec.lines)
        notes = sung[i:i + k]
        i += k
        if "chorus" not in sec.name.lower() or "pre" in sec.name.lower():
            continue
        shape = tuple(n.pitch for n in notes), tuple(round(n.duration, 3) for n in notes[:-1])
        if sec.name in seen:
            verdicts.append(shape == seen[sec.name])
        else:
            seen[sec.name] = shape
    return float(all(verdicts)) if verdicts else float("nan")


def quality(seeds: int, engine: str = "stats") -> tuple[list[tuple[str, float, float, str]], int, float]:
    ref = mb.load_stats().reference
    ref_iv = np.asarray(ref["interval_semitones"], dtype=float)
    ref_dur = np.asarray(ref["duration_sixteenths"], dtype=float)[:17]
    ref_pc = np.asarray(ref["pitch_class_rel_major_tonic"], dtype=float)
    ours, base = mb.Pool(), mb.Pool()
    extra: dict[str, list[float]] = {}
    n = 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="yuefu-bench-") as tmp:
        for si, style in enumerate(STYLES):
            for lang in ("zh", "en"):
                for seed in range(seeds):
                    theme = THEMES[lang][(si + seed) % len(THEMES[lang])]
                    spec = SongSpec(theme=theme, emotion=EMOTIONS[(si + seed) % len(EMOTIONS)],
                                    style=style, language=lang, length_s=120.0, seed=seed)
                    proj = Path(tmp) / f"{style}-{lang}-{seed}"
                    res = run_pipeline(_pipeline(spec, SYMBOLIC, engine), proj)
                    rep = res.report["stages"]
                    motive = Motive.load(proj / "motive.json")
                    lyrics = Lyrics.load(proj / "lyrics.txt", language=lang)
                    song = read_midi(proj / "song.mid")
                    melody = read_midi(proj / "melody.mid")
                    sections = [(s.name, [list(ln.syllables) for ln in s.lines]) for s in lyrics.sections]
                    # the melody's own measures (its notes, the song's chords for the strong beats)
                    ours.measure(melody, sections, motive)
                    base.measure(mb.random_walk(sections, motive, seed), sections, motive)
                    from yuefu.compose import chord_tone_ratio, in_key_ratio

                    extra.setdefault("song: in-key ratio (arranged vocal)", []).append(in_key_ratio(song))
                    extra.setdefault("song: strong-beat chord-tone ratio (song chords)", []).append(
                        chord_tone_ratio(song))
                    extra.setdefault("rhyme rate (line ends within a section)", []).append(
                        rep["lyrics"]["rhyme_rate"])
                    cr = _chorus_recurs(song, lyrics)
                    if not math.isnan(cr):
                        extra.setdefault("chorus recurs with its melody", []).append(cr)
                    n += 1
                    print(f"  {n:3d} {style:15s} {lang} seed {seed}: {sum(res.seconds.values()):.1f} s",
                          file=sys.stderr)
    rows: list[tuple[str, float, float, str]] = []
    for name, vals in extra.items():
        rows.append((name, float(np.mean(vals)), float("nan"), "-"))
    for name in ours.metrics:
        a = float(np.mean(ours.metrics[name]))
        b = float(np.mean(base.metrics.get(name, [float("nan")])))
        rows.append((f"melody: {name}", a, b, f"{mb.entropy(ref_pc):.3f}" if "entropy" in name else "-"))
    hists = (("interval", ours.iv, base.iv, ref_iv), ("note-length", ours.dur, base.dur, ref_dur),
             ("pitch-class", ours.pc, base.pc, ref_pc))
    for what, mine, theirs, refh in hists:
        label = f"melody: {what} histogram JS vs POP909"
        rows.append((label, mb.js(mine, refh), mb.js(theirs, refh), "0"))
    return rows, n, time.perf_counter() - t0


def speed(runs: int, engine: str = "stats") -> tuple[list[float], list[dict]]:
    times, louds = [], []
    with tempfile.TemporaryDirectory(prefix="yuefu-bench-") as tmp:
        for seed in range(runs):
            lang = ("zh", "en")[seed % 2]
            spec = SongSpec(theme=THEMES[lang][seed % len(THEMES[lang])], emotion="happy", style="pop",
                            language=lang, length_s=180.0, seed=seed)
            pipe = load_pipeline(text=song_pipeline_text(spec, engine=engine))
            t = time.perf_counter()
            res = run_pipeline(pipe, Path(tmp) / f"s{seed}")
            times.append(time.perf_counter() - t)
            rep = res.report["stages"]
            louds.append({"duration_s": rep["arrange"]["duration_s"],
                          "lufs": rep["mix"]["loudness"]["integrated_lufs"],
                          "dbtp": rep["mix"]["loudness"]["true_peak_dbtp"],
                          "stages": {k: round(v, 2) for k, v in res.seconds.items()}})
            print(f"  speed run {seed}: {times[-1]:.1f} s", file=sys.stderr)
    return times, louds


def longest_repeated_bars(notes: list, bar_beats: float) -> int:
    """The longest run of bars whose notes (pitch, onset in the bar, duration) repeat the bar
    before exactly; bars without a note onset end a run. 1: no bar repeats the one before."""
    bars: dict[int, list[tuple[int, float, float]]] = {}
    for n in notes:
        b = int(n.onset // bar_beats + 1e-9)
        bars.setdefault(b, []).append((n.pitch, round(n.onset - b * bar_beats, 4), round(n.duration, 4)))
    best = run = 0
    prev = None
    for b in range(max(bars, default=-1) + 1):
        cur = sorted(bars.get(b, []))
        if not cur:
            run, prev = 0, None
            continue
        run = run + 1 if cur == prev else 1
        best = max(best, run)
        prev = cur
    return best


def _piano_measures(song, style: str) -> tuple[float, float]:
    """Notes per bar and chord-tone ratio (every note, against the chord in force) of the song's
    piano part (NaN where the style has none)."""
    from yuefu.arrange import keys_track_name
    from yuefu.core.theory import parse_chord

    name = keys_track_name(song, style)
    if name is None:
        return float("nan"), float("nan")
    notes = song.track(name).notes
    hits = []
    for n in notes:
        c = song.chord_at(n.onset + 1e-9)
        if c is not None:
            hits.append(n.pitch % 12 in parse_chord(c.symbol).pitch_classes)
    bars = song.end_beat / song.time_signatures[0].bar_beats if song.time_signatures else song.end_beat / 4
    return len(notes) / max(1.0, bars), float(np.mean(hits)) if hits else float("nan")


COMPARE_STYLES = ("pop", "ballad", "folk")


def compare(seeds: int) -> list[dict]:
    """Both engines on the same 6 x ``seeds`` requests (see the module docstring)."""
    from yuefu.compose import chord_tone_ratio, in_key_ratio, tone_agreement

    out = []
    with tempfile.TemporaryDirectory(prefix="yuefu-bench-") as tmp:
        for engine in ("stats", "model"):
            for style in COMPARE_STYLES:
                for lang in ("zh", "en"):
                    for seed in range(seeds):
                        si = STYLES.index(style)
                        theme = THEMES[lang][(si + seed) % len(THEMES[lang])]
                        spec = SongSpec(theme=theme, emotion=EMOTIONS[(si + seed) % len(EMOTIONS)],
                                        style=style, language=lang, length_s=120.0, seed=seed)
                        proj = Path(tmp) / f"{engine}-{style}-{lang}-{seed}"
                        res = run_pipeline(_pipeline(spec, SYMBOLIC, engine), proj)
                        melody = read_midi(proj / "melody.mid")
                        song = read_midi(proj / "song.mid")
                        motive = Motive.load(proj / "motive.json")
                        notes = sorted(melody.lyric_track().notes, key=lambda n: n.onset)
                        pitches = np.array([n.pitch for n in notes])
                        pcs = np.bincount(pitches % 12, minlength=12).astype(float)
                        npb, ctr = _piano_measures(song, style)
                        out.append({
                            "engine": engine, "style": style, "lang": lang, "seed": seed,
                            "meter": "/".join(map(str, motive.meter)),
                            "tone": tone_agreement(melody) if lang == "zh" else float("nan"),
                            "entropy": mb.entropy(pcs), "in_key": in_key_ratio(melody),
                            "repeat": longest_repeated_bars(notes, motive.bar_beats),
                            "chord_tones": chord_tone_ratio(song),
                            "span": float(np.percentile(pitches, 95) - np.percentile(pitches, 5)),
                            "piano_npb": npb, "piano_ct": ctr,
                            "seconds": sum(res.seconds.values()),
                            "melody_s": res.seconds["melody"], "arrange_s": res.seconds["arrange"],
                        })
                        print(f"  {engine} {style} {lang} seed {seed}: {out[-1]['seconds']:.1f} s",
                              file=sys.stderr)
    return out


def print_compare(rows: list[dict], seeds: int) -> None:
    cols = (("tone", "tone agreement (zh)"), ("entropy", "pitch-class entropy (bits)"),
            ("in_key", "in-key notes"), ("repeat", "longest repeated-bar run"),
            ("chord_tones", "strong-beat chord tones (song chords)"), ("span", "melody range used (st)"),
            ("piano_npb", "piano notes per bar"), ("piano_ct", "piano chord-tone ratio"),
            ("seconds", "theme -> song.mid (s)"), ("melody_s", "melody stage (s)"),
            ("arrange_s", "arrange stage (s)"))
    print(f"# songwriter engines — {time.strftime('%Y-%m-%d')}\n")
    print(f"{platform.machine()}, Python {platform.python_version()}; {len(COMPARE_STYLES)} styles x 2 "
          f"languages x {seeds} seed(s), 120 s songs, the same requests for both engines\n")
    print("| song | engine | meter | " + " | ".join(c[1] for c in cols) + " |")
    print("|---|---|---|" + "---|" * len(cols))

    def fmt(v: float) -> str:
        return "-" if v != v else (f"{v:.0f}" if float(v).is_integer() and abs(v) >= 1 else f"{v:.2f}")

    for r in rows:
        print(f"| {r['style']} {r['lang']} {r['seed']} | {r['engine']} | {r['meter']} | "
              + " | ".join(fmt(float(r[c])) for c, _ in cols) + " |")
    for engine in ("stats", "model"):
        sel = [r for r in rows if r["engine"] == engine]
        means = []
        for c, _ in cols:
            vals = [float(r[c]) for r in sel if float(r[c]) == float(r[c])]
            means.append(f"{np.mean(vals):.2f}" if vals else "-")
        print(f"| **mean** | **{engine}** | | " + " | ".join(means) + " |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="songwriter benchmark")
    ap.add_argument("--seeds", type=int, default=None,
                    help="seeds per style and language (default 4; 1 with --compare)")
    ap.add_argument("--speed-runs", type=int, default=5, help="3-minute songs to time (default 5)")
    ap.add_argument("--quick", action="store_true", help="1 seed, 2 speed runs")
    ap.add_argument("--engine", choices=("stats", "model"), default="stats",
                    help="the melody and piano engine of the quality and speed runs (default stats)")
    ap.add_argument("--compare", action="store_true",
                    help="both engines side by side on 6 songs (zh/en x pop, ballad, folk) instead")
    a = ap.parse_args(argv)
    if a.compare:
        seeds = a.seeds or 1
        print_compare(compare(seeds), seeds)
        return 0
    a.seeds = a.seeds or 4
    if a.quick:
        a.seeds, a.speed_runs = 1, 2
    rows, n, secs = quality(a.seeds, a.engine)
    times, louds = speed(a.speed_runs, a.engine)
    print(f"# songwriter benchmark ({a.engine} engine) — {time.strftime('%Y-%m-%d')}\n")
    print(f"{platform.machine()}, Python {platform.python_version()}; {n} songs "
          f"({len(STYLES)} styles x 2 languages x {a.seeds} seeds, 120 s each) in {secs:.0f} s\n")
    print("| metric | ours | anchor: random walk | POP909 held-out | ours / anchor |")
    print("|---|---|---|---|---|")
    for name, mine, anchor, refv in rows:
        ratio = mine / anchor if anchor and not math.isnan(anchor) else float("nan")
        print(f"| {name} | {mine:.3f} | {anchor:.3f} | {refv} | {ratio:.2f} |")
    med = statistics.median(times)
    print(f"\nSpeed: 3-minute song from theme to song.wav, median of {len(times)}: **{med:.1f} s** "
          f"(target <= 30 s); runs: {', '.join(f'{t:.1f}' for t in times)} s")
    print("\n| run | song s | LUFS | dBTP | stage seconds |")
    print("|---|---|---|---|---|")
    for i, r in enumerate(louds):
        print(f"| {i} | {r['duration_s']:.0f} | {r['lufs']:.2f} | {r['dbtp']:.2f} | "
              f"{json.dumps(r['stages'])} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
