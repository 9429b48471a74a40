"""Benchmark: lyric writing in Chinese and English against a constrained unigram sampler.

For each of 24 themes per language (emotions and styles cycled), :func:`yuefu.lyrics.write_lyrics`
writes 30 candidates of a full song (180 s form) and the best one is measured:

- rhyme rate: share of line ends that rhyme with another line end of their section;
- syllable accuracy: share of lines with exactly the planned syllables;
- theme coverage: share of the theme's words that appear;
- distinct-1 / distinct-2: distinct units (characters / words) and unit pairs over all units,
  in the song's distinct lines;
- LM perplexity per unit of the lines under the shipped model (lower: more like real text);
- copy rate (with the datasets): share of lines that occur verbatim in the training text;
- time for 30 candidates (median over themes, one core, model already loaded).

The anchor, run side by side on the same forms and rhyme groups: a sampler that draws each line
unit by unit from the model's unigram distribution under the same constraints (exact syllables,
line end in the same rhyme group, theme words inserted at line starts as in our hook lines). With
the datasets present, the perplexity of held-out real lines is printed as a second reference.

Usage::

    python benchmarks/lyrics.py            # 24 themes per language
    python benchmarks/lyrics.py --quick    # 6 themes per language
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from yuefu.core.spec import EMOTIONS, STYLES  # noqa: E402
from yuefu.lyrics import LyricLine, Lyrics, LyricSection, LyricsRequest, write_lyrics  # noqa: E402
from yuefu.lyrics.corpus import chinese_poems, default_datasets_dir, hymn_poems, is_heldout  # noqa: E402
from yuefu.lyrics.decode import load_tables  # noqa: E402
from yuefu.lyrics.form import default_form  # noqa: E402
from yuefu.lyrics.phonetics import han_chars, syllable_count, words_en  # noqa: E402
from yuefu.lyrics.seeds import theme_words  # noqa: E402
from yuefu.lyrics.text import rhyme_rate  # noqa: E402

THEMES = {
    "zh": ["夏夜的海边", "故乡的月亮", "春天的校园", "长城", "雨中的车站", "第一场雪", "毕业那天", "江南小镇",
           "深夜的城市", "母亲的手", "远方的朋友", "秋天的落叶", "星空下的约定", "大漠孤烟", "离别的渡口",
           "少年的梦想", "清晨的菜市场", "山间的小路", "老房子", "灯火阑珊", "黄河", "海上日出", "花开的声音",
           "一杯清茶"],
    "en": ["summer night by the sea", "the old lighthouse", "city lights", "first snow", "my mother's hands",
           "the last train home", "autumn leaves", "a letter never sent", "running through the fields",
           "stars above the desert", "rain on the window", "a small town", "graduation day", "the river",
           "morning coffee", "a friend far away", "dancing in the kitchen", "mountain road", "the harbour",
           "candle in the dark", "wild horses", "an empty room", "the garden gate", "golden fields"],
}


def _units(text: str, language: str) -> list[str]:
    return list(han_chars(text)) if language == "zh" else words_en(text)


def _ppl(lm, lines: list[list[str]]) -> float:  # noqa: ANN001 - an NGramLM
    return lm.perplexity(lines)[0]


def unigram_song(tables, form, theme: tuple[str, ...], keys: dict[str, tuple[str, ...]], language: str,  # noqa: ANN001
                 rng: np.random.Generator) -> Lyrics:
    """The anchor: every line drawn from the unigram distribution under the same constraints."""
    lm = tables.lm
    p = np.where(tables.decodable, lm.p0, 0.0).astype(np.float64)
    sections: dict[str, LyricSection] = {}
    used_theme = 0
    for plan in form:
        if plan.name in sections:
            continue
        letters = list(dict.fromkeys(plan.rhyme_scheme))
        kmap = dict(zip(letters, keys[plan.name], strict=False))
        lines = []
        for j, (n, letter) in enumerate(zip(plan.syllables, plan.rhyme_scheme, strict=True)):
            units: list[str] = []
            left = n
            if j == 0 and used_theme < len(theme):
                w = theme[used_theme]
                k = syllable_count(w, language=language)
                if k < n:
                    units.append(w)
                    left -= k
                    used_theme += 1
            while left > 0:
                fits = (tables.syl >= 1) & (tables.syl < left)
                final = (tables.syl == left) & tables.rhyme_mask(kmap.get(letter, ""))
                q = p * (fits | final)
                if q.sum() == 0:
                    q = p * (tables.syl == 1)
                u = int(rng.choice(len(q), p=q / q.sum()))
                units.append(lm.vocab[u])
                left -= int(tables.syl[u])
            text = "".join(units) if language == "zh" else " ".join(units)
            lines.append(LyricLine.from_text(text, language=language))
        sections[plan.name] = LyricSection(plan.name, tuple(lines), keys[plan.name])
    return Lyrics(language=language, sections=tuple(sections[p.name] for p in form),
                  details={"theme_words": list(theme)})


def measure(lyr: Lyrics, form, theme: tuple[str, ...], lm, corpus: set[str] | None) -> dict:  # noqa: ANN001
    language = lyr.language
    uniq = [ln for s in lyr.unique_sections() for ln in s.lines]
    plan_syl = {p.name: p.syllables for p in form}
    exact = [syllable_count(ln.text, language=language) == n
             for s in lyr.unique_sections() for ln, n in zip(s.lines, plan_syl[s.name], strict=True)]
    units = [_units(ln.text, language) for ln in uniq]
    flat = [u for us in units for u in us]
    pairs = [pr for us in units for pr in zip(us, us[1:], strict=False)]
    text = [ln.text for ln in uniq]
    cov = sum(any((w in han_chars(t)) if language == "zh" else (w in words_en(t)) for t in text)
              for w in theme) / len(theme)
    out = {
        "rhyme_rate": rhyme_rate(lyr.sections, language=language),
        "syllable_accuracy": sum(exact) / len(exact),
        "theme_coverage": cov,
        "distinct_1": len(set(flat)) / max(1, len(flat)),
        "distinct_2": len(set(pairs)) / max(1, len(pairs)),
        "perplexity": _ppl(lm, units),
    }
    if corpus is not None:
        key = (lambda t: han_chars(t)) if language == "zh" else (lambda t: " ".join(words_en(t)))
        out["copy_rate"] = sum(key(t) in corpus for t in text) / len(text)
    return out


def _corpus(language: str, datasets: Path) -> tuple[set[str] | None, list[list[str]] | None]:
    if not datasets.is_dir():
        return None, None
    if language == "zh":
        poems = list(chinese_poems(datasets))
        train = {ln for p in poems if not is_heldout(p.key) for ln in p.lines}
        # whole lines too: two clauses of a poem sung as one line
        train |= {a + b for p in poems if not is_heldout(p.key)
                  for a, b in zip(p.lines, p.lines[1:], strict=False)}
        held = [list(ln) for p in poems if is_heldout(p.key) for ln in p.lines][:20000]
        return train, held
    poems = list(hymn_poems(datasets))
    from yuefu.lyrics.corpus import gutenberg_poems

    poems += list(gutenberg_poems())
    train = {" ".join(words_en(ln)) for p in poems if not is_heldout(p.key) for ln in p.lines}
    held = [words_en(ln) for p in poems if is_heldout(p.key) for ln in p.lines]
    held = [h for h in held if 3 <= len(h) <= 14][:20000]
    return train, held


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="6 themes per language")
    ap.add_argument("--datasets", type=Path, default=default_datasets_dir())
    ap.add_argument("--languages", nargs="*", default=["zh", "en"])
    args = ap.parse_args(argv)
    print(f"# Lyrics benchmark ({platform.machine()}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')})\n")
    for language in args.languages:
        tables = load_tables(language)
        corpus, held = _corpus(language, args.datasets)
        themes = THEMES[language][: 6 if args.quick else None]
        ours: list[dict] = []
        anchor: list[dict] = []
        times: list[float] = []
        write_lyrics(LyricsRequest(theme=themes[0], language=language, length_s=30), n=1)  # warm caches
        for i, theme in enumerate(themes):
            emotion = EMOTIONS[i % len(EMOTIONS)]
            style = STYLES[i % len(STYLES)]
            req = LyricsRequest(theme=theme, emotion=emotion, style=style, language=language, length_s=180,
                                seed=i)
            t0 = time.perf_counter()
            songs = write_lyrics(req, n=30)
            times.append(time.perf_counter() - t0)
            best = songs[0]
            form = default_form(style, language, length_s=180)
            tw = theme_words(theme, language=language)
            ours.append(measure(best, form, tw, tables.lm, corpus))
            keys = {s.name: s.rhyme_groups for s in best.unique_sections()}
            base = unigram_song(tables, form, tw, keys, language, np.random.default_rng(i))
            anchor.append(measure(base, form, tw, tables.lm, corpus))
            if i == 0:
                print(f"## {language}: sample (theme {theme!r}, {emotion}, {style}, seed {i})\n")
                print("```\n" + best.to_text() + "```\n")
        print(f"## {language}: {len(themes)} themes, 30 candidates each, best candidate measured\n")
        print("| metric | yuefu | anchor: unigram sampler, same constraints | ratio |")
        print("|---|---|---|---|")
        for key, better in [("rhyme_rate", "higher"), ("syllable_accuracy", "higher"),
                            ("theme_coverage", "higher"), ("distinct_1", "higher"), ("distinct_2", "higher"),
                            ("perplexity", "lower"), ("copy_rate", "lower")]:
            if key not in ours[0]:
                continue
            a = statistics.mean(m[key] for m in ours if not math.isnan(m[key]))
            b = statistics.mean(m[key] for m in anchor if not math.isnan(m[key]))
            ratio = f"{a / b:.2f}" if b else "-"
            print(f"| {key} ({better} is better) | {a:.3f} | {b:.3f} | {ratio} |")
        med = statistics.median(times)
        print(f"| time for 30 candidates, s (median; max {max(times):.1f}) | {med:.2f} | - | - |")
        if held:
            gen = statistics.mean(m["perplexity"] for m in ours)
            print(f"\nHeld-out real lines ({len(held):,}): perplexity {_ppl(tables.lm, held):.1f} per unit "
                  f"under the same model (generated lines: {gen:.1f}).")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
