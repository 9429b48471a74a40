"""transcribe_piano on rendered piano: scales, chords, dynamics, MP3, and bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yuefu.core.audio import Audio
from yuefu.core.errors import AudioLoadError, ParameterError
from yuefu.core.io import read_audio, write_audio
from yuefu.core.score import Note, Score, Tempo, Track
from yuefu.listen.transcribe import (
    MIN_DURATION_S,
    NoNotesError,
    TranscribeSettings,
    transcribe_piano,
)

SR = 44100
C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


pytestmark = pytest.mark.fluidsynth


def render(notes: list[tuple[int, float, float, int]], tmp: Path, *, program: int = 0,
           tail_s: float = 1.0) -> Audio:
    """(pitch, onset s, duration s, velocity) rendered by FluidSynth as a mono Audio."""
    from yuefu.render import render_stems

    s = Score(tempos=[Tempo(0.0, 120.0)])
    t = s.add_track(Track("piano", program=program, role="other"))
    for p, on, dur, v in notes:
        t.notes.append(Note(p, on * 2.0, dur * 2.0, velocity=v))
    stems = render_stems(s, tmp, tail_s=tail_s, sr=SR, force=True)
    return read_audio(stems["piano"]).to_mono()


def seconds(score: Score) -> list[tuple[int, float, int]]:
    """(pitch, onset s, velocity) of the piano track."""
    return [(n.pitch, score.seconds(n)[0], n.velocity) for n in score.track("piano").notes]


@pytest.fixture(scope="module")
def scale_audio(tmp_path_factory: pytest.TempPathFactory) -> Audio:
    d = tmp_path_factory.mktemp("scale")
    return render([(p, 0.3 + 0.5 * i, 0.45, 80) for i, p in enumerate(C_MAJOR)], d)


def test_c_major_scale_transcribes_as_one(scale_audio: Audio) -> None:
    score = transcribe_piano(scale_audio)
    got = seconds(score)
    assert [p for p, _, _ in got] == C_MAJOR
    for i, (_, on, _) in enumerate(got):
        assert abs(on - (0.3 + 0.5 * i)) < 0.05, f"note {i}: onset {on:.3f} s, expected {0.3 + 0.5 * i} s"


def test_transcribe_keeps_candidates_and_posteriors(scale_audio: Audio) -> None:
    from yuefu.listen.transcribe import transcribe, transcribe_notes

    tr = transcribe(scale_audio)
    plain = transcribe_notes(scale_audio)
    assert [(n.pitch, n.onset) for n in tr.notes] == [(n.pitch, n.onset) for n in plain]
    assert len(tr.candidates) == len(tr.probability) >= len(tr.notes)
    assert tr.onset is not None and tr.note is not None and tr.onset.shape == tr.note.shape
    assert tr.onset.shape[1] == 88 and tr.onset.dtype == np.float16
    assert abs(tr.onset.shape[0] * tr.frame_s - scale_audio.duration_s) < 2 * tr.frame_s
    for i, p in enumerate(C_MAJOR):  # each struck key peaks in its onset posterior at its time
        g = int(round((0.3 + 0.5 * i) / tr.frame_s))
        assert tr.onset[g - 2:g + 3, p - 21].max() > 0.5
    rows = tr.rows(accepted_only=True)
    assert rows.shape == (len(C_MAJOR), 5) and rows[:, 0].tolist() == C_MAJOR
    assert transcribe(scale_audio, keep_posteriors=False).onset is None


def test_score_shape_and_beats(scale_audio: Audio) -> None:
    score = transcribe_piano(scale_audio)
    assert [t.name for t in score.tracks] == ["piano"]
    assert score.track("piano").program == 0
    assert [(t.beat, t.bpm) for t in score.tempos] == [(0.0, 120.0)]
    n = score.track("piano").notes[0]
    assert score.seconds(n)[0] == pytest.approx(n.onset / 2.0)  # beats = 2 x seconds
    assert all(0.0 < x.duration <= 2.0 for x in score.track("piano").notes)  # 0.45 s notes, < 1 s


def test_stereo_and_other_rates_give_the_same_notes(scale_audio: Audio) -> None:
    stereo48k = Audio(np.repeat(scale_audio.samples, 2, axis=0), SR).resample(48000)
    a = [(p, round(on, 2)) for p, on, _ in seconds(transcribe_piano(scale_audio))]
    b = [(p, round(on, 2)) for p, on, _ in seconds(transcribe_piano(stereo48k))]
    assert [p for p, _ in a] == [p for p, _ in b]
    assert np.allclose([o for _, o in a], [o for _, o in b], atol=0.02)


def test_mp3_file(scale_audio: Audio, tmp_path: Path) -> None:
    f = write_audio(scale_audio, tmp_path / "scale.mp3", bitrate_kbps=128)
    score = transcribe_piano(f)
    assert score.title == "scale"
    got = seconds(score)
    assert [p for p, _, _ in got] == C_MAJOR
    # MP3 encoders delay the audio by about a frame (~26 ms at 44.1 kHz): still within 50 ms
    assert all(abs(on - (0.3 + 0.5 * i)) < 0.05 for i, (_, on, _) in enumerate(got))


def test_chord_comes_out_as_a_chord(tmp_path: Path) -> None:
    chords = [(0.4, (60, 64, 67)), (1.4, (53, 57, 60, 65)), (2.4, (55, 59, 62, 67))]
    notes = [(p, on, 0.8, 85) for on, ch in chords for p in ch]
    got = seconds(transcribe_piano(render(notes, tmp_path)))
    for on, ch in chords:
        here = sorted(p for p, t, _ in got if abs(t - on) < 0.05)
        assert here == sorted(ch), f"chord at {on} s: got {here}, expected {sorted(ch)}"
    assert len(got) == sum(len(ch) for _, ch in chords)


def test_forte_is_louder_than_piano(tmp_path: Path) -> None:
    pitches = [48, 55, 60, 64, 67, 72, 76]
    notes = []
    for i, p in enumerate(pitches):
        notes.append((p, 0.3 + 1.2 * i, 0.5, 35))   # piano
        notes.append((p, 0.9 + 1.2 * i, 0.5, 115))  # forte
    got = seconds(transcribe_piano(render(notes, tmp_path)))
    for i, p in enumerate(pitches):
        soft = [v for q, t, v in got if q == p and abs(t - (0.3 + 1.2 * i)) < 0.05]
        loud = [v for q, t, v in got if q == p and abs(t - (0.9 + 1.2 * i)) < 0.05]
        assert len(soft) == 1 and len(loud) == 1, f"pitch {p}: {got}"
        assert loud[0] > soft[0] + 10, f"pitch {p}: forte velocity {loud[0]} vs piano {soft[0]}"


def test_electric_piano(tmp_path: Path) -> None:
    notes = [(p, 0.3 + 0.5 * i, 0.45, 90) for i, p in enumerate(C_MAJOR)]
    got = seconds(transcribe_piano(render(notes, tmp_path, program=4)))
    assert [p for p, _, _ in got] == C_MAJOR


# -- bad input ---------------------------------------------------------------------------------


def test_silence_says_no_notes_heard() -> None:
    with pytest.raises(NoNotesError, match="no notes heard.*silent"):
        transcribe_piano(Audio(np.zeros(3 * SR, dtype=np.float32), SR))


def test_noise_without_notes_says_no_notes_heard(rng: np.random.Generator) -> None:
    hum = 0.05 * np.sin(2 * np.pi * 50 * np.arange(3 * SR) / SR)
    x = (hum + 0.01 * rng.standard_normal(3 * SR)).astype(np.float32)
    with pytest.raises(NoNotesError, match="no notes heard"):
        transcribe_piano(Audio(x, SR))


def test_too_short_is_refused() -> None:
    with pytest.raises(ParameterError, match=f"at least {MIN_DURATION_S}"):
        transcribe_piano(Audio(np.zeros(int(0.2 * SR), dtype=np.float32), SR))


def test_not_audio_is_an_audio_load_error(tmp_path: Path) -> None:
    f = tmp_path / "notes.wav"
    f.write_text("this is not a recording")
    with pytest.raises(AudioLoadError, match="notes.wav"):
        transcribe_piano(f)
    with pytest.raises(AudioLoadError):
        transcribe_piano(tmp_path / "missing.mp3")


def test_wrong_source_type_and_nan() -> None:
    with pytest.raises(ParameterError, match="path to an audio file or a yuefu.core.Audio"):
        transcribe_piano(np.zeros(SR))  # type: ignore[arg-type]
    x = np.zeros(SR, dtype=np.float32)
    x[10] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        transcribe_piano(Audio(x, SR))


def test_settings_are_checked() -> None:
    with pytest.raises(ParameterError, match="onset_threshold"):
        TranscribeSettings(onset_threshold=1.5)
    with pytest.raises(ParameterError, match="unknown transcription setting.*bogus"):
        TranscribeSettings.from_dict({"bogus": 1})
    s = TranscribeSettings(merge_s=0.1)
    assert TranscribeSettings.from_dict(s.to_dict()) == s


def test_import_is_quiet_and_lazy() -> None:
    code = (
        "import sys, yuefu, yuefu.listen, yuefu.listen.transcribe;"
        "print(sorted(m for m in ('onnxruntime', 'basic_pitch', 'scipy.signal') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
    assert r.stderr == ""
