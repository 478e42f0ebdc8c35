"""Word segmentation and part-of-speech tags for complaint texts: jieba, or rjieba (jieba-rs).

``Segmenter(engine, userdict)`` wraps one *private* dictionary instance of the chosen engine
(the process-wide ``jieba.dt`` / ``rjieba._DEFAULT_JIEBA`` are never touched, so other modules
that use jieba keep their own state) with the complaint user dictionary loaded.

Engines
-------
``"jieba"``   the reference: ``jieba.Tokenizer.lcut`` for ``cut``, ``jieba.posseg`` for ``tag``.
``"rjieba"``  jieba-rs through rjieba (30-40x faster).
``"auto"``    rjieba when it imports and holds every user-dictionary word with its tag; jieba
              otherwise (``fallback_reason`` says why).

Three ways to tag
-----------------
``cut(text)``       tokens.
``tag(text)``       the engine's own tagger: ``jieba.posseg`` or ``rjieba.tag``.
``dict_tag(text)``  ``cut`` tokens with their *dictionary* tag, ``x`` for a word in no
                    dictionary. This is what the extractor uses.

Parity, rjieba 0.2.2 (jieba-rs 0.10) against jieba 0.42.1 — measured by
``tests/test_nlp_extract.py`` on the reference corpus (simulator and hand-written texts):

* ``cut``: identical, token for token.
* ``dict_tag``: identical, tokens and tags.
* ``tag``: NOT identical (about half of the simulator complaints differ somewhere). Both engines
  find the same maximum-probability route through the dictionary; where that route is a run
  of single characters that is not itself a word (names, 我想问下, 花7800元, 信达商厦), each
  engine runs its own HMM: jieba.posseg a joint word+POS HMM over the whole run, which may cut
  it differently from ``jieba.cut`` (我想问下 -> 我/想/问/下 where cut gives 我想/问下) and
  re-tags even dictionary characters in it (花 n, dictionary v); jieba-rs keeps ``cut``'s
  words and guesses a tag for each new word on its own. Outside those runs the two agree
  exactly; the test asserts that every difference lies inside one.

So the fast engine is used for ``cut`` and ``dict_tag`` only, where it is proven equal, and the
extractor never depends on either HMM's guesses: its output is the same with both engines
(also asserted). ``tag`` is offered as each engine's own answer and documented as differing.

Two differences of jieba-rs are corrected here, so that the equalities above hold:

* its ``add_word`` keeps the old tag of a word it already has (起球 stays n; jieba takes the
  user's v): those words are kept in ``tag_overrides`` and their user tags applied on top;
* its HMM splits Latin/digit runs with an unescaped dot and keeps 0351-7654321, 2024-05-06 or
  qq.com whole where jieba cuts 0351 / - / 7654321: such tokens are split again jieba's way
  (only in texts holding one of ``+#&._%-``, so the fast path stays fast).
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache, partial
from pathlib import Path

from config import CONFIG_DIR

USERDICT = CONFIG_DIR / "nlp" / "userdict.txt"
ENGINES = ("auto", "rjieba", "jieba")

# jieba's own user-dictionary line grammar: WORD [FREQ] [TAG].
_LINE = re.compile(r"^(.+?)(?:\s+([0-9]+))?(?:\s+([a-zA-Z]+))?$")


# jieba-rs 0.10 splits Latin/digit runs with ``[a-zA-Z0-9]+(?:.\d+)?%?`` (an unescaped dot) and
# keeps 0351-7654321, 2024-05-06, qq.com in one token where jieba (``\.``) gives 0351 / - /
# 7654321. Tokens of such runs are split again the way jieba does; only texts with one of
# jieba's joining characters are looked at.
_JOINER = re.compile(r"[A-Za-z0-9][+#&._%\-]|[+#&._%\-][A-Za-z0-9]")   # only next to a Latin/digit run
_JOINER_CHARS = "+#&._%-"


def _joins(text: str) -> bool:
    """``_JOINER.search(text)``, after substring tests that settle most texts in no time."""
    for ch in _JOINER_CHARS:
        if ch in text:
            return _JOINER.search(text) is not None
    return False


_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_NUMBER = re.compile(r"[.0-9]+")


def _resplit(word: str, has_word) -> list[str]:
    if len(word) < 2 or not word.isascii() or word.isalnum() or has_word(word):
        return [word]
    return [p for p in _SKIP.split(word) if p]


def _fast_resplit():
    """``nlp._fastclass.resplit`` when the compiled modules are built (see ``nlp._fastbuild``)."""
    from nlp import _fastbuild

    fast = _fastbuild.load()[1]
    return fast.resplit if fast is not None else None


def _fast_joins():
    """``nlp._fastclass.joins`` (the same answer as ``_joins``) when the compiled modules are built."""
    from nlp import _fastbuild

    fast = _fastbuild.load()[1]
    return fast.joins if fast is not None else None


def _guess(word: str) -> str:
    """jieba.posseg's tag for a Latin/digit piece: m (number), eng (letters) or x."""
    if _NUMBER.fullmatch(word):
        return "m"
    return "eng" if word.isalnum() else "x"


class SegmenterError(ValueError):
    """The engine cannot be used or the user dictionary cannot be read; the message says why."""


def read_userdict(path: str | Path | None) -> list[tuple[str, int | None, str | None]]:
    """Entries (word, freq or None, tag or None) of a jieba-format user dictionary file.

    Blank lines and lines starting with ``#`` are skipped (jieba itself would read a comment
    as a word, so the segmenter adds the entries itself instead of calling load_userdict).
    """
    if path is None:
        return []
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise SegmenterError(f"cannot read user dictionary {p}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SegmenterError(f"user dictionary {p} is not UTF-8") from None
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        word, freq, tag = m.group(1).strip(), m.group(2), m.group(3)
        out.append((word, int(freq) if freq is not None else None, tag.lower() if tag else None))
    return out


class Segmenter:
    """``cut(text) -> list[str]`` and ``tag(text) -> list[(word, pos)]`` with the user dictionary.

    ``engine`` is the resolved engine ("rjieba" or "jieba"), ``requested`` what was asked for.
    """

    def __init__(self, engine: str = "auto", userdict: str | Path | None = USERDICT, hmm: bool = True):
        if engine not in ENGINES:
            raise SegmenterError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        self.requested = engine
        self.hmm = bool(hmm)
        self.userdict = Path(userdict) if userdict is not None else None
        self.entries = read_userdict(self.userdict)
        self.fallback_reason: str | None = None
        self.tag_overrides: dict[str, str] = {}
        self.engine = ""
        if engine in ("auto", "rjieba"):
            try:
                self._init_rjieba()
                self.engine = "rjieba"
            except Exception as e:  # noqa: BLE001 - any failure of the fast engine means: use jieba
                if engine == "rjieba":
                    raise SegmenterError(f"rjieba cannot be used: {e}") from None
                self.fallback_reason = f"rjieba not used: {e}"
                logging.getLogger(__name__).warning("%s; using jieba", self.fallback_reason)
        if not self.engine:
            self._init_jieba()
            self.engine = "jieba"

    # -- engines ----------------------------------------------------------------------------

    def _init_rjieba(self) -> None:
        import rjieba

        rj = rjieba.Jieba()
        overrides: dict[str, str] = {}
        for word, freq, tag in self.entries:
            old = rj.tag(word, False) if rj.has_word(word) else []
            old_tag = old[0][1] if len(old) == 1 else None
            if tag is None:
                # jieba keeps a known word's tag when the user line has none (posseg then says
                # "x" for a new word); jieba-rs would store "" over it.
                tag = old_tag or "x"
            elif old_tag is not None and old_tag != tag:
                # jieba-rs's add_word updates the frequency of a word it already has but keeps
                # its old tag (起球 stays n); jieba.posseg takes the user's tag. Correct it here.
                overrides[word] = tag
            rj.add_word(word, freq, tag)
        # "auto" only takes rjieba if it holds the same user dictionary: every word, with its tag.
        missing = [w for w, _, _ in self.entries if not rj.has_word(w)]
        if missing:
            raise SegmenterError(f"{len(missing)} user-dictionary words not loaded (e.g. {missing[0]})")
        self._rj = rj
        self.tag_overrides = overrides
        hmm = self.hmm
        cut, tag, has, override = rj.cut, rj.tag, rj.has_word, overrides.get
        joiner = _fast_joins() or _joins

        fast = _fast_resplit()
        one = partial(_resplit, has_word=has)

        def fix_cut(text: str) -> list[str]:
            words = cut(text, hmm)
            if hmm and joiner(text):
                if fast is not None:                 # compiled: only odd ASCII words reach Python
                    return fast(words, one)
                words = [p for w in words for p in _resplit(w, has)]
            return words

        def fix_tag(text: str, lexical: bool) -> list[tuple[str, str]]:
            pairs = tag(text, hmm)
            if hmm and joiner(text):
                pairs = [(p, t if p == w else (self.lookup(p) if lexical else _guess(p)))
                         for w, t in pairs for p in _resplit(w, has)]
            if lexical:
                return [(w, (override(w) or t or "x") if has(w) else "x") for w, t in pairs]
            return [(w, override(w, t)) for w, t in pairs] if overrides else pairs

        self.cut = fix_cut                                               # type: ignore[method-assign]
        # ``cut`` of a text the caller knows holds no Latin/digit join (``_JOINER``): nothing to
        # re-split, so the engine's own answer (the extractor knows it from its pass over the text)
        self.cut_plain = cut if hmm else partial(cut, hmm=False)           # (rjieba's hmm is on by default)
        self.tag = lambda text: fix_tag(text, False)                      # type: ignore[method-assign]
        self.dict_tag = lambda text: fix_tag(text, True)                  # type: ignore[method-assign]
        wrong = [w for w, _, t in self.entries if t is not None and rj.cut(w, False) == [w]
                 and self.tag(w) != [(w, t)]]
        if wrong:
            raise SegmenterError(f"{len(wrong)} user-dictionary words lost their tag (e.g. {wrong[0]})")

    def _init_jieba(self) -> None:
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        tk = jieba.Tokenizer()
        tk.initialize()
        pos = jieba.posseg.POSTokenizer(tk)   # reads the main dictionary's tags
        for word, freq, tag in self.entries:
            tk.add_word(word, freq, tag)
        pos.makesure_userdict_loaded()
        hmm = self.hmm
        self._jb, self._pos = tk, pos
        lcut, plcut = tk.lcut, pos.lcut
        freq, tags = tk.FREQ, pos.word_tag_tab
        self.cut = lambda text: lcut(text, HMM=hmm)                             # type: ignore[method-assign]
        self.tag = lambda text: [(p.word, p.flag) for p in plcut(text, HMM=hmm)]  # type: ignore[method-assign]
        self.dict_tag = lambda text: [(w, (tags.get(w) or "x") if freq.get(w) else "x")  # type: ignore[method-assign]
                                      for w in lcut(text, HMM=hmm)]
        self.lookup = lambda word: (tags.get(word) or "x") if freq.get(word) else "x"  # type: ignore[method-assign]

    # Replaced per instance by the engine's bound functions in __init__ (no dispatch per call).
    def cut(self, text: str) -> list[str]:  # pragma: no cover - always replaced
        raise NotImplementedError

    # rjieba: ``cut`` for a text known to hold no match of ``_JOINER`` (the same tokens, without
    # the look for one); None where ``cut`` has nothing to correct
    cut_plain = None

    def tag(self, text: str) -> list[tuple[str, str]]:  # pragma: no cover - always replaced
        raise NotImplementedError

    def dict_tag(self, text: str) -> list[tuple[str, str]]:  # pragma: no cover - always replaced
        """``cut`` tokens with their *dictionary* tags, ``x`` for a word in no dictionary.

        The same in both engines (asserted by the parity test); the extractor's tags.
        """
        raise NotImplementedError

    def lookup(self, word: str) -> str | None:
        """The dictionary tag of one word (``x`` if it is in no dictionary), None if unknown.

        jieba answers every word. jieba-rs only exposes a word's tag through ``tag()``: for a
        dictionary word that jieba-rs would cut into pieces when alone, this returns None and
        the caller takes the tag from ``dict_tag`` of the text the word came from.
        """
        if not self._rj.has_word(word):
            return "x"
        got = self.tag_overrides.get(word)
        if got:
            return got
        t = self._rj.tag(word, False)
        return (t[0][1] or "x") if len(t) == 1 and t[0][0] == word else None

    def tag_table(self) -> dict[str, str]:
        """Every dictionary word with its dictionary tag: jieba's main dictionary file (the one
        jieba-rs embeds too) with the user dictionary on top, as ``dict_tag`` tags them. Built
        once per process (about 0.4 s, 350,000 words); the extractor looks up words it has not
        met here instead of asking the engine word by word, which on unique real text was most
        of its time."""
        return _tag_table(str(self.userdict) if self.userdict else "", tuple(self.entries))

    def has_word(self, word: str) -> bool:
        """Whether ``word`` is in the engine's dictionary (main or user)."""
        if self.engine == "rjieba":
            return bool(self._rj.has_word(word))
        return bool(self._jb.FREQ.get(word))

    def __repr__(self) -> str:
        return f"Segmenter(engine={self.engine!r}, userdict={str(self.userdict)!r}, words={len(self.entries)})"


@lru_cache(maxsize=4)
def _tag_table(userdict: str, entries: tuple) -> dict[str, str]:
    import os

    import jieba

    table: dict[str, str] = {}
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) > 0:
                table[parts[0]] = parts[2] if len(parts) > 2 else "x"
    for word, _freq, tag in entries:
        # jieba keeps a known word's tag when the user line has none; a new word is "x"
        table[word] = tag or table.get(word) or "x"
    return table
