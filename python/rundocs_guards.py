"""Guards that keep examples from harming the server process.

Calls that would end, fork or signal the whole process (``os._exit``,
``os.abort``, ``os.fork``, ``os.kill`` of the server itself,
``signal.signal``, closing file descriptors 0-2, ...) raise
``ServerProtected``, a ``RuntimeError``, instead: every reader's runs share
this process.

This module is self-contained on purpose. The runtime installs it in the main
interpreter (as ``_rundocs_guards``) and runs its source, followed by
``install()``, in every sub-interpreter an example creates, since a
sub-interpreter has its own ``os``, ``posix`` and ``signal`` modules.
"""

import _signal
import os
import posix
import signal
import sys

class ServerProtected(RuntimeError):
    """Raised instead of a call that would harm the shared server process."""


def _refuse(what, why):
    def refused(*args, **kwargs):
        raise ServerProtected(
            "%s is not allowed in a rundocs example: %s. Examples run inside the "
            "server process, shared with every other reader." % (what, why)
        )

    refused.__name__ = what.rsplit(".", 1)[-1]
    refused.__qualname__ = refused.__name__
    return refused


_original_kill = os.kill
_original_killpg = getattr(os, "killpg", None)
_original_close = os.close
_original_closerange = os.closerange
_original_dup2 = os.dup2
_original_pthread_kill = getattr(signal, "pthread_kill", None)
_original_pidfd_send_signal = getattr(signal, "pidfd_send_signal", None)
_original_setswitchinterval = sys.setswitchinterval
_original_setrecursionlimit = sys.setrecursionlimit

# Switch intervals a run may set, in seconds: shorter ones spend the CPU on
# switching, longer ones let one thread keep every other run waiting.
SWITCH_INTERVAL_RANGE = (0.0005, 0.05)

# Up to 3.11 a recursion limit counts C and Python frames alike, and deep
# recursion through C code (an lru_cache, __getattr__, repr) uses the
# thread's C stack: past this limit it would overflow the 256 MiB stacks of
# the runtime's threads instead of raising RecursionError. From 3.12 on, C
# recursion has a limit of its own and the setting is left alone.
MAX_RECURSION_LIMIT = 150_000 if sys.version_info < (3, 12) else None

# Set by the runtime: descriptors of its own (the pipes of runs' child
# output) that examples may not close or replace; the standard streams,
# sockets and event descriptors are always protected.
protected_fds = set()


def _is_server_fd(fd):
    if fd in (0, 1, 2) or fd in protected_fds:
        return True
    try:
        target = os.readlink("/proc/self/fd/%d" % fd)
    except OSError:
        return False
    # Sockets and event fds are the HTTP server's; an example's own sockets
    # are closed through their socket objects, never through os.close.
    return target.startswith(("socket:", "anon_inode:"))


def _is_server_thread_or_self(pid):
    if pid in (0, os.getpid(), -os.getpgrp()):
        return True
    # kill() of any thread's id signals the whole server.
    return pid > 0 and os.path.exists("/proc/self/task/%d" % pid)


def _kill(pid, sig):
    if pid == -1:
        _refuse("os.kill(-1, ...)", "it would signal every process of the server's user")()
    if _is_server_thread_or_self(pid):
        _refuse("os.kill", "it would signal the server itself")()
    return _original_kill(pid, sig)


def _killpg(pgid, sig):
    if pgid in (0, os.getpgrp()):
        _refuse("os.killpg", "it would signal the server's process group")()
    return _original_killpg(pgid, sig)


def _close(fd):
    if _is_server_fd(fd):
        _refuse("os.close(%d)" % fd, "the descriptor belongs to the server")()
    return _original_close(fd)


def _closerange(low, high):
    """Closes the descriptors in [low, high) that are not the server's."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if low <= fd < high and not _is_server_fd(fd):
            try:
                _original_close(fd)
            except OSError:
                pass


def _dup2(fd, fd2, inheritable=True):
    if _is_server_fd(fd2):
        _refuse("os.dup2(..., %d)" % fd2, "it would replace a descriptor of the server")()
    return _original_dup2(fd, fd2, inheritable)


def _pthread_kill(thread_id, sig):
    if sig != 0:
        _refuse("signal.pthread_kill", "it would signal a thread of the server")()
    return _original_pthread_kill(thread_id, sig)


def _pidfd_send_signal(pidfd, sig, siginfo=None, flags=0):
    try:
        target = os.readlink("/proc/self/fd/%d" % pidfd)
    except OSError:
        target = ""
    # A pidfd shows as anon_inode:[pidfd]; its pid is in fdinfo.
    try:
        with open("/proc/self/fdinfo/%d" % pidfd) as info:
            pids = [line.split()[1] for line in info if line.startswith("Pid:")]
    except OSError:
        pids = []
    if "pidfd" in target and any(_is_server_thread_or_self(int(p)) for p in pids):
        _refuse("signal.pidfd_send_signal", "it would signal the server itself")()
    return _original_pidfd_send_signal(pidfd, sig, siginfo, flags)


def _setswitchinterval(interval):
    low, high = SWITCH_INTERVAL_RANGE
    return _original_setswitchinterval(min(max(interval, low), high))


def _setrecursionlimit(limit):
    if MAX_RECURSION_LIMIT is not None and limit > MAX_RECURSION_LIMIT:
        limit = MAX_RECURSION_LIMIT
    return _original_setrecursionlimit(limit)


def _dump_traceback_later(original):
    def dump_traceback_later(timeout, repeat=False, file=None, exit=False):
        if exit:
            _refuse("faulthandler.dump_traceback_later(exit=True)", "it would end the whole server")()
        if file is None:
            file = sys.stderr
        return original(timeout, repeat, file, exit)

    return dump_traceback_later


def _guard_subinterpreter_runner(original, setup):
    def run_in_subinterp(code, *args, **kwargs):
        return original(setup + "\n" + code, *args, **kwargs)

    run_in_subinterp.__name__ = original.__name__
    return run_in_subinterp


def install():
    """Replaces the dangerous calls in this interpreter. Idempotent."""
    if getattr(os, "_rundocs_guarded", False):
        return
    os._rundocs_guarded = True
    exit_reason = "it would end the whole server; raise SystemExit (sys.exit) to end just this example"
    fork_reason = "forking a multi-threaded server copies it half-way; use subprocess to run a program"
    exec_reason = "it would replace the server with another program; use subprocess to run one"
    signal_reason = "signal handlers and timers belong to the server"
    for module in (os, posix):
        module._exit = _refuse("os._exit", exit_reason)
        module.abort = _refuse("os.abort", "it would end the whole server")
        for name in ("fork", "forkpty"):
            if hasattr(module, name):
                setattr(module, name, _refuse("os." + name, fork_reason))
        for name in ("execv", "execve", "execl", "execle", "execlp", "execlpe", "execvp", "execvpe"):
            if hasattr(module, name):
                setattr(module, name, _refuse("os." + name, exec_reason))
        module.kill = _kill
        if _original_killpg is not None:
            module.killpg = _killpg
        module.close = _close
        module.closerange = _closerange
        module.dup2 = _dup2
    for module in (signal, _signal):
        for name in ("signal", "siginterrupt", "set_wakeup_fd", "setitimer", "alarm",
                     "pthread_sigmask", "raise_signal", "pause", "sigwait", "sigwaitinfo"):
            if hasattr(module, name):
                setattr(module, name, _refuse("signal." + name, signal_reason))
        if _original_pthread_kill is not None:
            module.pthread_kill = _pthread_kill
        if _original_pidfd_send_signal is not None:
            module.pidfd_send_signal = _pidfd_send_signal
    sys.setswitchinterval = _setswitchinterval
    sys.setrecursionlimit = _setrecursionlimit
    sys.addaudithook = _refuse("sys.addaudithook", "audit hooks cannot be removed and would outlive the example")
    _guard_faulthandler()
    _guard_resource()
    _guard_testcapi()


def _guard_faulthandler():
    try:
        import faulthandler
    except ImportError:  # refused by some sub-interpreters
        return

    reason = "it would crash or end the whole server"
    for name in ("_sigsegv", "_sigabrt", "_sigfpe", "_read_null", "_fatal_error",
                 "_fatal_error_c_thread", "_stack_overflow"):
        if hasattr(faulthandler, name):
            setattr(faulthandler, name, _refuse("faulthandler." + name, reason))
    faulthandler.register = _refuse("faulthandler.register", "signal handlers belong to the server")
    faulthandler.dump_traceback_later = _dump_traceback_later(faulthandler.dump_traceback_later)


def _guard_resource():
    try:
        import resource
    except ImportError:
        return
    reason = "resource limits apply to the whole server, shared with every other reader"
    resource.setrlimit = _refuse("resource.setrlimit", reason)
    if hasattr(resource, "prlimit"):
        original_prlimit = resource.prlimit

        def prlimit(pid, resource_id, *limits):
            if limits and _is_server_thread_or_self(pid):
                _refuse("resource.prlimit", reason)()
            return original_prlimit(pid, resource_id, *limits)

        resource.prlimit = prlimit


def _guard_testcapi():
    source = globals().get("SOURCE")  # set by the runtime in the main interpreter
    if source is None:
        return
    try:
        import _testcapi
    except ImportError:
        return
    setup = (
        "import sys as _sys, types as _types\n"
        "_guards = _types.ModuleType('_rundocs_guards')\n"
        "exec(%r, _guards.__dict__)\n"
        "_guards.install()\n"
        "_sys.modules['_rundocs_guards'] = _guards\n"
        "del _sys, _types, _guards" % source
    )
    for name in ("run_in_subinterp", "run_in_subinterp_with_config"):
        original = getattr(_testcapi, name, None)
        if original is not None:
            setattr(_testcapi, name, _guard_subinterpreter_runner(original, setup))
