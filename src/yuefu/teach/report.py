"""The report a student reads: one self-contained HTML page (no scripts, no external files), or
the JSON form for apps.

The page holds the marks, the practice suggestions, a per-bar strip (one square per bar, per hand
where the score has two, coloured by the worst verdict in it), the events (pauses, restarts,
skips) and a piano roll of score against performance in systems of four bars: written notes as
bars (green correct, red wrong pitch with the played pitch as a red outline, grey dashed missed),
extra notes in orange, the notes of an ornament (a trill, mordent or turn played on a written note)
in violet, played onsets as thin dark ticks, early/late notes with a blue triangle.
On a wide screen every system fits the width; on a phone (below 720 px) a system keeps 720 px
and scrolls sideways inside its own box, so that notes and labels stay readable and the page
itself never scrolls sideways. The strip comes in blocks of eight bars, the hands' rows aligned.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.core.files import atomic_output
from yuefu.core.theory import pitch_to_name
from yuefu.teach.assess import Assessment
from yuefu.teach.pedal import pedal_judged

__all__ = ["render_html", "write_report", "BARS_PER_SYSTEM"]

BARS_PER_SYSTEM = 4
_COL = {"correct": "#2e9d57", "wrong_pitch": "#d64545", "missed": "#9aa0a6", "unheard": "#d0d4d8",
        "extra": "#f08c00", "ornament": "#8e5cd9", "timing": "#3b6fd8", "pedal_marked": "#9aa0a6",
        "pedal_played": "#3b6fd8"}
#: How the roll labels a note with an ornament sign written over it (or grace notes before it).
_SIGN = {"trill": "tr", "mordent": "mord.", "turn": "turn", "grace": "gr."}
_STATUS = {"good": ("#2e9d57", "all right"), "timing": ("#e9b949", "timing"),
           "pitch": ("#d64545", "wrong, missed or extra notes"), "unplayed": ("#c7ccd1", "not played")}
#: The piano roll's marks as the legend draws them: the same shapes as in the roll.
_SWATCH = {
    "correct": f'<rect x="1" y="2" width="16" height="7" fill="{_COL["correct"]}"/>',
    "wrong_pitch": (f'<rect x="1" y="0.5" width="16" height="4" fill="none" stroke="{_COL["wrong_pitch"]}"/>'
                    f'<rect x="1" y="6" width="16" height="4" fill="{_COL["wrong_pitch"]}"/>'),
    "missed": (f'<rect x="1.5" y="2" width="15" height="7" fill="none" stroke="{_COL["missed"]}" '
               'stroke-width="1.5" stroke-dasharray="3 2"/>'),
    "unheard": (f'<rect x="1.5" y="2" width="15" height="7" fill="none" stroke="{_COL["unheard"]}" '
                'stroke-dasharray="3 2"/>'),
    "extra": f'<rect x="1" y="2" width="16" height="7" fill="{_COL["extra"]}"/>',
    "ornament": (f'<rect x="1" y="2" width="7" height="7" fill="{_COL["ornament"]}"/>'
                 f'<rect x="10" y="2" width="7" height="7" fill="{_COL["ornament"]}"/>'),
    "sign": f'<text x="1" y="9" font-size="9" fill="{_COL["ornament"]}">tr</text>',
    "timing": f'<polygon points="3,5.5 11,1.5 11,9.5" fill="{_COL["timing"]}"/>',
    "onset": '<line x1="9" y1="0.5" x2="9" y2="10.5" stroke="#1d2327" stroke-width="1.5"/>',
    "pedal": (f'<rect x="1" y="1" width="16" height="3.5" fill="{_COL["pedal_marked"]}"/>'
              f'<rect x="1" y="6.5" width="11" height="3.5" fill="{_COL["pedal_played"]}"/>'
              f'<rect x="14" y="5.5" width="3" height="5.5" fill="{_COL["wrong_pitch"]}"/>'),
}
_SWATCH = {k: f'<svg class="sw" viewBox="0 0 18 11" width="18" height="11" aria-hidden="true">{v}</svg>'
           for k, v in _SWATCH.items()}
_LABELS = (("overall", "总分", "Overall"), ("pitch", "音准", "Pitch"), ("rhythm", "节奏", "Rhythm"),
           ("fluency", "流畅度", "Fluency"), ("expression", "表现力", "Expression"))

_CSS = """
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC",
"Noto Sans CJK SC",sans-serif;margin:0;padding:12px;color:#1d2327;background:#f6f7f8;line-height:1.45}
main{max-width:980px;margin:0 auto}h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.05em;margin:1.2em 0 .4em}
.src{color:#5f6b73;font-size:.85em;overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(105px,1fr));gap:8px}
.card{background:#fff;border-radius:10px;padding:8px 10px;box-shadow:0 1px 2px #0002}
.card b{display:block;font-size:1.7em}.card span{font-size:.85em;color:#5f6b73}
.sum{font-size:.92em}ol{padding-left:1.3em}li{margin:.35em 0}
.strip{display:flex;flex-wrap:wrap;gap:3px;align-items:center}
.strip .h{width:3.4em;font-size:.8em;color:#5f6b73;white-space:nowrap}
.bar{min-width:26px;height:26px;border-radius:4px;color:#fff;font-size:.78em;display:flex;align-items:center;
justify-content:center}.row{margin:3px 0;display:flex;gap:4px}
.legend{font-size:.8em;color:#5f6b73;display:flex;flex-wrap:wrap;gap:10px}.legend i{display:inline-block;
width:12px;height:9px;margin-right:4px;border-radius:2px}
.blk{display:inline-block;margin:0 14px 6px 0;vertical-align:top}
.sys{background:#fff;border-radius:8px;margin:6px 0;padding:4px;box-shadow:0 1px 2px #0001;
overflow-x:auto;-webkit-overflow-scrolling:touch}
svg{width:100%;height:auto;display:block}.sys svg{min-width:720px}
svg.sw{display:inline-block;width:18px;height:11px;vertical-align:-1px;margin-right:4px}
.hint{display:none;font-size:.8em;color:#5f6b73;margin:.3em 0}
@media (max-width:760px){.hint{display:block}}
"""


def _colour(x: float) -> str:
    return "#2e9d57" if x >= 85 else "#7aa33a" if x >= 70 else "#e0a100" if x >= 50 else "#d64545"


def _perf_to_beat(a: Assessment) -> tuple[np.ndarray, np.ndarray]:
    v, ref = a.verdicts, a.reference
    ok = np.isfinite(v.cluster_time_s)
    t = v.cluster_time_s[ok]
    b = np.array([c.beat for c in ref.clusters])[ok]
    if len(t) == 0:
        return np.array([0.0, 1.0]), np.array([0.0, 1.0])
    order = np.argsort(t, kind="stable")
    t, b = t[order], b[order]
    keep = np.concatenate([[True], np.diff(t) > 1e-6])
    t, b = t[keep], b[keep]
    if len(t) == 1:
        t, b = np.array([t[0], t[0] + 0.5]), np.array([b[0], b[0] + 1.0])
    return t, b


def _system_svg(a: Assessment, bar_lo: int, bar_hi: int, bar_beats: dict[int, float],
                tb: tuple[np.ndarray, np.ndarray]) -> str:
    v = a.verdicts
    bar_name = a.reference.bar_name
    notes = [n for n in v.notes if bar_lo <= n.bar <= bar_hi]
    extras = [e for e in v.extras if bar_lo <= e.bar <= bar_hi]
    ornaments = [o for o in v.ornaments if bar_lo <= o.bar <= bar_hi]
    if not notes and not extras:
        return ""
    b0 = bar_beats.get(bar_lo, min((n.onset_beat for n in notes), default=0.0))
    b1 = bar_beats.get(bar_hi + 1, max((n.onset_beat + n.duration_beat for n in notes), default=b0 + 4))
    b1 = max(b1, b0 + 1.0)
    pitches = [n.pitch for n in notes] + [int(n.played_pitch) for n in notes if n.played_pitch is not None]
    pitches += [e.pitch for e in extras]
    lo, hi = min(pitches) - 2, max(pitches) + 2
    W, ph, left = 1000.0, 8.0, 34.0
    H = (hi - lo + 1) * ph + 18
    pedal = pedal_judged(a.reference, a.performance) and any(p < b1 and q > b0 for p, q in a.reference.pedals)
    lane = H + 3
    if pedal:
        H += 16
    sx = (W - left - 4) / (b1 - b0)

    def x(beat: float) -> float:
        return left + (beat - b0) * sx

    def y(p: int) -> float:
        return 16 + (hi - p) * ph

    out = [f'<svg viewBox="0 0 {W:.0f} {H:.0f}" role="img" aria-label="bars {bar_lo} to {bar_hi}">']
    for p in range(lo, hi + 1):  # black-key shading and C labels
        if p % 12 in (1, 3, 6, 8, 10):
            out.append(f'<rect x="{left}" y="{y(p):.1f}" width="{W - left:.0f}" height="{ph}" '
                       'fill="#f1f3f5"/>')
        if p % 12 == 0:
            out.append(f'<text x="2" y="{y(p) + ph - 0.5:.1f}" font-size="11" fill="#5f6b73">'
                       f'{pitch_to_name(p)}</text>')
    for bar in range(bar_lo, bar_hi + 2):
        if bar in bar_beats and b0 - 1e-9 <= bar_beats[bar] <= b1 + 1e-9:
            bx = x(bar_beats[bar])
            out.append(f'<line x1="{bx:.1f}" y1="13" x2="{bx:.1f}" y2="{H:.0f}" stroke="#adb5bd"/>')
            if bar <= bar_hi:
                out.append(f'<text x="{bx + 3:.1f}" y="11" font-size="12" fill="#5f6b73">'
                           f'{a.reference.bar_short(bar)}</text>')
    t_arr, b_arr = tb
    signs, led = v.decorated()
    for n in notes:
        nx, nw = x(n.onset_beat), max(2.0, n.duration_beat * sx - 1)
        tip = f"bar {bar_name(n.bar)}, {n.hand} hand, {pitch_to_name(n.pitch)}: {n.verdict.replace('_', ' ')}"
        rn = a.reference.notes[n.index]
        # the sign the score writes over it, and its grace notes: violet when played, grey when not
        for written, played, dx in ((rn.ornament, n.index in signs, 0.0),
                                    ("grace" if rn.grace else None, n.index in led, -14.0)):
            if written:
                tip += f" ({written} written{', played' if played else ''})"
                out.append(f'<text x="{max(left, nx + dx):.1f}" y="{y(n.pitch) - 1.5:.1f}" font-size="10" '
                           f'fill="{_COL["ornament"] if played else "#5f6b73"}">{_SIGN[written]}</text>')
        if n.verdict in ("missed", "unheard"):
            sw = 1.5 if n.verdict == "missed" else 1.0
            out.append(f'<rect x="{nx:.1f}" y="{y(n.pitch):.1f}" width="{nw:.1f}" height="{ph - 1}" '
                       f'fill="none" stroke="{_COL[n.verdict]}" stroke-width="{sw}" stroke-dasharray="3 2">'
                       f'<title>{html.escape(tip)}</title></rect>')
            continue
        col = _COL[n.verdict]
        if n.verdict == "wrong_pitch" and n.played_pitch is not None:
            tip += f" (played {pitch_to_name(int(n.played_pitch))})"
            out.append(f'<rect x="{nx:.1f}" y="{y(int(n.played_pitch)):.1f}" width="{nw:.1f}" '
                       f'height="{ph - 1}" fill="none" stroke="{col}" stroke-width="1.5"/>')
        if n.timing in ("early", "late"):
            tip += (f", {n.timing} by {abs(n.deviation_ms or 0):.0f} ms "
                    f"({abs(n.deviation_beats or 0):.2f} beat)")
        out.append(f'<rect x="{nx:.1f}" y="{y(n.pitch):.1f}" width="{nw:.1f}" height="{ph - 1}" fill="{col}" '
                   f'opacity="0.85"><title>{html.escape(tip)}</title></rect>')
        if n.played_onset_s is not None:
            px = x(float(np.interp(n.played_onset_s, t_arr, b_arr)))
            if left <= px <= W:
                out.append(f'<line x1="{px:.1f}" y1="{y(n.pitch) - 1:.1f}" x2="{px:.1f}" '
                           f'y2="{y(n.pitch) + ph:.1f}" stroke="#1d2327" stroke-width="1.2"/>')
        if n.timing in ("early", "late"):
            cy = y(n.pitch) - 2
            tip_x, base_x = (nx - 5, nx + 1) if n.timing == "early" else (nx + 5, nx - 1)
            pts = f"{tip_x:.1f},{cy:.1f} {base_x:.1f},{cy - 3:.1f} {base_x:.1f},{cy + 3:.1f}"
            out.append(f'<polygon points="{pts}" fill="{_COL["timing"]}"/>')
    for e in extras:
        eb = float(np.interp(e.onset_s, t_arr, b_arr))
        ex = x(eb)
        ew = max(3.0, (float(np.interp(e.offset_s, t_arr, b_arr)) - eb) * sx)
        ex = min(max(ex, left), W - 4)
        tip = (f"extra note {pitch_to_name(e.pitch)} in bar {bar_name(e.bar)} ({e.hand} hand) at "
               f"{e.onset_s:.2f} s")
        out.append(f'<rect x="{ex:.1f}" y="{y(e.pitch):.1f}" width="{min(ew, W - ex):.1f}" height="{ph - 1}" '
                   f'fill="{_COL["extra"]}" opacity="0.9"><title>{html.escape(tip)}</title></rect>')
    perf = a.performance
    strike = {n.index: n.played for n in notes}
    for o in ornaments:
        tip = html.escape(f"{o.kind} on {pitch_to_name(o.pitch)} in bar {bar_name(o.bar)} ({o.hand} hand): "
                          f"{len(o.played)} notes in {o.end_s - o.onset_s:.2f} s, not counted as extra")
        beats = [float(np.interp(float(perf.onset_s[k]), t_arr, b_arr)) for k in o.played]
        beats.append(float(np.interp(o.end_s, t_arr, b_arr)))
        for i, (k, p) in enumerate(zip(o.played, o.pitches, strict=True)):
            if k == strike.get(o.note):
                continue  # the written note's own strike is drawn with the written note
            ox = min(max(x(beats[i]), left), W - 4)
            ow = max(3.0, (beats[i + 1] - beats[i]) * sx - 1)
            out.append(f'<rect x="{ox:.1f}" y="{y(p):.1f}" width="{min(ow, W - ox):.1f}" height="{ph - 1}" '
                       f'fill="{_COL["ornament"]}" opacity="0.9"><title>{tip}</title></rect>')
    if pedal:
        out += _pedal_lane(a, b0, b1, lane, x, tb)
    out.append("</svg>")
    return "".join(out)


def _pedal_lane(a: Assessment, b0: float, b1: float, y0: float, x: Callable[[float], float],
                tb: tuple[np.ndarray, np.ndarray]) -> list[str]:
    """Under the roll: the score's pedal marks (grey, a gap at each change), the pedal as played
    (blue, carried to score beats through the alignment) and each pedal verdict (red)."""
    t_arr, b_arr = tb
    out = []
    for p, q in a.reference.pedals:
        if p < b1 and q > b0:
            xa, xb = x(max(p, b0)), x(min(q, b1))
            out.append(f'<rect x="{xa:.1f}" y="{y0:.1f}" width="{max(1.0, xb - xa - 2):.1f}" height="5" '
                       f'fill="{_COL["pedal_marked"]}"><title>pedal marked</title></rect>')
    for d, u in a.performance.pedal_s or ():
        p, q = float(np.interp(d, t_arr, b_arr)), float(np.interp(u, t_arr, b_arr))
        if p < b1 and q > b0:
            xa, xb = x(max(p, b0)), x(min(q, b1))
            out.append(f'<rect x="{xa:.1f}" y="{y0 + 7:.1f}" width="{max(1.0, xb - xa):.1f}" height="5" '
                       f'fill="{_COL["pedal_played"]}"><title>pedal down {d:.2f}–{u:.2f} s</title></rect>')
    words = {"not_pressed": "marked, not pressed", "not_changed": "change marked, not made",
             "held_on": "held on where the score lets it up"}
    for pv in a.verdicts.pedal:
        if b0 - 1e-9 <= pv.beat <= b1 + 1e-9:
            px, tip = x(pv.beat), f"pedal {words[pv.kind]} (bar {a.reference.bar_name(pv.bar)})"
            out.append(f'<rect x="{px - 2:.1f}" y="{y0 - 1:.1f}" width="4" height="14" '
                       f'fill="{_COL["wrong_pitch"]}"><title>{html.escape(tip)}</title></rect>')
    return out


#: Bars per block of the per-bar strip: the hands' rows of a block line up bar by bar and a block
#: (about 270 px) fits a phone's width.
STRIP_BARS = 8
_NO_NOTES = ("#e9ecef", "no notes in this hand")
_LIGHT = (_STATUS["timing"][0], _STATUS["unplayed"][0], _NO_NOTES[0])


def _strip(a: Assessment) -> str:
    v, ref = a.verdicts, a.reference
    rows = [("both", "bars", list(v.bars))]
    if len(ref.hands) == 2:
        per = {(s.bar, s.hand): s for s in v.bar_hands}
        names = {"right": "RH 右", "left": "LH 左"}
        rows = [(h, names[h], [per[(b, h)] for b in ref.bars]) for h in ref.hands]
    blocks = []
    for k in range(0, len(rows[0][2]), STRIP_BARS):
        out = []
        for _, label, sums in rows:
            cells = []
            for s in sums[k:k + STRIP_BARS]:
                col, what = _STATUS[s.status] if s.notes or s.extra else _NO_NOTES
                tip = (f"bar {ref.bar_name(s.bar)}: {s.correct}/{s.notes} correct, {s.wrong_pitch} wrong, "
                       f"{s.missed} missed, {s.extra} extra, {s.early} early, {s.late} late ({what})")
                fg = "#1d2327" if col in _LIGHT else "#fff"  # dark digits on the light colours
                cells.append(f'<div class="bar" style="background:{col};color:{fg}" '
                             f'title="{html.escape(tip)}">{ref.bar_short(s.bar)}</div>')
            out.append(f'<div class="strip"><span class="h">{label}</span>{"".join(cells)}</div>')
        blocks.append(f'<div class="blk">{"".join(out)}</div>')
    return f'<div>{"".join(blocks)}</div>'


def _repeats_text(a: Assessment) -> str:
    """The reading of the score's repeats that was judged, for the header ("" without repeats)."""
    if a.repeats is None:
        return ""
    return " with the repeats played" if a.repeats else " (the repeats not played)"


def _hands_text(a: Assessment) -> str:
    """Where the report's hands come from, in words."""
    ref = a.reference
    split = f"split at {pitch_to_name(ref.split_pitch)} (the score has no staves)"
    if ref.hands_from == "staves":
        return "hands from the score's staves"
    if ref.hands_from.startswith("staves"):
        return f"hands from the score's staves; other parts {split.replace(' (the score has no staves)', '')}"
    if ref.hands_from == "track names":
        return "hands from the track names"
    if ref.hands_from == "tracks":
        return "hands from the score's two tracks (the higher one is the right hand)"
    return f"hands {split}"


def render_html(a: Assessment) -> str:
    """The report as one self-contained HTML page."""
    ref, v, s = a.reference, a.verdicts, a.scores
    esc = html.escape
    title = ref.title or Path(a.score_source).stem or "Practice report"
    cards = "".join(
        f'<div class="card"><span>{zh} {en}</span><b style="color:{_colour(getattr(s, key))}">'
        f'{getattr(s, key):.0f}</b></div>' for key, zh, en in _LABELS)
    sm = a.summary()
    summary = (f"{sm['correct']} of {sm['notes']} notes correct · {sm['wrong_pitch']} wrong · "
               f"{sm['missed']} missed · {sm['extra']} extra · {sm['early']} early · {sm['late']} late")
    if v.ornaments:
        kinds = [w for k, w in (("trill", "trill"), ("mordent", "mordent"), ("turn", "turn"),
                                ("grace", "grace notes")) if any(o.kind == k for o in v.ornaments)]
        summary += f" · {len(v.ornaments)} ornament{'s' if len(v.ornaments) > 1 else ''} ({', '.join(kinds)})"
    if v.ornaments_not_played:
        k = len(v.ornaments_not_played)
        summary += f" · {k} written ornament{'s' if k > 1 else ''} left out"
    tempo = list(v.bar_bpm.values())
    if tempo:
        summary += f" · tempo about {float(np.median(tempo)):.0f} bpm"
    sugg = "".join(f"<li>{esc(x.text)}</li>" for x in a.suggestions)
    ev_names = {"hesitation": "hesitation", "stop": "stop", "restart": "restart", "skip": "skipped",
                "ended_early": "stopped early"}
    events = "".join(
        f"<li>{ev_names.get(e.kind, e.kind)} at bar {esc(ref.bar_name(e.bar))}"
        + (f" → back to bar {esc(ref.bar_name(int(e.to_bar or 0)))}" if e.kind == "restart" else "")
        + (f" to {esc(ref.bar_name(int(e.to_bar or 0)))}" if e.kind == "skip" else "")
        + (f" ({e.seconds:.1f} s)" if e.kind in ("hesitation", "stop") else "")
        + f" at {e.at_s:.1f} s</li>" for e in v.events)
    # bar start beats for the roll: the score's own barlines (pickup bars and meter changes)
    bar_beats = dict(zip(range(ref.first_bar, ref.first_bar + ref.n_bars + 1), ref.bar_starts, strict=False))
    if len(bar_beats) < ref.n_bars + 1:  # a Reference made by hand, without barlines: the notes
        bar_beats = {}
        for n in ref.notes:
            bar_beats.setdefault(n.bar, n.onset_beat)
    tb = _perf_to_beat(a)
    systems = []
    for lo in range(ref.first_bar, ref.first_bar + ref.n_bars, BARS_PER_SYSTEM):
        hi = min(lo + BARS_PER_SYSTEM - 1, ref.first_bar + ref.n_bars - 1)
        svg = _system_svg(a, lo, hi, bar_beats, tb)
        if svg:
            systems.append(f'<div class="sys">{svg}</div>')
    keys = [("correct", "correct"), ("wrong_pitch", "wrong pitch (outline: the key played)"),
            ("missed", "missed"), ("extra", "extra"), ("timing", "early / late"), ("onset", "played onset")]
    if v.ornaments:
        keys.insert(4, ("ornament", "ornament (trill, mordent, turn, grace notes; not counted)"))
    if any(rn.ornament or rn.grace for rn in ref.notes):
        keys.insert(5 if v.ornaments else 4,
                    ("sign", "tr, mord., turn, gr.: ornament written (violet: played, grey: left out)"))
    if any(n.verdict == "unheard" for n in v.notes):
        keys.insert(3, ("unheard", "not heard in the recording"))
    if pedal_judged(a.reference, a.performance):
        keys.append(("pedal", "pedal: marked (grey), pressed (blue), not as marked (red)"))
    legend = "".join(f"<span>{_SWATCH[k]}{t}</span>" for k, t in keys)
    strip_keys = list(_STATUS.values())
    if any(not (x.notes or x.extra) for x in (v.bar_hands if len(ref.hands) == 2 else v.bars)):
        strip_keys.append(_NO_NOTES)
    strip_legend = "".join(f'<span><i style="background:{c}"></i>{t}</span>' for c, t in strip_keys)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} — practice report</title><style>{_CSS}</style></head>
<body><main>
<h1>{esc(title)} · 练习报告 practice report</h1>
<div class="src">score: {esc(a.score_source or '(in memory)')}
 · performance: {esc(a.performance.source or '(in memory)')}
 · {esc(ref.bars_text(ref.first_bar, ref.first_bar + ref.n_bars - 1).lower())}{esc(_repeats_text(a))}
 · {esc(_hands_text(a))}</div>
<h2>Marks 评分</h2><div class="cards">{cards}</div>
<p class="sum">{esc(summary)}</p>
<h2>What to practise 练习建议</h2><ol>{sugg}</ol>
<h2>Bar by bar 每小节</h2>{_strip(a)}<div class="legend">{strip_legend}</div>
{f'<h2>Flow 流畅度</h2><ul>{events}</ul>' if events else ''}
<h2>Score and performance 乐谱与演奏</h2><div class="legend">{legend}</div>
<p class="hint">Swipe a system sideways to see all of its {BARS_PER_SYSTEM} bars.</p>
{''.join(systems)}
<p class="src">Marks are defined in yuefu's docs/practice.md. yuefu practice partner (AI 陪练).</p>
</main></body></html>
"""


def write_report(a: Assessment, path: str | Path, *, force: bool = False) -> Path:
    """Write the report: JSON when ``path`` ends with ``.json``, HTML for ``.html``/``.htm``."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext == ".json":
        text = a.to_json()
    elif ext in (".html", ".htm"):
        text = render_html(a)
    else:
        raise ParameterError(f"{p}: the report is written as .html or .json, not {ext or '(no extension)'!r}")
    with atomic_output(p, force=force) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return p
