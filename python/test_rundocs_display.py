"""Tests of ``rundocs_display``: what a display carries, in what order, to
which run; the matplotlib backend; echoing a block's last expression.

    python -m unittest python/test_rundocs_display.py

``Host`` stands in for the runtime: it says which run each thread belongs to
(``run_key``) and records what runs print and display, in one transcript.
Every test is a run of its own, ended as the host ends runs (flush the
figures, forget the run, put the backend back). Tests that need matplotlib,
pandas or Pillow are skipped, saying so, where those are missing; the tests
of import order run in fresh interpreters.
"""

import base64
import builtins
import contextlib
import importlib.util
import io
import json
import os
import pprint
import struct
import subprocess
import sys
import textwrap
import threading
import traceback
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import rundocs_display  # noqa: E402 - found through the path set just above
from rundocs_display import display  # noqa: E402 - the builtin, once installed


def _installed(name):
    return importlib.util.find_spec(name) is not None


HAS_MATPLOTLIB = _installed("matplotlib")
HAS_PANDAS = _installed("pandas")
HAS_PILLOW = _installed("PIL")
needs_matplotlib = unittest.skipUnless(HAS_MATPLOTLIB, "matplotlib is not installed")


class Host:
    """The runtime's side: thread -> run, and what runs print and display."""

    def __init__(self):
        self.runs = {}
        self.transcript = []
        self.lock = threading.Lock()

    def run_key(self):
        return self.runs.get(threading.get_ident())

    def emit(self, data, metadata):
        # Looked up here, as the host does: the display goes to the caller's run.
        with self.lock:
            self.transcript.append(("display", self.run_key(), data, metadata))

    def write(self, text):
        with self.lock:
            self.transcript.append(("text", self.run_key(), text))


HOST = Host()


class Transcript(io.TextIOBase):
    """A ``sys.stdout`` that writes into the host's transcript, as soon as
    written (``buffered=False``) or only when flushed, as a real stream."""

    def __init__(self, buffered=False):
        self.buffered = buffered
        self.pending = []

    def writable(self):
        return True

    def write(self, text):
        if self.buffered:
            self.pending.append(text)
        else:
            HOST.write(text)
        return len(text)

    def flush(self):
        if self.pending:
            HOST.write("".join(self.pending))
            self.pending.clear()


def setUpModule():
    rundocs_display.install(HOST.emit, HOST.run_key)


class RunTest(unittest.TestCase):
    """A test whose thread is a run of its own."""

    def setUp(self):
        self.key = self.id()
        HOST.runs[threading.get_ident()] = self.key

    def tearDown(self):
        rundocs_display.flush_figures()
        rundocs_display.forget_run(self.key)
        rundocs_display.restore_backend()
        del HOST.runs[threading.get_ident()]

    def events(self, key=None):
        """This run's transcript: ("text", str) with adjacent texts joined,
        and ("display", data, metadata)."""
        key = key or self.key
        events = []
        for kind, run, *payload in list(HOST.transcript):
            if run != key:
                continue
            if kind == "text" and events and events[-1][0] == "text":
                events[-1] = ("text", events[-1][1] + payload[0])
            else:
                events.append((kind, *payload))
        return events

    def displays(self, key=None):
        return [(data, metadata) for kind, *payload in self.events(key) if kind == "display"
                for data, metadata in [payload]]

    def only_display(self):
        displays = self.displays()
        self.assertEqual(len(displays), 1, displays)
        return displays[0]


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 8


class Rich:
    """Has every repr method IPython's formatter looks for."""

    def _repr_html_(self):
        return "<b>rich</b>"

    def _repr_markdown_(self):
        return "**rich**"

    def _repr_svg_(self):
        return "<svg/>"

    def _repr_png_(self):
        return PNG, {"width": 3, "height": 2}

    def _repr_jpeg_(self):
        return b"\xff\xd8\xff"

    def _repr_latex_(self):
        return r"$\rho$"

    def _repr_json_(self):
        return {"rich": [1, 2]}

    def __repr__(self):
        return "Rich()"


class ReprProtocolTest(RunTest):
    def test_each_repr_method_gives_its_type_as_text(self):
        data, metadata = rundocs_display.mime_bundle(Rich())
        self.assertEqual(data, {
            "text/html": "<b>rich</b>",
            "text/markdown": "**rich**",
            "image/svg+xml": "<svg/>",
            "image/png": base64.b64encode(PNG).decode("ascii"),
            "image/jpeg": base64.b64encode(b"\xff\xd8\xff").decode("ascii"),
            "text/latex": r"$\rho$",
            "application/json": '{"rich": [1, 2]}',
            "text/plain": "Rich()",
        })
        self.assertEqual(metadata, {"image/png": {"width": 3, "height": 2}})

    def test_a_method_returning_none_leaves_its_type_out(self):
        class Sometimes:
            def _repr_html_(self):
                return None

            def _repr_markdown_(self):
                return "*yes*"

            def _repr_latex_(self):
                raise NotImplementedError  # "not available", without a word

        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            data, metadata = rundocs_display.mime_bundle(Sometimes())
        self.assertEqual(set(data), {"text/markdown", "text/plain"})
        self.assertEqual(metadata, {})
        self.assertEqual(stderr.getvalue(), "")

    def test_repr_mimebundle_comes_first_and_is_told_include_and_exclude(self):
        calls = []

        class Bundled:
            def _repr_mimebundle_(self, include=None, exclude=None):
                calls.append((include, exclude))
                return ({"text/html": "<i>from the bundle</i>", "image/png": PNG,
                         "application/json": {"a": 1}, "text/plain": "bundled"},
                        {"image/png": {"width": 3}})

            def _repr_html_(self):
                return "<i>from the method</i>"

            def _repr_markdown_(self):
                return "from the method"

        data, metadata = rundocs_display.mime_bundle(Bundled())
        self.assertEqual(calls, [(None, None)])
        self.assertEqual(data, {"text/html": "<i>from the bundle</i>",
                                "image/png": base64.b64encode(PNG).decode("ascii"),
                                "application/json": '{"a": 1}', "text/plain": "bundled",
                                "text/markdown": "from the method"})
        self.assertEqual(metadata, {"image/png": {"width": 3}})

        data, metadata = rundocs_display.mime_bundle(Bundled(), include={"text/html", "image/png"})
        self.assertEqual(set(data), {"text/html", "image/png"})
        data, metadata = rundocs_display.mime_bundle(Bundled(), exclude=["image/png", "text/html"])
        self.assertEqual(set(data), {"application/json", "text/plain", "text/markdown"})
        self.assertEqual(metadata, {})
        self.assertEqual(calls[1], ({"text/html", "image/png"}, None))
        self.assertEqual(calls[2], (None, ["image/png", "text/html"]))

    def test_a_repr_mimebundle_may_return_data_alone(self):
        class Plain:
            def _repr_mimebundle_(self, include=None, exclude=None):
                return {"text/markdown": "# hi"}

        data, metadata = rundocs_display.mime_bundle(Plain())
        self.assertEqual(data["text/markdown"], "# hi")
        self.assertEqual(metadata, {})

    def test_a_raising_repr_html_is_reported_on_stderr_and_left_out(self):
        class Broken:
            def _repr_html_(self):
                raise ValueError("no html today")

            def _repr_markdown_(self):
                return "still here"

        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            display(Broken())
        data, _ = self.only_display()
        self.assertEqual(set(data), {"text/markdown", "text/plain"})
        report = stderr.getvalue()
        self.assertIn("text/html formatter raised", report)
        self.assertIn("Traceback (most recent call last)", report)
        self.assertIn("in _repr_html_", report)
        self.assertTrue(report.endswith("ValueError: no html today\n"), report)

    def test_a_raising_repr_still_gives_text(self):
        class NoRepr:
            def __repr__(self):
                raise RuntimeError("no repr")

        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            data, _ = rundocs_display.mime_bundle(NoRepr())
        self.assertIn("NoRepr object at 0x", data["text/plain"])
        self.assertIn("RuntimeError: no repr", stderr.getvalue())

    def test_classes_and_objects_that_claim_every_attribute_give_text_only(self):
        class Anything:
            def __getattr__(self, name):
                return lambda *args, **kwargs: "<b>anything</b>"

        self.assertEqual(set(rundocs_display.mime_bundle(Rich)[0]), {"text/plain"})
        self.assertEqual(set(rundocs_display.mime_bundle(Anything())[0]), {"text/plain"})

    def test_builtin_containers_are_pretty_printed(self):
        value = {"numbers": list(range(30)), "words": ["alpha", "beta"] * 5}
        data, _ = rundocs_display.mime_bundle(value)
        self.assertEqual(data["text/plain"], pprint.pformat(value, width=79, sort_dicts=False))
        self.assertGreater(data["text/plain"].count("\n"), 3)
        self.assertEqual(rundocs_display.mime_bundle("text")[0], {"text/plain": "'text'"})


class DisplayTest(RunTest):
    def test_display_is_a_builtin(self):
        self.assertIs(builtins.display, rundocs_display.display)

    def test_text_printed_before_a_display_is_flushed_before_it(self):
        stdout = Transcript(buffered=True)
        with contextlib.redirect_stdout(stdout):
            print("before")
            self.assertIsNone(display(Rich()))
            print("after")
            stdout.flush()
        kinds = [(event[0], event[1] if event[0] == "text" else event[1]["text/plain"])
                 for event in self.events()]
        self.assertEqual(kinds, [("text", "before\n"), ("display", "Rich()"), ("text", "after\n")])

    def test_each_object_is_one_display(self):
        display(1, "two", [3])
        self.assertEqual([data for data, _ in self.displays()],
                         [{"text/plain": "1"}, {"text/plain": "'two'"}, {"text/plain": "[3]"}])

    def test_nothing_to_display(self):
        display()
        display(Rich(), include=["application/pdf"])
        display({}, raw=True)
        self.assertEqual(self.displays(), [])

    def test_none_is_displayed_as_ipython_displays_it(self):
        display(None)
        self.assertEqual(self.displays(), [({"text/plain": "None"}, {})])

    def test_include_and_exclude_keep_text_plain_for_the_page(self):
        display(Rich(), include=["text/html"])
        display(Rich(), exclude=["image/png", "image/jpeg", "text/plain"])
        (first, _), (second, _) = self.displays()
        self.assertEqual(first, {"text/html": "<b>rich</b>", "text/plain": "Rich()"})
        self.assertNotIn("image/png", second)
        self.assertEqual(second["text/plain"], "Rich()")

    def test_metadata_is_merged_into_each_display(self):
        display(Rich(), metadata={"image/png": {"width": 30}, "isolated": True})
        _, metadata = self.only_display()
        self.assertEqual(metadata, {"image/png": {"width": 30, "height": 2}, "isolated": True})

    def test_raw_bundles_are_published_as_given(self):
        display({"text/html": "<p>raw</p>", "text/plain": "raw"},
                {"image/png": PNG, "application/json": [1, 2]},
                raw=True, metadata={"image/png": {"width": 1}})
        (first, first_metadata), (second, second_metadata) = self.displays()
        self.assertEqual(first, {"text/html": "<p>raw</p>", "text/plain": "raw"})
        self.assertEqual(second, {"image/png": base64.b64encode(PNG).decode("ascii"),
                                  "application/json": "[1, 2]",
                                  "text/plain": "<image/png, application/json>"})
        self.assertEqual(first_metadata, {"image/png": {"width": 1}})
        self.assertEqual(second_metadata, first_metadata)
        with self.assertRaises(TypeError):
            display("not a bundle", raw=True)


class EchoTest(RunTest):
    def run_block(self, source, filename="example.py"):
        namespace = {"__name__": "__main__"}
        exec(rundocs_display.compile_echo(source, filename), namespace)
        return namespace

    def shown(self):
        return [data["text/plain"] for data, _ in self.displays()]

    def test_the_last_expression_is_displayed(self):
        namespace = self.run_block("x = 20\nx + 1\nx * 2\n")
        self.assertEqual(self.shown(), ["40"])
        self.assertEqual(namespace["x"], 20)

    def test_a_multi_line_last_expression_is_displayed(self):
        self.run_block("{\n    'a': 1,\n    'b': 2,  # two\n}  # the end\n")
        self.assertEqual(self.shown(), ["{'a': 1, 'b': 2}"])

    def test_none_an_assignment_and_a_semicolon_are_not_displayed(self):
        self.run_block("print\nNone\n")
        self.run_block("def f():\n    pass\nf()\n")
        self.run_block("y = 3\n")
        self.run_block("len('abc');  # quiet, as in a notebook\n")
        self.run_block("len('abc') ; \n\n")
        self.run_block('"""A docstring."""\n')
        self.assertEqual(self.shown(), [])

    def test_echo_does_not_use_the_name_display(self):
        self.run_block("display = None\n'still shown'\n")
        self.assertEqual(self.shown(), ["'still shown'"])

    def test_syntax_errors_keep_their_line_numbers(self):
        source = "a = 1\n\nb = (1,\n     2\nc = 3\n"
        with self.assertRaises(SyntaxError) as plain:
            compile(source, "example.py", "exec", dont_inherit=True)
        with self.assertRaises(SyntaxError) as echoed:
            rundocs_display.compile_echo(source, "example.py")
        self.assertEqual((echoed.exception.filename, echoed.exception.lineno, echoed.exception.msg),
                         (plain.exception.filename, plain.exception.lineno, plain.exception.msg))
        with self.assertRaises(SyntaxError) as late:
            rundocs_display.compile_echo("x = 1\n\nreturn x\n", "example.py")
        self.assertEqual(late.exception.lineno, 3)

    def test_tracebacks_point_where_python3s_would(self):
        def failing_frame(code):
            try:
                exec(code, {})
            except (ZeroDivisionError, LookupError) as exc:
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                return frame.filename, frame.lineno, frame.colno, frame.end_colno
            self.fail("nothing raised")

        for source, line in (("a = 1\n\n1 / 0\n", 3), ("a = 1\n1 / 0\na\n", 2),
                             ("a = [1]\nb = 2\n(\n a[b])\n", 4)):
            plain = failing_frame(compile(source, "example.py", "exec", dont_inherit=True))
            echoed = failing_frame(rundocs_display.compile_echo(source, "example.py"))
            self.assertEqual(echoed, plain)
            self.assertEqual(echoed[:2], ("example.py", line))
        self.assertEqual(self.shown(), [])

    def test_future_imports_still_apply(self):
        namespace = self.run_block("from __future__ import annotations\n"
                                   "def f(x: undefined) -> None: pass\nf.__annotations__\n")
        self.assertEqual(self.shown(), ["{'x': 'undefined', 'return': 'None'}"])
        self.assertIn("f", namespace)


@unittest.skipUnless(HAS_PANDAS, "pandas is not installed")
class PandasTest(RunTest):
    def test_a_data_frame_is_an_html_table_with_its_text(self):
        import pandas

        frame = pandas.DataFrame({"name": ["ada", "alan"], "year": [1815, 1912]})
        display(frame)
        data, _ = self.only_display()
        self.assertIn("<table", data["text/html"])
        self.assertIn("<td>alan</td>", data["text/html"])
        self.assertEqual(data["text/plain"], repr(frame))


@unittest.skipUnless(HAS_PILLOW, "Pillow is not installed")
class PillowTest(RunTest):
    def test_an_image_is_a_png(self):
        from PIL import Image

        display(Image.new("RGB", (4, 3), "red"))
        data, _ = self.only_display()
        png = base64.b64decode(data["image/png"], validate=True)
        self.assertEqual(Image.open(io.BytesIO(png)).size, (4, 3))
        self.assertTrue(data["text/plain"].startswith("<PIL.Image.Image image mode=RGB size=4x3"))


def _png_size(data):
    return struct.unpack(">II", base64.b64decode(data["image/png"])[16:24])


@needs_matplotlib
class MatplotlibTest(RunTest):
    def setUp(self):
        super().setUp()
        import matplotlib.pyplot

        self.plt = matplotlib.pyplot

    def test_this_backend_is_selected_without_the_environment(self):
        import matplotlib

        self.assertEqual(matplotlib.get_backend(), rundocs_display.BACKEND)
        self.assertNotIn("MPLBACKEND", os.environ)

    def test_show_displays_open_figures_where_it_is_called_then_closes_them(self):
        plt = self.plt
        with contextlib.redirect_stdout(Transcript()):
            print("before")
            plt.plot([1, 3, 2])
            plt.figure()
            plt.bar(["a", "b"], [2, 1])
            plt.subplots(1, 2)
            plt.figure(2)  # active again: still shown in number order
            plt.show()
            print("after")
        events = self.events()
        self.assertEqual([event[0] for event in events], ["text", "display", "display", "display",
                                                          "text"])
        self.assertEqual((events[0][1], events[-1][1]), ("before\n", "after\n"))
        self.assertEqual([event[1]["text/plain"] for event in events[1:4]],
                         ["<Figure size 640x480 with 1 Axes>"] * 2
                         + ["<Figure size 640x480 with 2 Axes>"])
        self.assertEqual(plt.get_fignums(), [])

    def test_a_figure_is_a_png_at_twice_its_dpi_sized_in_css_pixels(self):
        self.plt.plot([1, 2])
        self.plt.show()
        data, metadata = self.only_display()
        width, height = _png_size(data)
        size = metadata["image/png"]
        self.assertEqual((size["width"], size["height"]), (width // 2, height // 2))
        # The default 6.4 x 4.8 in at 100 dpi, cropped to what is drawn.
        self.assertTrue(500 <= size["width"] <= 640 and 380 <= size["height"] <= 480, size)

    def test_fig_show_displays_the_figure_once(self):
        fig, ax = self.plt.subplots()
        ax.plot([1, 2])
        fig.show()
        self.assertEqual(len(self.displays()), 1)
        self.assertEqual(self.plt.get_fignums(), [1])  # still open, as with python3
        rundocs_display.flush_figures()
        self.assertEqual(len(self.displays()), 1)
        self.assertEqual(self.plt.get_fignums(), [])

    def test_figures_left_open_are_displayed_when_the_run_ends(self):
        self.plt.plot([1, 2])
        self.plt.figure().add_subplot().scatter([1], [1])
        self.assertEqual(self.displays(), [])
        rundocs_display.flush_figures()
        self.assertEqual(len(self.displays()), 2)
        self.assertEqual(self.plt.get_fignums(), [])

    def test_an_empty_figure_is_text_only(self):
        self.plt.figure()
        self.plt.show()
        self.assertEqual(self.displays(), [({"text/plain": "<Figure size 640x480 with 0 Axes>"},
                                            {})])

    def test_a_run_may_choose_agg_and_the_next_has_this_backend_again(self):
        import matplotlib

        matplotlib.use("Agg")
        self.assertEqual(matplotlib.get_backend().lower(), "agg")
        self.plt.plot([1, 2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "FigureCanvasAgg is non-interactive"
            self.plt.show()
        buffer = io.BytesIO()
        self.plt.savefig(buffer, format="png")
        self.assertTrue(buffer.getvalue().startswith(b"\x89PNG"))
        rundocs_display.flush_figures()
        self.assertEqual(self.displays(), [])  # as python3 file.py: nothing shown
        self.assertEqual(self.plt.get_fignums(), [])

        rundocs_display.restore_backend()
        self.assertEqual(matplotlib.get_backend(), rundocs_display.BACKEND)
        self.plt.plot([1, 2])
        self.plt.show()
        self.assertIn("image/png", self.only_display()[0])

    def test_settings_a_run_changes_are_put_back_after_it(self):
        import matplotlib

        default = matplotlib.rcParams["lines.linewidth"]
        matplotlib.rcParams["lines.linewidth"] = default + 5
        matplotlib.rcParams["font.sans-serif"].insert(0, "Run Font")
        rundocs_display.restore_backend()
        self.assertEqual(matplotlib.rcParams["lines.linewidth"], default)
        self.assertNotIn("Run Font", matplotlib.rcParams["font.sans-serif"])
        self.assertEqual(matplotlib.get_backend(), rundocs_display.BACKEND)

    def test_svg_on_request(self):
        import matplotlib

        with matplotlib.rc_context({"savefig.format": "svg"}):
            self.plt.plot([1, 2])
            self.plt.show()
        data, metadata = self.only_display()
        self.assertEqual(set(data), {"image/svg+xml", "text/plain"})
        self.assertIn("<svg", data["image/svg+xml"])
        self.assertEqual(metadata, {})

    def test_a_figure_made_without_pyplot_displays_too(self):
        from matplotlib.figure import Figure

        figure = Figure(figsize=(2, 1))
        figure.add_subplot().plot([1, 2])
        display(figure)
        data, _ = self.only_display()
        self.assertEqual(data["text/plain"], "<Figure size 200x100 with 1 Axes>")
        self.assertIn("image/png", data)

    def test_six_concurrent_runs_each_see_and_show_only_their_own_figures(self):
        plt = self.plt
        plt.plot([0, 1])  # this test's own run has a figure 1 as well
        barrier = threading.Barrier(6, timeout=30)
        numbers, failures = {}, []

        def run(index):
            key = "run %d" % index
            HOST.runs[threading.get_ident()] = key
            try:
                # The number of Axes marks the run's figures.
                plt.subplots(1, index + 1)
                barrier.wait()
                plt.figure()
                plt.plot(range(index + 2))
                barrier.wait()  # every run has two figures open now
                numbers[key] = (plt.get_fignums(), plt.gcf().number)
                plt.show()
                barrier.wait()
                numbers[key] += (plt.get_fignums(),)
                rundocs_display.flush_figures()
                rundocs_display.forget_run(key)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                failures.append(exc)
                barrier.abort()
            finally:
                del HOST.runs[threading.get_ident()]

        threads = [threading.Thread(target=run, args=(index,)) for index in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertEqual(failures, [])
        for index in range(6):
            key = "run %d" % index
            self.assertEqual(numbers[key], ([1, 2], 2, []))
            shown = [data["text/plain"] for data, _ in self.displays(key)]
            self.assertEqual(shown, ["<Figure size 640x480 with %d Axes>" % (index + 1),
                                     "<Figure size 640x480 with 1 Axes>"], key)
            self.assertTrue(all("image/png" in data for data, _ in self.displays(key)))
        self.assertFalse([event for event in HOST.transcript if event[1] is None])
        self.assertEqual(plt.get_fignums(), [1])
        self.assertEqual(self.displays(), [])


class ImportOrderTest(unittest.TestCase):
    """``install`` before or after matplotlib, in a fresh interpreter each."""

    PRELUDE = textwrap.dedent("""\
        import json, sys
        sys.path.insert(0, %r)
        import rundocs_display
        shown = []
        def emit(data, metadata):
            shown.append(data["text/plain"])
        def report(**facts):
            print(json.dumps(facts))
        """ % HERE)

    def run_python(self, script):
        done = subprocess.run([sys.executable, "-c", self.PRELUDE + textwrap.dedent(script)],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, MPLBACKEND="agg"))
        self.assertEqual(done.returncode, 0, done.stderr)
        return json.loads(done.stdout.splitlines()[-1])

    def test_without_matplotlib_nothing_imports_it(self):
        facts = self.run_python("""
            rundocs_display.install(emit)
            rundocs_display.flush_figures()
            rundocs_display.restore_backend()
            rundocs_display.forget_run("a run")
            display({"a": 1})
            report(imported=[m for m in sys.modules if m.startswith("matplotlib")], shown=shown)
            """)
        self.assertEqual(facts, {"imported": [], "shown": ["{'a': 1}"]})

    @needs_matplotlib
    def test_matplotlib_imported_after_install_in_process_mode(self):
        facts = self.run_python("""
            rundocs_display.install(emit)
            import matplotlib.pyplot as plt
            from matplotlib._pylab_helpers import Gcf
            plt.plot([1, 2])
            plt.show()
            plt.plot([1, 2])
            import atexit
            atexit._run_exitfuncs()  # as the child does before its run ends
            rundocs_display.flush_figures()
            report(backend=plt.get_backend(), registry=type(Gcf.figs).__name__, shown=shown)
            """)
        self.assertEqual(facts, {"backend": "module://rundocs_display",
                                 "registry": "OrderedDict",
                                 "shown": ["<Figure size 640x480 with 1 Axes>"] * 2})

    @needs_matplotlib
    def test_matplotlib_used_before_install(self):
        facts = self.run_python("""
            import matplotlib.pyplot as plt
            plt.plot([1, 2])
            before = plt.get_backend()
            rundocs_display.install(emit, run_key=lambda: None)
            plt.figure(1).gca().plot([2, 1])
            plt.show()
            from matplotlib._pylab_helpers import Gcf
            report(before=before, backend=plt.get_backend(),
                   registry=type(Gcf.figs).__name__, shown=shown)
            """)
        self.assertEqual(facts, {"before": "agg", "backend": "module://rundocs_display",
                                 "registry": "RunFigures",
                                 "shown": ["<Figure size 640x480 with 1 Axes>"]})


if __name__ == "__main__":
    unittest.main()
