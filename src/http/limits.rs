//! Document limits that need the raw text or the parsed document: tokens and
//! aliases. Depth, complexity and directives are enforced by the schema.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// Counts the lexical tokens of a GraphQL document (punctuators, names,
/// numbers, strings), skipping white space, commas and comments. Stops counting
/// at `cap + 1` so a huge document costs no more than a small one over the cap.
pub fn count_tokens(source: &str, cap: usize) -> usize {
    let bytes = source.as_bytes();
    let mut i = 0;
    let mut count = 0;
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
                count += 1;
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
            }
            _ => {
                // Punctuators: ! $ & ( ) : = @ [ ] { | } and anything unexpected.
                count += 1;
                i += 1;
            }
        }
    }
    count
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
    use async_graphql::parser::types::DocumentOperations;
    fn walk(doc: &ExecutableDocument, set: &SelectionSet, names: &[&str], depth: usize) -> usize {
        if depth > 32 {
            return 0;
        }
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    usize::from(names.contains(&field.node.name.node.as_str()))
                }
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
            .sum()
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
        .map(|op| walk(doc, &op.node.selection_set.node, names, 0))
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
