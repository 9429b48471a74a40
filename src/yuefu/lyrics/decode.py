"""Constrained decoding of one lyric line with the n-gram model: a stochastic beam search.

The beam advances syllable by syllable (a Chinese character is one syllable; an English word as
many as the CMU dictionary says), so hypotheses that have sung the same number of syllables
compete. Constraints hold while decoding, not after:

- the line has exactly the planned number of syllables (a word is only proposed if it fits);
- the last unit is in the section's rhyme group (and not an end word already used in the
  section); the line-end probability P(</s> | context) is added, so lines end where lines end;
- a required theme word must appear: hypotheses without it that no longer have room for it are
  dropped, and the word can be placed as a whole (a multi-character word or a word the model does
  not know is a *phrase*, its units forced once begun);
- boosted words (theme and imagery) get a bonus; units already used in the line or in the song
  are penalised (a light repetition penalty, lighter for common units and for reduplication);
- Chinese lines of six or more characters may hold one internal clause break (a 3+5 or 4+5 line,
  as in ci): the clause ends with P(</s>) and the next begins from the line-start context.

Diversity comes from Gumbel noise (``temperature``) on the scores that rank the beam, drawn from
the caller's seeded generator: the same generator state gives the same line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from yuefu.core.errors import ModelLoadError
from yuefu.lyrics.ngram import BOS, EOS, UNK, NGramLM
from yuefu.lyrics.phonetics import RHYME_GROUPS_ZH, rhyme_group_zh, rhyming_part_en, syllable_count_en

__all__ = ["LMTables", "load_tables", "Phrase", "LineRequest", "LineResult", "decode_line"]

NEG = -1e9
_REPEAT_BONUS = 0.3
#: log P(word | <unk>): the model gives all unknown words one probability; one of them gets a share.
UNK_WORD_LOGPROB = math.log(1 / 1000)

# Units the Chinese decoder never writes: classical particles and Yuan-opera dialect.
_ZH_BANNED = set("兮乎矣哉焉耶欤恁兀厮呵哩俺么噫吁嗟咦乜")
# Characters that do not end a sung Chinese line (particles of speech and opera dialogue).
_ZH_BAD_ENDS = set("也了的着之其与而则便把被将这那个些么哩呀啊吗呢吧得地")
# English words the decoder never writes: archaic forms and their contractions.
_EN_ARCHAIC = set(
    """thee thou thy thine ye hath doth dost hast shalt wilt art canst couldst wouldst shouldst didst
    wert 'tis 'twas 'twere o'er e'er ne'er ere oft whilst amongst thence hence whence hither thither
    yon yonder nay methinks wherefore forsooth prithee unto upon betwixt anon mayst mightst hadst
    wast saith spake quoth 'neath 'mid ah oh o lo alas thro thou'rt hither whither ay aye fain nigh
    wherein whereof thereof whereon thereon alack goodly ye'll art thyself thyselves mine's durst yore
    erst""".split()
)
_EN_CONTRACTIONS = set(
    """i'm i'll i've i'd you're you'll you've you'd we're we'll we've we'd they're they'll they've
    he's she's it's that's there's what's who's let's don't can't won't isn't aren't wasn't weren't
    didn't doesn't haven't hasn't couldn't wouldn't shouldn't ain't o'clock""".split()
)
_EN_BAD_ENDS = set(
    """the a an of and to my your his her their our its with from for in on at by as or but if so than
    that who which whose whom nor into onto upon i you he she we they me him them us be is am are was
    were been this these those some any no not every each than then very""".split()
)


# Poetry starts a third of its lines with a conjunction; a lyric does not.
_EN_START_PENALTY = {"and": 1.5, "but": 0.6, "or": 1.0, "nor": 1.5, "for": 0.8, "that": 0.8, "which": 1.5,
                     "who": 1.0, "then": 0.5, "yet": 0.8, "as": 0.5, "of": 1.5, "to": 0.8}


_EN_VOICE = {"i": 0.4, "me": 0.3, "my": 0.4, "you": 0.5, "your": 0.4, "we": 0.3, "our": 0.3, "us": 0.2,
             "he": -1.0, "him": -1.0, "his": -1.0, "she": -0.7, "her": -0.7, "they": -0.4, "them": -0.4,
             "their": -0.4}


@dataclass
class LMTables:
    """An n-gram model with the per-unit tables the decoder needs (see :func:`load_tables`)."""

    language: str
    lm: NGramLM
    syl: np.ndarray  # int8 (V,): syllables per unit (0 for specials)
    rhyme: np.ndarray  # int32 (V,): index into rhyme_names, -1 none
    rhyme_names: tuple[str, ...]
    tone: np.ndarray  # int8 (V,): 1 平, 2 仄, 0 unknown (Chinese)
    decodable: np.ndarray  # bool (V,)
    final_ok: np.ndarray  # bool (V,)
    rep_weight: np.ndarray  # float32 (V,): how much a repeat of the unit costs (0 common .. 1 rare)
    final_count: np.ndarray
    prior: np.ndarray  # float32 (V,): a style prior added to every unit's score
    start_adjust: np.ndarray | None = None  # added to the units that start a line
    name: str = ""
    _group_cache: dict = field(default_factory=dict)

    def rhyme_mask(self, key: str) -> np.ndarray:
        """Units that may end a line rhyming on ``key`` (a rhyme group name or rhyming part)."""
        hit = self._group_cache.get(key)
        if hit is None:
            try:
                k = self.rhyme_names.index(key)
            except ValueError:
                k = -2
            hit = self.final_ok & (self.rhyme == k)
            self._group_cache[key] = hit
        return hit

    def surface(self, unit: int) -> str:
        return self.lm.vocab[unit]


def _tables_from_lm(lm: NGramLM, language: str, name: str) -> LMTables:
    V = lm.n_vocab
    x = lm.extras
    try:
        count = x["count"].astype(np.int64)
        final_count = x["final_count"].astype(np.int64)
        rhyme = x["rhyme"].astype(np.int32)
    except KeyError as e:
        raise ModelLoadError(f"model {name!r} lacks its unit table {e}") from None
    vocab = lm.vocab
    special = np.zeros(V, dtype=bool)
    special[[UNK, BOS, EOS]] = True
    if language == "zh":
        syl = np.where(special, 0, 1).astype(np.int8)
        names = RHYME_GROUPS_ZH
        tone = x.get("tone", np.zeros(V, np.int8)).astype(np.int8)
        banned = np.array([u in _ZH_BANNED for u in vocab])
        decodable = ~special & ~banned & (count >= 25) & (rhyme >= 0)
        bad_end = np.array([u in _ZH_BAD_ENDS for u in vocab])
        final_ok = decodable & ~bad_end & (final_count >= 5)
    else:
        import json

        syl = x["syl"].astype(np.int8)
        names = tuple(json.loads(str(x["rhyme_parts"])))
        tone = np.zeros(V, np.int8)
        cap = x.get("cap", np.zeros(V, np.float32))
        words = list(vocab)
        archaic = np.array([
            w in _EN_ARCHAIC or ("'" in w and w not in _EN_CONTRACTIONS)
            or (w.endswith("eth") and len(w) > 5 and w not in ("teeth", "seventh", "beneath"))
            or (w.endswith("est") and len(w) > 6 and not w.endswith(("iest", "gest", "lest", "rest")))
            for w in words
        ])
        pronoun_i = np.array([w == "i" or w.startswith("i'") for w in words])
        letters = np.array([len(w) == 1 and w not in ("a", "i") for w in words])  # "m", "l": initials
        proper = (cap > 0.6) & ~pronoun_i
        decodable = ~special & ~archaic & ~proper & ~letters & (count >= 25) & (syl >= 1)
        bad_end = np.array([w in _EN_BAD_ENDS for w in words])
        final_ok = decodable & ~bad_end & (final_count >= 8) & (rhyme >= 0)
    p0 = lm.p0.astype(np.float64)
    with np.errstate(divide="ignore"):
        surprisal = -np.log10(np.maximum(p0, 1e-12))
    rep_weight = np.clip((surprisal - 2.0) / 2.0, 0.0, 1.0).astype(np.float32)
    prior = np.zeros(V, dtype=np.float32)
    start_adjust = None
    if language == "zh" and "count_ci" in x:
        # Lean towards the vocabulary of the ci (lyrics) and away from Yuan-opera dialogue.
        ci = x["count_ci"].astype(np.float64) + 1.0
        al = count.astype(np.float64) + 1.0
        ratio = np.log(ci / ci.sum()) - np.log(al / al.sum())
        prior = np.clip(0.6 * ratio, -1.5, 0.3).astype(np.float32)
    if language == "en":
        # A song speaks in the first and second person; poetry often narrates in the third.
        for w, bonus in _EN_VOICE.items():
            if w in lm.index:
                prior[lm.index[w]] += bonus
        start_adjust = np.zeros(V, dtype=np.float32)
        for w, pen in _EN_START_PENALTY.items():
            if w in lm.index:
                start_adjust[lm.index[w]] = -pen
    return LMTables(language=language, lm=lm, syl=syl, rhyme=rhyme, rhyme_names=tuple(names), tone=tone,
                    decodable=decodable, final_ok=final_ok, rep_weight=rep_weight,
                    final_count=final_count, prior=prior, start_adjust=start_adjust, name=name)


@lru_cache(maxsize=4)
def load_tables(language: str) -> LMTables:
    """The shipped model for ``language`` (``lyrics_zh`` / ``lyrics_en``), hash-checked, cached."""
    from yuefu.models import verified_path

    name = f"lyrics_{language}"
    lm = NGramLM.load(verified_path(name))
    return _tables_from_lm(lm, language, name)


@dataclass(frozen=True)
class Phrase:
    """A word placed as a whole: its unit ids (``UNK`` for unknown ones), surfaces and syllables."""

    ids: tuple[int, ...]
    surfaces: tuple[str, ...]
    syllables: tuple[int, ...]
    bonus: float
    required: bool = False
    rhyme_key: str | None = None  # the rhyme key of its last unit

    @property
    def n_syllables(self) -> int:
        return sum(self.syllables)

    @property
    def text(self) -> str:
        return "".join(self.surfaces)


def make_phrase(tables: LMTables, word: str, *, bonus: float, required: bool = False) -> Phrase:
    """A :class:`Phrase` for ``word``: its characters (Chinese) or the word itself (English)."""
    if tables.language == "zh":
        units = tuple(word)
        ids = tuple(tables.lm.index.get(u, UNK) for u in units)
        syl = tuple(1 for _ in units)
        key = rhyme_group_zh(units[-1])
    else:
        units = (word.lower(),)
        ids = (tables.lm.index.get(units[0], UNK),)
        syl = (syllable_count_en(units[0]),)
        key = rhyming_part_en(units[0])
    return Phrase(ids=ids, surfaces=units, syllables=syl, bonus=bonus, required=required, rhyme_key=key)


@dataclass
class LineRequest:
    """What one line must be.

    Parameters
    ----------
    n_syllables : int
        Exact syllables of the line.
    rhyme_key : str or None
        The rhyme group (zh) or rhyming part (en) of its last unit; ``None``: free.
    adjust : np.ndarray [shape=(V,)]
        Additive scores per unit (boosts, song-level repetition penalties, ``NEG`` for units never
        to write).
    phrases : list of Phrase
        Words to place whole; required ones must appear (any one of them).
    forbidden_final : set of int
        Units that may not end the line (end words already used in the section).
    forbidden_texts : set of str
        Lines already in the song.
    clauses : tuple of int
        Planned clause lengths (Chinese): the line breaks into clauses of these lengths, each
        ending where the model ends a clause; empty: one clause, or one free break.
    """

    n_syllables: int
    rhyme_key: str | None
    adjust: np.ndarray
    phrases: list[Phrase] = field(default_factory=list)
    forbidden_final: set[int] = field(default_factory=set)
    forbidden_texts: set[str] = field(default_factory=set)
    allow_break: bool = True
    start_adjust: np.ndarray | None = None  # added at the start of a line or clause
    clauses: tuple[int, ...] = ()  # planned clause lengths (Chinese), summing to n_syllables


@dataclass
class LineResult:
    """A decoded line: its unit surfaces, ids, syllables per unit, scores and clause breaks."""

    surfaces: tuple[str, ...]
    ids: tuple[int, ...]
    syllables: tuple[int, ...]
    score: float
    lm_logprob: float
    breaks: tuple[int, ...]

    def text(self, language: str) -> str:
        """The line as written: Chinese clauses separated by a space, English words by spaces."""
        if language == "zh":
            out = "".join(self.surfaces)
            for b in sorted(self.breaks, reverse=True):
                pos = len("".join(self.surfaces[:b]))
                out = out[:pos] + " " + out[pos:]
            return out
        return " ".join(self.surfaces)


@dataclass
class _Hyp:
    score: float
    lm: float
    ctx: tuple[int, ...]
    ids: tuple[int, ...]
    surfaces: tuple[str, ...]
    syls: tuple[int, ...]
    syl: int
    pending: tuple[tuple[int, str, int], ...] = ()
    req: bool = False
    since_break: int = 0
    breaks: tuple[int, ...] = ()
    key: float = 0.0
    guard: str = ""  # the last character of a theme word just placed (Chinese)


def _rep_penalty(tables: LMTables, ids: tuple[int, ...], zh: bool) -> dict[int, float]:
    pen: dict[int, float] = {}
    for j, u in enumerate(ids):
        if u <= EOS:
            continue
        adjacent = j == len(ids) - 1
        w = float(tables.rep_weight[u])
        if zh:
            p = 0.6 if adjacent else 1.2 + 1.3 * w
        else:
            p = 4.0 if adjacent else 1.0 + 3.0 * w
        pen[u] = max(pen.get(u, 0.0), p)
    return pen


def decode_line(
    tables: LMTables,
    req: LineRequest,
    rng: np.random.Generator,
    *,
    beam: int = 6,
    expand: int = 6,
    temperature: float = 0.6,
    word_bonus: float = 0.0,
    break_penalty: float | None = None,
    clause_start_bonus: float = 1.0,
    end_penalty: float = 0.5,
    end_widen: int = 0,
) -> LineResult | None:
    """Decode one line under ``req``; ``None`` when no hypothesis can meet every constraint.

    Parameters
    ----------
    tables : LMTables
        The model and its unit tables.
    req : LineRequest
        The constraints.
    rng : numpy.random.Generator
        Source of the Gumbel noise that ranks the beam.
    beam, expand : int
        Hypotheses kept per syllable position; expansions proposed per hypothesis.
    temperature : float
        Scale of the Gumbel noise (0: plain beam search).
    word_bonus : float
        Added per word (English): balances the extra log-probability terms of short words.
    break_penalty : float, optional
        Cost of an internal clause break (Chinese); by default 0 for lines of eight or more
        characters and 0.5 for shorter ones.
    end_widen : int
        The beam is twice as wide for the last ``end_widen`` syllables.
    clause_start_bonus, end_penalty : float
        Added to a whole-word placement at the start of a line or clause; taken from one that
        ends the line (a theme word reads best at the head of a phrase).

    Returns
    -------
    LineResult or None
    """
    lm = tables.lm
    zh = tables.language == "zh"
    n = req.n_syllables
    syl = tables.syl
    final_mask = tables.rhyme_mask(req.rhyme_key) if req.rhyme_key else tables.final_ok
    if req.forbidden_final:
        final_mask = final_mask.copy()
        final_mask[list(req.forbidden_final)] = False
    allowed_cache: dict[int, np.ndarray] = {}
    writable = req.adjust > NEG / 2

    def allowed(rem: int) -> np.ndarray:
        """Indices of the units that may come next with ``rem`` syllables left."""
        a = allowed_cache.get(rem)
        if a is None:
            a = np.flatnonzero(writable & (syl >= 1) & ((syl < rem) | ((syl == rem) & final_mask)))
            allowed_cache[rem] = a
        return a

    def phrase_final_ok(p: Phrase) -> bool:
        last = p.ids[-1]
        if last != UNK:
            return bool(final_mask[last])
        return req.rhyme_key is None or p.rhyme_key == req.rhyme_key

    required = [p for p in req.phrases if p.required]
    phrase_info = [(p, p.text, p.n_syllables, phrase_final_ok(p)) for p in req.phrases]
    min_req = min((p.n_syllables for p in required), default=0)
    clauses = tuple(req.clauses) if req.clauses and sum(req.clauses) == n else ()
    cuts = np.cumsum(clauses)[:-1].tolist() if clauses else []
    bounds = set(cuts)
    next_bound = [min([b for b in cuts if b > s0] + [n]) for s0 in range(n + 1)]
    break_ok = zh and req.allow_break and n >= 6 and not clauses
    if break_penalty is None:
        break_penalty = 0.0 if n >= 8 else 0.5
    start = lm.start()

    buckets: list[list[_Hyp]] = [[] for _ in range(n + 1)]
    buckets[0] = [_Hyp(0.0, 0.0, start, (), (), (), 0, req=not required)]
    finished: list[_Hyp] = []

    def push(h: _Hyp, new: _Hyp) -> None:
        if new.syl > n:
            return
        if zh and required and not new.req:
            text = "".join(new.surfaces)
            new.req = any(text.endswith(p.text) for p in required)
        if required and not new.req and not new.pending and n - new.syl < min_req:
            return
        if new.syl == n:
            if new.pending:
                return
            p_eos = lm.prob(new.ctx, EOS)
            lp = math.log(max(p_eos, 1e-12))
            new.score += lp
            new.lm += lp
            finished.append(new)
        else:
            buckets[new.syl].append(new)

    for s in range(n):
        hyps = buckets[s]
        if not hyps:
            continue
        width = beam * 2 if n - s <= end_widen else beam  # the line end is the hard part: search wider
        if len(hyps) > width:
            # Grid beam: hypotheses that already hold the required word and those that do not
            # compete only among themselves, so a word placed early is not crowded out.
            noise = rng.gumbel(size=len(hyps))
            for h, g in zip(hyps, noise.tolist(), strict=True):
                h.key = h.score + temperature * g
            hyps.sort(key=lambda h: -h.key)
            if required:
                hyps = [h for h in hyps if h.req][:width] + [h for h in hyps if not h.req][:width]
            else:
                hyps = hyps[:width]
        rem = n - s
        for h in hyps:
            if h.pending:
                (u, surf, k), rest = h.pending[0], h.pending[1:]
                push(h, _Hyp(h.score, h.lm, (*h.ctx[1:], u), (*h.ids, u), (*h.surfaces, surf),
                             (*h.syls, k), h.syl + k, rest, h.req, h.since_break + 1, h.breaks,
                             guard=surf if zh and not rest else ""))
                continue
            ld = lm.logdist(h.ctx)
            room = next_bound[s] - s  # syllables left in this clause
            # (distribution, context, score and log-probability carried in, is a clause break)
            if s in bounds:  # a planned clause break: the clause ends here, the next one begins
                eos = float(ld[EOS])
                sources = [(lm.logdist(start), start, eos, eos, True)]
            else:
                sources = [(ld, h.ctx, 0.0, 0.0, False)]
                if break_ok and h.since_break >= 3 and rem >= 3 and not h.breaks:
                    eos = float(ld[EOS])
                    sources.append((lm.logdist(start), start, eos - break_penalty, eos, True))
            pen = _rep_penalty(tables, h.ids, zh)
            for dist, ctx, base, base_lm, is_break in sources:

                def extend(u: int, surf: str, k_syl: int, score: float, lp: float, pend: tuple, req_ok: bool,
                           guard: str = "", h: _Hyp = h, ctx: tuple = ctx, base: float = base,
                           base_lm: float = base_lm, is_break: bool = is_break) -> None:
                    push(h, _Hyp(h.score + base + score, h.lm + base_lm + lp, (*ctx[1:], u), (*h.ids, u),
                                 (*h.surfaces, surf), (*h.syls, k_syl), h.syl + k_syl, pend, req_ok,
                                 1 if is_break else h.since_break + 1,
                                 (*h.breaks, len(h.ids)) if is_break else h.breaks, guard=guard))

                sc = dist + req.adjust
                if (not h.ids or is_break) and req.start_adjust is not None:
                    sc = sc + req.start_adjust
                for u, cost in pen.items():
                    sc[u] -= cost
                if h.guard and not is_break:
                    # the next character must not fuse with the word's end into another word
                    # (海边 + 塞 reads 边塞, 车站 + 立 reads 站立)
                    sc[_fusing_units(tables, h.guard)] -= 3.0
                cand = allowed(rem)
                sub = sc[cand]
                top = cand[np.argpartition(sub, -expand)[-expand:]] if sub.shape[0] > expand else cand
                floor = float(sc[top].min()) - 1.5 if top.shape[0] else NEG
                w_bonus = 0.0 if zh else word_bonus
                for u in top.tolist():
                    v = float(sc[u])
                    if v > NEG / 2:
                        extend(u, lm.vocab[u], int(syl[u]), v + w_bonus, float(dist[u]), (),
                               h.req or _is_required_unit(u, required))
                # whole words: theme words of several characters, or words the model does not know
                line_text = "".join(h.surfaces) if zh else ""
                clause_start = not h.ids or is_break
                for p, p_text, p_syl, p_final in phrase_info:
                    if p_syl > room or (p_syl == rem and not p_final):
                        continue
                    if zh and p.required and not h.req and not clause_start and p_syl != rem:
                        continue  # a theme word opens a clause or closes the line, never splits a word
                    u0 = p.ids[0]
                    lp = float(dist[u0]) + (UNK_WORD_LOGPROB if u0 == UNK else 0.0)
                    place = 0.0
                    if zh and p.required and not h.req:  # English places its words by the model alone
                        place = clause_start_bonus if clause_start else 0.0
                        place -= end_penalty if p_syl == rem else 0.0
                    # one required word is enough: a second one in the same line earns little
                    bonus = min(p.bonus, _REPEAT_BONUS) if p.required and h.req else p.bonus
                    if not (p.required and not h.req) and lp + bonus + place < floor:
                        continue  # not competitive even before its tail is paid for
                    if p_text in line_text if zh else p.surfaces[0] in h.surfaces:
                        continue
                    c2 = (*ctx[1:], u0)
                    for u_next in p.ids[1:]:  # look ahead: the whole word's probability, now
                        lp += math.log(max(lm.prob(c2, u_next), 1e-12))
                        lp += UNK_WORD_LOGPROB if u_next == UNK else 0.0
                        c2 = (*c2[1:], u_next)
                    pend = tuple(zip(p.ids[1:], p.surfaces[1:], p.syllables[1:], strict=True))
                    extend(u0, p.surfaces[0], p.syllables[0], lp + bonus + place + w_bonus, lp, pend,
                           h.req or p.required, guard=p.surfaces[-1] if zh and not pend else "")
    good = [h for h in finished if h.req]
    lang = tables.language
    good = [h for h in good if _join(h.surfaces, lang) not in req.forbidden_texts]
    if not good:
        return None
    for h in good:
        h.key = h.score + temperature * float(rng.gumbel())
    best = max(good, key=lambda h: h.key)
    return LineResult(surfaces=best.surfaces, ids=best.ids, syllables=best.syls, score=best.score,
                      lm_logprob=best.lm, breaks=best.breaks)


def _fusing_units(tables: LMTables, last: str) -> np.ndarray:
    """Ids of the characters that would make a word with ``last`` (by jieba's dictionary)."""
    cache = tables._group_cache.setdefault("__fuse__", {})
    hit = cache.get(last)
    if hit is None:
        from yuefu.lyrics.seeds import _jieba

        jb = _jieba()
        jb.dt.check_initialized()
        freq = jb.dt.FREQ
        hit = np.array([i for i, c in enumerate(tables.lm.vocab) if freq.get(last + c, 0) >= 20],
                       dtype=np.int64)
        cache[last] = hit
    return hit


def _is_required_unit(u: int, required: list[Phrase]) -> bool:
    return any(len(p.ids) == 1 and p.ids[0] == u and u != UNK for p in required)


def _join(surfaces: tuple[str, ...], language: str) -> str:
    return "".join(surfaces) if language == "zh" else " ".join(surfaces)
