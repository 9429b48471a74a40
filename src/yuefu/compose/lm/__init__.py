"""yuefu.compose.lm: the music language model (a Compound Word Transformer).

* :mod:`.tokens` — the compound token layout over miditok's CPWord, with chord and condition
  families (:class:`CPTokenizer`, :class:`Conditions`);
* :mod:`.model` — the Transformer with relative attention ("skewing"), a key/value cache and one
  head per family (needs PyTorch);
* :mod:`.sampling` — per-family temperature and top-p, repetition control, grammar masks;
* :mod:`.convert` — Score <-> token rows (keys by transposition to C major / A minor);
* :mod:`.data` — POP909 as training data (``train/compose.py``);
* :mod:`.api` — :func:`compose`, :func:`continue_score`, :func:`load_language_model`;
* :mod:`.constrained` — decoding under a plan of melody notes and chords (one note per syllable);
* :mod:`.songwriter` — :func:`write_melody_lm` (lyrics set to a melody by the model) and
  :func:`accompany` (the model's piano part under a given melody).

Only :mod:`.api`, :mod:`.sampling` and :mod:`.songwriter` are imported here; they import PyTorch
and miditok when called, so ``import yuefu.compose`` stays light and works without the ``ml`` extra.
"""

from .api import Composition, LanguageModel, compose, continue_score, load_language_model
from .sampling import SamplingConfig
from .songwriter import accompany, write_melody_lm

__all__ = ["Composition", "LanguageModel", "SamplingConfig", "accompany", "compose", "continue_score",
           "load_language_model", "write_melody_lm"]
