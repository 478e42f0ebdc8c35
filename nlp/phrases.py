"""Which candidate phrases are real: document counts and pointwise mutual information.

The extractor proposes candidates per complaint (an object and its problem, see
``nlp.extract``); most are accidental pairs of words that happen to stand near each other.
Over many complaints a real phrase shows as parts that occur together far more often than
their own frequencies would make them meet by chance. ``PhraseStats`` counts, per document:

* ``keywords``  {keyword: number of documents containing it};
* ``phrases``   {phrase candidate (tuple of parts): number of documents};
* ``parts``     {phrase part that is not a keyword of that document (单字 such as 难, 贵, 差;
  negations joined to their word such as 没发货): number of documents};
* ``n_docs``.

Those three plain dicts and ``n_docs`` are all the scores need, so a stream can keep them in
Redis hashes and rebuild the same ranking with :meth:`PhraseStats.from_counts` (phrase keys
may be tuples or strings joined with ``|``, see :func:`encode_phrase`).

Scores
------
``count``  documents containing the phrase.
``pmi``    pointwise mutual information of the parts at document level, in bits:
           log2( P(phrase) / (P(part_1) ··· P(part_k)) ) / (k − 1), with P(x) = documents with x
           / n_docs. For two parts this is the usual PMI; a three-part phrase is divided by its
           two joins so that (空调, 噪音, 大) is comparable with (噪音, 大).
``score``  count × max(pmi, 0), the *local mutual information* of the phrase: its own term in
           the mutual information between its parts' occurrences (times n_docs). PMI alone
           prefers rare accidents (two words seen once, together, have a huge PMI), count alone
           prefers pairs of frequent words that meet by chance (PMI ≈ 0); their product is high
           only for phrases that are both frequent and tied, and is 0 for independent parts.
           This is what a wall screen wants: the most complained-about *specific* problems.

``top()`` also folds a phrase into a longer one that holds it when the longer one covers at
least ``fold`` of its documents (噪音大 seen almost only as 空调噪音大 -> show the latter only).

Left and right entropy (optional, offline): ``add_contexts(tokens, phrases)`` records the
token before and after each occurrence; a phrase whose neighbour is always the same word is
probably a fragment of a longer expression (low entropy). A clause break counts as a new,
distinct neighbour each time.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from nlp.extract import Terms, display

SEP = "|"


def encode_phrase(phrase: Sequence[str]) -> str:
    """A phrase as one string (a Redis hash field): ("鞋子", "开胶") -> "鞋子|开胶"."""
    return SEP.join(phrase)


def decode_phrase(key: str | Sequence[str]) -> tuple[str, ...]:
    return tuple(key.split(SEP)) if isinstance(key, str) else tuple(key)


@dataclass(frozen=True, slots=True)
class PhraseScore:
    phrase: tuple[str, ...]
    text: str
    count: int
    pmi: float
    score: float
    left_entropy: float | None = None
    right_entropy: float | None = None
    variants: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        d = {"phrase": self.text, "parts": list(self.phrase), "count": self.count,
             "pmi": round(self.pmi, 3), "score": round(self.score, 3), "variants": list(self.variants)}
        if self.left_entropy is not None:
            d["left_entropy"] = round(self.left_entropy, 3)
            d["right_entropy"] = round(self.right_entropy or 0.0, 3)
        return d


def _entropy(counter: Counter, unique: int) -> float:
    """Entropy (bits) of neighbours; ``unique`` occurrences each had a neighbour of its own."""
    total = sum(counter.values()) + unique
    if not total:
        return 0.0
    h = -sum(c / total * math.log2(c / total) for c in counter.values())
    if unique:
        h += unique * (1 / total) * math.log2(total)
    return h if h > 0 else 0.0


class PhraseStats:
    """Document counts of keywords, phrase candidates and their parts; PMI-based ranking."""

    def __init__(self) -> None:
        self.n_docs = 0
        self.keywords: Counter = Counter()
        self.phrases: Counter = Counter()
        self.parts: Counter = Counter()
        self._left: dict[tuple, Counter] = defaultdict(Counter)
        self._right: dict[tuple, Counter] = defaultdict(Counter)
        self._edges: Counter = Counter()        # (phrase, side) -> occurrences at a clause break
        self.variants: dict[tuple, Counter] = defaultdict(Counter)   # phrase -> {surface: docs}

    # -- counting -----------------------------------------------------------------------------

    def add(self, terms: Terms) -> None:
        """Count one document (its keywords and phrases are already unique within it)."""
        self.n_docs += 1
        kws = terms.keywords
        if kws:
            self.keywords.update(kws)
        if terms.phrases:
            self.phrases.update(terms.phrases)
        for phrase, surface in getattr(terms, "variants", ()):
            self.variants[phrase][surface] += 1
        if terms.units:
            if kws:
                kw = set(kws)
                extra = [u for u in terms.units if u not in kw]
            else:
                extra = terms.units
            if extra:
                self.parts.update(extra)

    def add_all(self, terms: Iterable[Terms]) -> "PhraseStats":
        for t in terms:
            self.add(t)
        return self

    def add_contexts(self, tokens: Sequence[str], phrases: Iterable[Sequence[str]] | None = None,
                     max_span: int = 12) -> None:
        """Record the neighbours of each occurrence of ``phrases`` (default: every known
        candidate) in one document's ``tokens``. Offline only; the stream does not need it.

        A part matches one token, or several tokens joined (不 + 合理), or the end of a token
        (贵 in 太贵); the parts must come in order within ``max_span`` tokens.
        """
        wanted = list(self.phrases) if phrases is None else [tuple(p) for p in phrases]
        if not wanted or not tokens:
            return
        by_first: dict[str, list[tuple]] = defaultdict(list)
        for p in wanted:
            by_first[p[0]].append(p)
        n = len(tokens)
        for i, tok in enumerate(tokens):
            for p in by_first.get(tok, ()):
                end = _match_rest(tokens, i + 1, p[1:], min(n, i + max_span))
                if end < 0:
                    continue
                self._neighbour(p, "L", tokens[i - 1] if i > 0 else None)
                self._neighbour(p, "R", tokens[end] if end < n else None)

    def _neighbour(self, phrase: tuple, side: str, tok: str | None) -> None:
        if tok is None or not any(ch.isalnum() for ch in tok):
            self._edges[(phrase, side)] += 1
        else:
            (self._left if side == "L" else self._right)[phrase][tok] += 1

    def merge(self, other: "PhraseStats") -> "PhraseStats":
        """Add another's counts to these (e.g. per-partition stats)."""
        self.n_docs += other.n_docs
        self.keywords.update(other.keywords)
        self.phrases.update(other.phrases)
        self.parts.update(other.parts)
        for p, c in other._left.items():
            self._left[p].update(c)
        for p, c in other._right.items():
            self._right[p].update(c)
        self._edges.update(other._edges)
        for p, c in other.variants.items():
            self.variants[p].update(c)
        return self

    @classmethod
    def from_counts(cls, keywords: Mapping[str, int], phrases: Mapping, n_docs: int,
                    parts: Mapping[str, int] | None = None,
                    variants: Mapping | None = None) -> "PhraseStats":
        """Stats rebuilt from stored counts: {keyword: docs}, {phrase or "a|b": docs}, n_docs,
        and optionally {part: docs} for parts that were not keywords (see module doc) and
        {phrase or "a|b": {surface: docs}}, the ways each phrase was written."""
        s = cls()
        s.n_docs = int(n_docs)
        s.keywords = Counter({k: int(v) for k, v in keywords.items()})
        s.phrases = Counter({decode_phrase(k): int(v) for k, v in phrases.items()})
        s.parts = Counter({k: int(v) for k, v in (parts or {}).items()})
        for k, vs in (variants or {}).items():
            s.variants[decode_phrase(k)].update({v: int(c) for v, c in vs.items()})
        return s

    def to_counts(self) -> dict:
        """The counts as JSON-friendly dicts (what ``from_counts`` takes back)."""
        return {"n_docs": self.n_docs, "keywords": dict(self.keywords),
                "phrases": {encode_phrase(p): c for p, c in self.phrases.items()},
                "parts": dict(self.parts),
                "variants": {encode_phrase(p): dict(c) for p, c in self.variants.items() if c}}

    # -- scores -------------------------------------------------------------------------------

    def doc_count(self, word: str) -> int:
        """Documents in which ``word`` was a keyword or a phrase part."""
        return self.keywords.get(word, 0) + self.parts.get(word, 0)

    def pmi(self, phrase: Sequence[str]) -> float:
        """Document-level PMI of the phrase's parts, in bits per join (see module doc)."""
        phrase = tuple(phrase)
        c = self.phrases.get(phrase, 0)
        if c <= 0 or self.n_docs <= 0 or len(phrase) < 2:
            return 0.0
        n = self.n_docs
        # a part occurs at least wherever the phrase does (guards against partial stored counts)
        logs = sum(math.log2(max(self.doc_count(p), c) / n) for p in phrase)
        return (math.log2(c / n) - logs) / (len(phrase) - 1)

    def score(self, phrase: Sequence[str]) -> PhraseScore:
        phrase = tuple(phrase)
        count = self.phrases.get(phrase, 0)
        pmi = self.pmi(phrase)
        left = right = None
        if phrase in self._left or phrase in self._right or (phrase, "L") in self._edges:
            left = _entropy(self._left.get(phrase, Counter()), self._edges.get((phrase, "L"), 0))
            right = _entropy(self._right.get(phrase, Counter()), self._edges.get((phrase, "R"), 0))
        vs = self.variants.get(phrase)
        variants = tuple(v for v, _ in sorted(vs.items(), key=lambda vc: (-vc[1], vc[0]))) if vs else ()
        return PhraseScore(phrase, display(phrase), count, pmi, count * max(pmi, 0.0), left, right, variants)

    def genuine(self, phrase: Sequence[str], floor: float = -1.0) -> bool:
        """Whether a candidate is a phrase rather than two words that met by accident: its PMI
        is above ``floor`` bits (it occurs at least half as often as its parts' chance meeting
        would have it). Not PMI > 0: the extractor already pairs an object with its own
        predicate, and the commonest problems are the ones PMI cannot see, those of the set's
        main noun (发动机异响 where nearly every complaint names the engine, 价格贵 where the price
        is in a third of them and 贵 is said of dishes too): their PMI is about 0 or below."""
        return self.phrases.get(tuple(phrase), 0) > 0 and self.pmi(phrase) > floor

    def top(self, n: int = 20, min_count: int = 3, fold: float = 0.8) -> list[PhraseScore]:
        """The ``n`` commonest genuine phrases (see ``genuine``) with at least ``min_count``
        documents, most documents first (ties: the higher score, then the text): a bureau head
        wants the problems most complaints carry. ``fold=0`` keeps sub-phrases."""
        cands = [self.score(p) for p, c in self.phrases.items() if c >= min_count and self.genuine(p)]
        if fold > 0:
            cands = _fold(cands, fold)
        cands.sort(key=lambda s: (-s.count, -s.score, s.text))
        return cands[:n]

    def top_keywords(self, n: int = 20, min_count: int = 1) -> list[tuple[str, int]]:
        """The ``n`` keywords in most documents (ties by the word)."""
        items = [(k, c) for k, c in self.keywords.items() if c >= min_count]
        items.sort(key=lambda kc: (-kc[1], kc[0]))
        return items[:n]


def _match_rest(tokens: Sequence[str], j: int, parts: Sequence[str], stop: int) -> int:
    """Index after the last token matching ``parts`` in order from ``j`` (gaps allowed), or -1."""
    for part in parts:
        found = -1
        while j < stop:
            tok = tokens[j]
            if tok == part or (len(tok) > len(part) and tok.endswith(part)):
                found = j + 1
                break
            if part.startswith(tok):                    # 不 + 合理 = 不合理
                k, acc = j, ""
                while k < stop and len(acc) < len(part):
                    acc += tokens[k]
                    k += 1
                if acc == part:
                    found = k
                    break
            j += 1
        if found < 0:
            return -1
        j = found
    return j


def _fold(cands: list[PhraseScore], fold: float) -> list[PhraseScore]:
    """Drop a phrase when a longer candidate containing it covers ``fold`` of its documents."""
    longer: dict[tuple, int] = {}
    for s in cands:
        k = len(s.phrase)
        for a in range(k):
            for b in range(a + 2, k + 1):
                if b - a < k:
                    sub = s.phrase[a:b]
                    longer[sub] = max(longer.get(sub, 0), s.count)
    return [s for s in cands if longer.get(s.phrase, 0) < fold * s.count]
