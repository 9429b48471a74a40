"""Benchmark: the melody writer against a random-walk baseline and held-out POP909 melodies.

For every style x language x seed (7 x 2 x 4 = 56 melodies by default) it makes up a lyric of
realistic line lengths (verse, chorus, a second verse with new words, the chorus again; Chinese
lines of 5-10 characters, English lines of 5-9 syllables, parallel lines of equal length in
pairs), chooses the motive with :func:`yuefu.compose.choose_motive`, writes the melody with
:func:`yuefu.compose.write_melody`, harmonises it with :func:`yuefu.compose.harmonize` and
measures it. The baseline writes the same syllables as a random walk (steps of up to two scale
degrees, eighths and quarters, a half note at each line end) and is harmonised the same way.

Distribution distances are Jensen-Shannon divergences (base 2, 0..1) between the pooled
histograms of all generated melodies and those of the 84 held-out POP909 songs, which ship in
``melody_pop909.json`` (so the benchmark needs no dataset).

Usage::

    python benchmarks/melody.py [--seeds 4]
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np

from yuefu.compose import (
    choose_motive,
    chord_tone_ratio,
    harmonize,
    in_key_ratio,
    tone_agreement,
    write_melody,
)
from yuefu.compose._common import load_stats, section_kind
from yuefu.core.motive import Motive
from yuefu.core.score import Note, Score, Track
from yuefu.core.spec import STYLES, SongSpec

ZH_CHARS = ("月光海风云山水花夜星天心梦雨雪春秋歌路远近回家走看听想你我他们的了在是有不一人"
            "时间爱情长短红白青蓝明暗温柔今朝晚灯城河桥船岸边声音笑泪光影")
EN_WORDS = ("the|sea|night|light|a-way|ri-ver|sum-mer|dream|star|heart|home|sing|with|me|and|"
            "in|my|you|o-ver|ev-er|for-ev-er|moun-tain|morn-ing|wind|rain|gold-en|hold|on|to|"
            "tell|be-fore|un-der|sky|fly|hear|call-ing|a-gain|to-night|wait-ing|slow-ly").split("|")
THEMES = {"zh": "夏夜的海边", "en": "summer night by the sea"}
EMOTIONS = ("happy", "sad", "calm", "excited", "romantic", "nostalgic", "epic", "playful")


def make_line(rng: np.random.Generator, lang: str, n: int) -> list[str]:
    if lang == "zh":
        return [ZH_CHARS[int(i)] for i in rng.integers(0, len(ZH_CHARS), n)]
    out: list[str] = []
    while len(out) < n:
        word = EN_WORDS[int(rng.integers(0, len(EN_WORDS)))]
        parts = word.split("-")
        if len(out) + len(parts) > n:
            continue
        out += [p + "-" for p in parts[:-1]] + [parts[-1]]
    return out


def make_lyrics(rng: np.random.Generator, lang: str) -> list[tuple[str, list[list[str]]]]:
    lo, hi = (5, 10) if lang == "zh" else (5, 9)

    def section(n_lines: int) -> list[list[str]]:
        lens = []
        for _ in range(n_lines // 2):
            k = int(rng.integers(lo, hi + 1))
            lens += [k, k]
        return [make_line(rng, lang, k) for k in lens]

    verse1, chorus, verse2 = section(4), section(4), section(4)
    return [("verse", verse1), ("chorus", chorus), ("verse 2", verse2), ("chorus", chorus)]


def random_walk(sections: list[tuple[str, list[list[str]]]], motive: Motive, seed: int) -> Score:
    """The baseline: a scale random walk, eighths and quarters, a half note at each line end."""
    rng = np.random.default_rng(seed)
    key = motive.key_obj
    lo, hi = motive.voice_range
    scale = [p for p in range(lo, hi + 1) if key.contains(p)]
    bar = motive.bar_beats
    s = Score()
    s.time_signatures[0] = type(s.time_signatures[0])(0.0, *motive.meter)
    from yuefu.core.score import KeySignature, Section

    s.key_signatures.append(KeySignature(0.0, key))
    t = s.add_track(Track("vocal", role="vocal"))
    idx = len(scale) // 2
    beat = 0.0
    for name, lines in sections:
        s.sections.append(Section(beat, name))
        for line in lines:
            for j, syl in enumerate(line):
                idx = int(np.clip(idx + int(rng.integers(-2, 3)), 0, len(scale) - 1))
                d = 2.0 if j == len(line) - 1 else float(rng.choice([0.5, 1.0]))
                t.notes.append(Note(scale[idx], beat, d, lyric=syl))
                beat += d
            beat = math.ceil((beat + 0.5) / bar) * bar
    return s


def js(p: np.ndarray, q: np.ndarray) -> float:
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / b[nz])))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def entropy(h: np.ndarray) -> float:
    p = h / h.sum()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


class Pool:
    def __init__(self) -> None:
        self.iv = np.zeros(25)
        self.dur = np.zeros(17)
        self.pc = np.zeros(12)
        self.metrics: dict[str, list[float]] = {}

    def add(self, name: str, value: float) -> None:
        if not math.isnan(value):
            self.metrics.setdefault(name, []).append(value)

    def measure(self, s: Score, sections: list, motive: Motive) -> None:
        notes = sorted(s.tracks[0].notes, key=lambda n: n.onset)
        key = motive.key_obj
        rel_major = key.relative_major_tonic()
        syl = [x for _, lines in sections for line in lines for x in line]
        sung = [n.lyric for n in notes if n.lyric and n.lyric != "-"]
        self.add("syllable coverage", float(sung == syl))
        lo, hi = motive.voice_range
        self.add("range compliance", float(np.mean([lo <= n.pitch <= hi for n in notes])))
        self.add("in-key ratio", in_key_ratio(s))
        if s.chords:
            self.add("strong-beat chord-tone ratio (own skeleton)", chord_tone_ratio(s))
        s.chords = harmonize(s, motive)
        self.add("strong-beat chord-tone ratio (harmonize)", chord_tone_ratio(s))
        if motive.language == "zh":
            self.add("tone agreement (zh)", tone_agreement(s))
        pcs = np.bincount([(n.pitch - rel_major) % 12 for n in notes], minlength=12).astype(float)
        self.pc += pcs
        self.add("pitch-class entropy (bits)", entropy(pcs))
        for a, b in zip(notes[:-1], notes[1:], strict=False):
            if b.onset - a.end < 0.75:  # within a phrase
                self.iv[int(np.clip(b.pitch - a.pitch, -12, 12)) + 12] += 1
        for n in notes:
            self.dur[int(np.clip(round(n.duration * 4), 1, 16))] += 1
        # chorus vs verse
        secs = sorted(s.sections, key=lambda x: x.beat)
        by_kind: dict[str, list[int]] = {}
        for i, sec in enumerate(secs):
            end = secs[i + 1].beat if i + 1 < len(secs) else math.inf
            by_kind.setdefault(section_kind(sec.name), []).extend(
                n.pitch for n in notes if sec.beat <= n.onset < end)
        if by_kind.get("chorus") and by_kind.get("verse"):
            self.add("chorus - verse mean pitch (semitones)",
                     float(np.mean(by_kind["chorus"]) - np.mean(by_kind["verse"])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="melody benchmark")
    ap.add_argument("--seeds", type=int, default=4)
    args = ap.parse_args(argv)
    ref = load_stats().reference
    ref_iv = np.asarray(ref["interval_semitones"], dtype=float)
    ref_dur = np.asarray(ref["duration_sixteenths"], dtype=float)
    ref_pc = np.asarray(ref["pitch_class_rel_major_tonic"], dtype=float)
    ours, base = Pool(), Pool()
    n = 0
    t0 = time.perf_counter()
    elapsed = 0.0
    for style in STYLES:
        for lang in ("zh", "en"):
            for seed in range(args.seeds):
                rng = np.random.default_rng([seed, STYLES.index(style), lang == "zh"])
                sections = make_lyrics(rng, lang)
                emotion = EMOTIONS[(seed + STYLES.index(style)) % len(EMOTIONS)]
                spec = SongSpec(theme=THEMES[lang], emotion=emotion, style=style, language=lang, seed=seed)
                motive = choose_motive(spec, lexical_seeds=())
                t = time.perf_counter()
                s = write_melody(sections, motive, seed=seed)
                elapsed += time.perf_counter() - t
                ours.measure(s, sections, motive)
                base.measure(random_walk(sections, motive, seed), sections, motive)
                n += 1
    rows = []
    for name in ours.metrics:
        a = float(np.mean(ours.metrics[name]))
        b = float(np.mean(base.metrics.get(name, [float("nan")])))
        rows.append((name, a, b, "-"))
    anchor_entropy = entropy(ref_pc)
    rows = [(r[0], r[1], r[2], f"{anchor_entropy:.3f}" if "entropy" in r[0] else r[3]) for r in rows]
    for label, mine, theirs, refh in (("interval histogram JS vs POP909", ours.iv, base.iv, ref_iv),
                                      ("note-length histogram JS vs POP909", ours.dur, base.dur,
                                       ref_dur[:17]),
                                      ("pitch-class histogram JS vs POP909", ours.pc, base.pc, ref_pc)):
        rows.append((label, js(mine, refh), js(theirs, refh), "0"))
    print(f"melody benchmark: {n} melodies ({len(STYLES)} styles x 2 languages x {args.seeds} seeds), "
          f"{platform.machine()} {platform.python_version()}, write_melody {1000 * elapsed / n:.0f} ms/song "
          f"(total {time.perf_counter() - t0:.1f} s)")
    print()
    print("| metric | ours | random walk | POP909 held-out | ours / random walk |")
    print("|---|---|---|---|---|")
    for name, a, b, refv in rows:
        ratio = a / b if b and not math.isnan(b) else float("nan")
        print(f"| {name} | {a:.3f} | {b:.3f} | {refv} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
