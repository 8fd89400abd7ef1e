"""The small part of CBOR (RFC 8949) that Pagefind's index files use: ints, strings, arrays.

Encoding is canonical (shortest length forms), as minicbor writes it, so a file decoded and
encoded again has the same bytes.
"""

from __future__ import annotations

import struct
from typing import Any

_UINT, _NINT, _BYTES, _TEXT, _ARRAY, _MAP = range(6)


class CborError(ValueError):
    """The data is not CBOR of the supported kinds."""


def loads(data: bytes) -> Any:
    """Decode one CBOR item that fills `data` exactly."""
    value, end = _decode(data, 0)
    if end != len(data):
        raise CborError(f"{len(data) - end} bytes after the item")
    return value


def dumps(value: Any) -> bytes:
    """Encode ints, str, bytes, lists and dicts (in their given order)."""
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _head(data: bytes, pos: int) -> tuple[int, int, int]:
    if pos >= len(data):
        raise CborError("data ends inside an item")
    major, info = data[pos] >> 5, data[pos] & 0x1F
    pos += 1
    if info < 24:
        return major, info, pos
    sizes = {24: 1, 25: 2, 26: 4, 27: 8}
    if info not in sizes:
        raise CborError(f"unsupported additional information {info}")
    n = sizes[info]
    if pos + n > len(data):
        raise CborError("data ends inside an item")
    return major, int.from_bytes(data[pos:pos + n], "big"), pos + n


def _decode(data: bytes, pos: int) -> tuple[Any, int]:
    major, arg, pos = _head(data, pos)
    if major == _UINT:
        return arg, pos
    if major == _NINT:
        return -1 - arg, pos
    if major in (_BYTES, _TEXT):
        raw = data[pos:pos + arg]
        if len(raw) != arg:
            raise CborError("data ends inside a string")
        return (raw.decode("utf-8") if major == _TEXT else bytes(raw)), pos + arg
    if major == _ARRAY:
        items = []
        for _ in range(arg):
            item, pos = _decode(data, pos)
            items.append(item)
        return items, pos
    if major == _MAP:
        mapping = {}
        for _ in range(arg):
            key, pos = _decode(data, pos)
            mapping[key], pos = _decode(data, pos)
        return mapping, pos
    raise CborError(f"unsupported major type {major}")


def _encode_head(major: int, arg: int, out: bytearray) -> None:
    if arg < 24:
        out.append(major << 5 | arg)
    elif arg < 1 << 8:
        out += bytes([major << 5 | 24, arg])
    elif arg < 1 << 16:
        out += bytes([major << 5 | 25]) + struct.pack(">H", arg)
    elif arg < 1 << 32:
        out += bytes([major << 5 | 26]) + struct.pack(">I", arg)
    else:
        out += bytes([major << 5 | 27]) + struct.pack(">Q", arg)


def _encode(value: Any, out: bytearray) -> None:
    if isinstance(value, bool) or value is None:
        raise CborError(f"unsupported value {value!r}")
    if isinstance(value, int):
        _encode_head(_UINT, value, out) if value >= 0 else _encode_head(_NINT, -1 - value, out)
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        _encode_head(_TEXT, len(raw), out)
        out += raw
    elif isinstance(value, bytes):
        _encode_head(_BYTES, len(value), out)
        out += value
    elif isinstance(value, list):
        _encode_head(_ARRAY, len(value), out)
        for item in value:
            _encode(item, out)
    elif isinstance(value, dict):
        _encode_head(_MAP, len(value), out)
        for key, item in value.items():
            _encode(key, out)
            _encode(item, out)
    else:
        raise CborError(f"unsupported value {value!r}")
