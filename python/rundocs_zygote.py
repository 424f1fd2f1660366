"""The warm interpreter of process mode (module ``_rundocs_zygote``).

``rundocs`` starts itself again as this interpreter: a fresh exec with a
scrubbed environment, no configuration and no request data. It imports what
runs commonly need, then ``serve`` forks children on the server's request,
over the control socket (fd 3), and reports how they ended:

    server → zygote  {"op": "configure", "sandbox": {...}, "preload": [...]}
    server → zygote  {"op": "fork", "token": N} + fds [code, stdout, stderr, result]
    zygote → server  {"op": "forked", "token": N, "pid": P}  or  {"op": "refused", ...}
    zygote → server  {"op": "exit", "pid": P, "code": C | "signal": S, "cpu_s": F}

A child enters the sandbox (``_rundocs_sandbox.enter``, in Rust), says
``{"ready": ...}`` on its result pipe and reads one job from its code pipe
(``{"blocks": [...], "timeout_s": T}``; end of file means "not needed").
Then ``serve`` returns a ``Child`` to Rust, so that the job's code runs at
the bottom of the stack, as ``python3 file.py`` runs a script (the same
recursion depth, no frames of ours in tracebacks): Rust calls
``prepare``, then ``compile`` and evaluates each block, ``failed`` with
what escaped, and ``finish``, which writes the outcome on the result pipe
and gives the exit status.
"""
import atexit
import builtins
import gc
import io
import json
import linecache
import math
import os
import random
import resource
import select
import shutil
import signal
import socket
import sys
import threading
import types

import _rundocs_display
import _rundocs_sandbox
import _rundocs_session
import _rundocs_tracebacks

# Imported once here, so a run finds them loaded (a fork shares them).
WARM_MODULES = (
    "asyncio", "collections", "concurrent.futures", "contextlib", "dataclasses",
    "datetime", "decimal", "enum", "fractions", "functools", "inspect", "itertools",
    "json", "logging", "math", "pathlib", "pickle", "queue", "re", "statistics",
    "subprocess", "tempfile", "textwrap", "time", "traceback", "typing", "unittest", "doctest",
)

CONTROL_FD = 3
MAX_MESSAGE = 1 << 16


def _log(text):
    os.write(2, ("rundocs zygote: %s\n" % text).encode())


def _receive(control, max_fds):
    """The server's next message and the descriptors sent with it; an empty
    message when the server has gone, whether it closed the connection or
    reset it (it exits with a request still unread)."""
    try:
        message, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, max_fds)
    except ConnectionResetError:
        return b"", []
    return message, fds


def _readable_paths(site_packages):
    """Where the run's Python may read and execute: its prefixes and path."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))}
    if site_packages:
        paths.add(site_packages)
    paths.update(p for p in sys.path if p and os.path.isabs(p))
    return sorted(p for p in paths if os.path.exists(p))


# Packages of a virtualenv that are tools, not what examples import.
_TOOLS = {"pip", "setuptools", "pkg_resources", "wheel", "_distutils_hack", "distutils"}


def _venv_packages(site_packages):
    """The top-level packages and modules of a virtualenv, by name."""
    names = []
    for entry in sorted(os.listdir(site_packages)):
        path = os.path.join(site_packages, entry)
        if entry.endswith(".py"):
            name = entry[:-3]
        elif os.path.isfile(os.path.join(path, "__init__.py")):
            name = entry
        else:
            continue
        if name.isidentifier() and not name.startswith("_") and name not in _TOOLS:
            names.append(name)
    return names


def _draw_a_figure():
    """Draws (and throws away) a small figure with text, as the display of a
    figure does: fonts opened, glyphs and the renderer cached, shared with
    every child."""
    try:
        import matplotlib.pyplot as plt
        figure, axes = plt.subplots()
        axes.plot([1, 3, 2])
        axes.set_title("warm-up 0123456789")
        figure.savefig(io.BytesIO(), format="png", dpi=200, bbox_inches="tight")
        plt.close(figure)
    except Exception as exc:  # noqa: BLE001 - only a head start is lost
        _log("cannot draw a warm-up figure: %s" % exc)


def _preload(names):
    """Imports ``names`` once. A module that starts a thread makes the
    interpreter unsafe to fork: that ends the zygote with a message saying
    which module it was and what to do."""
    for name in names:
        try:
            __import__(name)
        except Exception as exc:  # noqa: BLE001 - a package that fails to import is left out
            _log("cannot preload %s: %s" % (name, exc))
            continue
        if _thread_count() != 1:
            raise SystemExit(
                "importing %s started a thread, and a process with threads "
                "cannot fork safely; set `run.process.preload_venv = false` and list the "
                "packages to import in `run.process.preload` without it" % name)


def _thread_count():
    return len(os.listdir("/proc/self/task"))


def serve(site_packages, executable):
    """The zygote's loop. Returns ``None`` in the zygote when the server has
    gone, and a ``Child`` (with its job) in a child."""
    os.chdir("/")
    if executable:
        sys.executable = executable
    if site_packages:
        import _rundocs_venv
        _rundocs_venv.use(site_packages)
    control = socket.socket(fileno=CONTROL_FD)
    message, _ = _receive(control, 0)
    if not message:
        return
    configuration = json.loads(message)
    names = WARM_MODULES + tuple(configuration.get("preload", ()))
    if site_packages and configuration.get("preload_venv"):
        names += tuple(_venv_packages(site_packages))
    _rundocs_display.install(_emit_display, None)
    _preload(names)
    if "matplotlib" in sys.modules:
        # Figures are drawn in every child: pyplot, its fonts and renderer
        # once, here, by drawing one.
        _preload(("matplotlib.pyplot",))
        _draw_a_figure()
    sandbox = dict(configuration["sandbox"], read_paths=_readable_paths(site_packages))
    # What is imported now stays shared with every child: out of the
    # collector's sight, a child's collections never touch (and copy) it.
    gc.collect()
    gc.freeze()
    global _run_groups
    cgroup = sandbox.get("pids_cgroup")
    if cgroup:
        _run_groups = []
    wake_read, wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    threads = _thread_count()
    control.send(json.dumps({"op": "started", "threads": threads,
                             "python": sys.version.split()[0]}).encode())
    children = set()
    open_control = True
    while open_control or children or _run_groups:
        try:
            ready, _, _ = select.select([control, wake_read] if open_control else [wake_read],
                                        [], [], 0.2 if _run_groups else 1.0)
        except InterruptedError:
            ready = []
        if wake_read in ready:
            try:
                os.read(wake_read, 4096)
            except BlockingIOError:
                pass
        _reap(control if open_control else None, children)
        if _run_groups:
            _remove_run_groups(cgroup)
        if control not in ready:
            continue
        message, fds = _receive(control, 4)
        if not message:
            open_control = False
            for fd in fds:
                os.close(fd)
            continue
        request = json.loads(message)
        if request.get("op") != "fork" or len(fds) != 4:
            for fd in fds:
                os.close(fd)
            _send(control, {"op": "refused", "token": request.get("token"),
                            "message": "unknown request %r" % request.get("op")})
            continue
        threads = _thread_count()
        if threads != 1:
            for fd in fds:
                os.close(fd)
            _send(control, {"op": "refused", "token": request["token"],
                            "message": "the warm interpreter has %d threads (a preloaded "
                                       "module started one), so it cannot fork safely" % threads})
            continue
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(wake_read)
            os.close(wake_write)
            return _child(fds, sandbox)
        for fd in fds:
            os.close(fd)
        children.add(pid)
        _send(control, {"op": "forked", "token": request["token"], "pid": pid})


def _send(control, message):
    if control is not None:
        try:
            control.send(json.dumps(message).encode())
        except OSError:
            pass


# Runs whose cgroup is still to be removed (None: runs have none).
_run_groups = None


def _remove_run_groups(parent):
    """Removes the cgroups of ended runs (a group empties once the run's
    killed processes are gone, so some wait for a later call)."""
    for pid in list(_run_groups):
        try:
            os.rmdir(os.path.join(parent, "run-%d" % pid))
        except FileNotFoundError:
            pass
        except OSError:
            continue
        _run_groups.remove(pid)


def _reap(control, children):
    while children:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)
        # A child without a mount namespace worked in a folder of the host's tmp.
        shutil.rmtree("/tmp/rundocs-run-%d" % pid, ignore_errors=True)
        if _run_groups is not None:
            _run_groups.append(pid)
        report = {"op": "exit", "pid": pid, "cpu_s": usage.ru_utime + usage.ru_stime}
        if os.WIFSIGNALED(status):
            report["signal"] = os.WTERMSIG(status)
        else:
            report["code"] = os.waitstatus_to_exitcode(status)
        _send(control, report)


# ---------------------------------------------------------------- the child


def _write_line(fd, message):
    _write_all(fd, (json.dumps(message) + "\n").encode())


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


# The child's job, once it has one (displays go to its result pipe).
_current_child = None

# One line at a time on the result pipe: threads of a run may display at
# once, and a line longer than a pipe's atomic write would interleave.
_result_lock = threading.Lock()


def _emit_display(data, metadata):
    """Reports one display on the result pipe, with how many bytes the
    standard streams had written before it: the server shows it there."""
    child = _current_child
    if child is None or os.getpid() != child.pid:
        return
    stdout, stderr = (stream.buffer for stream in child.streams[:2])
    bundle = json.dumps({"data": data, "metadata": metadata})
    with _result_lock:
        line = "D %d %d %s\n" % (stdout.written, stderr.written, bundle)
        _write_all(child.result_fd, line.encode())


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _child(fds, sandbox):
    """In a new child: enters the sandbox, waits for its job; returns the
    ``Child`` that runs it (or exits when none comes)."""
    code_fd, out_fd, err_fd, result_fd = fds
    try:
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        for fd in (null, out_fd, err_fd):
            os.close(fd)
        try:
            reached = json.loads(_rundocs_sandbox.enter(json.dumps(sandbox)))
        except Exception as exc:  # noqa: BLE001 - reported to the server, which refuses the child
            _write_line(result_fd, {"failed": str(exc)})
            os._exit(70)
        child = Child(result_fd, reached["workdir"])
        _write_line(result_fd, {"ready": reached})
        if not select.select([code_fd], [], [], 0)[0]:
            # Forked in advance: nobody waits for this child yet.
            _warm_up()
        job = _read_all(code_fd)
        os.close(code_fd)
        if not job:
            os._exit(0)
        child.receive(json.loads(job))
        return child
    except BaseException as exc:  # noqa: BLE001 - a child must never go back to serving
        try:
            _write_line(result_fd, {"failed": "%s: %s" % (type(exc).__name__, exc)})
        finally:
            os._exit(70)


_WARM_UP = '''
def f(n):
    return [str(i) + f"{i:>3}" for i in range(n)]
print(len(f(3)), {"a": 1}, sep="", file=sink)
'''


def _warm_up():
    """Compiles and runs a little code while the child waits for its job:
    the pages of the interpreter that every run touches are copied from
    the warm interpreter now, not while a reader waits."""
    exec(compile(_WARM_UP, "<warm-up>", "exec"), {"sink": io.StringIO()})


class _CountingFile(io.FileIO):
    """A standard stream's file, counting the bytes written through it."""

    written = 0

    def write(self, data):
        n = super().write(data)
        if n:
            self.written += n
        return n


def _stream(fd, name, like, **options):
    """A text stream on ``fd`` made as the interpreter makes its own (same
    name, encoding and error handler as ``like``), written through at once."""
    raw = _CountingFile(fd, "r" if fd == 0 else "w", closefd=False)
    raw.name = name
    return io.TextIOWrapper(raw, encoding=like.encoding, errors=like.errors, **options)


def _thread_excepthook(args):
    """The default ``threading.excepthook``, printing as the traceback
    module does (its source lines come from the blocks, not from files)."""
    if args.exc_type is SystemExit or sys.stderr is None:
        return
    name = args.thread.name if args.thread is not None else threading.get_ident()
    sys.stderr.write("Exception in thread %s:\n" % name)
    sys.stderr.write(_rundocs_tracebacks.format_exception(args.exc_value, _print_natively))
    sys.stderr.flush()


class Child:
    """One job in a child process: what Rust calls to run it.

    Made as soon as the child is sandboxed, before its job comes, so that the
    work that does not depend on the job is done while it waits."""

    def __init__(self, result_fd, workdir):
        self.result_fd = result_fd
        self.workdir = workdir
        self.blocks = []
        self.outcome = {"status": "ok"}
        # A process the code forks runs this too; only the run's own speaks.
        self.pid = os.getpid()
        random.seed()
        os.environ.update(HOME=workdir, TMPDIR=workdir, PWD=workdir)
        import tempfile
        tempfile.tempdir = None
        self.script = os.path.join(workdir, "example.py")
        sys.argv = [self.script]
        sys.path.insert(0, workdir)
        main = types.ModuleType("__main__")
        main.__file__ = self.script
        main.__builtins__ = builtins
        main.__cached__ = None
        main.__annotations__ = {}
        self.main = main
        stdout, stderr = sys.__stdout__, sys.__stderr__
        self.streams = (_stream(1, "<stdout>", stdout, write_through=True),
                        _stream(2, "<stderr>", stderr, write_through=True),
                        _stream(0, "<stdin>", sys.__stdin__))

    def receive(self, job):
        global _current_child
        _current_child = self
        self.blocks = job["blocks"]
        self.filenames = {block["filename"]: block["snippet_id"] for block in self.blocks}
        cpu = math.ceil(job["timeout_s"]) + 1
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or cpu + 1 < hard:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    @property
    def block_count(self):
        return len(self.blocks)

    def prepare(self):
        """Makes the process look like ``python3 example.py`` started in its
        private tmp; returns ``__main__``'s namespace."""
        with open(self.script, "w", encoding="utf-8") as file:
            file.write(self.blocks[-1]["code"])
        sys.modules["__main__"] = self.main
        sys.stdout = sys.__stdout__ = self.streams[0]
        sys.stderr = sys.__stderr__ = self.streams[1]
        sys.stdin = sys.__stdin__ = self.streams[2]
        threading.excepthook = _thread_excepthook
        return self.main.__dict__

    def compile(self, index):
        block = self.blocks[index]
        code = block["code"]
        linecache.cache[block["filename"]] = (len(code), None, code.splitlines(True),
                                              block["filename"])
        if block.get("session") is not None:
            return _rundocs_session.compile_session(block["session"], block["filename"])
        if block.get("echo"):
            return _rundocs_display.compile_echo(code, block["filename"])
        return compile(code, block["filename"], "exec", dont_inherit=True)

    def failed(self, exc):
        """Records what escaped the code, as the interpreter handles it at exit."""
        if isinstance(exc, SystemExit):
            status = _rundocs_tracebacks.exit_code(exc)
            if status.text:
                sys.stderr.write(status.text)
            self.outcome = {"status": "exit", "exit_code": int(status.code)}
        elif sys.excepthook is not sys.__excepthook__ or os.getpid() != self.pid:
            # A forked process prints its traceback as python3's child would.
            sys.excepthook(type(exc), exc, exc.__traceback__)
            self.outcome = {"status": "exit", "exit_code": 1}
        else:
            self.outcome = {"status": "error", "error": _describe(exc, self.filenames)}

    def finish(self):
        """Waits for threads and runs atexit callbacks, as the interpreter
        does at exit; writes the outcome; returns the exit status."""
        if os.getpid() == self.pid:
            # Figures the run left open show now, as at the end of a notebook cell.
            try:
                _rundocs_display.flush_figures()
            except BaseException as exc:  # noqa: BLE001 - reported as a failure to draw
                sys.stderr.write(_rundocs_tracebacks.format_exception(
                    exc, _print_natively, ("rundocs_zygote.py", "rundocs_display.py")))
        try:
            threading._shutdown()
            atexit._run_exitfuncs()
        except BaseException:  # noqa: BLE001 - the outcome is the script's, not this
            pass
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        if os.getpid() == self.pid:
            with _result_lock:
                _write_line(self.result_fd, self.outcome)
        status = self.outcome["status"]
        if status == "exit":
            return self.outcome["exit_code"] & 0xFF
        return 1 if status == "error" else 0


def _print_natively(exc):
    """What the C printer prints for ``exc``."""
    printed = io.StringIO()
    stderr, sys.stderr = sys.stderr, printed
    try:
        sys.__excepthook__(type(exc), exc, exc.__traceback__)
    finally:
        sys.stderr = stderr
    return printed.getvalue()


def _format_exception(exc):
    """A traceback as the interpreter prints it, without this module's
    frames or a session's."""
    return _rundocs_tracebacks.format_exception(exc, _print_natively,
                                                ("rundocs_zygote.py", _rundocs_session.FILENAME))


_rundocs_session.install(_format_exception)


def _describe(exc, filenames):
    """The exception as the reader sees it, with its traceback as the
    interpreter prints it (without this module's frames: a syntax error is
    raised by ``Child.compile``)."""
    text = _rundocs_tracebacks.format_exception(exc, _print_natively, ("rundocs_zygote.py",))
    line, filename = _rundocs_tracebacks.location_in(exc, filenames)
    return {"type": type(exc).__name__, "message": str(exc), "traceback": text,
            "line": line, "snippet_id": filenames.get(filename)}
