"""The machine line every benchmark prints: CPU model, cores, Python, then what each adds."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, or what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(*extras: str) -> str:
    """``"<cpu>, <n> cores, Python <v>, <extras>..."``."""
    return ", ".join([cpu_name(), f"{os.cpu_count()} cores", f"Python {platform.python_version()}",
                      *extras])
