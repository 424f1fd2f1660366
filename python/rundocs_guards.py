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

import os
import posix
import signal

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
_original_pthread_kill = getattr(signal, "pthread_kill", None)


def _kill(pid, sig):
    if pid in (0, os.getpid(), -os.getpgrp()):
        _refuse("os.kill", "it would signal the server itself")()
    return _original_kill(pid, sig)


def _killpg(pgid, sig):
    if pgid in (0, os.getpgrp()):
        _refuse("os.killpg", "it would signal the server's process group")()
    return _original_killpg(pgid, sig)


def _close(fd):
    if fd in (0, 1, 2):
        _refuse("os.close(%d)" % fd, "it would close the server's standard streams")()
    return _original_close(fd)


def _pthread_kill(thread_id, sig):
    if sig != 0:
        _refuse("signal.pthread_kill", "it would signal a thread of the server")()
    return _original_pthread_kill(thread_id, sig)


def install():
    """Replaces the dangerous calls in this interpreter. Idempotent."""
    if getattr(os, "_rundocs_guarded", False):
        return
    os._rundocs_guarded = True
    exit_reason = "it would end the whole server; raise SystemExit (sys.exit) to end just this example"
    fork_reason = "forking a multi-threaded server copies it half-way; use subprocess to run a program"
    signal_reason = "signal handlers belong to the server"
    for module in (os, posix):
        module._exit = _refuse("os._exit", exit_reason)
        module.abort = _refuse("os.abort", "it would end the whole server")
        for name in ("fork", "forkpty"):
            if hasattr(module, name):
                setattr(module, name, _refuse("os." + name, fork_reason))
        module.kill = _kill
        if _original_killpg is not None:
            module.killpg = _killpg
        module.close = _close
    for name in ("signal", "siginterrupt", "set_wakeup_fd", "setitimer", "alarm", "pthread_sigmask", "raise_signal"):
        if hasattr(signal, name):
            setattr(signal, name, _refuse("signal." + name, signal_reason))
    if _original_pthread_kill is not None:
        signal.pthread_kill = _pthread_kill


