"""How the grading command and its worker processes talk: framed messages on two pipes.

The grader sends pickles (it trusts itself). A worker, which runs a student's code, answers
in JSON whose arrays travel as ``.npy`` bytes read with ``allow_pickle=False``: nothing a
worker sends can run code in the grader, and anything that is not numbers, text, lists or
dicts arrives as a :class:`~gradcourse.exercises._feedback.Described` placeholder.

>>> decode(encode({"x": [1, 2.5, None], "A": np.eye(2)}))["A"]
array([[1., 0.],
       [0., 1.]])
"""

import base64
import io
import json
import os
import pickle
import struct

import numpy as np

from gradcourse.exercises._feedback import Described, describe

MAX_MESSAGE = 64 * 2**20  # bytes: a larger answer is refused, not read
MAX_ITEMS = 100_000  # entries of a list or dict that travel; more are described instead
MAX_DEPTH = 20


class WireError(Exception):
    """The other side closed the pipe, broke the framing or sent what cannot be read."""


def send(fd, payload: bytes):
    os.write(fd, struct.pack("<Q", len(payload)))
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view):]


def receive(fd):
    """One framed message from ``fd`` (blocking; the caller waits with ``select`` first)."""
    size = struct.unpack("<Q", _read_exactly(fd, 8))[0]
    if size > MAX_MESSAGE:
        raise WireError(f"a message of {size} bytes, more than the {MAX_MESSAGE} allowed")
    return _read_exactly(fd, size)


def _read_exactly(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise WireError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def send_request(fd, request):
    send(fd, pickle.dumps(request))


def receive_request(fd):
    return pickle.loads(receive(fd))


def send_reply(fd, reply):
    send(fd, json.dumps(reply).encode())


def receive_reply(fd):
    try:
        return json.loads(receive(fd).decode())
    except (UnicodeDecodeError, ValueError) as err:
        raise WireError(f"an answer that is not JSON ({err})") from None


def _array(value):
    buffer = io.BytesIO()
    np.save(buffer, value, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode()


def encode(value, depth=0):
    """``value`` as JSON-able data: numbers, arrays, text, lists, tuples, dicts, generators."""
    if depth > MAX_DEPTH:
        return {"t": "described", "v": "a structure nested too deeply"}
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, (np.ndarray, np.generic)) and np.asarray(value).dtype.kind in "biufc":
        return {"t": "array" if isinstance(value, np.ndarray) else "scalar", "v": _array(np.asarray(value))}
    if isinstance(value, int):
        return {"t": "int", "v": int.__repr__(value)}
    if isinstance(value, float):
        return {"t": "float", "v": float.__repr__(value)}
    if isinstance(value, str):
        return {"t": "str", "v": value[:10_000]}
    if isinstance(value, (list, tuple)) and len(value) <= MAX_ITEMS:
        return {"t": type(value).__name__, "v": [encode(item, depth + 1) for item in value]}
    if isinstance(value, dict) and len(value) <= MAX_ITEMS and all(isinstance(k, (str, int)) for k in value):
        return {"t": "dict", "v": [[encode(k), encode(v, depth + 1)] for k, v in value.items()]}
    if isinstance(value, np.random.Generator):
        return {"t": "rng", "v": value.bit_generator.state}
    try:
        words = describe(value)
    except Exception:  # noqa: BLE001  (a student's object may break anything)
        words = "an object that cannot be described"
    return {"t": "described", "v": words}


def decode(data, depth=0):
    """The value :func:`encode` wrote; a :class:`Described` for anything else (never raises)."""
    try:
        return _decode(data, depth)
    except Exception:  # noqa: BLE001  (a worker may send anything)
        return Described("a value the grader could not read")


def _decode(data, depth):
    kind, value = data["t"], data.get("v")
    if depth > MAX_DEPTH:
        return Described("a structure nested too deeply")
    if kind == "none":
        return None
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value) if len(value) < 5000 else Described("an int too large to read")
    if kind == "float":
        return float(value)
    if kind in ("array", "scalar"):
        array = np.load(io.BytesIO(base64.b64decode(value)), allow_pickle=False)
        return array if kind == "array" else array[()]
    if kind == "str":
        return str(value)
    if kind in ("list", "tuple"):
        items = [_decode(item, depth + 1) for item in value]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {_decode(k, depth + 1): _decode(v, depth + 1) for k, v in value}
    if kind == "rng":
        return {"rng state": value}
    return Described(str(value))
