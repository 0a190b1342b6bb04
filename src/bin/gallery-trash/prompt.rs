//! The `[y/N]` confirmation before a permanent deletion or an undo. Only `y` or `yes`
//! (any case, surrounding blanks ignored) proceeds; end of input means no.

use std::io::{self, BufRead, IsTerminal, Write};

pub(crate) fn is_yes(answer: &[u8]) -> bool {
    let answer = String::from_utf8_lossy(answer);
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

/// Asks on stderr, so stdout holds only what the command reports; reads
/// one line of stdin (a terminal or not).
pub(crate) fn confirm_on_stderr(question: &str) -> io::Result<bool> {
    confirm_on(question, &mut io::stderr().lock())
}

fn confirm_on(question: &str, out: &mut impl Write) -> io::Result<bool> {
    let stdin = io::stdin();
    let echoed = stdin.is_terminal();
    ask(question, &mut stdin.lock(), out, echoed)
}

/// Writes `question [y/N] `, reads one line. `echoed` says whether the
/// terminal already ended the line when the user pressed Enter; otherwise
/// the line is ended here so what follows does not run on after the prompt.
fn ask(
    question: &str,
    input: &mut impl BufRead,
    out: &mut impl Write,
    echoed: bool,
) -> io::Result<bool> {
    write!(out, "{question} [y/N] ")?;
    out.flush()?;
    let mut line = Vec::new();
    let read = input.read_until(b'\n', &mut line)?;
    if read == 0 || !echoed {
        writeln!(out)?;
    }
    Ok(read > 0 && is_yes(&line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_and_yes_agree() {
        for yes in [&b"y\n"[..], b"yes\n", b"Y", b"YES\r\n", b"  yes  \n"] {
            assert!(is_yes(yes), "{:?}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"n\n"[..],
            b"\n",
            b"",
            b"no",
            b"yess",
            b"ye",
            b"y y",
            b"ok",
            b"\xff",
        ] {
            assert!(!is_yes(no), "{:?}", String::from_utf8_lossy(no));
        }
    }

    fn run(input: &[u8], echoed: bool) -> (bool, String) {
        let mut out = Vec::new();
        let answer = ask("Delete all 3 items?", &mut &input[..], &mut out, echoed).unwrap();
        (answer, String::from_utf8(out).unwrap())
    }

    #[test]
    fn reads_one_line_from_a_pipe() {
        assert_eq!(
            run(b"y\nn\n", false),
            (true, "Delete all 3 items? [y/N] \n".into())
        );
        assert_eq!(
            run(b"n\ny\n", false),
            (false, "Delete all 3 items? [y/N] \n".into())
        );
    }

    #[test]
    fn end_of_input_is_no() {
        assert_eq!(
            run(b"", false),
            (false, "Delete all 3 items? [y/N] \n".into())
        );
        assert_eq!(
            run(b"", true),
            (false, "Delete all 3 items? [y/N] \n".into())
        );
    }

    #[test]
    fn a_terminal_has_ended_the_line_itself() {
        assert_eq!(
            run(b"yes\n", true),
            (true, "Delete all 3 items? [y/N] ".into())
        );
    }
}
