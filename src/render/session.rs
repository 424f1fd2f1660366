//! A session block in the page: read (its mistakes are the page's), then
//! shown with prompts, statements highlighted as Python, and expected output
//! as plain text, line for line as written.
use super::highlight::code_html;
use super::markdown::MarkdownError;
use crate::content::fence::PythonAttributes;
use crate::content::session::{self, Session};

/// Escapes `text` as element content, as highlighted code is.
fn push_escaped(html: &mut String, text: &str) {
    pulldown_cmark_escape::escape_html_body_text(html, text)
        .expect("writing to a String cannot fail");
}

/// The session block `code`, whose fence is at `line` of the file, read as
/// doctest reads it; what doctest would refuse, and attributes that do not
/// apply to a session, are errors at their line.
pub fn read_session(
    code: &str,
    line: usize,
    attributes: &PythonAttributes,
) -> Result<Session, MarkdownError> {
    if attributes.expect_error {
        return Err(MarkdownError {
            line,
            message: "`expect=error` does not apply to a session: write the traceback after \
                      the statement that raises, as the interpreter shows it"
                .to_string(),
        });
    }
    let session = session::parse(code);
    match session.problem {
        Some((index, message)) => Err(MarkdownError {
            line: line + 1 + index,
            message: format!("this session cannot be read as doctest reads it: {message}"),
        }),
        None => Ok(session),
    }
}

/// The inner HTML of the `<code>` element showing the session `code`, read as `session`.
pub fn session_html(code: &str, session: &Session) -> String {
    let mut statements = vec![None; code.split('\n').count()];
    for example in &session.examples {
        let mut highlighted = html_lines(&code_html(&example.source, "python")).into_iter();
        for line in example.source_lines() {
            // A last line that is only a prompt has no source line.
            let html = highlighted.next().unwrap_or_default();
            statements[line] = Some((example.indent + 4, html));
        }
    }
    let mut html = String::with_capacity(code.len() * 2);
    let lines = session::lines(code);
    let last = lines.len() - 1;
    for (index, line) in lines.iter().enumerate() {
        match &statements[index] {
            Some((prompt_chars, statement)) => {
                let (prompt, _) = session::split_chars(line, *prompt_chars);
                html.push_str("<span class=\"hl-p\">");
                push_escaped(&mut html, prompt);
                html.push_str("</span>");
                html.push_str(statement);
            }
            None => push_escaped(&mut html, line),
        }
        if index < last {
            html.push('\n');
        }
    }
    html
}

/// `html` as `code_html` writes it (text in `<span>`s that never nest) cut
/// at its line ends, each line closing the span it ends in and the next
/// opening it again.
fn html_lines(html: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut open: Option<&str> = None;
    for text in html.split('\n') {
        let mut line = open.map(str::to_string).unwrap_or_default();
        line.push_str(text);
        let mut rest = text;
        while let Some(at) = rest.find('<') {
            rest = &rest[at..];
            let end = rest.find('>').map_or(rest.len(), |end| end + 1);
            open = (!rest.starts_with("</")).then_some(&rest[..end]);
            rest = &rest[end..];
        }
        if open.is_some() {
            line.push_str("</span>");
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(code: &str) -> String {
        session_html(code, &session::parse(code))
    }

    #[test]
    fn prompts_statements_and_output_are_told_apart() {
        let html = shown(">>> x = 'a'\n>>> x\n'a'\n");
        assert_eq!(
            html,
            "<span class=\"hl-p\">&gt;&gt;&gt; </span>x = <span class=\"hl-s\">'a'</span>\n\
             <span class=\"hl-p\">&gt;&gt;&gt; </span>x\n\
             'a'\n"
        );
    }

    #[test]
    fn a_string_across_lines_is_closed_and_opened_again_at_each_line() {
        let html = shown(">>> s = '''a\n... b'''\n>>> s\n'a\\nb'\n");
        let lines: Vec<&str> = html.lines().collect();
        assert_eq!(
            lines[0],
            "<span class=\"hl-p\">&gt;&gt;&gt; </span>s = <span class=\"hl-s\">'''a</span>"
        );
        assert_eq!(
            lines[1],
            "<span class=\"hl-p\">... </span><span class=\"hl-s\">b'''</span>"
        );
        assert_eq!(lines[3], "'a\\nb'");
    }

    #[test]
    fn the_text_is_kept_exactly() {
        let code = "Some words <b>\n  >>> print('<')\n  <\n  ...\n\n>>> # note\n";
        let html = shown(code);
        let text = scraper::Html::parse_fragment(&html)
            .root_element()
            .text()
            .collect::<String>();
        assert_eq!(text, code);
    }
}
