"""What makes a run behave as ``python3 file.py``, installed once as module
``_rundocs_main``.

* ``MainModule``: ``sys.modules['__main__']`` is one object that stands for
  the module of the run whose thread looks it up (the server's own
  ``__main__`` for other threads). Pickling classes a run defines,
  ``dataclasses``, ``typing.get_type_hints``, ``doctest.testmod()``,
  ``timeit`` with ``from __main__ import f``, ``inspect.getsource`` and
  ``cProfile.run`` all find the run's own namespace, also while other runs
  execute.
* ``asyncio.get_event_loop()`` on a run's worker thread acts as on a main
  thread, and the worker's loop state is reset after the run.
* ``atexit.register`` in a run registers with the run: its callbacks run
  when the run ends, after its non-daemon threads, as at interpreter exit.
* Exceptions in a run's threads are reported as ``threading`` does, with the
  runtime's own frames left out; on 3.11 error messages keep the "Did you
  mean" hints that only its C printer computes.
"""

import _thread
import _rundocs_tracebacks
import sys
import types
import warnings

from _rundocs_streams import hook_property, routes

# The file names of the runtime's own modules, whose frames tracebacks leave out.
OWN_FILES = ("rundocs_prelude.py", "rundocs_guards.py", "rundocs_streams.py",
             "rundocs_state.py", "rundocs_main.py", "rundocs_venv.py",
             "rundocs_tracebacks.py", "rundocs_session.py")

_server_main = sys.modules["__main__"]


def _main_of_caller():
    run = routes.get(_thread.get_ident())
    if run is not None and run.module is not None:
        return run.module
    return _server_main


class MainModule(types.ModuleType):
    """``sys.modules['__main__']`` while the runtime is installed."""

    def __getattribute__(self, name):
        return getattr(_main_of_caller(), name)

    def __setattr__(self, name, value):
        setattr(_main_of_caller(), name, value)

    def __delattr__(self, name):
        delattr(_main_of_caller(), name)

    def __dir__(self):
        return dir(_main_of_caller())

    def __repr__(self):
        return repr(_main_of_caller())


def new_main_module(filename):
    """A fresh ``__main__`` module for one run, as a script would have."""
    module = types.ModuleType("__main__")
    namespace = module.__dict__
    namespace.update({
        "__builtins__": sys.modules["builtins"],
        "__file__": filename,
        "__cached__": None,
        "__loader__": None,
        "__spec__": None,
        "__package__": None,
    })
    if sys.version_info < (3, 14):
        namespace["__annotations__"] = {}
    return module


# --- asyncio ----------------------------------------------------------------


def _patch_asyncio():
    import asyncio.events as events

    policy_class = events.BaseDefaultEventLoopPolicy
    original = policy_class.get_event_loop
    if sys.version_info >= (3, 14):
        return  # no event loop is made implicitly any more, main thread or not

    def get_event_loop(self):
        run = routes.get(_thread.get_ident())
        local = self._local
        if (run is not None and run.worker_ident == _thread.get_ident()
                and local._loop is None and not local._set_called):
            if sys.version_info >= (3, 12):
                warnings.warn("There is no current event loop", DeprecationWarning,
                              stacklevel=_stacklevel_outside_asyncio())
            self.set_event_loop(self.new_event_loop())
        return original(self)

    get_event_loop.__doc__ = original.__doc__
    policy_class.get_event_loop = get_event_loop


def _stacklevel_outside_asyncio():
    """The warnings stacklevel, counted from the caller of this function, of
    the first frame outside asyncio."""
    level = 2
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__") or ""
        if module != "asyncio" and not module.startswith("asyncio."):
            break
        frame = frame.f_back
        level += 1
    return level


def reset_event_loop():
    """Forgets the calling (worker) thread's event loop, closing it."""
    events = sys.modules.get("asyncio.events")
    if events is None:
        return
    events._set_running_loop(None)
    policy = events._event_loop_policy
    local = getattr(policy, "_local", None)
    if local is None:
        return
    loop = getattr(local, "_loop", None)
    if loop is not None and not loop.is_running() and not loop.is_closed():
        try:
            loop.close()
        except Exception:
            pass
    local._loop = None
    local._set_called = False


# --- atexit -----------------------------------------------------------------


def _patch_atexit():
    import atexit

    original_register = atexit.register
    original_unregister = atexit.unregister

    def register(func, *args, **kwargs):
        run = routes.get(_thread.get_ident())
        if run is None:
            return original_register(func, *args, **kwargs)
        run.atexit.append((func, args, kwargs))
        return func

    def unregister(func):
        run = routes.get(_thread.get_ident())
        if run is None:
            return original_unregister(func)
        run.atexit[:] = [entry for entry in run.atexit if entry[0] != func]

    register.__doc__ = original_register.__doc__
    unregister.__doc__ = original_unregister.__doc__
    atexit.register = register
    atexit.unregister = unregister


def run_atexit(run):
    """Calls the run's atexit callbacks, last registered first."""
    while run.atexit:
        func, args, kwargs = run.atexit.pop()
        try:
            func(*args, **kwargs)
        except SystemExit:
            pass
        except Exception as exc:
            print("Exception ignored in atexit callback: %r" % (func,), file=sys.stderr)
            sys.stderr.write(format_exception(exc))


# --- reporting errors ---------------------------------------------------------


def format_exception(exc):
    """A traceback as the interpreter prints it, without the runtime's frames."""
    return _rundocs_tracebacks.format_exception(exc, _print_natively, OWN_FILES)


class _Capture:
    """A stand-in run that collects what the calling thread writes to stderr."""

    def __init__(self, buffer):
        self.overrides = {"stderr": buffer, "stdout": buffer}
        self.child_outputs = {}
        self.decoders = {}


def _print_natively(exc):
    """What the C printer prints for ``exc``, caught from this thread's stderr."""
    import io

    buffer = io.StringIO()
    ident = _thread.get_ident()
    previous = routes.get(ident)
    routes[ident] = _Capture(buffer)
    try:
        sys.__excepthook__(type(exc), exc, exc.__traceback__)
    finally:
        if previous is None:
            routes.pop(ident, None)
        else:
            routes[ident] = previous
    return buffer.getvalue()


def thread_excepthook(args):
    """``threading.excepthook`` for the runtime: the hook the thread's run
    set, else as the default one, with the runtime's frames left out and the
    run's own stop left unreported."""
    from _rundocs import RunInterrupted

    run = routes.get(_thread.get_ident())
    hook = run.overrides.get("threading.excepthook") if run is not None else None
    if hook is not None:
        return hook(args)
    if args.exc_type in (SystemExit, RunInterrupted):
        return
    stderr = sys.stderr
    if stderr is None:
        return
    name = args.thread.name if args.thread is not None else _thread.get_ident()
    stderr.write("Exception in thread %s:\n" % name)
    stderr.write(format_exception(args.exc_value))
    stderr.flush()


class ThreadingModule(types.ModuleType):
    """The class of ``threading`` while the runtime is installed: a run that
    sets ``threading.excepthook`` sets it for its own threads only."""

    excepthook = hook_property("excepthook", "threading.excepthook")


def install():
    """Installs ``__main__`` and the patches above. Idempotent."""
    if isinstance(sys.modules.get("__main__"), MainModule):
        return
    sys.modules["__main__"] = MainModule("__main__")
    import threading

    threading.excepthook = thread_excepthook
    threading.__class__ = ThreadingModule
    _patch_asyncio()
    _patch_atexit()
