"""From a song request to its musical parameters: ``choose_motive(spec) -> Motive``.

The emotion sets the mode, the tempo range and the energy; the style sets the meter, the feel,
the harmonic palette and the instruments; the theme and the seed pick the key and the exact
tempo. Every choice is written into ``Motive.reasons`` so that report.json can say why.

>>> from yuefu.core.spec import SongSpec
>>> m = choose_motive(SongSpec(theme="rain on the window", emotion="sad", style="ballad"))
>>> m.key.endswith("minor"), m.energy < 0.5, "sad" in m.reasons["mode"]
(True, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

from yuefu.core.motive import Motive
from yuefu.core.spec import SongSpec
from yuefu.core.theory import Key

__all__ = ["choose_motive", "EMOTION_RULES", "STYLE_RULES", "VOICE_RANGES"]


@dataclass(frozen=True)
class _EmotionRule:
    mode: str
    tempo_bpm: tuple[float, float]
    energy: float
    why: str


@dataclass(frozen=True)
class _StyleRule:
    meters: tuple[tuple[int, int], ...]
    feel: str
    palette: str
    tempo_scale: float
    tempo_clip: tuple[float, float]
    energy_shift: float
    why: str


EMOTION_RULES: dict[str, _EmotionRule] = {
    "happy": _EmotionRule("major", (108, 126), 0.7, "happy: a major key, a lively tempo"),
    "sad": _EmotionRule("minor", (62, 78), 0.3, "sad: a minor key, a slow tempo, little energy"),
    "calm": _EmotionRule("major", (68, 84), 0.25, "calm: a major key, an unhurried tempo, sparse parts"),
    "excited": _EmotionRule("major", (128, 150), 0.9, "excited: a major key, a fast tempo, full energy"),
    "romantic": _EmotionRule("major", (70, 90), 0.4, "romantic: a major key, a gentle tempo, warm chords"),
    "nostalgic": _EmotionRule("major", (74, 94), 0.4,
                              "nostalgic: a major key coloured by minor chords, a moderate tempo"),
    "epic": _EmotionRule("minor", (84, 104), 0.85, "epic: a minor key, a broad tempo, building energy"),
    "playful": _EmotionRule("major", (112, 132), 0.65, "playful: a major key, a bouncy tempo"),
}

STYLE_RULES: dict[str, _StyleRule] = {
    "pop": _StyleRule(((4, 4),), "straight", "diatonic", 1.0, (70, 140), 0.0,
                      "pop: 4/4, straight eighths, diatonic chords"),
    "ballad": _StyleRule(((4, 4), (6, 8)), "straight", "sevenths", 0.85, (56, 96), -0.15,
                         "ballad: 4/4 or a rocking 6/8, slower, seventh chords"),
    "folk": _StyleRule(((4, 4), (2, 4), (3, 4)), "straight", "diatonic", 0.95, (66, 124), -0.05,
                       "folk: simple meters, plain triads"),
    "rock": _StyleRule(((4, 4),), "straight", "power", 1.1, (92, 160), 0.2,
                       "rock: 4/4, driving eighths, power chords"),
    "electronic": _StyleRule(((4, 4),), "straight", "minor_modal", 1.0, (112, 132), 0.15,
                             "electronic: 4/4 at dance tempo, modal minor colours"),
    "children": _StyleRule(((2, 4), (4, 4)), "straight", "diatonic", 1.05, (96, 126), 0.0,
                           "children's song: short meters, simple triads, a bright tempo"),
    "classical_piano": _StyleRule(((3, 4), (4, 4)), "straight", "classical", 0.95, (60, 120), -0.1,
                                  "classical piano: 3/4 or 4/4, functional harmony with dominants"),
}

#: Melody ranges (MIDI) per voice: female about A3-E5, male about E2-G4 (the issue's figures).
VOICE_RANGES = {"female": (57, 76), "male": (40, 67)}

# Keys singers and players like, and a comfortable tonic register for each voice.
_MAJOR_KEYS = ("C", "D", "Eb", "E", "F", "G", "A", "Bb")
_MINOR_KEYS = ("A", "B", "C", "D", "E", "F#", "G")

def choose_motive(spec: SongSpec, *, lexical_seeds: tuple[str, ...] | None = None) -> Motive:
    """Choose key, tempo, meter, feel, palette, instruments and energy for a song request.

    Parameters
    ----------
    spec : SongSpec
        The request; its seed makes every choice reproducible.
    lexical_seeds : tuple of str, optional
        Words for the lyrics; by default :func:`yuefu.lyrics.lexical_seeds` of the theme.

    Returns
    -------
    Motive
    """
    rng = spec.rng(stream="motive")
    emo = EMOTION_RULES[spec.emotion]
    sty = STYLE_RULES[spec.style]
    reasons: dict[str, str] = {}

    mode = emo.mode
    if spec.style == "children" and mode == "minor":
        mode = "major"
        reasons["mode"] = f"{emo.why}; but children's songs stay in major"
    else:
        reasons["mode"] = emo.why
    tonics = _MAJOR_KEYS if mode == "major" else _MINOR_KEYS
    tonic = tonics[int(rng.integers(0, len(tonics)))]
    key = Key.parse(f"{tonic} {mode}")
    reasons["key"] = (f"{key.name}: drawn by the seed from keys that sit well for a {spec.voice} "
                      f"voice ({', '.join(tonics)} {mode})")

    lo, hi = emo.tempo_bpm
    tempo = float(rng.uniform(lo, hi)) * sty.tempo_scale
    tempo = float(round(min(max(tempo, sty.tempo_clip[0]), sty.tempo_clip[1])))
    reasons["tempo_bpm"] = (f"{tempo:g} BPM: {spec.emotion} asks for {lo:g}-{hi:g}, "
                            f"{spec.style} scales it by {sty.tempo_scale:g} within "
                            f"{sty.tempo_clip[0]:g}-{sty.tempo_clip[1]:g}")

    meter = sty.meters[int(rng.integers(0, len(sty.meters)))]
    if spec.style == "ballad" and meter == (6, 8):
        tempo = float(round(tempo * 1.5))  # dotted-quarter pulse near the 4/4 tempo's beat
    reasons["meter"] = f"{meter[0]}/{meter[1]}: {sty.why}"

    feel = sty.feel
    if meter in ((6, 8), (12, 8)):
        feel = "compound"
    elif spec.emotion == "playful" and spec.style in ("pop", "folk", "children"):
        feel = "swing"
    elif spec.emotion == "epic" and spec.style in ("rock", "pop", "electronic"):
        feel = "halftime"
    reasons["feel"] = f"{feel}: from the {spec.style} style and the {spec.emotion} emotion"

    palette = sty.palette
    if spec.style == "folk" and spec.language == "zh":
        palette = "pentatonic"
        reasons["palette"] = "pentatonic: a 国风 colour for a Chinese folk song"
    elif spec.style in ("pop", "folk") and mode == "minor":
        palette = "minor_modal"
        reasons["palette"] = f"minor_modal: {spec.style} in a minor key borrows bVI and bVII"
    else:
        reasons["palette"] = f"{palette}: {sty.why}"

    from yuefu.arrange import style_instruments

    instruments = style_instruments(spec.style, spec.emotion, pentatonic=palette == "pentatonic")
    reasons["instruments"] = (f"the {spec.style} band for a {spec.emotion} song"
                              + (" with Chinese colours (guzheng, dizi- and erhu-like voices)"
                                 if palette == "pentatonic" else "")
                              + f"; the melody is played by GM program {instruments['lead']} until "
                                "the singer lands")

    energy = float(min(1.0, max(0.05, emo.energy + sty.energy_shift)))
    reasons["energy"] = f"{energy:.2f}: {spec.emotion} {emo.energy:g} shifted by {spec.style}"

    vr = VOICE_RANGES[spec.voice]
    reasons["voice_range"] = f"{spec.voice} voice, MIDI {vr[0]}-{vr[1]}"
    if spec.style == "children":  # a child's comfortable range: about a tenth
        vr = (vr[0] + 3, vr[0] + 3 + 16)
        reasons["voice_range"] += f", narrowed to {vr[0]}-{vr[1]} for a children's song"

    if lexical_seeds is None:
        from yuefu.lyrics import lexical_seeds as seeds_of

        lexical_seeds = tuple(seeds_of(spec.theme, emotion=spec.emotion, language=spec.language))
    reasons["lexical_seeds"] = "the theme's words and imagery for the emotion"

    return Motive(
        key=f"{tonic} {mode}",
        tempo_bpm=tempo,
        meter=meter,
        feel=feel,
        palette=palette,
        instruments=instruments,
        voice_range=vr,
        energy=energy,
        style=spec.style,
        emotion=spec.emotion,
        language=spec.language,
        voice=spec.voice,
        theme=spec.theme,
        lexical_seeds=lexical_seeds,
        seed=spec.seed,
        reasons=reasons,
    )

