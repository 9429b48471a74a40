"""Voice units: where the onset, a sonorant, a Mandarin medial and the vowel lie, and how loud."""

from __future__ import annotations

import numpy as np
import pytest

from yuefu.sing import VOICES
from yuefu.sing.phonetics import arpabet_to_espeak
from yuefu.sing.units import SONORANT_DB, _band_db, load_unit, phoneme_class, pyworld_module

pyworld_module()  # the vocoder, through the shim for setuptools without pkg_resources


def _unit(text: str, lang: str = "zh", voice: str = "female"):
    from yuefu.core.errors import MissingDependencyError

    try:
        if lang == "zh":
            return load_unit(text, False, "cmn-latn-pinyin", VOICES[voice])
        return load_unit(text, True, "en-us", VOICES[voice])
    except MissingDependencyError as e:  # pragma: no cover - espeak-ng missing
        pytest.skip(str(e))


def test_phoneme_classes():
    assert [phoneme_class(p) for p in ("l", "m", "N", "r", "w", "j", ";", "k", "S;", "aI", "'A:", "_")] == [
        "liquid", "nasal", "nasal", "liquid", "glide", "glide", "glide", "obstruent", "obstruent",
        "vowel", "vowel", "pause"]


@pytest.mark.parametrize("voice", ["female", "male"])
@pytest.mark.parametrize(("text", "lang"), [("lu1", "zh"), ("man1", "zh"), ("[[l'aIt]]", "en"),
                                            ("[[w'Vn]]", "en"), ("[[m'u:n]]", "en")])
def test_a_sonorant_onset_is_clearly_softer_than_its_vowel(text, lang, voice):
    u = _unit(text, lang, voice)
    n0, n1 = u.nucleus
    assert u.sonorant >= 10 and u.sonorant == n0  # l, m, w: the whole onset is the sonorant
    band = _band_db(u.log_sp)
    vowel = float(np.median(band[n0:n1]))
    son = band[n0 - u.sonorant:n0][u.voiced[n0 - u.sonorant:n0]]
    assert son.size and np.all(son <= vowel + SONORANT_DB + 0.5), (son - vowel).round(1)  # dB


def test_an_obstruent_onset_is_no_sonorant():
    for text, lang in (("ta1", "zh"), ("[[s'Iks]]", "en"), ("[[k'at]]", "en")):
        u = _unit(text, lang)
        assert u.sonorant == 0 and u.nucleus[0] > 0


@pytest.mark.parametrize(("syl", "initial_frames"), [("guang1", True), ("wo1", False), ("xiao1", True),
                                                     ("hua1", True)])
def test_a_mandarin_medial_belongs_to_the_final(syl, initial_frames):
    # the glide (w of guang/wo/hua, j of xiao) starts the nucleus: it is sung from the beat on
    u = _unit(syl)
    assert u.glide >= 10
    assert (u.nucleus[0] > 0) == initial_frames
    assert u.sonorant == 0
    assert u.hold[0] >= u.nucleus[0] + u.glide  # the held part is the main vowel, after the glide
    # in English, w before the vowel is an onset sonorant, before the beat
    e = _unit("[[w'aIt]]", "en")
    assert e.glide == 0 and e.sonorant >= 10


def test_english_r_coloured_vowels_are_espeaks():
    assert arpabet_to_espeak(["F", "AO1", "R"]) == "[[f'o@]]"
    assert arpabet_to_espeak(["S", "T", "AA1", "R"]) == "[[st'A@]]"
    assert arpabet_to_espeak(["R", "EH1", "D"]) == "[[r'Ed]]"  # an r before the vowel stays
