"""BLAS on one thread for the small products of serving and of a rating's update: on those
a second BLAS thread only waits (one user's row against 87,585 movie rows: 12 ms on two
threads, 2.5 ms on one; a rating's row 18 against 65-220 ms, shared machine)."""

from __future__ import annotations

import threading

from threadpoolctl import ThreadpoolController


class OneBlasThread:
    """Context manager: BLAS on one thread while any caller is inside. threadpoolctl's limit
    is process-wide, so callers in several threads share one limit, restored when the last
    one leaves (each restoring its own would leave it wrong)."""

    def __init__(self) -> None:
        self._controller: ThreadpoolController | None = None
        self._lock = threading.Lock()
        self._inside = 0
        self._limiter = None

    def __enter__(self) -> None:
        with self._lock:
            if self._controller is None:  # at the first use, when numpy's BLAS is surely loaded
                self._controller = ThreadpoolController()
            if self._inside == 0:
                self._limiter = self._controller.limit(limits=1, user_api="blas")
            self._inside += 1

    def __exit__(self, *exc_info) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0:
                self._limiter.restore_original_limits()


ONE_BLAS_THREAD = OneBlasThread()
