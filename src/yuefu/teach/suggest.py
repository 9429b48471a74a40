"""Practice suggestions: two to five concrete things to practise, each naming bars and hands.

Candidates are gathered from the verdicts, ranked by how much they cost the student, and the
best five are kept:

* passages with wrong, missed or extra notes, per hand (both hands when both stumble in the same
  bars), with what was played instead -- practise hands separately, slowly;
* stops, hesitations and restarts -- practise the bar before, the bar and the bar after as one unit;
* skipped passages and an early end;
* passages that rush or drag (notes consistently early or late), with a metronome mark;
* unsteady tempo across the piece (the first bars against the last);
* held lengths (too short / too long; staccato notes held legato), a narrow dynamic range and
  written accents not played;
* ornaments the score writes (a MusicXML trill, mordent or turn sign, grace notes) left out;
* the sustain pedal against the score's pedal marks: spans not pressed, changes not made, the
  pedal held on past a release (:mod:`yuefu.teach.pedal`).

When fewer than two problems are found the list is completed with next steps (a faster tempo,
more dynamic shaping), so there are always at least two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from yuefu.core.theory import pitch_to_name
from yuefu.teach.reference import Reference
from yuefu.teach.scores import Scores, accents_heard
from yuefu.teach.verdict import BarSummary, NoteVerdict, Verdicts, detached_fraction

__all__ = ["Suggestion", "suggest"]


@dataclass(frozen=True)
class Suggestion:
    """One practice suggestion.

    ``kind`` is one of ``notes``, ``fluency``, ``skip``, ``timing``, ``tempo``, ``articulation``,
    ``dynamics``, ``ornaments``, ``pedal``, ``next``; ``bars`` is the inclusive range it is about (None: the
    whole piece); ``hand`` is ``right``, ``left``, ``both`` or None.
    """

    text: str
    kind: str
    bars: tuple[int, int] | None
    hand: str | None
    weight: float

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "kind": self.kind, "bars": list(self.bars) if self.bars else None,
                "hand": self.hand}


def _runs(bars: Iterable[int], gap: int = 1) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for b in sorted(set(bars)):
        if out and b - out[-1][1] <= gap + 1:
            out[-1] = (out[-1][0], b)
        else:
            out.append((b, b))
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _hand_text(hand: str) -> str:
    return {"right": "right hand", "left": "left hand", "both": "both hands"}.get(hand, hand)


def _note_passages(v: Verdicts, ref: Reference) -> list[Suggestion]:
    out: list[Suggestion] = []
    by_hand: dict[str, list[BarSummary]] = {}
    for s in v.bar_hands:
        if s.pitch_errors and s.status != "unplayed":
            by_hand.setdefault(s.hand, []).append(s)
    passages: dict[tuple[int, int], dict[str, list[BarSummary]]] = {}
    for hand, sums in by_hand.items():
        for a, b in _runs(s.bar for s in sums):
            passages.setdefault((a, b), {})[hand] = [s for s in sums if a <= s.bar <= b]
    merged: list[tuple[tuple[int, int], str, list[BarSummary]]] = []
    for rng, hands in passages.items():
        if len(hands) == 2:
            merged.append((rng, "both", [s for ss in hands.values() for s in ss]))
        else:
            (hand, ss), = hands.items()
            merged.append((rng, hand, ss))
    for (a, b), hand, ss in merged:
        wrong = sum(s.wrong_pitch for s in ss)
        missed = sum(s.missed for s in ss)
        extra = sum(s.extra for s in ss)
        parts = []
        if wrong:
            pairs = [p for s in ss for p in s.wrong_played]
            shown = ", ".join(f"{pitch_to_name(q)} instead of {pitch_to_name(w)}" for w, q in pairs[:2])
            parts.append(f"{_plural(wrong, 'wrong note')} (played {shown}{', …' if len(pairs) > 2 else ''})")
        if missed:
            parts.append(f"{_plural(missed, 'missed note')}")
        if extra:
            caught = [e for e in v.extras if a <= e.bar <= b and (hand == "both" or e.hand == hand)
                      and e.caught_with is not None]
            what = _plural(extra, "extra note")
            if caught:
                # the commonest: a neighbouring key caught with the right one (a finger off its key)
                e = caught[0]
                with_ = pitch_to_name(ref.notes[e.caught_with].pitch) if e.caught_with is not None else "?"
                k = len(caught)
                who = ("a neighbouring key caught with the right one" if k == extra == 1
                       else "all neighbouring keys caught with the right ones" if k == extra
                       else f"{k} of them neighbouring keys caught with the right ones" if k > 1
                       else "one of them a neighbouring key caught with the right one")
                what += (f" ({who}, as {pitch_to_name(e.pitch)} with {with_}: keep each finger on the "
                         "middle of its key)")
            parts.append(what)
        if hand == "both":
            advice = "practise each hand alone, slowly, until it is right three times in a row, then together"
        else:
            advice = (f"practise the {_hand_text(hand)} alone, slowly, until it is right three times in a "
                      "row, then hands together")
        text = f"{ref.bars_text(a, b)}, {_hand_text(hand)}: {', '.join(parts)} — {advice}."
        out.append(Suggestion(text, "notes", (a, b), hand, 1.0 * (wrong + missed) + 0.7 * extra + 1.0))
    return out


def _fluency(v: Verdicts, ref: Reference) -> list[Suggestion]:
    out: list[Suggestion] = []
    lo, hi = ref.first_bar, ref.first_bar + ref.n_bars - 1
    for e in v.events:
        a, b = max(lo, e.bar - 1), min(hi, e.bar + 1)
        if e.kind in ("hesitation", "stop"):
            what = "you stopped" if e.kind == "stop" else "you hesitated"
            text = (f"Bar {ref.bar_name(e.bar)}: {what} for {e.seconds:.1f} s — practise "
                    f"{ref.bars_text(a, b).lower()} "
                    "slowly as one unit until they flow without a break, then join them to what comes "
                    "before.")
            out.append(Suggestion(text, "fluency", (a, b), "both", 2.0 if e.kind == "stop" else 1.2))
        elif e.kind == "restart":
            back = ref.bar_name(int(e.to_bar or 0))
            text = (f"Bar {ref.bar_name(e.bar)}: you broke off and went back to bar {back} — practise "
                    f"{ref.bars_text(a, b).lower()} slowly until you can play through them, then play from "
                    f"bar {back} without stopping.")
            out.append(Suggestion(text, "fluency", (a, b), "both", 3.0))
        elif e.kind == "skip":
            rng = ref.bars_text(e.bar, int(e.to_bar or e.bar)).lower()
            text = (f"You left out {rng} ({_plural(e.notes, 'note')}) — learn {rng} on their own, "
                    "then play them in context.")
            out.append(Suggestion(text, "skip", (e.bar, int(e.to_bar or e.bar)), "both", 0.5 * e.notes + 1))
        elif e.kind == "ended_early":
            text = (f"You stopped at bar {ref.bar_name(e.bar)}; {_plural(e.notes, 'note')} after it were not "
                    f"played — learn {ref.bars_text(min(hi, e.bar + 1), hi).lower()} a few bars at a time.")
            out.append(Suggestion(text, "skip", (min(hi, e.bar + 1), hi), "both", 1.5))
    return out


def _timing(v: Verdicts, ref: Reference) -> list[Suggestion]:
    out: list[Suggestion] = []
    for hand in ("right", "left"):
        notes = [n for n in v.notes if n.hand == hand and n.timing in ("early", "late")]
        bars = [b for b in {n.bar for n in notes}
                if sum(1 for n in notes if n.bar == b) >= 2
                or sum(1 for n in notes if n.bar == b) >= 0.25 * sum(1 for x in v.notes
                                                                      if x.bar == b and x.hand == hand)]
        for a, b in _runs(bars):
            sel = [n for n in notes if a <= n.bar <= b]
            early = [n for n in sel if n.timing == "early"]
            late = [n for n in sel if n.timing == "late"]
            bpm = [v.bar_bpm[x] for x in range(a, b + 1) if x in v.bar_bpm]
            mark = int(round(0.8 * float(np.median(bpm)))) if bpm else 60
            # one way (rushing or dragging) when two thirds go that way; else uneven, both ways
            main = late if len(late) >= len(early) else early
            said = main if 3 * len(main) >= 2 * len(sel) else sel
            dev_ms = float(np.mean([abs(n.deviation_ms or 0.0) for n in said]))
            dev_b = float(np.mean([abs(n.deviation_beats or 0.0) for n in said]))
            if said is main:
                how = "late (dragging)" if main is late else "early (rushing)"
                what = f"{_plural(len(main), 'note')} come {how}"
            else:
                what = f"the timing is uneven ({len(early)} early, {len(late)} late)"
            text = (f"{ref.bars_text(a, b)}, {_hand_text(hand)}: {what}, by {dev_ms:.0f} ms (about "
                    f"{dev_b:.2f} beat) on average — practise with a metronome at about {mark} bpm, counting "
                    "the subdivisions aloud.")
            out.append(Suggestion(text, "timing", (a, b), hand, 0.6 * len(sel)))
    return out


def _tempo(v: Verdicts, s: Scores, ref: Reference) -> list[Suggestion]:
    free = ref.free_tempo_bars()  # a written rit. or accel. is no drift
    bars = sorted(b for b in v.bar_bpm if b not in free)
    if len(bars) < 4 or s.details.get("tempo_cv", 0.0) < 0.08:
        return []
    q = max(1, len(bars) // 4)
    first, last = bars[:q], bars[-q:]
    t0 = float(np.median([v.bar_bpm[b] for b in first]))
    t1 = float(np.median([v.bar_bpm[b] for b in last]))
    lo_b = min(bars, key=lambda b: v.bar_bpm[b])
    hi_b = max(bars, key=lambda b: v.bar_bpm[b])
    if abs(t1 - t0) / t0 >= 0.08:
        text = (f"Your tempo went from {t0:.0f} bpm in {ref.bars_text(first[0], first[-1]).lower()} to "
                f"{t1:.0f} bpm in {ref.bars_text(last[0], last[-1]).lower()} — keep one pulse: practise the "
                f"whole piece with a metronome at {min(t0, t1):.0f} bpm.")
    else:
        text = (f"Your tempo was unsteady: {v.bar_bpm[lo_b]:.0f} bpm in bar {ref.bar_name(lo_b)}, "
                f"{v.bar_bpm[hi_b]:.0f} bpm in bar {ref.bar_name(hi_b)} — practise with a metronome at "
                f"{v.bar_bpm[lo_b]:.0f} bpm and keep it through the hard bars.")
    return [Suggestion(text, "tempo", (bars[0], bars[-1]), "both", 30 * s.details.get("tempo_cv", 0.0))]


def _articulation(v: Verdicts, ref: Reference) -> list[Suggestion]:
    out: list[Suggestion] = []

    def marked(n: NoteVerdict) -> bool:  # written staccato (staccatissimo, portato)
        return detached_fraction(ref.notes[n.index].articulations) is not None

    for which, detached, word, advice in (
            ("too_short", False, "cut short", "hold each note for its full value (legato)"),
            ("too_long", True, "marked staccato held too long",
             "let each key spring up as soon as the note has sounded (detached, not legato)"),
            ("too_long", False, "held too long", "release each note on time")):
        notes = [n for n in v.notes if n.duration == which and marked(n) == detached]
        if len(notes) < 3:
            continue
        counts: dict[tuple[int, str], int] = {}
        for n in notes:
            counts[(n.bar, n.hand)] = counts.get((n.bar, n.hand), 0) + 1
        (bar, hand), _ = max(counts.items(), key=lambda kv: kv[1])
        hand_notes = [n for n in notes if n.hand == hand]
        a, b = max(_runs(n.bar for n in hand_notes),
                   key=lambda r: sum(1 for n in hand_notes if r[0] <= n.bar <= r[1]))
        k = sum(1 for n in hand_notes if a <= n.bar <= b)
        total = sum(1 for n in v.notes if n.hand == hand and a <= n.bar <= b and n.duration is not None
                    and (not detached or marked(n)))
        if k < 0.2 * max(1, total):
            continue  # a few notes here and there: not worth a lesson
        text = (f"{ref.bars_text(a, b)}, {_hand_text(hand)}: {_plural(k, 'note')} {word} — {advice}; listen "
                "for where each note ends.")
        out.append(Suggestion(text, "articulation", (a, b), hand, 0.15 * k))
    return out


def _dynamics(v: Verdicts, s: Scores, ref: Reference) -> list[Suggestion]:
    if s.details.get("dynamics", 1.0) >= 0.6 or not any(n.played_velocity for n in v.notes):
        return []
    vel = [n.played_velocity for n in v.notes if n.played_velocity is not None]
    lo, hi = int(np.percentile(vel, 10)), int(np.percentile(vel, 90))
    if s.details.get("dynamics_marked"):
        text = (f"Your dynamics stay between velocity {lo} and {hi}, narrower than the score asks — "
                "exaggerate the written louds and softs, practising a few bars at a time.")
    else:
        text = (f"Your dynamics stay between velocity {lo} and {hi}: every note about as loud — shape each "
                "phrase, growing towards its high point and softer at its end.")
    lo_bar, hi_bar = ref.first_bar, ref.first_bar + ref.n_bars - 1
    weight = 1.2 * (1 - s.details.get("dynamics", 0.0))
    return [Suggestion(text, "dynamics", (lo_bar, hi_bar), "both", weight)]


def _accents(v: Verdicts, ref: Reference) -> list[Suggestion]:
    """Written accents (MusicXML ``>`` and marcato) played no louder than the notes around them, in
    the hand and bars where most were lost, when most of them were."""
    heard = accents_heard(ref, v)
    lost = [n for n in v.notes if heard.get(n.index) is False]
    if len(lost) < 3 or len(lost) < 0.5 * len(heard):
        return []
    by_hand: dict[str, list[NoteVerdict]] = {}
    for n in lost:
        by_hand.setdefault(n.hand, []).append(n)
    hand, notes = max(by_hand.items(), key=lambda kv: len(kv[1]))
    a, b = max(_runs((n.bar for n in notes), gap=2),
               key=lambda r: sum(1 for n in notes if r[0] <= n.bar <= r[1]))
    k = sum(1 for n in notes if a <= n.bar <= b)
    total = sum(1 for n in v.notes if n.index in heard and n.hand == hand and a <= n.bar <= b)
    text = (f"{ref.bars_text(a, b)}, {_hand_text(hand)}: {k} of {total} accented notes played no louder than "
            "the notes around them — lean into each accent, then back off at once.")
    return [Suggestion(text, "dynamics", (a, b), hand, 0.15 * k)]


def _ornaments(v: Verdicts, ref: Reference) -> list[Suggestion]:
    """The written ornaments and grace notes played as plain notes, per hand: add them once the
    notes are sure."""
    out: list[Suggestion] = []
    signs, led = v.decorated()
    by_hand: dict[str, list[tuple[int, str, str]]] = {}  # (bar, what, where it is written)
    for i in v.ornaments_not_played:
        rn = ref.notes[i]
        name = pitch_to_name(rn.pitch)
        items = by_hand.setdefault(rn.hand, [])
        if rn.ornament and i not in signs:
            items.append((rn.bar, rn.ornament, f"the {rn.ornament} written on {name}"))
        if rn.grace and i not in led:
            word = "grace note" if len(rn.grace) == 1 else "grace notes"
            items.append((rn.bar, word, f"the {word} written before {name}"))
    for hand, items in sorted(by_hand.items()):
        if not items:
            continue
        bars = sorted({b for b, _, _ in items})
        where = _bar_list(ref, bars)
        one = len(items) == 1
        what = items[0][2] if one else (f"{len(items)} written ornaments "
                                        f"({', '.join(sorted({w for _, w, _ in items}))})")
        how = ("were left out" if not one else "was left out" if "grace" in items[0][1]
               else "was played as a plain note")
        text = (f"{where}, {_hand_text(hand)}: {what} {how} — once the notes are sure, add "
                f"{'it' if one else 'them'}, slowly at first.")
        out.append(Suggestion(text, "ornaments", (bars[0], bars[-1]), hand, 0.3 * len(items)))
    return out


def _bar_list(ref: Reference, bars: list[int]) -> str:
    """"Bar 5", "Bars 2, 6 and 7", or a range for many."""
    bars = sorted(set(bars))
    if len(bars) > 4:
        return ref.bars_text(bars[0], bars[-1])
    names = [ref.bar_name(b) for b in bars]
    return f"Bar {names[0]}" if len(names) == 1 else "Bars " + ", ".join(names[:-1]) + f" and {names[-1]}"


def _pedal(v: Verdicts, ref: Reference) -> list[Suggestion]:
    """The sustain pedal against the score's marks (:mod:`yuefu.teach.pedal`): spans not pressed,
    changes not made, the pedal held on past a release."""
    out: list[Suggestion] = []
    unpressed = [p for p in v.pedal if p.kind == "not_pressed"]
    if unpressed:
        n_bars = sum(p.to_bar - p.bar + 1 for p in unpressed)
        where = "; ".join(ref.bars_text(p.bar, p.to_bar) for p in unpressed[:3])
        text = (f"{where}: the score marks the sustain pedal and it was not pressed — press it just after "
                "the first chord of each marked span sounds, and let it up where the score does.")
        out.append(Suggestion(text, "pedal", (unpressed[0].bar, unpressed[-1].to_bar), None,
                              min(3.0, 0.3 * n_bars)))
    for kind, advice in (
            ("not_changed", "the pedal was held through the change the score marks, so the harmonies blur "
                            "— let it up as each new harmony sounds and press it again at once"),
            ("held_on", "the pedal stayed down where the score lets it up (*) — lift it there, so the next "
                        "notes sound clean")):
        found = [p for p in v.pedal if p.kind == kind]
        if found:
            bars = [p.bar for p in found]
            text = f"{_bar_list(ref, bars)}: {advice}."
            if kind == "not_changed" and len(found) > 1:
                text = text.replace("the change the score marks", f"{len(found)} changes the score marks")
            out.append(Suggestion(text, "pedal", (min(bars), max(bars)), None, min(3.0, 0.3 * len(found))))
    return out


def suggest(ref: Reference, v: Verdicts, s: Scores, *, most: int = 5) -> list[Suggestion]:
    """Two to ``most`` (at most 5) practice suggestions, most important first."""
    most = max(2, min(5, most))
    cands = (_note_passages(v, ref) + _fluency(v, ref) + _timing(v, ref) + _tempo(v, s, ref)
             + _articulation(v, ref) + _dynamics(v, s, ref) + _accents(v, ref) + _ornaments(v, ref)
             + _pedal(v, ref))
    cands.sort(key=lambda c: (-c.weight, c.bars or (0, 0)))
    out = cands[:most]
    if len(out) < 2:
        bpm = float(np.median(list(v.bar_bpm.values()))) if v.bar_bpm else 0.0
        last = ref.first_bar + ref.n_bars - 1
        every = ref.bars_text(ref.first_bar, last).lower()
        nxt = [Suggestion(f"Every note was right: play {every} again at a faster tempo"
                          + (f" (about {bpm * 1.1:.0f} bpm, you played {bpm:.0f})" if bpm else "")
                          + " while keeping it clean.", "next", (ref.first_bar, last), "both", 0.0),
               Suggestion("Shape the phrases: pick the high point of each phrase, lead up to it and ease off "
                          "after it, and record yourself to hear the difference.", "next", None, None, 0.0)]
        if len(out) == 1 and out[0].kind != "notes":
            nxt = nxt[:1]
        out += nxt[: 2 - len(out)]
    return out
