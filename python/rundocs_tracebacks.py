"""Tracebacks as the interpreter prints them (module ``_rundocs_tracebacks``),
shared by thread mode and process mode's children."""
import sys
import traceback


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
