"""Chinese web fonts served by the app itself, for screens whose machine has no Chinese font.

A command-centre PC usually has one (Microsoft YaHei, Noto Sans CJK), and the stylesheet asks
for those first (``local()``), so nothing is downloaded. Where none is installed the browser
takes the app's own: the Simplified Chinese face of the server's Noto Sans CJK (Debian's
fonts-noto-cjk, or ``dashboard.font_regular`` / ``font_bold`` in the settings), cut down to
ASCII, GB 2312 (the 6,763 common hanzi) and the punctuation the screens use: about 2.4 MB a
weight as WOFF. The cut is made once per machine, in the background process, and kept in
``$XDG_CACHE_HOME/c12315-dashboard/fonts`` (``DASHBOARD_FONT_CACHE``); until it is ready the
stylesheet ``/fonts/fonts.css`` is empty and the screens use what the machine has.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

FAMILY = "C12315 Sans"
LOCAL_NAMES = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei")
DEBIAN = {"regular": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
          "bold": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"}
WEIGHTS = {"regular": 400, "bold": 700}
EXTRA = "—…‘’“”·↑↓→▲▼▁▂▃▄▅▆▇█×"


def cache_dir(env: dict | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("DASHBOARD_FONT_CACHE"):
        return Path(env["DASHBOARD_FONT_CACHE"])
    base = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "c12315-dashboard" / "fonts"


def sources(conf: dict) -> dict[str, str]:
    """The font files to cut, by weight: the settings' choice, else Debian's Noto Sans CJK."""
    out = {}
    for weight, default in DEBIAN.items():
        p = conf.get(f"font_{weight}") or default
        if p and Path(p).is_file():
            out[weight] = str(p)
    return out


def charset() -> str:
    """ASCII, GB 2312 and the punctuation and signs the screens draw."""
    chars = [chr(c) for c in range(0x20, 0x7F)]
    for b1 in range(0xA1, 0xF8):
        for b2 in range(0xA1, 0xFF):
            try:
                chars.append(bytes([b1, b2]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    chars += [chr(c) for c in range(0x3000, 0x3040)] + [chr(c) for c in range(0xFF00, 0xFFF0)] + list(EXTRA)
    return "".join(dict.fromkeys(chars))


def target(src: str, weight: str, chars: str, folder: Path) -> Path:
    st = os.stat(src)
    key = hashlib.sha256(f"{src}|{st.st_size}|{st.st_mtime_ns}|{weight}|{chars}".encode()).hexdigest()[:16]
    return folder / f"cjk-sc-{weight}-{key}.woff"


def build(srcs: dict[str, str], folder: str | Path, chars: str | None = None) -> list[str]:
    """Cut each source font to ``chars`` as WOFF into ``folder`` (skipping those already there)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from nlp.cloud import face_index

    chars = charset() if chars is None else chars
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for weight, src in srcs.items():
        out = target(src, weight, chars, folder)
        if not out.exists():
            font = TTFont(src, fontNumber=face_index(src), lazy=False)
            opts = subset.Options()
            opts.flavor, opts.layout_features, opts.name_IDs, opts.hinting = "woff", ["*"], ["*"], False
            opts.notdef_outline = True
            sub = subset.Subsetter(opts)
            sub.populate(unicodes={ord(c) for c in chars})
            sub.subset(font)
            font.flavor = "woff"
            tmp = out.with_suffix(f".{os.getpid()}.tmp")
            font.save(str(tmp))
            os.replace(tmp, out)
        made.append(str(out))
    return made


def ready(srcs: dict[str, str], folder: Path, chars: str | None = None) -> dict[str, Path]:
    chars = charset() if chars is None else chars
    out = {}
    for weight, src in srcs.items():
        p = target(src, weight, chars, folder)
        if p.exists():
            out[weight] = p
    return out


def stylesheet(files: dict[str, Path]) -> str:
    """@font-face rules: the machine's own Chinese fonts first, the app's files after."""
    rules = []
    for weight, path in files.items():
        local = ", ".join(f'local("{n}{" Bold" if weight == "bold" else ""}")' for n in LOCAL_NAMES)
        rules.append(f'@font-face {{ font-family: "{FAMILY}"; font-weight: {WEIGHTS[weight]}; font-display: swap; '
                     f'src: {local}, url("/fonts/{path.name}") format("woff"); }}')
    return "\n".join(rules) + "\n"


def build_watched(srcs: dict[str, str], folder: str, parent_pid: int) -> None:
    """:func:`build` in a process that ends with the dashboard (see ``dashboard.lifeline``)."""
    from dashboard.lifeline import watch_parent

    watch_parent(parent_pid)
    build(srcs, folder)


def ensure(srcs: dict[str, str], folder: Path) -> "object | None":
    """Start cutting the fonts in a process of their own when they are not there yet (about
    12 s a weight, once per machine); returns the process, or None when all are ready."""
    if not srcs or len(ready(srcs, folder)) == len(srcs):
        return None
    import multiprocessing
    import os

    proc = multiprocessing.get_context("spawn").Process(target=build_watched, args=(srcs, str(folder), os.getpid()),
                                                         name="dashboard-fonts", daemon=True)
    proc.start()
    return proc
