# cython: language_level=3, boundscheck=False, wraparound=False
"""sparktorch7._lua: LuaJIT 2.1 embedded in Python.

Layout: _errors.pxi (exceptions, status mapping), _lock.pxi (per-state lock),
_limits.pxi (timeout, deadline blocks, max_memory), _interrupt.pxi (Ctrl-C reaches Lua),
_state.pxi (LuaState), _finalizers.pxi (__gc errors
become warnings), _objects.pxi (proxies of Lua values), _convert.pxi (values both ways),
_pylib.pxi (the `py` module that Lua sees), _stdio.pxi (print and io.write into
sys.stdout), _tensor.pxi (numpy bridge), _kernels.pxi (C loops of the nn kernels).
"""
from cpython.ref cimport PyObject, Py_INCREF, Py_DECREF
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize, PyBytes_Check
from cpython.unicode cimport PyUnicode_DecodeUTF8, PyUnicode_Check
from cpython.float cimport PyFloat_AS_DOUBLE, PyFloat_FromDouble, PyFloat_Check
from cpython.long cimport PyLong_Check, PyLong_AsLongLongAndOverflow, PyLong_FromLongLong
from cpython.bool cimport PyBool_Check
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.dict cimport PyDict_SetItem
from cpython.pythread cimport (PyThread_type_lock, PyThread_allocate_lock, PyThread_free_lock,
                               PyThread_acquire_lock, PyThread_release_lock, PyThread_get_thread_ident,
                               WAIT_LOCK, NOWAIT_LOCK)
from libc.string cimport memcpy, memset, strlen
from libc.stdint cimport intptr_t, int64_t
from libc.math cimport floor, fabs

from sparktorch7 cimport luajit as lua

cimport numpy as cnp
import numpy as np
cnp.import_array()

import builtins
import os
import sys
import threading

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object s, Py_ssize_t* size) except NULL
    bint PyFloat_CheckExact(object o)
    bint PyLong_CheckExact(object o)
    bint PyUnicode_CheckExact(object o)
    bint PyList_CheckExact(object o)
    bint PyTuple_CheckExact(object o)
    bint PyDict_CheckExact(object o)
    object PyUnicode_DecodeUTF8Stateful "PyUnicode_DecodeUTF8"(const char* s, Py_ssize_t size, const char* errors)

LUA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lua")
LUAJIT_VERSION = (<bytes>lua.LUAJIT_VERSION).decode()

# 2**53: beyond it a double no longer holds every integer.
cdef double MAX_EXACT = 9007199254740992.0
cdef int MAX_DEPTH = 200

include "_errors.pxi"
include "_lock.pxi"
include "_convert.pxi"
include "_limits.pxi"
include "_interrupt.pxi"
include "_state.pxi"
include "_finalizers.pxi"
include "_objects.pxi"
include "_pylib.pxi"
include "_stdio.pxi"
include "_tensor.pxi"
include "_kernels.pxi"
