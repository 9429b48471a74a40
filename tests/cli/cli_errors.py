"""What every CLI test asks of a user error: one line on stderr, no traceback."""

from __future__ import annotations

from typing import Any


def one_line_error(capsys: Any) -> str:
    """The single ``yuefu: error: ...`` line the last command printed on stderr."""
    err = capsys.readouterr().err.strip()
    assert err.startswith("yuefu: error: "), err
    assert "\n" not in err, f"expected one line, got: {err!r}"
    assert "Traceback" not in err
    return err
