"""Standard MIDI files through symusic.

What MIDI cannot say natively travels in marker meta events that other programs ignore:
``chord:<symbol>``, ``section:<name>``, ``words:<text>`` (words over the staff, as "rit."),
``fermata:rest`` (a fermata over a rest), ``yuefu:title=<title>``, ``yuefu:mode=<mode>`` beside a
key signature whose mode is neither major nor minor, and one
``yuefu:track=<name>|role=<role>|gain_db=<x>|pan=<x>|program=<n>|drum=<0/1>`` per track, in track
order (a track without notes lives only there: MIDI readers drop empty tracks). In a track name
``%`` and ``|`` are written as ``%25`` and ``%7C``. Gain and pan are also written as CC7/CC10 so
that other players hear the mix; the sustain pedal is controller 64 in its track (a change: up
and down again at one tick); lyrics are lyric meta events (FF 05) in the note's track. Times
are quantised to 1/480 beat; gain and pan are kept exactly.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

from yuefu.core.errors import ParameterError, ScoreLoadError
from yuefu.core.files import atomic_output, read_input
from yuefu.core.score import (
    ROLES,
    ChordSymbol,
    Direction,
    KeySignature,
    Note,
    Pedal,
    Score,
    Section,
    Tempo,
    TimeSignature,
    Track,
    pedal_marks,
)
from yuefu.core.theory import SCALES, Key

__all__ = ["TPQ", "read_midi", "write_midi", "midi_bytes", "score_from_midi_bytes"]

TPQ = 480


def _tick(beat: float) -> int:
    return int(round(beat * TPQ))


def _gain_to_cc7(gain_db: float) -> int:
    # GM volume curve: level_dB = 40 log10(cc / 127); 0 dB (or more) is 127.
    return int(max(1, min(127, round(127 * 10 ** (min(gain_db, 0.0) / 40.0)))))


def _cc7_to_gain(cc: int) -> float:
    return round(40.0 * math.log10(max(cc, 1) / 127.0), 2)


def _escape_name(name: str) -> str:
    return name.replace("%", "%25").replace("|", "%7C")


def _unescape_name(text: str) -> str:
    return text.replace("%7C", "|").replace("%7c", "|").replace("%25", "%")


def _check_chunks(data: bytes, source: str) -> None:
    """Refuse a file whose chunk structure is cut short: symusic reads some such files as empty."""
    if len(data) < 14:
        raise ScoreLoadError(f"{source}: truncated MIDI file ({len(data)} bytes, header incomplete)")
    hlen, _fmt, ntrks, _division = struct.unpack(">IHHH", data[4:14])
    if not 6 <= hlen <= len(data) - 8:
        raise ScoreLoadError(
            f"{source}: corrupt MIDI file (a header chunk of {hlen} bytes in a file of {len(data)})"
        )
    pos, found = 8 + hlen, 0
    while pos + 8 <= len(data) and found < ntrks:
        length = struct.unpack(">I", data[pos + 4:pos + 8])[0]
        if pos + 8 + length > len(data):
            raise ScoreLoadError(
                f"{source}: truncated MIDI file (a chunk of {length} bytes runs past the end)"
            )
        if data[pos:pos + 4] == b"MTrk":
            found += 1
        pos += 8 + length
    if found < ntrks:
        raise ScoreLoadError(
            f"{source}: truncated MIDI file (the header announces {ntrks} tracks, "
            f"the file holds {found})"
        )


def _guess_role(name: str, program: int, is_drum: bool) -> str:
    low = name.lower()
    if is_drum:
        return "drums"
    for role in ROLES:
        if role in low:
            return role
    if "voice" in low or "vocal" in low or "sing" in low:
        return "vocal"
    if "piano" in low:
        return "accompaniment"
    if 32 <= program <= 39:
        return "bass"
    if 48 <= program <= 51:
        return "strings"
    if 88 <= program <= 95:
        return "pad"
    return "other"


def midi_bytes(score: Score, *, with_mix: bool = True) -> bytes:
    """Encode a score as a Standard MIDI File (format 1, 480 ticks per beat).

    Parameters
    ----------
    score : Score
    with_mix : bool
        Write each track's gain and pan as CC7/CC10 at time 0. Off when rendering a stem, so
        that the mixer applies them once.
    """
    import symusic

    s = symusic.Score(TPQ)
    for t in sorted(score.tempos, key=lambda e: e.beat):
        s.tempos.append(symusic.Tempo(_tick(t.beat), float(t.bpm)))
    for ts in sorted(score.time_signatures, key=lambda e: e.beat):
        s.time_signatures.append(symusic.TimeSignature(_tick(ts.beat), ts.numerator, ts.denominator))
    for ks in sorted(score.key_signatures, key=lambda e: e.beat):
        mode = 1 if ks.key.mode == "minor" else 0
        s.key_signatures.append(symusic.KeySignature(_tick(ks.beat), ks.key.sharps(), mode))
        if ks.key.mode not in ("major", "minor"):
            s.markers.append(symusic.TextMeta(_tick(ks.beat), f"yuefu:mode={ks.key.mode}"))
    if score.title:
        s.markers.append(symusic.TextMeta(0, f"yuefu:title={score.title}"))
    for tr in score.tracks:
        s.markers.append(symusic.TextMeta(
            0, f"yuefu:track={_escape_name(tr.name)}|role={tr.role}|gain_db={float(tr.gain_db)!r}"
               f"|pan={float(tr.pan)!r}|program={tr.program}|drum={int(tr.is_drum)}"))
    for c in sorted(score.chords, key=lambda e: e.beat):
        s.markers.append(symusic.TextMeta(_tick(c.beat), f"chord:{c.symbol}"))
    for sec in sorted(score.sections, key=lambda e: e.beat):
        s.markers.append(symusic.TextMeta(_tick(sec.beat), f"section:{sec.name}"))
    for d in sorted(score.directions, key=lambda e: e.beat):  # words over the staff ("rit.")
        s.markers.append(symusic.TextMeta(_tick(d.beat), f"words:{d.text}"))
    for beat in sorted(score.fermatas):  # a fermata over a rest
        s.markers.append(symusic.TextMeta(_tick(beat), "fermata:rest"))
    for tr in score.tracks:
        st = symusic.Track(tr.name, tr.program, tr.is_drum)
        if with_mix:
            st.controls.append(symusic.ControlChange(0, 7, _gain_to_cc7(tr.gain_db)))
            st.controls.append(symusic.ControlChange(0, 10, int(round(64 + 63 * tr.pan))))
        st.controls.extend(_pedal_controls(tr.pedals))
        for n in sorted(tr.notes, key=lambda n: (n.onset, n.pitch)):
            on = _tick(n.onset)
            dur = max(1, _tick(n.end) - on)
            st.notes.append(symusic.Note(on, dur, int(n.pitch), int(n.velocity)))
            if n.lyric:
                st.lyrics.append(symusic.TextMeta(on, n.lyric))
        s.tracks.append(st)
    return bytes(s.dumps_midi())


def _pedal_controls(pedals: list[Pedal]) -> list[Any]:
    """CC64 events of the sustain pedal, a change (one pedal ending where the next begins) as the
    pedal let up and pressed again at the same tick, in that order (symusic writes its ``pedals``
    list nowhere, and would sort such a pair either way)."""
    import symusic

    values = {"start": (127,), "change": (0, 127), "stop": (0,)}
    return [symusic.ControlChange(tick, 64, v) for tick, kind in pedal_marks(pedals, _tick, 1)
            for v in values[kind]]


def write_midi(score: Score, path: str | Path, *, force: bool = False, with_mix: bool = True) -> Path:
    """Write ``score`` to a MIDI file atomically; refuse to overwrite unless ``force``."""
    data = midi_bytes(score, with_mix=with_mix)
    with atomic_output(path, force=force) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def read_midi(path: str | Path) -> Score:
    """Read a Standard MIDI File into a :class:`Score`.

    Raises
    ------
    ScoreLoadError
        The file is missing, empty, not MIDI, truncated or holds no notes' worth of structure.
    """
    data = read_input(path, what="MIDI file")
    return score_from_midi_bytes(data, source=str(Path(path)))


def score_from_midi_bytes(data: bytes, *, source: str = "<bytes>") -> Score:
    """Decode MIDI file bytes; ``source`` names the file in error messages."""
    import symusic

    if len(data) == 0:
        raise ScoreLoadError(f"{source}: the file is empty (0 bytes); expected a MIDI file")
    if not data.startswith(b"MThd"):
        raise ScoreLoadError(
            f"{source}: not a MIDI file (it does not start with the 'MThd' header); "
            "give a Standard MIDI File (.mid)"
        )
    _check_chunks(data, source)
    try:
        s = symusic.Score.from_midi(data)
    except (RuntimeError, ValueError) as e:
        why = " ".join(str(e).split())
        raise ScoreLoadError(f"{source}: corrupt or truncated MIDI file ({why})") from None
    tpq = s.ticks_per_quarter
    if tpq <= 0:
        raise ScoreLoadError(f"{source}: MIDI file has an invalid time division ({tpq})")

    def beat(tick: int) -> float:
        return tick / tpq

    score = Score(tempos=[], time_signatures=[])
    for t in s.tempos:
        try:
            score.tempos.append(Tempo(beat(t.time), round(float(t.qpm), 3)))
        except ParameterError as e:
            raise ScoreLoadError(f"{source}: unusable tempo event at tick {t.time} ({e})") from None
    if not score.tempos:
        score.tempos.append(Tempo(0.0, 120.0))
    for ts in s.time_signatures:
        try:
            score.time_signatures.append(TimeSignature(beat(ts.time), ts.numerator, ts.denominator))
        except ValueError as e:
            raise ScoreLoadError(f"{source}: invalid time signature ({e})") from None
    if not score.time_signatures:
        score.time_signatures.append(TimeSignature(0.0))
    modes = {
        int(m.time): str(m.text)[len("yuefu:mode="):]
        for m in s.markers
        if str(m.text).startswith("yuefu:mode=")
    }
    for ks in s.key_signatures:
        if -7 <= ks.key <= 7:
            mode = "minor" if ks.tonality == 1 else "major"
            marked = modes.get(int(ks.time), mode)
            if marked in SCALES and marked != "chromatic":
                mode = marked
            key = Key.from_sharps(int(ks.key), mode)
            score.key_signatures.append(KeySignature(beat(ks.time), key))

    track_meta: dict[str, dict[str, str]] = {}
    for m in s.markers:
        text = str(m.text)
        try:
            if text.startswith("chord:"):
                score.chords.append(ChordSymbol(beat(m.time), text[6:]))
            elif text.startswith("section:"):
                score.sections.append(Section(beat(m.time), text[8:]))
            elif text.startswith("words:") and text[6:].strip():
                score.directions.append(Direction(beat(m.time), text[6:]))
            elif text == "fermata:rest":
                score.fermatas.append(beat(m.time))
            elif text.startswith("yuefu:title="):
                score.title = text[len("yuefu:title="):]
            elif text.startswith("yuefu:track="):
                parts = dict(kv.split("=", 1) for kv in text[6:].split("|") if "=" in kv)
                parts["track"] = _unescape_name(parts.get("track", ""))
                track_meta.setdefault(parts["track"], parts)
        except ValueError:
            continue  # a marker of another program that merely looks like ours

    # symusic files lyric events of a track under a separate note-less track; give them back
    # to the note-bearing track of the same name.
    note_tracks = [t for t in s.tracks if len(t.notes) > 0]
    orphan_lyrics: dict[str, list[tuple[int, str]]] = {}
    for t in s.tracks:
        if len(t.notes) == 0 and len(t.lyrics) > 0:
            orphan_lyrics.setdefault(str(t.name), []).extend((x.time, str(x.text)) for x in t.lyrics)

    used: set[str] = set()
    for st in note_tracks:
        name = str(st.name).strip() or ("drums" if st.is_drum else f"track{len(score.tracks) + 1}")
        base, k = name, 2
        while name in used:
            name = f"{base}_{k}"
            k += 1
        used.add(name)
        meta = track_meta.get(str(st.name), {})
        cc7 = next((c.value for c in st.controls if c.number == 7), None)
        cc10 = next((c.value for c in st.controls if c.number == 10), None)
        gain_db = _meta_float(meta, "gain_db")
        if gain_db is None:
            gain_db = _cc7_to_gain(cc7) if cc7 is not None else 0.0
        pan = _meta_float(meta, "pan")
        if pan is None:
            pan = (cc10 - 64) / 63.0 if cc10 is not None else 0.0
        role = meta.get("role", "")
        if role not in ROLES:
            role = _guess_role(name, int(st.program), bool(st.is_drum))
        track = Track(name, int(st.program), bool(st.is_drum), role, gain_db=gain_db,
                      pan=max(-1.0, min(1.0, pan)))
        lyr = {x.time: str(x.text) for x in st.lyrics}
        if str(st.name) in orphan_lyrics and str(st.name) not in {str(u.name) for u in note_tracks
                                                                  if u is not st and u.lyrics}:
            lyr.update(dict(orphan_lyrics.pop(str(st.name))))
        for n in st.notes:
            if n.duration <= 0:
                continue
            vel = min(127, max(1, int(n.velocity)))
            track.notes.append(Note(int(n.pitch), beat(n.time), beat(n.duration), vel,
                                    lyr.pop(n.time, None)))
        for pd in st.pedals:
            if pd.duration > 0:
                track.pedals.append(Pedal(beat(pd.time), beat(pd.duration)))
        track.sort()
        score.tracks.append(track)

    # Tracks without notes: MIDI readers drop them, so they come back from their markers alone.
    for tname, meta in track_meta.items():
        if tname.strip() and tname not in used:
            used.add(tname)
            program = _meta_float(meta, "program")
            drum = meta.get("drum") == "1"
            role = meta.get("role", "")
            if role not in ROLES:
                role = _guess_role(tname, 0, drum)
            pan = _meta_float(meta, "pan") or 0.0
            score.tracks.append(Track(
                tname,
                int(program) if program is not None and 0 <= program <= 127 else 0,
                drum,
                role,
                gain_db=_meta_float(meta, "gain_db") or 0.0,
                pan=max(-1.0, min(1.0, pan)),
            ))
    order = {n: i for i, n in enumerate(track_meta)}
    score.tracks.sort(key=lambda t: order.get(t.name, len(order)))  # stable: others keep theirs
    return score.normalize()


def _meta_float(meta: dict[str, str], key: str) -> float | None:
    """A finite number from a track marker, or None when it is absent or unusable."""
    try:
        x = float(meta[key])
    except (KeyError, ValueError):
        return None
    return x if math.isfinite(x) else None
