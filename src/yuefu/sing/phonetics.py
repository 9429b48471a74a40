"""Lyric syllables to phones: Mandarin through pypinyin, English through the CMU dictionary.

Pure logic, no audio. Each sung syllable becomes a :class:`Syllable`: what it is (pinyin with
its tone, or ARPAbet phones with stress) and what to hand espeak-ng to say it (tone-numbered
pinyin for the ``cmn-latn-pinyin`` voice, or espeak phoneme mnemonics in ``[[...]]``).

* Mandarin: Han characters are read in their phrase, so that polyphonic characters come out
  right (银行 ``yin2 hang2``, 行走 ``xing2 zou3``); pinyin lyrics (``yue4``, ``yuè``, ``lv4``,
  ``lüe4``) are accepted and checked against the syllables of Mandarin.
* English: a syllable ending in ``-`` continues its word (``"hel-"``, ``"lo"``); the word is
  looked up in the CMU dictionary and its phones are split into as many syllables as it has
  notes. An unknown word is read by espeak-ng's letter-to-sound rules, with a warning.

>>> [s.pinyin for s in syllabify(["银", "行", "行", "走"], lang="zh")[0]]
['yin2', 'hang2', 'xing2', 'zou3']
>>> s = syllabify(["hel-", "lo"], lang="en")[0]
>>> [x.phones for x in s]
[('HH', 'AH0'), ('L', 'OW1')]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from yuefu.core.errors import MissingDependencyError, ParameterError

__all__ = [
    "LANGS",
    "MELISMA_MARKS",
    "Syllable",
    "detect_language",
    "is_melisma",
    "syllabify",
    "zh_pinyin",
    "en_word_phones",
    "split_word",
    "arpabet_to_espeak",
]

#: Languages the singer reads.
LANGS = ("zh", "en")
#: Lyrics that hold the previous syllable (a melisma): MusicXML/MIDI ``"-"``, and ``"_"``, ``"~"``.
MELISMA_MARKS = frozenset({"-", "_", "~", "+", "—"})

_PUNCT = re.compile(r"[\s\"“”‘’.,;:!?()\[\]{}<>«»…，。、；：！？（）《》「」『』【】·]+")
_TONE_MARKS = {"\u0304": 1, "\u0301": 2, "\u030c": 3, "\u0300": 4}
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q",
             "x", "r", "z", "c", "s", "y", "w")


@dataclass(frozen=True, slots=True)
class Syllable:
    """One sung syllable.

    Parameters
    ----------
    text : str
        The lyric as written (a trailing word-continuation ``-`` removed).
    lang : str
        ``"zh"`` or ``"en"``.
    phones : tuple of str
        Mandarin: ``(initial, final)`` in pypinyin's non-strict style (``("y", "ue")``; the
        initial may be ``""``). English: ARPAbet with stress digits (``("L", "OW1")``); empty
        when the word is unknown and espeak's rules read it.
    tone : int or None
        Mandarin tone 1..5 (5 = neutral).
    pinyin : str or None
        Tone-numbered pinyin (``"yue4"``), ``v`` for ü.
    espeak : str
        What espeak-ng says for this syllable.
    espeak_phonemes : bool
        ``espeak`` is phoneme input (``[[...]]``) rather than text.
    """

    text: str
    lang: str
    phones: tuple[str, ...]
    tone: int | None
    pinyin: str | None
    espeak: str
    espeak_phonemes: bool


def is_melisma(lyric: str | None) -> bool:
    """True for a lyric that holds the previous syllable (``"-"``, ``"_"``, ``"~"``)."""
    return lyric is not None and lyric.strip() in MELISMA_MARKS


def _is_han(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2EBEF or 0xF900 <= o <= 0xFAFF


def _clean(text: str) -> str:
    """The lyric without punctuation and spaces; a trailing word-continuation hyphen kept."""
    t = text.strip()
    cont = t.endswith("-") and len(t) > 1
    t = _PUNCT.sub("", t.rstrip("-"))
    return t + ("-" if cont and t else "")


def detect_language(lyrics: Sequence[str | None]) -> str:
    """``"zh"`` when any lyric holds a Han character or every lyric reads as pinyin, else ``"en"``.

    >>> detect_language(["月", "亮"]), detect_language(["yue4", "liang4"]), detect_language(["moon"])
    ('zh', 'zh', 'en')
    """
    words = [_clean(x).rstrip("-") for x in lyrics if x and not is_melisma(x)]
    words = [w for w in words if w]
    if any(_is_han(c) for w in words for c in w):
        return "zh"
    if words and all(_parse_pinyin(w) is not None for w in words):
        return "zh"
    return "en"


# -- Mandarin ----------------------------------------------------------------------------------

def _pypinyin():  # noqa: ANN202 - the module
    try:
        import pypinyin
    except ImportError:  # pragma: no cover - a declared dependency
        raise MissingDependencyError("singing Chinese needs pypinyin: pip install pypinyin==0.55.0") \
            from None
    return pypinyin


def _toneless(marked: str) -> str:
    s = unicodedata.normalize("NFD", marked.lower())
    s = s.replace("u\u0308", "v")
    return "".join(c for c in s if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _valid_pinyin() -> frozenset[str]:
    """Every toneless Mandarin syllable (``v`` for ü), from pypinyin's character dictionary."""
    from pypinyin.pinyin_dict import pinyin_dict

    out: set[str] = set()
    for readings in pinyin_dict.values():
        for r in readings.split(","):
            out.add(_toneless(r))
    out.discard("")
    return frozenset(x for x in out if x.isascii() and x.isalpha())


def _parse_pinyin(text: str) -> tuple[str, int] | None:
    """``("yue", 4)`` from ``yue4``, ``yuè``, ``yue`` (tone 5 then) or ``lüe4``; None if not pinyin."""
    t = text.strip().lower()
    tone = 5
    m = re.fullmatch(r"([^\d]+)([1-5])", t)
    if m:
        t, tone = m.group(1), int(m.group(2))
    nfd = unicodedata.normalize("NFD", t)
    for mark, n in _TONE_MARKS.items():
        if mark in nfd:
            tone = n
    base = _toneless(t).replace("ü", "v")
    if base in _valid_pinyin():
        return base, tone
    return None


def _split_pinyin(base: str) -> tuple[str, str]:
    for ini in _INITIALS:
        if base.startswith(ini) and len(base) > len(ini):
            return ini, base[len(ini):]
    return "", base


def zh_pinyin(chars: str) -> list[str]:
    """Tone-numbered pinyin of a run of Han characters, read as a phrase (polyphones resolved).

    >>> zh_pinyin("银行"), zh_pinyin("行走")
    (['yin2', 'hang2'], ['xing2', 'zou3'])
    """
    p = _pypinyin()
    return list(p.lazy_pinyin(chars, style=p.Style.TONE3, neutral_tone_with_five=True,
                              errors=lambda s: ["?" for _ in s]))


def _zh_syllable(text: str, base: str, tone: int) -> Syllable:
    ini, fin = _split_pinyin(base)
    # The melody sets the pitch, so every syllable is spoken in tone 1 (level): the spectral
    # envelope is analysed from a steady voice and the lexical tone cannot bend the sung line.
    return Syllable(text, "zh", (ini, fin), tone, f"{base}{tone}", f"{base}1", False)


def _syllabify_zh(words: list[str], breaks: set[int]) -> tuple[list[Syllable | None], list[str]]:
    out: list[Syllable | None] = [None] * len(words)
    bad: list[str] = []
    # runs of Han-character syllables, read together so that pypinyin sees the phrase
    i = 0
    while i < len(words):
        if words[i] and all(_is_han(c) for c in words[i]):
            j = i
            while j < len(words) and words[j] and all(_is_han(c) for c in words[j]) \
                    and (j == i or j not in breaks):
                j += 1
            run = words[i:j]
            readings = zh_pinyin("".join(run))
            k = 0
            for n, w in enumerate(run):
                pys = readings[k:k + len(w)]
                k += len(w)
                parsed = [_parse_pinyin(py) for py in pys]
                if not parsed or any(x is None for x in parsed):
                    bad.append(w)
                    continue
                bases = [x[0] for x in parsed if x]
                tones = [x[1] for x in parsed if x]
                if len(bases) == 1:
                    out[i + n] = _zh_syllable(w, bases[0], tones[0])
                else:  # several characters on one note: said together
                    out[i + n] = Syllable(w, "zh", tuple(_split_pinyin(bases[0])), tones[0],
                                          " ".join(f"{b}{t}" for b, t in zip(bases, tones, strict=True)),
                                          " ".join(f"{b}1" for b in bases), False)
            i = j
            continue
        w = words[i]
        parsed1 = _parse_pinyin(w) if w else None
        if parsed1 is None:
            bad.append(w or "(empty)")
        else:
            out[i] = _zh_syllable(w, parsed1[0], parsed1[1])
        i += 1
    return out, bad


# -- English -----------------------------------------------------------------------------------

#: ARPAbet vowel -> espeak-ng en-us mnemonic.
_EN_VOWELS = {
    "AA": "A:", "AE": "a", "AH": "V", "AO": "O:", "AW": "aU", "AY": "aI", "EH": "E", "ER": "3:",
    "EY": "eI", "IH": "I", "IY": "i:", "OW": "oU", "OY": "OI", "UH": "U", "UW": "u:",
}
_EN_CONSONANTS = {
    "B": "b", "CH": "tS", "D": "d", "DH": "D", "F": "f", "G": "g", "HH": "h", "JH": "dZ", "K": "k",
    "L": "l", "M": "m", "N": "n", "NG": "N", "P": "p", "R": "r", "S": "s", "SH": "S", "T": "t",
    "TH": "T", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "Z",
}
#: ARPAbet vowel + R in one syllable -> espeak-ng en-us r-coloured vowel (as espeak reads the words).
_EN_R_VOWELS = {"AA": "A@", "AO": "o@", "OW": "o@", "EH": "e@", "EY": "e@", "IH": "i@3", "IY": "i@3",
                "UH": "U@", "UW": "U@"}
_ONSETS = {tuple(x.split()) for x in (
    "P R", "P L", "B R", "B L", "T R", "D R", "K R", "K L", "G R", "G L", "F R", "F L", "TH R",
    "SH R", "S P", "S T", "S K", "S M", "S N", "S L", "S W", "T W", "K W", "D W", "G W", "P Y",
    "B Y", "K Y", "F Y", "M Y", "HH Y", "V Y", "TH W", "S P R", "S T R", "S K R", "S P L", "S K W",
    "S K Y")}


def _is_vowel_arpa(p: str) -> bool:
    return p[-1:].isdigit()


def arpabet_to_espeak(phones: Sequence[str]) -> str:
    """espeak-ng phoneme input for ARPAbet phones, every vowel stressed (a sung syllable is).

    >>> arpabet_to_espeak(["HH", "AH0", "L", "OW1"])
    "[[h'@l'oU]]"
    >>> arpabet_to_espeak(["F", "AO1", "R"]), arpabet_to_espeak(["HH", "AA1", "R", "T"])
    ("[[f'o@]]", "[[h'A@t]]")
    """
    out = []
    skip_r = False
    for i, p in enumerate(phones):
        base = p.rstrip("012")
        if skip_r:
            skip_r = False
            continue
        if _is_vowel_arpa(p):
            v = _EN_VOWELS[base]
            if base == "AH" and p.endswith("0"):
                v = "@"
            elif base == "ER" and p.endswith("0"):
                v = "3"
            elif i + 1 < len(phones) and phones[i + 1] == "R" and base in _EN_R_VOWELS:
                # a vowel before r in the same syllable is espeak's r-coloured vowel (four:
                # f'o@, not f'O:r, which espeak says as "faw-r" with a separate, late r)
                v = _EN_R_VOWELS[base]
                skip_r = True
            out.append("'" + v)
        else:
            out.append(_EN_CONSONANTS[base])
    return "[[" + "".join(out) + "]]"


@lru_cache(maxsize=65536)
def en_word_phones(word: str) -> tuple[str, ...] | None:
    """The CMU dictionary's first pronunciation of ``word`` (ARPAbet with stress), or None."""
    try:
        import pronouncing
    except ImportError:  # pragma: no cover - a declared dependency
        raise MissingDependencyError("singing English needs pronouncing: pip install pronouncing==0.3.0") \
            from None
    w = word.lower().strip("'")
    prons = pronouncing.phones_for_word(w)
    if not prons:
        return None
    phones = tuple(prons[0].split())
    if not all(p.rstrip("012") in _EN_VOWELS or p in _EN_CONSONANTS for p in phones):
        return None
    return phones


def split_word(phones: Sequence[str], n: int) -> list[tuple[str, ...]] | None:
    """Split a word's phones into ``n`` syllables, one vowel each (maximal legal onsets).

    None when the word does not have ``n`` vowels.

    >>> split_word(["M", "AH1", "N", "S", "T", "ER0"], 2)
    [('M', 'AH1', 'N'), ('S', 'T', 'ER0')]
    """
    vowels = [i for i, p in enumerate(phones) if _is_vowel_arpa(p)]
    if len(vowels) != n or n == 0:
        return None
    cuts = [0]
    for a, b in zip(vowels, vowels[1:], strict=False):
        cons = tuple(phones[a + 1:b])
        k = len(cons)
        # the longest legal onset for the next syllable (a single consonant is always legal)
        onset = 0
        for m in range(min(3, k), 0, -1):
            if m == 1 or cons[k - m:] in _ONSETS:
                onset = m
                break
        cuts.append(b - onset)
    cuts.append(len(phones))
    return [tuple(phones[cuts[i]:cuts[i + 1]]) for i in range(n)]


def _syllabify_en(words: list[str]) -> tuple[list[Syllable | None], list[str], list[str]]:
    out: list[Syllable | None] = [None] * len(words)
    bad: list[str] = []
    unknown: list[str] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) - 1 and words[j].endswith("-"):
            j += 1
        parts = [w.rstrip("-") for w in words[i:j + 1]]
        word = "".join(parts)
        letters = re.sub(r"[^a-z']", "", word.lower())
        if not letters.strip("'"):
            bad.extend(p or "(empty)" for p in parts)
            i = j + 1
            continue
        phones = en_word_phones(letters)
        pieces = split_word(phones, len(parts)) if phones else None
        if pieces is None and phones is not None and len(parts) > 1:
            # the notes split the word differently from the dictionary: read each part alone
            pieces = []
            for p in parts:
                ph = en_word_phones(re.sub(r"[^a-z']", "", p.lower()))
                if ph is None or sum(_is_vowel_arpa(x) for x in ph) != 1:
                    pieces = None
                    break
                pieces.append(ph)
        if pieces is None and phones is not None and len(parts) == 1:
            pieces = [phones]  # a many-vowel word on one note
        for k, p in enumerate(parts):
            if pieces is not None:
                out[i + k] = Syllable(p, "en", pieces[k], None, None, arpabet_to_espeak(pieces[k]), True)
            else:
                text = re.sub(r"[^A-Za-z']", "", p) or p
                out[i + k] = Syllable(p, "en", (), None, None, text, False)
        if pieces is None:
            unknown.append(word)
        i = j + 1
    return out, bad, unknown


def syllabify(lyrics: Sequence[str], *, lang: str, breaks: Sequence[int] = ()
              ) -> tuple[list[Syllable], list[str]]:
    """Phones for each sung syllable, in order (melisma marks are not syllables: leave them out).

    Parameters
    ----------
    lyrics : sequence of str
        One syllable per note; English syllables continuing their word end in ``-``.
    lang : {"zh", "en"}
    breaks : sequence of int
        Indices of syllables that start a new phrase (a Chinese phrase is read as a whole).

    Returns
    -------
    syllables : list of Syllable
        One per lyric. A syllable that cannot be read is sung as "la".
    warnings : list of str
        Unreadable syllables and unknown English words, named.
    """
    if lang not in LANGS:
        raise ParameterError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    words = [_clean(x) for x in lyrics]
    warnings: list[str] = []
    if lang == "zh":
        syls, bad = _syllabify_zh([w.rstrip("-") for w in words], set(breaks))
        if bad:
            warnings.append(f"{len(bad)} syllable(s) are neither Chinese characters nor pinyin, sung as "
                            f"'la': {', '.join(repr(b) for b in bad[:8])}{' ...' if len(bad) > 8 else ''}")
    else:
        syls, bad, unknown = _syllabify_en(words)
        if bad:
            warnings.append(f"{len(bad)} syllable(s) have no letters to read, sung as 'la': "
                            f"{', '.join(repr(b) for b in bad[:8])}{' ...' if len(bad) > 8 else ''}")
        if unknown:
            uniq = list(dict.fromkeys(unknown))
            warnings.append(f"{len(uniq)} word(s) not in the CMU dictionary, read by espeak-ng's "
                            f"spelling rules: {', '.join(repr(u) for u in uniq[:8])}"
                            f"{' ...' if len(uniq) > 8 else ''}")
    la = la_syllable(lang)
    return [s if s is not None else la for s in syls], warnings


def la_syllable(lang: str) -> Syllable:
    """The neutral syllable "la" sung where a note has no readable lyric."""
    if lang == "zh":
        return _zh_syllable("la", "la", 1)
    return Syllable("la", "en", ("L", "AA1"), None, None, arpabet_to_espeak(["L", "AA1"]), True)
