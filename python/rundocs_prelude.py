"""The Python side of the rundocs runtime, installed once as module ``_rundocs``.

It is imported at start-up, before any snippet runs, after the modules it
builds on (``_rundocs_guards``, ``_rundocs_streams``, ``_rundocs_state``,
``_rundocs_main``), and does this:

* A run's life. ``enter`` makes the run's ``Run`` (its sink, its own
  ``__main__`` module, ``sys.argv`` and stream overrides) and routes the
  worker thread to it; ``finish`` does what a script's interpreter does at
  exit (waits for non-daemon threads, runs atexit callbacks, clears the
  namespace so objects are finalised while their output still belongs to the
  run); ``leave`` releases what the run held (its pipes and sockets, the
  worker's event loop) and ends the routing.
* Thread routing. Threads a run starts (``threading`` and ``_thread``)
  belong to it: they are counted, interrupted with it and under its memory
  limit, and their output is its output.
* Interruptible waits. ``PyThreadState_SetAsyncExc`` only takes effect when
  the thread runs bytecode, so a snippet blocked in ``time.sleep`` or a lock
  wait would never see it. ``time.sleep``, locks (and so ``Condition``,
  ``Event``, ``Semaphore``, ``queue.Queue``) and ``Thread.join`` wait in short
  slices instead, between which the exception can be delivered. Sockets a run
  made are shut down when it is stopped, which ends waits on them.
* ``input()`` and ``sys.stdin`` raise a clear error instead of reading the
  server's standard input.
* Automatic garbage collections in one run's thread may finalise objects of
  another: output written by finalisers during such a collection is dropped,
  never shown to the wrong reader.
* ``RunInterrupted``, a ``BaseException`` (so ``except Exception`` does not
  swallow it), is what the runtime injects to stop a run.
"""

import _thread
import _rundocs_display
import _rundocs_session
import _rundocs_tracebacks
import _rundocs_venv
import builtins
import gc
import io
import json
import os
import select
import socket
import sys
import tempfile
import threading
import time
import types
import weakref

import _rundocs_guards
import _rundocs_main
import _rundocs_state
import _rundocs_streams
from _rundocs_guards import ServerProtected
from _rundocs_streams import current_run, routes

# Longest uninterruptible stretch of a patched wait, in seconds.
SLICE_S = 0.02

# How long after its time limit a run's own waits end it (see _stop_if_over):
# later than the runtime's canceller, which reports the timeout.
DEADLINE_GRACE_S = 0.25

# Threads one run may have alive at once.
MAX_THREADS_PER_RUN = 64

# C stack of the threads examples start: deep recursion through C code must
# end in RecursionError, not past the end of the stack (see the guards'
# MAX_RECURSION_LIMIT). Only the pages a thread touches take memory.
THREAD_STACK_BYTES = 256 << 20


class RunInterrupted(BaseException):
    """Raised inside a run that the server stops (timeout, cancel, output limit)."""


class Run:
    """Per-run state on the Python side; ``sink`` is the Rust OutputSink."""

    __slots__ = ("sink", "threads", "worker_ident", "module", "argv", "overrides",
                 "child_outputs", "decoders", "atexit", "sockets", "threads_named",
                 "deadline", "line_buffering", "__weakref__")

    def __init__(self, sink, worker_ident, timeout_s):
        self.sink = sink
        # time.monotonic() past which the run's waits end (see _stop_if_over).
        self.deadline = time.monotonic() + timeout_s + DEADLINE_GRACE_S
        self.threads = []
        self.worker_ident = worker_ident
        self.module = None
        self.argv = [""]
        # sys.stdout/stderr/stdin and the hooks ("sys.excepthook",
        # "threading.excepthook") as this run assigned them.
        self.overrides = {}
        # kind -> ChildOutput pipe, made when first needed.
        self.child_outputs = {}
        # kind -> incremental UTF-8 decoder for byte writes.
        self.decoders = {}
        self.atexit = []
        self.sockets = weakref.WeakSet()
        # name template ("Thread-%d") -> how many threads got a name from it:
        # numbering starts at 1 in every run.
        self.threads_named = {}
        # stream kind -> line_buffering as the run reconfigured it.
        self.line_buffering = {}


def enter(sink, timeout_s):
    """Routes the calling (worker) thread's output to ``sink``; returns the
    Run, which may last ``timeout_s`` seconds."""
    _rundocs_state.reseed_random()
    ident = _thread.get_ident()
    run = Run(sink, ident, timeout_s)
    routes[ident] = run
    # The worker is a main thread to the run: threads it starts are not
    # daemons unless asked, and are waited for at the end.
    threading.current_thread()._daemonic = False
    return run


def new_namespace(run, filename, source):
    """A fresh ``__main__`` for the run, as a script has. Its ``__file__`` and
    ``sys.argv[0]`` are a real ``.py`` file holding the example's code
    (tracebacks still name the block, ``filename``)."""
    path = script_path(filename, source)
    run.module = _rundocs_main.new_main_module(path)
    run.argv = [path]
    return run.module.__dict__


# Where the examples' script files are: one per block, written when first
# run (and again if missing or changed); the runtime removes the folder when
# it stops.
EXAMPLES_DIR = os.path.join(tempfile.gettempdir(), "rundocs-examples-%d" % os.getpid())


def script_path(filename, source):
    """The file standing for the block named ``filename``: its code, as
    ``python3 file.py`` would have it on disk."""
    path = _script_names.get(filename)
    if path is None:
        stem = "".join(c if c.isalnum() else "-" for c in filename).strip("-") or "example"
        path = _script_names[filename] = os.path.join(EXAMPLES_DIR, stem + ".py")
    if _scripts_written.get(path) == source and os.path.exists(path):
        return path
    data = source.encode("utf-8")
    os.makedirs(EXAMPLES_DIR, exist_ok=True)
    partial = "%s.%d.partial" % (path, _thread.get_ident())
    with open(partial, "wb") as script:
        script.write(data)
    os.replace(partial, path)
    _scripts_written[path] = source
    return path


# block name -> its script path
_script_names = {}
# script path -> the source last written there
_scripts_written = {}


def finish(run, remaining_s):
    """What a script's interpreter does at exit, still routed to the run:
    waits (interruptibly, at most ``remaining_s`` seconds) for the non-daemon
    threads the run started, runs its atexit callbacks, then clears its
    namespace so its objects are finalised now, with their output its own."""
    deadline = time.monotonic() + remaining_s
    # Figures the run left open show now, as at the end of a notebook cell.
    try:
        _rundocs_display.flush_figures()
    except Exception as exc:  # noqa: BLE001 - a figure that cannot be drawn is the run's error to see
        sys.stderr.write(_rundocs_main.format_exception(exc))
    _shut_down_thread_pools(run)
    for thread in list(run.threads):
        if thread.daemon:
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        thread.join(remaining)
    _rundocs_main.run_atexit(run)
    _clear_namespace(run)
    _rundocs_streams.drain_child_output(run)


def _shut_down_thread_pools(run):
    """What ``concurrent.futures`` does at interpreter exit, for the run's own
    pools only: their workers finish the queued work, then end."""
    pools = sys.modules.get("concurrent.futures.thread")
    # Another run may be importing the module right now.
    if getattr(pools, "_threads_queues", None) is None:
        return
    for thread in run.threads:
        queue = pools._threads_queues.get(thread) if isinstance(thread, threading.Thread) else None
        if queue is None:
            continue
        args = getattr(thread, "_args", None)  # gone once the worker has ended
        executor = args[0]() if args else None
        if executor is not None:
            executor._shutdown = True
        queue.put(None)


def _clear_namespace(run):
    module = run.module
    if module is None:
        return
    run.module = None
    namespace = module.__dict__
    # As at interpreter exit: names first, then the rest of the module.
    for name in [n for n in namespace if not n.startswith("__")]:
        namespace[name] = None
    namespace.clear()
    del namespace, module
    _collect_for_run(1)


def leave(run):
    """Releases what the run held and ends the calling thread's routing.
    Called after the run has ended: any output from here on is dropped."""
    _clear_namespace(run)
    _rundocs_display.forget_run(run)
    _rundocs_display.restore_backend()
    _rundocs_streams.close_child_output(run)
    _shut_down_sockets(run, close=True)
    _rundocs_main.reset_event_loop()
    run.overrides.clear()
    threading.current_thread()._daemonic = True
    routes.pop(_thread.get_ident(), None)
    _forget_ended_threads(run)


def _forget_ended_threads(run):
    """Drops the routes of the run's threads that ended without removing
    their own (an interruption can reach a thread before its first line)."""
    alive = {t.ident for t in run.threads if t.is_alive()}
    for thread in run.threads:
        ident = thread.ident
        if ident is not None and ident not in alive and routes.get(ident) is run:
            routes.pop(ident, None)


def prepare_stop(run):
    """Before the runtime interrupts a run: shuts down the sockets it made
    (so threads blocked on them wake up) and returns the idents of its live
    threads, which get RunInterrupted too."""
    _shut_down_sockets(run)
    return alive_thread_idents(run)


def _shut_down_sockets(run, close=False):
    """Shuts down the sockets the run made (waking threads blocked on them),
    and with ``close`` closes them too."""
    for sock in list(run.sockets):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if close:
            try:
                sock.close()
            except OSError:
                pass
    if close:
        run.sockets.clear()


def _track_sockets():
    original_init = socket.socket.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        run = current_run()
        if run is not None:
            run.sockets.add(self)

    __init__.__doc__ = original_init.__doc__
    socket.socket.__init__ = __init__


class _NoInput(io.TextIOBase):
    """``sys.stdin`` for snippets: reading says why it cannot work."""

    def readable(self):
        return True

    def read(self, size=-1):
        _no_input()

    def readline(self, size=-1):
        _no_input()

    def fileno(self):
        raise io.UnsupportedOperation("examples have no standard input")


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


# --- garbage collection ------------------------------------------------------

# Per thread: inside gc.collect() asked for by a run (or at its end), or
# inside an automatic collection, whose finalisers' output is dropped. Thread
# locals, so that a flag an interruption left set dies with its thread and
# never reaches a later thread with the same ident.
_collection = _rundocs_streams.collection
_original_collect = gc.collect


def _collect_for_run(generation=2):
    """gc.collect() whose finalisers' output belongs to the calling run."""
    _collection.requested = True
    try:
        return _original_collect(generation)
    finally:
        _collection.requested = False


def _on_collection(phase, info):
    if phase != "start":
        _collection.automatic = False
    elif not getattr(_collection, "requested", False) and _thread.get_ident() in routes:
        _collection.automatic = True


# --- interruptible waits -------------------------------------------------

_original_sleep = time.sleep
_original_allocate_lock = _thread.allocate_lock
_original_join = threading.Thread.join


def _stop_if_over():
    """Ends a wait of a run that is over its time, wherever the wait is:
    also in a finaliser that runs after the run's own code, so that no run
    outlives its deadline by waiting."""
    run = current_run()
    if run is not None and time.monotonic() > run.deadline:
        raise RunInterrupted()


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
        _stop_if_over()
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
                _stop_if_over()
            return True
        end = time.monotonic() + timeout
        while True:
            remaining = end - time.monotonic()
            if self._lock.acquire(True, max(0.0, min(remaining, SLICE_S))):
                return True
            if remaining <= 0:
                return False
            _stop_if_over()

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


_original_select = select.select


def _select(rlist, wlist, xlist, timeout=None):
    """``select.select`` that, in a run, waits in short slices."""
    if current_run() is None or (timeout is not None and timeout <= SLICE_S):
        return _original_select(rlist, wlist, xlist, timeout)
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = SLICE_S if end is None else max(0.0, min(SLICE_S, end - time.monotonic()))
        ready = _original_select(rlist, wlist, xlist, remaining)
        if ready[0] or ready[1] or ready[2] or (end is not None and time.monotonic() >= end):
            return ready
        _stop_if_over()


def _join(self, timeout=None):
    if timeout is not None and timeout <= SLICE_S:
        return _original_join(self, timeout)
    end = None if timeout is None else time.monotonic() + timeout
    while self.is_alive():
        remaining = SLICE_S if end is None else min(SLICE_S, end - time.monotonic())
        if remaining <= 0:
            return
        _original_join(self, remaining)
        _stop_if_over()


# --- thread routing ------------------------------------------------------

_original_start = threading.Thread.start
_original_start_new_thread = _thread.start_new_thread


def _check_thread_allowance(run):
    if len(run.threads) >= MAX_THREADS_PER_RUN:
        # Forget the ended ones, so a run that starts many short threads in
        # turn does not check ever more of them.
        _forget_ended_threads(run)
        run.threads[:] = [t for t in run.threads if t.is_alive()]
    if len(run.threads) >= MAX_THREADS_PER_RUN:
        raise ServerProtected(
            f"an example may have at most {MAX_THREADS_PER_RUN} threads running at once; "
            "join some before starting more")


def _start(self):
    run = current_run()
    if run is not None:
        _check_thread_allowance(run)
        bootstrap_inner = self._bootstrap_inner

        def routed_bootstrap_inner():
            # Routing wraps threading's own bootstrap, so an uncaught
            # exception reaches threading.excepthook (and its traceback
            # shows) as in a script, while the thread still belongs to its run.
            ident = _thread.get_ident()
            routes[ident] = run
            run.sink.count_memory(True)
            try:
                bootstrap_inner()
            finally:
                run.sink.count_memory(False)
                routes.pop(ident, None)

        self._bootstrap_inner = routed_bootstrap_inner
        run.threads.append(self)
    return _original_start(self)


_original_newname = threading._newname


def _newname(name_template="Thread-%d"):
    run = current_run()
    if run is None:
        return _original_newname(name_template)
    number = run.threads_named[name_template] = run.threads_named.get(name_template, 0) + 1
    return name_template % number


_original_stack_size = _thread.stack_size


def _stack_size(size=0):
    """``threading.stack_size``: a query leaves the size alone (the original
    sets it back to the default), and a run cannot make the stacks of the
    threads it starts smaller than the runtime's, which deep recursion needs."""
    current = _original_stack_size()
    keep = current
    try:
        if size:
            _original_stack_size(size)  # the interpreter's own checks
            keep = max(size, THREAD_STACK_BYTES)
    finally:
        _original_stack_size(keep)
    return current


class _PoolCounter:
    """``ThreadPoolExecutor._counter``: pools are numbered from 0 in every run."""

    def __init__(self, original):
        self._original = original

    def __call__(self):
        run = current_run()
        if run is None:
            return self._original()
        number = run.threads_named.get("ThreadPoolExecutor", 0)
        run.threads_named["ThreadPoolExecutor"] = number + 1
        return number


# How long a thread started with _thread counts as alive before it shows up
# among the interpreter's running threads.
_RAW_THREAD_START_GRACE_S = 1.0


class _RawThread:
    """A thread started with ``_thread.start_new_thread``, as the run sees it."""

    __slots__ = ("ident", "_done", "_started_at")
    daemon = True  # not waited for at exit, as in a script

    def __init__(self):
        self.ident = None
        self._done = False
        self._started_at = time.monotonic()

    def is_alive(self):
        # An interruption can reach the thread before its first line, where
        # nothing of ours can mark it done: then ask the interpreter whether
        # it runs, once it has had time to start.
        if self._done:
            return False
        if time.monotonic() - self._started_at < _RAW_THREAD_START_GRACE_S:
            return True
        return self.ident in sys._current_frames()


def _start_new_thread(function, args, kwargs=None):
    run = current_run()
    if run is None:
        if kwargs is None:
            return _original_start_new_thread(function, args)
        return _original_start_new_thread(function, args, kwargs)
    _check_thread_allowance(run)
    record = _RawThread()

    def routed():
        ident = _thread.get_ident()
        record.ident = ident
        routes[ident] = run
        run.sink.count_memory(True)
        try:
            function(*args, **(kwargs or {}))
        except (SystemExit, RunInterrupted):
            pass
        except BaseException as exc:
            print("Exception ignored in thread started by: %r" % (function,), file=sys.stderr)
            sys.stderr.write(_rundocs_main.format_exception(exc))
        finally:
            run.sink.count_memory(False)
            routes.pop(ident, None)
            record._done = True

    run.threads.append(record)
    ident = _original_start_new_thread(routed, ())
    record.ident = ident
    return ident


def _emit_display(data, metadata):
    """Sends one display to the calling thread's run (threads of no run
    have nowhere to show it)."""
    run = current_run()
    if run is not None:
        run.sink.display(json.dumps({"data": data, "metadata": metadata}))


def install(site_packages=None, executable=None):
    """Installs the runtime: streams, ``__main__``, patches, guards; then
    records the state restored after every run. Returns the routing streams
    (``stdout``, ``stderr``) put back after runs. Call it once."""
    if getattr(sys, "_rundocs_installed", False):
        raise RuntimeError("the rundocs runtime is installed already")
    if executable:
        sys.executable = executable
    if site_packages:
        _rundocs_venv.use(site_packages)
    stdout, stderr = _rundocs_streams.install(_NoInput())
    builtins.input = _no_input
    time.sleep = _sleep
    select.select = _select
    threading.Lock = InterruptibleLock
    threading._allocate_lock = InterruptibleLock
    threading._CRLock = None  # RLock falls back to the Python version built on Lock
    threading.Thread.join = _join
    threading.Thread.start = _start
    threading._newname = _newname
    import concurrent.futures.thread as pools
    pools.ThreadPoolExecutor._counter = _PoolCounter(pools.ThreadPoolExecutor._counter)
    _original_stack_size(THREAD_STACK_BYTES)
    threading.stack_size = _thread.stack_size = _stack_size
    _thread.start_new_thread = _start_new_thread
    _thread.start_new = _start_new_thread
    gc.collect = _collect_for_run
    gc.callbacks.append(_on_collection)
    _track_sockets()
    _rundocs_main.install()
    _rundocs_guards.protected_fds = _rundocs_streams.owned_fds
    _rundocs_guards.install()
    _guard_subinterpreters()
    _rundocs_display.install(_emit_display, current_run)
    _rundocs_session.install(_rundocs_main.format_exception, (RunInterrupted,))
    sys._rundocs_installed = True
    _rundocs_state.save()
    return types.SimpleNamespace(stdout=stdout, stderr=stderr)


# --- helpers the Rust side calls -----------------------------------------

import linecache


def compile_block(source, filename, echo=False, session=None):
    """Compiles one block under ``filename`` and registers its source with
    linecache, so tracebacks show the block's own lines. With ``echo`` the
    value of a last bare expression is displayed. A session's ``session``
    is its statements, run as the interactive interpreter runs them."""
    if session is not None:
        return _rundocs_session.compile_session(session, filename)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    if echo:
        return _rundocs_display.compile_echo(source, filename)
    return compile(source, filename, "exec", dont_inherit=True)


def run_excepthook(exc):
    """Hands an uncaught exception to the ``sys.excepthook`` the run set, as
    the interpreter does at the top level of a script; returns whether the
    run had set one (it then ends as a script would: exit status 1)."""
    hook = sys.excepthook
    if hook is _rundocs_state.original_hook("excepthook"):
        return False
    try:
        hook(type(exc), exc, exc.__traceback__)
    except BaseException as failure:
        sys.stderr.write("Error in sys.excepthook:\n")
        sys.stderr.write(_rundocs_main.format_exception(failure))
        sys.stderr.write("\nOriginal exception was:\n")
        sys.stderr.write(_rundocs_main.format_exception(exc))
    return True


def describe_error(exc, filenames):
    """An exception as the reader sees it: kind (type name), message,
    traceback text, line and filename.
    The line is the innermost one inside the run's own blocks."""
    text = _rundocs_main.format_exception(exc)
    line, filename = _rundocs_tracebacks.location_in(exc, filenames)
    return types.SimpleNamespace(kind=type(exc).__name__, message=str(exc), traceback=text,
                                 line=line, filename=filename)


# What ``SystemExit`` asks for (the Rust side calls it here).
exit_code = _rundocs_tracebacks.exit_code


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
    return _idents_to_interrupt(_left_running)


def alive_thread_idents(run):
    """Idents of the threads the run started that are still alive."""
    return _idents_to_interrupt(run.threads)


def _idents_to_interrupt(threads):
    """Idents of the live ones among ``threads``. A thread of ``_thread``
    counts only once it runs Python code: before that, its ident may still be
    a thread's that ended, reused by a new thread of somebody else's."""
    running = None
    idents = []
    for thread in threads:
        if thread.ident is None or not thread.is_alive():
            continue
        if isinstance(thread, _RawThread):
            if running is None:
                running = sys._current_frames()
            if thread.ident not in running:
                continue
        idents.append(thread.ident)
    return idents


def restore_streams(stdout, stderr):
    """Puts the routing streams back if something replaced them in ``sys``'s
    dict, and the rest of the state a run may have changed: the worker's own
    (working directory, umask) and the process-wide rest."""
    _rundocs_state.restore_thread()
    _rundocs_state.restore()
    namespace = vars(sys)
    if namespace["stdout"] is not stdout:
        namespace["stdout"] = stdout
    if namespace["stderr"] is not stderr:
        namespace["stderr"] = stderr
    if not isinstance(namespace["stdin"], _NoInput):
        namespace["stdin"] = _NoInput()
    if builtins.input is not _no_input:
        builtins.input = _no_input
