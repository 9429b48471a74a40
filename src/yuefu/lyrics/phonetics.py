"""Sounds of lyric text: syllables, rhyme groups and tone classes, Chinese and English.

Chinese
    One Han character is one sung syllable. A line rhymes by the *final* (韵母) of its last
    syllable, grouped by the thirteen rhyme groups of northern song and opera, 十三辙
    (:data:`SHISANZHE`); pinyin comes from ``pypinyin``, read in the context of the whole line so
    that heteronyms (行 in 银行) take the right reading. Erhua (花儿 read as one rhymed syllable)
    falls into the two "small" groups 小言前儿 / 小人辰儿, or keeps its base group where the
    final does not merge. The apical -i of zhi chi shi ri zi ci si belongs to 一七辙 with i, ü
    and er. Tone classes are 平 (tones 1 and 2) and 仄 (tones 3, 4 and the neutral tone).
English
    Syllables and rhymes come from the CMU pronouncing dictionary (``pronouncing``): two words
    rhyme when their rhyming parts (the last stressed vowel and what follows) are equal, stress
    marks ignored. Words the dictionary lacks fall back to spelling: a vowel-group syllable
    counter and a letters-based rhyming part (marked with a leading ``~``). Sung syllables for
    display (``lan-terns``) come from ``pyphen`` when its split has the right number of parts,
    else from a vowel-group heuristic that maximises onsets.

>>> rhyme_group_zh("花") == rhyme_group_zh("家") == "发花"
True
>>> rhymes_en("night", "light"), rhymes_en("night", "day")
(True, False)
>>> syllables_en("lanterns")
('lan', 'terns')
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from yuefu.core.errors import MissingDependencyError

__all__ = [
    "SHISANZHE",
    "RHYME_GROUPS_ZH",
    "is_han",
    "han_chars",
    "final_zh",
    "rhyme_group_zh",
    "line_rhyme_group_zh",
    "tone_class_zh",
    "tone_classes_zh",
    "rhyming_part_en",
    "rhymes_en",
    "syllable_count_en",
    "syllables_en",
    "words_en",
    "line_rhyme_key",
    "syllable_count",
    "split_syllables",
]

#: The thirteen rhyme groups (十三辙) by their pinyin finals (pypinyin's strict ``FINALS`` style:
#: ü is written ``v``; iou, uei, uen are spelled out).
SHISANZHE: dict[str, tuple[str, ...]] = {
    "发花": ("a", "ia", "ua"),
    "梭波": ("o", "e", "uo"),
    "乜斜": ("ie", "ve", "ê"),
    "一七": ("i", "v", "er"),
    "姑苏": ("u",),
    "怀来": ("ai", "uai"),
    "灰堆": ("ei", "uei"),
    "遥条": ("ao", "iao"),
    "油求": ("ou", "iou"),
    "言前": ("an", "ian", "uan", "van"),
    "人辰": ("en", "in", "uen", "vn"),
    "江阳": ("ang", "iang", "uang"),
    "中东": ("eng", "ing", "ong", "iong", "ueng"),
}
#: The erhua ("small") rhyme groups: finals that merge when 儿 is added.
_ERHUA_SMALL = {
    "小言前儿": ("a", "ia", "ua", "ai", "uai", "an", "ian", "uan", "van"),
    "小人辰儿": ("i", "v", "ei", "uei", "en", "in", "uen", "vn"),
}
#: Every group name a Chinese rhyme can have, in a fixed order (the model stores indices into it).
RHYME_GROUPS_ZH: tuple[str, ...] = (*SHISANZHE, *_ERHUA_SMALL)
_FINAL_TO_GROUP = {f: g for g, finals in SHISANZHE.items() for f in finals}
_ERHUA_TO_GROUP = {f: g for g, finals in _ERHUA_SMALL.items() for f in finals}
# Chinese characters read as erhua when they follow another syllable at a line end.
_ER_CHARS = "儿"


def _pypinyin():  # noqa: ANN202 - the module
    try:
        import pypinyin
    except ImportError:  # pragma: no cover - a declared dependency
        raise MissingDependencyError(
            "Chinese rhyme and tone need pypinyin: pip install pypinyin==0.55.0"
        ) from None
    return pypinyin


def is_han(ch: str) -> bool:
    """True for one CJK unified ideograph (a Han character: one sung syllable)."""
    if len(ch) != 1:
        return False
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2EBEF or 0xF900 <= o <= 0xFAFF


def han_chars(text: str) -> str:
    """The Han characters of ``text``, in order (punctuation, spaces, Latin and digits dropped)."""
    return "".join(c for c in text if is_han(c))


@lru_cache(maxsize=65536)
def _finals_and_tones(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    p = _pypinyin()
    finals = p.lazy_pinyin(text, style=p.Style.FINALS, strict=True, errors=lambda s: ["" for _ in s])
    tones = p.lazy_pinyin(text, style=p.Style.TONE3, neutral_tone_with_five=True,
                          errors=lambda s: ["" for _ in s])
    tone_numbers = tuple(int(t[-1]) if t and t[-1].isdigit() else 0 for t in tones)
    return tuple(finals), tone_numbers


def final_zh(char: str, *, context: str | None = None) -> str:
    """The pinyin final of ``char`` (strict style: ``v`` for ü), read in ``context`` if given.

    ``context`` is the text that ``char`` ends (a line); its reading decides heteronyms.
    Returns ``""`` for a character pypinyin cannot read.
    """
    if context:
        h = han_chars(context)
        if h and h[-1] == char:
            return _finals_and_tones(h)[0][-1]
    return _finals_and_tones(char)[0][0] if is_han(char) else ""


def rhyme_group_zh(char: str, *, context: str | None = None) -> str | None:
    """The 十三辙 rhyme group of one Han character (``None`` when it has no reading).

    >>> rhyme_group_zh("月"), rhyme_group_zh("雪"), rhyme_group_zh("是"), rhyme_group_zh("绿")
    ('乜斜', '乜斜', '一七', '一七')
    """
    final = final_zh(char, context=context)
    return _FINAL_TO_GROUP.get(final)


def line_rhyme_group_zh(line: str) -> str | None:
    """The rhyme group of a Chinese line: its last syllable's final, read in context.

    A line-final 儿 after another syllable is erhua: the rhyme is the preceding syllable's final
    merged with r (小言前儿 or 小人辰儿, or the base group where the final does not merge).

    >>> line_rhyme_group_zh("月亮弯弯像小船"), line_rhyme_group_zh("一朵小花儿")
    ('言前', '小言前儿')
    """
    h = han_chars(line)
    if not h:
        return None
    finals, _ = _finals_and_tones(h)
    if len(h) >= 2 and h[-1] in _ER_CHARS:
        base = finals[-2]
        return _ERHUA_TO_GROUP.get(base, _FINAL_TO_GROUP.get(base))
    return _FINAL_TO_GROUP.get(finals[-1])


def tone_class_zh(char: str, *, context: str | None = None) -> str | None:
    """平 for tones 1 and 2, 仄 for tones 3, 4 and the neutral tone; ``None`` without a reading."""
    if context:
        h = han_chars(context)
        if h and h[-1] == char:
            tone = _finals_and_tones(h)[1][-1]
        else:
            tone = _finals_and_tones(char)[1][0]
    elif is_han(char):
        tone = _finals_and_tones(char)[1][0]
    else:
        return None
    if tone == 0:
        return None
    return "平" if tone in (1, 2) else "仄"


def tone_classes_zh(line: str) -> tuple[str | None, ...]:
    """The tone class (平/仄) of every Han character of ``line``, read in context.

    >>> "".join(tone_classes_zh("春风又绿江南岸"))
    '平平仄仄平平仄'
    """
    h = han_chars(line)
    if not h:
        return ()
    _, tones = _finals_and_tones(h)
    return tuple(None if t == 0 else ("平" if t in (1, 2) else "仄") for t in tones)


# -- English --------------------------------------------------------------------------------------
_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)*|'[a-z]+", re.IGNORECASE)
_VOWELS = "aeiouy"


def words_en(text: str) -> list[str]:
    """Lower-case words of an English text (letters and inner apostrophes; curly quotes folded)."""
    t = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return [w.lower() for w in _WORD_RE.findall(t)]


def _pronouncing():  # noqa: ANN202 - the module
    try:
        import pronouncing
    except ImportError:  # pragma: no cover - a declared dependency
        raise MissingDependencyError(
            "English rhyme and syllables need pronouncing: pip install pronouncing==0.3.0"
        ) from None
    return pronouncing


@lru_cache(maxsize=65536)
def _phones(word: str) -> tuple[str, ...]:
    return tuple(_pronouncing().phones_for_word(word.lower()))


def _strip_stress(phones: str) -> str:
    return re.sub(r"\d", "", phones)


def _letters_rhyme(word: str) -> str:
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return ""
    core = w[:-1] if w.endswith("e") and len(w) > 2 and w[-2] not in _VOWELS else w
    m = re.search(r"[aeiouy]+[^aeiouy]*$", core)
    tail = m.group(0) if m else core
    if core is not w:
        tail += "e"
    return "~" + tail


@lru_cache(maxsize=65536)
def rhyming_part_en(word: str) -> str:
    """The rhyming part of an English word, stress marks dropped (``'AY T'`` for night).

    Words missing from the CMU dictionary get a letters-based part starting with ``~``
    (``'~ite'`` for "moonlite"), which only rhymes with other letters-based parts.
    """
    phones = _phones(word)
    if phones:
        return _strip_stress(_pronouncing().rhyming_part(phones[0]))
    return _letters_rhyme(word)


def rhymes_en(a: str, b: str) -> bool:
    """True when two different English words rhyme (any CMU pronunciation of each counts).

    Identical words do not rhyme with themselves (night/night is a repetition, not a rhyme).
    """
    a, b = a.lower().strip(), b.lower().strip()
    if not a or not b or a == b:
        return False
    pa, pb = _phones(a), _phones(b)
    if pa and pb:
        ra = {_strip_stress(_pronouncing().rhyming_part(p)) for p in pa}
        rb = {_strip_stress(_pronouncing().rhyming_part(p)) for p in pb}
        return bool(ra & rb)
    return rhyming_part_en(a) == rhyming_part_en(b)


def _vowel_groups(word: str) -> int:
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return 0
    n = len(re.findall(r"[aeiouy]+", w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and n > 1:
        n -= 1
    if w.endswith("es") and len(w) > 3 and w[-3] not in "sxzcgh" and n > 1:
        n -= 1
    if w.endswith("ed") and len(w) > 3 and w[-3] not in "td" and n > 1:
        n -= 1
    return max(1, n)


@lru_cache(maxsize=65536)
def syllable_count_en(word: str) -> int:
    """Sung syllables of an English word: CMU dictionary, else a vowel-group counter.

    >>> syllable_count_en("lantern"), syllable_count_en("fire"), syllable_count_en("zorbleflam")
    (2, 2, 3)
    """
    phones = _phones(word)
    if phones:
        return max(1, _pronouncing().syllable_count(phones[0]))
    return _vowel_groups(word)


_ONSETS = {
    "bl", "br", "ch", "cl", "cr", "dr", "dw", "fl", "fr", "gl", "gr", "gu", "kn", "ph", "pl", "pr",
    "qu", "sc", "sh", "sk", "sl", "sm", "sn", "sp", "squ", "st", "str", "sw", "th", "thr", "tr", "tw",
    "wh", "wr", "scr", "spl", "spr", "shr", "sch",
}


def _heuristic_split(word: str, n: int) -> list[str]:
    """Split ``word`` into ``n`` parts at vowel groups, giving each next part its longest onset."""
    low = word.lower()
    nuclei = [(m.start(), m.end()) for m in re.finditer(r"[aeiouy]+", low)]
    # A word-initial y is a consonant; a silent final e is no nucleus.
    if nuclei and nuclei[0] == (0, 1) and low[0] == "y" and len(nuclei) > 1:
        nuclei = nuclei[1:]
    if len(nuclei) > n and low.endswith("e") and nuclei[-1] == (len(low) - 1, len(low)):
        nuclei = nuclei[:-1]
    if len(nuclei) > n and re.search(r"[^aeiouy](es|ed)$", low):
        nuclei = nuclei[:-1]
    while len(nuclei) > n:  # merge the closest pair of nuclei
        gaps = [nuclei[i + 1][0] - nuclei[i][1] for i in range(len(nuclei) - 1)]
        i = gaps.index(min(gaps))
        nuclei[i : i + 2] = [(nuclei[i][0], nuclei[i + 1][1])]
    while len(nuclei) < n:  # split the longest nucleus (io, ia, ue ...) or the last one
        i = max(range(len(nuclei)), key=lambda k: nuclei[k][1] - nuclei[k][0]) if nuclei else -1
        if i < 0:
            return [word] + [""] * (n - 1)
        s, e = nuclei[i]
        if e - s >= 2:
            nuclei[i : i + 1] = [(s, s + 1), (s + 1, e)]
        else:  # no vowel letter left to split: cut the tail evenly (fire -> fi-re)
            cut = max(s + 1, min(len(low) - 1, e))
            if cut >= len(low):
                return [word] + [""] * (n - 1)
            nuclei.append((cut, len(low)))
            nuclei.sort()
    cuts = []
    for (_, e1), (s2, _) in zip(nuclei, nuclei[1:], strict=False):
        cluster = low[e1:s2]
        k = len(cluster)
        best = k  # all consonants to the next syllable only if it is a legal onset
        for j in range(0, k + 1):
            onset = cluster[j:]
            if len(onset) <= 1 or onset in _ONSETS:
                best = j
                break
        cuts.append(e1 + best)
    parts, prev = [], 0
    for c in cuts:
        parts.append(word[prev:c])
        prev = c
    parts.append(word[prev:])
    return parts


@lru_cache(maxsize=1)
def _pyphen_dic():  # noqa: ANN202 - a pyphen.Pyphen or None
    try:
        import pyphen
    except ImportError:
        return None
    return pyphen.Pyphen(lang="en_US")


@lru_cache(maxsize=65536)
def syllables_en(word: str) -> tuple[str, ...]:
    """A word split into its sung syllables for display, as many as :func:`syllable_count_en`.

    >>> syllables_en("lanterns"), syllables_en("night"), syllables_en("remember")
    (('lan', 'terns'), ('night',), ('re', 'mem', 'ber'))
    """
    n = syllable_count_en(word)
    if n <= 1:
        return (word,)
    dic = _pyphen_dic()
    if dic is not None:
        parts = dic.inserted(word, hyphen="\u2010").split("\u2010")
        if len(parts) == n and all(parts):
            return tuple(parts)
    parts = _heuristic_split(word, n)
    if len(parts) == n and all(parts):
        return tuple(parts)
    size = max(1, len(word) // n)  # last resort: equal runs of letters
    cuts = [min(len(word) - (n - 1 - i), size * (i + 1)) for i in range(n - 1)]
    pieces = [word[a:b] for a, b in zip([0, *cuts], [*cuts, len(word)], strict=True)]
    return tuple(pieces) if all(pieces) else (word,)


# -- both languages -------------------------------------------------------------------------------
def syllable_count(text: str, *, language: str) -> int:
    """Sung syllables of a line: Han characters (``zh``) or CMU syllables of its words (``en``)."""
    if language == "zh":
        return len(han_chars(text))
    return sum(syllable_count_en(w) for w in words_en(text))


def split_syllables(text: str, *, language: str) -> tuple[str, ...]:
    """The sung syllables of a line, in order: characters (``zh``) or word pieces (``en``).

    An English syllable that continues its word into the next one ends in ``-`` (``"riv-"``,
    ``"er"``), the convention of MusicXML's ``<syllabic>``, of LRC word timing and of the
    singer, which joins the pieces back into the word it pronounces.

    >>> split_syllables("the river", language="en")
    ('the', 'riv-', 'er')
    """
    if language == "zh":
        return tuple(han_chars(text))
    out: list[str] = []
    display = unicodedata.normalize("NFKC", text).replace("\u2019", "'")
    for raw in _WORD_RE.findall(display):
        parts = syllables_en(raw)
        out.extend(p + "-" for p in parts[:-1])
        out.append(parts[-1])
    return tuple(out)


def line_rhyme_key(text: str, *, language: str) -> str | None:
    """The rhyme key of a line's last syllable: a 十三辙 group (zh) or a rhyming part (en)."""
    if language == "zh":
        return line_rhyme_group_zh(text)
    words = words_en(text)
    return rhyming_part_en(words[-1]) if words else None
