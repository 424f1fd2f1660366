"""Where a run's output goes, installed once as module ``_rundocs_streams``.

Every thread a run owns is listed in ``routes`` (thread ident -> Run). The
standard streams look the writer up there:

* ``sys.stdout``/``sys.stderr`` in the interpreter's ``sys`` dict are
  ``RoutingStream`` objects. C code (``print``, tracebacks) writes to them;
  each write goes to the writing thread's run: to what that run assigned to
  ``sys.stdout``, else to its sink. Writes from threads of no run go to the
  server's own streams.
* Python code that reads or assigns ``sys.stdout``, ``sys.stderr``,
  ``sys.stdin``, their ``__stdout__``-style originals, ``sys.argv`` and
  ``sys.excepthook`` goes
  through properties of ``sys``'s class (``SysModule``): each run sees and
  changes only its own. So ``contextlib.redirect_stdout``, ``doctest`` and
  ``sys.stdout = io.StringIO()`` in one run never capture another run's
  output, and ``sys.stdout = sys.__stdout__`` puts back the run's own stream.
* ``fileno()`` of a run's stream is the write end of a pipe of that run
  (``ChildOutput``), whose read end feeds the sink: child processes
  (``subprocess``, ``os.system``, ``os.posix_spawn``) inherit it, and
  ``os.write(1, ...)`` of the run goes there too. A child's output is drained
  when the child is waited for, so it shows in order with the run's prints.
"""

import _thread
import codecs
import io
import os
import select
import sys
import types

# thread ident -> Run
routes = {}

# Per thread, ``automatic`` is true inside a garbage collection the thread
# did not ask for: finalisers may then run objects of another run, so their
# output is dropped (the prelude sets it from gc callbacks).
collection = _thread._local()

# Pipe fds that belong to runs' ChildOutput objects: os.close, dup2 and
# closerange leave them alone (see the guards).
owned_fds = set()

_original_write = os.write
_original_system = os.system
_original_posix_spawn = getattr(os, "posix_spawn", None)
_original_posix_spawnp = getattr(os, "posix_spawnp", None)
_original_select = select.select
_start_thread = _thread.start_new_thread
_allocate_lock = _thread.allocate_lock

def current_run():
    return routes.get(_thread.get_ident())


def _dropping():
    return getattr(collection, "automatic", False)


class ChildOutput:
    """A pipe for one stream of one run: its write end is what the run's
    child processes (and ``fileno()``) write to; a reader thread of the
    server's own forwards what arrives to the run's sink."""

    def __init__(self, run, kind):
        self.run = run
        self.kind = kind
        self.read_fd, self.write_fd = os.pipe()
        owned_fds.update((self.read_fd, self.write_fd))
        os.set_blocking(self.read_fd, False)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._lock = _allocate_lock()
        self._closed = False
        _forwarder.add(self)

    def drain(self):
        """Forwards everything already in the pipe to the run's sink."""
        with self._lock:
            if self._closed:
                return
            self._drain_locked()

    def _drain_locked(self):
        while True:
            try:
                chunk = os.read(self.read_fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not chunk:
                return
            self._forward(self._decoder.decode(chunk))

    def _forward(self, text):
        if not text:
            return
        try:
            self.run.sink.write(self.kind, text)
        except BaseException:
            # Over the output limit: the run is being stopped; drop the rest.
            pass

    def close(self):
        """At the end of the run: forwards what is left and closes the pipe.
        Children still holding the write end get EPIPE from then on."""
        with self._lock:
            if self._closed:
                return
            self._drain_locked()
            self._forward(self._decoder.decode(b"", final=True))
            self._closed = True
            _forwarder.remove(self)
            for fd in (self.write_fd, self.read_fd):
                owned_fds.discard(fd)
                try:
                    os.close(fd)
                except OSError:
                    pass


class _Forwarder:
    """The one thread that forwards what runs' child processes write.

    It is started with the module, before any run, and lives as long as the
    process: no run's thread can ever have its ident, so an interruption
    aimed at a run's thread that has ended (whose ident a new thread may
    take) never reaches it, and nothing it prints is routed to a run."""

    def __init__(self):
        self._pipes = {}  # read fd -> ChildOutput
        self._lock = _allocate_lock()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        owned_fds.update((self._wake_read, self._wake_write))
        _start_thread(self._serve, ())

    def add(self, pipe):
        with self._lock:
            self._pipes[pipe.read_fd] = pipe
        self._wake()

    def remove(self, pipe):
        with self._lock:
            self._pipes.pop(pipe.read_fd, None)
        self._wake()

    def _wake(self):
        try:
            _original_write(self._wake_write, b"x")
        except OSError:
            pass  # full: a wake-up is already pending

    def _serve(self):
        while True:
            try:
                self._forward_ready()
            except BaseException:
                # Whatever happened (even an interruption meant for somebody
                # else), forwarding goes on.
                continue

    def _forward_ready(self):
        with self._lock:
            pipes = dict(self._pipes)
        try:
            ready, _, _ = _original_select([self._wake_read, *pipes], [], [])
        except (OSError, ValueError):
            # A pipe closed between the copy and the select: look again.
            return
        for fd in ready:
            if fd == self._wake_read:
                try:
                    while os.read(self._wake_read, 4096):
                        pass
                except OSError:
                    pass
            else:
                pipes[fd].drain()


_forwarder = _Forwarder()


def child_output(run, kind):
    """The run's pipe for ``kind``, made on first use."""
    pipe = run.child_outputs.get(kind)
    if pipe is None:
        pipe = run.child_outputs[kind] = ChildOutput(run, kind)
    return pipe


def drain_child_output(run):
    for pipe in list(run.child_outputs.values()):
        pipe.drain()


def close_child_output(run):
    for pipe in list(run.child_outputs.values()):
        pipe.close()
    run.child_outputs.clear()


class _RunStream(io.TextIOBase):
    """What a run sees as an unredirected standard output stream."""

    def __init__(self, kind, fallback):
        super().__init__()
        self._kind = kind
        self._fallback = fallback
        self.buffer = BinaryStream(self)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        # As the interpreter set up its own stream for this locale.
        return getattr(self._fallback, "errors", None) or "strict"

    @property
    def name(self):
        return "<%s>" % self._kind

    @property
    def mode(self):
        return "w"

    @property
    def line_buffering(self):
        run = current_run()
        return bool(run is not None and run.line_buffering.get(self._kind))

    @property
    def write_through(self):
        return True

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        run = current_run()
        if run is None:
            if self._fallback is not None:
                return self._fallback.fileno()
            raise io.UnsupportedOperation("fileno")
        return child_output(run, self._kind).write_fd

    def reconfigure(self, *, encoding=None, errors=None, newline=None,
                    line_buffering=None, write_through=None):
        """Accepted for compatibility: output is always UTF-8 and reaches the
        page at once; ``line_buffering`` is remembered for the run."""
        run = current_run()
        if run is not None and line_buffering is not None:
            run.line_buffering[self._kind] = bool(line_buffering)

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        run = current_run()
        if run is None:
            if self._fallback is not None:
                return self._fallback.write(text)
            return len(text)
        if _dropping():
            return len(text)
        self._deliver(run, text)
        return len(text)

    def _deliver(self, run, text):
        pipe = run.child_outputs.get(self._kind)
        if pipe is not None:
            # Keep order with what the run's children wrote before this.
            pipe.drain()
        run.sink.write(self._kind, text)

    def flush(self):
        if current_run() is None and self._fallback is not None:
            self._fallback.flush()

    def close(self):
        # Closing the shared stream would close it for every run: refuse quietly.
        pass

    def detach(self):
        raise io.UnsupportedOperation("detach")

    @property
    def closed(self):
        return False


class DirectStream(_RunStream):
    """``sys.__stdout__`` (and ``sys.stdout`` until the run assigns another):
    writes go straight to the writing thread's run."""


class RoutingStream(_RunStream):
    """The object in ``sys``'s dict, used by C code such as ``print``: writes
    go to the stream the writing thread's run assigned, else to its sink."""

    def write(self, text):
        run = current_run()
        if run is not None and not _dropping():
            target = run.overrides.get(self._kind)
            if target is not None:
                return target.write(text)
        return super().write(text)

    def flush(self):
        run = current_run()
        if run is not None:
            target = run.overrides.get(self._kind)
            if target is not None:
                return target.flush()
        return super().flush()


class BinaryStream(io.RawIOBase):
    """``sys.stdout.buffer``: bytes decoded as UTF-8, then written as text."""

    def __init__(self, text_stream):
        super().__init__()
        self._text = text_stream

    def writable(self):
        return True

    def fileno(self):
        return self._text.fileno()

    def write(self, data):
        data = bytes(memoryview(data))
        run = current_run()
        if run is None:
            fallback = self._text._fallback
            if fallback is not None and hasattr(fallback, "buffer"):
                return fallback.buffer.write(data)
            return len(data)
        decoder = run.decoders.get(self._text._kind)
        if decoder is None:
            decoder = run.decoders[self._text._kind] = codecs.getincrementaldecoder("utf-8")("replace")
        self._text._deliver(run, decoder.decode(data))
        return len(data)

    def flush(self):
        pass

    def close(self):
        pass

    @property
    def closed(self):
        return False


# --- per-run views of sys attributes ----------------------------------------

_direct = {}
_routing = {}


def _stream_property(kind):
    def get(module):
        run = current_run()
        if run is None:
            return vars(module)[kind]
        override = run.overrides.get(kind)
        return override if override is not None else _direct[kind]

    def set(module, value):
        run = current_run()
        if run is None:
            vars(module)[kind] = value
        elif value is _direct.get(kind) or value is _routing.get(kind):
            run.overrides.pop(kind, None)
        else:
            run.overrides[kind] = value

    def delete(module):
        run = current_run()
        if run is None:
            del vars(module)[kind]
        else:
            run.overrides.pop(kind, None)

    return property(get, set, delete)


def _original_stream_property(kind):
    dunder = "__%s__" % kind

    def get(module):
        if current_run() is None:
            return vars(module)[dunder]
        return _direct[kind]

    def set(module, value):
        if current_run() is None:
            vars(module)[dunder] = value
        # A run cannot change another run's originals: ignore.

    return property(get, set)


def _argv_property():
    def get(module):
        run = current_run()
        return vars(module)["argv"] if run is None else run.argv

    def set(module, value):
        run = current_run()
        if run is None:
            vars(module)["argv"] = value
        else:
            run.argv = value

    return property(get, set)


def hook_property(name, key):
    """A module attribute ``name`` (a hook such as ``sys.excepthook``) as the
    thread's run set it (kept in its overrides under ``key``), else the
    module's own."""

    def get(module):
        run = current_run()
        hook = run.overrides.get(key) if run is not None else None
        return hook if hook is not None else vars(module)[name]

    def set(module, value):
        run = current_run()
        if run is None:
            vars(module)[name] = value
        elif value is vars(module)[name]:
            run.overrides.pop(key, None)
        else:
            run.overrides[key] = value

    return property(get, set)


class SysModule(types.ModuleType):
    """The class of ``sys`` while the runtime is installed (see module doc)."""

    stdout = _stream_property("stdout")
    stderr = _stream_property("stderr")
    stdin = _stream_property("stdin")
    __stdout__ = _original_stream_property("stdout")
    __stderr__ = _original_stream_property("stderr")
    __stdin__ = _original_stream_property("stdin")
    argv = _argv_property()
    excepthook = hook_property("excepthook", "sys.excepthook")


def install(stdin):
    """Installs the routing streams and the per-run views of ``sys``;
    ``stdin`` is what runs read from. Returns (stdout, stderr) routing
    streams."""
    for kind, fallback in (("stdout", sys.__stdout__), ("stderr", sys.__stderr__)):
        _direct[kind] = DirectStream(kind, fallback)
        _routing[kind] = RoutingStream(kind, fallback)
    _direct["stdin"] = _routing["stdin"] = stdin
    sys.stdout = _routing["stdout"]
    sys.stderr = _routing["stderr"]
    sys.stdin = stdin
    sys.__class__ = SysModule
    os.write = _write
    os.system = _system
    if _original_posix_spawn is not None:
        os.posix_spawn = _spawn_with_run_output(_original_posix_spawn)
        os.posix_spawnp = _spawn_with_run_output(_original_posix_spawnp)
    _route_subprocess_output()
    return _routing["stdout"], _routing["stderr"]


# --- child processes and raw writes -----------------------------------------


def _write(fd, data):
    run = current_run()
    if run is not None and fd in (1, 2):
        kind = "stdout" if fd == 1 else "stderr"
        return _direct[kind].buffer.write(data)
    return _original_write(fd, data)


def _system(command):
    """``os.system`` whose child writes to the run's streams."""
    if current_run() is None:
        return _original_system(command)
    import subprocess

    code = subprocess.call(command, shell=True)
    # os.system returns a wait status, not an exit code.
    return -code if code < 0 else code << 8


def _spawn_with_run_output(original):
    def spawn(path, argv, env, *, file_actions=None, **options):
        run = current_run()
        if run is not None:
            actions = [
                (os.POSIX_SPAWN_DUP2, child_output(run, "stdout").write_fd, 1),
                (os.POSIX_SPAWN_DUP2, child_output(run, "stderr").write_fd, 2),
            ]
            file_actions = actions + list(file_actions or ())
        return original(path, argv, env, file_actions=file_actions, **options)

    spawn.__name__ = original.__name__
    spawn.__doc__ = original.__doc__
    return spawn


def _route_subprocess_output():
    import subprocess

    popen = subprocess.Popen
    original_get_handles = popen._get_handles
    original_wait = popen.wait

    def _get_handles(self, stdin, stdout, stderr):
        run = current_run()
        if run is not None:
            if stdin is None:
                stdin = subprocess.DEVNULL
            if stdout is None:
                stdout = child_output(run, "stdout").write_fd
            if stderr is None:
                stderr = child_output(run, "stderr").write_fd
        return original_get_handles(self, stdin, stdout, stderr)

    def wait(self, timeout=None):
        code = original_wait(self, timeout)
        run = current_run()
        if run is not None:
            drain_child_output(run)
        return code

    popen._get_handles = _get_handles
    popen.wait = wait
