# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Word classes of a complaint's tokens from a compact C hash table (compiled only).

``ClassTable(words)`` holds {word: class bits} for the dictionary words; ``classes(tokens,
extra)`` gives the list of each token's class, looking a word up in ``extra`` (a dict: words met
that are in no dictionary) when the table does not hold it, None when neither does. Same answers
as ``[table.get(w, extra.get(w)) for w in tokens]`` with Python dicts (the fallback in
``nlp.extract``), at a fraction of the memory traffic: a slot holds the word's hash (Python's
str hash) and a second, independent 64-bit hash (FNV-1a of its code points and length) instead
of the word, so a probe reads one slot and never the stored string; a false match needs both
hashes of two different words to collide.
"""
from cpython.mem cimport PyMem_Free, PyMem_Malloc

cdef extern from "Python.h":
    Py_UCS4 PyUnicode_READ_CHAR(object o, Py_ssize_t index)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    Py_hash_t PyObject_Hash(object o) except -1

ctypedef unsigned long long u64


cdef struct Slot:
    u64 h1
    u64 h2
    int value        # index into ClassTable.values; -1: empty


cdef inline u64 _h2(str w):
    cdef u64 h = 14695981039346656037ULL
    cdef Py_ssize_t i, n = PyUnicode_GET_LENGTH(w)
    for i in range(n):
        h ^= <u64>PyUnicode_READ_CHAR(w, i)
        h *= 1099511628211ULL
    return h ^ (<u64>n * 0x9E3779B97F4A7C15ULL)


cdef class ClassTable:
    cdef Slot* slots
    cdef u64 mask
    cdef list values
    cdef dict index
    cdef readonly Py_ssize_t size

    def __cinit__(self, words):
        cdef Py_ssize_t n = len(words), cap = 16, i
        while cap < 2 * n:
            cap <<= 1
        self.slots = <Slot*>PyMem_Malloc(cap * sizeof(Slot))
        if self.slots == NULL:
            raise MemoryError()
        for i in range(cap):
            self.slots[i].value = -1
        self.mask = <u64>(cap - 1)
        self.values = []
        self.index = {}
        self.size = 0
        for w, c in words.items():
            self._put(w, c)

    def __dealloc__(self):
        if self.slots != NULL:
            PyMem_Free(self.slots)

    cdef int _put(self, str w, object c) except -1:
        cdef u64 h1 = <u64>PyObject_Hash(w), h2 = _h2(w)
        cdef u64 i = h1 & self.mask
        cdef int v
        got = self.index.get(c)
        if got is None:
            v = len(self.values)
            self.values.append(c)
            self.index[c] = v
        else:
            v = got
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
        cdef u64 i = h1 & self.mask
        cdef u64 h2 = 0
        cdef bint have2 = False
        while self.slots[i].value >= 0:
            if self.slots[i].h1 == h1:
                if not have2:
                    h2 = _h2(w)
                    have2 = True
                if self.slots[i].h2 == h2:
                    return self.slots[i].value
            i = (i + 1) & self.mask
        return -1

    def get(self, str word, default=None):
        cdef int v = self._find(word)
        return self.values[v] if v >= 0 else default

    def __contains__(self, str word):
        return self._find(word) >= 0

    def __len__(self):
        return self.size

    cpdef list classes(self, list tokens, dict extra):
        cdef Py_ssize_t n = len(tokens), k
        cdef int v
        cdef list out = [None] * n
        cdef list values = self.values
        for k in range(n):
            w = tokens[k]
            v = self._find(w)
            if v >= 0:
                out[k] = values[v]
            else:
                out[k] = extra.get(w)
        return out
