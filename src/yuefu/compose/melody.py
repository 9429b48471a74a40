"""Melody writing: ``write_melody(sections, motive) -> Score``, one note per syllable, and the
lexical-tone measure ``tone_agreement(score)``.

How a melody is made
--------------------
1. **Form.** Each section's lines get 2 or 4 bars (the fewest that keep the syllable rate
   singable at the tempo); all lines of a section share that length. A section that comes back
   (a second chorus) reuses the first one's chords, rhythm and pitches: with the same lyrics it is
   repeated exactly.
2. **Chords.** A harmonic skeleton, one or two chords a bar, is sampled from the learned
   Roman-numeral transitions of POP909 with cadences fixed: lines end *open* (a stable chord),
   the first half of a section ends on the dominant (a half cadence), a chorus, an outro and the
   song end on the tonic. The second half of a section repeats the first half's chords but for
   its cadence.
3. **Rhythm.** Each line's onsets are sampled exactly (a dynamic programme over a grid of
   sixteenths or eighths) from the learned note lengths by metric position, with n onsets for n
   syllables, a long last note starting in the line's last bar, a learned rest before the next
   line and a learned start (often a pickup before the barline; an English line that opens with
   a function word always gets one). Lines of a section share a rhythmic motif: a line of the
   same length copies it, others are drawn towards its onsets.
4. **Pitch.** A second-order chain over the scale tones in the voice's range, sampled exactly
   (forward filtering, backward sampling) from: learned intervals given the previous interval,
   learned degrees over the chord in force (strong beats must be chord tones), a register target
   (the chorus sits about a third of the range above the verse, an arch in each line), the
   cadence degree of the line's last note, leaps favoured in the chorus, the lexical tones of
   Chinese syllables (:data:`TONE_RULE`, a soft cost), and a pull towards the motif: the second
   half of a section repeats the first half's pitches and varies the ending.
5. **Style** by rule on top: ballad longer notes and more melismas; children's song a narrow range,
   eighths and quarters, small leaps; rock and electronic more syncopation; classical piano more
   steps and melismas; swing delays off-beat eighths to the triplet; 6/8 and 12/8 use compound
   rhythm tables; the pentatonic palette keeps the melody on the five-note scale.

>>> from yuefu.core.motive import Motive
>>> s = write_melody([("verse", [["月", "亮", "照", "着", "海", "面"], ["风", "吹", "过", "沙", "滩"]])],
...                  Motive(key="D major", language="zh"), seed=1)
>>> [n.lyric for n in s.track("vocal").notes if n.lyric != "-"][:3]
['月', '亮', '照']
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp

from yuefu.compose._common import (
    MAX_INTERVAL,
    ChordOption,
    MelodyStats,
    bar_beats_of,
    chord_options,
    draw_from_logits,
    interval_class,
    is_strong,
    load_stats,
    lyric_or_melody_track,
    melody_scale,
    mode_family,
    section_kind,
    strong_positions,
    transition_matrix,
)
from yuefu.compose.harmony import solve_chain
from yuefu.core.errors import MissingDependencyError, ParameterError
from yuefu.core.motive import Motive
from yuefu.core.score import ChordSymbol, KeySignature, Note, Score, Section, Tempo, TimeSignature, Track
from yuefu.core.theory import Key

__all__ = ["write_melody", "tone_agreement", "syllable_tones", "TONE_RULE", "FUNCTION_WORDS"]

#: The lexical-tone rule for Chinese lyrics, applied as a soft cost while choosing pitches and
#: measured by :func:`tone_agreement`. ``interval`` is the step in semitones from the previous
#: sung pitch of the same phrase.
TONE_RULE = {
    1: "1st tone (high level): level or a small move, |interval| <= 4",
    2: "2nd tone (rising): not set on a falling interval, interval >= 0",
    3: "3rd tone (low): does not leap up, interval <= 2",
    4: "4th tone (falling): does not rise by more than a step, interval <= 2",
}

#: English words that open a line as a pickup before the barline.
FUNCTION_WORDS = frozenset(
    "a an the and but or so if as at in on of to for from with by my your our his her their its "
    "i you we he she it they is are was be i'm i'll we'll you're let's when while then there this "
    "that all no not oh".split()
)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_TONE_PENALTY = 2.2


def _tone_holds(tone: int | None, interval: int) -> bool:
    if tone == 1:
        return abs(interval) <= 4
    if tone == 2:
        return interval >= 0
    if tone in (3, 4):
        return interval <= 2
    return True


def syllable_tones(syllables: Sequence[str]) -> list[int | None]:
    """Mandarin tones (1-4; None for neutral or non-Chinese) of a line of syllables.

    The line is read as a whole (``pypinyin``, with tone sandhi) so that heteronyms and
    3rd-tone pairs are read in context.

    Raises
    ------
    MissingDependencyError
        pypinyin is not installed.
    """
    if not any(_CJK.search(s) for s in syllables):
        return [None] * len(syllables)
    try:
        from pypinyin import Style, lazy_pinyin
    except ImportError:
        raise MissingDependencyError(
            "Chinese lexical tones need pypinyin: pip install pypinyin==0.55.0") from None
    out: list[int | None] = [None] * len(syllables)
    chars = [(i, c) for i, s in enumerate(syllables) for c in s if _CJK.match(c)]
    if chars:
        py = lazy_pinyin("".join(c for _, c in chars), style=Style.TONE3, neutral_tone_with_five=True,
                         tone_sandhi=True)
        for (i, _), p in zip(chars, py, strict=False):
            t = int(p[-1]) if p and p[-1].isdigit() else 5
            out[i] = t if 1 <= t <= 4 else None  # the last character of a syllable decides
    return out


# -- styles -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Style:
    tilt: float = 0.0  # note lengths weighted by length**tilt
    sync: float = 1.0  # weight of syncopated onsets (an off-beat note held past the beat)
    sixteenths: bool = True
    max_leap: int = 12
    span: int | None = None  # narrow the range to this many semitones
    melisma: float = 0.15  # chance of a melisma per line
    final_beats: float = 1.5  # shortest phrase-final note in a 4/4 bar
    steps: float = 0.0  # bonus for steps (lyrical)
    rate_s: float = 0.24  # shortest mean seconds per syllable before a line takes 4 bars
    tau: float = 1.0


_STYLES = {
    "pop": _Style(),
    "ballad": _Style(tilt=0.45, melisma=0.35, final_beats=2.0, rate_s=0.3, sync=1.2),
    "folk": _Style(tilt=0.2, melisma=0.25, rate_s=0.27),
    "rock": _Style(sync=2.5, melisma=0.08, rate_s=0.22),
    "electronic": _Style(sync=2.5, melisma=0.05, rate_s=0.22),
    "children": _Style(tilt=0.35, sync=0.15, sixteenths=False, max_leap=7, span=12, melisma=0.0,
                       rate_s=0.3, tau=0.85),
    "classical_piano": _Style(tilt=0.3, melisma=0.35, steps=0.6, final_beats=2.0, rate_s=0.28, sync=0.6),
}
_CENTER = {"verse": 0.34, "prechorus": 0.48, "chorus": 0.68, "bridge": 0.58, "intro": 0.45,
           "outro": 0.5, "other": 0.45}


# -- plan ---------------------------------------------------------------------------------------
@dataclass
class _Line:
    syllables: list[str]
    tones: list[int | None]
    section: int
    index: int  # within the section
    bar0: int = 0
    bars: int = 2
    offset: float = 0.0  # start relative to the first barline, beats
    end: float = 0.0  # absolute end of the last note, beats
    cadence: str = "open"
    ref: int | None = None  # global index of the line whose motif this one follows
    copy_rhythm: bool = False
    melisma: bool = False
    pitch_beta: float = 0.0
    rest: float = 0.5  # beats of rest after the line
    onsets: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    pitches: list[int] = field(default_factory=list)


@dataclass
class _Section:
    name: str
    kind: str
    lines: list[_Line]
    bars_per_line: int = 2
    bar0: int = 0
    slots_per_bar: int = 1
    chords: list[int] = field(default_factory=list)  # option index per slot
    repeat_of: int | None = None
    exact: bool = False


class _Ctx:
    """Everything fixed for one song."""

    def __init__(self, motive: Motive, stats: MelodyStats) -> None:
        self.motive = motive
        self.stats = stats
        self.key: Key = motive.key_obj
        self.family = mode_family(self.key)
        self.meter: tuple[int, int] = (int(motive.meter[0]), int(motive.meter[1]))
        self.bar = bar_beats_of(motive.meter)
        self.tempo = float(motive.tempo_bpm)
        self.style = _STYLES.get(motive.style, _STYLES["pop"])
        self.compound = self.meter in ((6, 8), (12, 8)) or motive.feel == "compound"
        fine = (self.style.sixteenths and motive.feel in ("straight", "halftime") and not self.compound
                and self.tempo <= 118)
        self.unit = 0.25 if fine else 0.5
        self.units_per_bar = int(round(self.bar / self.unit))
        self.scale = melody_scale(self.key, motive.palette)
        lo, hi = motive.voice_range
        if self.style.span is not None and hi - lo > self.style.span:
            mid = (lo + hi) / 2
            lo, hi = int(math.floor(mid - self.style.span / 2)), int(math.floor(mid + self.style.span / 2))
        self.lo, self.hi = lo, hi
        self.cands = np.array([p for p in range(lo, hi + 1) if p % 12 in self.scale])
        if self.cands.size < 3:
            raise ParameterError(f"voice_range {motive.voice_range} holds fewer than 3 notes of the scale")
        self.options: list[ChordOption] = chord_options(self.key, motive.palette)
        self.trans = transition_matrix(self.options, self.family, stats)
        self.table = self._rhythm_table()
        #: shortest phrase-final note, in beats; no other note of a line is longer
        self.final_min = {(4, 4): self.style.final_beats, (2, 4): 1.5, (3, 4): 2.0, (6, 8): 2.0,
                          (12, 8): 3.0}.get(self.meter, self.style.final_beats)
        #: bars at a line's end that carry its cadence chord (two when bars are short)
        self.cadence_bars = 2 if self.bar < 4 else 1
        longest = int(round(self.final_min / self.unit))
        self.table_sparse = self.table  # for lines too sparse to keep every note shorter than the last
        self.table = self.table.copy()
        self.table[:, longest + 1:] = 0.0
        self.table /= np.maximum(self.table.sum(axis=1, keepdims=True), 1e-12)

    # note-length table by position in the bar: (units_per_bar, dmax + 1) weights
    def _rhythm_table(self) -> np.ndarray:
        ioi = self.stats.ioi_given_pos  # (16, 17) sixteenths
        g = self.units_per_bar
        step = int(round(self.unit / 0.25))
        dmax = min(16 // step, g) if not self.compound else g
        t = np.zeros((g, dmax + 1))
        if self.compound:
            # rule: groups of three eighths; long-short, dotted quarters, three eighths
            for pos in range(g):
                r = pos % 3
                row = ({1: 0.3, 2: 0.35, 3: 0.25, 4: 0.03, 6: 0.07} if r == 0 else
                       {1: 0.65, 2: 0.3, 5: 0.05} if r == 1 else {1: 0.75, 2: 0.1, 4: 0.15})
                for d, w in row.items():
                    if d <= dmax:
                        t[pos, d] = w
        else:
            for pos in range(g):
                p16 = pos * step
                if self.meter == (3, 4):
                    row16 = {0: 0, 1: 4, 2: 12}[p16 // 4] + p16 % 4
                elif self.meter == (2, 4):
                    row16 = p16 % 8
                else:
                    row16 = p16 % 16
                for d in range(1, dmax + 1):
                    t[pos, d] = ioi[row16, min(d * step, 16)]
        d_beats = np.arange(dmax + 1) * self.unit
        with np.errstate(divide="ignore"):
            t[:, 1:] *= d_beats[1:] ** self.style.tilt
        for pos in range(g):
            beat_pos = (pos * self.unit) % 1.0
            for d in range(1, dmax + 1):
                held_past_beat = (beat_pos + d * self.unit) > 1.0 + 1e-9
                if abs(beat_pos - 0.5) < 1e-9 and held_past_beat and not self.compound:
                    t[pos, d] *= self.style.sync
                elif abs(beat_pos % 0.5 - 0.25) < 1e-9 and held_past_beat:
                    t[pos, d] *= min(1.0, self.style.sync) * (1.5 if self.style.sync > 1 else 1.0)
            if self.motive.style == "classical_piano" and step == 1:
                t[pos, 1] *= 0.6
        t /= np.maximum(t.sum(axis=1, keepdims=True), 1e-12)
        return t

    def final_weight(self, x: int, end_x: int) -> float:
        """Weight of a phrase-final note at grid position ``x`` lasting to ``end_x``."""
        dur16 = int(round((end_x - x) * self.unit * 4))
        w_dur = self.stats.final_duration[min(dur16, 32)]
        pos_beats = (x * self.unit) % self.bar
        if self.meter == (4, 4) and not self.compound:
            w_pos = self.stats.final_position[int(round(pos_beats * 4)) % 16]
        else:
            w_pos = 3.0 if any(abs(pos_beats - s) < 1e-9 for s in strong_positions(self.meter)) else (
                1.5 if abs(pos_beats % 1.0) < 1e-9 else 0.5)
        return float(w_dur * w_pos)


def _parse_sections(sections: object) -> list[tuple[str, list[list[str]]]]:
    if isinstance(sections, (str, bytes)) or not isinstance(sections, Sequence) or not sections:
        raise ParameterError("sections must be a non-empty sequence of (name, lines) pairs")
    out = []
    for i, item in enumerate(sections):
        if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 2:
            raise ParameterError(f"section {i}: expected a (name, lines) pair, got {item!r:.60}")
        name, lines = item
        if not isinstance(name, str) or not name.strip():
            raise ParameterError(f"section {i}: the name must be a non-empty string")
        if isinstance(lines, str) or not isinstance(lines, Sequence) or not lines:
            raise ParameterError(f"section {name!r}: lines must be a non-empty sequence of lines")
        parsed = []
        for j, line in enumerate(lines):
            if isinstance(line, str):
                line = ([c for c in line if _CJK.match(c)] if _CJK.search(line) else line.split())
            sy = [str(s).strip() for s in line] if isinstance(line, Sequence) else []
            if not sy or any(not s for s in sy):
                raise ParameterError(f"section {name!r}, line {j + 1}: expected a non-empty sequence of "
                                     f"non-empty syllables, got {line!r:.60}")
            parsed.append(sy)
        out.append((name.strip(), parsed))
    return out


def _line_bars(ctx: _Ctx, n: int) -> int:
    """2 or 4 bars (8 as a last resort): the fewest that keep the line singable at the tempo."""
    if n <= 1:
        return 2
    slack = 2.0  # the next line's pickup (up to a beat), a rest, a late start
    for bars in (2, 4):
        mean_ioi = (bars * ctx.bar - ctx.final_min - slack) / (n - 1)
        if mean_ioi >= 1.2 * ctx.unit and mean_ioi * 60.0 / ctx.tempo >= ctx.style.rate_s:
            return bars
    return 4 if (4 * ctx.bar - ctx.final_min - slack) / (n - 1) >= ctx.unit else 8


def _plan(parsed: list[tuple[str, list[list[str]]]], ctx: _Ctx, rng: np.random.Generator) -> list[_Section]:
    secs: list[_Section] = []
    for si, (name, lines) in enumerate(parsed):
        kind = section_kind(name)
        ls = [_Line(sy, syllable_tones(sy), si, li) for li, sy in enumerate(lines)]
        sec = _Section(name, kind, ls)
        sec.bars_per_line = max(_line_bars(ctx, len(x.syllables)) for x in ls)
        for prev_i, prev in enumerate(secs):
            if prev.kind == kind and kind != "other" and len(prev.lines) == len(ls) and \
                    prev.bars_per_line >= sec.bars_per_line and prev.repeat_of is None:
                sec.repeat_of = prev_i
                sec.bars_per_line = prev.bars_per_line
                sec.exact = [x.syllables for x in prev.lines] == [x.syllables for x in ls]
                break
        secs.append(sec)
    bar = 0
    for si, sec in enumerate(secs):
        sec.bar0 = bar
        n = len(sec.lines)
        last_song = si == len(secs) - 1
        nxt_kind = secs[si + 1].kind if not last_song else None
        for li, line in enumerate(sec.lines):
            line.bar0 = bar + li * sec.bars_per_line
            line.bars = sec.bars_per_line
            if li == n - 1:
                if sec.kind in ("chorus", "outro") or last_song:
                    line.cadence = "tonic"
                elif sec.kind == "verse" and nxt_kind == "verse":
                    line.cadence = "tonic"
                else:
                    line.cadence = "half"
            elif n >= 4 and li == n // 2 - 1:
                line.cadence = "half"
            else:
                line.cadence = "open"
        bar += n * sec.bars_per_line
        if sec.repeat_of is None:
            if ctx.meter in ((4, 4), (12, 8), (6, 8)):
                p_two = 0.55 if ctx.tempo < 100 and ctx.meter == (4, 4) else 0.3
                sec.slots_per_bar = 2 if rng.random() < p_two else 1
            else:
                sec.slots_per_bar = 1
        else:
            sec.slots_per_bar = secs[sec.repeat_of].slots_per_bar
    return secs


# -- chords -------------------------------------------------------------------------------------
def _cadence_mask(ctx: _Ctx, cadence: str) -> np.ndarray:
    o = ctx.options
    if cadence == "tonic":
        m = np.array([c.is_tonic and c.suffix in ("", "m", "maj7", "m7", "5", "sus2", "add9") for c in o])
    elif cadence == "half":
        m = np.array([c.rel == 7 and c.cls in ("maj", "min", "sus") for c in o])
        if not m.any():
            m = np.array([c.rel in (10, 5) for c in o])
    else:
        m = np.ones(len(o), dtype=bool)
    return m


def _section_chords(sec: _Section, ctx: _Ctx, rng: np.random.Generator, first_song: bool) -> list[int]:
    sps = sec.slots_per_bar
    per_line = sec.bars_per_line * sps
    n = len(sec.lines) * per_line
    k = len(ctx.options)
    prior = np.array([o.prior + 0.3 * ctx.stats.unigram[ctx.family, o.state] for o in ctx.options])
    unary = np.tile(prior, (n, 1))
    tonic = np.array([o.is_tonic for o in ctx.options], dtype=float)
    dom = np.array([o.rel == 7 for o in ctx.options], dtype=float)
    sub = np.array([o.rel == 5 for o in ctx.options], dtype=float)
    stable = np.array([o.rel in ((0, 5, 9, 7) if ctx.family == 0 else (0, 3, 8, 5, 10)) for o in ctx.options],
                      dtype=float)
    unary[0] += (2.5 if first_song else 1.0) * tonic + 0.4 * sub
    for li, line in enumerate(sec.lines):
        last_bar = range(li * per_line + (sec.bars_per_line - ctx.cadence_bars) * sps, (li + 1) * per_line)
        mask = _cadence_mask(ctx, line.cadence)
        for s in last_bar:
            unary[s, ~mask] = -np.inf
            if line.cadence == "open":
                unary[s] += 1.5 * stable
        pen = last_bar.start - 1
        if line.cadence == "tonic" and pen >= 0:
            unary[pen] += 1.5 * dom + 0.7 * sub
    bar_start = np.array([(s % sps) == 0 for s in range(n)])
    p_mid = 0.85 if sps == 2 else ctx.stats.p_change_mid
    change = np.where(bar_start, math.log(ctx.stats.p_change_bar), math.log(p_mid))
    stay = np.where(bar_start, math.log(1 - ctx.stats.p_change_bar), math.log(1 - p_mid))
    half = len(sec.lines) // 2
    if len(sec.lines) >= 2:
        first = solve_chain(unary[: half * per_line], ctx.trans, change[: half * per_line],
                            stay[: half * per_line], rng=rng)
        clamp = np.full((half * per_line, k), -np.inf)
        clamp[np.arange(half * per_line), first] = 0.0
        unary[: half * per_line] = clamp
        for li in range(half, len(sec.lines)):
            ref = li - half
            for j in range((sec.bars_per_line - ctx.cadence_bars) * sps):
                unary[li * per_line + j, first[ref * per_line + j]] += 6.0
    return solve_chain(unary, ctx.trans, change, stay, rng=rng)


# -- rhythm -------------------------------------------------------------------------------------
def _offsets(secs: list[_Section], lines: list[_Line], ctx: _Ctx, rng: np.random.Generator) -> None:
    """Start offsets (pickups), rests and line ends."""
    u = ctx.unit
    choices = np.arange(-int(round(1.0 / u)), int(round(1.0 / u)) + 1)  # -1 .. +1 beat
    w = np.array([ctx.stats.start_position[int(round(c * u * 4)) % 16] for c in choices])
    if ctx.compound or ctx.meter != (4, 4):
        w = np.where(np.abs((choices * u) % 1.0) < 1e-9, w, w * 0.5)
    w = w / w.sum()
    rests16 = np.arange(2, 9)
    rw = ctx.stats.rest[rests16]
    for gi, line in enumerate(lines):
        sec = secs[line.section]
        if sec.repeat_of is not None:
            src = secs[sec.repeat_of].lines[line.index]
            line.offset = src.offset
        elif line.ref is not None and lines[line.ref].section == line.section:
            line.offset = lines[line.ref].offset
        else:
            line.offset = float(rng.choice(choices, p=w)) * u
        word = re.sub(r"[^\w']", "", line.syllables[0].lower())
        if word in FUNCTION_WORDS and not line.syllables[0].endswith("-") and len(line.syllables) > 1:
            line.offset = min(line.offset, -u * max(1, int(round(0.5 / u))))
        if gi == 0:
            line.offset = max(0.0, line.offset)
    for gi, line in enumerate(lines):
        last_bar_start = (line.bar0 + line.bars - ctx.cadence_bars) * ctx.bar
        if gi + 1 == len(lines):
            line.end = (line.bar0 + line.bars) * ctx.bar
            continue
        nxt = lines[gi + 1]
        rest = float(rng.choice(rests16, p=rw / rw.sum())) / 4.0
        rest = max(u, round(rest / u) * u)
        sec = secs[line.section]
        if sec.repeat_of is not None:
            src = secs[sec.repeat_of].lines[line.index]
            rest = src.rest
        start_next = nxt.bar0 * ctx.bar + nxt.offset
        while start_next - rest - last_bar_start < ctx.final_min - 1e-9:
            if rest > u + 1e-9:
                rest -= u
            elif nxt.offset < 0:
                nxt.offset += u
                start_next = nxt.bar0 * ctx.bar + nxt.offset
            else:
                break
        line.rest = rest
        line.end = start_next - rest
        # room for the line's notes before its last note: drop a late start, the next pickup
        n = len(line.syllables)
        start = line.bar0 * ctx.bar + line.offset
        while (line.end - ctx.final_min - start) / u + 1 < n - 1 + 1e-9:
            if line.offset > 0:
                line.offset -= u
                start -= u
            elif nxt.offset < 0:
                nxt.offset += u
                line.end += u
            elif line.rest > u + 1e-9:
                line.rest -= u
                line.end += u
            else:
                break


def _rhythm(line: _Line, ctx: _Ctx, rng: np.random.Generator, ref: _Line | None, beta: float,
            anchor: tuple[int, int] | None, *, sparse: bool = False) -> list[float] | None:
    """Onsets (absolute beats) of a line's notes, or None if they cannot fit."""
    u, g = ctx.unit, ctx.units_per_bar
    n = len(line.syllables)
    base = line.bar0 * g  # absolute grid index of the first barline
    xs = int(round(line.offset / u))
    xe = int(round(line.end / u)) - base
    last_bar = (line.bars - ctx.cadence_bars) * g
    # the last note is the line's longest: at least final_min, and about two shares of a sparse line
    fmin = int(math.ceil(ctx.final_min / u - 1e-9))
    if n > 1:
        share = int(math.ceil(2.0 * (xe - xs) / (n + 1) - 1e-9))
        fmin = max(fmin, min(share, xe - last_bar, fmin + int(round(ctx.bar / u))))
    size = xe - xs + 1
    if size < 1:
        return None
    table = ctx.table_sparse if sparse else ctx.table
    dmax = table.shape[1] - 1
    fin = np.zeros(size)
    for x in range(max(xs, last_bar if n > 1 else xs), xe - fmin + 1):
        fin[x - xs] = ctx.final_weight(x + base, xe + base)
    if n == 1:
        fin = np.zeros(size)
        fin[0] = 1.0
    bonus = np.ones(size)
    if ref is not None and beta > 0:
        rbase = ref.bar0 * g
        for o in ref.onsets:
            x = int(round(o / u)) - rbase
            if xs <= x <= xe:
                bonus[x - xs] *= math.exp(beta)
    wx = np.array([table[(x + base) % g] for x in range(xs, xe + 1)])  # (size, dmax + 1)
    beta_tab = np.zeros((n + 1, size))
    beta_tab[1] = fin * bonus
    for k in range(2, n + 1):
        acc = np.zeros(size)
        for d in range(1, min(dmax, size - 1) + 1):
            acc[: size - d] += wx[: size - d, d] * beta_tab[k - 1][d:]
        acc *= bonus
        if anchor is not None and n - k == anchor[0] and xs <= anchor[1] <= xe:
            acc[anchor[1] - xs] *= 30.0
        m = acc.max()
        if m <= 0:
            return None
        beta_tab[k] = acc / m
    if beta_tab[n][0] <= 0:
        return None
    onsets = [xs]
    x = 0
    for k in range(n, 1, -1):
        ds = np.arange(1, min(dmax, size - 1 - x) + 1)
        p = wx[x, ds] * beta_tab[k - 1][x + ds]
        if p.sum() <= 0:
            return None
        d = int(rng.choice(ds, p=p / p.sum()))
        x += d
        onsets.append(x + xs)
    return [(base + o) * u for o in onsets]


# -- pitch --------------------------------------------------------------------------------------
def _chord_at(sec_slots: list[tuple[float, ChordOption]], beat: float) -> ChordOption:
    cur = sec_slots[0][1]
    for b, c in sec_slots:
        if b <= beat + 1e-9:
            cur = c
        else:
            break
    return cur


def _pitches(line: _Line, ctx: _Ctx, rng: np.random.Generator, chords: list[tuple[float, ChordOption]],
             prev: list[int], ref: _Line | None, center: float, leap_bonus: float) -> list[int]:
    cands = ctx.cands
    k = cands.size
    n = len(line.onsets)
    tonic = ctx.key.tonic
    st = ctx.stats
    span = ctx.hi - ctx.lo
    sigma = max(3.0, 0.25 * span)
    unary = np.zeros((n, k))
    nct = np.zeros((n, k), dtype=bool)
    pcs = cands % 12
    for t in range(n):
        on = line.onsets[t]
        ch = _chord_at(chords, on)
        tones = ch.tones(tonic)
        strong = is_strong(on, ctx.meter)
        root = (tonic + ch.rel) % 12
        cls = ["maj", "min", "dim", "aug", "sus"].index(ch.cls)
        unary[t] += st.degree_chord[cls, int(strong), (pcs - root) % 12]
        in_chord = np.array([p in tones for p in pcs])
        nct[t] = ~in_chord
        if strong:
            unary[t, ~in_chord] = -np.inf
        phase = (on - line.onsets[0]) / max(1e-9, line.onsets[-1] - line.onsets[0]) if n > 1 else 1.0
        arch = 0.12 * span * math.sin(math.pi * min(1.0, phase / 0.85))
        target = center + arch
        unary[t] += -0.5 * ((cands - target) / sigma) ** 2
        if line.tones[t] == 3:
            unary[t] += -0.15 * np.maximum(0, cands - target)
        if ref is not None and ref.pitches and line.pitch_beta > 0:
            j = t if len(ref.pitches) == n else int(round(t * (len(ref.pitches) - 1) / max(1, n - 1)))
            tail = n - t <= 2 and line.cadence != ref.cadence
            if not tail:
                unary[t, cands == ref.pitches[j]] += line.pitch_beta
    # the cadence
    last = n - 1
    ch = _chord_at(chords, line.onsets[last])
    tones = ch.tones(tonic)
    if line.cadence == "tonic":
        ok = pcs == tonic
    elif line.cadence == "half":
        ok = np.array([p in tones for p in pcs])
    else:
        stable = {(tonic + d) % 12 for d in ((0, 4, 7) if ctx.family == 0 else (0, 3, 7))}
        ok = np.array([p in tones and p in stable for p in pcs])
        if not ok.any():
            ok = np.array([p in tones for p in pcs])
    unary[last, ~ok] = -np.inf
    unary[last] += st.final_degree[ctx.family, (pcs - tonic) % 12]
    if prev:
        unary[0] += -np.abs(cands - prev[-1]) / 4.0
    if not prev:
        unary[0] += 0.5 * (pcs == tonic)
    # interval table over (a, b, c)
    iv = cands[None, :] - cands[:, None]  # b -> c  [b, c]
    ok_iv = np.abs(iv) <= min(MAX_INTERVAL, ctx.style.max_leap)
    iv_idx = np.clip(iv, -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL
    cls_ab = np.vectorize(interval_class)(iv)  # [a, b]
    base3 = st.interval[cls_ab[:, :, None], iv_idx[None, :, :]]  # [a, b, c]
    base3 = np.where(ok_iv[None, :, :], base3, -np.inf)
    extra = leap_bonus * ((np.abs(iv) >= 3) & (np.abs(iv) <= 9)) + ctx.style.steps * (np.abs(iv) <= 2)
    base3 = base3 + extra[None, :, :]
    same = (iv == 0)
    base3 = base3 - 1.8 * (same[:, :, None] & same[None, :, :])  # no three equal notes in a row
    first_pair = np.where(ok_iv, st.interval[interval_class(None), iv_idx], -np.inf) + extra
    tau = ctx.style.tau

    def tone_cost(t: int) -> np.ndarray:
        tone = line.tones[t]
        if tone is None:
            return np.zeros((k, k))
        holds = np.vectorize(lambda i: _tone_holds(tone, int(i)))(iv)
        return np.where(holds, 0.0, -_TONE_PENALTY * (0.6 if tone in (1, 3) else 1.0))

    def escape(t: int) -> np.ndarray:  # weak non-chord tone at t-1 left and approached by leaps
        if t < 2:
            return np.zeros((k, k, k))
        bad = nct[t - 1][None, :, None] & (np.abs(iv)[:, :, None] > 2) & (np.abs(iv)[None, :, :] > 2)
        return np.where(bad, -1.5, 0.0)

    def solve(unary: np.ndarray) -> list[int] | None:
        alphas = [unary[0] / tau]
        trans: list[np.ndarray] = []
        if n == 1:
            a0 = alphas[0]
            if not np.isfinite(a0).any():
                return None
            return [int(cands[draw_from_logits(a0, rng)])]
        a1 = alphas[0][:, None] + (first_pair + tone_cost(1) + unary[1][None, :]) / tau
        alphas.append(a1)
        for t in range(2, n):
            tr = (base3 + tone_cost(t)[None, :, :] + escape(t)) / tau
            trans.append(tr)
            a = logsumexp(alphas[-1][:, :, None] + tr, axis=0) + unary[t][None, :] / tau
            alphas.append(a)
        final = alphas[-1]
        if not np.isfinite(final).any():
            return None
        idx = draw_from_logits(final.ravel(), rng)
        b, c = divmod(idx, k)
        path = [c, b]
        for t in range(n - 1, 1, -1):
            logits = alphas[t - 1][:, b] + trans[t - 2][:, b, c]
            a = draw_from_logits(logits, rng)
            path.append(a)
            b, c = a, b
        return [int(cands[i]) for i in reversed(path)]

    out = solve(unary)
    if out is None:  # relax the hard constraints
        out = solve(np.where(np.isfinite(unary), unary, -8.0))
    assert out is not None
    return out


# -- the writer ---------------------------------------------------------------------------------
def _skeleton(parsed: list[tuple[str, list[list[str]]]], motive: Motive, rng: np.random.Generator
              ) -> tuple[_Ctx, list[_Section], list[_Line], list[tuple[float, ChordOption]]]:
    """The song's form without its notes: sections and lines (bars, starts, ends, rests,
    cadences, motif references), and the harmonic skeleton ``[(beat, chord)]``. Shared by
    :func:`write_melody` and the language-model engine (:mod:`yuefu.compose.lm.songwriter`)."""
    ctx = _Ctx(motive, load_stats())
    secs = _plan(parsed, ctx, rng)
    lines: list[_Line] = [ln for s in secs for ln in s.lines]
    gidx = {id(ln): i for i, ln in enumerate(lines)}
    # motif references within a section
    for sec in secs:
        n = len(sec.lines)
        half = n // 2
        for li, line in enumerate(sec.lines):
            if n >= 2 and li >= half:
                ref = sec.lines[li - half]
                line.ref = gidx[id(ref)]
                line.pitch_beta = 4.0
                line.copy_rhythm = len(ref.syllables) == len(line.syllables)
            elif li > 0:
                ref = sec.lines[0]
                line.ref = gidx[id(ref)]
                line.pitch_beta = 0.8
                line.copy_rhythm = len(ref.syllables) == len(line.syllables) and rng.random() < 0.5
    _offsets(secs, lines, ctx, rng)
    for line in lines:
        sec = secs[line.section]
        if sec.repeat_of is not None:
            line.melisma = secs[sec.repeat_of].lines[line.index].melisma
        else:
            line.melisma = bool(rng.random() < ctx.style.melisma)
    # chords
    chord_events: list[tuple[float, ChordOption]] = []
    for si, sec in enumerate(secs):
        if sec.repeat_of is not None:
            sec.chords = list(secs[sec.repeat_of].chords)
        else:
            sec.chords = _section_chords(sec, ctx, rng, si == 0)
        starts = strong_positions(ctx.meter) if sec.slots_per_bar == 2 else (0.0,)
        if sec.slots_per_bar == 2 and len(starts) == 1:
            starts = (0.0, ctx.bar / 2)
        for s, k in enumerate(sec.chords):
            b, j = divmod(s, sec.slots_per_bar)
            chord_events.append(((sec.bar0 + b) * ctx.bar + starts[j], ctx.options[k]))
    chord_events.sort(key=lambda e: e[0])
    return ctx, secs, lines, chord_events


def write_melody(sections: Sequence[tuple[str, Sequence[Sequence[str]]]], motive: Motive, *,
                 seed: int = 0) -> Score:
    """Write a sung melody for lyrics, one note per syllable, with the chords it was written on.

    Parameters
    ----------
    sections : sequence of (str, sequence of lines)
        ``(section_name, lines)`` in song order, e.g. ``[("verse", [...]), ("chorus", [...])]``.
        A line is a sequence of syllables: one character each in Chinese, one syllable each in
        English (a syllable ending in ``-`` continues the word: ``["ri-", "ver"]``). A line given
        as one string is split into characters (Chinese) or at spaces. Section names are read
        for their kind (verse, pre-chorus, chorus, bridge, outro; ``"Chorus 2"`` is a chorus).
    motive : Motive
        Key, tempo, meter, feel, palette (pentatonic keeps the melody pentatonic), voice range,
        style, language and the lead instrument (``instruments["lead"]``, default 73).
    seed : int
        Seeds every random choice: the same seed gives the same melody.

    Returns
    -------
    Score
        Tempo, time and key signature from the motive, a Section marker per section, chord
        symbols (the harmonic skeleton, one or two a bar), and one track ``"vocal"`` (role
        ``"vocal"``) whose notes carry the syllables as lyrics; an extra note of a melisma has
        lyric ``"-"``.

    Raises
    ------
    ParameterError
        Malformed sections, or a voice range too small for the scale.
    ModelLoadError
        The shipped statistics are missing or altered.

    Examples
    --------
    >>> from yuefu.core.motive import Motive
    >>> song = [("verse", [["the", "ri-", "ver", "runs"], ["a-", "long", "the", "sea"]]),
    ...         ("chorus", [["sing", "with", "me"], ["sing", "a-", "gain"]])]
    >>> s = write_melody(song, Motive(key="C major"), seed=3)
    >>> len([n for n in s.track("vocal").notes if n.lyric != "-"])
    14
    """
    parsed = _parse_sections(sections)
    rng = np.random.default_rng(seed)
    ctx, secs, lines, chord_events = _skeleton(parsed, motive, rng)
    # rhythm and pitch, line by line
    prev: list[int] = []
    for line in lines:
        sec = secs[line.section]
        src = secs[sec.repeat_of].lines[line.index] if sec.repeat_of is not None else None
        shift = (line.bar0 - src.bar0) * ctx.bar if src is not None else 0.0
        fits = src is not None and bool(src.onsets) and \
            line.end - (src.onsets[-1] + shift) >= ctx.final_min - 1e-9
        if src is not None and fits and len(src.syllables) == len(line.syllables) and \
                abs(src.offset - line.offset) < 1e-6:
            line.onsets = [o + shift for o in src.onsets]
        else:
            rref = src if src is not None else (lines[line.ref] if line.ref is not None else None)
            anchor = None
            if line.offset < 0:
                lead = 0
                for syl in line.syllables:
                    if re.sub(r"[^\w']", "", syl.lower()) in FUNCTION_WORDS and not syl.endswith("-"):
                        lead += 1
                    else:
                        break
                if 0 < lead < len(line.syllables):
                    anchor = (lead, 0)
            onsets = None
            if rref is not None and line.copy_rhythm and rref.onsets and src is None:
                rshift = (line.bar0 - rref.bar0) * ctx.bar
                cand = [o + rshift for o in rref.onsets]
                if abs(cand[0] - (line.bar0 * ctx.bar + line.offset)) < 1e-6 and \
                        line.end - cand[-1] >= ctx.final_min - 1e-9:
                    onsets = cand
            if onsets is None:
                onsets = _rhythm(line, ctx, rng, rref, 2.5 if src is not None else 1.5, anchor)
            if onsets is None:  # a sparse line: notes as long as the last one allowed
                onsets = _rhythm(line, ctx, rng, rref, 2.5 if src is not None else 1.5, anchor, sparse=True)
            if onsets is None:  # too many syllables for the window: even notes
                onsets = _fallback_rhythm(line, ctx)
            line.onsets = onsets
        ends = line.onsets[1:] + [line.end]
        line.durations = [max(ctx.unit / 2, e - o) for o, e in zip(line.onsets, ends, strict=True)]
        # pitches
        if src is not None and sec.exact and src.pitches and len(src.onsets) == len(line.onsets):
            line.pitches = list(src.pitches)
        else:
            center = ctx.lo + _CENTER.get(sec.kind, 0.45) * (ctx.hi - ctx.lo)
            pref = src if src is not None else (lines[line.ref] if line.ref is not None else None)
            if src is not None:
                line.pitch_beta = 4.0
            leap = 0.35 if sec.kind == "chorus" else 0.0
            line.pitches = _pitches(line, ctx, rng, chord_events, prev, pref, center, leap)
        prev = line.pitches
    return _assemble(secs, lines, ctx, chord_events, rng)


def _fallback_rhythm(line: _Line, ctx: _Ctx) -> list[float]:
    """Even notes across the line (a line too dense for the learned rhythms)."""
    n = len(line.syllables)
    start = line.bar0 * ctx.bar + line.offset
    last = max(start, line.end - ctx.final_min)
    step = (last - start) / max(1, n - 1)
    q = 0.125
    return [round((start + i * step) / q) * q for i in range(n - 1)] + [last] if n > 1 else [start]


def _assemble(secs: list[_Section], lines: list[_Line], ctx: _Ctx,
              chord_events: list[tuple[float, ChordOption]], rng: np.random.Generator) -> Score:
    m = ctx.motive
    score = Score(tempos=[Tempo(0.0, float(m.tempo_bpm))],
                  time_signatures=[TimeSignature(0.0, m.meter[0], m.meter[1])],
                  key_signatures=[KeySignature(0.0, ctx.key)])
    track = score.add_track(Track("vocal", program=int(m.instruments.get("lead", 73)), role="vocal"))
    for sec in secs:
        score.sections.append(Section(sec.bar0 * ctx.bar, sec.name))
    prev_sym = None
    for beat, opt in chord_events:
        sym = opt.symbol(ctx.key)
        if sym != prev_sym or abs(beat % ctx.bar) < 1e-9:
            score.chords.append(ChordSymbol(beat, sym))
        prev_sym = sym
    for line in lines:
        kind = secs[line.section].kind
        notes: list[Note] = []
        for on, dur, p, syl in zip(line.onsets, line.durations, line.pitches, line.syllables, strict=True):
            vel = 84 + int(round(10 * m.energy)) + (6 if is_strong(on, ctx.meter) else 0) + \
                (5 if kind == "chorus" else 0) + int(rng.integers(-3, 4))
            notes.append(Note(int(p), float(on), float(dur), velocity=int(np.clip(vel, 30, 127)), lyric=syl))
        # a melisma on the second-last syllable: a passing note towards the last
        if len(notes) >= 2 and line.melisma:
            a, b = notes[-2], notes[-1]
            half = math.floor(a.duration / 2 / ctx.unit) * ctx.unit
            mid = a.onset + half
            if half >= ctx.unit and a.duration >= 2 * ctx.unit and not is_strong(mid, ctx.meter):
                between = [c for c in ctx.cands if min(a.pitch, b.pitch) < c < max(a.pitch, b.pitch)]
                if not between:
                    step = 1 if b.pitch >= a.pitch else -1
                    between = [c for c in ctx.cands if 0 < (c - a.pitch) * step <= 2]
                if between:
                    pp = int(between[len(between) // 2])
                    notes[-2] = Note(a.pitch, a.onset, half, a.velocity, a.lyric)
                    notes.insert(-1, Note(pp, mid, a.duration - half, max(1, a.velocity - 6), "-"))
        track.notes.extend(notes)
    if m.feel == "swing":
        _swing(track.notes)
    return score.normalize()


def _swing(notes: list[Note]) -> None:
    """Delay off-beat eighths to the last triplet of the beat (2:1 swing)."""
    def warp(b: float) -> float:
        beat, frac = divmod(b, 1.0)
        if abs(frac - 0.5) < 1e-9:
            return beat + 2.0 / 3.0
        return b

    for i, n in enumerate(notes):
        on, end = warp(n.onset), warp(n.end)
        notes[i] = Note(n.pitch, round(on, 6), max(1e-3, round(end - on, 6)), n.velocity, n.lyric)


# -- measures -----------------------------------------------------------------------------------
def tone_agreement(score: Score, *, track: str | None = None) -> float:
    """How often the melody follows :data:`TONE_RULE` for its Chinese syllables.

    Each Chinese syllable with a tone (1-4) after another sung note of the same phrase (no rest
    of a beat or more between them) is checked against the rule for the interval from the
    previous sung pitch (the end of a melisma). Phrases are read whole for the tones.

    Parameters
    ----------
    score : Score
    track : str, optional
        Default: the lyric track.

    Returns
    -------
    float
        0..1; NaN when no syllable can be checked (no Chinese lyrics).
    """
    t = score.track(track) if track else lyric_or_melody_track(score)
    if t is None:
        return float("nan")
    notes = sorted(t.notes, key=lambda n: n.onset)
    phrases: list[list[Note]] = []
    for n in notes:
        if phrases and n.onset - phrases[-1][-1].end < 1.0 - 1e-9:
            phrases[-1].append(n)
        else:
            phrases.append([n])
    holds = total = 0
    for ph in phrases:
        sung = [n for n in ph if n.lyric and n.lyric != "-"]
        tones = syllable_tones([n.lyric or "" for n in sung])
        tone_of = {id(n): tn for n, tn in zip(sung, tones, strict=True)}
        prev_pitch = None
        for n in ph:
            if n.lyric and n.lyric != "-":
                tone = tone_of.get(id(n))
                if prev_pitch is not None and tone is not None:
                    total += 1
                    holds += _tone_holds(tone, n.pitch - prev_pitch)
            prev_pitch = n.pitch
    return holds / total if total else float("nan")
