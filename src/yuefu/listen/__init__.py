"""Audio understanding: ``identify`` (song identification); separation, rhythm and transcription
live beside it as they arrive.

Each capability is a subpackage with its own public API (``yuefu.listen.identify``); importing
this package loads none of them.
"""

from __future__ import annotations

__all__: list[str] = []
