"""A fixed number of worker threads on one FIFO queue, where a thread stuck in a job can be
replaced.

``concurrent.futures.ThreadPoolExecutor`` cannot do that: a job that never returns keeps
its thread, and every job queued behind it waits with it. Here :meth:`ThreadPool.replace`
gives the queue a new thread at once, and the stuck one retires when its job ends (a
Python thread cannot be stopped). Threads are daemons, so a stuck one does not keep the
process from exiting.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_Item = tuple[Future[Any], Callable[[], Any]]


class ThreadPool:
    def __init__(self, threads: int, name: str) -> None:
        self.size = threads
        self.name = name
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._running: dict[Future[Any], threading.Thread] = {}
        self._retiring: set[threading.Thread] = set()
        self._closed = False
        self._numbers = itertools.count()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        job: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("pool is shut down")
            self._queue.put((job, fn))
            if len(self._threads) - len(self._retiring) < self.size:
                self._start_thread()  # started on demand, up to the size; then kept
        return job

    def _start_thread(self) -> None:
        thread = threading.Thread(
            target=self._work, name=f"{self.name}_{next(self._numbers)}", daemon=True
        )
        self._threads.add(thread)
        thread.start()

    def replace(self, job: Future[Any]) -> bool:
        """The thread running *job* is stuck: start another in its place (it retires when
        the job ends). False if *job* is not running here."""
        with self._lock:
            thread = self._running.get(job)
            if thread is None or thread in self._retiring or self._closed:
                return False
            self._retiring.add(thread)
            self._start_thread()
            return True

    def _work(self) -> None:
        me = threading.current_thread()
        while True:
            item = self._queue.get()
            if item is None:
                break
            job, fn = item
            if job.set_running_or_notify_cancel():
                with self._lock:
                    self._running[job] = me
                try:
                    result = fn()
                except BaseException as exc:
                    job.set_exception(exc)
                else:
                    job.set_result(result)
                finally:
                    with self._lock:
                        del self._running[job]
            with self._lock:
                if me in self._retiring:
                    self._retiring.discard(me)
                    break
        with self._lock:
            self._threads.discard(me)

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """No new jobs; queued ones still run unless *cancel_futures*. *wait*: join the
        threads that are not stuck."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = list(self._threads)
            retiring = set(self._retiring)
        if cancel_futures:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                if thread not in retiring and thread is not threading.current_thread():
                    thread.join()
