# Types for Cython's compiled build of _fastscan.py (pure-Python mode; see that file).
import cython

@cython.locals(c_bound=cython.long, c_keyword=cython.long, c_object=cython.long, c_problem=cython.long,
               c_adj=cython.long, c_vhead=cython.long, c_neg=cython.long, c_adv=cython.long,
               c_particle=cython.long, c_end=cython.long, c_glued=cython.long, c_latent=cython.long,
               c_excess=cython.long, c_role=cython.long, c=cython.long, c1=cython.long,
               gap=cython.Py_ssize_t, obj=cython.Py_ssize_t, vi=cython.Py_ssize_t, adv=cython.Py_ssize_t,
               last=cython.Py_ssize_t, n=cython.Py_ssize_t, i=cython.Py_ssize_t,
               has_neg=cython.bint, exc=cython.bint, linked=cython.bint, noun=cython.bint,
               keywords=dict, phrases=dict, variants=dict, units=dict, prefixes=unicode, part=unicode, r=Rules,
               light=frozenset)
cpdef tuple scan(list tokens, list classes, dict part_of, dict norm, pol, stopwords, Py_ssize_t max_gap,
                 end_problem)

cdef class Rules:
    cdef readonly frozenset generic, places, negator_set, negative, positive, obligations, undesirable, light
    cdef readonly dict degree, scalar, same_object, same_predicate, same_predicate_of, split_cache
    cdef readonly unicode prefixes
    cdef readonly Py_ssize_t neg_len, deg_len

cpdef tuple split(pol, str pred)

@cython.locals(k=cython.Py_ssize_t, deg_len=cython.Py_ssize_t, found=cython.bint, excess=cython.bint,
               cache=dict, degree=dict, prefixes=unicode, negators=frozenset)
cdef tuple _split(Rules r, str pred)

cpdef bint problem(pol, obj, pred, excess, noun) except -1

@cython.locals(neg_w=cython.bint, pos_w=cython.bint, bad_up=cython.bint, glued_excess=cython.bint,
               negative=frozenset, positive=frozenset, scalar=dict, core=str, neg=str)
cdef bint _problem(Rules r, obj, str pred, bint excess, bint noun) except -1

@cython.locals(cache=dict)
cpdef is_problem(pol, obj, pred, excess, noun)

cpdef canonical(pol, phrase)

@cython.locals(of=dict)
cdef _canonical(Rules r, phrase)

cpdef str normalize(pol, stopwords, str part)

cdef str _normalize(Rules r, stopwords, str part)

@cython.locals(ch=cython.Py_UCS4, o=cython.long)
cpdef bint wordlike(str word) except -1

@cython.locals(long=cython.bint, degree=dict, stopwords=frozenset, first=cython.Py_UCS4,
               bits=cython.long, rest=str, rest_tag=str, r=Rules)
cpdef long classify(ex, str word, str t) except -1

cdef str _tag_of(ex, str word)

@cython.locals(cache=dict)
cpdef long miss_listed(ex, str word, Py_ssize_t i, text, tagged) except -1

@cython.locals(classes=list, keywords=dict, phrases=dict, units=dict, variants=dict)
cpdef terms_of(ex, text, list tokens, terms_type)
