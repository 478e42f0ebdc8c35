# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Word classes of a complaint's tokens from a compact C hash table (compiled only).

``ClassTable(words)`` holds {word: class bits} for the dictionary words; ``classes(tokens,
extra)`` gives the list of each token's class, looking a word up in ``extra`` (a dict: words met
that are in no dictionary) when the table does not hold it, None when neither does. Same answers
as ``[table.get(w, extra.get(w)) for w in tokens]`` with Python dicts (the fallback in
``nlp.extract``), at a fraction of the memory traffic: a slot holds the word's hash (Python's
str hash) and a second, independent hash (32 bits of FNV-1a over its code points) instead
of the word, so a probe reads one slot and never the stored string; a false match needs both
hashes of two different words to collide (a 64-bit and a 32-bit one: about 2**-96 a probe).
"""
from cpython.mem cimport PyMem_Free, PyMem_Malloc

cdef extern from "Python.h":
    Py_UCS4 PyUnicode_READ_CHAR(object o, Py_ssize_t index)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    Py_hash_t PyObject_Hash(object o) except -1
    int PyUnicode_KIND(object o)
    void* PyUnicode_DATA(object o)


cdef inline Py_UCS4 _char(int kind, const void* data, Py_ssize_t k) noexcept nogil:
    """Character ``k`` of a str of that kind and data (no per-character checks)."""
    if kind == 2:
        return (<const unsigned short*>data)[k]
    if kind == 1:
        return (<const unsigned char*>data)[k]
    return (<const Py_UCS4*>data)[k]

ctypedef unsigned long long u64

cdef extern from *:
    void __builtin_prefetch(const void* p) nogil


cdef struct Slot:
    u64 h1
    unsigned int h2
    int value        # index into ClassTable.values; -1: empty


cdef inline unsigned int _h2(str w) noexcept:
    cdef u64 h = 14695981039346656037ULL
    cdef Py_ssize_t i, n = PyUnicode_GET_LENGTH(w)
    cdef int kind = PyUnicode_KIND(w)
    cdef const void* data = PyUnicode_DATA(w)
    for i in range(n):
        h ^= <u64>_char(kind, data, i)
        h *= 1099511628211ULL
    h ^= <u64>n * 0x9E3779B97F4A7C15ULL
    return <unsigned int>(h ^ (h >> 32))


cdef Slot* _slots(Py_ssize_t cap) except NULL:
    cdef Slot* slots = <Slot*>PyMem_Malloc(cap * sizeof(Slot))
    cdef Py_ssize_t i
    if slots == NULL:
        raise MemoryError()
    for i in range(cap):
        slots[i].value = -1
    return slots


cdef class ClassTable:
    """{word: class} for a fixed set of words (the dictionary's), probed from C.

    Two tables: all words, and a small one (``hot``, about half a megabyte, so it stays in the
    CPU cache) that takes the first ``hot_words`` distinct words looked up: the common words,
    met first, are then found without a trip to main memory. The hot table also remembers the
    class ``classes()`` got from its ``miss`` callback for a word in no dictionary (the class
    of a word depends only on the word: the callback must be deterministic, as the
    extractor's is); ``get`` and ``in`` then answer for it too."""
    cdef Slot* slots
    cdef u64 mask
    cdef Slot* hot
    cdef u64 hot_mask
    cdef Py_ssize_t hot_free
    cdef list values
    cdef dict index
    cdef readonly Py_ssize_t size

    def __cinit__(self, words, Py_ssize_t hot_words=16384):
        cdef Py_ssize_t n = len(words), cap = 16, hot_cap = 16
        while cap < 2 * n:
            cap <<= 1
        while hot_cap < 2 * hot_words:
            hot_cap <<= 1
        self.slots = _slots(cap)
        self.mask = <u64>(cap - 1)
        self.hot = _slots(hot_cap)
        self.hot_mask = <u64>(hot_cap - 1)
        self.hot_free = hot_words
        self.values = []
        self.index = {}
        self.size = 0
        for w, c in words.items():
            self._put(w, c)

    def __dealloc__(self):
        if self.slots != NULL:
            PyMem_Free(self.slots)
        if self.hot != NULL:
            PyMem_Free(self.hot)

    cdef int _value(self, object c) except -1:
        """The position of class value ``c`` in ``values`` (added the first time it is met)."""
        got = self.index.get(c)
        if got is not None:
            return got
        v = len(self.values)
        self.values.append(c)
        self.index[c] = v
        return v

    cdef int _put(self, str w, object c) except -1:
        cdef u64 h1 = <u64>PyObject_Hash(w)
        cdef unsigned int h2 = _h2(w)
        cdef u64 i = h1 & self.mask
        cdef int v = self._value(c)
        while self.slots[i].value >= 0:
            if self.slots[i].h1 == h1 and self.slots[i].h2 == h2:
                self.slots[i].value = v
                return 0
            i = (i + 1) & self.mask
        self.slots[i].h1 = h1
        self.slots[i].h2 = h2
        self.slots[i].value = v
        self.size += 1
        return 0

    cdef inline int _find(self, str w) except -2:
        cdef u64 h1 = <u64>PyObject_Hash(w)
        cdef u64 i = h1 & self.hot_mask
        cdef unsigned int h2 = 0
        cdef bint have2 = False
        cdef int v
        while self.hot[i].value >= 0:
            if self.hot[i].h1 == h1:
                h2 = _h2(w)
                have2 = True
                if self.hot[i].h2 == h2:
                    return self.hot[i].value
            i = (i + 1) & self.hot_mask
        cdef u64 j = h1 & self.mask
        while self.slots[j].value >= 0:
            if self.slots[j].h1 == h1:
                if not have2:
                    h2 = _h2(w)
                    have2 = True
                if self.slots[j].h2 == h2:
                    v = self.slots[j].value
                    if self.hot_free > 0:          # i: the free hot slot the probe ended on
                        self.hot[i].h1 = h1
                        self.hot[i].h2 = h2
                        self.hot[i].value = v
                        self.hot_free -= 1
                    return v
            j = (j + 1) & self.mask
        return -1

    def get(self, str word, default=None):
        cdef int v = self._find(word)
        return self.values[v] if v >= 0 else default

    def __contains__(self, str word):
        return self._find(word) >= 0

    def __len__(self):
        return self.size

    cdef inline int _find_hot(self, str w, u64 h1) except -2:
        """The value of ``w`` (its hash ``h1``) in the hot table, -1 if it is not there."""
        cdef u64 i = h1 & self.hot_mask
        cdef unsigned int h2 = 0
        cdef bint have2 = False
        while self.hot[i].value >= 0:
            if self.hot[i].h1 == h1:
                if not have2:
                    h2 = _h2(w)
                    have2 = True
                if self.hot[i].h2 == h2:
                    return self.hot[i].value
            i = (i + 1) & self.hot_mask
        return -1

    cpdef list classes(self, list tokens, dict extra, miss=None, text=None, owner=None):
        """Each token's class: from the table, else from ``extra``, else ``miss(word, index,
        text, tagged)`` if given (``tagged``: one list per call, for the callee; with an
        ``owner``, ``miss(owner, word, index, text, tagged)``), else None.

        Two passes: the hot table first, asking the memory for the main table's slot of each word
        not there (a text's new words then wait for main memory together, not one by one); then
        those words, in order."""
        cdef Py_ssize_t n = len(tokens), k, j, later = 0
        cdef int v
        cdef u64 h1
        cdef list out = [None] * n
        cdef list values = self.values
        cdef list tagged = None
        cdef Py_ssize_t* rest = NULL
        try:
            for k in range(n):
                w = tokens[k]
                h1 = <u64>PyObject_Hash(w)
                v = self._find_hot(w, h1)
                if v >= 0:
                    out[k] = values[v]
                else:
                    if rest == NULL:
                        rest = <Py_ssize_t*>PyMem_Malloc(n * sizeof(Py_ssize_t))
                        if rest == NULL:
                            raise MemoryError()
                    rest[later] = k
                    later += 1
                    __builtin_prefetch(&self.slots[h1 & self.mask])
            for j in range(later):
                k = rest[j]
                w = tokens[k]
                v = self._find(w)
                if v >= 0:
                    out[k] = values[v]
                else:
                    c = extra.get(w)
                    if c is None and miss is not None:
                        if tagged is None:
                            tagged = []
                        if owner is not None:
                            c = miss(owner, w, k, text, tagged)
                        else:
                            c = miss(w, k, text, tagged)
                        if c is not None and self.hot_free > 0:
                            self._remember(w, c)     # punctuation, numbers …: found in the hot table next time
                    out[k] = c
        finally:
            PyMem_Free(rest)
        return out

    cdef int _remember(self, str w, object c) except -1:
        """Put a word of no dictionary with its class into the hot table (while it has room)."""
        cdef u64 h1 = <u64>PyObject_Hash(w)
        cdef unsigned int h2 = _h2(w)
        cdef u64 i = h1 & self.hot_mask
        cdef int v = self._value(c)
        while self.hot[i].value >= 0:
            if self.hot[i].h1 == h1 and self.hot[i].h2 == h2:
                return 0
            i = (i + 1) & self.hot_mask
        self.hot[i].h1 = h1
        self.hot[i].h2 = h2
        self.hot[i].value = v
        self.hot_free -= 1
        return 0


# -- what a text may hold: one pass over its characters --------------------------------------

cdef extern from "Python.h":
    int Py_UNICODE_ISDECIMAL(Py_UCS4 ch)
    int Py_UNICODE_ISSPACE(Py_UCS4 ch)

MAY_NUMBER = 1       # a number, plate, e-mail or folded character may be there (nlp.pii patterns)
MAY_NAME = 2         # a name cue may be there (我叫, 名叫, 我的名字, 经营者, 业主, 店主, 个体户, 工商户, 姓名：…)
STAR = 4             # a '*' (what masking leaves)
ADDRESS = 8          # a number right before 号/栋/幢/单元 (nlp.extract._ADDRESS_AT)
JOINS = 16           # an ASCII letter or digit next to one of + # & . _ % - (nlp.segment._JOINER)

cdef unicode _PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
cdef unicode _NUMERALS = "０１２３４５６７８９一二三四五六七八九十百零〇两"
# the Han characters text_flags looks at (号栋幢单 叫 字 主 户 者 是 为), by their low 10 bits
cdef u64 _CUE_BITS[16]
for _c in "号栋幢单叫字主户者是为":
    _CUE_BITS[(ord(_c) >> 6) & 15] |= (<u64>1) << (ord(_c) & 63)


cdef inline bint _folded(Py_UCS4 ch) noexcept nogil:
    return (ch == 0xb2 or ch == 0xb3 or ch == 0xb9 or 0x2070 <= ch <= 0x2079 or 0x2080 <= ch <= 0x2089
            or 0x2460 <= ch <= 0x24ff or 0x2776 <= ch <= 0x2793 or ch == 0xff0b or ch == 0xff0d
            or ch == 0xff0e or 0xff20 <= ch <= 0xff3a or 0xff41 <= ch <= 0xff5a)


cdef inline bint _digit_gap(Py_UCS4 ch) noexcept nogil:
    """What nlp.pii._MAY_HOLD_NUMBER allows between two digits: its separators (space, no-break
    and ideographic space, '.', '-') and brackets."""
    return (ch == 32 or ch == 0xa0 or ch == 0x3000 or ch == 46 or ch == 45 or ch == 40 or ch == 41
            or ch == 0xff08 or ch == 0xff09)


cdef inline bint _joiner_char(Py_UCS4 ch) noexcept nogil:
    return ch == 43 or ch == 35 or ch == 38 or ch == 46 or ch == 95 or ch == 37 or ch == 45   # + # & . _ % -


cdef inline bint _latin_or_digit(Py_UCS4 ch) noexcept nogil:
    return 48 <= ch <= 57 or 65 <= ch <= 90 or 97 <= ch <= 122


cdef inline bint _role_end(Py_UCS4 last, Py_UCS4 before) noexcept nogil:
    """Whether ``before`` + ``last`` ends one of nlp.pii's role words (姓名, 联系人, 投诉人, 举报人,
    申诉人, 反映人, 来电人, 当事人, 消费者)."""
    if last == 0x540d:                                                      # 名
        return before == 0x59d3                                             # 姓名
    if last == 0x4eba:                                                      # 人
        return (before == 0x7cfb or before == 0x8bc9 or before == 0x62a5    # 系 诉 报
                or before == 0x6620 or before == 0x7535 or before == 0x4e8b)  # 映 电 事
    if last == 0x8005:                                                      # 者
        return before == 0x8d39                                             # 消费者
    return False


def text_flags(str text) -> int:
    """Bits of MAY_NUMBER, MAY_NAME, STAR, ADDRESS, JOINS: necessary conditions, found in one
    pass, for the patterns ``nlp.extract.Extractor.clean`` and ``nlp.segment`` would otherwise
    search one by one. MAY_NUMBER and MAY_NAME may be set where no pattern matches (then the
    patterns decide); ADDRESS is set exactly where ``_ADDRESS_AT`` matches, JOINS exactly where
    ``nlp.segment._JOINER`` does."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), k
    cdef int kind = PyUnicode_KIND(text)
    cdef const void* data = PyUnicode_DATA(text)
    cdef Py_UCS4 ch, prev = 0, last = 0, before = 0   # last: the previous non-space character; before: the one right before it
    cdef int flags = 0, run = 0, gap = 4
    for k in range(n):
        ch = _char(kind, data, k)
        if 0x4e00 <= ch <= 0x9fff:
            # a Han character: no digit, no space, no separator; most are none of the cues (one
            # bit of _CUE_BITS says so, without a branch per cue)
            gap = 4
            if (_CUE_BITS[(<unsigned int>ch >> 6) & 15] >> (<unsigned int>ch & 63)) & 1:
                if ch == 0x53f7 or ch == 0x680b or ch == 0x5e62 or ch == 0x5355:   # 号 栋 幢 单
                    if ((ch != 0x5355 or (k + 1 < n and _char(kind, data, k + 1) == 0x5143))     # 单元
                            and (48 <= prev <= 57 or (prev > 127 and prev in _NUMERALS))):
                        flags |= ADDRESS
                elif ch == 0x53eb:                                               # 叫
                    if prev == 0x6211 or prev == 0x540d:                         # 我叫 名叫
                        flags |= MAY_NAME
                elif ch == 0x5b57:                                               # 字
                    if (prev == 0x540d and k >= 3 and _char(kind, data, k - 2) == 0x7684
                            and _char(kind, data, k - 3) == 0x6211):            # 我的名字
                        flags |= MAY_NAME
                elif ch == 0x4e3b:                                               # 主
                    if prev == 0x4e1a or prev == 0x5e97:                         # 业主 店主
                        flags |= MAY_NAME
                elif ch == 0x6237:                                               # 户
                    if prev == 0x4f53 or (prev == 0x5546 and k >= 2
                                          and _char(kind, data, k - 2) == 0x5de5):  # 体户 工商户
                        flags |= MAY_NAME
                elif ch == 0x8005:                                               # 者
                    if prev == 0x8425:                                           # 经营者
                        flags |= MAY_NAME
                elif ch == 0x662f or ch == 0x4e3a:                               # 是 为
                    if _role_end(last, before):                                  # after a role word
                        flags |= MAY_NAME
            last = ch
            before = prev
        elif ch < 128:
            if 48 <= ch <= 57:
                run = run + 1 if gap <= 3 else 1
                gap = 0
                if run >= 7:
                    flags |= MAY_NUMBER
                if _joiner_char(prev):
                    flags |= JOINS
            else:
                gap = gap + 1 if _digit_gap(ch) else 4
                if 65 <= ch <= 90:
                    if prev > 127 and prev in _PROVINCES:
                        flags |= MAY_NUMBER                   # a plate: 晋A
                    if _joiner_char(prev):
                        flags |= JOINS
                elif 97 <= ch <= 122:
                    if _joiner_char(prev):
                        flags |= JOINS
                elif _joiner_char(ch):
                    if _latin_or_digit(prev):
                        flags |= JOINS
                elif ch == 64:                                # '@'
                    flags |= MAY_NUMBER
                elif ch == 42:                                # '*'
                    flags |= STAR
                elif ch == 58 and _role_end(last, before):
                    flags |= MAY_NAME                         # 姓名: 联系人:
            if not Py_UNICODE_ISSPACE(ch):
                last = ch
                before = prev
        elif (0x3001 <= ch <= 0x301f or 0x2010 <= ch <= 0x2027 or ch == 0xff0c or ch == 0xff01
              or ch == 0xff1f or ch == 0xff1b):
            # common punctuation (、。《》「」【】 ‘’“”… ，！？；): no digit, space, separator,
            # folded form or cue
            gap = 4
            last = ch
            before = prev
        else:
            if Py_UNICODE_ISDECIMAL(ch):
                flags |= MAY_NUMBER                           # a digit of another script (１, ٣)
                run = run + 1 if gap <= 3 else 1
                gap = 0
            else:
                gap = gap + 1 if _digit_gap(ch) else 4
                if _folded(ch):
                    flags |= MAY_NUMBER
                elif ch == 0xff1a and _role_end(last, before):
                    flags |= MAY_NAME                         # 姓名： 联系人：
            if not Py_UNICODE_ISSPACE(ch):
                last = ch
                before = prev
        prev = ch
    return flags


cdef extern from "Python.h":
    int PyUnicode_IS_ASCII(object o)
    int Py_UNICODE_ISALNUM(Py_UCS4 ch)


def resplit(list words, split_one):
    """``[p for w in words for p in split_one(w)]`` where ``split_one`` is only called for words
    of two or more ASCII characters that are not all letters and digits (the only ones
    ``nlp.segment._resplit`` may change); the same list when no word is such."""
    cdef Py_ssize_t n = len(words), k, j, m
    cdef bint odd
    cdef list out = None
    for k in range(n):
        w = words[k]
        m = PyUnicode_GET_LENGTH(w)
        if m < 2 or not PyUnicode_IS_ASCII(w):
            if out is not None:
                out.append(w)
            continue
        odd = False
        for j in range(m):
            if not Py_UNICODE_ISALNUM(PyUnicode_READ_CHAR(w, j)):
                odd = True
                break
        if not odd:
            if out is not None:
                out.append(w)
            continue
        if out is None:
            out = words[:k]
        out.extend(split_one(w))
    return out if out is not None else words


def joins(str text) -> bool:
    """``nlp.segment._JOINER.search(text) is not None``: an ASCII letter or digit right next to
    one of + # & . _ % - (jieba-rs may keep such a run in one token)."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), k
    cdef int kind = PyUnicode_KIND(text)
    cdef const void* data = PyUnicode_DATA(text)
    cdef Py_UCS4 prev = 0, ch
    for k in range(n):
        ch = _char(kind, data, k)
        if (_joiner_char(ch) and _latin_or_digit(prev)) or (_latin_or_digit(ch) and _joiner_char(prev)):
            return True
        prev = ch
    return False
