"""Import imgaug 0.4.0 on NumPy 2.

imgaug 0.4.0 (the last release) uses NumPy names that NumPy 2 removed (``np.sctypes``,
``np.complex``, ``np.bool``); its forks fail the same way. This module puts those names back
before importing imgaug, and makes ElasticTransformation cast its displacement fields to float32
(NumPy 2's promotion rules otherwise hand OpenCV's remap float64 maps, which it rejects).

Always import imgaug through here::

    from shared.imgaug_compat import iaa, ia

Used in: 04 (and the augmentation benchmark).
"""
from __future__ import annotations

import numpy as np

if not hasattr(np, "sctypes"):
    np.sctypes = {
        "int": [np.int8, np.int16, np.int32, np.int64],
        "uint": [np.uint8, np.uint16, np.uint32, np.uint64],
        "float": [np.float16, np.float32, np.float64, np.longdouble],
        "complex": [np.complex64, np.complex128, np.clongdouble],
        "others": [bool, object, bytes, str, np.void],
    }
for _name, _value in (("complex", complex), ("bool", bool)):
    if _name not in vars(np):  # vars(): hasattr would trigger NumPy's deprecation warnings
        setattr(np, _name, _value)

import imgaug as ia  # noqa: E402
import imgaug.augmenters as iaa  # noqa: E402
from imgaug.augmenters import geometric as _geometric  # noqa: E402

_original_map_coordinates = _geometric.ElasticTransformation._map_coordinates


def _map_coordinates_float32(cls, arr, dx, dy, order=1, cval=0, mode="constant"):
    return _original_map_coordinates(arr, dx.astype(np.float32), dy.astype(np.float32),
                                     order=order, cval=cval, mode=mode)


_geometric.ElasticTransformation._map_coordinates = classmethod(_map_coordinates_float32)

__all__ = ["ia", "iaa"]
