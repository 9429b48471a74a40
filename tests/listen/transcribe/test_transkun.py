"""The accurate piano transcriber (Transkun 2.0): rendered piano, the practice partner's route,
and what happens when its package is missing or is not the expected one."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from yuefu.core.audio import Audio
from yuefu.core.errors import MissingDependencyError, ModelLoadError, ParameterError
from yuefu.core.io import write_audio, write_midi
from yuefu.core.score import Note, Score, Tempo, Track
from yuefu.listen.transcribe import NoNotesError
from yuefu.listen.transcribe import transkun as tk

pytestmark = [
    pytest.mark.fluidsynth,
    pytest.mark.skipif(not tk.available(), reason="transkun is not installed (make setup installs it)"),
]

SR = 44100
#: (pitch, onset s, duration s, velocity): a phrase with a chord, a soft note and a repeated key.
PHRASE = [(60, 0.3, 0.4, 80), (64, 0.8, 0.4, 80), (67, 1.3, 0.4, 80), (48, 1.8, 0.9, 70), (55, 1.8, 0.9, 70),
          (64, 1.8, 0.9, 70), (72, 2.8, 0.3, 40), (72, 3.2, 0.3, 90), (71, 3.6, 0.6, 80)]


def _score(notes: list[tuple[int, float, float, int]]) -> Score:
    s = Score(tempos=[Tempo(0.0, 120.0)])
    t = s.add_track(Track("piano", program=0, role="other"))
    for p, on, dur, v in notes:
        t.notes.append(Note(p, on * 2.0, dur * 2.0, velocity=v))
    return s


@pytest.fixture(scope="module")
def phrase_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from yuefu.render import render_stems

    d = tmp_path_factory.mktemp("tk")
    stems = render_stems(_score(PHRASE), d / "stems", tail_s=0.8, sr=SR, force=True)
    return Path(stems["piano"])


def test_the_filter_bank_stand_in_equals_the_checkpoints() -> None:
    torch = pytest.importorskip("torch")
    ck = torch.load(str(tk.weights_file()), map_location="cpu", weights_only=False)
    trained = ck["state_dict"]["framewiseFeatureExtractor.freq2mels"].numpy()
    ours = tk._mel_filters(2049, 30, 8000, 229, 44100).numpy()
    assert ours.shape == trained.shape
    assert np.max(np.abs(ours - trained)) < 1e-4


def test_a_rendered_phrase_is_transcribed_note_for_note(phrase_wav: Path) -> None:
    seen: list[float] = []
    r = tk.transcribe_transkun(phrase_wav, progress=lambda f, _msg: seen.append(f))
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)  # one report a segment
    assert "transcribeFrames" not in vars(tk._model())  # the cached model's own method again
    got = [(p, a) for p, a, _, _ in r.notes]
    assert len(got) == len(PHRASE), got
    for wp, wa, _, _ in PHRASE:  # every written note heard once, at its key, within 50 ms
        assert sum(1 for p, a in got if p == wp and abs(a - wa) < 0.05) == 1, (wp, wa, got)
    vel = {round(a, 1): v for _, a, _, v in r.notes}
    assert vel[2.8] < vel[3.2] - 15  # the soft repeated key is heard softer than its repeat
    assert r.duration_s == pytest.approx(4.2 + 0.8, abs=0.2)
    # the model was built without a torchaudio of ours left behind for anything else to import
    if importlib.util.find_spec("torchaudio") is None:
        assert "torchaudio" not in sys.modules


def test_resampled_audio_in_memory_gives_the_same_notes(phrase_wav: Path) -> None:
    from yuefu.core.io import read_audio

    a = read_audio(phrase_wav)
    from scipy.signal import resample_poly

    at48 = Audio(resample_poly(a.samples, 160, 147, axis=1).astype(np.float32), 48000)
    got = [(p, round(on, 1)) for p, on, _, _ in tk.transcribe_transkun(at48).notes]
    assert got == [(p, round(on, 1)) for p, on, _, _ in tk.transcribe_transkun(phrase_wav).notes]


def test_the_practice_partner_reads_a_recording_with_it(phrase_wav: Path, tmp_path: Path) -> None:
    from yuefu.teach import AssessConfig, assess, load_performance

    perf = load_performance(phrase_wav, transcriber="transkun")
    assert perf.transcribed and perf.candidates is None and len(perf) == len(PHRASE)
    res = assess(_score(PHRASE), phrase_wav, config=AssessConfig(transcriber="transkun"))
    assert res.summary()["correct"] == len(PHRASE)
    # the command line: --transcriber transkun, and a choice it does not know is a usage error
    mid = tmp_path / "score.mid"
    write_midi(_score(PHRASE), mid)
    cmd = [sys.executable, "-m", "yuefu", "practice", str(mid), str(phrase_wav), "--json"]
    out = subprocess.run([*cmd, "--transcriber", "transkun"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["summary"]["correct"] == len(PHRASE)
    bad = subprocess.run([*cmd, "--transcriber", "whisper"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


def test_silence_and_bad_settings_are_refused(tmp_path: Path) -> None:
    from yuefu.teach import AssessConfig, load_performance

    quiet = tmp_path / "quiet.wav"
    write_audio(Audio(np.zeros((1, SR * 2), np.float32), SR), quiet)
    with pytest.raises(NoNotesError, match="silent"):
        load_performance(quiet, transcriber="transkun")
    with pytest.raises(ParameterError, match="unknown transcriber"):
        load_performance(quiet, transcriber="whisper")
    with pytest.raises(ParameterError, match="unknown transcriber"):
        AssessConfig(transcriber="whisper")
    with pytest.raises(ParameterError, match="threads"):
        tk.transcribe_transkun(quiet, threads=0)
    short = tmp_path / "short.wav"
    write_audio(Audio(np.zeros((1, SR // 20), np.float32), SR), short)
    with pytest.raises(ParameterError, match="0.05 s"):
        tk.transcribe_transkun(short)


def test_a_missing_or_foreign_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "transkun" else real(name, *a))
    tk.weights_file.cache_clear()
    try:
        with pytest.raises(MissingDependencyError, match="pip install --no-deps transkun==2.0.1"):
            tk.weights_file()
        assert not tk.available()
    finally:
        monkeypatch.undo()
        tk.weights_file.cache_clear()
    monkeypatch.setattr(tk, "MODEL_SHA256", "0" * 64)
    try:
        with pytest.raises(ModelLoadError, match="is not transkun 2.0.1's checkpoint"):
            tk.weights_file()
    finally:
        monkeypatch.undo()
        tk.weights_file.cache_clear()
