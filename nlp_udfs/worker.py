"""``python -m nlp_udfs.worker``: a helper process that enriches batches sent over its stdin.

Started by ``nlp_udfs.parallel`` (one per extra core). A plain subprocess with a pipe, not a
``multiprocessing`` pool: a pool's workers re-import the parent's ``__main__`` module, which
breaks under dbt, Dagster or any script without a ``__main__`` guard, and forking a process
that runs DuckDB threads is unsafe.

Protocol, both directions: 8-byte big-endian length, then a pickle. The first frame the parent
sends is its ``NlpConfig`` as a dict; then each request is ``(operation, items, taxonomy_json)``
(``nlp_udfs.local.run_local``: ``enrich``, ``analyse``, ``tag`` or ``terms``); reply
``("ok", (rows, seconds spent))`` or ``("error", message)``. The worker exits when its stdin
closes.
"""

from __future__ import annotations

import pickle
import struct
import sys
import time
from typing import Any, BinaryIO

_HEADER = struct.Struct(">Q")


def write_frame(stream: BinaryIO, value: Any) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """The next value, or raise EOFError when the stream ends."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("stream closed")
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("stream closed mid-frame")
    return pickle.loads(payload)


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    from .config import NlpConfig, configure
    from .local import run_local
    from .model import default_pair
    from .segmentation import preload

    try:
        configure(NlpConfig(**read_frame(requests)))
    except EOFError:
        return
    # Load the dictionary and the models before the first real batch. Not by enriching a text:
    # the tokenizer takes the keywords of the first taxonomy it serves, which is yet to come.
    preload()
    default_pair()
    while True:
        try:
            operation, items, taxonomy_json = read_frame(requests)
        except EOFError:
            return
        try:
            started = time.perf_counter()
            rows = run_local(operation, items, taxonomy_json)
            reply = ("ok", (rows, time.perf_counter() - started))
        except Exception as error:  # noqa: BLE001 - reported to the parent, which re-raises
            reply = ("error", f"{type(error).__name__}: {error}")
        write_frame(replies, reply)


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
