"""Read an ONNX file's ``metadata_props`` without loading the network.

Listing styles must be quick and must not need the ``onnx`` package (not a runtime
dependency), so this walks the top level of the protobuf wire format by hand: a
``ModelProto`` is a sequence of (tag, value) fields, and ``metadata_props`` is field 14,
each entry a ``StringStringEntryProto`` (key = field 1, value = field 2). Everything else,
the weights included, is skipped by length.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ModelError

_METADATA_PROPS = 14
_GRAPH = 7
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


def read_metadata(path: Path) -> dict[str, str]:
    """Return the model's metadata_props; raise :class:`ModelError` if it is not ONNX."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read style model {path}: {exc.strerror}") from exc
    try:
        fields = list(_fields(memoryview(data)))
        metadata = {}
        for number, value in fields:
            if number == _METADATA_PROPS:
                entry = dict(_fields(value))
                metadata[bytes(entry.get(1, b"")).decode()] = bytes(entry.get(2, b"")).decode()
    except (IndexError, ValueError) as exc:
        raise ModelError(f"{path} is not an ONNX model (corrupt or truncated)") from exc
    if not any(number == _GRAPH for number, _ in fields):
        raise ModelError(f"{path} is not an ONNX model (it has no graph)")
    return metadata


def _fields(data: memoryview):
    """Yield (field number, value) of one message; length-delimited values as memoryviews."""
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire_type = tag >> 3, tag & 7
        if wire_type == _VARINT:
            value, pos = _varint(data, pos)
        elif wire_type == _LENGTH:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise ValueError("field runs past the end")
            value, pos = data[pos : pos + size], pos + size
        elif wire_type in (_FIXED64, _FIXED32):
            size = 8 if wire_type == _FIXED64 else 4
            value, pos = data[pos : pos + size], pos + size
        else:
            raise ValueError(f"wire type {wire_type}")
        if number == 0:
            raise ValueError("field number 0")
        yield number, value


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
