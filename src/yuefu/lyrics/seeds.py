"""Lexical seeds: the words a song's lyrics should use, from its theme and its emotion.

The theme's own words come first (``jieba`` segments Chinese; English is split into words and
stop words are dropped), then imagery words from a curated table per emotion and language
(:data:`IMAGERY`). The lyric decoder boosts these words so that they appear in the song; the
theme words are required in the chorus hook and the first line of each verse.

>>> lexical_seeds("夏夜的海边", emotion="nostalgic", language="zh")[:4]
('夏夜', '海边', '旧', '故乡')
>>> lexical_seeds("summer night by the sea", emotion="calm", language="en")[:3]
('summer', 'night', 'sea')
"""

from __future__ import annotations

import logging
import re
import unicodedata

from yuefu.core.errors import MissingDependencyError, ParameterError
from yuefu.core.spec import EMOTIONS, LANGUAGES, MAX_THEME_CHARS
from yuefu.lyrics.phonetics import han_chars, is_han, words_en

__all__ = ["IMAGERY", "lexical_seeds", "theme_words", "imagery_words", "check_theme"]

#: Imagery per emotion and language: concrete, singable words the decoder boosts.
IMAGERY: dict[str, dict[str, tuple[str, ...]]] = {
    "zh": {
        "happy": ("春风", "阳光", "花开", "笑", "歌", "晴", "飞", "明媚", "欢", "彩云", "燕", "桃花"),
        "sad": ("泪", "雨", "离别", "孤", "落花", "寒", "梦", "愁", "残", "憔悴", "秋", "断肠"),
        "calm": ("清风", "明月", "山", "流水", "静", "白云", "竹", "远", "溪", "松", "闲", "烟"),
        "excited": ("奔", "火", "飞扬", "狂", "长风", "浪", "天涯", "马", "醉", "鼓", "云霄", "豪"),
        "romantic": ("相思", "红豆", "月", "花", "心", "约", "情", "眉", "烛", "鸳鸯", "佳人", "春"),
        "nostalgic": ("旧", "故乡", "月", "黄昏", "归", "往事", "年少", "梦", "旧时", "故人", "斜阳", "老"),
        "epic": ("山河", "铁马", "长风", "剑", "万里", "天地", "英雄", "旌旗", "千古", "江山", "大漠",
                 "烽火"),
        "playful": ("蝴蝶", "笑", "跳", "春", "燕子", "花", "童", "风筝", "小", "歌", "蜻蜓", "摇"),
    },
    "en": {
        "happy": ("sun", "smile", "bright", "dance", "sing", "morning", "golden", "light", "flowers", "sky",
                  "laugh", "spring"),
        "sad": ("tears", "rain", "alone", "cold", "goodbye", "broken", "grey", "fading", "empty", "sorrow",
                "night", "lost"),
        "calm": ("quiet", "still", "river", "breeze", "gentle", "slow", "meadow", "soft", "evening", "peace",
                 "moon", "stream"),
        "excited": ("fire", "wild", "run", "thunder", "alive", "burning", "fly", "storm", "heart", "high",
                    "racing", "loud"),
        "romantic": ("heart", "kiss", "love", "moonlight", "eyes", "hold", "rose", "dream", "tender", "stars",
                     "sweet", "arms"),
        "nostalgic": ("old", "home", "remember", "years", "yesterday", "childhood", "memory", "gone", "faded",
                      "summer", "once", "letters"),
        "epic": ("mountains", "kingdom", "glory", "sword", "rise", "thunder", "empire", "storm", "march",
                 "banners", "endless", "battle"),
        "playful": ("jump", "play", "silly", "bubbles", "giggle", "hop", "skip", "sunny", "kite", "tickle",
                    "puppy", "balloon"),
    },
}

_ZH_STOP = set(
    "的 了 着 过 是 在 和 与 及 或 而 也 都 就 又 还 很 太 更 最 把 被 让 给 对 从 向 往 于 以 为 因 所 "
    "之 其 这 那 此 些 个 一个 这个 那个 我 你 他 她 它 我们 你们 他们 她们 咱们 自己 吗 呢 吧 啊 呀 哦 嗯 "
    "么 什么 怎么 怎样 如何 有 没有 不 没 会 能 要 想 去 来 上 下 中 里 得 地 等 啦 哇 哈".split()
)
_EN_STOP = set(
    """a an the and or but nor so yet for of to in on at by with from into onto over under about above
    below between through during before after as than then that this these those there here where when
    while who whom whose which what why how is am are was were be been being do does did doing have has
    had having i me my mine myself you your yours yourself he him his himself she her hers herself it its
    itself we us our ours ourselves they them their theirs themselves not no very just only also too can
    could will would shall should may might must let lets it's i'm you're we're they're don't can't won't
    isn't aren't wasn't weren't all any some each every such own same other more most much many few up
    down out off again once""".split()
)
MAX_THEME_WORDS = 6


def check_theme(theme: object, *, language: str | None = None) -> str:
    """Validate a theme and return it stripped; raises :class:`ParameterError` with one line.

    Refuses a non-string, an empty theme, one longer than 200 characters, one with no letters
    (only emoji or symbols), and one with no word of ``language`` (no Han character for ``zh``, no
    Latin word for ``en``).
    """
    if not isinstance(theme, str):
        raise ParameterError(f"the theme must be text, got {type(theme).__name__}")
    t = unicodedata.normalize("NFKC", theme).strip()
    if not t:
        raise ParameterError("the theme is empty: give a few words or a sentence")
    if len(t) > MAX_THEME_CHARS:
        raise ParameterError(f"the theme is {len(t)} characters long; keep it to {MAX_THEME_CHARS}")
    if not any(unicodedata.category(c).startswith("L") for c in t):
        raise ParameterError(f"the theme {t[:40]!r} has no words (only symbols or emoji): give a few words")
    if language is not None:
        check_language(language)
        if language == "zh" and not any(is_han(c) for c in t):
            raise ParameterError(
                f"the theme {t[:40]!r} has no Chinese characters; for language 'zh' give a Chinese theme"
            )
        if language == "en" and not words_en(t):
            raise ParameterError(
                f"the theme {t[:40]!r} has no English words; for language 'en' give an English theme"
            )
    return t


def check_language(language: object) -> str:
    if language not in LANGUAGES:
        raise ParameterError(f"unknown language {language!r}; valid: {', '.join(LANGUAGES)}")
    return str(language)


def check_emotion(emotion: object) -> str:
    if emotion not in EMOTIONS:
        raise ParameterError(f"unknown emotion {emotion!r}; valid: {', '.join(EMOTIONS)}")
    return str(emotion)


def _jieba():  # noqa: ANN202 - the module
    import warnings

    try:
        with warnings.catch_warnings():  # jieba imports pkg_resources, which setuptools 80 warns of
            warnings.simplefilter("ignore", UserWarning)
            import jieba
    except ImportError:  # pragma: no cover - a declared dependency
        raise MissingDependencyError("Chinese themes need jieba: pip install jieba==0.42.1") from None
    jieba.setLogLevel(logging.WARNING)
    return jieba


def theme_words(theme: str, *, language: str) -> tuple[str, ...]:
    """The content words of a theme, in order, without repeats (at most six).

    >>> theme_words("夏夜的海边", language="zh")
    ('夏夜', '海边')
    >>> theme_words("The lanterns of the old harbour", language="en")
    ('lanterns', 'old', 'harbour')
    """
    t = check_theme(theme, language=language)
    out: list[str] = []
    if language == "zh":
        for tok in _jieba().lcut(t):
            w = han_chars(tok)
            if not w or w in _ZH_STOP:
                continue
            if len(w) > 4:  # an unknown long run: keep two-character pieces
                out.extend(w[i : i + 2] for i in range(0, len(w) - 1, 2))
            else:
                out.append(w)
    else:
        for w in words_en(t):
            w = w.strip("'")
            if len(w) < 2 or w in _EN_STOP or not re.search(r"[aeiouy]", w):
                continue
            out.append(w)
    seen: list[str] = []
    for w in out:
        if w not in seen:
            seen.append(w)
    if not seen:
        raise ParameterError(
            f"the theme {t[:40]!r} has no content words (only function words); "
            "name a place, a thing or a feeling"
        )
    return tuple(seen[:MAX_THEME_WORDS])


def imagery_words(emotion: str, *, language: str) -> tuple[str, ...]:
    """The curated imagery words for an emotion in a language (see :data:`IMAGERY`)."""
    return IMAGERY[check_language(language)][check_emotion(emotion)]


def lexical_seeds(theme: str, *, emotion: str, language: str) -> tuple[str, ...]:
    """The theme's words followed by the emotion's imagery words (no repeats).

    Parameters
    ----------
    theme : str
        Keywords or a sentence (1..200 characters, with words of ``language``).
    emotion : str
        One of :data:`yuefu.core.spec.EMOTIONS`.
    language : str
        ``"zh"`` or ``"en"``.

    Returns
    -------
    tuple of str
        Words for the decoder to boost, theme words first.

    Raises
    ------
    ParameterError
        An empty or absurd theme, or an unknown emotion or language (the message lists the valid ones).
    """
    check_language(language)
    check_emotion(emotion)
    words = list(theme_words(theme, language=language))
    for w in imagery_words(emotion, language=language):
        if w not in words:
            words.append(w)
    return tuple(words)
