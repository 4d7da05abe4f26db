//! Text from outside (a test's output, a report, an artifact) made safe to show: no control
//! characters or escape sequences. Used wherever such text is printed or rendered.

/// `s` without control characters: C0 and C1 controls other than newline and tab are removed,
/// and so are escape sequences (CSI, OSC and the like), so a report cannot move the cursor,
/// retitle a terminal, hide text or forge a hyperlink. With `keep_sgr`, colour sequences
/// (`ESC [ … m`) stay, for a terminal that shows colour.
pub fn strip_controls(s: &str, keep_sgr: bool) -> std::borrow::Cow<'_, str> {
    if !s
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_bidi_override(c))
    {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            match chars.peek().copied() {
                Some('[') => {
                    chars.next();
                    let mut seq = String::from("\x1b[");
                    // Parameter and intermediate bytes, then one final byte.
                    let mut final_byte = None;
                    for n in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&n) {
                            final_byte = Some(n);
                            break;
                        }
                        seq.push(n);
                        if seq.len() > 64 {
                            break;
                        }
                    }
                    if keep_sgr
                        && final_byte == Some('m')
                        && seq[2..].chars().all(|c| c.is_ascii_digit() || c == ';')
                    {
                        out.push_str(&seq);
                        out.push('m');
                    }
                }
                Some(']' | 'P' | '_' | '^' | 'X') => {
                    // String sequences run to BEL or ST (`ESC \`).
                    chars.next();
                    while let Some(n) = chars.next() {
                        if n == '\x07' {
                            break;
                        }
                        if n == '\x1b' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            }
            continue;
        }
        if (c.is_control() && c != '\n' && c != '\t') || is_bidi_override(c) {
            continue;
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

/// Characters that reorder how text displays (the "Trojan Source" family): a test name with
/// them can show as something it is not.
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` for a terminal or CI log: control characters (but newline and tab) made visible in
/// caret notation (`ESC` as `^[`), and no line able to start a GitHub Actions workflow command
/// (see [`no_workflow_commands`]). For text from outside printed outside the templates: error
/// messages naming a value from a report or the command line, warnings, merge's messages.
pub fn for_log(text: &str) -> String {
    let mut visible = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' => visible.push(c),
            c if (c as u32) < 0x20 => {
                visible.push('^');
                visible.push(char::from(b'@' + c as u8));
            }
            '\u{7f}' => visible.push_str("^?"),
            c if c.is_control() || is_bidi_override(c) => {
                visible.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => visible.push(c),
        }
    }
    no_workflow_commands(&visible).into_owned()
}

/// `text` with every line that would start a GitHub Actions workflow command (`::error::…`,
/// `::add-mask::…`, `::stop-commands::…`; leading blanks are ignored by the runner) broken
/// with a space after its first colon, so text from a report prints as text. The scorecard
/// and `report --format terminal` pass through here: their values are already free of
/// controls, their own colour codes stay.
pub fn no_workflow_commands(text: &str) -> std::borrow::Cow<'_, str> {
    let starts_command = |l: &str| strip_sgr_prefix(l.trim_start()).starts_with("::");
    if !text.lines().any(starts_command) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if starts_command(line) {
            let at = line.find("::").unwrap_or(0);
            out.push_str(&line[..=at]);
            out.push(' ');
            out.push_str(&line[at + 1..]);
        } else {
            out.push_str(line);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `l` past any colour codes it starts with (`ESC [ … m`): the runner reads a line after them.
fn strip_sgr_prefix(mut l: &str) -> &str {
    while let Some(rest) = l.strip_prefix("\x1b[") {
        match rest.find('m') {
            Some(end) => l = rest[end + 1..].trim_start(),
            None => break,
        }
    }
    l
}

/// `s` with every occurrence of `secret` replaced by `***`: text from outside (an API's error
/// body that echoes the request's headers, a command's output) may carry the token it was
/// sent. A secret shorter than 8 characters is not a token, and masking it would mangle text.
pub fn mask<'a>(s: &'a str, secret: Option<&str>) -> std::borrow::Cow<'a, str> {
    match secret.map(str::trim) {
        Some(secret) if secret.len() >= 8 && s.contains(secret) => {
            std::borrow::Cow::Owned(s.replace(secret, "***"))
        }
        _ => std::borrow::Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_text_shows_controls_and_starts_no_workflow_command() {
        assert_eq!(for_log("t\n::error::inj"), "t\n: :error::inj");
        assert_eq!(for_log("  ::add-mask::x"), "  : :add-mask::x");
        assert_eq!(for_log("a\x1b[2Jb\x07"), "a^[[2Jb^G");
        assert_eq!(for_log("ok: a::b"), "ok: a::b", "a path is not a command");
        assert_eq!(
            no_workflow_commands("\x1b[31m::error::x\x1b[0m"),
            "\x1b[31m: :error::x\x1b[0m",
            "colour codes before it do not hide a command"
        );
        assert!(matches!(
            no_workflow_commands("plain\ntext"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_secret_is_masked_wherever_it_appears() {
        let token = "ghs_abcdefghij0123456789";
        let echoed = format!("echo: Bearer {token}, again {token}");
        assert_eq!(mask(&echoed, Some(token)), "echo: Bearer ***, again ***");
        assert_eq!(mask("nothing here", Some(token)), "nothing here");
        assert_eq!(mask("a b c", Some("b")), "a b c", "too short to be a token");
        assert_eq!(mask("x", None), "x");
    }

    #[test]
    fn controls_and_escape_sequences_are_removed() {
        let s =
            "a\x1b[31mred\x1b[0m \x1b]8;;https://x\x07link\x1b]8;;\x07 \x07bell\r\u{202e}rev\u{0}";
        assert_eq!(strip_controls(s, false), "ared link bellrev");
        assert_eq!(strip_controls(s, true), "a\x1b[31mred\x1b[0m link bellrev");
        // A cursor move is not a colour.
        assert_eq!(strip_controls("x\x1b[2Ay", true), "xy");
        assert_eq!(
            strip_controls("tab\tand\nnewline", false),
            "tab\tand\nnewline"
        );
    }
}
