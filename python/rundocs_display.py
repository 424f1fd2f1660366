"""Rich output for runs, as a notebook shows it, installed once as module
``_rundocs_display``.

The host calls ``install(emit, run_key)`` once, before any run and before
the runtime records the state it puts back after runs (``display`` joins
the builtins and a finder ``sys.meta_path``); in process mode in the warm
interpreter, before it forks. ``emit(data, metadata)``
sends one display to the calling thread's run: ``data`` maps MIME types to
text (binary types in base64, ``text/plain`` always there), ``metadata`` is
Jupyter's. Every display goes through it:

* ``display(obj, ...)`` (a builtin once installed) turns each object into
  a MIME bundle with ``mime_bundle``, which follows IPython's formatter:
  ``_repr_mimebundle_``, then the ``_repr_*_`` methods, then ``repr``. Text
  printed before a display is flushed first, so the two keep their order.
* ``compile_echo`` compiles a block so that the value of its last bare
  expression is displayed, as a notebook cell shows it.
* Matplotlib: this module is also a backend (``module://_rundocs_display``),
  selected when matplotlib is imported, before or after ``install``.
  ``plt.show()`` displays the run's open figures where it is called, then
  closes them; ``fig.show()`` displays one figure; what a run leaves open
  the host shows with ``flush_figures()`` when the run ends. Figures are
  PNG drawn at twice their dpi, with metadata giving their size in CSS
  pixels, so they are sharp on high-DPI screens; with
  ``rcParams["savefig.format"] = "svg"`` they are SVG instead.

In thread mode many runs share the interpreter. ``run_key()`` names the run
of the calling thread, and pyplot's figure registry (``Gcf.figs``) becomes a
``RunFigures`` mapping that keeps an ordered dict per run: each run sees,
numbers (from 1), shows and closes only its own figures. The host drops a
run's dict with ``forget_run(key)``. A run that picks another backend with
``matplotlib.use`` has ours put back by ``restore_backend()`` after it.
"""

import _thread
import ast
import base64
import builtins
import importlib.util
import io
import json
import pprint
import re
import struct
import sys
import traceback
import types
from collections import OrderedDict

# The name matplotlib knows this module by as a backend.
BACKEND = "module://" + __name__

# Set by install(): the host's ``emit`` and ``run_key`` (None in process mode).
_emit = None
_run_key = None


def install(emit, run_key=None):
    """Makes ``display`` a builtin and this module matplotlib's backend, now
    if matplotlib is imported, else as soon as it is. ``run_key`` (thread
    mode) keeps each run's figures apart."""
    global _emit, _run_key
    _emit, _run_key = emit, run_key
    builtins.display = display
    if not any(isinstance(finder, _MatplotlibFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _MatplotlibFinder())
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None:
        _adopt_matplotlib(matplotlib)


# --- display ------------------------------------------------------------------


def display(*objs, include=None, exclude=None, metadata=None, raw=False):
    """Displays each object in the run's output, as IPython's ``display``:
    ``include``/``exclude`` restrict the MIME types, ``metadata`` is merged
    into each display's, and ``raw=True`` takes ready MIME bundles (dicts).
    As in IPython, ``display(None)`` shows ``None``; an object none of whose
    types is wanted shows nothing."""
    for obj in objs:
        if raw:
            if not isinstance(obj, dict):
                raise TypeError("display(raw=True) takes MIME bundles (dicts), not %s"
                                % type(obj).__name__)
            data = {mime: _as_text(mime, value) for mime, value in obj.items()}
            bundle_metadata = {}
        else:
            data, bundle_metadata = mime_bundle(obj, include, exclude)
        if not data:
            continue  # every type it has was left out, as in IPython
        if metadata:
            _merge(bundle_metadata, metadata)
        if "text/plain" not in data:
            data["text/plain"] = ("<%s>" % ", ".join(data)) if raw else _plain_text(obj)
        _publish(data, bundle_metadata)


def _publish(data, metadata):
    if _emit is None:
        raise RuntimeError("display() is not connected: install() was not called")
    # What the run printed before comes first.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    _emit(data, metadata)


def _merge(into, extra):
    """Merges ``extra`` into ``into``, sub-dicts key by key (IPython's rule)."""
    for key, value in extra.items():
        current = into.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            into[key] = _merge(dict(current), value)
        else:
            into[key] = value
    return into


# --- MIME bundles ---------------------------------------------------------------

# The repr methods IPython's formatter tries after ``_repr_mimebundle_``, in
# its order. (Javascript and PDF are left out: a docs page runs neither.)
REPR_METHODS = (
    ("text/html", "_repr_html_"),
    ("text/markdown", "_repr_markdown_"),
    ("image/svg+xml", "_repr_svg_"),
    ("image/png", "_repr_png_"),
    ("image/jpeg", "_repr_jpeg_"),
    ("text/latex", "_repr_latex_"),
    ("application/json", "_repr_json_"),
)

# Builtin containers whose text is pretty-printed, as IPython's plain
# formatter does; above this many items ``repr`` is used (pprint is slow).
_PRETTY_REPRS = frozenset(t.__repr__ for t in (dict, list, tuple, set, frozenset))
_PRETTY_MAX_ITEMS = 1000


def mime_bundle(obj, include=None, exclude=None):
    """``(data, metadata)`` for ``obj``, as IPython's formatter computes it;
    values are text, binary ones in base64. A repr method that raises has its
    traceback printed to stderr and its type left out."""
    def wanted(mime):
        return (not include or mime in include) and not (exclude and mime in exclude)

    figure_module = sys.modules.get("matplotlib.figure")
    if figure_module is not None and isinstance(obj, figure_module.Figure):
        return _figure_bundle(obj, wanted)
    data, metadata = {}, {}
    if _claims_every_attribute(obj):
        methods = ()  # a proxy or a mock: its "repr methods" are not real
    else:
        methods = REPR_METHODS
        bundle = _call_repr(obj, "_repr_mimebundle_", "_repr_mimebundle_",
                            include=include, exclude=exclude)
        if bundle is not None:
            bundle_data, bundle_metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
            data = {mime: _as_text(mime, value)
                    for mime, value in (bundle_data or {}).items() if wanted(mime)}
            metadata = {key: value for key, value in (bundle_metadata or {}).items()
                        if wanted(key)}
    for mime, name in methods:
        if mime in data or not wanted(mime):
            continue
        value = _call_repr(obj, name, mime)
        if isinstance(value, tuple) and len(value) == 2:
            value, value_metadata = value
            if value_metadata is not None:
                metadata[mime] = value_metadata
        if value is not None:
            data[mime] = _as_text(mime, value)
    if "text/plain" not in data and wanted("text/plain"):
        data["text/plain"] = _plain_text(obj)
    return data, metadata


def _claims_every_attribute(obj):
    """True for objects that answer any attribute (IPython's canary test)."""
    try:
        return getattr(obj, "_ipython_canary_method_should_not_exist_", None) is not None
    except Exception:  # noqa: BLE001 - a broken __getattr__ counts as claiming
        return True


def _call_repr(obj, name, label, **kwargs):
    """Calls ``obj``'s repr method ``name``, if it has a real one."""
    try:
        method = getattr(obj, name, None)
    except Exception:  # noqa: BLE001 - an attribute that cannot be read is absent
        return None
    if not callable(method) or (isinstance(obj, type) and not isinstance(method, types.MethodType)):
        return None  # a class's repr methods are for its instances
    return _guarded(label, method, **kwargs)


def _guarded(label, function, *args, **kwargs):
    """Calls a formatter; what it raises is reported as IPython does, and
    gives None. ``NotImplementedError`` means "not available", silently."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        return None
    except Exception as exc:  # noqa: BLE001 - one failing formatter leaves out one type
        _report("%s formatter raised:" % label, exc)
        return None


def _report(header, exc):
    """Prints ``header`` and the traceback to the run's stderr, from the
    failing code's frame on (the first is ours, only noise)."""
    stderr = sys.stderr
    if stderr is not None:
        stderr.write(header + "\n")
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next, file=stderr)


def _plain_text(obj):
    """``text/plain``: ``repr``, pretty-printed for builtin containers."""
    try:
        if type(obj).__repr__ in _PRETTY_REPRS and len(obj) <= _PRETTY_MAX_ITEMS:
            return pprint.pformat(obj, width=79, sort_dicts=False)
        return repr(obj)
    except Exception as exc:  # noqa: BLE001 - reported; the display still has text
        _report("text/plain formatter raised:", exc)
        return object.__repr__(obj)


def _is_text_type(mime):
    return (mime.startswith("text/") or mime.endswith(("+json", "+xml"))
            or mime in ("application/json", "application/javascript"))


def _as_text(mime, value):
    """A bundle value as ``emit`` sends it, converted as the Jupyter protocol
    does: bytes of binary types to base64, JSON values to JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        if _is_text_type(mime):
            return bytes(value).decode("utf-8", "replace")
        return base64.b64encode(value).decode("ascii")
    return json.dumps(value, default=str)


# --- echo -----------------------------------------------------------------------


def compile_echo(source, filename):
    """``compile(source, filename, "exec", dont_inherit=True)``, except that
    the value of a last top-level bare expression is displayed unless it is
    None or followed by ``;``, as a notebook cell shows it. Line numbers
    (and so tracebacks) are those of the source."""
    tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    last = tree.body[-1] if tree.body else None
    if (isinstance(last, ast.Expr) and not _is_docstring(tree, last)
            and not _silenced(source, last)):
        tree.body[-1] = _echo_statement(last)
    return compile(tree, filename, "exec", dont_inherit=True)


def _is_docstring(tree, statement):
    # A lone string is the module's docstring: python3 sets __doc__ from it.
    return (statement is tree.body[0] and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def _silenced(source, statement):
    """True when a ``;`` follows the statement, as ``plt.plot(x);`` in a
    notebook asks for no output."""
    if isinstance(source, (bytes, bytearray)):
        source = importlib.util.decode_source(bytes(source))
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # Only blanks, comments and ";" can follow the last statement.
    last_line = lines[statement.end_lineno - 1].encode("utf-8")
    rest = "\n".join([last_line[statement.end_col_offset:].decode("utf-8", "replace")]
                     + lines[statement.end_lineno:])
    return ";" in re.sub(r"#[^\n]*", "", rest)


def _echo_statement(statement):
    """``__import__(<this module>, fromlist=...)._echo(<expression>)`` at the
    expression's place: found through the import system, not a name of the
    block's namespace, so a block that binds ``display`` still echoes."""
    module = ast.Call(func=ast.Name(id="__import__", ctx=ast.Load()),
                      args=[ast.Constant(value=__name__)],
                      keywords=[ast.keyword(arg="fromlist", value=ast.Constant(value=("_echo",)))])
    call = ast.Call(func=ast.Attribute(value=module, attr="_echo", ctx=ast.Load()),
                    args=[statement.value], keywords=[])
    echo = ast.Expr(value=call)
    for node in (echo, call, call.func, module, module.func, *module.args,
                 module.keywords[0], module.keywords[0].value):
        ast.copy_location(node, statement)
    return echo


def _echo(value):
    """Displays the value of a block's last expression, unless None."""
    if value is not None:
        display(value)


# --- matplotlib: selecting this backend -------------------------------------------


class _MatplotlibFinder:
    """A ``sys.meta_path`` finder that lets the other finders find
    ``matplotlib`` and wraps its loader, so that this backend is chosen once
    the package has run (the environment stays as python3 would have it:
    no ``MPLBACKEND``)."""

    def find_spec(self, name, path=None, target=None):
        if name != "matplotlib":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _AdoptingLoader(spec.loader)
        return spec


class _AdoptingLoader:
    """Runs matplotlib with its own loader, then adopts it."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        # The package sees its real loader (importlib.resources asks it).
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        try:
            _adopt_matplotlib(module)
        except Exception as exc:  # noqa: BLE001 - the import still succeeds, as with python3
            _report("rundocs could not make matplotlib display its figures:", exc)

    def __getattr__(self, name):
        return getattr(self.loader, name)


def _adopt_matplotlib(matplotlib):
    """Selects this backend and, in thread mode, keeps runs' figures apart."""
    import atexit

    if not hasattr(matplotlib, "rcParams"):
        return  # not the plotting library, or one that failed to import
    from matplotlib import _pylab_helpers

    _select_backend(matplotlib)
    gcf = _pylab_helpers.Gcf
    # matplotlib closes every figure at exit; then the host's flush at the
    # end of a run (after atexit callbacks, in process mode) would find none.
    atexit.unregister(gcf.destroy_all)
    if _run_key is not None and not isinstance(gcf.figs, RunFigures):
        gcf.figs = RunFigures(gcf.figs)
    if _run_key is not None:
        global _rc_baseline
        _rc_baseline = _raw_rc(matplotlib.rcParams)


# Thread mode: the settings every run starts from (``rcParams`` is one for
# the process; what a run changes is put back after it).
_rc_baseline = None


def _raw_rc(rc):
    """The stored values of ``rc``, bypassing its validation and lookups,
    lists copied (a run may change one in place); the backend is left to
    ``_select_backend``, which also switches pyplot."""
    return {key: list(value) if isinstance(value, list) else value
            for key, value in dict.items(rc) if key != "backend"}


def _select_backend(matplotlib):
    rc = matplotlib.rcParams
    try:
        current = rc._get("backend") if hasattr(rc, "_get") else dict.__getitem__(rc, "backend")
    except KeyError:
        current = None
    if current == BACKEND:
        return
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        rc["backend"] = BACKEND
    else:
        pyplot.switch_backend(BACKEND)


def restore_backend():
    """Selects this backend again if a run chose another. The host calls it
    after each run; it does nothing (and imports nothing) without matplotlib."""
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None and hasattr(matplotlib, "rcParams"):
        if _rc_baseline is not None:
            rc = matplotlib.rcParams
            dict.update(rc, _raw_rc(_rc_baseline))
        _select_backend(matplotlib)


# --- matplotlib: one figure registry per run ------------------------------------


class RunFigures:
    """``Gcf.figs`` in thread mode: an ``OrderedDict`` per run, chosen by the
    calling thread's ``run_key()``; threads of no run share the original.
    Every operation acts on the caller's dict, so pyplot numbers, shows and
    closes each run's figures alone."""

    def __init__(self, shared):
        self._shared = shared
        self._by_run = {}

    def _figures(self):
        key = _run_key()
        if key is None:
            return self._shared
        figures = self._by_run.get(key)
        if figures is None:
            figures = self._by_run.setdefault(key, OrderedDict())
        return figures

    def forget(self, key):
        self._by_run.pop(key, None)

    # get, pop, keys, values, items, clear, move_to_end, setdefault, ...
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)  # not half made (copy, pickle): no recursion
        return getattr(self._figures(), name)

    def __getitem__(self, num):
        return self._figures()[num]

    def __setitem__(self, num, manager):
        self._figures()[num] = manager

    def __delitem__(self, num):
        del self._figures()[num]

    def __contains__(self, num):
        return num in self._figures()

    def __iter__(self):
        return iter(self._figures())

    def __reversed__(self):
        return reversed(self._figures())

    def __len__(self):
        return len(self._figures())

    def __eq__(self, other):
        return self._figures() == other

    __hash__ = None

    def __repr__(self):
        return repr(self._figures())


def forget_run(key):
    """Drops the figure registry of the run ``key`` (thread mode). The host
    calls it when the run has ended, after ``flush_figures``."""
    helpers = sys.modules.get("matplotlib._pylab_helpers")
    figures = helpers.Gcf.figs if helpers is not None else None
    if isinstance(figures, RunFigures):
        figures.forget(key)


# --- matplotlib: the backend ------------------------------------------------------

_backend_lock = _thread.allocate_lock()


def __getattr__(name):
    """``FigureCanvas`` and ``FigureManager``, made when matplotlib asks for
    them (this module is imported without matplotlib)."""
    if name in ("FigureCanvas", "FigureManager"):
        with _backend_lock:
            if name not in globals():
                _define_backend()
        return globals()[name]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def _define_backend():
    from matplotlib.backend_bases import FigureManagerBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    class FigureManager(FigureManagerBase):
        """A figure of a run; ``fig.show()`` displays it where it is called."""

        # Displayed by fig.show(): the end of the run does not show it again.
        shown = False

        def show(self):
            self.shown = True
            display(self.canvas.figure)

    class FigureCanvas(FigureCanvasAgg):
        manager_class = FigureManager

    for cls in (FigureManager, FigureCanvas):
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    globals().update(FigureManager=FigureManager, FigureCanvas=FigureCanvas)


def show(close=None, block=None):
    """``plt.show()``: displays the run's open figures, then closes them, as
    Jupyter's inline backend does. ``block`` is accepted and ignored."""
    from matplotlib._pylab_helpers import Gcf

    managers = _in_number_order(Gcf.get_all_fig_managers())
    try:
        for manager in managers:
            display(manager.canvas.figure)
    finally:
        if close is None or close:
            for manager in managers:
                Gcf.destroy(manager)


def flush_figures():
    """Displays the figures the calling thread's run left open and closes
    them. The host calls it on the run's thread when its code has ended.
    Figures made while the run had chosen another backend are closed
    unseen, and those ``fig.show()`` displayed are not shown twice. Does
    nothing (and imports nothing) if pyplot was never used."""
    helpers = sys.modules.get("matplotlib._pylab_helpers")
    if helpers is None:
        return
    gcf = helpers.Gcf
    managers = _in_number_order(gcf.get_all_fig_managers())
    ours = globals().get("FigureManager")
    try:
        for manager in managers:
            if ours is not None and isinstance(manager, ours) and not manager.shown:
                display(manager.canvas.figure)
    finally:
        for manager in managers:
            gcf.destroy(manager)


def _in_number_order(managers):
    # Gcf keeps the active figure last; a reader expects figure 1 first.
    try:
        return sorted(managers, key=lambda manager: manager.num)
    except TypeError:
        return managers


def _figure_bundle(figure, wanted):
    """A figure as an image: PNG at twice its dpi with its size in CSS
    pixels as metadata, or SVG when ``savefig.format`` asks for it."""
    data, metadata = {}, {}
    if wanted("text/plain"):
        data["text/plain"] = repr(figure)
    # Only the background patch: nothing to draw (IPython shows no image either).
    if len(figure.get_children()) <= 1:
        return data, metadata
    import matplotlib

    if matplotlib.rcParams["savefig.format"] == "svg":
        if wanted("image/svg+xml"):
            svg = _guarded("image/svg+xml", _render, figure, "svg", figure.dpi)
            if svg is not None:
                data["image/svg+xml"] = svg.decode("utf-8")
    elif wanted("image/png"):
        png = _guarded("image/png", _render, figure, "png", 2 * figure.dpi)
        if png is not None:
            data["image/png"] = base64.b64encode(png).decode("ascii")
            # The drawn size (a tight box, not the figure's), halved: CSS pixels.
            width, height = struct.unpack(">II", png[16:24])
            metadata["image/png"] = {"width": width // 2, "height": height // 2}
    return data, metadata


def _render(figure, fmt, dpi):
    buffer = io.BytesIO()
    figure.canvas.print_figure(buffer, format=fmt, dpi=dpi, bbox_inches="tight",
                               facecolor=figure.get_facecolor(),
                               edgecolor=figure.get_edgecolor())
    return buffer.getvalue()
