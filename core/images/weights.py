"""Read the tensors of a PyTorch checkpoint in the legacy (pre-1.6, non-zip) format, without
torch and without trusting the pickle.

The legacy file is a row of pickles: a magic number, a protocol version, the system's type
sizes, the object itself (a state dict whose tensors refer to storages by key) and the list of
storage keys, followed by each storage's raw little-endian bytes (an 8-byte element count, then
the elements). The object pickle is read through an unpickler that knows only an ordered dict,
the tensor rebuild function and the storage types: any other global (``os.system`` and the like)
is refused before it can be called.
"""

from __future__ import annotations

import collections
import pickle
import struct
from dataclasses import dataclass
from typing import IO, Any, Final

import numpy as np

from core.errors import ShopLensError

LEGACY_MAGIC: Final = 0x1950A86A20F9469CFC6C
_STORAGE_TYPES: Final[dict[str, np.dtype[Any]]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}
_MAX_ELEMENTS: Final = 1 << 31


class CheckpointError(ShopLensError):
    """A weights file that is not a legacy checkpoint of plain tensors."""


@dataclass(frozen=True)
class _StorageType:
    dtype: np.dtype[Any]


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: np.dtype[Any]


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


def _rebuild_tensor(
    storage: _StorageRef, offset: int, shape: tuple[int, ...], strides: tuple[int, ...], *_: Any
) -> _TensorRef:
    """Stands in for ``torch._utils._rebuild_tensor_v2``: remembers where the tensor lies."""
    return _TensorRef(storage, int(offset), tuple(shape), tuple(strides))


class _TensorUnpickler(pickle.Unpickler):
    """Knows only ordered dicts, tensors and storage types; refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_TYPES:
            return _StorageType(_STORAGE_TYPES[name])
        raise CheckpointError(
            f"The weights file refers to '{module}.{name}', which a file of plain tensors never "
            "does; it was refused unread. Reinstall the weights package."
        )

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise CheckpointError("The weights file holds an object that is not a tensor.")
        storage_type, key = pid[1], pid[2]
        if not isinstance(storage_type, _StorageType):
            raise CheckpointError("The weights file holds a storage of an unknown type.")
        return _StorageRef(str(key), storage_type.dtype)


def _plain_load(handle: IO[bytes]) -> Any:
    """A header pickle, refused if it names any global at all."""
    unpickler = _TensorUnpickler(handle)
    unpickler.find_class = _refuse_globals  # type: ignore[method-assign]
    return unpickler.load()


def _refuse_globals(module: str, name: str) -> Any:
    raise CheckpointError(f"The weights file's header refers to '{module}.{name}'; it was refused.")


def read_legacy_checkpoint(handle: IO[bytes]) -> dict[str, np.ndarray]:
    """The tensors of a legacy PyTorch state dict, as float/int numpy arrays by name.

    Raises:
        CheckpointError: the file is not a legacy checkpoint, refers to anything but tensors,
            or is cut short.
    """
    try:
        if _plain_load(handle) != LEGACY_MAGIC:
            raise CheckpointError("The weights file is not a legacy PyTorch checkpoint.")
        _plain_load(handle)  # protocol version
        _plain_load(handle)  # type sizes of the machine that wrote it
        state = _TensorUnpickler(handle).load()
        keys = _plain_load(handle)
    except (pickle.UnpicklingError, EOFError, struct.error, ValueError) as err:
        raise CheckpointError(f"The weights file cannot be read ({err}).") from None
    if not isinstance(state, dict) or not isinstance(keys, list):
        raise CheckpointError("The weights file does not hold a state dict of tensors.")
    buffers = _read_storages(handle, [str(key) for key in keys], state)
    return {str(name): _materialise(ref, buffers) for name, ref in state.items()}


def _read_storages(
    handle: IO[bytes], keys: list[str], state: dict[Any, Any]
) -> dict[str, np.ndarray]:
    dtypes = {
        ref.storage.key: ref.storage.dtype for ref in state.values() if isinstance(ref, _TensorRef)
    }
    buffers = {}
    for key in keys:
        if key not in dtypes:
            raise CheckpointError("The weights file lists a storage no tensor uses.")
        header = handle.read(8)
        if len(header) < 8:
            raise CheckpointError("The weights file is cut short.")
        (count,) = struct.unpack("<q", header)
        if not 0 <= count < _MAX_ELEMENTS:
            raise CheckpointError("The weights file declares an impossible storage size.")
        dtype = dtypes[key]
        raw = handle.read(count * dtype.itemsize)
        if len(raw) < count * dtype.itemsize:
            raise CheckpointError("The weights file is cut short.")
        buffers[key] = np.frombuffer(raw, dtype=dtype)
    return buffers


def _materialise(ref: Any, buffers: dict[str, np.ndarray]) -> np.ndarray:
    if not isinstance(ref, _TensorRef) or ref.storage.key not in buffers:
        raise CheckpointError("The weights file holds an entry that is not a tensor.")
    buffer = buffers[ref.storage.key]
    itemsize = buffer.dtype.itemsize
    if len(ref.shape) != len(ref.strides):
        raise CheckpointError("The weights file holds a tensor with a damaged shape.")
    pairs = zip(ref.shape, ref.strides, strict=True)
    last = ref.offset + sum((size - 1) * stride for size, stride in pairs)
    if (
        ref.offset < 0
        or min(ref.strides, default=0) < 0
        or (all(ref.shape) and last >= len(buffer))
    ):
        raise CheckpointError("The weights file holds a tensor outside its storage.")
    view = np.lib.stride_tricks.as_strided(
        buffer[ref.offset :],
        shape=ref.shape,
        strides=tuple(stride * itemsize for stride in ref.strides),
        writeable=False,
    )
    return np.ascontiguousarray(view)
