//! The property behind the document limits: every pass of ours over a
//! document does work linear in its text, whatever its fragments, spreads,
//! inline fragments, aliases, directives and nesting; and a document whose
//! expansion is over budget is refused after linear work too.

use async_graphql::Value;
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use proptest::prelude::*;

use super::{Operations, order, scan, strings, walk};

/// Work allowed per byte of document text (the reordering, which also
/// walks the response).
const K: usize = 2;
/// Bytes of text every selection takes at the least (`f0 `): the passes that
/// visit each written selection once do at most one step per this many bytes.
const BYTES_PER_SELECTION: usize = 3;

#[derive(Debug, Clone)]
enum Item {
    Field {
        name: u8,
        alias: Option<u8>,
        directive: bool,
        argument: bool,
        children: Vec<Item>,
    },
    Inline {
        directive: bool,
        children: Vec<Item>,
    },
    Spread {
        target: u8,
        directive: bool,
    },
}

fn item() -> impl Strategy<Value = Item> {
    // Spreads are as likely as fields, so fragments spread each other often
    // (and, without memoising, would be expanded again at every spread).
    let leaf = prop_oneof![
        1 => (
            0u8..6,
            proptest::option::of(0u8..4),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(name, alias, directive, argument)| Item::Field {
                name,
                alias,
                directive,
                argument,
                children: vec![],
            }),
        1 => (0u8..8, any::<bool>()).prop_map(|(target, directive)| Item::Spread { target, directive }),
    ];
    leaf.prop_recursive(6, 64, 5, |inner| {
        prop_oneof![
            (
                0u8..6,
                proptest::option::of(0u8..4),
                any::<bool>(),
                any::<bool>(),
                proptest::collection::vec(inner.clone(), 1..5)
            )
                .prop_map(|(name, alias, directive, argument, children)| Item::Field {
                    name,
                    alias,
                    directive,
                    argument,
                    children,
                }),
            (any::<bool>(), proptest::collection::vec(inner, 1..5)).prop_map(
                |(directive, children)| Item::Inline {
                    directive,
                    children
                }
            ),
        ]
    })
}

/// Which fragments a spread may name: any (cycles possible), or, in a
/// fragment `i` of an acyclic document, only those after it (so fragments
/// are shared along chains, the shape that multiplies without memoising).
#[derive(Debug, Clone, Copy)]
struct Targets {
    /// The first fragment a spread may name.
    from: u8,
    /// How many fragments there are.
    count: u8,
}

impl Targets {
    fn pick(self, target: u8) -> Option<u8> {
        let span = self.count.checked_sub(self.from).filter(|n| *n > 0)?;
        Some(self.from + target % span)
    }
}

fn render(items: &[Item], targets: Targets, out: &mut String) {
    out.push_str("{ ");
    for item in items {
        match item {
            Item::Field {
                name,
                alias,
                directive,
                argument,
                children,
            } => {
                if let Some(a) = alias {
                    out.push_str(&format!("a{a}: "));
                }
                out.push_str(&format!("f{name}"));
                if *argument {
                    out.push_str("(first: 3, s: \"x\")");
                }
                if *directive {
                    out.push_str(" @include(if: true)");
                }
                out.push(' ');
                if !children.is_empty() {
                    render(children, targets, out);
                }
            }
            Item::Inline {
                directive,
                children,
            } => {
                out.push_str("... on T ");
                if *directive {
                    out.push_str("@skip(if: false) ");
                }
                render(children, targets, out);
            }
            Item::Spread { target, directive } => {
                let Some(target) = targets.pick(*target) else {
                    out.push_str("f0 ");
                    continue;
                };
                out.push_str(&format!("...F{target} "));
                if *directive {
                    out.push_str("@include(if: true) ");
                }
            }
        }
    }
    out.push_str("} ");
}

fn document() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(proptest::collection::vec(item(), 1..4), 1..3),
        proptest::collection::vec(proptest::collection::vec(item(), 1..4), 0..8),
        proptest::bool::weighted(0.8),
    )
        .prop_map(|(ops, fragments, acyclic)| {
            let count = fragments.len() as u8;
            let mut text = String::new();
            for (i, op) in ops.iter().enumerate() {
                text.push_str(&format!("query Q{i} "));
                render(op, Targets { from: 0, count }, &mut text);
            }
            for (i, fragment) in fragments.iter().enumerate() {
                text.push_str(&format!("fragment F{i} on T "));
                let from = if acyclic { i as u8 + 1 } else { 0 };
                render(fragment, Targets { from, count }, &mut text);
            }
            text
        })
}

/// A response shaped like the document's would be (sibling keys reversed, so
/// reordering has work to do), built naively: only for small expansions.
fn response(doc: &ExecutableDocument, sets: &[&SelectionSet]) -> Value {
    fn collect<'a>(
        doc: &'a ExecutableDocument,
        set: &'a SelectionSet,
        out: &mut IndexMap<String, Vec<&'a SelectionSet>>,
    ) {
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => out
                    .entry(f.node.response_key().node.to_string())
                    .or_default()
                    .push(&f.node.selection_set.node),
                Selection::InlineFragment(i) => collect(doc, &i.node.selection_set.node, out),
                Selection::FragmentSpread(s) => {
                    if let Some(f) = doc.fragments.get(&s.node.fragment_name.node) {
                        collect(doc, &f.node.selection_set.node, out);
                    }
                }
            }
        }
    }
    let mut keys = IndexMap::new();
    for set in sets {
        collect(doc, set, &mut keys);
    }
    let mut object = IndexMap::new();
    for (key, subsets) in keys.into_iter().rev() {
        let value = if subsets.iter().all(|s| s.items.is_empty()) {
            Value::from(1)
        } else {
            // Every object field is a list of two, as connections are.
            let one = response(doc, &subsets);
            Value::List(vec![one.clone(), one])
        };
        object.insert(async_graphql::Name::new(key), value);
    }
    Value::Object(object)
}

fn response_size(value: &Value) -> usize {
    match value {
        Value::List(items) => 1 + items.iter().map(response_size).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(response_size).sum::<usize>(),
        _ => 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("TENANTGATE_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(500)
    ))]

    #[test]
    fn every_pass_is_linear_in_the_text(text in document()) {
        let len = text.len();
        let scanned = scan::scan(&text, usize::MAX);
        prop_assert!(scanned.steps <= len);
        let Ok(doc) = async_graphql::parser::parse_query(&text) else {
            return Ok(());
        };
        let counts = walk::count_document(&doc);
        prop_assert!(
            counts.steps * BYTES_PER_SELECTION <= len,
            "count_document: {} steps for {len} bytes", counts.steps
        );
        prop_assert!(strings::check_document(&doc).is_ok());
        for budget in [2_000, usize::MAX / 4] {
            match walk::expand(&doc, &Operations::named(None), &["f0"], budget) {
                Ok(e) => prop_assert!(
                    e.steps * BYTES_PER_SELECTION <= len,
                    "expand: {} steps for {len} bytes", e.steps
                ),
                Err(walk::Refusal::Cycle(_)) => return Ok(()),
                Err(walk::Refusal::TooLarge) => prop_assert!(budget == 2_000),
            }
        }
        let Ok(small) = walk::expand(&doc, &Operations::named(None), &[], 300) else {
            return Ok(());
        };
        let Some(op) = Operations::named(Some("Q0")).one(&doc) else {
            return Ok(());
        };
        let mut data = response(&doc, &[&op.node.selection_set.node]);
        let size = response_size(&data);
        let steps = order::reorder_counted(&mut data, &doc, Some("Q0"));
        prop_assert!(
            steps <= K * (len + size),
            "order: {steps} steps for {len} bytes and {size} values (expanded {})",
            small.size
        );
    }
}

#[test]
fn a_kilobyte_of_doubling_fragments_is_refused_after_linear_work() {
    let mut text = String::from("query { ...F0 }");
    for i in 0..40 {
        text += &format!(" fragment F{i} on Query {{ ...F{} ...F{} }}", i + 1, i + 1);
    }
    text += " fragment F40 on Query { viewer { role } }";
    let doc = async_graphql::parser::parse_query(&text).unwrap();
    let refused = walk::expand(&doc, &Operations::named(None), &[], 2_000);
    assert_eq!(refused, Err(walk::Refusal::TooLarge));
    // Without a budget the size saturates instead of overflowing, after the
    // same linear work.
    let whole = walk::expand(&doc, &Operations::named(None), &[], usize::MAX / 4);
    assert!(whole.unwrap().steps * BYTES_PER_SELECTION <= text.len());
}
