//! Every string of a GraphQL request, checked by [`crate::input`]'s rules:
//! variables (keys included) and literals (arguments, directive arguments,
//! variable defaults), each named by its path (`variables.input.name`,
//! `input.tags[1]`).

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Positioned, Variables};
use async_graphql_value::{ConstValue, Value};

use crate::error::AppResult;
use crate::input::check_str;

/// Checks every string of a request's variables (named `variables.<name>…`).
pub fn check_variables(variables: &Variables) -> AppResult<()> {
    for (name, value) in variables.iter() {
        let mut path = format!("variables.{name}");
        check_str(&path, name)?;
        check_const(value, &mut path)?;
    }
    Ok(())
}

fn check_const(value: &ConstValue, path: &mut String) -> AppResult<()> {
    match value {
        ConstValue::String(s) => check_str(path, s),
        ConstValue::List(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                check_const(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        ConstValue::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                check_str(path, key)?;
                check_const(item, path)?;
                path.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_arguments(arguments: &[(Positioned<Name>, Positioned<Value>)]) -> AppResult<()> {
    for (name, value) in arguments {
        // Variables stand as nulls here: their values are checked apart.
        let literal = value
            .node
            .clone()
            .into_const_with(|_| Ok::<_, std::convert::Infallible>(ConstValue::Null))
            .unwrap_or(ConstValue::Null);
        check_const(&literal, &mut name.node.to_string())?;
    }
    Ok(())
}

fn check_directives(
    directives: &[Positioned<async_graphql::parser::types::Directive>],
) -> AppResult<()> {
    directives
        .iter()
        .try_for_each(|d| check_arguments(&d.node.arguments))
}

fn check_set(set: &SelectionSet) -> AppResult<()> {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                check_arguments(&field.node.arguments)?;
                check_directives(&field.node.directives)?;
                check_set(&field.node.selection_set.node)?;
            }
            Selection::InlineFragment(fragment) => {
                check_directives(&fragment.node.directives)?;
                check_set(&fragment.node.selection_set.node)?;
            }
            Selection::FragmentSpread(spread) => check_directives(&spread.node.directives)?,
        }
    }
    Ok(())
}

/// Checks every string literal of `doc` (each definition once): arguments,
/// directive arguments and variable defaults, named by their argument.
pub fn check_document(doc: &ExecutableDocument) -> AppResult<()> {
    for (_, op) in doc.operations.iter() {
        for var in &op.node.variable_definitions {
            if let Some(default) = &var.node.default_value {
                check_const(
                    &default.node,
                    &mut format!("variables.{}", var.node.name.node),
                )?;
            }
            check_directives(&var.node.directives)?;
        }
        check_directives(&op.node.directives)?;
        check_set(&op.node.selection_set.node)?;
    }
    for fragment in doc.fragments.values() {
        check_directives(&fragment.node.directives)?;
        check_set(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    fn field_of(err: AppError) -> String {
        match err {
            AppError::BadUserInput { field, .. } => field.unwrap_or_default(),
            other => panic!("not BAD_USER_INPUT: {other:?}"),
        }
    }

    #[test]
    fn literals_and_variables_name_the_field() {
        let doc = async_graphql::parser::parse_query(
            r#"query($v: String = "ok") { a(input: { name: "x", tags: ["y", "z\u0000"] }) { b } }"#,
        )
        .unwrap();
        assert_eq!(field_of(check_document(&doc).unwrap_err()), "input.tags[1]");
        let vars = Variables::from_json(serde_json::json!({ "input": { "idem": "a\u{0}" } }));
        assert_eq!(
            field_of(check_variables(&vars).unwrap_err()),
            "variables.input.idem"
        );
    }
}
