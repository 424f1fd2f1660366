//! `rundocs check --record`: writes what each example printed, and the
//! images it displayed, into the `output` block after it, so readers
//! without a server see them and later checks compare against them. In a
//! session, each statement's output lines are rewritten in place.
//!
//! The markdown is edited as text, line by line, so everything else in the
//! file stays byte for byte: an existing `output` block after the example
//! gets the new text; an example without one gets one inserted after its
//! closing fence, at its indentation. A session keeps its fence and its
//! statements; only the lines of output after them change. Images go to files next to the page,
//! `PAGE.outputs/block-N-K.png`, referenced from the block as
//! `![text form](PAGE.outputs/block-N-K.png)` (which `rundocs check` does
//! not compare, and the page shows as the image).
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64ct::{Base64, Encoding};

use crate::content::fence::{fence_line, FenceLine};

/// One piece of a run's output, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Image {
        /// File extension for its MIME type (`png`, `svg`...).
        extension: &'static str,
        bytes: Vec<u8>,
        alt: String,
    },
}

/// The extension for an image MIME type rundocs shows, and its bytes from
/// the display's value (base64, or text for SVG).
pub fn image_piece(mime: &str, value: &str, alt: &str) -> Option<Piece> {
    let extension = crate::runtime::display::image_extension(mime)?;
    let bytes = if extension == "svg" {
        value.as_bytes().to_vec()
    } else {
        Base64::decode_vec(value).ok()?
    };
    Some(Piece::Image {
        extension,
        bytes,
        alt: alt.replace(['[', ']', '\n'], " ").trim().to_string(),
    })
}

/// What to write for one example.
pub struct Recording {
    /// 1-based line of the example's opening fence.
    pub fence_line: usize,
    /// 1-based number of the block on its page (for image file names).
    pub block: usize,
    pub recorded: Recorded,
}

/// What an example gave to be written.
pub enum Recorded {
    /// Its output, for the `output` block after it.
    Output(Vec<Piece>),
    /// A session's new output lines.
    Session(Vec<LineEdit>),
}

/// Lines of a block replaced by others (indices within the block, from 0;
/// the block's own indentation in the file is added when writing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEdit {
    pub lines: Range<usize>,
    pub text: Vec<String>,
}

/// What changes at one block: the text of its `output` block, or lines inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Output(String),
    Inside(Vec<LineEdit>),
}

/// What [`write`] did to one file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Output blocks that changed.
    pub changed: usize,
    /// The recordings left alone because their block is not in the file: it
    /// comes from a file the page includes (`--8<--`), and counts as the
    /// including line.
    pub included: Vec<usize>,
}

/// Writes `recordings` into the markdown file `file` (and its images next
/// to it).
pub fn write(file: &Path, recordings: &[Recording]) -> anyhow::Result<Written> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (recordings, included): (Vec<&Recording>, Vec<&Recording>) =
        recordings.iter().partition(|recording| {
            text.lines()
                .nth(recording.fence_line.saturating_sub(1))
                .is_some_and(|line| fence_line(line).is_some())
        });
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let images_dir_name = format!("{stem}.outputs");
    let images_dir = file.with_file_name(&images_dir_name);
    let mut changes = Vec::new();
    for recording in recordings {
        let pieces = match &recording.recorded {
            Recorded::Output(pieces) => pieces,
            Recorded::Session(edits) => {
                changes.push((recording.fence_line, Change::Inside(edits.clone())));
                continue;
            }
        };
        remove_old_images(&images_dir, recording.block);
        let mut output = String::new();
        let mut count = 0;
        for piece in pieces {
            match piece {
                Piece::Text(text) => output.push_str(text),
                Piece::Image {
                    extension,
                    bytes,
                    alt,
                } => {
                    count += 1;
                    let name = format!("block-{}-{count}.{extension}", recording.block);
                    std::fs::create_dir_all(&images_dir)
                        .with_context(|| format!("cannot create {}", images_dir.display()))?;
                    let path = images_dir.join(&name);
                    std::fs::write(&path, bytes)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    if !output.is_empty() && !output.ends_with('\n') {
                        output.push('\n');
                    }
                    output.push_str(&format!("![{alt}]({images_dir_name}/{name})\n"));
                }
            }
        }
        changes.push((recording.fence_line, Change::Output(output)));
    }
    let (new_text, changed) = with_changes(&text, &changes)
        .map_err(|message| anyhow::anyhow!("{}: {message}", file.display()))?;
    if changed > 0 {
        write_atomically(file, &new_text)?;
    }
    Ok(Written {
        changed,
        included: included.iter().map(|r| r.block).collect(),
    })
}

/// Images an earlier recording of this block left.
fn remove_old_images(dir: &Path, block: usize) {
    let prefix = format!("block-{block}-");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes a temporary file next to `file`, then renames it over `file`:
/// the markdown is never left half-written.
fn write_atomically(file: &Path, text: &str) -> anyhow::Result<()> {
    let temporary: PathBuf = file.with_extension("md.rundocs-tmp");
    std::fs::write(&temporary, text)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, file).with_context(|| format!("cannot replace {}", file.display()))
}

/// The markdown `text` with each `(fence line, change)` made; returns it
/// and how many blocks changed.
pub fn with_changes(text: &str, changes: &[(usize, Change)]) -> Result<(String, usize), String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut sorted: Vec<&(usize, Change)> = changes.iter().collect();
    // From the bottom up, so earlier line numbers stay right.
    sorted.sort_by_key(|change| std::cmp::Reverse(change.0));
    let mut changed = 0;
    for (opening_line, change) in sorted {
        let open = opening_line - 1;
        let opening = lines
            .get(open)
            .and_then(|line| fence_line(line))
            .ok_or_else(|| format!("line {opening_line} is not the start of a code block"))?;
        let close = closing(&lines, open + 1, &opening)
            .ok_or_else(|| format!("the code block at line {opening_line} is not closed"))?;
        let indent = opening.indent;
        let done = match change {
            Change::Output(output) => write_output(&mut lines, close, indent, output),
            Change::Inside(edits) => write_inside(&mut lines, open + 1..close, indent, edits)
                .map_err(|message| format!("the code block at line {opening_line}: {message}"))?,
        };
        changed += usize::from(done);
    }
    let mut text_out = lines.join("\n");
    if text.ends_with('\n') {
        text_out.push('\n');
    }
    Ok((text_out, changed))
}

/// Replaces lines of the block whose content is `inside` (lines of the
/// file), indented by `indent`; returns whether anything changed.
fn write_inside(
    lines: &mut Vec<String>,
    inside: Range<usize>,
    indent: usize,
    edits: &[LineEdit],
) -> Result<bool, String> {
    let pad = " ".repeat(indent);
    let mut edits: Vec<&LineEdit> = edits.iter().collect();
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.lines.start));
    let mut changed = false;
    for edit in edits {
        let range = inside.start + edit.lines.start..inside.start + edit.lines.end;
        if range.end > inside.end {
            return Err("it has fewer lines than when it was read".to_string());
        }
        let text: Vec<String> = edit
            .text
            .iter()
            .map(|line| format!("{pad}{line}"))
            .collect();
        if lines[range.clone()] != text[..] {
            lines.splice(range, text);
            changed = true;
        }
    }
    Ok(changed)
}

/// Writes `output` into the `output` block after the block that `close`
/// closes, or a new one there; returns whether anything changed.
fn write_output(lines: &mut Vec<String>, close: usize, indent: usize, output: &str) -> bool {
    let mut next = close + 1;
    while lines.get(next).is_some_and(|l| l.trim().is_empty()) {
        next += 1;
    }
    let existing = lines
        .get(next)
        .and_then(|line| fence_line(line))
        .filter(|fence| fence.info.split_whitespace().next() == Some("output"))
        .and_then(|fence| closing(lines, next + 1, &fence).map(|end| (next, end)));
    let pad = " ".repeat(indent);
    let longest_run = output
        .lines()
        .filter_map(|l| fence_line(l.trim_start()).map(|fence| fence.length))
        .max()
        .unwrap_or(0);
    let ticks = "`".repeat(longest_run.max(2) + 1);
    let mut block = vec![format!("{pad}{ticks}output")];
    block.extend(output.lines().map(|l| {
        if l.is_empty() {
            String::new()
        } else {
            format!("{pad}{l}")
        }
    }));
    block.push(format!("{pad}{ticks}"));
    match existing {
        Some((start, end)) => {
            if lines[start..=end] != block[..] {
                lines.splice(start..=end, block);
                return true;
            }
            false
        }
        None if output.is_empty() => false,
        None => {
            let mut inserted = vec![String::new()];
            inserted.extend(block);
            lines.splice(close + 1..close + 1, inserted);
            true
        }
    }
}

/// The line closing the block `open` opened.
fn closing(lines: &[String], from: usize, open: &FenceLine<'_>) -> Option<usize> {
    (from..lines.len()).find(|&i| fence_line(&lines[i]).is_some_and(|line| line.closes(open)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_outputs(text: &str, outputs: &[(usize, &str)]) -> Result<(String, usize), String> {
        let changes: Vec<(usize, Change)> = outputs
            .iter()
            .map(|(line, output)| (*line, Change::Output(output.to_string())))
            .collect();
        with_changes(text, &changes)
    }

    #[test]
    fn an_output_block_is_inserted_after_an_example_without_one() {
        let text = "# T\n\n```python\nprint(1)\n```\n\nAfter.\n";
        let (new, changed) = with_outputs(text, &[(3, "1\n")]).unwrap();
        assert_eq!(changed, 1);
        assert_eq!(
            new,
            "# T\n\n```python\nprint(1)\n```\n\n```output\n1\n```\n\nAfter.\n"
        );
    }

    #[test]
    fn an_existing_output_block_is_replaced_and_the_rest_kept() {
        let text = "```python name=a\nprint(2)\n```\n\n```output\nold\n```\ntail\n";
        let (new, changed) = with_outputs(text, &[(1, "2\n")]).unwrap();
        assert_eq!(changed, 1);
        assert_eq!(
            new,
            "```python name=a\nprint(2)\n```\n\n```output\n2\n```\ntail\n"
        );
        let (_, again) = with_outputs(&new, &[(1, "2\n")]).unwrap();
        assert_eq!(again, 0, "the same output changes nothing");
    }

    #[test]
    fn indented_blocks_keep_their_indentation_and_fences_in_output_are_outrun() {
        let text = "- item\n\n    ```python\n    print('```')\n    ```\n";
        let (new, _) = with_outputs(text, &[(3, "```\n")]).unwrap();
        assert_eq!(
            new,
            "- item\n\n    ```python\n    print('```')\n    ```\n\n    ````output\n    ```\n    ````\n"
        );
    }

    #[test]
    fn blocks_from_included_files_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("page.md");
        std::fs::write(&file, "--8<-- \"other.md\"\n\n```python\nb\n```\n").unwrap();
        let recording = |fence_line, block| Recording {
            fence_line,
            block,
            recorded: Recorded::Output(vec![Piece::Text("out\n".into())]),
        };
        let written = write(&file, &[recording(1, 1), recording(3, 2)]).unwrap();
        assert_eq!(
            written,
            Written {
                changed: 1,
                included: vec![1]
            }
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "--8<-- \"other.md\"\n\n```python\nb\n```\n\n```output\nout\n```\n"
        );
    }

    #[test]
    fn several_blocks_of_one_file_are_all_written() {
        let text = "```python\na\n```\n\n```python\nb\n```\n";
        let (new, changed) = with_outputs(text, &[(1, "A\n"), (5, "B\n")]).unwrap();
        assert_eq!(changed, 2);
        assert_eq!(
            new,
            "```python\na\n```\n\n```output\nA\n```\n\n```python\nb\n```\n\n```output\nB\n```\n"
        );
    }

    #[test]
    fn lines_inside_a_block_are_replaced_and_its_fence_and_other_lines_kept() {
        let text = "Text.\n\n  ```pycon\n  >>> print(1)\n  one\n  >>> x = 1\n  ```\n\n```python\nprint(2)\n```\n";
        let edits = vec![
            LineEdit {
                lines: 1..2,
                text: vec!["1".into(), "<BLANKLINE>".into()],
            },
            LineEdit {
                lines: 3..3,
                text: vec![],
            },
        ];
        let changes = [
            (3, Change::Inside(edits.clone())),
            (9, Change::Output("2\n".into())),
        ];
        let (new, changed) = with_changes(text, &changes).unwrap();
        assert_eq!(changed, 2);
        assert_eq!(
            new,
            "Text.\n\n  ```pycon\n  >>> print(1)\n  1\n  <BLANKLINE>\n  >>> x = 1\n  ```\n\n```python\nprint(2)\n```\n\n```output\n2\n```\n"
        );
        let same = LineEdit {
            lines: 1..3,
            text: edits[0].text.clone(),
        };
        let (_, again) = with_changes(&new, &[(3, Change::Inside(vec![same]))]).unwrap();
        assert_eq!(again, 0, "the same lines change nothing");
        let beyond = LineEdit {
            lines: 9..10,
            text: vec![],
        };
        assert!(with_changes(text, &[(3, Change::Inside(vec![beyond]))]).is_err());
    }
}
