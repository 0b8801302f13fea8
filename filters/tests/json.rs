//! The JSON forms of the `filter` parameter: string, array of strings and arrays.

use miroir_filters::filter::{parse, parse_json, CompareOp, Filter, Token};
use serde_json::json;

fn eq(field: &str, value: &str) -> Filter {
    Filter::Compare {
        field: Token::bare(field),
        op: CompareOp::Equal,
        value: Token::bare(value),
    }
}

fn ast(value: serde_json::Value) -> Option<Filter> {
    let mut filter = parse_json(&value).expect("valid filter");
    if let Some(filter) = filter.as_mut() {
        filter.clear_spans();
    }
    filter
}

#[test]
fn a_string_is_parsed_as_a_filter_expression() {
    assert_eq!(parse_json(&json!("a = 1")), parse("a = 1"));
}

#[test]
fn null_and_empty_forms_are_no_filter() {
    assert_eq!(ast(json!(null)), None);
    assert_eq!(ast(json!("")), None);
    assert_eq!(ast(json!([])), None);
    assert_eq!(ast(json!(["", [], [" "]])), None);
}

#[test]
fn the_outer_array_is_and_and_inner_arrays_are_or() {
    assert_eq!(
        ast(json!(["a = 1", ["b = 2", "c = 3"]])),
        Some(Filter::And(vec![
            eq("a", "1"),
            Filter::Or(vec![eq("b", "2"), eq("c", "3")])
        ]))
    );
}

#[test]
fn single_element_levels_collapse_to_their_element() {
    assert_eq!(ast(json!(["a = 1"])), Some(eq("a", "1")));
    assert_eq!(ast(json!([["a = 1"]])), Some(eq("a", "1")));
    assert_eq!(
        ast(json!(["a = 1", ["", "b = 2"]])),
        Some(Filter::And(vec![eq("a", "1"), eq("b", "2")]))
    );
}

#[test]
fn each_string_keeps_its_own_precedence() {
    assert_eq!(
        ast(json!(["a = 1 OR b = 2", "c = 3"])),
        Some(Filter::And(vec![
            Filter::Or(vec![eq("a", "1"), eq("b", "2")]),
            eq("c", "3")
        ]))
    );
}

#[test]
fn a_non_string_non_array_filter_is_rejected() {
    assert_eq!(
        parse_json(&json!(true)).unwrap_err().message(),
        "Invalid syntax for the filter parameter: `expected String, Array, found: true`."
    );
    assert_eq!(
        parse_json(&json!({"a": 1})).unwrap_err().message(),
        "Invalid syntax for the filter parameter: `expected String, Array, found: {\"a\":1}`."
    );
}

#[test]
fn an_outer_element_must_be_a_string_or_an_array() {
    assert_eq!(
        parse_json(&json!(["a = 1", 3])).unwrap_err().message(),
        "Invalid syntax for the filter parameter: `expected String, [String], found: 3`."
    );
}

#[test]
fn an_inner_element_must_be_a_string() {
    assert_eq!(
        parse_json(&json!([["a = 1", ["b = 2"]]]))
            .unwrap_err()
            .message(),
        "Invalid syntax for the filter parameter: `expected String, found: [\"b = 2\"]`."
    );
}

#[test]
fn type_errors_win_over_syntax_errors_of_earlier_strings() {
    assert_eq!(
        parse_json(&json!(["a =", null])).unwrap_err().message(),
        "Invalid syntax for the filter parameter: `expected String, [String], found: null`."
    );
}

#[test]
fn a_syntax_error_points_into_its_own_string() {
    assert_eq!(
        parse_json(&json!(["a = 1", ["b = 2", "c d"]]))
            .unwrap_err()
            .message(),
        parse("c d").unwrap_err().message()
    );
}
