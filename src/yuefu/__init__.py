"""yuefu (乐府): an open AI music studio.

It writes songs from a theme, renders, mixes and masters them, and listens to music, offline on
a laptop CPU. ``import yuefu`` is cheap: the capabilities load their heavy dependencies when used.

>>> import yuefu
>>> yuefu.__version__ >= "0.1"
True
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
