// The in-page code editor of rundocs: CodeMirror 6 with Python and
// Markdown, bundled by scripts/build-editor into static/editor.js. run.js
// loads that file only when a reader first clicks Edit, then calls
// window.rundocsEditor.open; the wiki's editor page (wiki.js) loads it to
// edit a page's markdown (language: "markdown"), whose Python blocks are
// highlighted as Python.
//
// The editor lives in a shadow root of its host element: there CodeMirror's
// styles go into a constructed stylesheet, which the site's
// Content-Security-Policy (style-src 'self', no inline <style>) allows.
// Colours come from the page's CSS variables, which reach into the shadow
// root, so the editor follows the page's theme and highlight.css's palette.
import { indentWithTab, defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { markdownKeymap, markdownLanguage } from "@codemirror/lang-markdown";
import { pythonLanguage } from "@codemirror/lang-python";
import { bracketMatching, HighlightStyle, indentOnInput, indentUnit, Language, syntaxHighlighting } from "@codemirror/language";
import { EditorState, Prec, StateEffect, StateField } from "@codemirror/state";
import { Decoration, EditorView, highlightActiveLine, keymap, lineNumbers } from "@codemirror/view";
import { tags as t } from "@lezer/highlight";
import { parseCode } from "@lezer/markdown";

// GitHub-flavoured markdown, as pages are written, with the code of Python
// fences (```python, ```py3, ``` { .python }) parsed as Python. Built from
// markdownLanguage rather than lang-markdown's markdown(), which would bring
// the HTML, CSS and JavaScript modes into the bundle for HTML in markdown.
const PYTHON_FENCE = /^\s*\{?\s*\.?(?:python3?|py3?)(?![\w-])/i;
const markdownWithPython = new Language(
  markdownLanguage.data,
  markdownLanguage.parser.configure(
    parseCode({ codeParser: (info) => (PYTHON_FENCE.test(info) ? pythonLanguage.parser : null) }),
  ),
  [],
  "markdown",
);

// The server's token kinds (src/render/highlight.rs), as highlight.css colours them.
const highlightStyle = HighlightStyle.define([
  { tag: t.comment, color: "var(--hl-comment)", fontStyle: "italic" },
  { tag: [t.string, t.special(t.string)], color: "var(--hl-string)" },
  { tag: t.escape, color: "var(--hl-escape)" },
  { tag: [t.number, t.bool, t.null], color: "var(--hl-constant)" },
  { tag: [t.keyword, t.modifier], color: "var(--hl-keyword)" },
  { tag: [t.function(t.variableName), t.function(t.propertyName), t.function(t.definition(t.variableName))], color: "var(--hl-function)" },
  { tag: t.meta, color: "var(--hl-function)" },
  { tag: [t.definition(t.className), t.className, t.typeName], color: "var(--hl-type)" },
  { tag: t.self, color: "var(--hl-self)", fontStyle: "italic" },
  // Markdown: headings, emphasis, links, code and the marks around them.
  { tag: t.heading, color: "var(--hl-keyword)", fontWeight: "bold" },
  { tag: t.emphasis, fontStyle: "italic" },
  { tag: t.strong, fontWeight: "bold" },
  { tag: t.strikethrough, textDecoration: "line-through" },
  { tag: [t.link, t.url], color: "var(--accent)" },
  { tag: t.monospace, color: "var(--hl-string)" },
  { tag: t.quote, color: "var(--muted)" },
  { tag: [t.processingInstruction, t.contentSeparator, t.labelName], color: "var(--muted)" },
]);

// Sized and coloured like the page's own code blocks (style.css: pre).
const theme = EditorView.theme({
  "&": { color: "var(--fg)", backgroundColor: "var(--code-bg)", fontSize: ".875rem" },
  "&.cm-focused": { outline: "2px solid var(--accent)", outlineOffset: "-2px" },
  ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.55" },
  ".cm-content": { padding: ".9rem 0", caretColor: "var(--fg)" },
  ".cm-line": { padding: "0 1.1rem 0 .6rem" },
  ".cm-gutters": { backgroundColor: "var(--code-bg)", color: "var(--muted)", border: "none" },
  ".cm-lineNumbers .cm-gutterElement": { padding: "0 .2rem 0 .9rem", minWidth: "2.2rem" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--fg)" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, ::selection":
    { backgroundColor: "color-mix(in srgb, var(--accent) 28%, transparent)" },
  ".cm-activeLine": { backgroundColor: "color-mix(in srgb, var(--muted) 8%, transparent)" },
  "&.cm-focused .cm-matchingBracket": { backgroundColor: "color-mix(in srgb, var(--accent) 22%, transparent)" },
  "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "color-mix(in srgb, var(--danger) 22%, transparent)" },
  // The line a run raised on, as run.js marks it in a read-only block (.code-line-error).
  ".cm-line.cm-error-line": {
    boxShadow: "inset 3px 0 var(--danger)",
    backgroundColor: "color-mix(in srgb, var(--danger) 16%, transparent)",
  },
});

// Lines marked as where the last run raised: set by markLine, cleared by
// clearMarks, and moved along with edits.
const markError = StateEffect.define();
const clearErrors = StateEffect.define();
const errorLines = StateField.define({
  create: () => Decoration.none,
  update(marks, transaction) {
    marks = marks.map(transaction.changes);
    for (const effect of transaction.effects) {
      if (effect.is(clearErrors)) marks = Decoration.none;
      if (effect.is(markError)) {
        const mark = Decoration.line({ class: "cm-error-line", attributes: { title: effect.value.title } });
        marks = marks.update({ add: [mark.range(effect.value.from)] });
      }
    }
    return marks;
  },
  provide: (field) => EditorView.decorations.from(field),
});

// A page's markdown: long lines wrap, and the editor fills its host's height.
const markdownSetup = [
  markdownWithPython,
  Prec.high(keymap.of(markdownKeymap)),
  EditorView.lineWrapping,
  EditorView.theme({ "&": { height: "100%" }, ".cm-scroller": { overflow: "auto" } }),
];

// Image files pasted or dropped into the editor go to `onFiles(files)`.
function fileHandlers(onFiles) {
  const take = (files, event) => {
    const images = Array.from(files || []).filter((file) => file.type.startsWith("image/"));
    if (!images.length) return false;
    event.preventDefault();
    onFiles(images);
    return true;
  };
  return EditorView.domEventHandlers({
    paste: (event) => take(event.clipboardData && event.clipboardData.files, event),
    drop: (event) => take(event.dataTransfer && event.dataTransfer.files, event),
  });
}

/**
 * Opens an editor in `host` (an empty element) holding `doc`.
 * `label` is its accessible name; `onChange(text)` follows every change;
 * `onRun()` is Ctrl+Enter (Cmd+Enter on a Mac). `language` is "python"
 * (the default) or "markdown"; `onFiles(files)`, if given, takes image files
 * pasted or dropped into the editor.
 */
function open({ host, doc, label, onChange, onRun, language = "python", onFiles }) {
  const root = host.shadowRoot || host.attachShadow({ mode: "open" });
  const run = () => { onRun(); return true; };
  const view = new EditorView({
    root,
    parent: root,
    state: EditorState.create({
      doc,
      extensions: [
        Prec.highest(keymap.of([{ key: "Mod-Enter", run }])),
        lineNumbers(),
        highlightActiveLine(),
        history(),
        indentOnInput(),
        bracketMatching(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        language === "markdown" ? markdownSetup : pythonLanguage,
        onFiles ? fileHandlers(onFiles) : [],
        syntaxHighlighting(highlightStyle),
        // Tab indents; Escape then Tab (or Ctrl+M first) moves focus on.
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        errorLines,
        theme,
        EditorView.contentAttributes.of({ "aria-label": label, "aria-multiline": "true" }),
        EditorView.updateListener.of((update) => { if (update.docChanged) onChange(update.state.doc.toString()); }),
      ],
    }),
  });
  return {
    text: () => view.state.doc.toString(),
    /** Replaces the whole text (as one undoable change). */
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, effects: clearErrors.of(null) });
    },
    /** Marks line `number` (from 1) with `title`; returns a function that clears the marks, or null. */
    markLine(number, title) {
      if (!(number >= 1 && number <= view.state.doc.lines)) return null;
      const line = view.state.doc.line(number);
      view.dispatch({ effects: [markError.of({ from: line.from, title }), EditorView.scrollIntoView(line.from, { y: "nearest" })] });
      return () => view.dispatch({ effects: clearErrors.of(null) });
    },
    /** Puts `text` in place of the selection (at the cursor), and the cursor after it. */
    insert(text) {
      view.dispatch(view.state.replaceSelection(text));
      view.focus();
    },
    focus: () => view.focus(),
    /** Selects the whole text (for copying where the clipboard API is missing). */
    selectAll() {
      view.focus();
      view.dispatch({ selection: { anchor: 0, head: view.state.doc.length } });
    },
  };
}

window.rundocsEditor = { open };
