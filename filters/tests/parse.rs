//! What `parse` builds from valid filters: one behaviour per test, exact ASTs.

use miroir_filters::filter::{parse, CompareOp, Filter, Span, Token, VectorSelector};

/// Parses `input`, which must be a non-empty valid filter, and drops the spans.
fn ast(input: &str) -> Filter {
    let mut filter = match parse(input) {
        Ok(Some(filter)) => filter,
        other => panic!("`{input}` did not parse to a filter: {other:?}"),
    };
    filter.clear_spans();
    filter
}

fn t(value: &str) -> Token {
    Token::bare(value)
}

fn q(value: &str) -> Token {
    Token {
        quoted: true,
        ..Token::bare(value)
    }
}

fn eq(field: &str, value: &str) -> Filter {
    Filter::Compare {
        field: t(field),
        op: CompareOp::Equal,
        value: t(value),
    }
}

fn not(filter: Filter) -> Filter {
    Filter::Not(Box::new(filter))
}

#[test]
fn empty_and_blank_filters_are_no_filter() {
    assert_eq!(parse(""), Ok(None));
    assert_eq!(parse("  \n\t "), Ok(None));
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(
        ast("a = 1 OR b = 2 AND c = 3"),
        Filter::Or(vec![
            eq("a", "1"),
            Filter::And(vec![eq("b", "2"), eq("c", "3")])
        ])
    );
}

#[test]
fn not_binds_tighter_than_and() {
    assert_eq!(
        ast("NOT a = 1 AND b = 2"),
        Filter::And(vec![not(eq("a", "1")), eq("b", "2")])
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(
        ast("(a = 1 OR b = 2) AND c = 3"),
        Filter::And(vec![
            Filter::Or(vec![eq("a", "1"), eq("b", "2")]),
            eq("c", "3")
        ])
    );
}

#[test]
fn chains_of_the_same_operator_are_flat() {
    assert_eq!(
        ast("a = 1 OR b = 2 OR c = 3"),
        Filter::Or(vec![eq("a", "1"), eq("b", "2"), eq("c", "3")])
    );
}

#[test]
fn double_negations_cancel() {
    assert_eq!(ast("NOT NOT NOT NOT x = 5"), eq("x", "5"));
    assert_eq!(ast("NOT NOT (NOT NOT x = 5)"), eq("x", "5"));
    assert_eq!(ast("NOT x NOT EXISTS"), Filter::Exists { field: t("x") });
}

#[test]
fn every_comparison_operator() {
    for (symbol, op) in [
        ("=", CompareOp::Equal),
        ("!=", CompareOp::NotEqual),
        (">", CompareOp::GreaterThan),
        (">=", CompareOp::GreaterThanOrEqual),
        ("<", CompareOp::LowerThan),
        ("<=", CompareOp::LowerThanOrEqual),
    ] {
        assert_eq!(
            ast(&format!("n {symbol} 10")),
            Filter::Compare {
                field: t("n"),
                op,
                value: t("10")
            }
        );
        assert_eq!(
            ast(&format!("n{symbol}10")),
            Filter::Compare {
                field: t("n"),
                op,
                value: t("10")
            }
        );
    }
}

#[test]
fn quoted_tokens_drop_their_quotes_and_remember_them() {
    assert_eq!(
        ast("'dog race' = \"Bernese Mountain\""),
        Filter::Compare {
            field: q("dog race"),
            op: CompareOp::Equal,
            value: q("Bernese Mountain")
        }
    );
}

#[test]
fn quoted_token_spans_cover_the_text_between_the_quotes() {
    let Some(Filter::Compare { field, value, .. }) = parse("\"many\" = 'Glass'").unwrap() else {
        panic!("not a comparison");
    };
    assert_eq!(field.span, Span { start: 1, end: 5 });
    assert_eq!(value.span, Span { start: 10, end: 15 });
}

#[test]
fn escapes_are_resolved_inside_quotes() {
    assert_eq!(ast(r"title = 'foo\\'"), eq("title", "foo\\").tap_quoted());
    assert_eq!(
        ast(r#"title = 'foo\x20\n\t\"\'"'"#),
        eq("title", "foo \n\t\"'\"").tap_quoted()
    );
    assert_eq!(
        ast(r#"title = "I'm \"super\" tamo""#),
        eq("title", "I'm \"super\" tamo").tap_quoted()
    );
}

trait TapQuoted {
    fn tap_quoted(self) -> Self;
}

impl TapQuoted for Filter {
    /// Marks the value of a comparison as quoted.
    fn tap_quoted(self) -> Self {
        match self {
            Filter::Compare { field, op, value } => Filter::Compare {
                field,
                op,
                value: Token {
                    quoted: true,
                    ..value
                },
            },
            other => other,
        }
    }
}

#[test]
fn keywords_are_case_sensitive() {
    assert_eq!(ast("a = and"), eq("a", "and"));
    assert_eq!(
        parse("a = 1 and b = 2").unwrap_err().message(),
        "Found unexpected characters at the end of the filter: `and b = 2`. You probably forgot an `OR` or an `AND` rule.\n7:16 a = 1 and b = 2"
    );
}

#[test]
fn quoted_keywords_are_plain_values() {
    assert_eq!(
        ast(r#"NOT "OR" EXISTS AND "EXISTS" NOT EXISTS"#),
        Filter::And(vec![
            not(Filter::Exists { field: q("OR") }),
            not(Filter::Exists { field: q("EXISTS") })
        ])
    );
}

#[test]
fn in_lists_accept_empty_lists_and_a_trailing_comma() {
    assert_eq!(
        ast("colour IN[]"),
        Filter::In {
            field: t("colour"),
            values: vec![]
        }
    );
    assert_eq!(
        ast("colour IN[green,]"),
        Filter::In {
            field: t("colour"),
            values: vec![t("green")]
        }
    );
    assert_eq!(
        ast(" colour NOT  IN [  green , 'blue' , ]"),
        not(Filter::In {
            field: t("colour"),
            values: vec![t("green"), q("blue")]
        })
    );
}

#[test]
fn range_is_inclusive_between_two_values() {
    assert_eq!(
        ast("subscribers 100 TO 1000"),
        Filter::Range {
            field: t("subscribers"),
            from: t("100"),
            to: t("1000")
        }
    );
}

#[test]
fn existence_null_and_empty_checks_and_their_negations() {
    assert_eq!(ast("x EXISTS"), Filter::Exists { field: t("x") });
    assert_eq!(ast("x NOT   EXISTS"), not(Filter::Exists { field: t("x") }));
    assert_eq!(ast("x IS NULL"), Filter::IsNull { field: t("x") });
    assert_eq!(
        ast("x  IS   NOT   NULL"),
        not(Filter::IsNull { field: t("x") })
    );
    assert_eq!(ast("x IS EMPTY"), Filter::IsEmpty { field: t("x") });
    assert_eq!(
        ast("x IS NOT EMPTY"),
        not(Filter::IsEmpty { field: t("x") })
    );
}

#[test]
fn contains_and_starts_with_and_their_negations() {
    assert_eq!(
        ast("x CONTAINS 'hello'"),
        Filter::Contains {
            field: t("x"),
            value: q("hello")
        }
    );
    assert_eq!(
        ast("x NOT CONTAINS hello"),
        not(Filter::Contains {
            field: t("x"),
            value: t("hello")
        })
    );
    assert_eq!(
        ast("x STARTS WITH hel"),
        Filter::StartsWith {
            field: t("x"),
            value: t("hel")
        }
    );
    assert_eq!(
        ast("x NOT STARTS WITH hel"),
        not(Filter::StartsWith {
            field: t("x"),
            value: t("hel")
        })
    );
}

#[test]
fn vector_filters_name_the_embedder_and_selector() {
    assert_eq!(
        ast("_vectors EXISTS"),
        Filter::VectorExists {
            embedder: None,
            selector: VectorSelector::Any
        }
    );
    assert_eq!(
        ast("  _vectors  NOT  EXISTS"),
        not(Filter::VectorExists {
            embedder: None,
            selector: VectorSelector::Any
        })
    );
    assert_eq!(
        ast("_vectors.embedderName.documentTemplate EXISTS"),
        Filter::VectorExists {
            embedder: Some(t("embedderName")),
            selector: VectorSelector::DocumentTemplate
        }
    );
    assert_eq!(
        ast("_vectors.e.userProvided EXISTS"),
        Filter::VectorExists {
            embedder: Some(t("e")),
            selector: VectorSelector::UserProvided
        }
    );
    assert_eq!(
        ast("_vectors.e.regenerate EXISTS"),
        Filter::VectorExists {
            embedder: Some(t("e")),
            selector: VectorSelector::Regenerate
        }
    );
    assert_eq!(
        ast(r#"_vectors." valid.name  ".fragments."also.. valid! " EXISTS"#),
        Filter::VectorExists {
            embedder: Some(q(" valid.name  ")),
            selector: VectorSelector::Fragment(q("also.. valid! "))
        }
    );
}

#[test]
fn geo_filters_keep_their_numbers_as_written() {
    assert_eq!(
        ast("_geoRadius(12,13,14)"),
        Filter::GeoRadius {
            lat: t("12"),
            lng: t("13"),
            radius: t("14"),
            resolution: None
        }
    );
    assert_eq!(
        ast("_geoRadius( -1.5 , +2., .5e3, 1000)"),
        Filter::GeoRadius {
            lat: t("-1.5"),
            lng: t("+2."),
            radius: t(".5e3"),
            resolution: Some(t("1000"))
        }
    );
    assert_eq!(
        ast("_geoBoundingBox([12, 13], [14, 15])"),
        Filter::GeoBoundingBox {
            top_right: [t("12"), t("13")],
            bottom_left: [t("14"), t("15")]
        }
    );
    assert_eq!(
        ast("_geoPolygon([12, 13], [14, 15], [-1.2,2939.2],)"),
        Filter::GeoPolygon {
            points: vec![
                [t("12"), t("13")],
                [t("14"), t("15")],
                [t("-1.2"), t("2939.2")]
            ]
        }
    );
}

#[test]
fn foreign_filters_wrap_a_whole_expression() {
    assert_eq!(
        ast("_foreign(channel, channel = ponce AND subscribers > 1000)"),
        Filter::Foreign {
            field: t("channel"),
            filter: Box::new(Filter::And(vec![
                eq("channel", "ponce"),
                Filter::Compare {
                    field: t("subscribers"),
                    op: CompareOp::GreaterThan,
                    value: t("1000")
                },
            ])),
        }
    );
}

#[test]
fn words_may_hold_dots_dashes_underscores_and_unicode_letters() {
    assert_eq!(ast("doggo.name-2_x = Ñandú"), eq("doggo.name-2_x", "Ñandú"));
}
