//! Document limits that need the raw text or the parsed document: tokens and
//! aliases. Depth, complexity and directives are enforced by the schema.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

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
    }
}

/// The tokens of `source`, counted up to `cap + 1`.
pub fn count_tokens(source: &str, cap: usize) -> usize {
    scan(source, cap).tokens
}

/// What a document holds that the limits count.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DocumentCounts {
    pub aliases: usize,
    pub directives: usize,
}

/// Counts aliases and directives over the whole document (operations and
/// fragment definitions, each once).
pub fn count_document(doc: &ExecutableDocument) -> DocumentCounts {
    fn walk(set: &SelectionSet, counts: &mut DocumentCounts) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    counts.aliases += usize::from(field.node.alias.is_some());
                    counts.directives += field.node.directives.len();
                    walk(&field.node.selection_set.node, counts);
                }
                Selection::InlineFragment(fragment) => {
                    counts.directives += fragment.node.directives.len();
                    walk(&fragment.node.selection_set.node, counts);
                }
                Selection::FragmentSpread(spread) => {
                    counts.directives += spread.node.directives.len();
                }
            }
        }
    }
    let mut counts = DocumentCounts::default();
    for (_, op) in doc.operations.iter() {
        counts.directives += op.node.directives.len()
            + op.node
                .variable_definitions
                .iter()
                .map(|v| v.node.directives.len())
                .sum::<usize>();
        walk(&op.node.selection_set.node, &mut counts);
    }
    for fragment in doc.fragments.values() {
        counts.directives += fragment.node.directives.len();
        walk(&fragment.node.selection_set.node, &mut counts);
    }
    counts
}

/// How many root fields named in `names` the selected operation runs,
/// following fragment spreads and inline fragments at the root.
pub fn count_root_fields(
    doc: &ExecutableDocument,
    operation: Option<&str>,
    names: &[&str],
) -> usize {
    count_root_fields_matching(doc, operation, &|name| names.contains(&name))
}

/// How many root fields of the operation are *not* among `names` (all of
/// them for an empty list).
pub fn count_root_fields_except(
    doc: &ExecutableDocument,
    operation: Option<&str>,
    names: &[&str],
) -> usize {
    count_root_fields_matching(doc, operation, &|name| !names.contains(&name))
}

fn count_root_fields_matching(
    doc: &ExecutableDocument,
    operation: Option<&str>,
    matches: &dyn Fn(&str) -> bool,
) -> usize {
    use async_graphql::parser::types::DocumentOperations;
    fn walk(
        doc: &ExecutableDocument,
        set: &SelectionSet,
        names: &dyn Fn(&str) -> bool,
        depth: usize,
    ) -> usize {
        if depth > 32 {
            // Deeper than any honest document: count it as over every limit.
            return usize::MAX / 2;
        }
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => usize::from(names(field.node.name.node.as_str())),
                Selection::InlineFragment(f) => {
                    walk(doc, &f.node.selection_set.node, names, depth + 1)
                }
                Selection::FragmentSpread(spread) => doc
                    .fragments
                    .get(&spread.node.fragment_name.node)
                    .map_or(0, |f| {
                        walk(doc, &f.node.selection_set.node, names, depth + 1)
                    }),
            })
            .fold(0usize, usize::saturating_add)
    }
    let ops: Vec<_> = match (&doc.operations, operation) {
        (DocumentOperations::Single(op), _) => vec![op],
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .iter()
            .filter(|(n, _)| n.as_str() == name)
            .map(|(_, op)| op)
            .collect(),
        (DocumentOperations::Multiple(ops), None) => ops.values().collect(),
    };
    ops.iter()
        .map(|op| walk(doc, &op.node.selection_set.node, matches, 0))
        .max()
        .unwrap_or(0)
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

    #[test]
    fn aliases_and_directives_are_counted_in_operations_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query Q($v: Boolean = true) @a { a: viewer @skip(if: false) { id } \
             b: viewer { ...F @include(if: true) } ... on Query @c { c: viewer { id } } } \
             fragment F on Viewer @d { d: id e: id @e }",
        )
        .unwrap();
        assert_eq!(
            count_document(&doc),
            DocumentCounts {
                aliases: 5,
                directives: 6
            }
        );
    }
}
