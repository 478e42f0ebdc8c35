"""Industry of a complaint from its text: naive Bayes over counts that keep learning.

A complaint that arrives without an industry (``未分类``) is given one by the stream from its
text, when the model is sure enough; otherwise it stays unclassified (the model *abstains*).

The model
---------
Binary document features: every character and character bigram of the text made of letters or
CJK (independent of the segmentation, so a word never seen, say 胰岛素, still shares characters
with ones seen, say 药), and every token of the segmentation longer than two characters
(电动车, 4S店, 助听器). No feature holds a digit, and the text is PII-masked first.

What is stored is *counts*: for each feature, in how many training texts of each industry it
occurred, and how many texts each industry had (format ``industry-nb/2``). Weights are derived
from the counts when needed: half the log-ratio of a feature's smoothed frequency in an
industry to its frequency in the other industries (the mean of multinomial and complement naive
Bayes), uniform class prior. Because the model is counts, it learns *online*: ``learn(text,
industry)`` adds one complaint (every complaint that arrives with an industry, as 12315 platform
exports do), so each installation adapts to its own bureau's wording, and ``python -m nlp
classify --train FILE`` adds a labelled export (CSV/XLSX/JSONL with a text and an industry).

The probability is ``softmax(scores / T)`` with ``T = temperature * (max(n, LENGTH_MIN) /
LENGTH_REF) ** length_power`` for a text with n known features (naive Bayes sums grow with the
number of features, so one temperature for all left short texts too unsure); temperature and
power are fitted on texts the model did not learn from (a calibration split of the training
data), so that a probability of 0.8 is right about 80 % of the time (``evaluate`` reports the reliability table and the expected
calibration error). ``min_probability`` (stored with the model) is the confidence below which
it abstains: ``predict`` still names the likeliest industry, ``decide`` returns None.

The shipped model (``config/nlp/industry_model.json``) learned from real public texts only (see
``tests/data/README.md``): hotel reviews (旅游: the TipDM 2020 set; no ChnSentiCorp text, whose
hotel reviews likely overlap the judged online_shopping_10_cats), car owners' forum posts (汽车), restaurant
reviews (食品), product reviews (产品质量: JD phone reviews, camera/phone/notebook review
sentences), plus the hand-written complaints of batch 1 for the industries without a public
set; it never saw the simulator. Words every complaint uses (``config/nlp/industry_neutral.txt``:
你好, 投诉, 尽快处理 …) carry no weight. An installation's own learning is saved to
``data/nlp/industry_model.json`` (``INDUSTRY_MODEL_FILE``), which ``load`` prefers. That file
also keeps what was learned online on its own (``learned``) and names the shipped model it was
learned on (``meta.base``): when a newer shipped model arrives, ``load`` rebases what was
learned onto it instead of shadowing the newer model for good.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import re
import time
import sys
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from config import CONFIG_DIR, ROOT_DIR
from nlp.pii import mask_text

MODEL_FILE = CONFIG_DIR / "nlp" / "industry_model.json"                 # the shipped model
HANDWRITTEN_FILE = ROOT_DIR / "tests" / "data" / "industry_holdout_handwritten.jsonl"
REAL_HOLDOUT_FILE = ROOT_DIR / "tests" / "data" / "industry_real_holdout.jsonl"
FORMAT = "industry-nb/2"

ALPHA = 0.03                       # additive smoothing of the feature counts
MIN_DF = 2                         # a feature needs this many texts to weigh (and to be saved)
MIN_SPREAD = 0.05                  # features whose class weights all lie this close are ignored
TEMPERATURE = 12.0                 # softmax(scores / T); fitted by ``calibrate``
LENGTH_POWER = 0.0                 # T grows as (features / LENGTH_REF) ** power: fitted by ``train``
LENGTH_REF = 100.0                 # (naive Bayes sums grow with the text: short texts were too unsure)
LENGTH_MIN = 20                    # texts with fewer features get the temperature of this many
NEUTRAL_FILE = CONFIG_DIR / "nlp" / "industry_neutral.txt"   # words of every industry: no weight
MIN_PROBABILITY = 0.5              # below this the model abstains (fitted by ``train``)
SCALE = 100                        # weights are integers in units of 1/SCALE: exact sums
TOKEN_CACHE_SIZE = 200_000         # distinct tokens whose feature rows are remembered
REFRESH_EVERY = 200                # texts learned online before the weights are recomputed

log = logging.getLogger(__name__)

_CJK_OR_LETTER = re.compile(r"^[a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")


def installation_model_file() -> Path:
    """Where this installation's learned model lives (``INDUSTRY_MODEL_FILE`` or data/nlp/)."""
    env = os.environ.get("INDUSTRY_MODEL_FILE")
    if env:
        return Path(env)
    return Path(os.environ.get("DATA_DIR") or ROOT_DIR / "data") / "nlp" / "industry_model.json"


def shipped_fingerprint(path: str | Path | None = None) -> str:
    """A short hash of the shipped model file: what an installation's learning was added to."""
    p = Path(path) if path else MODEL_FILE
    st = p.stat()
    return _fingerprint(str(p.resolve()), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=4)
def _fingerprint(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _is_feature(s: str) -> bool:
    return bool(_CJK_OR_LETTER.match(s))


_TOKENIZER = None


@lru_cache(maxsize=1)
def neutral_features() -> frozenset[str]:
    """Features (bigrams and words; not single characters) of the words in ``NEUTRAL_FILE``:
    words any complaint uses, which must not count for the industry a source used them in."""
    try:
        lines = NEUTRAL_FILE.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return frozenset()
    out: set[str] = set()
    for line in lines:
        w = line.split("#", 1)[0].strip()
        if w:
            out.update(f for f in feature_strings(tokenize(w)) if len(f) > 1)
    return frozenset(out)


def tokenize(text: str) -> list[str]:
    """The text's tokens (rjieba, a private instance so others' custom words do not move ours)."""
    global _TOKENIZER
    if _TOKENIZER is None:
        import rjieba

        _TOKENIZER = rjieba.Jieba()
    return _TOKENIZER.cut(text)


def normalize(text: str, names: tuple[str, ...] = ()) -> str:
    """Masked (PII) and NFKC-normalised text: full-width letters and digits become ASCII."""
    return unicodedata.normalize("NFKC", mask_text(text or "", names))


def feature_strings(tokens: Sequence[str]) -> set[str]:
    """The document's features: letter/CJK characters and bigrams, tokens longer than two."""
    s = "".join(tokens).lower()
    feats = set(s)
    feats.update(s[i:i + 2] for i in range(len(s) - 1))
    feats.update(t.lower() for t in tokens if len(t) > 2)
    return {f for f in feats if _is_feature(f)}


class IndustryClassifier:
    """Naive Bayes over feature counts (see the module doc); learns online with ``learn``."""

    def __init__(self, classes: list[str] | None = None, alpha: float = ALPHA, min_df: int = MIN_DF,
                 temperature: float = TEMPERATURE, min_probability: float = MIN_PROBABILITY,
                 length_power: float = LENGTH_POWER):
        self.classes: list[str] = list(classes or [])
        self.alpha, self.min_df, self.temperature = alpha, min_df, temperature
        self.length_power = length_power
        self.min_probability = min_probability
        self.counts: dict[str, list[int]] = {}          # feature -> texts of each class holding it
        self.class_docs: list[int] = [0] * len(self.classes)
        self.index: dict[str, int] = {}
        self.weights = np.zeros((0, len(self.classes)), dtype=np.int32)
        self.bias = np.zeros(len(self.classes), dtype=np.int32)
        self.meta: dict = {}
        # what was learned online (OnlineLearner), kept apart so that it can be added to a newer
        # shipped model: feature -> texts of each class, and texts of each class
        self.learned: dict[str, list[int]] = {}
        self.learned_docs: list[int] = [0] * len(self.classes)
        self._token_cache: dict[str, tuple[tuple[int, ...], str, str]] = {}
        self._pending = 0                                # texts learned since the last refresh

    # -- learning ------------------------------------------------------------------------------

    def _class_index(self, label: str) -> int:
        try:
            return self.classes.index(label)
        except ValueError:
            raise ValueError(f"industry {label!r} is not among the classes {', '.join(self.classes)}") from None

    def learn_tokens(self, tokens: Sequence[str], industry: str, online: bool = False) -> None:
        """Count one text (its tokens, as ``predict_tokens`` takes them) of ``industry``.

        The weights follow after ``REFRESH_EVERY`` texts (or ``refresh()``), so that a stream
        learning from every complaint does not recompute them each time."""
        k = self._class_index(industry)
        n = len(self.classes)
        counts = self.counts
        features = feature_strings(tokens)
        for f in features:
            row = counts.get(f)
            if row is None:
                row = counts[f] = [0] * n
            row[k] += 1
        self.class_docs[k] += 1
        if online:                                       # also kept apart (see ``learned``)
            learned = self.learned
            for f in features:
                row = learned.get(f)
                if row is None:
                    row = learned[f] = [0] * n
                row[k] += 1
            if len(self.learned_docs) != n:
                self.learned_docs = [0] * n
            self.learned_docs[k] += 1
        self._pending += 1
        if self._pending >= getattr(self, "refresh_every", REFRESH_EVERY):
            self.refresh()

    def learn(self, text: str, industry: str, names: tuple[str, ...] = ()) -> None:
        """Count one complaint text of ``industry`` (masked here first)."""
        self.learn_tokens(tokenize(normalize(text, names)), industry)

    def fit(self, texts: list[str], labels: list[str]) -> "IndustryClassifier":
        """Learn ``texts`` with their ``labels`` (added to what the model already counted)."""
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if not texts:
            raise ValueError("nothing to train on")
        if not self.classes:
            self.classes = sorted(set(labels))
            self.class_docs = [0] * len(self.classes)
        unknown = sorted(set(labels) - set(self.classes))
        if unknown:
            raise ValueError(f"labels {', '.join(unknown)} are not among the classes {', '.join(self.classes)}")
        for t, y in zip(texts, labels):
            self.learn_tokens(tokenize(normalize(t)), y)
        self.refresh()
        return self

    def refresh(self) -> None:
        """Recompute the weights from the counts."""
        self._pending = 0
        self._token_cache = {}
        neutral = neutral_features()
        vocab = [f for f, row in self.counts.items() if sum(row) >= self.min_df and f not in neutral]
        n_cls = len(self.classes)
        if not vocab or not n_cls:
            self.index, self.weights = {}, np.zeros((0, n_cls), dtype=np.int32)
            self.bias = np.zeros(n_cls, dtype=np.int32)
            return
        counts = np.array([self.counts[f] for f in vocab], dtype=np.float64)
        # log P(f | c) - log P(f | not c), halved: multinomial NB plus complement NB. Each is
        # smoothed; a constant per feature does not change the ranking of classes, so weights
        # are centred per feature and near-uniform ones dropped. A class with no texts yet gets
        # no weight at all (it cannot win).
        def log_freq(c: np.ndarray) -> np.ndarray:
            return np.log(c + self.alpha) - np.log(c.sum(0) + self.alpha * len(vocab))

        logp = 0.5 * (log_freq(counts) - log_freq(counts.sum(1, keepdims=True) - counts))
        empty = np.array(self.class_docs) == 0
        logp[:, empty] = 0.0
        live = ~empty
        if live.any():
            logp[:, live] -= logp[:, live].mean(1, keepdims=True)
        logp = np.round(logp * SCALE).astype(np.int32)
        keep = (logp.max(1) - logp.min(1)) >= MIN_SPREAD * SCALE
        self.index = {f: i for i, f in enumerate(f for f, k in zip(vocab, keep) if k)}
        self.weights = np.ascontiguousarray(logp[keep])
        # Uniform prior over the industries the model has seen; one it has never seen is
        # pushed far down, so that it is never the answer.
        self.bias = np.where(empty, -10_000 * SCALE, 0).astype(np.int32)
        self.meta["texts_per_class"] = {c: n for c, n in zip(self.classes, self.class_docs)}

    # -- prediction ----------------------------------------------------------------------------

    def _rows(self, tokens: Sequence[str]) -> set[int]:
        """Feature rows of a text given as tokens: the same features as ``feature_strings``.

        Each distinct token's own characters, inner bigrams and (if longer than two) itself
        are looked up once and cached; per text only the bigrams across token boundaries are
        new. This keeps a prediction from tokens at about 15 µs.
        """
        if self._pending and getattr(self, "refresh_every", REFRESH_EVERY) != float("inf"):
            self.refresh()   # (a stream's learner refreshes on its clock instead: see OnlineLearner)
        get, cache = self.index.get, self._token_cache
        rows: set[int] = set()
        prev = ""
        for t in tokens:
            c = cache.get(t)
            if c is None:
                if not t:
                    continue
                c = self._token_rows(t)
                if len(cache) < TOKEN_CACHE_SIZE:
                    cache[t] = c
            rows.update(c[0])
            if prev:
                r = get(prev + c[1])
                if r is not None:
                    rows.add(r)
            prev = c[2]
        return rows

    def _token_rows(self, token: str) -> tuple[tuple[int, ...], str, str]:
        get = self.index.get
        t = token.lower()
        rows = {get(ch) for ch in t}
        rows.update(get(t[i:i + 2]) for i in range(len(t) - 1))
        if len(t) > 2:
            rows.add(get(t))
        rows.discard(None)
        return tuple(rows), t[:1], t[-1:]

    def scores_tokens(self, tokens: Sequence[str]) -> np.ndarray:
        """Summed weights of each class (before the temperature) from the text's tokens."""
        return self._scores_rows(tokens)[0]

    def _scores_rows(self, tokens: Sequence[str]) -> tuple[np.ndarray, int]:
        rows = self._rows(tokens)
        if not rows:
            return self.bias / SCALE, 0
        return (self.weights.take(np.fromiter(rows, dtype=np.intp, count=len(rows)), axis=0).sum(0)
                + self.bias) / SCALE, len(rows)

    def temperature_for(self, n_features: int) -> float:
        """The softmax temperature of a text with ``n_features`` known features: the fitted
        temperature, scaled by (n / LENGTH_REF) ** length_power (1 when the power is 0)."""
        if not self.length_power:
            return self.temperature
        return self.temperature * (max(n_features, LENGTH_MIN) / LENGTH_REF) ** self.length_power

    def proba_tokens(self, tokens: Sequence[str]) -> np.ndarray:
        scores, n = self._scores_rows(tokens)
        z = scores / self.temperature_for(n)
        z = np.exp(z - z.max())
        return z / z.sum()

    def predict_tokens(self, tokens: Sequence[str]) -> tuple[str, float]:
        """(industry, probability) from tokens the caller already has (of the masked text).

        Any segmentation works (characters and bigrams are read from the joined tokens); tokens
        should be in text order and include punctuation, or bigrams form across the gaps.
        """
        scores, n = self._scores_rows(tokens)
        z = scores.tolist()
        top = max(z)
        k = z.index(top)      # ties: the first industry in the model's order
        t = self.temperature_for(n)
        return self.classes[k], 1.0 / sum([math.exp((v - top) / t) for v in z])

    def decide_tokens(self, tokens: Sequence[str], min_probability: float | None = None) -> tuple[str | None, float]:
        """(industry or None, probability): None when less sure than ``min_probability``
        (default: the model's own, fitted when it was trained)."""
        industry, p = self.predict_tokens(tokens)
        bar = self.min_probability if min_probability is None else min_probability
        return (industry if p >= bar else None), p

    def predict(self, text: str, names: tuple[str, ...] = ()) -> tuple[str, float]:
        """(industry, probability) of one complaint text (masked here first)."""
        return self.predict_tokens(tokenize(normalize(text, names)))

    def decide(self, text: str, min_probability: float | None = None) -> tuple[str | None, float]:
        """(industry or None when unsure, probability) of one complaint text."""
        return self.decide_tokens(tokenize(normalize(text)), min_probability)

    def predict_proba(self, text: str) -> dict[str, float]:
        """Every industry's probability, highest first."""
        p = self.proba_tokens(tokenize(normalize(text)))
        return {self.classes[i]: float(p[i]) for i in np.argsort(-p, kind="stable")}

    # -- storage -------------------------------------------------------------------------------

    def to_dict(self, prune: int | None = None) -> dict:
        """Counts (features in at least ``prune`` texts, default ``min_df``), classes and
        settings, as JSON."""
        least = self.min_df if prune is None else prune
        keep = {f: row for f, row in self.counts.items() if sum(row) >= least}
        return {
            "format": FORMAT,
            "classes": self.classes,
            "alpha": self.alpha, "min_df": self.min_df, "temperature": self.temperature,
            "min_probability": self.min_probability, "length_power": self.length_power,
            "meta": self.meta,
            "class_docs": list(self.class_docs),
            # feature -> {class index: texts}; sparse, most features belong to few industries
            "counts": {f: {str(i): n for i, n in enumerate(row) if n} for f, row in sorted(keep.items())},
            **({"learned": {f: {str(i): n for i, n in enumerate(row) if n} for f, row in sorted(self.learned.items())},
                "learned_docs": list(self.learned_docs)} if any(self.learned_docs) else {}),
        }

    def save(self, path: str | Path | None = None, prune: int | None = None) -> Path:
        """Write the model (default: this installation's file, see ``installation_model_file``),
        features in fewer than ``prune`` texts left out (default ``min_df``)."""
        p = Path(path) if path else installation_model_file()
        p.parent.mkdir(parents=True, exist_ok=True)
        d = self.to_dict(prune)
        # one feature a line: diffs of a retrained model stay readable
        head = {k: v for k, v in d.items() if k != "counts"}
        lines = [json.dumps(head, ensure_ascii=False, sort_keys=True)[:-1] + ', "counts": {']
        items = list(d["counts"].items())
        for n, (f, c) in enumerate(items):
            lines.append(json.dumps(f, ensure_ascii=False) + ":" + json.dumps(c, separators=(",", ":"))
                         + ("," if n < len(items) - 1 else ""))
        lines.append("}}")
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(p)
        _load_cached.cache_clear()
        _rebased_cached.cache_clear()
        return p

    @classmethod
    def from_dict(cls, d: dict) -> "IndustryClassifier":
        if d.get("format") != FORMAT:
            raise ValueError(f"not an industry model of format {FORMAT} (found {d.get('format')!r})")
        m = cls(d["classes"], d.get("alpha", ALPHA), d.get("min_df", MIN_DF), d.get("temperature", TEMPERATURE),
                d.get("min_probability", MIN_PROBABILITY), d.get("length_power", LENGTH_POWER))
        n = len(m.classes)
        m.class_docs = [int(x) for x in d.get("class_docs") or [0] * n]
        counts = {}
        for f, c in d["counts"].items():
            row = [0] * n
            for i, v in c.items():
                row[int(i)] = int(v)
            counts[f] = row
        m.counts = counts
        m.meta = d.get("meta", {})
        m.learned = {f: _row(c, n) for f, c in (d.get("learned") or {}).items()}
        m.learned_docs = [int(x) for x in d.get("learned_docs") or [0] * n]
        m.refresh()
        return m

    def rebased(self, shipped: "IndustryClassifier", base: str) -> "IndustryClassifier":
        """``shipped`` with what this model learned online added (same classes by name)."""
        m = shipped.copy()
        pos = [m._class_index(c) if c in m.classes else None for c in self.classes]
        n = len(m.classes)
        for f, row in self.learned.items():
            for k, v in enumerate(row):
                if v and pos[k] is not None:
                    m.counts.setdefault(f, [0] * n)[pos[k]] += v
                    m.learned.setdefault(f, [0] * n)[pos[k]] += v
        m.learned_docs = [0] * n
        for k, v in enumerate(self.learned_docs):
            if v and pos[k] is not None:
                m.class_docs[pos[k]] += v
                m.learned_docs[pos[k]] += v
        m.meta["base"] = base
        m.refresh()
        return m

    @classmethod
    def load(cls, path: str | Path | None = None) -> "IndustryClassifier":
        """The model in ``path``; by default this installation's learned model if there is one,
        else the shipped ``config/nlp/industry_model.json``. Cached per file and version: a
        caller that learns should ``copy()`` it first."""
        if path:
            p = Path(path)
        else:
            p = installation_model_file()
            if not p.is_file():
                p = MODEL_FILE
        try:
            mtime = p.stat().st_mtime_ns
        except FileNotFoundError:
            raise FileNotFoundError(f"industry model {p} does not exist; build it with "
                                    "'python -m nlp classify --train FILE'") from None
        m = _load_cached(str(p.resolve()), mtime)
        if not path and p != MODEL_FILE and MODEL_FILE.is_file():
            base, now = m.meta.get("base"), shipped_fingerprint()
            if base and base != now:
                # a newer shipped model arrived: what this installation learned goes onto it
                log.warning("industry model: %s was learned on an older shipped model; its %d online-"
                            "learned texts are added to the new one", p, sum(m.learned_docs))
                m = _rebased_cached(str(p.resolve()), mtime, now)
            elif not base:
                log.warning("industry model: %s does not say which shipped model it was learned on "
                            "(an older file): it is used as it is, and a newer shipped model is not; "
                            "delete it to use %s", p, MODEL_FILE.name)
        return m

    def copy(self) -> "IndustryClassifier":
        return IndustryClassifier.from_dict(json.loads(json.dumps(self.to_dict())))


class OnlineLearner:
    """What a stream worker keeps: a private copy of the model that learns every complaint
    arriving with an industry and is saved to this installation's file every ``save_every``
    complaints (and on ``close``). Use ``model`` to classify, so answers follow what it learned.

        learner = OnlineLearner()                         # in the worker's set-up
        learner.observe(terms.tokens, rec["industry"])   # for a complaint with an industry
        industry, p = learner.model.decide_tokens(terms.tokens, min_probability)
    """

    def __init__(self, model: IndustryClassifier | None = None, path: str | Path | None = None,
                 save_every: int = 500, unclassified: str = "未分类", refresh_seconds: float | None = None,
                 save_seconds: float | None = None, max_per_second: float | None = None):
        """``save_every``/``REFRESH_EVERY`` count complaints; a stream passes ``refresh_seconds`` and
        ``save_seconds`` instead: recomputing the weights (~0.1-0.3 s) or writing the model
        (~1 MB) every few hundred complaints would cost more than the rest of the worker."""
        self.model = (model or IndustryClassifier.load()).copy()
        if "base" not in self.model.meta and MODEL_FILE.is_file():
            self.model.meta["base"] = shipped_fingerprint()      # what its learning is added to
        self.path = Path(path) if path else installation_model_file()
        self.save_every, self.unclassified = save_every, unclassified
        self.refresh_seconds, self.save_seconds = refresh_seconds, save_seconds
        if refresh_seconds is not None:
            self.model.refresh_every = float("inf")
        if save_seconds is not None:
            self.save_every = float("inf")
        self._refreshed = self._saved = time.monotonic()
        self.unsaved = 0
        # Learning costs ~40 us a complaint: a cap keeps a replay or a backlog at full speed
        # (a bureau's real volume, some thousands a day, is far under it: every one is learned).
        self.max_per_second = max_per_second
        self._second, self._in_second = 0, 0

    def observe(self, tokens: Sequence[str], industry: str | None) -> bool:
        """Learn one complaint's tokens if it has a known industry; True if it learned."""
        if not industry or industry == self.unclassified or industry not in self.model.classes:
            return False
        if self.max_per_second is not None:
            sec = int(time.monotonic())
            if sec != self._second:
                self._second, self._in_second = sec, 0
            if self._in_second >= self.max_per_second:
                return False
            self._in_second += 1
        self.model.learn_tokens(tokens, industry, online=True)
        self.unsaved += 1
        if self.refresh_seconds is not None or self.save_seconds is not None:
            self.tick()
        if self.unsaved >= self.save_every:
            self.save()
        return True

    def tick(self, now: float | None = None) -> None:
        """Refresh the weights and save on the clock (for a stream)."""
        now = time.monotonic() if now is None else now
        if self.refresh_seconds is not None and now - self._refreshed >= self.refresh_seconds:
            self._refreshed = now
            if self.model._pending:
                self.model.refresh()
        if self.save_seconds is not None and now - self._saved >= self.save_seconds:
            self._saved = now
            self.save()

    def save(self) -> Path | None:
        if not self.unsaved:
            return None
        self.unsaved = 0
        if self.model._pending:
            self.model.refresh()
        return self.model.save(self.path)

    close = save


def _row(c: dict, n: int) -> list[int]:
    row = [0] * n
    for i, v in c.items():
        row[int(i)] = int(v)
    return row


@lru_cache(maxsize=2)
def _rebased_cached(path: str, mtime_ns: int, base: str) -> IndustryClassifier:
    return _load_cached(path, mtime_ns).rebased(_load_cached(str(MODEL_FILE.resolve()), MODEL_FILE.stat().st_mtime_ns), base)


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> IndustryClassifier:
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        return IndustryClassifier.from_dict(d)
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"industry model {path} cannot be read: {e}") from None


# --- evaluation ------------------------------------------------------------------------------

def reliability(probs: list[float], correct: list[bool], bins: int = 10) -> tuple[list[dict], float]:
    """Reliability table (per probability bin: texts, mean probability, accuracy) and the
    expected calibration error: the texts-weighted mean gap between probability and accuracy."""
    table, ece, n = [], 0.0, len(probs)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [i for i, p in enumerate(probs) if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if not sel:
            continue
        mp = sum(probs[i] for i in sel) / len(sel)
        acc = sum(correct[i] for i in sel) / len(sel)
        ece += len(sel) / n * abs(mp - acc)
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(sel), "mean_probability": round(mp, 4),
                      "accuracy": round(acc, 4)})
    return table, round(ece, 4)


def evaluate(model: IndustryClassifier, texts: list[str], labels: list[str],
             min_probability: float | None = None) -> dict:
    """Accuracy, per-industry precision/recall/F1, confusion counts (true -> predicted -> n) and
    calibration (reliability table, ECE).

    ``min_probability`` (default: the model's own) is the abstention bar: ``coverage`` is the
    share of texts answered, ``accuracy_answered`` the accuracy among them, and
    ``accuracy_abstain_wrong`` the accuracy when every abstention counts as wrong.
    """
    preds = [model.predict(t) for t in texts]
    n = len(labels)
    confusion: dict[str, dict[str, int]] = {}
    for y, (p, _) in zip(labels, preds):
        row = confusion.setdefault(y, {})
        row[p] = row.get(p, 0) + 1
    right = [y == p for y, (p, _) in zip(labels, preds)]
    per = {}
    for c in [c for c in model.classes if c in set(labels) | {p for p, _ in preds}]:
        tp = sum(1 for y, (p, _) in zip(labels, preds) if y == c and p == c)
        predicted = sum(1 for p, _ in preds if p == c)
        support = sum(1 for y in labels if y == c)
        prec = tp / predicted if predicted else 0.0
        rec = tp / support if support else 0.0
        per[c] = {"precision": round(prec, 4), "recall": round(rec, 4),
                  "f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0,
                  "support": support, "predicted": predicted}
    table, ece = reliability([p for _, p in preds], right) if n else ([], 0.0)
    out = {"n": n, "accuracy": round(sum(right) / n, 4) if n else 0.0,
           "macro_f1": round(sum(v["f1"] for v in per.values() if v["support"]) /
                             max(1, sum(1 for v in per.values() if v["support"])), 4),
           "mean_probability": round(sum(p for _, p in preds) / n, 4) if n else 0.0,
           "mean_probability_right": round(sum(p for (_, p), r in zip(preds, right) if r) / max(1, sum(right)), 4),
           "mean_probability_wrong": round(sum(p for (_, p), r in zip(preds, right) if not r)
                                           / max(1, n - sum(right)), 4),
           "ece": ece, "reliability": table,
           "per_industry": per, "confusion": confusion}
    bar = model.min_probability if min_probability is None else min_probability
    answered = [r for r, (_, pr) in zip(right, preds) if pr >= bar]
    out["min_probability"] = bar
    out["coverage"] = round(len(answered) / n, 4) if n else 0.0
    out["accuracy_answered"] = round(sum(answered) / len(answered), 4) if answered else 0.0
    out["accuracy_abstain_wrong"] = round(sum(answered) / n, 4) if n else 0.0
    return out


# --- training ------------------------------------------------------------------------------------

def read_labelled(path: str | Path, label: str = "industry", text: str | None = None) -> tuple[list[str], list[str]]:
    """Texts and labels of a labelled export: JSON lines of {"text", "industry"}, or a CSV/XLSX
    with a text column (诉求内容 …, or ``text``) and an industry column (行业 / industry)."""
    from nlp.textio import TEXT_COLUMNS, InputError

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p} does not exist")
    texts, labels = [], []
    if p.suffix.lower() in (".csv", ".xlsx"):
        rows = _table_rows(p)
        if not rows:
            raise InputError(f"{p} holds no labelled texts")
        head = [str(h or "").strip() for h in rows[0]]
        tcols = [text] if text else list(TEXT_COLUMNS)
        lcols = [label, "行业", "所属行业", "industry"]
        ti = next((head.index(c) for c in tcols if c in head), None)
        li = next((head.index(c) for c in lcols if c in head), None)
        if ti is None or li is None:
            raise InputError(f"{p} needs a text column ({' / '.join(tcols)}) and an industry column "
                             f"({' / '.join(lcols)}); its headers are: {', '.join(head)}")
        for r in rows[1:]:
            t = str(r[ti] or "").strip() if ti < len(r) else ""
            y = str(r[li] or "").strip() if li < len(r) else ""
            if t and y:
                texts.append(t)
                labels.append(y)
    else:
        for n, line in enumerate(p.read_text(encoding="utf-8-sig").splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                texts.append(str(d[text or "text"]))
                labels.append(str(d[label]))
            except (ValueError, KeyError, TypeError):
                raise InputError(f"{p} line {n} is not a JSON object with 'text' and {label!r} fields") from None
    if not texts:
        raise InputError(f"{p} holds no labelled texts")
    return texts, labels


def _table_rows(p: Path) -> list[list]:
    import csv
    import io

    if p.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(p, read_only=True, data_only=True)
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    from nlp.textio import _decode

    return list(csv.reader(io.StringIO(_decode(p.read_bytes()))))


def _class_weights(labels: Sequence) -> np.ndarray:
    """Per text 1 / sqrt(texts of its class): an industry with thousands of texts from a public
    set counts more than one known from a dozen, but not thousands of times more (calibrating
    on the big sets alone makes the model overconfident on the industries it hardly knows;
    equal weights make it underconfident on the ones it knows well)."""
    n = Counter(labels)
    w = np.array([1.0 / math.sqrt(n[y]) for y in labels])
    return w / w.sum()


def fit_temperature(scores: list[np.ndarray], labels: list[int]) -> float:
    """The temperature minimising the class-balanced negative log-likelihood of ``labels`` (a
    grid, then a finer one around the best): the probabilities then mean what they say."""
    z = np.array(scores)
    y = np.array(labels)
    w = _class_weights(labels)

    def nll(t: float) -> float:
        a = z / t
        a = a - a.max(1, keepdims=True)
        logp = a[np.arange(len(y)), y] - np.log(np.exp(a).sum(1))
        return float(-(w * logp).sum())

    grid = [0.5 * 1.25 ** k for k in range(30)]
    best = min(grid, key=nll)
    fine = [best * (0.9 + 0.02 * k) for k in range(11)]
    return round(min(fine, key=nll), 3)


def _nll(scores: np.ndarray, labels: np.ndarray, w: np.ndarray) -> float:
    a = scores - scores.max(1, keepdims=True)
    logp = a[np.arange(len(labels)), labels] - np.log(np.exp(a).sum(1))
    return float(-(w * logp).sum())


def fit_calibration(scores: list[np.ndarray], labels: list[int], lengths: list[int],
                    powers: Sequence[float] = tuple(k / 10 for k in range(11))) -> tuple[float, float]:
    """(temperature, length power) minimising the class-balanced negative log-likelihood, the
    temperature of a text being T * (max(features, LENGTH_MIN) / LENGTH_REF) ** power: naive Bayes sums grow
    with the number of features, so one temperature leaves short texts too unsure and long
    ones too sure. Power 0 is the plain temperature."""
    z = np.array(scores)
    y = np.array(labels)
    w = _class_weights(labels)
    n = np.maximum(np.array(lengths, dtype=np.float64), LENGTH_MIN) / LENGTH_REF
    best = None
    for power in powers:
        zp = z / (n ** power)[:, None]
        t = fit_temperature(list(zp), labels)
        loss = _nll(zp / t, y, w)
        if best is None or loss < best[0] - 1e-9:
            best = (loss, t, power)
    return best[1], round(best[2], 3)


def fit_min_probability(probs: list[float], right: list[bool], target: float = 0.9,
                        labels: Sequence | None = None) -> float:
    """The lowest bar at which the answers given are right at least ``target`` of the time
    (answers sorted by probability; the bar keeps as many as it can; class-balanced when
    ``labels`` are given)."""
    w = _class_weights(labels) if labels is not None else np.full(len(probs), 1.0 / max(1, len(probs)))
    order = sorted(range(len(probs)), key=lambda i: -probs[i])
    best, hits, seen = 1.0, 0.0, 0.0
    for i in order:
        hits += w[i] * right[i]
        seen += w[i]
        if hits / seen >= target:
            best = probs[i]
    return round(max(0.4, min(best, 0.95)), 3)


def _split(text: str, parts: int = 5) -> int:
    import hashlib

    return int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16) % parts


def train(file: str | Path, out: str | Path | None = None, fresh: bool = False, settings=None,
          calibrate: bool = True, prune: int | None = None) -> tuple[IndustryClassifier, dict]:
    """Learn a labelled export (added to the current model unless ``fresh``), calibrate the
    temperature and the abstention bar on a fifth of it learned last, save, and report."""
    from config import load_settings

    settings = settings or load_settings({})
    texts, labels = read_labelled(file)
    industries = settings.complaints.industries
    unknown = sorted(set(labels) - set(industries))
    if unknown:
        from nlp.textio import InputError

        raise InputError(f"{file}: labels {', '.join(unknown)} are not industries of config/settings.yaml "
                         f"({'、'.join(industries)})")
    base = IndustryClassifier(industries) if fresh else IndustryClassifier.load().copy()
    report: dict = {"file": str(file), "texts": len(texts), "per_industry": dict(Counter(labels)),
                    "started_from": "empty" if fresh else "the current model"}
    if calibrate and len(texts) >= 50:
        # calibration: learn four fifths, fit T and the bar on the fifth not learned
        cal = [i for i, t in enumerate(texts) if _split(t) == 0]
        learn_first = [i for i in range(len(texts)) if _split(texts[i]) != 0]
        probe = base.copy()
        for i in learn_first:
            probe.learn_tokens(tokenize(normalize(texts[i])), labels[i])
        probe.refresh()
        scored = [probe._scores_rows(tokenize(normalize(texts[i]))) for i in cal]
        cidx = [probe.classes.index(labels[i]) for i in cal]
        base.temperature, base.length_power = fit_calibration([s for s, _ in scored], cidx,
                                                              [n for _, n in scored])
        probe.temperature, probe.length_power = base.temperature, base.length_power
        preds = [probe.predict(texts[i]) for i in cal]
        right = [p == labels[i] for (p, _), i in zip(preds, cal)]
        base.min_probability = fit_min_probability([pr for _, pr in preds], right,
                                                   labels=[labels[i] for i in cal])
        report["calibration"] = {"texts": len(cal), "temperature": base.temperature,
                                 "length_power": base.length_power,
                                 "min_probability": base.min_probability,
                                 "accuracy": round(sum(right) / max(1, len(right)), 4)}
    for t, y in zip(texts, labels):
        base.learn_tokens(tokenize(normalize(t)), y)
    base.refresh()
    base.meta.update({"trained_with": "python -m nlp classify --train", "last_file": Path(file).name})
    path = base.save(out, prune)
    report["saved"] = str(path)
    report["bytes"] = path.stat().st_size
    saved = IndustryClassifier.load(path)              # as saved (pruned), not as in memory
    report["features"] = len(saved.index)              # what the saved file holds, after --prune
    report["features_learned"] = len(base.index)
    for name, f in (("real_holdout", REAL_HOLDOUT_FILE), ("handwritten", HANDWRITTEN_FILE)):
        if f.is_file():
            ht, hl = read_labelled(f)
            report[name] = evaluate(saved, ht, hl)
    return base, report


# --- command line ------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints the whole usage otherwise)
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _cut(s: str, width: int) -> str:
    out, w = [], 0
    for ch in s:
        cw = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if w + cw > width - 1:
            return "".join(out) + "…"
        out.append(ch)
        w += cw
    return "".join(out)


def _pad(s: str, width: int) -> str:
    return s + " " * max(0, width - _width(s))


def _print_report(name: str, r: dict, out) -> None:
    line = (f"{name}: accuracy {r['accuracy']:.4f} on {r['n']} texts, macro F1 {r['macro_f1']:.4f}; "
            f"at p >= {r['min_probability']}: answers {r['coverage']:.1%}, right {r['accuracy_answered']:.4f} "
            f"when it answers, {r['accuracy_abstain_wrong']:.4f} with abstentions counted wrong; "
            f"ECE {r['ece']:.3f}")
    print(line, file=out)


def _print_table(r: dict, out) -> None:
    print(f"  {_pad('industry', 14)}{'precision':>10}{'recall':>8}{'support':>9}  most often confused with", file=out)
    for c, v in r["per_industry"].items():
        wrong = sorted(((n, p) for p, n in r["confusion"].get(c, {}).items() if p != c), reverse=True)[:2]
        conf = "、".join(f"{p} {n}" for n, p in wrong)
        print(f"  {_pad(c, 14)}{v['precision']:>10.3f}{v['recall']:>8.3f}{v['support']:>9d}  {conf}", file=out)
    cells = [f"{b['bin']} n={b['n']} p={b['mean_probability']:.2f} right={b['accuracy']:.2f}" for b in r["reliability"]]
    print("  reliability: " + "; ".join(cells), file=out)


def main(argv: list[str] | None = None) -> int:
    from nlp.textio import InputError, read_texts

    ap = _Parser(prog="python -m nlp classify",
                 description="Predict each complaint's industry (and its probability) from its text, or\n"
                             "\"industry\": null when the model is not sure enough; learn from a labelled\n"
                             "export (--train FILE); or measure the model on a labelled file (--evaluate).",
                 epilog="examples:\n"
                        "  python -m nlp classify complaints.txt\n"
                        "  python -m nlp classify export.xlsx --column 诉求内容 --json\n"
                        "  python -m nlp classify --evaluate tests/data/industry_real_holdout.jsonl\n"
                        "  python -m nlp classify --train export.csv   # 12315 export with 诉求内容 and 行业\n"
                        "models: this installation's learned model (data/nlp/industry_model.json, or\n"
                        f"INDUSTRY_MODEL_FILE) if it exists, else the shipped {MODEL_FILE.relative_to(ROOT_DIR)}",
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", nargs="?", metavar="FILE",
                    help="complaints: .txt (one a line), .jsonl (\"text\"), .csv or .xlsx (a text column)")
    ap.add_argument("--column", metavar="NAME", help="the text column of a CSV/XLSX file (or key of a .jsonl)")
    ap.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    ap.add_argument("--model", metavar="PATH", help="model file (default: see below)")
    ap.add_argument("--min-probability", type=float, metavar="P",
                    help="abstain below this probability (default: the model's own, fitted when trained)")
    ap.add_argument("--train", metavar="FILE",
                    help="learn a labelled export (CSV/XLSX with a text and an industry column, or JSONL "
                         "{\"text\", \"industry\"}), added to the current model, calibrate, save")
    ap.add_argument("--fresh", action="store_true", help="with --train: start from an empty model")
    ap.add_argument("--out", metavar="PATH", help="with --train: where to save (default: this installation's file)")
    ap.add_argument("--prune", type=int, metavar="K", help="with --train: save only features of at least K texts "
                                                              f"(default {MIN_DF}; the shipped model: 4)")
    ap.add_argument("--evaluate", metavar="FILE",
                    help="accuracy, coverage and calibration on a labelled file (same formats as --train)")
    args = ap.parse_args(argv)

    modes = sum(bool(x) for x in (args.file, args.train, args.evaluate))
    if modes != 1:
        ap.error("give one of FILE, --train FILE or --evaluate FILE")
    if (args.out or args.fresh or args.prune) and not args.train:
        ap.error("--out, --fresh and --prune go with --train")
    if args.train and args.model:
        ap.error("--model does not go with --train (use --out)")
    prog = ap.prog
    try:
        if args.train:
            model, report = train(args.train, args.out, fresh=args.fresh, prune=args.prune)
            if args.json:
                print(json.dumps(report, ensure_ascii=False))
                return 0
            print(f"learned {report['texts']} texts of {args.train} (started from {report['started_from']}); "
                  f"{report['features']} features; saved {report['saved']} ({report['bytes']:,} bytes)")
            if "calibration" in report:
                c = report["calibration"]
                print(f"calibrated on {c['texts']} texts learned last: temperature {c['temperature']} "
                      f"(x (features/{LENGTH_REF:g}) ** {c.get('length_power', 0)}), "
                      f"abstains below p = {c['min_probability']}")
            for name, label in (("real_holdout", REAL_HOLDOUT_FILE), ("handwritten", HANDWRITTEN_FILE)):
                if name in report:
                    _print_report(str(label.relative_to(ROOT_DIR)), report[name], sys.stdout)
            return 0
        model = IndustryClassifier.load(args.model)
        if args.evaluate:
            texts, labels = read_labelled(args.evaluate)
            unknown = sorted(set(labels) - set(model.classes))
            if unknown:
                raise InputError(f"{args.evaluate}: labels {', '.join(unknown)} are not industries of the model "
                                 f"({'、'.join(model.classes)})")
            r = evaluate(model, texts, labels, min_probability=args.min_probability)
            if args.json:
                print(json.dumps(r, ensure_ascii=False))
            else:
                _print_report(args.evaluate, r, sys.stdout)
                _print_table(r, sys.stdout)
            return 0
        texts = read_texts(args.file, args.column)
        out = sys.stdout
        if not args.json:
            print(f"{'#':>5}  {_pad('industry', 13)}{'p':>6}  text", file=out)
        for n, text in enumerate(texts, 1):
            masked = mask_text(text)         # shown as written, less the personal data
            industry, p = model.decide_tokens(tokenize(unicodedata.normalize("NFKC", masked)),
                                              args.min_probability)
            if args.json:
                out.write(json.dumps({"n": n, "industry": industry, "probability": round(p, 4),
                                      "text": masked}, ensure_ascii=False) + "\n")
            else:
                out.write(f"{n:>5}  {_pad(industry or '（未定）', 13)}{p:>6.2f}  {_cut(' '.join(masked.split()), 60)}\n")
        return 0
    except BrokenPipeError:      # e.g. piped into head
        sys.stdout = open(os.devnull, "w")
        return 0
    except (InputError, FileNotFoundError, ValueError, OSError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
