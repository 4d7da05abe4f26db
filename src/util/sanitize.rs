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
