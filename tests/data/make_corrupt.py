"""Regenerate tests/data/corrupt/: broken inputs that every loader must refuse with a clear error.

Run: .venv/bin/python tests/data/make_corrupt.py
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile as sf

from yuefu.core.io.midi import midi_bytes
from yuefu.core.score import Note, Score, Track

HERE = Path(__file__).parent / "corrupt"


def main() -> None:
    HERE.mkdir(exist_ok=True)
    s = Score()
    t = s.add_track(Track("piano"))
    t.notes += [Note(60 + i, i * 0.5, 0.5) for i in range(24)]
    good_mid = midi_bytes(s)
    (HERE / "truncated.mid").write_bytes(good_mid[: len(good_mid) // 2])
    (HERE / "empty.mid").write_bytes(b"")
    (HERE / "text.mid").write_text("This is a text file, not a MIDI file.\n")
    (HERE / "bad_header.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x05" + b"\xff" * 40)

    (HERE / "empty.wav").write_bytes(b"")
    nan = np.full((4410, 2), np.nan, dtype=np.float32)
    sf.write(HERE / "nan.wav", nan, 44100, subtype="FLOAT")
    inf = np.zeros((4410, 1), dtype=np.float32)
    inf[100] = np.inf
    sf.write(HERE / "inf.wav", inf, 44100, subtype="FLOAT")
    # a RIFF header that promises data which is not there
    (HERE / "truncated_header.wav").write_bytes(b"RIFF" + struct.pack("<I", 36 + 1000) + b"WAVEfmt ")
    rng = np.random.default_rng(0)
    (HERE / "noise_bytes.wav").write_bytes(rng.integers(0, 256, 2048, dtype=np.uint8).tobytes())
    (HERE / "text.mp3").write_text("not an mp3\n")
    (HERE / "text.flac").write_text("not a flac\n")

    (HERE / "broken.musicxml").write_text(
        '<?xml version="1.0"?>\n<score-partwise version="4.0"><part-list><score-part id="P1">'
        "<part-name>x</part-name></score-part></part-list><part id=\"P1\"><measure number=\"1\">"
        "<note><pitch><step>C</step>\n"
    )
    (HERE / "empty.musicxml").write_bytes(b"")
    (HERE / "not_musicxml.xml").write_text('<?xml version="1.0"?>\n<html><body>hi</body></html>\n')
    (HERE / "binary.lrc").write_bytes(rng.integers(0, 256, 512, dtype=np.uint8).tobytes())
    (HERE / "no_timestamps.lrc").write_text("just some words\nwith no time tags\n")


if __name__ == "__main__":
    main()
