"""Tracebacks as the interpreter prints them (module ``_rundocs_tracebacks``),
shared by thread mode and process mode's children, with the rest of what
the interpreter does with an exception that ends a script: where in the
script it was raised, and the exit status ``SystemExit`` asks for."""
import sys
import traceback
import types


def format_exception(exc, print_natively, hidden_files=()):
    """The text the interpreter prints for an uncaught ``exc``: the last
    ``sys.tracebacklimit`` (1000) entries, without frames of
    ``hidden_files``, with 3.11's "Did you mean" hint. ``print_natively(exc)``
    returns what ``sys.__excepthook__`` (the C printer) prints for it."""
    # Formatting every frame of a deep recursion would take seconds.
    limit = getattr(sys, "tracebacklimit", 1000)
    limit = -limit if isinstance(limit, int) and limit > 0 else 0
    report = traceback.TracebackException(type(exc), exc, exc.__traceback__, limit=limit)
    if hidden_files:
        _hide_frames(report, hidden_files)
    hint = _c_printer_hint(exc, print_natively)
    if hint and not str(report).endswith(hint):
        report._str = str(report) + hint
    return "".join(report.format())


def exit_code(exc):
    """What ``SystemExit`` asks for, as the interpreter handles it at the top
    level: the process exit ``code`` and ``text`` to print to stderr."""
    code = exc.code
    if code is None:
        return types.SimpleNamespace(code=0, text=None)
    if isinstance(code, int):
        return types.SimpleNamespace(code=code, text=None)
    return types.SimpleNamespace(code=1, text=str(code) + "\n")


def location_in(exc, filenames):
    """``(line, filename)`` of the innermost frame of ``exc`` inside one of
    ``filenames`` (a syntax error's own position in one), or ``(None, None)``."""
    line = filename = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in filenames:
            line, filename = tb.tb_lineno, tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    if isinstance(exc, SyntaxError) and exc.filename in filenames:
        line, filename = exc.lineno, exc.filename
    return line, filename


def _hide_frames(report, hidden_files):
    """Drops frames of ``hidden_files`` from a report and the reports chained to it."""
    seen = set()
    while report is not None and id(report) not in seen:
        seen.add(id(report))
        frames = [f for f in report.stack if not f.filename.endswith(hidden_files)]
        report.stack = traceback.StackSummary.from_list(frames)
        report = report.__cause__ or report.__context__


def _c_printer_hint(exc, print_natively):
    """The hint 3.11's C printer appends to NameError and AttributeError
    messages ("Did you mean ..."). From 3.12 on, traceback computes it too."""
    if sys.version_info >= (3, 12) or type(exc) not in (NameError, AttributeError):
        return ""
    try:
        text = print_natively(exc)
    except Exception:  # noqa: BLE001 - no hint then
        return ""
    head = "%s: %s" % (type(exc).__name__, exc)
    at = text.rfind(head)
    if at < 0:
        return ""
    return text[at + len(head):].split("\n", 1)[0]
