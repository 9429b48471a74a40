"""The AI singer: a score's lyric line sung in Mandarin or English.

espeak-ng supplies the phonemes (Mandarin from pypinyin's tone-numbered pinyin, English from the
CMU dictionary's ARPAbet), WORLD (pyworld) re-synthesises them on the score's pitches with
portamento and vibrato at 44.1 kHz. The pure parts are separate modules that test without
audio: :mod:`~yuefu.sing.phonetics`, :mod:`~yuefu.sing.timing`, :mod:`~yuefu.sing.pitch`.

>>> from yuefu.sing import sing, VOICES
>>> sorted(VOICES)
['female', 'male']
"""

from yuefu.sing.singer import VOICES, SingResult, SungNote, attach_lyrics, sing, sing_file
from yuefu.sing.units import Voice

__all__ = ["sing", "sing_file", "attach_lyrics", "SingResult", "SungNote", "VOICES", "Voice"]
