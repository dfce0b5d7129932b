"""A stand-in "numpy" module whose objects pickle exactly as numpy's arrays do
(``ndarray.__reduce_ex__``), so the tests of numpy pickles need no numpy.

``fake_numpy`` (a pytest fixture) installs it in ``sys.modules`` for one test;
``fake_numpy.ndarray(shape, spec, values, fortran=False, order="<")`` takes the
values in C order and pickles them as numpy would: with ``_reconstruct`` and
``__setstate__`` for protocols 0-4, with ``_frombuffer`` for protocol 5.
"""
import itertools
import pickle
import struct
import sys
import types

import pytest

STRUCT_CODES = {"f8": "d", "f4": "f", "f2": "e", "i1": "b", "u1": "B", "i2": "h", "u2": "H",
                "i4": "i", "u4": "I", "i8": "q", "u8": "Q", "b1": "?"}


def fortran_order(values, shape):
    """C-order values of an array of ``shape``, listed column-major (the
    first index fastest): what numpy stores for a Fortran-order array."""
    strides = [1] * len(shape)
    for k in range(len(shape) - 2, -1, -1):
        strides[k] = strides[k + 1] * shape[k + 1]
    index = itertools.product(*[range(d) for d in reversed(shape)])
    return [values[sum(i * s for i, s in zip(reversed(ix), strides))] for ix in index]


def _modules():
    """The fake "numpy" and its submodules: ``-> {module name: module}``."""
    np = types.ModuleType("numpy")
    core = types.ModuleType("numpy.core")
    multiarray = types.ModuleType("numpy.core.multiarray")
    numeric = types.ModuleType("numpy.core.numeric")

    class ndarray:
        """``values`` in C order; pickled in Fortran order when ``fortran``."""

        def __init__(self, shape, spec, values, fortran=False, order="<"):
            self.shape, self.spec, self.values = shape, spec, values
            self.fortran, self.order = fortran, order

        def raw(self):
            stored = fortran_order(self.values, self.shape) if self.fortran else self.values
            return struct.pack("%s%d%s" % (self.order, len(stored), STRUCT_CODES[self.spec]),
                               *stored)

        def __reduce_ex__(self, protocol):
            kind = dtype(self.spec, order=self.order)
            if protocol >= 5:  # as numpy does for an array stored in one piece
                return (numeric._frombuffer, (pickle.PickleBuffer(self.raw()), kind, self.shape,
                                              "F" if self.fortran else "C"))
            return (multiarray._reconstruct, (ndarray, (0,), b"b"),
                    (1, self.shape, kind, self.fortran, self.raw()))

    class dtype:
        def __init__(self, spec, order="<"):
            self.spec, self.order = spec, order

        def __reduce__(self):
            return (dtype, (self.spec, False, True),
                    (3, self.order, None, None, None, -1, -1, 0))

    def _reconstruct(cls, shape, typecode):
        raise AssertionError("never called when pickling")

    def _frombuffer(buf, dtype, shape, order):
        raise AssertionError("never called when pickling")

    for obj, mod in ((ndarray, "numpy"), (dtype, "numpy"), (_reconstruct, "numpy.core.multiarray"),
                     (_frombuffer, "numpy.core.numeric")):
        obj.__module__, obj.__qualname__ = mod, obj.__name__
    np.ndarray, np.dtype, np.core = ndarray, dtype, core
    multiarray._reconstruct = _reconstruct
    numeric._frombuffer = _frombuffer
    core.multiarray, core.numeric = multiarray, numeric
    return {"numpy": np, "numpy.core": core, "numpy.core.multiarray": multiarray,
            "numpy.core.numeric": numeric}


@pytest.fixture
def fake_numpy(monkeypatch):
    """The fake numpy, in ``sys.modules`` for one test."""
    modules = _modules()
    for name, mod in modules.items():
        monkeypatch.setitem(sys.modules, name, mod)
    return modules["numpy"]


def fake_numpy_module():
    """The fake numpy, installed in ``sys.modules`` until its ``uninstall()``
    (for building test data at import time, outside a test)."""
    modules = _modules()
    saved = dict((name, sys.modules.get(name)) for name in modules)
    sys.modules.update(modules)

    def uninstall():
        for name, mod in saved.items():
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod

    modules["numpy"].uninstall = uninstall
    return modules["numpy"]
