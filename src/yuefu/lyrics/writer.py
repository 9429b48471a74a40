"""Write a song's lyrics: plan the form and rhymes, decode every line, rank the candidates.

For each candidate (its own seeded generator, stream ``lyrics/<i>``):

1. rhyme keys per section and rhyme letter, drawn from the groups the model most often ends
   lines on, weighted up where a theme word ends in that group (so a theme word can close a line);
   the chorus, the verses, the pre-chorus and the bridge draw independently;
2. a random half of the emotion's imagery words to boost, so candidates differ in imagery;
3. the chorus first (the hook line must hold a theme word), then the other sections in order,
   the first line of each verse holding a theme word not yet used; every line decoded by
   :func:`yuefu.lyrics.decode.decode_line` under its syllable count, rhyme and the song's state
   (words used, lines used, end words used in the section);
4. a score: LM log-probability per syllable, rhyme rate, theme coverage, imagery and the share
   of distinct word pairs; candidates are distinct by text and ranked best first.

>>> from yuefu.lyrics import write_lyrics, LyricsRequest
>>> best = write_lyrics(LyricsRequest(theme="夏夜的海边", emotion="nostalgic", style="ballad",
...                                   language="zh", length_s=40), n=3)[0]
>>> [len(ln.syllables) for ln in best.sections[0].lines]
[9, 9, 9, 9]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.core.spec import MAX_SEED, STYLES, SongSpec
from yuefu.lyrics.decode import NEG, LineRequest, LineResult, LMTables, decode_line, load_tables, make_phrase
from yuefu.lyrics.form import SectionPlan, default_form
from yuefu.lyrics.phonetics import han_chars, words_en
from yuefu.lyrics.seeds import check_emotion, check_language, check_theme, imagery_words, theme_words
from yuefu.lyrics.text import LyricLine, Lyrics, LyricSection, rhyme_rate

__all__ = ["LyricsRequest", "write_lyrics", "WriterSettings"]

MAX_CANDIDATES = 200


@dataclass(frozen=True)
class LyricsRequest:
    """What to write: theme, emotion, style, language, length, seed; optionally a form of your own.

    Parameters
    ----------
    theme : str
        Keywords or a sentence in ``language`` (1..200 characters).
    emotion, style, language : str
        One of :data:`yuefu.core.spec.EMOTIONS`, :data:`~yuefu.core.spec.STYLES`, ``zh``/``en``.
    length_s : float
        Song length in seconds, 10..600 (chooses the form).
    seed : int
        0..2**63-1.
    form : tuple of SectionPlan, optional
        Replaces :func:`yuefu.lyrics.form.default_form`.
    seeds : tuple of str, optional
        Lexical seeds chosen elsewhere (the motive stage's :func:`~yuefu.lyrics.lexical_seeds`);
        the words that are not the theme's own become the imagery. Default: the emotion's table.
    """

    theme: str
    emotion: str = "happy"
    style: str = "pop"
    language: str = "en"
    length_s: float = 180.0
    seed: int = 0
    form: tuple[SectionPlan, ...] | None = None
    seeds: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        check_language(self.language)
        object.__setattr__(self, "theme", check_theme(self.theme, language=self.language))
        check_emotion(self.emotion)
        if self.style not in STYLES:
            raise ParameterError(f"unknown style {self.style!r}; valid: {', '.join(STYLES)}")
        if isinstance(self.length_s, bool) or not isinstance(self.length_s, (int, float)):
            raise ParameterError(f"length_s must be a number of seconds, got {self.length_s!r}")
        if not 10.0 <= float(self.length_s) <= 600.0:
            raise ParameterError(f"length_s must be 10..600 seconds, got {self.length_s}")
        _check_seed(self.seed)
        if self.form is not None:
            form = tuple(self.form)
            if not form or not all(isinstance(s, SectionPlan) for s in form):
                raise ParameterError("form must be a non-empty sequence of SectionPlan")
            object.__setattr__(self, "form", form)
        if self.seeds is not None:
            if isinstance(self.seeds, str) or not all(isinstance(w, str) and w.strip() for w in self.seeds):
                raise ParameterError("seeds must be a sequence of words")
            seeds = tuple(w.strip() for w in self.seeds)
            if len(seeds) > 40 or any(len(w) > 20 for w in seeds):
                raise ParameterError("seeds: at most 40 words of at most 20 characters each")
            object.__setattr__(self, "seeds", seeds)

    @classmethod
    def from_spec(cls, spec: SongSpec) -> LyricsRequest:
        return cls(theme=spec.theme, emotion=spec.emotion, style=spec.style, language=spec.language,
                   length_s=spec.length_s, seed=spec.seed)


@dataclass(frozen=True)
class WriterSettings:
    """Decoder and ranking settings (the defaults are what the benchmarks measure)."""

    beam_zh: int = 8  # characters are cheap to search: a wider beam finds clauses that end well
    beam_en: int = 5
    expand: int = 5
    temperature: float = 0.7
    taste: float = 0.6
    theme_bonus: float = 1.5
    required_bonus: float = 3.0
    imagery_bonus: float = 1.0
    used_bonus: float = 0.3
    song_repeat_penalty: float = 0.8
    start_repeat_penalty: float = 1.0
    word_bonus_en: float = 0.8
    rhyme_choices: int = 8
    end_widen: int = 0
    w_rhyme: float = 2.0
    w_theme: float = 1.0
    w_imagery: float = 0.3
    w_distinct: float = 1.5


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise ParameterError(f"seed must be a whole number 0..{MAX_SEED}, got {seed!r}")
    return int(seed)


def _rhyme_candidates(tables: LMTables) -> tuple[list[str], np.ndarray]:
    """Rhyme keys worth writing to, with a weight each (how often the model ends lines there)."""
    cache = tables._group_cache.setdefault("__candidates__", None)
    if cache is not None:
        return cache
    ok = tables.final_ok
    weights: Counter[int] = Counter()
    good: Counter[int] = Counter()
    for u in np.flatnonzero(ok).tolist():
        k = int(tables.rhyme[u])
        weights[k] += int(tables.final_count[u])
        good[k] += int(tables.final_count[u]) >= (30 if tables.language == "en" else 20)
    min_good = 6 if tables.language == "en" else 10
    keys = [k for k in weights if good[k] >= min_good]
    keys.sort(key=lambda k: (-weights[k], k))
    keys = keys[:40]
    names = [tables.rhyme_names[k] for k in keys]
    w = np.array([weights[k] for k in keys], dtype=np.float64)
    tables._group_cache["__candidates__"] = (names, w)
    return names, w


def _choose_keys(tables: LMTables, n_keys: int, theme_keys: set[str], rng: np.random.Generator,
                 settings: WriterSettings, avoid: set[str]) -> list[str]:
    names, w = _rhyme_candidates(tables)
    w = w ** 0.6
    w = np.array([wi * (2.0 if nm in theme_keys else 1.0) for nm, wi in zip(names, w, strict=True)])
    order = np.argsort(-w, kind="stable")[: settings.rhyme_choices]
    pool = [names[i] for i in order]
    pw = np.array([w[i] for i in order])
    out: list[str] = []
    for _ in range(n_keys):
        mask = np.array([nm not in out and nm not in avoid for nm in pool])
        if not mask.any():
            mask = np.array([nm not in out for nm in pool])
        p = np.where(mask, pw, 0.0)
        out.append(pool[int(rng.choice(len(pool), p=p / p.sum()))])
    return out


def _display_en(words: tuple[str, ...], tables: LMTables) -> str:
    """Words as a lyric line: the first word, I and names capitalised."""
    cap = tables.lm.extras.get("cap")
    out = []
    for i, w in enumerate(words):
        u = tables.lm.index.get(w)
        if w == "i" or w.startswith("i'"):
            w = "I" + w[1:]
        elif i == 0 or (cap is not None and u is not None and float(cap[u]) > 0.6):
            w = w[:1].upper() + w[1:]
        out.append(w)
    return " ".join(out)


def _line_text(res: LineResult, tables: LMTables) -> str:
    return res.text("zh") if tables.language == "zh" else _display_en(res.surfaces, tables)


#: Clause patterns of a Chinese line by its length, with weights: the ci's own rhythms (a nine-
#: character line is sung 4+5, 3+6 or 5+4). Parallel lines of a section share one pattern.
CLAUSES_ZH: dict[int, tuple[tuple[tuple[int, ...], float], ...]] = {
    6: (((6,), 0.5), ((3, 3), 0.5)),
    7: (((7,), 0.7), ((3, 4), 0.3)),
    8: (((4, 4), 0.5), ((3, 5), 0.5)),
    9: (((4, 5), 0.5), ((3, 6), 0.3), ((5, 4), 0.2)),
    10: (((5, 5), 0.4), ((3, 7), 0.3), ((4, 6), 0.3)),
    11: (((4, 7), 0.6), ((5, 6), 0.4)),
    12: (((5, 7), 0.5), ((6, 6), 0.5)),
}


def clause_plan(n_syllables: int, rng: np.random.Generator) -> tuple[int, ...]:
    """Clause lengths for a Chinese line of ``n_syllables`` characters (see :data:`CLAUSES_ZH`)."""
    if n_syllables <= 5:
        return (n_syllables,)
    if n_syllables in CLAUSES_ZH:
        options = CLAUSES_ZH[n_syllables]
        w = np.array([x[1] for x in options])
        return options[int(rng.choice(len(options), p=w / w.sum()))][0]
    head = clause_plan(n_syllables - 7, rng)  # longer lines: clauses, then a final seven
    return (*head, 7)


def _contains(text: str, word: str, language: str) -> bool:
    if language == "zh":
        return word in han_chars(text)
    return word in words_en(text)


class _Song:
    """The state of one candidate while its lines are written."""

    def __init__(self, tables: LMTables, settings: WriterSettings, theme: tuple[str, ...],
                 imagery: tuple[str, ...], rng: np.random.Generator) -> None:
        self.tables = tables
        self.s = settings
        self.theme = theme
        self.imagery = imagery
        self.used_units: Counter[int] = Counter()
        self.starts: Counter[int] = Counter()
        self.lines: set[str] = set()
        self.text = ""
        # A taste of its own for each candidate: a fixed random preference per unit, so that
        # candidates differ in vocabulary while each stays consistent with itself.
        taste = rng.normal(0.0, settings.taste, size=tables.prior.shape[0])
        base = np.where(tables.decodable, tables.prior + taste, NEG).astype(np.float64)
        self.base = base

    def used(self, word: str) -> bool:
        return any(_contains(t, word, self.tables.language) for t in self.text.split("\n"))

    def request(self, n_syl: int, key: str | None, required: tuple[str, ...],
                forbidden_final: set[int]) -> LineRequest:
        t, s = self.tables, self.s
        adj = self.base.copy()
        if self.used_units:
            ids = np.fromiter(self.used_units.keys(), dtype=np.int64)
            cnt = np.fromiter(self.used_units.values(), dtype=np.float64)
            adj[ids] -= s.song_repeat_penalty * cnt * t.rep_weight[ids]
        phrases = []
        for w in self.theme + self.imagery:
            is_theme = w in self.theme
            used = self.used(w)
            bonus = s.used_bonus if used else (s.theme_bonus if is_theme else s.imagery_bonus)
            req = w in required
            if req:
                bonus = s.required_bonus
            ph = make_phrase(t, w, bonus=bonus, required=req)
            known = len(ph.ids) == 1 and ph.ids[0] > 2
            writable = known and adj[ph.ids[0]] > NEG / 2
            if writable and not req:
                adj[ph.ids[0]] += bonus
                continue
            if known and not writable and not is_theme:
                continue  # imagery the decoder never writes; a theme word is placed whole regardless
            phrases.append(ph)
        start = np.zeros_like(adj) if t.start_adjust is None else t.start_adjust.astype(np.float64)
        if self.starts:  # lines of a song do not all start alike
            ids = np.fromiter(self.starts.keys(), dtype=np.int64)
            start[ids] -= s.start_repeat_penalty * np.fromiter(self.starts.values(), dtype=np.float64)
        return LineRequest(n_syllables=n_syl, rhyme_key=key, adjust=adj, phrases=phrases,
                           forbidden_final=forbidden_final, forbidden_texts=set(self.lines),
                           start_adjust=start)

    def add(self, res: LineResult, text: str) -> None:
        self.used_units.update(u for u in res.ids if u > 2)
        self.starts[res.ids[0]] += 1
        self.lines.add(_line_key(res.surfaces, self.tables.language))
        self.text += text + "\n"


def _line_key(surfaces: tuple[str, ...], language: str) -> str:
    return "".join(surfaces) if language == "zh" else " ".join(surfaces)


def _write_section(song: _Song, plan: SectionPlan, keys: dict[str, str], required_first: tuple[str, ...],
                   rng: np.random.Generator, language: str) -> tuple[list[LyricLine], float, int, bool]:
    t, s = song.tables, song.s
    lines: list[LyricLine] = []
    lm_total, syl_total = 0.0, 0
    ends: set[int] = set()
    relaxed = False
    clauses: dict[int, tuple[int, ...]] = {}
    for j, (n_syl, letter) in enumerate(zip(plan.syllables, plan.rhyme_scheme, strict=True)):
        required = required_first if j == 0 else ()
        key = keys[letter]
        if language == "zh" and n_syl not in clauses:
            clauses[n_syl] = clause_plan(n_syl, rng)
        res = None
        for attempt in range(4):
            req = song.request(n_syl, key if attempt < 3 else None, required if attempt < 2 else (), ends)
            req.clauses = clauses.get(n_syl, ()) if attempt < 2 else ()
            width = s.beam_zh if language == "zh" else s.beam_en
            beam = width if attempt == 0 else width * 3
            res = decode_line(t, req, rng, beam=beam, expand=s.expand + (attempt > 0) * 4,
                              temperature=s.temperature, end_widen=s.end_widen,
                              word_bonus=s.word_bonus_en if language == "en" else 0.0)
            if res is not None:
                relaxed |= attempt >= 3
                break
        if res is None:
            raise ParameterError(
                f"cannot write a {n_syl}-syllable line for section {plan.name!r}; try another form"
            )
        text = _line_text(res, t)
        song.add(res, text)
        ends.add(res.ids[-1])
        lines.append(LyricLine.from_text(text, language=language))
        lm_total += res.lm_logprob
        syl_total += n_syl
    return lines, lm_total, syl_total, relaxed


def _distinct_bigrams(lines: list[str], language: str) -> float:
    pairs: list[tuple[str, str]] = []
    for ln in lines:
        units = list(han_chars(ln)) if language == "zh" else words_en(ln)
        pairs.extend(zip(units, units[1:], strict=False))
    return len(set(pairs)) / len(pairs) if pairs else 0.0


def _write_one(req: LyricsRequest, tables: LMTables, form: tuple[SectionPlan, ...], theme: tuple[str, ...],
               imagery_all: tuple[str, ...], rng: np.random.Generator, settings: WriterSettings,
               index: int, seed: int) -> Lyrics:
    language = req.language
    k_img = min(len(imagery_all), max(3, len(imagery_all) // 2))
    imagery = tuple(imagery_all[i] for i in sorted(rng.choice(len(imagery_all), size=k_img, replace=False)))
    song = _Song(tables, settings, theme, imagery, rng)
    theme_keys = {k for w in theme if (k := make_phrase(tables, w, bonus=0.0).rhyme_key) is not None}
    plans: dict[str, SectionPlan] = {}
    for p in form:
        plans.setdefault(p.name, p)
    # The chorus first: it carries the hook.
    order = sorted(plans, key=lambda nm: (plans[nm].kind != "chorus", list(plans).index(nm)))
    written: dict[str, LyricSection] = {}
    lm_total, syl_total = 0.0, 0
    relaxed = False
    used_keys: set[str] = set()
    for name in order:
        plan = plans[name]
        letters = list(dict.fromkeys(plan.rhyme_scheme))
        chosen = _choose_keys(tables, len(letters), theme_keys, rng, settings, used_keys)
        keys = dict(zip(letters, chosen, strict=True))
        theme_left = any(not song.used(w) for w in theme)
        if plan.kind in ("chorus", "verse") or (plan.kind == "bridge" and theme_left):
            unused = tuple(w for w in theme if not song.used(w))
            required = unused or (theme if plan.kind == "chorus" else ())
        else:
            required = ()
        lines, lm, syl, rel = _write_section(song, plan, keys, required, rng, language)
        used_keys.update(chosen)
        relaxed |= rel
        lm_total += lm
        syl_total += syl
        written[name] = LyricSection(name, tuple(lines), tuple(chosen))
    sections = tuple(written[p.name] for p in form)
    unique_text = [ln.text for nm in plans for ln in written[nm].lines]
    rr = rhyme_rate(sections, language=language)
    rr = 0.0 if math.isnan(rr) else rr
    joined = "\n".join(unique_text)
    cov = sum(any(_contains(t, w, language) for t in unique_text) for w in theme) / len(theme)
    img = sum(any(_contains(t, w, language) for t in unique_text) for w in imagery_all) / len(imagery_all)
    distinct = _distinct_bigrams(unique_text, language)
    lp = lm_total / max(1, syl_total)
    s = settings
    score = lp + s.w_rhyme * rr + s.w_theme * cov + s.w_imagery * img + s.w_distinct * distinct
    details = {
        "theme_words": list(theme), "imagery_words": list(imagery_all), "lm_logprob_per_syllable": lp,
        "rhyme_rate": rr, "theme_coverage": cov, "imagery_share": img, "distinct_bigrams": distinct,
        "seed": seed, "candidate": index, "model": tables.name, "relaxed_rhyme": relaxed,
        "text": joined,
    }
    return Lyrics(language=language, sections=sections, score=float(score), details=details)


def write_lyrics(
    spec_or_request: SongSpec | LyricsRequest,
    *,
    n: int = 30,
    seed: int | None = None,
    settings: WriterSettings | None = None,
    callback: Callable[[int, int], None] | None = None,
) -> list[Lyrics]:
    """Write ``n`` distinct lyric candidates for a song, best first.

    Parameters
    ----------
    spec_or_request : SongSpec or LyricsRequest
        Theme, emotion, style, language, length and seed (a :class:`LyricsRequest` may carry its
        own form).
    n : int
        Number of distinct candidates, 1..200.
    seed : int, optional
        Overrides the request's seed. The same seed gives the same candidates.
    settings : WriterSettings, optional
        Decoder and ranking settings.
    callback : callable, optional
        Called as ``callback(done, n)`` after each candidate.

    Returns
    -------
    list of Lyrics
        ``n`` candidates, distinct by text, sorted by :attr:`Lyrics.score` (best first).

    Raises
    ------
    ParameterError
        Bad theme, emotion, style, language, seed or ``n``.
    ModelLoadError
        The shipped model is missing or corrupt.

    Examples
    --------
    >>> songs = write_lyrics(SongSpec(theme="summer night by the sea", language="en", length_s=30), n=2)
    >>> print(songs[0].to_text())  # doctest: +SKIP
    """
    if isinstance(spec_or_request, SongSpec):
        req = LyricsRequest.from_spec(spec_or_request)
    elif isinstance(spec_or_request, LyricsRequest):
        req = spec_or_request
    else:
        raise ParameterError(
            f"write_lyrics needs a SongSpec or a LyricsRequest, got {type(spec_or_request).__name__}"
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= int(n) <= MAX_CANDIDATES:
        raise ParameterError(f"n must be a whole number 1..{MAX_CANDIDATES}, got {n!r}")
    n = int(n)
    base_seed = _check_seed(req.seed if seed is None else seed)
    settings = settings or WriterSettings()
    tables = load_tables(req.language)
    theme = theme_words(req.theme, language=req.language)
    imagery = imagery_words(req.emotion, language=req.language)
    if req.seeds:  # words of the song's language only, each one word
        ok = [w for w in req.seeds if w not in theme and (
            han_chars(w) == w if req.language == "zh" else words_en(w) == [w.lower()])]
        imagery = tuple(dict.fromkeys(w.lower() if req.language == "en" else w for w in ok)) or imagery
    form = req.form or default_form(req.style, req.language, length_s=req.length_s)
    out: list[Lyrics] = []
    seen: set[str] = set()
    for i in range(n * 3 + 10):
        rng = np.random.default_rng(np.random.SeedSequence(base_seed, spawn_key=(*b"lyrics", i)))
        lyr = _write_one(req, tables, form, theme, imagery, rng, settings, i, base_seed)
        key = lyr.details["text"]
        if key in seen:
            continue
        seen.add(key)
        out.append(lyr)
        if callback is not None:
            callback(len(out), n)
        if len(out) == n:
            break
    out.sort(key=lambda x: (-x.score, x.details["candidate"]))
    return out
