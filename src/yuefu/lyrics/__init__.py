"""yuefu.lyrics: lyric writing in Chinese and English: form, syllables, rhyme, tone, and its model.

The lyrics are decoded from n-gram language models that the project trains on real text
(``train/lyrics.py``: Song ci and Yuan qu for Chinese, hymns and public-domain poetry for
English) with the song's constraints enforced while decoding: exact syllable counts, rhyme at
line ends (十三辙 groups in Chinese, CMU rhyming parts in English), the theme's words, a chorus
that repeats.

>>> from yuefu.lyrics import LyricsRequest, write_lyrics
>>> songs = write_lyrics(LyricsRequest(theme="夏夜的海边", emotion="nostalgic", style="ballad",
...                                    language="zh", length_s=30), n=2)
>>> len(songs), songs[0].score >= songs[1].score
(2, True)
"""

from yuefu.lyrics.form import SectionPlan, default_form
from yuefu.lyrics.phonetics import (
    RHYME_GROUPS_ZH,
    SHISANZHE,
    line_rhyme_group_zh,
    line_rhyme_key,
    rhyme_group_zh,
    rhymes_en,
    rhyming_part_en,
    split_syllables,
    syllable_count,
    syllable_count_en,
    syllables_en,
    tone_class_zh,
    tone_classes_zh,
)
from yuefu.lyrics.seeds import IMAGERY, imagery_words, lexical_seeds, theme_words
from yuefu.lyrics.text import LyricLine, Lyrics, LyricSection, rhyme_rate
from yuefu.lyrics.writer import LyricsRequest, WriterSettings, write_lyrics

__all__ = [
    "IMAGERY",
    "LyricLine",
    "LyricSection",
    "Lyrics",
    "LyricsRequest",
    "RHYME_GROUPS_ZH",
    "SHISANZHE",
    "SectionPlan",
    "WriterSettings",
    "default_form",
    "imagery_words",
    "lexical_seeds",
    "line_rhyme_group_zh",
    "line_rhyme_key",
    "rhyme_group_zh",
    "rhyme_rate",
    "rhymes_en",
    "rhyming_part_en",
    "split_syllables",
    "syllable_count",
    "syllable_count_en",
    "syllables_en",
    "theme_words",
    "tone_class_zh",
    "tone_classes_zh",
    "write_lyrics",
]
