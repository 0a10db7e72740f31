//! The one pass over a parsed document that follows fragment spreads, with
//! each fragment expanded once (memoised) and cycles refused. It measures the
//! document's expanded size (what every later pass that follows spreads will
//! walk), the root fields and depth of the selected operation, and the
//! nesting inside its introspection fields; a second, plain pass counts
//! aliases and directives as written. Both are linear in the text.
//!
//! Introspection (`__schema`, `__type`) is judged by its own rules, not by the
//! depth limit meant for data: its fields count one level of depth, and
//! inside them what can grow the answer is bounded instead: nested `ofType`
//! (graphql-js's introspection query nests 9) and nested list fields
//! (`types`, `fields`, `args`, …: the standard query nests 3; each more
//! multiplies the answer by the size of the schema).

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use super::Operations;

/// What the spread-following pass measured.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Expansion {
    /// Selections (fields, inline fragments, spreads) of every operation with
    /// each spread replaced by its fragment, capped a little past the budget.
    pub size: usize,
    /// Root fields of the selected operation that start or change a session.
    pub session_fields: usize,
    /// Root fields of the selected operation other than `authorize` and
    /// `__typename`.
    pub other_than_authorize: usize,
    /// Root fields of the selected operation.
    pub root_fields: usize,
    /// Deepest field nesting of the selected operation, fragments expanded;
    /// an introspection field (`__schema`, `__type`) counts one level, its
    /// insides none (they are bounded by [`Introspection`]).
    pub depth: usize,
    /// The nesting inside the selected operation's introspection fields.
    pub introspection: Introspection,
    /// Work done: selections visited (each definition's once).
    pub steps: usize,
}

/// The deepest nesting found inside introspection fields (`__schema`,
/// `__type`), on any path, fragments expanded.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Introspection {
    /// `ofType` fields on one path.
    pub of_type: usize,
    /// List fields of the introspection types (see [`INTROSPECTION_LISTS`])
    /// on one path.
    pub lists: usize,
}

impl Introspection {
    fn max(self, other: Self) -> Self {
        Self {
            of_type: self.of_type.max(other.of_type),
            lists: self.lists.max(other.lists),
        }
    }
}

/// The fields of the introspection types that answer lists: each one nested
/// in another multiplies the answer by a size of the schema.
pub const INTROSPECTION_LISTS: &[&str] = &[
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];

/// Whether `name` is a root field of introspection.
fn is_introspection(name: &str) -> bool {
    matches!(name, "__schema" | "__type")
}

/// Why a document was refused by [`expand`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The named fragment spreads itself, directly or through others.
    Cycle(String),
    /// The expanded size passed the budget.
    TooLarge,
}

/// Root-level counts and expanded size of one selection set.
#[derive(Debug, Default, Clone, Copy)]
struct Size {
    expanded: usize,
    session: usize,
    other: usize,
    root: usize,
    depth: usize,
    /// `ofType` and introspection list fields on one path below, as if this
    /// were inside introspection (read only at an introspection field).
    nesting: Introspection,
    /// The deepest nesting measured at introspection fields below.
    introspection: Introspection,
}

impl Size {
    fn add(&mut self, child: Size) {
        self.depth = self.depth.max(child.depth);
        self.nesting = self.nesting.max(child.nesting);
        self.introspection = self.introspection.max(child.introspection);
        self.expanded = self.expanded.saturating_add(child.expanded);
        self.session = self.session.saturating_add(child.session);
        self.other = self.other.saturating_add(child.other);
        self.root = self.root.saturating_add(child.root);
    }
}

enum Memo {
    Expanding,
    Done(Size),
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    session_fields: &'a [&'a str],
    memo: HashMap<&'a str, Memo>,
    budget: usize,
    steps: usize,
}

impl<'a> Walker<'a> {
    fn set(&mut self, set: &'a SelectionSet) -> Result<Size, Refusal> {
        let mut size = Size::default();
        for item in &set.items {
            self.steps += 1;
            let child = match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let below = self.set(&field.node.selection_set.node)?;
                    let nesting = Introspection {
                        of_type: below.nesting.of_type + usize::from(name == "ofType"),
                        lists: below.nesting.lists
                            + usize::from(INTROSPECTION_LISTS.contains(&name)),
                    };
                    let introspective = is_introspection(name);
                    Size {
                        expanded: below.expanded.saturating_add(1),
                        session: usize::from(self.session_fields.contains(&name)),
                        other: usize::from(!matches!(name, "authorize" | "__typename")),
                        root: 1,
                        depth: if introspective { 1 } else { below.depth + 1 },
                        nesting,
                        introspection: if introspective {
                            below.introspection.max(nesting)
                        } else {
                            below.introspection
                        },
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let mut below = self.set(&fragment.node.selection_set.node)?;
                    below.expanded = below.expanded.saturating_add(1);
                    below
                }
                Selection::FragmentSpread(spread) => {
                    let mut below = self.fragment(spread.node.fragment_name.node.as_str())?;
                    below.expanded = below.expanded.saturating_add(1);
                    below
                }
            };
            size.add(child);
            if size.expanded > self.budget {
                return Err(Refusal::TooLarge);
            }
        }
        Ok(size)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Size, Refusal> {
        match self.memo.get(name) {
            Some(Memo::Done(size)) => return Ok(*size),
            Some(Memo::Expanding) => return Err(Refusal::Cycle(name.to_owned())),
            None => {}
        }
        // An unknown fragment expands to nothing here; validation names it.
        let Some((key, fragment)) = self.doc.fragments.get_key_value(name) else {
            return Ok(Size::default());
        };
        self.memo.insert(key.as_str(), Memo::Expanding);
        let size = self.set(&fragment.node.selection_set.node)?;
        self.memo.insert(key.as_str(), Memo::Done(size));
        Ok(size)
    }
}

/// Expands every operation of `doc` (each fragment once), refusing cycles and
/// an expanded size over `budget`, and counts the root fields of `selected`.
/// Fragments that no operation uses are expanded too (validation walks them).
pub fn expand(
    doc: &ExecutableDocument,
    selected: &Operations<'_>,
    session_fields: &[&str],
    budget: usize,
) -> Result<Expansion, Refusal> {
    let mut walker = Walker {
        doc,
        session_fields,
        memo: HashMap::new(),
        budget,
        steps: 0,
    };
    let mut total = 0usize;
    let mut chosen = Size::default();
    for (name, op) in doc.operations.iter() {
        let size = walker.set(&op.node.selection_set.node)?;
        total = total.saturating_add(size.expanded);
        if total > budget {
            return Err(Refusal::TooLarge);
        }
        if selected.includes(name.map(|n| n.as_str())) {
            // Several candidates (no name given): the largest counts.
            chosen.session = chosen.session.max(size.session);
            chosen.other = chosen.other.max(size.other);
            chosen.root = chosen.root.max(size.root);
            chosen.depth = chosen.depth.max(size.depth);
            chosen.introspection = chosen.introspection.max(size.introspection);
        }
    }
    for name in doc.fragments.keys() {
        let size = walker.fragment(name.as_str())?;
        if size.expanded > budget {
            return Err(Refusal::TooLarge);
        }
    }
    Ok(Expansion {
        size: total,
        session_fields: chosen.session,
        other_than_authorize: chosen.other,
        root_fields: chosen.root,
        depth: chosen.depth,
        introspection: chosen.introspection,
        steps: walker.steps,
    })
}

/// What a document holds as written, for the alias and directive limits.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DocumentCounts {
    pub aliases: usize,
    pub directives: usize,
    /// Work done: selections visited.
    pub steps: usize,
}

/// Counts aliases and directives over the whole document (operations and
/// fragment definitions, each once; spreads are not followed).
pub fn count_document(doc: &ExecutableDocument) -> DocumentCounts {
    fn walk(set: &SelectionSet, counts: &mut DocumentCounts) {
        for item in &set.items {
            counts.steps += 1;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::document::Operations;

    fn parse(text: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(text).unwrap()
    }

    fn expand_all(text: &str, budget: usize) -> Result<Expansion, Refusal> {
        let doc = parse(text);
        let ops = Operations::named(None);
        expand(&doc, &ops, &["logIn"], budget)
    }

    #[test]
    fn aliases_and_directives_are_counted_in_operations_and_fragments() {
        let doc = parse(
            "query Q($v: Boolean = true) @a { a: viewer @skip(if: false) { id } \
             b: viewer { ...F @include(if: true) } ... on Query @c { c: viewer { id } } } \
             fragment F on Viewer @d { d: id e: id @e }",
        );
        let counts = count_document(&doc);
        assert_eq!((counts.aliases, counts.directives), (5, 6));
    }

    #[test]
    fn fragments_are_expanded_once_each() {
        // F0 spreads F1 twice, F1 spreads F2 twice, … : 2^n copies of `a`.
        let n = 30;
        let mut text = String::from("{ ...F0 }");
        for i in 0..n {
            text += &format!(" fragment F{i} on Query {{ ...F{} ...F{} }}", i + 1, i + 1);
        }
        text += &format!(" fragment F{n} on Query {{ a }}");
        let refused = expand_all(&text, 2000).unwrap_err();
        assert_eq!(refused, Refusal::TooLarge);
        // Under a budget that fits, the size is exact and the work linear.
        let ten = {
            let mut t = String::from("{ ...F0 }");
            for i in 0..10 {
                t += &format!(" fragment F{i} on Query {{ ...F{} ...F{} }}", i + 1, i + 1);
            }
            t + " fragment F10 on Query { a }"
        };
        let e = expand_all(&ten, 1_000_000).unwrap();
        // 2^10 fields, 2^11 - 2 spreads, one spread at the root.
        assert_eq!(e.size, 1024 + 2046 + 1);
        assert!(e.steps <= 3 * 11, "steps {}", e.steps);
    }

    #[test]
    fn cycles_are_refused() {
        assert_eq!(
            expand_all(
                "{ ...A } fragment A on Query { b { ...B } } fragment B on B { ...A }",
                100
            ),
            Err(Refusal::Cycle("A".into()))
        );
        assert_eq!(
            expand_all("{ a } fragment S on Query { ...S }", 100),
            Err(Refusal::Cycle("S".into()))
        );
    }

    #[test]
    fn root_fields_follow_fragments_at_the_root() {
        let e = expand_all(
            "{ ...F ... on Mutation { authorize(x: 1) { a } } } fragment F on Mutation { logIn a: logIn __typename }",
            100,
        )
        .unwrap();
        assert_eq!(
            (e.session_fields, e.other_than_authorize, e.root_fields),
            (2, 2, 4)
        );
    }

    const INTROSPECTION: &str =
        include_str!("../../../tests/integration/fixtures/introspection.graphql");
    const INTROSPECTION_FULL: &str =
        include_str!("../../../tests/integration/fixtures/introspection-full.graphql");

    #[test]
    fn introspection_is_measured_by_its_own_nesting() {
        for text in [INTROSPECTION, INTROSPECTION_FULL] {
            let e = expand_all(text, 2000).unwrap();
            assert_eq!(e.depth, 1, "introspection counts one level of depth");
            assert_eq!(
                e.introspection,
                Introspection {
                    of_type: 9,
                    lists: 3
                }
            );
        }
        // Outside introspection, the same names are plain data fields.
        let data = expand_all("{ types { fields { args { ofType { a } } } } }", 100).unwrap();
        assert_eq!(
            (data.depth, data.introspection),
            (5, Introspection::default())
        );
        // `__type` too, its insides measured through fragments.
        let e = expand_all(
            "{ viewer { id } __type(name: \"Query\") { ...T } } \
             fragment T on __Type { fields { type { ofType { ofType { fields { name } } } } } }",
            100,
        )
        .unwrap();
        assert_eq!(e.depth, 2);
        assert_eq!(
            e.introspection,
            Introspection {
                of_type: 2,
                lists: 2
            }
        );
    }
}
