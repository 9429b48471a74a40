"""SongSpec: validation of a song request, its random streams and its TOML file."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pytest

from yuefu.core.errors import ParameterError
from yuefu.core.spec import (
    EMOTIONS,
    LANGUAGES,
    SPEC_VERSION,
    STYLES,
    VOICES,
    SongSpec,
)


def test_defaults_are_valid():
    s = SongSpec()
    assert s.emotion in EMOTIONS and s.style in STYLES
    assert s.language in LANGUAGES and s.voice in VOICES
    assert 10.0 <= s.length_s <= 600.0
    assert s.seed == 0


def test_spec_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SongSpec().seed = 3  # type: ignore[misc]


# -- theme ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["", " ", "   \t\n  ", "\u3000"])
def test_empty_or_whitespace_theme(theme):
    with pytest.raises(ParameterError, match="theme is empty"):
        SongSpec(theme=theme)


@pytest.mark.parametrize("theme", ["🎵🎶", "  🎵 🎶  ", "!!!", "123 456", "♪♪♪"])
def test_theme_without_words(theme):
    with pytest.raises(ParameterError, match="no words"):
        SongSpec(theme=theme)


def test_theme_too_long():
    with pytest.raises(ParameterError, match="10000 characters long; keep it to 200"):
        SongSpec(theme="a" * 10_000)
    with pytest.raises(ParameterError, match="201 characters"):
        SongSpec(theme="月" * 201)
    assert len(SongSpec(theme="月" * 200).theme) == 200


def test_theme_is_stripped_and_may_mix_scripts():
    assert SongSpec(theme="  夏夜的海边  ").theme == "夏夜的海边"
    assert SongSpec(theme="🎵 summer 🎶").theme == "🎵 summer 🎶"
    assert SongSpec(theme="月").theme == "月"


def test_theme_must_be_text():
    # regression: a non-text theme was reported as an empty one
    with pytest.raises(ParameterError, match="must be text, got int"):
        SongSpec(theme=5)  # type: ignore[arg-type]


# -- choices -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "valid"),
    [("emotion", EMOTIONS), ("style", STYLES), ("language", LANGUAGES), ("voice", VOICES)],
)
def test_unknown_choice_lists_the_valid_values(field, valid):
    with pytest.raises(ParameterError) as exc:
        SongSpec(**{field: "bogus"})
    msg = str(exc.value)
    assert f"unknown {field} 'bogus'" in msg
    for v in valid:
        assert v in msg


@pytest.mark.parametrize(
    ("field", "valid"),
    [("emotion", EMOTIONS), ("style", STYLES), ("language", LANGUAGES), ("voice", VOICES)],
)
def test_every_listed_choice_is_accepted(field, valid):
    for v in valid:
        assert getattr(SongSpec(**{field: v}), field) == v


def test_choices_are_case_sensitive():
    with pytest.raises(ParameterError, match="unknown emotion 'Happy'"):
        SongSpec(emotion="Happy")


# -- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("length_s", [10.0, 10, 600.0, 180.5])
def test_length_bounds_inclusive(length_s):
    s = SongSpec(length_s=length_s)
    assert s.length_s == pytest.approx(float(length_s), abs=0)
    assert isinstance(s.length_s, float)


@pytest.mark.parametrize("length_s", [9.999, 600.001, 0, -10, math.nan, math.inf])
def test_length_out_of_bounds(length_s):
    with pytest.raises(ParameterError, match="10..600 seconds"):
        SongSpec(length_s=length_s)


@pytest.mark.parametrize("length_s", ["100", "abc", None, True])
def test_length_must_be_a_number(length_s):
    # regression: "100" was stored as a string and "abc" escaped as a bare ValueError
    with pytest.raises(ParameterError, match="length_s must be a number"):
        SongSpec(length_s=length_s)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [0, 1, 2**32, 2**63 - 1])
def test_seed_bounds_inclusive(seed):
    assert SongSpec(seed=seed).seed == seed


@pytest.mark.parametrize("seed", [-1, 2**63, 1.5, 3.0, "7", True, None])
def test_seed_out_of_bounds_or_not_whole(seed):
    # 2**63 and above cannot be written as a TOML integer
    with pytest.raises(ParameterError, match="seed must be a whole number"):
        SongSpec(seed=seed)  # type: ignore[arg-type]


def test_numpy_integer_seed_is_accepted_as_int():
    # regression: a seed drawn with numpy was refused
    s = SongSpec(seed=np.int64(42))  # type: ignore[arg-type]
    assert s.seed == 42 and type(s.seed) is int


# -- random streams ------------------------------------------------------------------------------


def test_rng_is_deterministic():
    a = SongSpec(seed=7).rng().integers(0, 2**31, 20)
    b = SongSpec(seed=7, theme="something else").rng().integers(0, 2**31, 20)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(SongSpec(seed=7).rng(stream="melody").random(5),
                                  SongSpec(seed=7).rng(stream="melody").random(5))


def test_rng_streams_and_seeds_are_independent():
    draws = {}
    pairs = [(0, ""), (0, "melody"), (0, "lyrics"), (1, ""), (1, "melody"), (0, "\x00"),
             (0, "\x00\x00"), (1, "\x01"), (2**32 + 1, ""), (0, "月"), (0, "melodyx")]
    for seed, stream in pairs:
        draws[(seed, stream)] = tuple(SongSpec(seed=seed).rng(stream=stream).integers(0, 2**62, 4))
    # regression: "" and "\x00", and (2**32 + 1, "") and (1, "\x01") gave the same stream
    assert len(set(draws.values())) == len(pairs)


def test_rng_streams_are_uncorrelated():
    spec = SongSpec(seed=3)
    a = spec.rng(stream="melody").standard_normal(20_000)
    b = spec.rng(stream="harmony").standard_normal(20_000)
    # |r| of two independent N=20000 samples is below 4/sqrt(N) ~ 0.028 almost surely
    assert abs(float(np.corrcoef(a, b)[0, 1])) < 0.03


# -- files ---------------------------------------------------------------------------------------


def test_toml_round_trip(tmp_path):
    spec = SongSpec(theme="夏夜的海边 \"quoted\" \\ back", emotion="nostalgic", style="ballad",
                    language="zh", length_s=97.5, voice="male", seed=2**40 + 3)
    text = spec.dumps()
    assert f"version = {SPEC_VERSION}" in text
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    back = SongSpec.load(path)
    assert back == spec
    assert SongSpec.from_dict(spec.to_dict()) == spec


def test_toml_round_trip_defaults_and_integer_length(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('theme = "rain"\nlength_s = 120\n', encoding="utf-8")
    s = SongSpec.load(path)
    assert s == SongSpec(theme="rain", length_s=120.0)
    assert isinstance(s.length_s, float)


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('theme = "rain"\ntempo = 120\n', encoding="utf-8")
    with pytest.raises(ParameterError) as exc:
        SongSpec.load(path)
    msg = str(exc.value)
    assert "unknown key 'tempo'" in msg
    assert str(path) in msg
    assert "theme" in msg and "seed" in msg  # the valid keys are listed


def test_unknown_table_is_named(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('theme = "rain"\n[extra]\nx = 1\n', encoding="utf-8")
    with pytest.raises(ParameterError, match="unknown key 'extra'"):
        SongSpec.load(path)


@pytest.mark.parametrize("version", ["2", '"1"', "0"])
def test_wrong_version(tmp_path, version):
    path = tmp_path / "spec.toml"
    path.write_text(f'version = {version}\ntheme = "rain"\n', encoding="utf-8")
    with pytest.raises(ParameterError, match="spec version .* is not supported"):
        SongSpec.load(path)


def test_invalid_values_in_the_file_name_the_file(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('theme = "rain"\nemotion = "grumpy"\n', encoding="utf-8")
    with pytest.raises(ParameterError, match="unknown emotion 'grumpy'"):
        SongSpec.load(path)


def test_load_errors(tmp_path):
    with pytest.raises(ParameterError, match="no such spec file"):
        SongSpec.load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("theme = \n", encoding="utf-8")
    with pytest.raises(ParameterError, match="not a valid TOML spec"):
        SongSpec.load(bad)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ParameterError, match="not a valid TOML spec"):
        SongSpec.load(binary)
    # regression: a folder escaped as IsADirectoryError
    with pytest.raises(ParameterError, match="is a folder"):
        SongSpec.load(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_load_unreadable_file(tmp_path):
    p = tmp_path / "spec.toml"
    p.write_text('theme = "rain"\n', encoding="utf-8")
    p.chmod(0)
    try:
        with pytest.raises(ParameterError, match="cannot read the spec file"):
            SongSpec.load(p)
    finally:
        p.chmod(0o644)
