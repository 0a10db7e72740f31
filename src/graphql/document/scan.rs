//! A linear scan of a document's text before parsing: lexical tokens (counted
//! the way the GraphQL lexer splits them) and bracket nesting.

/// Deepest nesting of `{`, `[` and `(` accepted before parsing (the parser
/// recurses once per level).
pub const MAX_NESTING: usize = 64;

/// What a scan of the raw document found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// Lexical tokens, counted up to `cap + 1`.
    pub tokens: usize,
    /// Deepest bracket nesting seen (up to where counting stopped).
    pub nesting: usize,
    /// Bytes read: every step of the scan reads at least one.
    pub steps: usize,
}

/// Counts the lexical tokens of a GraphQL document (punctuators, names,
/// numbers, strings) the way the GraphQL lexer splits them, skipping white
/// space, commas and comments, and measures bracket nesting. Stops at
/// `cap + 1` tokens, so a huge document costs no more than a small one over
/// the cap.
pub fn scan(source: &str, cap: usize) -> Scan {
    let bytes = source.as_bytes();
    let mut i = 0;
    let mut count = 0;
    let mut depth = 0usize;
    let mut nesting = 0usize;
    let digits = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    while i < bytes.len() && count <= cap {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => i += 3,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' => {
                count += 1;
                if bytes[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                        i += if bytes[i..].starts_with(b"\\\"\"\"") {
                            4
                        } else {
                            1
                        };
                    }
                    i += 3;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                count += 1;
                i += 3;
            }
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                count += 1;
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
            }
            b'-' | b'0'..=b'9' => {
                // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, then stop: `00`
                // is two numbers and `1-1` is `1` and `-1`, as the lexer sees them.
                count += 1;
                if b == b'-' {
                    i += 1;
                }
                if i < bytes.len() && bytes[i] == b'0' {
                    i += 1;
                } else {
                    i = digits(i);
                }
                if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
                    i = digits(i + 1);
                }
                if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
                    let mut j = i + 1;
                    if j < bytes.len() && matches!(bytes[j], b'+' | b'-') {
                        j += 1;
                    }
                    if j < bytes.len() && bytes[j].is_ascii_digit() {
                        i = digits(j);
                    }
                }
            }
            b'{' | b'[' | b'(' => {
                count += 1;
                depth += 1;
                nesting = nesting.max(depth);
                i += 1;
            }
            b'}' | b']' | b')' => {
                count += 1;
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => {
                // Other punctuators: ! $ & : = @ | and anything unexpected.
                count += 1;
                i += 1;
            }
        }
    }
    Scan {
        tokens: count,
        nesting,
        steps: i.min(bytes.len()),
    }
}

/// The tokens of `source`, counted up to `cap + 1`.
pub fn count_tokens(source: &str, cap: usize) -> usize {
    scan(source, cap).tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_counted_like_the_spec_lexer() {
        assert_eq!(count_tokens("{ a }", 100), 3);
        assert_eq!(
            count_tokens("query Q($id: ID!) { node(id: $id) { id } }", 100),
            21
        );
        assert_eq!(count_tokens("# comment\n{ a, b }", 100), 4);
        assert_eq!(count_tokens(r#"{ a(s: "x \" y", n: -1.5e3) }"#, 100), 11);
        assert_eq!(count_tokens("{ ...F } fragment F on Q { a }", 100), 11);
        assert_eq!(count_tokens(r#"{ a(s: """block "" string""") }"#, 100), 8);
    }

    #[test]
    fn numbers_are_split_as_the_lexer_splits_them() {
        assert_eq!(count_tokens("[0000]", 100), 6);
        assert_eq!(count_tokens("[1-1-1]", 100), 5);
        assert_eq!(count_tokens("[1.5e10 -0.25E-3 7]", 100), 5);
        let sneaky = format!("{{ a(x: [{}]) }}", "0".repeat(100_000));
        assert_eq!(count_tokens(&sneaky, 2000), 2001);
    }

    #[test]
    fn nesting_is_measured() {
        assert_eq!(scan("{ a { b(x: [[1]]) } }", 100).nesting, 5);
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        assert!(scan(&deep, 2000).nesting > MAX_NESTING);
    }

    #[test]
    fn counting_stops_past_the_cap() {
        let big = "{ ".to_owned() + &"a ".repeat(100_000) + "}";
        assert_eq!(count_tokens(&big, 10), 11);
    }
}
