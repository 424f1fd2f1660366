"""Interpreter sessions (module ``_rundocs_session``), shared by thread mode
and process mode's children.

A session block's statements come from the Rust side, read as doctest reads
them (src/content/session.rs): ``(line, echo, source)`` each, ``line`` being
where the statement starts in the block. ``compile_session`` gives a code
object that, evaluated in the run's namespace like any block, runs them as
the interactive interpreter runs what is typed at it: each statement is
echoed with its prompts, compiled in ``"single"`` mode (so a bare
expression's value goes through ``sys.displayhook``, which sets
``builtins._``), and an exception prints its traceback and the session goes
on with the next statement. Echoes and tracebacks go to the standard output
the session started with, so the transcript reads in order as a terminal
shows it. Tracebacks name the block and its lines, as for any block.
``SystemExit`` ends the session, as it ends the interpreter.
"""
import __future__
import linecache
import sys

# What escapes a session: exiting, and what the runtime stops runs with.
_passthrough = (SystemExit,)
_format_exception = None
_default_excepthook = None

_FUTURE_FLAGS = 0
for _name in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _name).compiler_flag

# This file's name, hidden from tracebacks, given to the code that starts a session.
FILENAME = "rundocs_session.py"


def install(format_exception, passthrough=()):
    """Sets how a traceback is written (``format_exception(exc)`` returns the
    text the interpreter prints, without the runtime's frames) and which
    exceptions besides ``SystemExit`` end a session (the runtime's stop)."""
    global _format_exception, _passthrough, _default_excepthook
    _format_exception = format_exception
    _passthrough = (SystemExit,) + tuple(passthrough)
    _default_excepthook = sys.excepthook


def compile_session(statements, filename):
    """A code object running ``statements`` as a session named ``filename``
    in the namespace it is evaluated in. The block's statements, without
    their prompts, are what tracebacks show at their lines."""
    statements = tuple((int(line), str(echo), str(source)) for line, echo, source in statements)
    shown = {}
    for line, _, source in statements:
        for offset, text in enumerate(source.splitlines(True)):
            shown[line + offset] = text
    lines = [shown.get(n, "\n") for n in range(1, max(shown, default=0) + 1)]
    linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    starter = "__import__(%r).run(%r, %r)\n" % (__name__, filename, statements)
    return compile(starter, FILENAME, "exec", dont_inherit=True)


def run(filename, statements):
    """Runs a session's statements in the calling code's namespace."""
    namespace = sys._getframe(1).f_globals
    out = sys.stdout
    flags = 0
    for line, echo, source in statements:
        _write(out, echo)
        if not source:
            continue
        try:
            code = compile("\n" * (line - 1) + source, filename, "single", flags, True)
            flags |= code.co_flags & _FUTURE_FLAGS
            exec(code, namespace)
        except _passthrough:
            raise
        except BaseException as exc:  # noqa: BLE001 - shown, as the interpreter shows it
            _report(exc, out)


def _report(exc, out):
    """Shows an exception as the interactive interpreter does: through the
    ``sys.excepthook`` the session set, if any, else as its traceback."""
    hook = sys.excepthook
    if hook is not _default_excepthook:
        try:
            hook(type(exc), exc, exc.__traceback__)
            return
        except BaseException as failure:  # noqa: BLE001 - as the interpreter reports it
            _write(out, "Error in sys.excepthook:\n" + _format_exception(failure)
                   + "\nOriginal exception was:\n")
    _write(out, _format_exception(exc))


def _write(out, text):
    """Writes to the session's standard output, even if the code closed it."""
    try:
        out.write(text)
        out.flush()
    except (OSError, ValueError, AttributeError):
        pass
