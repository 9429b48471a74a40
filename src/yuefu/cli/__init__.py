"""The ``yuefu`` command: parse the arguments, call one library function, print the result.

A user error (bad input, missing file, existing output) is one line on stderr and exit code 2;
nothing is half-written and an existing output is kept unless ``--force``.

>>> main(["--version"])  # doctest: +ELLIPSIS
yuefu ...
0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from yuefu import __version__
from yuefu.core.errors import YuefuError

__all__ = ["main"]

EXIT_USER_ERROR = 2


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _fmt_db(x: float | None, unit: str) -> str:
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return f"-inf {unit}"
    return f"{x:.1f} {unit}"


class _Progress:
    """Progress for the terminal: a bar with ETA on a TTY, plain lines otherwise, none if quiet."""

    def __init__(self, *, quiet: bool, label: str):
        self.quiet = quiet
        self.label = label
        self.tty = sys.stderr.isatty()
        self.bar: Any = None
        self.last_stage = ""

    def __enter__(self) -> _Progress:
        if not self.quiet and self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=1000, desc=self.label, unit="", leave=True, file=sys.stderr,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")
        return self

    def stage(self, name: str, fraction: float, message: str = "") -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.set_description_str(f"{self.label} [{name}]")
            target = int(round(1000 * min(1.0, fraction)))
            if target > self.bar.n:
                self.bar.update(target - self.bar.n)
        elif name != self.last_stage:  # one line a stage ("render...", not "render: render...")
            print(f"{self.label}: {name}..." if name != self.label else f"{name}...", file=sys.stderr,
                  flush=True)
        self.last_stage = name

    def fraction(self, name: str) -> Callable[[float, str], None]:
        def report(fraction: float, message: str = "") -> None:
            self.stage(name, fraction, message)

        return report

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _out(quiet: bool, *lines: str) -> None:
    if not quiet:
        for line in lines:
            print(line)


# -- commands --------------------------------------------------------------------------------

def _cmd_render(a: argparse.Namespace) -> int:
    from yuefu.core.io import load_score
    from yuefu.render import render_score

    score = load_score(a.input)
    with _Progress(quiet=a.quiet, label="render") as prog:
        res = render_score(score, a.output, soundfont=a.soundfont, stems_dir=a.stems,
                           target_lufs=a.target_lufs, ceiling_dbtp=a.ceiling_dbtp,
                           force=a.force, jobs=a.jobs, progress=prog.fraction("render"))
    r = res.loudness
    _out(a.quiet, f"wrote {res.path}: {len(res.stems)} stems, {r.duration_s:.1f} s, "
                  f"{_fmt_db(r.integrated_lufs, 'LUFS')}, true peak {_fmt_db(r.true_peak_dbtp, 'dBTP')}")
    return 0


def _cmd_sing(a: argparse.Namespace) -> int:
    from yuefu.sing import sing_file

    res = sing_file(a.input, a.output, voice=a.voice, lang=a.lang, force=a.force, track=a.track,
                    lyrics=a.lyrics)
    if not a.quiet:
        for w in res.warnings:
            print(f"yuefu: warning: {w}", file=sys.stderr)
    _out(a.quiet, f"wrote {a.output}: {len(res.notes)} notes sung ({res.lang}, {res.voice} voice), "
                  f"{res.audio.duration_s:.1f} s at {res.audio.sr} Hz")
    return 0


def _sampling(a: argparse.Namespace) -> Any:
    from yuefu.compose import SamplingConfig

    return SamplingConfig(
        temperature=a.temperature, top_p=a.top_p,
        temperatures=SamplingConfig.parse_families(a.family_temperature or ""),
        top_ps=SamplingConfig.parse_families(a.family_top_p or "", what="top-p"),
        repetition_penalty=a.repetition_penalty, max_repeat_bars=a.max_repeat_bars,
        key_strength=a.key_strength, chord_period_bars=a.chord_period, chord_strength=a.chord_strength)


def _lm_tracks(text: str | None) -> tuple[str, ...] | None:
    return tuple(t.strip() for t in text.split(",") if t.strip()) if text else None


def _write_composition(a: argparse.Namespace, res: Any, what: str) -> int:
    from yuefu.core.io import save_score

    save_score(res.score, a.output, force=a.force)
    if not a.quiet:
        for w in res.warnings:
            print(f"yuefu: warning: {w}", file=sys.stderr)
    s = res.score
    key = s.key_at(0.0)
    tracks = ", ".join(f"{t.name} {len(t.notes)}" for t in s.tracks)
    _out(a.quiet, f"wrote {a.output}: {what}{res.bars} bars ({tracks} notes), "
                  f"{key.name if key else 'no key'}, {s.tempos[0].bpm:g} BPM, {res.seconds:.1f} s")
    return 0


def _cmd_compose(a: argparse.Namespace) -> int:
    from yuefu.compose import compose
    from yuefu.core.files import check_output

    check_output(a.output, force=a.force)  # before the model runs: fail fast
    chords = None
    if a.chords:
        chords = [c.strip() or None for c in a.chords.split(",")]
        chords = [None if c in (None, "-") else c for c in chords]
    res = compose(a.style, a.emotion, a.bars, key=a.key, tempo_bpm=a.tempo_bpm, meter=a.meter,
                  chords=chords, tracks=_lm_tracks(a.tracks) or ("melody", "accompaniment"),
                  seed=a.seed, sampling=_sampling(a), model=a.model, title=a.title or "")
    return _write_composition(a, res, "")


def _cmd_continue(a: argparse.Namespace) -> int:
    from yuefu.compose import continue_score
    from yuefu.core.files import check_output
    from yuefu.core.io import load_score

    check_output(a.output, force=a.force)
    prompt = load_score(a.input)
    res = continue_score(prompt, a.bars, style=a.style, emotion=a.emotion, tracks=_lm_tracks(a.tracks),
                         chords=a.chords, seed=a.seed, sampling=_sampling(a), model=a.model,
                         source=str(a.input))
    return _write_composition(a, res, f"{a.input} + ")


def _cmd_run(a: argparse.Namespace) -> int:
    from yuefu.pipeline import load_pipeline, run_pipeline

    pipe = load_pipeline(a.pipeline)
    with _Progress(quiet=a.quiet, label=pipe.name) as prog:
        res = run_pipeline(pipe, a.output, start=a.start, force=a.force,
                           progress=lambda e: prog.stage(e.stage, e.fraction, e.message))
    times = ", ".join(f"{k} {v:.1f} s" for k, v in res.seconds.items())
    _out(a.quiet, f"wrote {res.project} ({times})")
    return 0


def _song_spec(a: argparse.Namespace) -> Any:
    from yuefu.core.spec import SongSpec

    return SongSpec(theme=a.theme, emotion=a.emotion, style=a.style, language=a.lang,
                    length_s=a.length_s, voice=a.voice, seed=a.seed)


def _cmd_song(a: argparse.Namespace) -> int:
    from yuefu.pipeline import load_pipeline, run_pipeline
    from yuefu.pipeline.song import song_pipeline_text

    spec = _song_spec(a)
    if a.lyrics:  # read a person's lyrics before anything is written: a bad file fails fast
        from yuefu.lyrics import Lyrics

        Lyrics.load(a.lyrics, language=spec.language)
    pipe = load_pipeline(text=song_pipeline_text(spec, lyrics_path=a.lyrics,
                                                 target_lufs=a.target_lufs, voice_range=a.range,
                                                 instrumental=a.instrumental, engine=a.engine))
    with _Progress(quiet=a.quiet, label="song") as prog:
        res = run_pipeline(pipe, a.output, force=a.force,
                           progress=lambda e: prog.stage(e.stage, e.fraction, e.message))
    rep = res.report["stages"]
    lyr, mix = rep.get("lyrics", {}), rep.get("mix", {}).get("loudness", {})
    _out(a.quiet,
         f"wrote {res.project}: {rep['motive']['key']}, {rep['motive']['tempo_bpm']:g} BPM, "
         f"{rep['arrange']['duration_s']:.0f} s, rhyme rate {lyr.get('rhyme_rate')}, "
         f"{_fmt_db(mix.get('integrated_lufs'), 'LUFS')} "
         f"({sum(res.seconds.values()):.1f} s)")
    return 0


def _cmd_lyrics(a: argparse.Namespace) -> int:
    from yuefu.lyrics import LyricsRequest, write_lyrics

    req = LyricsRequest(theme=a.theme, emotion=a.emotion, style=a.style, language=a.lang,
                        length_s=a.length_s, seed=a.seed)
    songs = write_lyrics(req, n=a.n)
    if a.json:
        print(json.dumps([{"rank": i + 1, "score": round(s.score, 4), "text": s.to_text(),
                           "report": s.report()} for i, s in enumerate(songs)],
                         ensure_ascii=False, indent=1, default=str))
        return 0
    for i, s in enumerate(songs[: a.show], 1):
        print(f"#{i}  score {s.score:.3f}")
        print(s.to_text().rstrip())
        print()
    if a.show < len(songs):
        print(f"({len(songs)} candidates; --show {len(songs)} prints them all)")
    return 0


def _cmd_loudness(a: argparse.Namespace) -> int:
    from yuefu.render import measure_file

    r = measure_file(a.file)
    if a.json:
        print(json.dumps(r.to_dict(), indent=2))
        return 0
    print(f"{a.file}")
    print(f"  integrated        {_fmt_db(r.integrated_lufs, 'LUFS')}")
    print(f"  short-term max    {_fmt_db(r.short_term_max_lufs, 'LUFS')}")
    print(f"  momentary max     {_fmt_db(r.momentary_max_lufs, 'LUFS')}")
    print(f"  loudness range    {r.loudness_range_lu:.1f} LU")
    print(f"  true peak         {_fmt_db(r.true_peak_dbtp, 'dBTP')}")
    print(f"  sample peak       {_fmt_db(r.sample_peak_dbfs, 'dBFS')}")
    print(f"  duration          {r.duration_s:.2f} s at {r.sr} Hz")
    return 0


def _cmd_info(a: argparse.Namespace) -> int:
    from yuefu.core.io import is_audio_path, is_score_path, load_score

    path = Path(a.file)
    if is_score_path(path):
        info = _score_info(load_score(path))
    elif is_audio_path(path):
        from yuefu.core.io.audio import audio_info

        info = audio_info(path, check_samples=True).to_dict()
    else:
        from yuefu.core.io import AUDIO_READ_EXTS, SCORE_EXTS

        raise YuefuError(
            f"{path}: unknown file type {path.suffix or '(no extension)'!r}; yuefu reads scores "
            f"({', '.join(SCORE_EXTS)}) and audio ({', '.join(AUDIO_READ_EXTS)})"
        )
    if a.json:
        print(json.dumps(info, indent=2, ensure_ascii=False, default=str))
        return 0
    print(str(path))
    for k, v in info.items():
        if k == "tracks":
            print(f"  {'tracks':<16}{len(v)}")
            for t in v:
                drum = " drums" if t["is_drum"] else f" program {t['program']}"
                print(f"    {t['name']:<14}{t['role']:<14}{t['notes']:>6} notes{drum}")
        else:
            print(f"  {k:<16}{v}")
    return 0


def _score_info(score: Any) -> dict[str, Any]:
    key = score.key_at(0.0)
    key_text = f"{key.name} (signature)" if key else f"{score.estimate_key().name} (estimated)" \
        if score.n_notes else "unknown"
    tempos = sorted({round(t.bpm, 2) for t in score.tempos})
    meters = [f"{t.numerator}/{t.denominator}" for t in score.time_signatures]
    return {
        "title": score.title or "(untitled)",
        "duration_s": round(score.duration_s, 2),
        "bars": len(score.bar_lines()),
        "tempo_bpm": tempos[0] if len(tempos) == 1 else tempos,
        "meter": meters[0] if len(set(meters)) == 1 else meters,
        "key": key_text,
        "notes": score.n_notes,
        "chords": len(score.chords),
        "sections": [s.name for s in score.sections],
        "lyric_syllables": len(score.lyrics()),
        "tracks": [{"name": t.name, "role": t.role, "program": t.program, "is_drum": t.is_drum,
                    "notes": len(t.notes)} for t in score.tracks],
    }


def _cmd_stages(a: argparse.Namespace) -> int:
    from yuefu.pipeline import list_stages

    for s in list_stages():
        ins = ", ".join(s.inputs) or "-"
        outs = ", ".join(s.outputs) or "-"
        print(f"{s.name}: {s.description}")
        print(f"    reads {ins}; writes {outs}")
        for name, tp, default in s.param_docs():
            print(f"    {name} ({tp}) = {default!r}")
    return 0


def _parse_bar_range(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        parts = [int(x) for x in text.replace("–", "-").split("-", 1)]
    except ValueError:
        raise _UsageError(f"--bars expects FIRST-LAST (e.g. 5-12) or one bar, got {text!r}") from None
    return (parts[0], parts[-1])


def _cmd_practice(a: argparse.Namespace) -> int:
    """``yuefu practice SCORE PERFORMANCE``: assess a performance against its score."""
    from yuefu.core.files import check_output
    from yuefu.core.io import is_audio_path
    from yuefu.teach import AssessConfig, assess, write_report

    if a.output:
        if Path(a.output).suffix.lower() not in (".html", ".htm", ".json"):
            raise _UsageError(f"-o {a.output}: the report is written as .html or .json")
        check_output(a.output, force=a.force)  # before the work: fail fast
    cfg = AssessConfig(bars=_parse_bar_range(a.bars), part=a.part, transcriber=a.transcriber)
    performance: Any = a.performance
    if is_audio_path(a.performance):  # transcribed here, so that a long wait shows its progress
        from yuefu.teach import load_performance

        with _Progress(quiet=a.quiet or a.json, label="practice") as prog:
            performance = load_performance(a.performance, transcriber=a.transcriber,
                                           progress=prog.fraction(f"transcribe ({a.transcriber})"))
    res = assess(a.score, performance, config=cfg)
    if a.output:
        write_report(res, a.output, force=a.force)
    if a.json:  # machine mode: stdout holds the JSON, or nothing when -o wrote it
        if not (a.output and Path(a.output).suffix.lower() == ".json"):
            print(res.to_json())
        return 0
    s, sm = res.scores, res.summary()
    _out(a.quiet,
         *([f"wrote {a.output}"] if a.output else []),
         f"overall {s.overall:.0f} · pitch 音准 {s.pitch:.0f} · rhythm 节奏 {s.rhythm:.0f} · "
         f"fluency 流畅度 {s.fluency:.0f} · expression 表现力 {s.expression:.0f}",
         f"{sm['correct']}/{sm['notes']} notes correct, {sm['wrong_pitch']} wrong, {sm['missed']} missed, "
         f"{sm['extra']} extra, {sm['early']} early, {sm['late']} late"
         + (f", {sm['ornaments']} ornament{'s' if sm['ornaments'] > 1 else ''} (not counted)"
            if sm["ornaments"] else "")
         + ("" if res.repeats is None else
            " (the repeats played)" if res.repeats else " (the repeats not played)"),
         *(f"  {i}. {x.text}" for i, x in enumerate(res.suggestions, 1)))
    return 0


def _cmd_id(a: argparse.Namespace) -> int:
    """``yuefu id add|query|stats|delete``: song identification against a catalog."""
    from yuefu.listen.identify import open_catalog

    if a.id_command is None:
        raise _UsageError("give an id command: add, query, stats or delete (see 'yuefu id --help')")
    if a.id_command == "add":
        with open_catalog(a.db, create=True) as cat, _Progress(quiet=a.quiet, label="id add") as prog:
            rep = cat.add(a.paths, jobs=a.jobs, progress=prog.fraction("fingerprint"))
        if not a.quiet:
            for path, why in rep.skipped:
                print(f"yuefu: skipped {path}: {why}", file=sys.stderr)
        _out(a.quiet, f"{a.db}: added {len(rep.added)} tracks ({rep.audio_s / 60:.1f} min of audio), "
                      f"{len(rep.duplicates)} already there, {len(rep.skipped)} skipped "
                      f"({rep.seconds:.1f} s)")
        return 0
    if a.id_command == "query":
        with open_catalog(a.db) as cat:
            res = cat.query(a.clip)
        if a.json:
            print(json.dumps(res.to_dict()))
        elif res.match is None:
            print("no match")
        else:
            m = res.match
            speed = f", speed {100 * (m.speed - 1):+.0f}%" if abs(m.speed - 1) > 1e-9 else ""
            print(f"{m.track} at {m.offset_s:.1f} s (confidence {m.confidence:.2f}{speed})")
        return 0
    if a.id_command == "delete":
        with open_catalog(a.db) as cat:
            gone = cat.delete(a.tracks)
        _out(a.quiet, *(f"deleted {p}" for p in gone))
        return 0
    with open_catalog(a.db) as cat:
        st = cat.stats()
        names = [t.name for t in cat.tracks()] if a.tracks_list else []
    if a.json:
        print(json.dumps({**st.to_dict(), **({"track_names": names} if a.tracks_list else {})}, indent=2))
        return 0
    print(f"{st.location} ({st.backend})")
    print(f"  tracks          {st.tracks}")
    print(f"  audio           {st.audio_s / 3600:.2f} h")
    print(f"  hashes          {st.hashes}")
    print(f"  size            {st.size_bytes / 1e6:.1f} MB ({st.bytes_per_hour / 1e6:.1f} MB per hour)")
    for n in names:
        print(f"    {n}")
    return 0


# -- parser ----------------------------------------------------------------------------------

def _parser() -> _Parser:
    p = _Parser(prog="yuefu", description="yuefu (乐府): an open AI music studio.")
    p.add_argument("--version", action="version", version=f"yuefu {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    r = sub.add_parser("render", help="render a MIDI/MusicXML score to a mixed, mastered audio file")
    r.add_argument("input", help="score file (.mid, .musicxml)")
    r.add_argument("-o", "--output", required=True, help="audio file to write (.wav, .flac, .mp3)")
    r.add_argument("--soundfont", help="a .sf2 SoundFont (default: FluidR3 GM)")
    r.add_argument("--target-lufs", type=float, default=-14.0,
                   help="integrated loudness target (default -14; -16 podcast, -23 broadcast)")
    r.add_argument("--ceiling-dbtp", type=float, default=-1.0, help="true-peak ceiling (default -1)")
    r.add_argument("--stems", help="also keep the per-track stems in this folder")
    r.add_argument("--jobs", type=int, default=1, help="render stems in parallel (default 1)")
    r.add_argument("--force", action="store_true", help="overwrite existing outputs")
    r.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    r.set_defaults(func=_cmd_render)

    from yuefu.core.spec import EMOTIONS, LANGUAGES, STYLES, VOICES

    def request_args(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("theme", help="keywords or a sentence, Chinese or English")
        cmd.add_argument("--emotion", default="happy", metavar="EMOTION",
                         help=f"one of: {', '.join(EMOTIONS)} (default happy)")
        cmd.add_argument("--style", default="pop", metavar="STYLE",
                         help=f"one of: {', '.join(STYLES)} (default pop)")
        cmd.add_argument("--lang", default="en", metavar="LANG",
                         help=f"lyrics language: {', '.join(LANGUAGES)} (default en)")
        cmd.add_argument("--length-s", type=float, default=120.0, help="about how long, in seconds")
        cmd.add_argument("--seed", type=int, default=0, help="the same seed gives the same song")

    so = sub.add_parser("song", help="write a whole song from a theme: lyrics, melody, arrangement, audio")
    request_args(so)
    so.add_argument("--voice", default="female", metavar="VOICE",
                    help=f"the singer and the melody's range: {', '.join(VOICES)} (default female)")
    so.add_argument("--instrumental", action="store_true",
                    help="no singer: an instrument plays the melody")
    so.add_argument("--range", metavar="LOW-HIGH",
                    help="the melody's range as note names, e.g. A3-E5 (default: by --voice)")
    so.add_argument("--lyrics", help="use your own lyrics file ([verse], [chorus] headers, one line each)")
    so.add_argument("--engine", choices=("stats", "model"), default="stats",
                    help="who writes the melody and the piano part: stats (POP909 statistics and the "
                         "style's rules, default) or model (the music language model; the song is in 4/4)")
    so.add_argument("--target-lufs", type=float, default=-14.0, help="loudness of song.wav (default -14)")
    so.add_argument("-o", "--output", required=True, help="project folder")
    so.add_argument("--force", action="store_true", help="start over in a folder with a project")
    so.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    so.set_defaults(func=_cmd_song)

    ly = sub.add_parser("lyrics", help="write ranked lyric candidates for a theme")
    request_args(ly)
    ly.add_argument("--n", type=int, default=30, help="how many candidates (default 30)")
    ly.add_argument("--show", type=int, default=3, help="how many to print (default 3)")
    ly.add_argument("--json", action="store_true", help="print every candidate as JSON")
    ly.set_defaults(func=_cmd_lyrics)

    sg = sub.add_parser("sing", help="sing a score's lyric line (MusicXML/MIDI with lyrics) to a WAV file")
    sg.add_argument("input", help="score file (.musicxml, .mid) with one lyric syllable per note")
    sg.add_argument("-o", "--output", required=True, help="WAV file to write")
    sg.add_argument("--voice", default="female", choices=("female", "male"),
                    help="singing voice (default female)")
    sg.add_argument("--lang", choices=("zh", "en"), default=None,
                    help="lyrics language (default: Chinese if the lyrics hold Han characters or pinyin)")
    sg.add_argument("--track", help="name of the track to sing (default: the one with lyrics)")
    sg.add_argument("--lyrics", metavar="FILE",
                    help="a lyrics text file laid on the melody, one syllable per note (Chinese "
                         "characters or pinyin, or English); replaces the score's own lyrics")
    sg.add_argument("--force", action="store_true", help="overwrite an existing output")
    sg.add_argument("-q", "--quiet", action="store_true", help="print nothing on success, no warnings")
    sg.set_defaults(func=_cmd_sing)

    def lm_args(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument("-o", "--output", required=True, help="score file to write (.mid, .musicxml)")
        cmd.add_argument("--tracks", metavar="LIST",
                         help="parts to write: melody, accompaniment or both, comma-separated")
        cmd.add_argument("--seed", type=int, default=0, help="the same seed gives the same piece")
        cmd.add_argument("--temperature", type=float, default=1.0,
                         help="sampling temperature of every token family (default 1.0)")
        cmd.add_argument("--top-p", type=float, default=0.95, help="nucleus sampling mass (default 0.95)")
        cmd.add_argument("--family-temperature", metavar="F=T,...",
                         help="per-family temperature, e.g. pitch=0.8,duration=1.2 (families: type, "
                              "position, chord, track, pitch, duration, velocity)")
        cmd.add_argument("--family-top-p", metavar="F=P,...", help="per-family top-p, e.g. pitch=0.9")
        cmd.add_argument("--repetition-penalty", type=float, default=1.0,
                         help="> 1 makes recently played pitches less likely (default 1: off)")
        cmd.add_argument("--max-repeat-bars", type=int, default=2,
                         help="at most this many identical bars in a row (default 2; 0: no limit)")
        cmd.add_argument("--key-strength", type=float, default=0.0, metavar="NATS",
                         help="penalty in nats on notes outside the key's scale (default 0: off; "
                              "20 keeps every note in the scale)")
        cmd.add_argument("--chord-period", type=int, default=8, metavar="BARS",
                         help="chords repeat the progression of this many bars before (default 8; "
                              "0: off)")
        cmd.add_argument("--chord-strength", type=float, default=None, metavar="NATS",
                         help="how hard chords follow that progression, in nats, or 'inf' to force "
                              "it (default: 2 for compose, forced for continue)")
        cmd.add_argument("--model", metavar="FILE", help="a compose_cp .pt of your own (its .json beside it)")
        cmd.add_argument("--force", action="store_true", help="overwrite an existing output")
        cmd.add_argument("-q", "--quiet", action="store_true", help="print nothing on success, no warnings")

    co = sub.add_parser("compose", help="write a new piece (melody and piano) with the music language model")
    co.add_argument("--style", default="pop", metavar="STYLE",
                    help=f"one of: {', '.join(STYLES)} (default pop)")
    co.add_argument("--emotion", default="happy", metavar="EMOTION",
                    help=f"one of: {', '.join(EMOTIONS)} (default happy)")
    co.add_argument("--bars", type=int, default=32, help="length in bars (default 32)")
    co.add_argument("--key", help="e.g. 'E minor' (default: C major, or A minor for a sad emotion)")
    co.add_argument("--tempo-bpm", type=float, help="default: by emotion")
    co.add_argument("--meter", default="4/4", choices=("4/4", "3/4"), help="default 4/4")
    co.add_argument("--chords", metavar="LIST",
                    help="one chord per bar, comma-separated, '-' for free: C,Am,F,G")
    co.add_argument("--title", help="the piece's title")
    lm_args(co)
    co.set_defaults(func=_cmd_compose)

    ct = sub.add_parser("continue",
                        help="continue a melody or piano piece (续写); the prompt is kept verbatim")
    ct.add_argument("input", help="the piece to continue (.mid, .musicxml), 4/4 or 3/4")
    ct.add_argument("--bars", type=int, default=16, help="bars to add (default 16)")
    ct.add_argument("--style", default="unknown", metavar="STYLE", help="condition (default: none)")
    ct.add_argument("--emotion", default="unknown", metavar="EMOTION", help="condition (default: none)")
    ct.add_argument("--chords", default="prompt", choices=("prompt", "free"),
                    help="prompt (default): cycle the chords of the prompt's last --chord-period bars "
                         "(its chord symbols, or chords estimated from its notes), which keeps its key; "
                         "free: the model chooses")
    lm_args(ct)
    ct.set_defaults(func=_cmd_continue)

    ru = sub.add_parser("run", help="run a pipeline file into a project folder")
    ru.add_argument("pipeline", help="pipeline file (pipelines/*.toml)")
    ru.add_argument("-o", "--output", required=True, help="project folder")
    ru.add_argument("--from", dest="start", metavar="STAGE",
                    help="resume from this stage, keeping (hand-edited) earlier artefacts")
    ru.add_argument("--force", action="store_true", help="start over in a folder with a project")
    ru.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    ru.set_defaults(func=_cmd_run)

    lo = sub.add_parser("loudness", help="measure loudness (EBU R128 / ITU-R BS.1770-4)")
    lo.add_argument("file", help="audio file")
    lo.add_argument("--json", action="store_true", help="print JSON")
    lo.set_defaults(func=_cmd_loudness)

    inf = sub.add_parser("info", help="describe a score or audio file")
    inf.add_argument("file", help="score or audio file")
    inf.add_argument("--json", action="store_true", help="print JSON")
    inf.set_defaults(func=_cmd_info)

    idp = sub.add_parser("id", help="identify songs from a clip (听歌识曲): add, query, stats, delete")
    ids = idp.add_subparsers(dest="id_command", metavar="ID_COMMAND", parser_class=_Parser)
    db_help = "catalog: an SQLite file (default catalog.db) or postgresql://user@host/dbname"
    ida = ids.add_parser("add", help="fingerprint audio files or folders into a catalog")
    ida.add_argument("paths", nargs="+", metavar="PATH", help="audio files or folders (searched recursively)")
    ida.add_argument("--db", default="catalog.db", help=db_help)
    ida.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    ida.add_argument("-q", "--quiet", action="store_true", help="no progress, skipped files or summary")
    idq = ids.add_parser("query", help="identify a clip: the track, the offset in it and a confidence")
    idq.add_argument("clip", help="audio clip (a few seconds; WAV, FLAC, OGG, MP3)")
    idq.add_argument("--db", default="catalog.db", help=db_help)
    idq.add_argument("--json", action="store_true", help='print {"match": {...}} or {"match": null}')
    idst = ids.add_parser("stats", help="tracks, hours of audio, hashes and size of a catalog")
    idst.add_argument("--db", default="catalog.db", help=db_help)
    idst.add_argument("--tracks", dest="tracks_list", action="store_true", help="also list the tracks")
    idst.add_argument("--json", action="store_true", help="print JSON")
    idd = ids.add_parser("delete", help="remove tracks (by name, path or file) from a catalog")
    idd.add_argument("tracks", nargs="+", metavar="TRACK", help="track name, its path, or the file itself")
    idd.add_argument("--db", default="catalog.db", help=db_help)
    idd.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    idp.set_defaults(func=_cmd_id, id_command=None)

    pr = sub.add_parser("practice", help="assess a piano performance against its score (AI 陪练)")
    pr.add_argument("score", help="the score (.mid, .musicxml)")
    pr.add_argument("performance",
                    help="what was played: MIDI from a digital piano, or audio (.wav, .mp3, .flac, .ogg)")
    pr.add_argument("-o", "--output", help="write the report: .html (for people) or .json (for apps)")
    pr.add_argument("--json", action="store_true",
                    help="print the JSON report to stdout (with -o x.json: only write it)")
    pr.add_argument("--bars", metavar="FIRST-LAST",
                    help="assess only these bars, e.g. 9-16 (the score as written, repeats not expanded)")
    pr.add_argument("--part", metavar="NAME",
                    help="the part of the score to judge, by name (default: the piano part of a score with "
                         "other instruments, else all)")
    pr.add_argument("--transcriber", choices=("basic-pitch", "transkun"), default="basic-pitch",
                    help="for a recording: basic-pitch (fast, about 30x real time; default) or transkun "
                         "(a piano model: more accurate, about 1.2x real time)")
    pr.add_argument("--force", action="store_true", help="overwrite an existing report")
    pr.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    pr.set_defaults(func=_cmd_practice)

    st = sub.add_parser("stages", help="list the pipeline stages and their parameters")
    st.set_defaults(func=_cmd_stages)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``yuefu`` command; returns the exit code (0 success, 2 user error)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help()
            return EXIT_USER_ERROR
        return int(args.func(args))
    except SystemExit as e:  # --help and --version
        return int(e.code or 0)
    except _UsageError as e:
        print(f"yuefu: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except YuefuError as e:
        print(f"yuefu: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (PermissionError, IsADirectoryError, NotADirectoryError) as e:
        print(f"yuefu: error: {e.strerror}: {e.filename}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as e:
        if e.errno is not None and e.strerror:
            where = f": {e.filename}" if e.filename else ""
            print(f"yuefu: error: {e.strerror}{where}", file=sys.stderr)
            return EXIT_USER_ERROR
        raise
    except KeyboardInterrupt:
        print("yuefu: interrupted; no partial outputs were kept", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
