"""The Python side of the rundocs runtime, installed once as module ``_rundocs``.

It is imported at start-up, before any snippet runs, and does four things:

* Output routing. One ``RoutingStream`` is installed as ``sys.stdout`` and one
  as ``sys.stderr``. Each write goes to the run of the thread that writes it,
  found in ``_routes`` (thread ident -> run). Threads a snippet starts inherit
  their run (``threading.Thread.start`` is wrapped), so output from
  ``threading.Thread`` and ``ThreadPoolExecutor`` workers is captured too.
  Writes from threads that belong to no run go to the server's own streams.
* Interruptible waits. ``PyThreadState_SetAsyncExc`` only takes effect when
  the thread runs bytecode, so a snippet blocked in ``time.sleep`` or a lock
  wait would never see it. ``time.sleep``, locks (and so ``Condition``,
  ``Event``, ``Semaphore``, ``queue.Queue``) and ``Thread.join`` wait in short
  slices instead, between which the exception can be delivered.
* ``input()`` and ``sys.stdin`` raise a clear error instead of reading the
  server's standard input.
* Guards. Calls that would end or hijack the whole server process
  (``os._exit``, ``os.abort``, ``os.fork``, ``os.kill`` of the server,
  ``signal.signal``, closing file descriptors 0-2, ...) raise a clear
  ``RuntimeError`` instead: every reader's runs share this process.
* Restoration. After each run, ``builtins``, ``sys.path``, the standard
  streams, the standard modules in ``sys.modules``, the switch interval, the
  recursion limit and the trace/profile hooks are put back as they were at
  start-up (modules a run imported stay imported).
* ``RunInterrupted``, a ``BaseException`` (so ``except Exception`` does not
  swallow it), is what the runtime injects to stop a run.
"""

import _thread
import builtins
import io
import os
import posix
import signal
import sys
import threading
import time

# The file name this module is compiled under (see runtime/interpreter.rs).
PRELUDE_FILE = "rundocs_prelude.py"
# Files whose frames tracebacks leave out (see _hide_own_frames).
OWN_FILES = (PRELUDE_FILE, "rundocs_guards.py")

# Longest uninterruptible stretch of a patched wait, in seconds.
SLICE_S = 0.02

# Threads one run may have alive at once.
MAX_THREADS_PER_RUN = 64


class RunInterrupted(BaseException):
    """Raised inside a run that the server stops (timeout, cancel, output limit)."""


# thread ident -> Run (see class Run below)
_routes = {}


class Run:
    """Per-run state on the Python side; ``sink`` is the Rust OutputSink."""

    __slots__ = ("sink", "threads")

    def __init__(self, sink):
        self.sink = sink
        self.threads = []


def enter(sink):
    """Routes the calling thread's output to ``sink``; returns the Run."""
    run = Run(sink)
    _routes[_thread.get_ident()] = run
    return run


def leave(run):
    """Ends routing for the calling thread (the worker)."""
    _routes.pop(_thread.get_ident(), None)


def join_threads(run, deadline):
    """Waits, interruptibly, for the non-daemon threads the run started
    (as a script's interpreter would at exit), until ``deadline``
    (time.monotonic()). Returns the threads still alive."""
    for thread in list(run.threads):
        if thread.daemon:
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        thread.join(remaining)
    return [t for t in run.threads if t.is_alive()]


class RoutingStream(io.TextIOBase):
    """``sys.stdout``/``sys.stderr``: each write goes to the writer's run."""

    def __init__(self, kind, fallback):
        super().__init__()
        self._kind = kind
        self._fallback = fallback

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "strict"

    @property
    def name(self):
        return "<%s>" % self._kind

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        run = _routes.get(_thread.get_ident())
        if run is None:
            if self._fallback is not None:
                return self._fallback.write(text)
            return len(text)
        run.sink.write(self._kind, text)
        return len(text)

    def flush(self):
        run = _routes.get(_thread.get_ident())
        if run is None and self._fallback is not None:
            self._fallback.flush()

    def close(self):
        # Closing the shared stream would close it for every run: refuse quietly.
        pass

    @property
    def closed(self):
        return False


class _NoInput(io.TextIOBase):
    """``sys.stdin`` for snippets: reading says why it cannot work."""

    def readable(self):
        return True

    def read(self, size=-1):
        _no_input()

    def readline(self, size=-1):
        _no_input()


def _no_input(*args, **kwargs):
    raise RuntimeError(
        "input() is not available: examples run on the server and cannot read "
        "from the page; set the value in the code instead"
    )


# --- guards --------------------------------------------------------------
# They live in their own module (python/rundocs_guards.py, `_rundocs_guards`)
# so the same code can guard sub-interpreters, which have modules of their own.

import _rundocs_guards
from _rundocs_guards import ServerProtected


def _guard_subinterpreters():
    """Wraps the functions that run code in a sub-interpreter, so each
    sub-interpreter gets the guards before the first code a run sends it."""
    for module_name in ("_xxsubinterpreters", "_interpreters"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        run_string = getattr(module, "run_string", None)
        if run_string is None or getattr(module, "_rundocs_guarded", False):
            continue
        # In a module of its own, so the sub-interpreter's __main__ (where
        # the example's code runs) gets no extra names.
        setup = (
            "import sys as _sys, types as _types\n"
            "_guards = _types.ModuleType('_rundocs_guards')\n"
            f"exec({_rundocs_guards.SOURCE!r}, _guards.__dict__)\n"
            "_guards.install()\n"
            "_sys.modules['_rundocs_guards'] = _guards\n"
            "del _sys, _types, _guards\n"
        )
        guarded = set()

        def wrap(original, run_string=run_string, setup=setup, guarded=guarded):
            def run_guarded(interp, *args, **kwargs):
                key = int(interp)
                if key not in guarded:
                    run_string(interp, setup)
                    guarded.add(key)
                return original(interp, *args, **kwargs)

            run_guarded.__name__ = original.__name__
            run_guarded.__doc__ = original.__doc__
            return run_guarded

        for name in ("run_string", "exec", "run_func", "call"):
            original = getattr(module, name, None)
            if original is not None:
                setattr(module, name, wrap(original))
        module._rundocs_guarded = True


# --- restoration after each run -------------------------------------------

_saved = {}


def _save_state():
    _saved["switch_interval"] = sys.getswitchinterval()
    _saved["recursion_limit"] = sys.getrecursionlimit()
    _saved["builtins"] = dict(builtins.__dict__)
    _saved["path"] = list(sys.path)
    _saved["modules"] = dict(sys.modules)


def restore_state():
    """Undoes what a run changed in process-wide state. (The worker thread's
    own trace and profile functions are removed from Rust before this runs:
    see runtime/worker.rs, ``remove_trace_and_profile_hooks``.)"""
    if sys.getswitchinterval() != _saved["switch_interval"]:
        sys.setswitchinterval(_saved["switch_interval"])
    if sys.getrecursionlimit() != _saved["recursion_limit"]:
        sys.setrecursionlimit(_saved["recursion_limit"])
    threading.settrace(None)
    threading.setprofile(None)
    original_builtins = _saved["builtins"]
    current = builtins.__dict__
    for name in [n for n in current if n not in original_builtins]:
        del current[name]
    for name, value in original_builtins.items():
        if current.get(name, _saved) is not value:
            current[name] = value
    if sys.path != _saved["path"]:
        sys.path[:] = _saved["path"]
    modules = sys.modules
    for name, module in _saved["modules"].items():
        if modules.get(name) is not module:
            modules[name] = module
    # `sys.modules[name] = None` blocks later imports of a module that was
    # not loaded at start-up: drop such entries so the next import works.
    for name in [n for n, m in modules.items() if m is None and n not in _saved["modules"]]:
        del modules[name]


# --- interruptible waits -------------------------------------------------

_original_sleep = time.sleep
_original_allocate_lock = _thread.allocate_lock
_original_join = threading.Thread.join


def _sleep(seconds):
    if seconds == 0:
        # Lets other threads take the GIL, as the original does.
        return _original_sleep(0)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    end = time.monotonic() + seconds
    while True:
        remaining = end - time.monotonic()
        if remaining <= 0:
            return
        _original_sleep(min(remaining, SLICE_S))


class InterruptibleLock:
    """``threading.Lock`` whose blocking acquire waits in short slices."""

    __slots__ = ("_lock", "__weakref__")

    def __init__(self):
        self._lock = _original_allocate_lock()

    def acquire(self, blocking=True, timeout=-1):
        if not blocking:
            return self._lock.acquire(False)
        if timeout is None or timeout < 0:
            while not self._lock.acquire(True, SLICE_S):
                pass
            return True
        end = time.monotonic() + timeout
        while True:
            remaining = end - time.monotonic()
            if self._lock.acquire(True, max(0.0, min(remaining, SLICE_S))):
                return True
            if remaining <= 0:
                return False

    __enter__ = acquire

    def __exit__(self, *exc):
        self._lock.release()

    def release(self):
        self._lock.release()

    def locked(self):
        return self._lock.locked()

    def _at_fork_reinit(self):
        self._lock._at_fork_reinit()

    def __repr__(self):
        return "<rundocs interruptible %s>" % ("locked" if self.locked() else "unlocked")


def _join(self, timeout=None):
    if timeout is not None:
        return _original_join(self, timeout)
    while self.is_alive():
        _original_join(self, SLICE_S)


# --- thread routing ------------------------------------------------------

_original_start = threading.Thread.start


def _start(self):
    run = _routes.get(_thread.get_ident())
    if run is not None:
        if sum(1 for t in run.threads if t.is_alive()) >= MAX_THREADS_PER_RUN:
            raise ServerProtected(
                f"an example may have at most {MAX_THREADS_PER_RUN} threads running at once; "
                "join some before starting more")
        target_run = self.run

        def routed_run():
            ident = _thread.get_ident()
            _routes[ident] = run
            run.sink.count_memory(True)
            try:
                target_run()
            except RunInterrupted:
                # Its run was stopped or ended: that is no error of the
                # thread's own, and the reader has the run's end event.
                pass
            except BaseException:
                # Report it as threading would ("Exception in thread ..."),
                # while the thread's output still goes to its run.
                self._invoke_excepthook(self)
            finally:
                run.sink.count_memory(False)
                _routes.pop(ident, None)

        self.run = routed_run
        run.threads.append(self)
    return _original_start(self)


def install():
    """Installs the streams and patches. Idempotent."""
    if getattr(sys, "_rundocs_installed", False):
        return
    sys.stdout = RoutingStream("stdout", sys.__stdout__)
    sys.stderr = RoutingStream("stderr", sys.__stderr__)
    sys.stdin = _NoInput()
    builtins.input = _no_input
    time.sleep = _sleep
    threading.Lock = InterruptibleLock
    threading._allocate_lock = InterruptibleLock
    threading._CRLock = None  # RLock falls back to the Python version built on Lock
    threading.Thread.join = _join
    threading.Thread.start = _start
    _rundocs_guards.install()
    _guard_subinterpreters()
    sys._rundocs_installed = True
    _save_state()


# --- helpers the Rust side calls -----------------------------------------

import linecache
import traceback


def new_namespace():
    """A fresh namespace for one run, like a script's ``__main__``."""
    return {"__name__": "__main__", "__builtins__": builtins, "__doc__": None}


def compile_block(source, filename):
    """Compiles one block under ``filename`` and registers its source with
    linecache, so tracebacks show the block's own lines."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return compile(source, filename, "exec", dont_inherit=True)


def describe_error(exc, filenames):
    """(type name, message, traceback text, line, filename) of an exception.
    The line is the innermost one inside the run's own blocks."""
    report = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    _hide_own_frames(report)
    text = "".join(report.format())
    line = filename = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in filenames:
            line, filename = tb.tb_lineno, tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    if isinstance(exc, SyntaxError) and exc.filename in filenames:
        line, filename = exc.lineno, exc.filename
    return type(exc).__name__, str(exc), text, line, filename


def _hide_own_frames(report):
    """Drops this module's frames (compile_block, the input() stub) from a
    traceback report and the reports chained to it: readers only need theirs."""
    seen = set()
    while report is not None and id(report) not in seen:
        seen.add(id(report))
        frames = [f for f in report.stack if f.filename not in OWN_FILES]
        report.stack = traceback.StackSummary.from_list(frames)
        report = report.__cause__ or report.__context__


def exit_code(exc):
    """The process exit code ``SystemExit`` asks for, and text to print, as
    the interpreter would handle it at the top level."""
    code = exc.code
    if code is None:
        return 0, None
    if isinstance(code, int):
        return code, None
    return 1, str(code) + "\n"


# Threads that outlived their run (interrupted, but maybe still going).
_left_running = []


def track_left_running(run=None):
    """Adds the run's live threads (if a run is given) to the threads left
    running, drops the ones that have ended since, and returns how many are
    still alive."""
    if run is not None:
        _left_running.extend(t for t in run.threads if t.is_alive())
    _left_running[:] = [t for t in _left_running if t.is_alive()]
    return len(_left_running)


def receive_interrupt():
    """Does nothing: calling it lets a pending ``RunInterrupted`` arrive
    (see runtime/worker.rs, ``receive_pending_interrupt``)."""


def left_running_idents():
    """Idents of the threads earlier runs left running, still alive."""
    return [t.ident for t in _left_running if t.is_alive() and t.ident is not None]


def alive_thread_idents(run):
    """Idents of the threads the run started that are still alive."""
    return [t.ident for t in run.threads if t.is_alive() and t.ident is not None]


def restore_streams(stdout, stderr):
    """Puts the routing streams back if a snippet replaced them, and the rest
    of the process-wide state a run may have changed."""
    restore_state()
    if sys.stdout is not stdout:
        sys.stdout = stdout
    if sys.stderr is not stderr:
        sys.stderr = stderr
    if not isinstance(sys.stdin, _NoInput):
        sys.stdin = _NoInput()
    if builtins.input is not _no_input:
        builtins.input = _no_input
