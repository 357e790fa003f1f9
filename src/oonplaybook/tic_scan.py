"""A streaming structural scanner for Transparency-in-Coverage files: one JSON object, any size.

TiC in-network files are a single JSON object of 1-150 GB (not NDJSON), so neither a full parser
(DuckDB/Polars hold 6-9x the file in memory) nor an event parser over every token (ijson: ~77
MB/s) reaches the floor, which is gzip decompression (~170 MB/s per core). This scanner reads
the bytes in chunks and finds the JSON structure in one compiled pass (numba: string state with
escapes, nesting depth), recording only the brackets at depth <= 2; Python then works per root
event and per kept element, never per byte:

* the root object's scalar fields (plan, reporting entity, version) are kept as a small skeleton;
* each element of the root ``provider_references`` array is returned whole (they are needed to
  resolve the rates' provider ids, and are small next to ``in_network``);
* each element of the root ``in_network`` array is returned only when a byte-level pre-filter
  (``"billing_code": "<one of the wanted codes>"``, found by one regex pass per chunk) matches
  inside it; every other item is skipped without being parsed.

Memory is bounded by the chunk size plus the largest single item, whatever the file size. A
file that ends early keeps what was read and says at which byte it stopped.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

CHUNK = 16 << 20

_KEY = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:\s*$')


class TicScanError(ValueError):
    """A TiC file that cannot be read: names the file and the byte offset."""


@dataclass
class Span:
    """One element of a root array: which array, where it starts (absolute byte), its bytes."""

    array: str
    offset: int
    data: bytes


@dataclass
class ScanResult:
    """What a scan saw besides the spans: the root skeleton, counts, and where it stopped."""

    root: bytes = b""
    bytes_read: int = 0
    items_seen: int = 0
    items_matched: int = 0
    truncated_at: int | None = None
    problem: str = ""
    arrays: list[str] = field(default_factory=list)


def prefetch(chunks: Iterable[bytes], depth: int = 2) -> Iterator[bytes]:
    """Produce ``chunks`` in a background thread (gzip decompression and file reads release the
    GIL, as does the compiled scan), so reading and scanning overlap on two cores. Exceptions
    are raised in the consumer after the chunks produced before them."""
    import queue
    import threading

    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for c in chunks:
                if stop.is_set():
                    return
                q.put(("data", c))
            q.put(("end", None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put(("error", e))

    t = threading.Thread(target=work, daemon=True)
    t.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "data":
                yield item  # type: ignore[misc]
            elif kind == "error":
                raise item  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
        while t.is_alive():  # let a blocked producer finish its put
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(0.05)


def open_stream(path: str | Path, hasher: object | None = None) -> Iterator[bytes]:
    """Chunks of a ``.json`` or ``.json.gz`` file's uncompressed bytes (gzip by its magic bytes).

    ``hasher`` (e.g. ``hashlib.sha256()``) is fed the file's bytes as stored. A gzip stream that
    ends early raises :class:`TicScanError` with the compressed offset after the data it could
    decompress has been yielded.
    """
    path = Path(path)
    with path.open("rb") as f:
        head = f.read(2)
        f.seek(0)
        if head != b"\x1f\x8b":
            while chunk := f.read(CHUNK):
                if hasher is not None:
                    hasher.update(chunk)  # type: ignore[attr-defined]
                yield chunk
            return
        d = zlib.decompressobj(wbits=47)
        pos = 0
        while raw := f.read(1 << 20):
            if hasher is not None:
                hasher.update(raw)  # type: ignore[attr-defined]
            pos += len(raw)
            data = raw
            while data:  # bounded output per step: highly compressible files inflate 50-100x
                try:
                    out = d.decompress(data, CHUNK)
                except zlib.error as e:
                    raise TicScanError(
                        f"{path}: gzip data damaged near compressed byte {pos - len(raw):,} ({e}); "
                        "download the file again"
                    ) from e
                if out:
                    yield out
                if d.eof and d.unused_data:  # concatenated gzip members
                    data = d.unused_data
                    d = zlib.decompressobj(wbits=47)
                else:
                    data = d.unconsumed_tail
        tail = d.flush()
        if tail:
            yield tail
        if not d.eof:
            raise TicScanError(
                f"{path}: gzip stream ends early at compressed byte {pos:,} (truncated download?); "
                "what was read before that point is kept"
            )


@numba.njit(cache=True, nogil=True)
def _events(a, lo, depth, in_str, esc, pos, d0, d1):  # pragma: no cover - compiled
    """One pass over ``a[lo:]``: string state (with escapes) and nesting depth; records every
    bracket whose transition touches depth <= 2 (root, root containers, their elements).

    Returns (events, depth, in_str, esc, stop): ``stop`` < len(a) when the event buffers filled
    (the caller continues from there) or -1 - position for a closing bracket with no opening one.
    """
    n = 0
    cap = len(pos)
    for i in range(lo, len(a)):
        c = a[i]
        if in_str:
            if esc:
                esc = False
            elif c == 92:
                esc = True
            elif c == 34:
                in_str = False
        elif c == 34:
            in_str = True
        elif c == 123 or c == 91:
            if depth <= 2:
                pos[n] = i
                d0[n] = depth
                d1[n] = depth + 1
                n += 1
            depth += 1
            if n == cap:
                return n, depth, in_str, esc, i + 1
        elif c == 125 or c == 93:
            if depth == 0:
                return n, depth, in_str, esc, -1 - i
            if depth <= 3:
                pos[n] = i
                d0[n] = depth
                d1[n] = depth - 1
                n += 1
            depth -= 1
            if n == cap:
                return n, depth, in_str, esc, i + 1
    return n, depth, in_str, esc, len(a)


def _structure_events(
    buf: bytearray, lo: int, depth: int, in_str: bool, esc: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool, bool]:
    """Bracket events at depth <= 2 in ``buf[lo:]`` (positions in ``buf``), and the new state."""
    a = np.frombuffer(buf, dtype=np.uint8)
    cap = 1 << 16
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    start = lo
    while True:
        pos = np.empty(cap, dtype=np.int64)
        d0 = np.empty(cap, dtype=np.int64)
        d1 = np.empty(cap, dtype=np.int64)
        n, depth, in_str, esc, stop = _events(a, start, depth, in_str, esc, pos, d0, d1)
        parts.append((pos[:n], d0[:n], d1[:n]))
        if stop < 0:
            del a
            raise TicScanError(
                f"unbalanced JSON: a closing bracket at byte offset {-1 - stop:,} of the buffer has no opening one"
            )
        if stop >= len(a):
            break
        start = stop
    del a
    if len(parts) == 1:
        p, x, y = parts[0]
    else:
        p, x, y = (np.concatenate([q[k] for q in parts]) for k in range(3))
    return p, x, y, int(depth), bool(in_str), bool(esc)


def scan(
    chunks: Iterable[bytes],
    codes: Iterable[str] | None,
    *,
    arrays: tuple[str, ...] = ("provider_references", "in_network"),
    filtered: str = "in_network",
    result: ScanResult | None = None,
) -> Iterator[Span]:
    """Yield the elements of the root ``arrays`` (``filtered`` only when a wanted code is in it).

    ``codes=None`` keeps every element. ``result`` (filled as the scan goes) receives the root
    skeleton, counts and, for a file that ends early, the byte where it stopped. Elements are
    found with vector operations; Python runs only per root-level event and per kept element.
    """
    res = result if result is not None else ScanResult()
    if codes is None:
        code_re = None
    else:
        alts = b"|".join(re.escape(c.encode()) for c in sorted(set(codes)))
        code_re = re.compile(rb'"billing_code"\s*:\s*"(?:' + alts + rb')"') if alts else None
    buf = bytearray()
    base = 0  # absolute offset of buf[0]
    scan_from = 0  # relative position in buf not yet scanned
    depth = 0
    in_string = False
    escaped = False
    root_cursor: int | None = None  # absolute: root text collected up to here
    root_parts: list[bytes] = []
    container: tuple[str, int] | None = None  # (key, absolute start) of the open root container
    elem_start: int | None = None  # absolute start of the open element of a wanted array
    hits = np.empty(0, dtype=np.int64)  # absolute positions of code matches not yet assigned
    hit_floor = -1  # absolute start of the last match taken (matches are taken once)
    started = False
    for chunk in chunks:
        if not chunk:
            continue
        buf += chunk
        res.bytes_read += len(chunk)
        br, prior, after, depth, in_string, escaped = _structure_events(
            buf, scan_from, depth, in_string, escaped
        )
        if code_re is not None:  # re-search a little before the new bytes: a match may straddle
            found = [m.start() + base for m in code_re.finditer(buf, max(scan_from - 64, 0))]
            found = [h for h in found if h > hit_floor]
            if found:
                hit_floor = found[-1]
                hits = np.concatenate([hits, np.array(found, dtype=np.int64)])
        if len(br):
            low = np.minimum(prior, after)
            root_ev = np.flatnonzero(low <= 1)
            opens = (prior == 2) & (after == 3)
            closes = (prior == 3) & (after == 2)
            bounds = [*root_ev.tolist(), len(br)]
            seg_lo = 0
            for k in bounds:
                # elements of the open container in bracket indices [seg_lo, k)
                if container is not None and container[0] in arrays and k > seg_lo:
                    o = np.flatnonzero(opens[seg_lo:k]) + seg_lo
                    c = np.flatnonzero(closes[seg_lo:k]) + seg_lo
                    starts = (br[o] + base).tolist()
                    ends = (br[c] + base + 1).tolist()
                    if elem_start is not None:
                        starts.insert(0, elem_start)
                    elem_start = starts.pop() if len(starts) > len(ends) else None
                    yield from _emit(
                        container[0], starts, ends, buf, base, filtered, code_re, hits, res
                    )
                    if code_re is not None and container[0] == filtered and ends:
                        hits = hits[hits >= ends[-1]]
                if k == len(br):
                    break
                p = int(br[k]) + base
                d0, d1 = int(prior[k]), int(after[k])
                if d0 == 0 and d1 == 1:
                    started = True
                    root_cursor = p
                elif d0 == 1 and d1 == 2:  # a root value container opens: which key?
                    rel = p - base
                    m = _KEY.search(bytes(buf[max(rel - 256, 0) : rel]))
                    key = m.group(1).decode("utf-8", "replace") if m else ""
                    if root_cursor is not None:
                        root_parts.append(bytes(buf[root_cursor - base : rel]))
                    root_cursor = None
                    container = (key, p)
                    if key in arrays:
                        root_parts.append(b"null")
                        if key not in res.arrays:
                            res.arrays.append(key)
                elif d0 == 2 and d1 == 1:  # the root container closes
                    if container is not None and container[0] not in arrays:
                        root_parts.append(bytes(buf[container[1] - base : p - base + 1]))
                    container = None
                    elem_start = None
                    root_cursor = p + 1
                elif d0 == 1 and d1 == 0:
                    if root_cursor is not None:
                        root_parts.append(bytes(buf[root_cursor - base : p - base + 1]))
                    root_cursor = None
                seg_lo = k + 1
            del after, prior, low, opens, closes
        del br
        scan_from = len(buf)
        # keep only what an open element, container or the root text still needs
        keep = base + len(buf) - 256
        for x in (root_cursor, elem_start):
            if x is not None:
                keep = min(keep, x)
        if container is not None and container[0] not in arrays:
            keep = min(keep, container[1])
        if code_re is not None and elem_start is None:
            hits = hits[hits >= keep]
        cut = max(keep - base, 0)
        if cut:
            del buf[:cut]
            base += cut
            scan_from -= cut
    if not started:
        raise TicScanError("no JSON object found (empty file, or not a TiC JSON file)")
    if depth != 0:
        res.truncated_at = base + len(buf)
        where = f"inside the {container[0]!r} array" if container else "in the root object"
        res.problem = (
            f"the file ends at byte {res.truncated_at:,} {where} before the JSON is complete "
            "(truncated download?); the items read before that point are kept"
        )
        if root_cursor is not None:
            root_parts.append(bytes(buf[root_cursor - base :]))
    res.root = b"".join(root_parts)


def _emit(
    key: str,
    starts: list[int],
    ends: list[int],
    buf: bytearray,
    base: int,
    filtered: str,
    code_re: re.Pattern[bytes] | None,
    hits: np.ndarray,
    res: ScanResult,
) -> Iterator[Span]:
    """The complete elements (``starts[i]``..``ends[i]``) to yield: all, or those with a hit."""
    if not ends:
        return
    keep = range(len(ends))
    if key == filtered:
        res.items_seen += len(ends)
        if code_re is not None:
            lo = np.searchsorted(hits, np.array(starts, dtype=np.int64), side="left")
            hi = np.searchsorted(hits, np.array(ends, dtype=np.int64), side="left")
            keep = np.flatnonzero(hi > lo).tolist()
        res.items_matched += len(keep)
    for i in keep:
        yield Span(key, starts[i], bytes(buf[starts[i] - base : ends[i] - base]))
