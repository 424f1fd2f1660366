use super::*;

/// Blocks written the ways sessions are written, and the ways doctest
/// reads oddly.
const SAMPLES: [&str; 6] = [
    ">>> x = 1\n>>> x + 1\n2\n",
    ">>> for i in range(2):\n...     print(i)\n...\n0\n1\n\nSome words.\n>>> 'a'\n'a'\n>>> # a comment\n",
    "  >>> print('indented')\n  indented\n  <BLANKLINE>\n  more\n\n  >>> None\n",
    ">>> print('a')\na\n... not a prompt here\n>>> print(1); print(2)\n1\n2\n>>>\n",
    ">>> 1/0\nTraceback (most recent call last):\n  ...\nZeroDivisionError: division by zero\n>>>  'two spaces'\n'two spaces'\n",
    "\t>>> tabs = '\t'\n\t>>> len(tabs)\n\t1\n",
];

#[test]
fn examples_are_read_as_doctest_reads_them() {
    for sample in SAMPLES {
        let ours: Vec<(usize, usize, String, String)> = parse(sample)
            .examples
            .iter()
            .filter(|e| !e.is_comment_only())
            .map(|e| (e.line, e.indent, e.source.clone(), e.want.clone()))
            .collect();
        assert_eq!(ours, doctest_examples(sample), "{sample:?}");
    }
}

/// `(lineno, indent, source, want)` of each example, from `doctest` itself.
fn doctest_examples(text: &str) -> Vec<(usize, usize, String, String)> {
    let script = "import doctest, json, sys\n\
        examples = doctest.DocTestParser().get_examples(sys.stdin.read())\n\
        print(json.dumps([(e.lineno, e.indent, e.source, e.want) for e in examples]))\n";
    let mut child = std::process::Command::new(env!("PYTHON_EXECUTABLE_AT_BUILD"))
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the build's python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "doctest refused {text:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn statements_carry_their_line_echo_and_source() {
    let session = parse(">>> for i in range(2):\n...     print(i)\n...\n0\n1\n>>> # note\n");
    assert_eq!(session.problem, None);
    assert_eq!(
        session.statements(),
        [
            (
                1,
                ">>> for i in range(2):\n...     print(i)\n... \n".to_string(),
                "for i in range(2):\n    print(i)\n".to_string()
            ),
            (6, ">>> # note\n".to_string(), String::new()),
        ]
    );
    let first = &session.examples[0];
    assert_eq!(first.source_lines(), 0..3);
    assert_eq!(first.want_lines, 3..5);
    assert_eq!(session.examples[1].want_lines, 6..6);
}

#[test]
fn what_doctest_refuses_is_a_problem_at_its_line() {
    for (code, line, needle) in [
        (">>>x = 1\n", 0, "followed by a space"),
        (">>> if x:\n...y\n", 1, "followed by a space"),
        ("  >>> if x:\n ...     y\n", 1, "not indented as"),
        ("    >>> x\n  1\n", 1, "indented less"),
    ] {
        let problem = parse(code).problem.unwrap_or_else(|| panic!("{code:?}"));
        assert_eq!(problem.0, line, "{code:?}");
        assert!(problem.1.contains(needle), "{code:?}: {}", problem.1);
    }
}

#[test]
fn a_python_block_is_a_session_when_it_opens_with_a_prompt() {
    assert!(starts_with_prompt("\n  >>> x = 1\n"));
    assert!(starts_with_prompt(">>>\n"));
    assert!(!starts_with_prompt("x = 1\n>>> y\n"));
    assert!(!starts_with_prompt(">>>x\n"));
    assert!(!starts_with_prompt(""));
}
