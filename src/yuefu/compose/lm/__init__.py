"""yuefu.compose.lm: the music language model (a Compound Word Transformer).

* :mod:`.tokens` — the compound token layout over miditok's CPWord, with chord and condition
  families (:class:`CPTokenizer`, :class:`Conditions`);
* :mod:`.model` — the Transformer with relative attention ("skewing"), a key/value cache and one
  head per family (needs PyTorch);
* :mod:`.sampling` — per-family temperature and top-p, repetition control, grammar masks;
* :mod:`.convert` — Score <-> token rows (keys by transposition to C major / A minor);
* :mod:`.data` — POP909 as training data (``train/compose.py``);
* :mod:`.api` — :func:`compose`, :func:`continue_score`, :func:`load_language_model`.

Only :mod:`.api` and :mod:`.sampling` are imported here; they import PyTorch and miditok when
called, so ``import yuefu.compose`` stays light and works without the ``ml`` extra.
"""

from .api import Composition, LanguageModel, compose, continue_score, load_language_model
from .sampling import SamplingConfig

__all__ = ["Composition", "LanguageModel", "SamplingConfig", "compose", "continue_score",
           "load_language_model"]
