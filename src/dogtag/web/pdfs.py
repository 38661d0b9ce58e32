"""Costly PDF reports, bounded: at most ``workers`` renderings at once, one rendering per key
(concurrent requests for the same report wait for it and share it), and the latest results kept
by key. A request that cannot get a slot within ``wait_s`` seconds is refused with 503 and
Retry-After (:class:`Busy`), so a crowd of requests cannot take the server down.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable


class Busy(Exception):
    """Every PDF slot stayed taken for the whole wait."""

    def __init__(self, retry_after: int):
        super().__init__(f"the server is busy rendering reports; try again in {retry_after} s")
        self.retry_after = retry_after


class PdfRenderer:
    def __init__(self, workers: int, *, keep: int = 16, wait_s: float = 60.0):
        if workers < 1:
            raise ValueError(f"`pdf_workers` must be at least 1, got {workers}")
        self.wait_s, self.keep = wait_s, keep
        self._slots = threading.BoundedSemaphore(workers)
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._keys: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.renders = 0  # how many PDFs were actually rendered (for tests and benchmarks)

    def _cached(self, key: str) -> bytes | None:
        with self._guard:
            pdf = self._cache.get(key)
            if pdf is not None:
                self._cache.move_to_end(key)
            return pdf

    def _render(self, make_html: Callable[[], str]) -> bytes:
        from dogtag.report.pdf import html_to_pdf

        if not self._slots.acquire(timeout=self.wait_s):
            raise Busy(max(1, int(self.wait_s)))
        try:
            self.renders += 1
            return html_to_pdf(make_html())
        finally:
            self._slots.release()

    def render(self, make_html: Callable[[], str], *, key: str | None = None) -> bytes:
        """The PDF of ``make_html()``; with ``key``, rendered once and shared while it is kept."""
        if key is None:
            return self._render(make_html)
        pdf = self._cached(key)
        if pdf is not None:
            return pdf
        with self._guard:
            lock = self._keys.setdefault(key, threading.Lock())
        if not lock.acquire(timeout=self.wait_s):
            raise Busy(max(1, int(self.wait_s)))
        try:
            pdf = self._cached(key)  # rendered while this request waited
            if pdf is None:
                pdf = self._render(make_html)
                with self._guard:
                    self._cache[key] = pdf
                    while len(self._cache) > self.keep:
                        self._cache.popitem(last=False)
            return pdf
        finally:
            lock.release()
            with self._guard:
                self._keys.pop(key, None)
