"""The practice partner's own user errors, in the :class:`yuefu.core.errors.YuefuError` family.

The CLI and the API show them as one line (exit code 2), like every other ``YuefuError``.
"""

from __future__ import annotations

from yuefu.core.errors import YuefuError

__all__ = ["PerformanceError", "DifferentPieceError"]


class PerformanceError(YuefuError):
    """A performance cannot be assessed: it holds no notes (silence) or cannot be read."""


class DifferentPieceError(PerformanceError):
    """The performance does not follow the score: most likely a different piece was played."""
