# Types for Cython's compiled build of _fastscan.py (pure-Python mode; see that file).
import cython

@cython.locals(c_bound=cython.long, c_keyword=cython.long, c_object=cython.long, c_problem=cython.long,
               c_adj=cython.long, c_vhead=cython.long, c_neg=cython.long, c_adv=cython.long,
               c_particle=cython.long, c_end=cython.long, c_glued=cython.long, c_latent=cython.long,
               c_excess=cython.long, c_role=cython.long, c=cython.long, c1=cython.long,
               gap=cython.Py_ssize_t, obj=cython.Py_ssize_t, vi=cython.Py_ssize_t, adv=cython.Py_ssize_t,
               last=cython.Py_ssize_t, n=cython.Py_ssize_t, i=cython.Py_ssize_t,
               has_neg=cython.bint, exc=cython.bint, linked=cython.bint, noun=cython.bint,
               keywords=dict, phrases=dict, variants=dict, units=dict)
cpdef tuple scan(list tokens, list classes, dict part_of, dict norm, normalize, is_problem, light,
                 canonical, Py_ssize_t max_gap, end_problem)
