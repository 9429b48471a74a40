"""The learned score-informed judge of a transcription's candidates (issue 7, audio)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import (
    bass_melody_rows,
    bass_melody_score,
    painted_transcription,
    render_take,
    transcriber_missing,
    two_bar_piece,
)
from yuefu.teach import AssessConfig, assess
from yuefu.teach.evidence import EvidenceConfig
from yuefu.teach.rescore import FEATURES, RescoreModel, candidate_features, load_rescore_model

Row = tuple[int, float, float, int]
ROOT = Path(__file__).resolve().parents[2]


OFF = AssessConfig(evidence=EvidenceConfig(rescore=False))


@pytest.mark.fluidsynth
@pytest.mark.skipif(transcriber_missing() is not None, reason=f"transcriber: {transcriber_missing()}")
def test_a_hand_an_octave_low_is_a_wrong_note_though_its_partial_lights_the_written_key(
        tmp_path: Path) -> None:
    score = two_bar_piece()
    spb = 0.6
    rows: list[Row] = sorted(((n.pitch, n.onset * spb, (n.onset + n.duration) * spb - 0.02, n.velocity)
                              for t in score.tracks for n in t.notes), key=lambda r: (r[1], r[0]))
    melody = [i for i, r in enumerate(rows) if r[0] >= 71]
    written = []
    for j in melody[1::4]:  # four melody notes struck an octave low
        p, a, b, v = rows[j]
        rows[j] = (p - 12, a, b, v)
        written.append((p, round(a / spb, 3)))
    take = render_take(sorted(rows, key=lambda r: (r[1], r[0])), tmp_path)
    got = assess(score, take)
    wrong = sorted((n.pitch, n.onset_beat, n.played_pitch) for n in got.notes if n.verdict == "wrong_pitch")
    assert wrong == sorted((p, b, p - 12) for p, b in written), got.summary()
    s = got.summary()
    assert (s["missed"], s["extra"]) == (0, 0), s
    # the transcriber hears the low note's second partial on the written key, and the rules alone
    # (the verifier knows nothing of the score) take it for the written note
    old = assess(score, take, config=OFF)
    assert old.summary()["wrong_pitch"] < 4, old.summary()


def test_features_describe_the_score_around_a_candidate() -> None:
    from yuefu.teach.align import align
    from yuefu.teach.reference import build_reference
    from yuefu.teach.verdict import judge

    rows = bass_melody_rows()
    partial: Row = (60, 1.0, 1.3, 40)  # an octave above the bass C3 of beat 3
    perf = painted_transcription([(r, 0.97) for r in rows] + [(partial, 0.3)])
    ref = build_reference(bass_melody_score())
    f = candidate_features(ref, perf, judge(ref, perf, align(ref, perf)))
    col = {name: i for i, name in enumerate(FEATURES)}
    c = perf.candidates
    at = int(np.flatnonzero((c.pitch == 60) & (np.abs(c.onset_s - 1.0) < 1e-6))[0])
    bass = int(np.flatnonzero((c.pitch == 48) & (np.abs(c.onset_s - 1.0) < 1e-6))[0])
    assert f[at, col["written_s"]] == 1.0  # no C4 is written anywhere
    assert f[at, col["written_partial_s"]] < 0.01  # the written C3 is expected right there
    assert f[at, col["played_partial"]] == pytest.approx(np.log(0.97 / 0.03), abs=1e-3)
    assert f[at, col["stray_partial"]] == -6.0  # the C3 is where the score expects it
    assert f[bass, col["written_s"]] < 0.01 and f[bass, col["verifier_logit"]] > 3
    assert f.shape == (len(c), len(FEATURES)) and np.all(np.isfinite(f))


def test_the_tree_model_round_trips_through_json() -> None:
    # one stump: feature 0 at most 0.5 -> -2, else +1; and a second tree on feature 1
    stump = (np.array([0, -1, -1]), np.array([0.5, 0, 0]), np.array([1, 0, 0]), np.array([2, 0, 0]),
             np.array([0.0, -2.0, 1.0]))
    other = (np.array([1, -1, -1]), np.array([0.0, 0, 0]), np.array([1, 0, 0]), np.array([2, 0, 0]),
             np.array([0.0, 0.5, -0.5]))
    m = RescoreModel(("a", "b"), 0.25, (stump, other))
    x = np.array([[0.0, -1.0], [1.0, -1.0], [1.0, 1.0]])
    z = np.array([0.25 - 2 + 0.5, 0.25 + 1 + 0.5, 0.25 + 1 - 0.5])
    assert np.allclose(m.predict(x), 1 / (1 + np.exp(-z)))
    assert np.allclose(RescoreModel.from_json(m.to_json()).predict(x), m.predict(x))
    with pytest.raises(ValueError):
        RescoreModel.from_json('{"format": "other"}')


def test_the_shipped_model_is_registered_and_reads_the_features_the_code_computes() -> None:
    from yuefu.models import verified_path

    verified_path("practice_rescore")
    m = load_rescore_model()
    assert m.features == FEATURES and 0 < m.threshold < 1 and len(m.trees) >= 10
    q = m.predict(np.zeros((3, len(FEATURES))))
    assert np.all((q >= 0) & (q <= 1))


def test_exported_trees_predict_what_scikit_learn_does() -> None:
    sklearn = pytest.importorskip("sklearn.ensemble", reason="scikit-learn (extra dev) trains the model")
    sys.path.insert(0, str(ROOT / "train"))
    try:
        from practice_rescore import export
    finally:
        sys.path.remove(str(ROOT / "train"))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, len(FEATURES)))
    y = (x[:, 0] + 0.5 * x[:, 5] * x[:, 1] + rng.normal(0, 0.3, 600) > 0).astype(int)
    clf = sklearn.HistGradientBoostingClassifier(max_iter=20, max_leaf_nodes=7, random_state=0).fit(x, y)
    xt = rng.normal(size=(200, len(FEATURES)))
    assert np.allclose(export(clf, 0.5).predict(xt), clf.predict_proba(xt)[:, 1], atol=1e-9)
