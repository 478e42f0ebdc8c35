"""Keyword clouds of complaints as PNG, for the wall screen and printed reports.

``render_cloud(weights, rising)`` draws words sized by weight with the ``wordcloud`` package:
rising topics in violet (not an alarm colour), steady ones in cool tones, a small legend (上升 / 平稳) and an
optional title. Words go in as frequencies, never as raw text, so wordcloud's own tokenizer
(made for spaces between words) never cuts a Chinese phrase apart.

The font must have every character drawn: :func:`find_cjk_font` picks one and checks its
character map with fontTools, and a missing font or glyph is a :class:`FontError` saying how
to fix it, never a picture of empty boxes. In a .ttc collection (Noto CJK) the Simplified
Chinese face is used: the collection's first face is the Japanese one, whose 色, 价, 直, 关 …
are drawn the Japanese way.

The layout is deterministic (fixed random state), so the same input gives the same PNG bytes;
renders are cached in memory and, with ``cache_dir``, on disk, so a wall refresh with
unchanged data does not redraw (see :func:`cache_info`).

Sizes, colours and the font are set in ``config/nlp/cloud.yaml``.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

CONFIG_FILE = Path(__file__).resolve().parent.parent / "config" / "nlp" / "cloud.yaml"
FONT_ENV = "CLOUD_FONT"

# Tried in this order after the configured font and fontconfig's choice (Debian paths).
KNOWN_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",      # fonts-noto-cjk
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",   # fonts-noto-cjk
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",           # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",             # fonts-wqy-zenhei
)
# fontconfig knows zh-cn, not zh: `fc-match :lang=zh` answers DejaVu Sans, which has no Chinese.
FC_MATCH_PATTERN = "sans-serif:lang=zh-cn:weight=bold"
FONT_FIX = ("install Debian's fonts-noto-cjk (make setup does) or set font_path in "
            "config/nlp/cloud.yaml / CLOUD_FONT")
PROBE_CHARS = "投诉"          # a font without these is not a Chinese font at all
LEGEND = ("上升", "平稳")
RENDER_VERSION = 2            # bump when the drawing changes, so old on-disk renders are not reused


class CloudError(ValueError):
    """The cloud cannot be drawn; the message says why."""


class FontError(CloudError):
    """No usable font with the characters to draw; the message says how to get one."""


# -- configuration ---------------------------------------------------------------------------

@lru_cache(maxsize=4)
def load_config(path: str | Path = CONFIG_FILE) -> dict[str, Any]:
    """``config/nlp/cloud.yaml``, read once per process (and checked)."""
    from PIL import ImageColor

    from config import read_yaml

    cfg = read_yaml(path, "cloud settings", CloudError)
    for key in ("sizes", "themes", "max_words", "random_state"):
        if key not in cfg:
            raise CloudError(f"{path}: setting {key!r} is missing")
    for name, theme in cfg["themes"].items():
        for key in ("background", "rising", "steady", "text"):
            values = theme.get(key)
            for colour in values if isinstance(values, list) else [values]:
                try:
                    ImageColor.getrgb(str(colour))
                except ValueError:
                    raise CloudError(f"{path}: themes.{name}.{key}: {colour!r} is not a colour") from None
    for name, preset in cfg["sizes"].items():
        if preset.get("theme") not in cfg["themes"]:
            raise CloudError(f"{path}: sizes.{name}.theme: {preset.get('theme')!r} is not one of the themes")
    return cfg


def size_names() -> list[str]:
    return list(load_config()["sizes"])


@dataclass(frozen=True)
class _Preset:
    name: str
    width: int            # of the PNG
    height: int
    layout_width: int     # wordcloud lays words out here, then draws `scale` times larger
    layout_height: int
    scale: int
    min_font_size: int
    max_font_size: int
    border: int           # layout pixels kept free along the edges
    theme: tuple[tuple[str, Any], ...]

    @property
    def colours(self) -> dict[str, Any]:
        return dict(self.theme)


def _preset(size: str | tuple[int, int]) -> _Preset:
    cfg = load_config()
    themes = cfg["themes"]

    def frozen(theme: dict) -> tuple:
        return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in theme.items()))

    if isinstance(size, str):
        if size not in cfg["sizes"]:
            raise CloudError(f"size {size!r}: choose one of {', '.join(cfg['sizes'])} or give (width, height)")
        p = cfg["sizes"][size]
        lw, lh, s = int(p["layout_width"]), int(p["layout_height"]), int(p["scale"])
        return _Preset(size, lw * s, lh * s, lw, lh, s, int(p["min_font_size"]), int(p["max_font_size"]),
                       int(p.get("border", 24)), frozen(themes[p["theme"]]))
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise CloudError(f"size {size!r}: give a name ({', '.join(cfg['sizes'])}) or (width, height)") from None
    if not (100 <= w <= 10000 and 100 <= h <= 10000):
        raise CloudError(f"size {w}x{h}: width and height must be 100 to 10000 pixels")
    # Large canvases are laid out at half size (wordcloud slows with area), like wall4k.
    s = 1 if w * h <= 2_400_000 else 2
    lw, lh = math.ceil(w / s), math.ceil(h / s)
    wall = {"min_font_size": 22, "max_font_size": 230, "border": 24, "layout_height": 1080,
            **cfg["sizes"].get("wall", {})}
    k = min(lw, lh * 16 / 9) / (wall["layout_height"] * 16 / 9)
    return _Preset(f"{w}x{h}", w, h, lw, lh, s, max(10, round(wall["min_font_size"] * k)),
                   max(20, round(wall["max_font_size"] * k)), round(wall["border"] * k), frozen(themes["dark"]))


# -- fonts -----------------------------------------------------------------------------------

def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=32)
def _face_index_cached(path: str, stamp: tuple[int, int]) -> int:
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(path, lazy=True) as coll:
        names = [(f["name"].getDebugName(16) or f["name"].getDebugName(1) or "") for f in coll.fonts]
    for want in (lambda n: "SC" in n.split() and "Mono" not in n,   # Noto Sans CJK SC
                 lambda n: "SC" in n.split() or "GB" in n.split()):
        for i, n in enumerate(names):
            if want(n):
                return i
    return 0


def face_index(font_path: str) -> int:
    """Which face of the font file is drawn: the Simplified Chinese one in a .ttc, else 0."""
    try:
        return _face_index_cached(str(font_path), _stamp(str(font_path)))
    except Exception as e:  # fontTools raises a variety of errors on a broken file
        raise FontError(f"cannot read font {font_path}: {e}; {FONT_FIX}") from None


@lru_cache(maxsize=32)
def _codepoints(path: str, index: int, stamp: tuple[int, int]) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=index, lazy=True) as f:
        return frozenset(f.getBestCmap() or {})


def uncovered_chars(font_path: str, text: str) -> set[str]:
    """Characters of ``text`` (spaces aside) the font's drawn face has no glyph for."""
    path = str(font_path)
    index = face_index(path)
    try:
        have = _codepoints(path, index, _stamp(path))
    except Exception as e:
        raise FontError(f"cannot read font {path}: {e}; {FONT_FIX}") from None
    return {c for c in set(text) if not c.isspace() and ord(c) not in have}


@lru_cache(maxsize=1)
def _fc_match() -> str | None:
    """fontconfig's font for Simplified Chinese, or None (no fontconfig, or it failed)."""
    exe = shutil.which("fc-match")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "-f", "%{file}", FC_MATCH_PATTERN], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def find_cjk_font(preferred: str | None = None, *, require: str = "") -> str:
    """Path of a font with Chinese glyphs that covers ``require`` too.

    Tried in order: ``preferred``, $CLOUD_FONT, ``font_path`` in config/nlp/cloud.yaml,
    fontconfig's choice (fc-match), then Debian's font files (:data:`KNOWN_FONTS`). A named
    font that is missing or lacks glyphs is skipped with a warning. Raises :class:`FontError`.
    """
    named = [(preferred, "font_path argument"), (os.environ.get(FONT_ENV), f"${FONT_ENV}"),
             (load_config().get("font_path"), "font_path in config/nlp/cloud.yaml")]
    need = PROBE_CHARS + require
    skipped: list[str] = []
    lacking: dict[str, set[str]] = {}     # Chinese fonts that lack some of `require`

    def usable(path: str, origin: str | None) -> bool:
        if not os.path.isfile(path):
            if origin:
                skipped.append(f"{path} ({origin}): no such file")
            return False
        try:
            missing = uncovered_chars(path, need)
        except FontError as e:
            if origin:
                skipped.append(f"{path} ({origin}): {str(e).split(';')[0]}")
            return False
        if missing:
            if not missing & set(PROBE_CHARS):
                lacking[path] = missing
            if origin:
                skipped.append(f"{path} ({origin}): no glyph for {_quote(missing)}")
            return False
        return True

    seen: set[str] = set()
    found = None
    for path, origin in named:
        if path and str(path) not in seen:
            seen.add(str(path))
            if usable(str(path), origin):
                found = str(path)
                break
    if found is None:
        for path in (_fc_match(), *KNOWN_FONTS):
            if path and path not in seen:
                seen.add(path)
                if usable(path, None):
                    found = path
                    break
    if found:
        for s in skipped:
            _warn_once(f"font {s}; using {found}")
        return found
    tried = f" (skipped {'; '.join(skipped)})" if skipped else ""
    if lacking:
        best = min(lacking.values(), key=len)   # what the most complete font still lacks
        raise FontError(f"no font has glyphs for {_quote(best)}{tried}: set font_path in "
                        f"config/nlp/cloud.yaml / CLOUD_FONT to a font that has them, or drop those words")
    raise FontError(f"no CJK font found{tried}: {FONT_FIX}")


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    """Log a warning once per process (a wall refresh must not repeat it every minute)."""
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


def _quote(chars: Collection[str]) -> str:
    return "".join(f"「{c}」(U+{ord(c):04X})" for c in sorted(chars))


class _FaceAwareImageFont:
    """Stands in for PIL.ImageFont inside wordcloud, which always opens face 0 of a font file.

    Fonts registered in ``faces`` (path -> face index) open at that face; everything else
    passes through unchanged.
    """

    def __init__(self, image_font: Any):
        self._image_font = image_font
        self.faces: dict[str, int] = {}

    def truetype(self, font: Any = None, size: float = 10, index: int = 0, *args: Any, **kwargs: Any):
        if index == 0 and isinstance(font, str):
            index = self.faces.get(font, 0)
        return self._image_font.truetype(font, size, index, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._image_font, name)


_install_lock = threading.Lock()


def _use_face(font_path: str, index: int) -> None:
    import wordcloud.wordcloud as wcmod

    with _install_lock:
        if not isinstance(wcmod.ImageFont, _FaceAwareImageFont):
            wcmod.ImageFont = _FaceAwareImageFont(wcmod.ImageFont)
        wcmod.ImageFont.faces[font_path] = index


# -- cache -----------------------------------------------------------------------------------

class CacheInfo(NamedTuple):
    hits: int         # answered from memory
    disk_hits: int    # answered from cache_dir
    renders: int      # drawn
    currsize: int
    maxsize: int


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.hits = self.disk_hits = self.renders = 0

    @property
    def maxsize(self) -> int:
        return max(0, int(load_config().get("memory_cache", 32)))

    def get(self, key: str) -> bytes | None:
        with self.lock:
            png = self.items.get(key)
            if png is not None:
                self.items.move_to_end(key)
                self.hits += 1
            return png

    def put(self, key: str, png: bytes) -> None:
        with self.lock:
            self.items[key] = png
            self.items.move_to_end(key)
            while len(self.items) > self.maxsize:
                self.items.popitem(last=False)


_cache = _Cache()


def cache_info() -> CacheInfo:
    """Counts since the last :func:`cache_clear`: memory hits, disk hits, renders."""
    with _cache.lock:
        return CacheInfo(_cache.hits, _cache.disk_hits, _cache.renders, len(_cache.items), _cache.maxsize)


def cache_clear() -> None:
    """Forget the in-memory renders and zero the counters (the disk cache stays)."""
    with _cache.lock:
        _cache.items.clear()
        _cache.hits = _cache.disk_hits = _cache.renders = 0


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _disk_get(cache_dir: Path, key: str) -> bytes | None:
    path = cache_dir / f"{key}.png"
    try:
        png = path.read_bytes()
        os.utime(path)                    # recently used: pruned last
    except OSError:
        return None
    return png if png.startswith(PNG_MAGIC) else None


def _disk_put(cache_dir: Path, key: str, png: bytes, keep: int) -> None:
    """Write atomically, then prune the least recently used files beyond ``keep``."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_bytes(png)
        os.replace(tmp, cache_dir / f"{key}.png")
    except OSError as e:
        log.warning("cloud not cached in %s: %s", cache_dir, e)
        return
    try:
        files = sorted(cache_dir.glob("*.png"), key=lambda f: f.stat().st_mtime_ns, reverse=True)
        for old in files[max(1, keep):]:
            old.unlink(missing_ok=True)
    except OSError:
        pass                              # another process pruned at the same time


# -- rendering -------------------------------------------------------------------------------

def _normalise(weights: Mapping[str, float], max_words: int) -> dict[str, float]:
    """Top words by weight, scaled so the heaviest is 1 and rounded (the picture depends only
    on these, and so does the cache key)."""
    merged: dict[str, float] = {}
    for word, value in weights.items():
        w = str(word).strip()
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise CloudError(f"weight of {w!r} is {value!r}, not a number") from None
        if w and math.isfinite(v) and v > 0:
            merged[w] = merged.get(w, 0.0) + v
    if not merged:
        raise CloudError("nothing to draw: no word has a positive weight")
    top = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:max_words]
    vmax = top[0][1]
    return {w: max(round(v / vmax, 4), 0.0001) for w, v in top}


def render_cloud(weights: Mapping[str, float], rising: Collection[str] = (), *,
                 size: str | tuple[int, int] = "wall", font_path: str | None = None,
                 title: str | None = None, cache_dir: str | Path | None = None,
                 min_font_size: int | None = None) -> bytes:
    """PNG bytes of the keyword cloud: word size by weight, ``rising`` words in the rising colour.

    ``size``: "wall" (1920×1080, dark), "wall4k" (3840×2160, dark), "print" (3508×2480,
    A4 landscape at 300 dpi, white) or (width, height) in the wall style. ``font_path``:
    preferred font (see :func:`find_cjk_font`). ``cache_dir``: also keep renders there.
    ``min_font_size``: the smallest word in the PNG's pixels, instead of the preset's; for a PNG
    the browser shows scaled, choose it so that the word is still 18 px on the screen (the wall:
    ``dashboard.jobs.WALL_CLOUD_MIN_FONT``). Smaller words are left out, never drawn illegibly.
    Raises :class:`FontError` when no font has every character to draw, :class:`CloudError`
    when there is nothing to draw.
    """
    cfg = load_config()
    preset = _preset(size)
    if min_font_size is not None:
        lo = max(4, math.ceil(min_font_size / preset.scale))      # layout pixels
        preset = replace(preset, min_font_size=lo, max_font_size=max(preset.max_font_size, lo + 8))
    words = _normalise(weights, int(cfg["max_words"]))
    hot = sorted({str(r).strip() for r in rising} & set(words))
    title = (title or "").strip() or None
    legend = bool(cfg.get("legend", True))
    drawn_text = "".join(words) + (title or "") + ("".join(LEGEND) if legend else "")
    font = find_cjk_font(font_path, require=drawn_text)
    index = face_index(font)

    key = hashlib.sha256(json.dumps(
        {"v": RENDER_VERSION, "words": sorted(words.items()), "rising": hot, "size": preset.__dict__,
         "font": [os.path.realpath(font), index, *_stamp(font)], "title": title, "legend": legend,
         "random_state": cfg["random_state"], "max_words": cfg["max_words"],
         "wordcloud": _wordcloud_version()},
        ensure_ascii=False, sort_keys=True, default=list).encode()).hexdigest()[:32]

    png = _cache.get(key)
    if png is not None:
        return png
    disk = Path(cache_dir) if cache_dir is not None else None
    if disk is not None:
        png = _disk_get(disk, key)
        if png is not None:
            with _cache.lock:
                _cache.disk_hits += 1
            _cache.put(key, png)
            return png
    png = _draw(words, set(hot), preset, font, index, title, legend, int(cfg["random_state"]))
    with _cache.lock:
        _cache.renders += 1
    _cache.put(key, png)
    if disk is not None:
        _disk_put(disk, key, png, int(cfg.get("disk_cache", 200)))
    return png


@lru_cache(maxsize=1)
def _wordcloud_version() -> str:
    import wordcloud

    return getattr(wordcloud, "__version__", "?")


def _draw(words: dict[str, float], hot: set[str], p: _Preset, font: str, index: int,
          title: str | None, legend: bool, random_state: int) -> bytes:
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont
    from wordcloud import WordCloud

    colours = p.colours
    steady = list(colours["steady"])
    lw, lh, s = p.layout_width, p.layout_height, p.scale
    W, H = p.width, p.height
    u = min(lw, lh * 16 / 9) / 1920 * s      # output pixels per pixel of a 1920x1080 wall
    edge = p.border * s                       # output pixels kept free along the edges
    gap = round(12 * u)

    def ttf(px: float) -> Any:
        return ImageFont.truetype(font, max(1, round(px)), index=index)

    img = Image.new("RGB", (W, H), colours["background"])
    draw = ImageDraw.Draw(img)

    # Where the title and legend go (output pixels); the words leave these free.
    title_font = title_y = None
    if title:
        px = 50 * u
        while draw.textlength(title, font=ttf(px)) > W - 2 * edge and px > 12:
            px *= 0.9
        title_font = ttf(px)
        title_y = edge + px * 0.7               # middle of the title line
    top = round(title_y + px * 0.7 + gap) if title else edge
    legend_items = []
    if legend:
        lpx = max(30 * u, p.min_font_size * s)     # never smaller than the smallest word
        lf, sw = ttf(lpx), round(lpx * 26 / 30)
        x = W - edge
        for label, swatch in reversed(list(zip(LEGEND, (colours["rising"], steady[0])))):
            x -= draw.textlength(label, font=lf)
            legend_items.append((x - gap - sw, label, swatch))
            x -= gap + sw + 3 * gap
        legend_items.reverse()
        legend_cy = H - edge - 30 * u * 0.7
        legend_left, legend_top = x + 3 * gap - gap, legend_cy - 30 * u * 0.7 - gap

    # wordcloud mask, in layout pixels: 255 = no words here.
    mask = np.zeros((lh, lw), dtype=np.uint8)
    b = p.border
    if b:
        mask[:b, :] = mask[-b:, :] = mask[:, :b] = mask[:, -b:] = 255
    mask[:math.ceil(top / s), :] = 255
    if legend:
        mask[math.floor(legend_top / s):, math.floor(legend_left / s):] = 255

    rank = {w: i for i, w in enumerate(words)}

    def colour(word: str, **_: Any) -> str:
        return colours["rising"] if word in hot else steady[rank.get(word, 0) % len(steady)]

    _use_face(font, index)
    wc = WordCloud(font_path=font, mask=mask, scale=s, background_color=colours["background"], mode="RGB",
                   color_func=colour, random_state=random_state, prefer_horizontal=1.0,
                   max_words=len(words), min_font_size=p.min_font_size, max_font_size=p.max_font_size,
                   margin=max(2, round(12 * u / s)), relative_scaling=0.5, font_step=1, repeat=False)
    wc.generate_from_frequencies(words)
    if not wc.layout_:
        raise CloudError(f"no word fits the {p.name} canvas at the smallest font size {p.min_font_size}px")
    cloud = wc.to_image()
    img.paste(cloud.crop((0, 0, min(W, cloud.width), min(H, cloud.height))), (0, 0))

    text_colour = colours["text"]
    if title:
        draw.text((W / 2, title_y), title, font=title_font, fill=text_colour, anchor="mm")
    for x, label, swatch in legend_items:
        draw.rounded_rectangle((x, legend_cy - sw / 2, x + sw, legend_cy + sw / 2), radius=max(1, sw // 5),
                               fill=swatch)
        draw.text((x + sw + gap, legend_cy), label, font=lf, fill=text_colour, anchor="lm")

    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# -- from complaints to weights --------------------------------------------------------------

def term_weights(texts: list[str], top: int = 60) -> dict[str, float]:
    """Words of a cloud for ``texts``: phrases (ranked by PhraseStats, weighted by count) and
    keywords (by the number of complaints naming them), the ``top`` heaviest.

    A keyword is left out when a phrase containing it already accounts for at least half its
    complaints (「掉色」 beside 「衣服掉色」).
    """
    from nlp.extract import Extractor
    from nlp.phrases import PhraseStats

    extractor = Extractor.default()
    stats = PhraseStats()
    keyword_docs: Counter[str] = Counter()
    for text in texts:
        terms = extractor.extract(text)
        stats.add(terms)
        keyword_docs.update(set(terms.keywords))
    phrases = {ps.text: float(ps.count) for ps in stats.top(top) if ps.count > 0}
    return merge_weights(phrases, keyword_docs, top)


def merge_weights(phrases: Mapping[str, float], keywords: Mapping[str, float], top: int = 60) -> dict[str, float]:
    """Phrases and keywords by weight, the ``top`` heaviest; a keyword is left out when a phrase
    containing it already accounts for at least half its complaints (「掉色」 beside 「衣服掉色」)."""
    candidates = {ph: float(c) for ph, c in phrases.items() if c > 0}
    for kw, n in sorted(keywords.items(), key=lambda kv: (-kv[1], kv[0]))[:top * 2]:
        if kw in candidates or any(kw in ph and c >= 0.5 * n for ph, c in phrases.items()):
            continue
        candidates[kw] = float(n)
    best = sorted(candidates.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return dict(best)


# -- command line ----------------------------------------------------------------------------

PROG = "python -m nlp cloud"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="Draw the keyword cloud of the complaints in FILE as a PNG: phrases and keywords "
                    "sized by how many complaints name them.",
        epilog="Sizes, colours and the font are set in config/nlp/cloud.yaml (font also: $CLOUD_FONT).")
    ap.add_argument("file", metavar="FILE", help="complaints: .txt (one per line), .jsonl, .csv or .xlsx")
    ap.add_argument("-o", "--output", metavar="PNG", default="cloud.png", help="where to write (default: cloud.png)")
    ap.add_argument("--column", metavar="NAME", help="the text column of a CSV/XLSX, or the JSON field")
    try:
        sizes = size_names()
    except CloudError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    ap.add_argument("--size", choices=sizes, default="wall",
                    help="wall 1920x1080 dark, wall4k 3840x2160, print A4 landscape 300 dpi white (default: wall)")
    ap.add_argument("--top", metavar="N", type=int, default=60, help="words in the cloud (default: 60)")
    ap.add_argument("--font", metavar="PATH", help="font file with Chinese glyphs (.ttf/.otf/.ttc)")
    ap.add_argument("--title", help="title drawn above the cloud")
    ap.add_argument("--rising", metavar="WORDS", default="",
                    help="comma-separated words to draw in the rising colour")
    args = ap.parse_args(argv)
    if args.top < 1:
        ap.error("--top must be at least 1")

    from nlp.textio import InputError, read_texts

    try:
        if args.font and not os.path.isfile(args.font):
            raise FontError(f"--font {args.font}: no such file")
        texts = read_texts(args.file, args.column)
        if not texts:
            raise CloudError(f"{args.file} has no complaint texts")
        find_cjk_font(args.font)          # no font: say so before the slow part
        try:
            weights = term_weights(texts, args.top)
        except ImportError as e:
            raise CloudError(f"keyword extraction is not available ({e})") from None
        if not weights:
            raise CloudError(f"no keywords found in the {len(texts)} complaints of {args.file}")
        rising = [w.strip() for w in args.rising.replace("，", ",").split(",") if w.strip()]
        png = render_cloud(weights, rising, size=args.size, font_path=args.font, title=args.title)
        out = Path(args.output)
        try:
            out.write_bytes(png)
        except OSError as e:
            raise CloudError(f"cannot write {out}: {e.strerror or e}") from None
    except (InputError, CloudError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    print(out)
    for word, weight in list(weights.items())[:10]:
        mark = "  ↑" if word in rising else ""
        print(f"  {word}\t{weight:g}{mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
