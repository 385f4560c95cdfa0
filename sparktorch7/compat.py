"""python2torch compatibility (kept for older imports): see :mod:`sparktorch7.python2torch`."""
from sparktorch7.python2torch import PyTorch

__all__ = ["PyTorch"]
