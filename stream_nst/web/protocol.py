"""The web page's frame messages: a small binary header, then a JPEG.

Every picture crossing the WebSocket is one binary message::

    b"F" | id: uint32 LE | client_ms: float64 LE | JPEG bytes           (page -> server)
    b"F" | id: uint32 LE | client_ms: float64 LE | server_ms: float32 LE | JPEG bytes
                                                                        (server -> page)

``id`` numbers the page's frames and ``client_ms`` is the page's clock when it took the
frame, both echoed back with the stylized picture, so the page measures its own latency
(camera frame in -> stylized frame shown) without a shared clock; ``server_ms`` is the time
the server spent on it. Frames from an input on the server carry that input's frame
number and ``client_ms`` 0. Everything else (settings, status, errors) is JSON text.

Before a JPEG is decoded its header is read for the picture's size, so a small file that
claims a huge picture is refused without allocating it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError

MAGIC = b"F"
_IN = struct.Struct("<Id")
_OUT = struct.Struct("<Idf")
IN_HEADER = len(MAGIC) + _IN.size
"""Bytes before the JPEG in a page's frame message."""

# JPEG start-of-frame markers (baseline, progressive, lossless...): not DHT, JPG or DAC.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


@dataclass(frozen=True)
class IncomingFrame:
    """A frame from the page, still encoded."""

    id: int
    client_ms: float
    jpeg: bytes


def parse_frame(message: bytes) -> IncomingFrame:
    """Split a page's frame message; raises :class:`InputError` if it is not one."""
    if len(message) <= IN_HEADER or message[:1] != MAGIC:
        raise InputError("not a frame message (expected b'F', a 12-byte header and a JPEG)")
    frame_id, client_ms = _IN.unpack_from(message, len(MAGIC))
    return IncomingFrame(frame_id, client_ms, bytes(message[IN_HEADER:]))


def frame_message(frame_id: int, client_ms: float, server_ms: float, jpeg: bytes) -> bytes:
    """The server's message for a stylized frame."""
    return MAGIC + _OUT.pack(frame_id & 0xFFFFFFFF, client_ms, server_ms) + jpeg


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame header, without decoding it."""
    if data[:2] != b"\xff\xd8":
        raise InputError("not a JPEG image")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise InputError("corrupt JPEG header")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in _SOF:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height
        if marker == 0xDA or length < 2:  # image data before any frame header
            break
        pos += 2 + length
    raise InputError("JPEG without a frame header")


def decode_jpeg(data: bytes, max_pixels: int) -> np.ndarray:
    """A BGR uint8 picture from JPEG bytes of at most ``max_pixels``; raises InputError."""
    width, height = jpeg_size(data)
    if width * height > max_pixels or not width or not height:
        raise InputError(f"frame of {width}x{height} pixels is over the limit of {max_pixels}")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError("corrupt JPEG image")
    return image


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of a BGR uint8 picture."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any BGR uint8 picture
        raise InputError("cannot encode the frame as JPEG")
    return data.tobytes()
