//! Text re-flowed to a width, for the terminal's 80 columns: the scorecard's messages and
//! `explain`'s paragraphs. Width counts what shows: colour sequences take none.

/// `text` as lines of at most `width` visible columns, broken between words; a word longer
/// than the width stays whole on its own line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split_whitespace() {
        let w = anstream::adapter::strip_str(word)
            .to_string()
            .chars()
            .count();
        if used > 0 && used + 1 + w > width {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        if used > 0 {
            line.push(' ');
            used += 1;
        }
        line.push_str(word);
        used += w;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_between_words_within_the_width() {
        assert_eq!(wrap("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
        assert_eq!(wrap("a verylongword b", 4), ["a", "verylongword", "b"]);
        assert_eq!(wrap("", 10), [""]);
        // Colour sequences are not columns.
        assert_eq!(wrap("\u{1b}[1maaa\u{1b}[0m bbb", 7).len(), 1);
    }
}
