"""yuefu.compose: from a song request to a melody and its chords.

* :func:`choose_motive` — a request's musical parameters (key, tempo, meter, palette, ...);
* :func:`write_melody` — a sung melody for lyrics, one note per syllable, on a harmonic skeleton;
* :func:`harmonize` — chords for a melody from the motive's palette (an HMM over learned
  Roman-numeral transitions, decoded with Viterbi);
* measures: :func:`in_key_ratio`, :func:`chord_tone_ratio`, :func:`tone_agreement`;
* the music language model (:mod:`yuefu.compose.lm`, needs the ``ml`` extra when called):
  :func:`compose` writes a piece from style, emotion and length, :func:`continue_score`
  continues a person's melody or piano piece; :class:`SamplingConfig` sets per-family
  temperature and top-p; :func:`write_melody_lm` sets lyrics to a melody with it (one note per
  syllable, the songwriter's ``--engine model``) and :func:`accompany` writes its piano part
  under a given melody and chords.

Melody and chord statistics are learned from POP909 by ``train/melody.py`` and shipped as
``yuefu/models/melody_pop909.json`` (model card beside it).
"""

from yuefu.compose.harmony import ChordOption, chord_options, chord_tone_ratio, harmonize, in_key_ratio
from yuefu.compose.lm import (
    Composition,
    SamplingConfig,
    accompany,
    compose,
    continue_score,
    load_language_model,
    write_melody_lm,
)
from yuefu.compose.melody import FUNCTION_WORDS, TONE_RULE, syllable_tones, tone_agreement, write_melody
from yuefu.compose.motive import choose_motive

__all__ = [
    "ChordOption",
    "accompany",
    "Composition",
    "SamplingConfig",
    "FUNCTION_WORDS",
    "TONE_RULE",
    "choose_motive",
    "compose",
    "continue_score",
    "load_language_model",
    "chord_options",
    "chord_tone_ratio",
    "harmonize",
    "in_key_ratio",
    "syllable_tones",
    "tone_agreement",
    "write_melody",
    "write_melody_lm",
]
