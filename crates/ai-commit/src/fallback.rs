//! The deterministic message used when the model cannot give one.
//!
//! Built from the change alone ("Update README.md and 2 other files"), so it is the same for
//! the same change, and it never contains an error text.

use std::fmt::Write as _;

use crate::clean::{CommitMessage, SUBJECT_MAX};
use crate::diff::{FileDiff, Status};

/// Most files listed in the body.
const MAX_LISTED: usize = 20;

/// The fallback message for these files (which must not be empty).
#[must_use]
pub fn message(files: &[FileDiff], conventional: bool) -> CommitMessage {
    let mut ordered: Vec<&FileDiff> = files.iter().collect();
    // Biggest change first, then by path: deterministic.
    ordered.sort_by(|a, b| {
        b.changed_lines()
            .cmp(&a.changed_lines())
            .then_with(|| a.path.cmp(&b.path))
    });

    let verb = if files.iter().all(|f| f.status == Status::Added) {
        "Add"
    } else if files.iter().all(|f| f.status == Status::Deleted) {
        "Remove"
    } else if files.iter().all(|f| f.status == Status::Renamed) {
        "Rename"
    } else {
        "Update"
    };
    let prefix = if conventional {
        conventional_type(files)
    } else {
        ""
    };
    let verb = if conventional {
        verb.to_lowercase()
    } else {
        verb.to_owned()
    };
    // File names are anyone's bytes: controls (ESC, BEL, C1), bidi and line breaks are shown
    // escaped, never written into the message, the history and the terminal.
    let name = |f: &FileDiff| safe(&f.path);
    let short = |f: &FileDiff| safe(f.path.rsplit('/').next().unwrap_or(&f.path));
    let subject = |name: &dyn Fn(&FileDiff) -> String| match ordered.as_slice() {
        [] => format!("{prefix}{verb} files"),
        [a] => format!("{prefix}{verb} {}", name(a)),
        [a, b] => format!("{prefix}{verb} {} and {}", name(a), name(b)),
        [a, rest @ ..] => format!("{prefix}{verb} {} and {} other files", name(a), rest.len()),
    };
    let mut subj = subject(&name);
    if subj.chars().count() > SUBJECT_MAX {
        subj = subject(&short);
    }
    if subj.chars().count() > SUBJECT_MAX {
        subj = format!("{prefix}{verb} {} files", files.len());
    }

    let mut body = String::new();
    if files.len() > 1 {
        for f in ordered.iter().take(MAX_LISTED) {
            let _ = write!(body, "- {} {}", f.status.letter(), safe(&f.path));
            if let Some(old) = &f.old_path {
                let _ = write!(body, " (from {})", safe(old));
            }
            if !f.binary && f.changed_lines() > 0 {
                let _ = write!(body, " (+{} -{})", f.added, f.removed);
            }
            body.push('\n');
        }
        if ordered.len() > MAX_LISTED {
            let _ = writeln!(body, "- ... and {} more files", ordered.len() - MAX_LISTED);
        }
    }
    CommitMessage {
        subject: subj,
        body: body.trim_end().to_owned(),
    }
}

/// A file name for a commit message (Honeybot's terminal sanitizer).
fn safe(name: &str) -> String {
    honeybot_daemon::terminal::for_terminal(name)
}

/// `docs: ` when only documentation changed, `test: ` when only tests, else `chore: `.
pub fn conventional_type(files: &[FileDiff]) -> &'static str {
    let is_doc = |p: &str| {
        let low = p.to_ascii_lowercase();
        low.ends_with(".md")
            || low.ends_with(".rst")
            || low.ends_with(".txt")
            || low.starts_with("docs/")
    };
    let is_test = |p: &str| {
        p.starts_with("tests/")
            || p.contains("/tests/")
            || p.contains("_test.")
            || p.contains(".test.")
    };
    if !files.is_empty() && files.iter().all(|f| is_doc(&f.path)) {
        "docs: "
    } else if !files.is_empty() && files.iter().all(|f| is_test(&f.path)) {
        "test: "
    } else {
        "chore: "
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff;

    fn files(spec: &[(&str, &str, usize)]) -> Vec<FileDiff> {
        let mut d = String::new();
        for (path, kind, lines) in spec {
            let _ = writeln!(d, "diff --git a/{path} b/{path}");
            match *kind {
                "A" => d.push_str("new file mode 100644\n--- /dev/null\n"),
                "D" => d.push_str("deleted file mode 100644\n"),
                _ => {
                    let _ = writeln!(d, "--- a/{path}");
                }
            }
            let _ = write!(d, "+++ b/{path}\n@@ -1 +1 @@\n");
            for _ in 0..*lines {
                d.push_str(if *kind == "D" { "-x\n" } else { "+x\n" });
            }
        }
        diff::parse(&d, &[])
    }

    #[test]
    fn subjects() {
        assert_eq!(
            message(&files(&[("README.md", "M", 3)]), false).subject,
            "Update README.md"
        );
        assert_eq!(
            message(&files(&[("a.rs", "A", 1), ("b.rs", "A", 1)]), false).subject,
            "Add a.rs and b.rs"
        );
        assert_eq!(
            message(
                &files(&[("src/x.rs", "M", 1), ("README.md", "M", 9), ("c", "D", 2)]),
                false
            )
            .subject,
            "Update README.md and 2 other files"
        );
        assert_eq!(
            message(&files(&[("old.txt", "D", 1)]), false).subject,
            "Remove old.txt"
        );
        assert_eq!(
            message(
                &files(&[("README.md", "M", 1), ("docs/x.md", "M", 1)]),
                true
            )
            .subject,
            "docs: update README.md and docs/x.md"
        );
        assert_eq!(
            message(&files(&[("src/a.rs", "M", 1)]), true).subject,
            "chore: update src/a.rs"
        );
    }

    #[test]
    fn long_paths_shorten_and_body_lists_files() {
        let deep = format!("{}/file.rs", "very/deep/directory/structure".repeat(3));
        let m = message(&files(&[(&deep, "M", 5), ("b.rs", "M", 1)]), false);
        assert_eq!(m.subject, "Update file.rs and b.rs");
        assert!(
            m.body.starts_with(&format!("- M {deep} (+5 -0)\n- M b.rs")),
            "{}",
            m.body
        );
    }

    #[test]
    fn same_change_same_message() {
        let f = files(&[("b", "M", 1), ("a", "M", 1), ("c", "M", 1)]);
        let mut rev = f.clone();
        rev.reverse();
        assert_eq!(message(&f, false), message(&rev, false));
        assert_eq!(message(&f, false).subject, "Update a and 2 other files");
    }
}
