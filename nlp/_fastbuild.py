"""`python -m nlp._fastbuild`: build the extractor's optional compiled parts (run by `make setup`).

Two Cython modules, installed into the venv's site-packages (nothing built lands in the tree):

* ``_nlp_fastscan``  ``nlp/_fastscan.py`` (the extractor's hot loop, plain Python) compiled
  with the C types of ``nlp/_fastscan.pxd``;
* ``_nlp_fastclass`` ``nlp/_fastclass.pyx``: the word-class table (compiled only).

Without Cython or a C compiler nothing is built and ``nlp.extract`` runs its pure-Python path,
which gives the same output (``tests/test_nlp_speed.py`` asserts both paths agree on the real
samples of ``tests/data``). Each compiled module carries the SHA-256 of its source; ``load()``
ignores a module built from another version of the source (a stale build is never used).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCAN_SRC = (HERE / "_fastscan.py", HERE / "_fastscan.pxd")
CLASS_SRC = (HERE / "_fastclass.pyx",)
MODULES = {"_nlp_fastscan": SCAN_SRC, "_nlp_fastclass": CLASS_SRC}


def source_sha(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def load():
    """(scan module, the compiled ``_nlp_fastclass`` module or None, reason): the compiled
    modules when built from the current sources, else ``nlp._fastscan`` itself, None and why."""
    from nlp import _fastscan

    try:
        fs = importlib.import_module("_nlp_fastscan")
        fc = importlib.import_module("_nlp_fastclass")
    except ImportError as e:
        return _fastscan, None, f"not built ({e}); run `make setup`"
    if fs.SOURCE_SHA != source_sha(SCAN_SRC) or fc.SOURCE_SHA != source_sha(CLASS_SRC):
        return _fastscan, None, "built from other sources; run `make setup`"
    return fs, fc, ""


def _compiler() -> list[str] | None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    if shutil.which(cc[0]) is None:
        cc = ["cc"]
        if shutil.which("cc") is None:
            return None
    return cc


def build(target: Path | None = None, force: bool = False) -> str:
    """Build the modules into ``target`` (default: site-packages); returns what was done."""
    try:
        import Cython  # noqa: F401
    except ImportError:
        return "Cython not installed: pure-Python extraction (same output, slower)"
    cc = _compiler()
    if cc is None:
        return "no C compiler: pure-Python extraction (same output, slower)"
    target = Path(target or sysconfig.get_paths()["platlib"])
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    include = sysconfig.get_paths()["include"]
    done = []
    for name, srcs in MODULES.items():
        out = target / (name + suffix)
        sha = source_sha(srcs)
        if not force and out.exists() and _built_sha(out) == sha:
            done.append(f"{name} up to date")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            tmpd = Path(tmp)
            main = srcs[0]
            src = tmpd / (name + main.suffix)
            src.write_text(main.read_text(encoding="utf-8") + f"\nSOURCE_SHA = {sha!r}\n", encoding="utf-8")
            for extra in srcs[1:]:
                shutil.copy(extra, tmpd / (name + extra.suffix))
            c_file = tmpd / (name + ".c")
            run = subprocess.run([sys.executable, "-m", "cython", "-3", str(src), "-o", str(c_file)],
                                 capture_output=True, text=True)
            if run.returncode:
                return f"cython failed on {main.name}: {run.stderr.strip()[-500:]}"
            so = tmpd / (name + suffix)
            run = subprocess.run([*cc, "-shared", "-fPIC", "-O2", "-DNDEBUG", f"-I{include}", str(c_file), "-o", str(so)],
                                 capture_output=True, text=True)
            if run.returncode:
                return f"C compiler failed on {main.name}: {run.stderr.strip()[-500:]}"
            target.mkdir(parents=True, exist_ok=True)
            part = out.with_name(out.name + ".part")
            shutil.copy(so, part)
            os.replace(part, out)                 # atomic: a running process keeps its copy
            (out.with_name(name + ".sha256")).write_text(sha + "\n")
        done.append(f"{name} built")
    return "; ".join(done)


def _built_sha(out: Path) -> str:
    p = out.with_name(out.name.split(".")[0] + ".sha256")
    return p.read_text().strip() if p.exists() else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nlp._fastbuild", description=__doc__.split("\n")[0])
    ap.add_argument("--force", action="store_true", help="rebuild even if up to date")
    ap.add_argument("--target", type=Path, default=None, help="directory to install into (default: site-packages)")
    args = ap.parse_args(argv)
    print("nlp fast path:", build(args.target, args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
