//! `Display` prints a filter `parse` reads back to the same AST, and `parse` never
//! panics, whatever the input.

use miroir_filters::filter::{parse, CompareOp, Filter, Token, VectorSelector};
use proptest::prelude::*;

fn reparse(filter: &Filter) -> Filter {
    let text = filter.to_string();
    let mut parsed = match parse(&text) {
        Ok(Some(parsed)) => parsed,
        other => panic!("`{text}` did not parse back: {other:?}"),
    };
    parsed.clear_spans();
    parsed
}

// ----- generators of ASTs the parser can produce ----------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.-]{1,8}",
        Just("AND".to_string()),
        Just("ISBN".to_string()),
        Just("EXISTSx".to_string()),
        Just("_geo".to_string()),
        Just("_vectors".to_string()),
        Just("_vectors.e".to_string()),
        Just("_geoPolygon".to_string()),
        Just("_geoPolygonX".to_string()),
        Just("NOTO".to_string()),
        Just(String::new()),
        "[ a-z'\"\\\\()\\[\\],=<>!éß🐻\\n]{0,8}",
    ]
}

fn token() -> impl Strategy<Value = Token> {
    (text(), any::<bool>()).prop_map(|(value, quote)| {
        let mut token = Token::bare(value);
        token.quoted = quote || !token.can_be_written_bare();
        token
    })
}

fn vector_name() -> impl Strategy<Value = Token> {
    prop_oneof![
        "[a-zA-Z0-9_-]{1,8}".prop_map(Token::bare),
        "[ a-z.'\"\\\\]{0,8}".prop_map(|value| Token {
            quoted: true,
            ..Token::bare(value)
        }),
    ]
}

fn number() -> impl Strategy<Value = Token> {
    "[+-]?([0-9]{1,3}(\\.[0-9]{0,2})?|\\.[0-9]{1,2})([eE][+-]?[0-9]{1,2})?".prop_map(Token::bare)
}

fn point() -> impl Strategy<Value = [Token; 2]> {
    (number(), number()).prop_map(|(lat, lng)| [lat, lng])
}

fn compare_op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Equal),
        Just(CompareOp::NotEqual),
        Just(CompareOp::GreaterThan),
        Just(CompareOp::GreaterThanOrEqual),
        Just(CompareOp::LowerThan),
        Just(CompareOp::LowerThanOrEqual),
    ]
}

fn leaf() -> impl Strategy<Value = Filter> {
    let selector = prop_oneof![
        Just(VectorSelector::Any),
        Just(VectorSelector::DocumentTemplate),
        Just(VectorSelector::UserProvided),
        Just(VectorSelector::Regenerate),
        vector_name().prop_map(VectorSelector::Fragment),
    ];
    prop_oneof![
        (token(), compare_op(), token()).prop_map(|(field, op, value)| Filter::Compare {
            field,
            op,
            value
        }),
        (token(), token(), token()).prop_map(|(field, from, to)| Filter::Range { field, from, to }),
        (token(), prop::collection::vec(token(), 0..4))
            .prop_map(|(field, values)| Filter::In { field, values }),
        token().prop_map(|field| Filter::Exists { field }),
        token().prop_map(|field| Filter::IsNull { field }),
        token().prop_map(|field| Filter::IsEmpty { field }),
        (token(), token()).prop_map(|(field, value)| Filter::Contains { field, value }),
        (token(), token()).prop_map(|(field, value)| Filter::StartsWith { field, value }),
        Just(Filter::VectorExists {
            embedder: None,
            selector: VectorSelector::Any
        }),
        (vector_name(), selector).prop_map(|(embedder, selector)| Filter::VectorExists {
            embedder: Some(embedder),
            selector
        }),
        (number(), number(), number(), prop::option::of(number())).prop_map(
            |(lat, lng, radius, resolution)| Filter::GeoRadius {
                lat,
                lng,
                radius,
                resolution
            }
        ),
        (point(), point()).prop_map(|(top_right, bottom_left)| Filter::GeoBoundingBox {
            top_right,
            bottom_left
        }),
        prop::collection::vec(point(), 3..6).prop_map(|points| Filter::GeoPolygon { points }),
    ]
}

/// Filters in the parser's canonical shape: `And`/`Or` have two or more children and
/// `NOT` never directly wraps `NOT`.
fn filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::Or),
            inner.clone().prop_map(|child| match child {
                Filter::Not(grandchild) => *grandchild,
                other => Filter::Not(Box::new(other)),
            }),
            (token(), inner).prop_map(|(field, filter)| Filter::Foreign {
                field,
                filter: Box::new(filter)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn display_parses_back_to_the_same_filter(filter in filter()) {
        prop_assert_eq!(reparse(&filter), filter);
    }

    #[test]
    fn display_of_any_parsed_filter_parses_back_to_it(input in filter_soup()) {
        if let Ok(Some(mut parsed)) = parse(&input) {
            parsed.clear_spans();
            prop_assert_eq!(reparse(&parsed), parsed);
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_strings(input in any::<String>()) {
        let _ = parse(&input);
    }

    #[test]
    fn parse_never_panics_on_filter_like_strings(input in filter_soup()) {
        let _ = parse(&input);
    }
}

/// Strings made of the language's own pieces, so that most of them get deep into the
/// parser before failing (or parse).
fn filter_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("a"),
        Just("b.c"),
        Just("1"),
        Just("-2.5"),
        Just("'x y'"),
        Just("\"q\\\"\""),
        Just("'"),
        Just("\""),
        Just("\\"),
        Just("\\x4"),
        Just("\\u{41}"),
        Just("("),
        Just(")"),
        Just("["),
        Just("]"),
        Just(","),
        Just("="),
        Just("!="),
        Just(">"),
        Just(">="),
        Just("<"),
        Just("<="),
        Just("AND"),
        Just("OR"),
        Just("NOT"),
        Just("IN"),
        Just("TO"),
        Just("EXISTS"),
        Just("IS"),
        Just("NULL"),
        Just("EMPTY"),
        Just("CONTAINS"),
        Just("STARTS WITH"),
        Just("_geoRadius"),
        Just("_geoBoundingBox"),
        Just("_geoPolygon"),
        Just("_geo"),
        Just("_geoPoint"),
        Just("_vectors"),
        Just("."),
        Just("fragments"),
        Just("userProvided"),
        Just("_foreign"),
        Just("🐻"),
        Just("\n"),
        Just("1e"),
        Just("é"),
    ];
    let separator = prop_oneof![Just(""), Just(" "), Just("  ")];
    prop::collection::vec((piece, separator), 0..16).prop_map(|pieces| {
        pieces
            .into_iter()
            .flat_map(|(piece, separator)| [piece, separator])
            .collect()
    })
}

#[test]
fn nested_groups_print_only_the_parentheses_they_need() {
    let filter = parse("(a = 1 OR (b = 2 AND c = 3)) AND NOT (d = 4 OR e = 5)")
        .unwrap()
        .unwrap();
    assert_eq!(
        filter.to_string(),
        "(a = 1 OR b = 2 AND c = 3) AND NOT (d = 4 OR e = 5)"
    );
}

#[test]
fn negated_operators_print_in_their_negated_form() {
    let filter =
        parse("NOT a IN [1, 'x'] AND b NOT EXISTS AND c IS NOT NULL AND NOT d STARTS WITH e")
            .unwrap()
            .unwrap();
    assert_eq!(
        filter.to_string(),
        "a NOT IN [1, \"x\"] AND b NOT EXISTS AND c IS NOT NULL AND d NOT STARTS WITH e"
    );
}

#[test]
fn values_that_cannot_be_bare_are_quoted_and_escaped() {
    let filter = Filter::Compare {
        field: Token::bare("OR"),
        op: CompareOp::Equal,
        value: Token::bare("say \"hi\" \\ bye"),
    };
    assert_eq!(filter.to_string(), r#""OR" = "say \"hi\" \\ bye""#);
}

#[test]
fn words_that_merely_start_like_keywords_stay_bare() {
    let filter = parse("NOTO\n=O AND ISBN 1 TO EXISTSx").unwrap().unwrap();
    assert_eq!(filter.to_string(), "NOTO = O AND ISBN 1 TO EXISTSx");
}

#[test]
fn bare_words_read_differently_at_their_place_are_quoted() {
    let range = Filter::Range {
        field: Token::bare("_vectors"),
        from: Token::bare("EXISTSx"),
        to: Token::bare("2"),
    };
    assert_eq!(range.to_string(), r#""_vectors" "EXISTSx" TO 2"#);
}

#[test]
fn a_reserved_operation_name_is_bare_where_it_is_a_value() {
    let filter = parse("'a' < _geoPolygon").unwrap().unwrap();
    assert_eq!(filter.to_string(), r#""a" < _geoPolygon"#);
}
