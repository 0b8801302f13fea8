//! Filter evaluation: Meilisearch's filter semantics over one JSON document.
//!
//! The parser lives in `miroir-filters`; this module checks the parsed expression
//! against the index's `filterableAttributes` (with Meilisearch's error for a field
//! that is not filterable, worded per caller) and evaluates it document by document.
//!
//! Semantics, as milli applies them to its facet databases:
//! - a value that parses as a finite number matches numeric fields numerically; every
//!   value also matches string fields after facet normalisation (trimmed, lowercased);
//!   booleans are indexed as the strings `true` and `false`;
//! - `<`, `<=`, `>`, `>=` and `TO` compare numbers numerically and strings
//!   lexicographically on their normalised form;
//! - arrays match when any element matches; dotted paths reach nested objects;
//! - `!=` and `NOT` are complements over all documents (a document without the field
//!   matches `field != x`);
//! - `EXISTS` is true for any present value including `null`; `IS EMPTY` for `""`,
//!   `[]` and `{}`; `IS NULL` for `null`.

use miroir_filters::filter::{CompareOp, Filter, Token, VectorSelector};
use serde_json::Value;

use crate::fields::{leaves_at, values_at};
use crate::geo::{distance_meters, document_point, point_in_polygon};
use crate::wire::invalid;
use crate::{Document, IndexContext, MeiliError};

/// Who asks for a filter: it selects the error code and wording Meilisearch uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterContext {
    /// `POST/GET /indexes/{uid}/search`: `invalid_search_filter`, message prefixed
    /// with ``Index `uid`: ``.
    Search,
    /// `POST /indexes/{uid}/facet-search`: same code and wording as search.
    FacetSearch,
    /// `GET /indexes/{uid}/documents`, `POST .../documents/fetch`: `invalid_document_filter`.
    Documents,
    /// `POST /indexes/{uid}/documents/delete`: `invalid_document_filter`.
    DeleteDocuments,
    /// `POST/GET /indexes/{uid}/similar`: `invalid_similar_filter`, the client's text
    /// quoted as for documents, no index prefix.
    Similar,
}

impl FilterContext {
    /// The error code for a bad filter in this context.
    pub fn error_code(self) -> &'static str {
        match self {
            FilterContext::Search | FilterContext::FacetSearch => "invalid_search_filter",
            FilterContext::Documents | FilterContext::DeleteDocuments => "invalid_document_filter",
            FilterContext::Similar => "invalid_similar_filter",
        }
    }
}

/// A parsed filter whose fields were checked against the filterable attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledFilter {
    filter: Filter,
}

impl CompiledFilter {
    /// Wrap an already checked expression (used by tests and by the engine itself).
    pub(crate) fn new(filter: Filter) -> Self {
        CompiledFilter { filter }
    }

    /// The expression.
    pub fn expression(&self) -> &Filter {
        &self.filter
    }
}

/// Parse a filter (string or array form) and check it against the index.
///
/// `Ok(None)` when the filter is empty or `null`. Errors, with the code `ctx` selects:
/// Meilisearch's parse errors, its "Attribute `x` is not filterable" error, and
/// `feature_not_enabled` for `CONTAINS` (an experimental feature that is off on a
/// default Meilisearch; use [`compile_filter_with_contains`] to mirror a node that
/// enabled it).
pub fn compile_filter(
    filter: &Value,
    index: IndexContext<'_>,
    ctx: FilterContext,
) -> Result<Option<CompiledFilter>, MeiliError> {
    compile(filter, index, ctx, false)
}

/// [`compile_filter`] for a node where the `containsFilter` experimental feature is on.
pub fn compile_filter_with_contains(
    filter: &Value,
    index: IndexContext<'_>,
    ctx: FilterContext,
) -> Result<Option<CompiledFilter>, MeiliError> {
    compile(filter, index, ctx, true)
}

fn compile(
    filter: &Value,
    index: IndexContext<'_>,
    ctx: FilterContext,
    contains_enabled: bool,
) -> Result<Option<CompiledFilter>, MeiliError> {
    let Some(parsed) = parse(filter, ctx)? else {
        return Ok(None);
    };
    if !contains_enabled {
        if let Some((field, value)) = first_contains(&parsed) {
            let mut message = "Using `CONTAINS` in a filter requires enabling the `contains filter` experimental feature. \
                               See https://github.com/orgs/meilisearch/discussions/763"
                .to_owned();
            if let Some((span, text)) = contains_keyword_span(filter, field, value) {
                message.push_str(&format!("\n{}:{} {}", span.0 + 1, span.1 + 1, text));
            }
            return Err(invalid("feature_not_enabled", message));
        }
    }
    if uses_foreign(&parsed) {
        return Err(invalid(
            "feature_not_enabled",
            "Using `_foreign` in a filter requires enabling the `foreign_keys` experimental feature. \
             See https://github.com/orgs/meilisearch/discussions/873",
        ));
    }
    check_filterable(&parsed, filter, &index, ctx)?;
    Ok(Some(CompiledFilter::new(parsed)))
}

/// Parse a filter without checking its attributes (similar checks them later).
pub(crate) fn parse_only(filter: &Value, ctx: FilterContext) -> Result<Option<Filter>, MeiliError> {
    parse(filter, ctx)
}

fn parse(filter: &Value, ctx: FilterContext) -> Result<Option<Filter>, MeiliError> {
    miroir_filters::filter::parse_json(filter)
        .map_err(|err| invalid(ctx.error_code(), err.to_string()))
}

fn uses_foreign(filter: &Filter) -> bool {
    match filter {
        Filter::And(children) | Filter::Or(children) => children.iter().any(uses_foreign),
        Filter::Not(child) => uses_foreign(child),
        Filter::Foreign { .. } => true,
        _ => false,
    }
}

fn first_contains(filter: &Filter) -> Option<(&Token, &Token)> {
    match filter {
        Filter::And(children) | Filter::Or(children) => children.iter().find_map(first_contains),
        Filter::Not(child) => first_contains(child),
        Filter::Contains { field, value } => Some((field, value)),
        _ => None,
    }
}

/// Where the `CONTAINS` keyword stands: between the end of the field and the start of
/// the value, in the client string that holds them.
fn contains_keyword_span(
    source: &Value,
    field: &Token,
    value: &Token,
) -> Option<((usize, usize), String)> {
    let (_, text) = source_span(field, source)?;
    let between = text.get(field.span.end..value.span.start)?;
    let offset = between.to_ascii_uppercase().find("CONTAINS")?;
    let start = field.span.end + offset;
    Some(((start, start + "CONTAINS".len()), text))
}

/// What a filterable-attributes rule allows on the fields it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FilterFeatures {
    pub facet_search: bool,
    pub equality: bool,
    pub comparison: bool,
}

/// The features of the first `filterableAttributes` rule that matches `field`, if any.
///
/// A plain string rule matches the field itself and everything nested under it and
/// allows every operator; an object rule matches its glob patterns and allows what
/// its `features` say.
pub(crate) fn filter_features(index: &IndexContext<'_>, field: &str) -> Option<FilterFeatures> {
    let rules = index.settings.get("filterableAttributes")?.as_array()?;
    for rule in rules {
        match rule {
            Value::String(name)
                if name == field
                    || field
                        .strip_prefix(name.as_str())
                        .is_some_and(|r| r.starts_with('.')) =>
            {
                return Some(FilterFeatures {
                    facet_search: true,
                    equality: true,
                    comparison: true,
                });
            }
            Value::Object(rule) => {
                let patterns = rule.get("attributePatterns").and_then(Value::as_array);
                if patterns
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .any(|p| glob_matches(p, field))
                {
                    let features = rule.get("features");
                    let flag = |path: &[&str], default: bool| {
                        let mut value = features;
                        for key in path {
                            value = value.and_then(|v| v.get(*key));
                        }
                        value.and_then(Value::as_bool).unwrap_or(default)
                    };
                    return Some(FilterFeatures {
                        facet_search: flag(&["facetSearch"], false),
                        equality: flag(&["filter", "equality"], true),
                        comparison: flag(&["filter", "comparison"], false),
                    });
                }
            }
            _ => {}
        }
    }
    None
}

/// The filterable attribute patterns of the index, sorted (as error messages list them).
pub(crate) fn filterable_patterns(index: &IndexContext<'_>) -> Vec<String> {
    let mut patterns: Vec<String> = index
        .settings
        .get("filterableAttributes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|rule| match rule {
            Value::String(name) => vec![name.clone()],
            Value::Object(rule) => rule
                .get("attributePatterns")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    patterns.sort();
    patterns.dedup();
    patterns
}

/// Meilisearch's attribute glob: `*`, `*x*`, `*x`, `x*` or an exact name.
pub(crate) fn glob_matches(pattern: &str, field: &str) -> bool {
    if pattern == "*" {
        true
    } else if pattern.len() >= 2 && pattern.starts_with('*') && pattern.ends_with('*') {
        field.contains(&pattern[1..pattern.len() - 1])
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        field.ends_with(suffix)
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        field.starts_with(prefix)
    } else {
        pattern == field
    }
}

/// Every field token the expression reads, depth first, in writing order.
fn fields_of(filter: &Filter, out: &mut Vec<Token>) {
    match filter {
        Filter::And(children) | Filter::Or(children) => {
            children.iter().for_each(|c| fields_of(c, out))
        }
        Filter::Not(child) => fields_of(child, out),
        Filter::Compare { field, .. }
        | Filter::Range { field, .. }
        | Filter::In { field, .. }
        | Filter::Exists { field }
        | Filter::IsNull { field }
        | Filter::IsEmpty { field }
        | Filter::Contains { field, .. }
        | Filter::StartsWith { field, .. } => out.push(field.clone()),
        Filter::GeoRadius { .. } | Filter::GeoBoundingBox { .. } | Filter::GeoPolygon { .. } => {
            out.push(Token::bare("_geo"))
        }
        Filter::VectorExists { .. } | Filter::Foreign { .. } => {}
    }
}

/// Check that every field of `filter` is filterable; the error is Meilisearch's.
///
/// `source` is the filter as the client sent it (string or array form); the error
/// quotes it with the position of the offending field. In the search context
/// Meilisearch quotes its own re-serialisation of the expression, and so do we.
pub(crate) fn check_filterable(
    filter: &Filter,
    source: &Value,
    index: &IndexContext<'_>,
    ctx: FilterContext,
) -> Result<(), MeiliError> {
    let mut fields = Vec::new();
    fields_of(filter, &mut fields);
    let Some(bad) = fields
        .into_iter()
        .find(|f| f.value != "_miroir_shard" && filter_features(index, &f.value).is_none())
    else {
        return Ok(());
    };
    let patterns = filterable_patterns(index);
    let mut message = format!("Attribute `{}` is not filterable.", bad.value);
    if patterns.is_empty() {
        message.push_str(" This index does not have configured filterable attributes.");
    } else {
        let list: Vec<String> = patterns.iter().map(|p| format!("`{p}`")).collect();
        message.push_str(&format!(
            " Available filterable attribute patterns are: {}.",
            list.join(", ")
        ));
    }
    let quoted = match ctx {
        FilterContext::Search | FilterContext::FacetSearch => {
            let mut serialized = Serialized::default();
            serialized.filter(filter);
            serialized
                .spans
                .iter()
                .find(|(token, _)| *token == bad.value)
                .map(|(_, span)| (*span, serialized.text.clone()))
        }
        FilterContext::Documents | FilterContext::DeleteDocuments | FilterContext::Similar => {
            source_span(&bad, source)
        }
    };
    if let Some(((start, end), text)) = quoted {
        message.push_str(&format!("\n{}:{} {}", start + 1, end + 1, text));
    }
    if matches!(ctx, FilterContext::Search | FilterContext::FacetSearch) {
        message = format!("Index `{}`: {message}", index.uid);
    }
    Err(invalid(ctx.error_code(), message))
}

/// The string of the client's filter that holds `token` at its span.
fn source_span(token: &Token, source: &Value) -> Option<((usize, usize), String)> {
    fn strings<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
        match value {
            Value::String(s) => out.push(s),
            Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    strings(source, &mut all);
    let (start, end) = (token.span.start, token.span.end);
    all.into_iter()
        .find(|s| s.get(start..end).is_some_and(|raw| raw == token.value))
        .map(|s| ((start, end), s.to_owned()))
}

/// Meilisearch's re-serialisation of a filter (every token quoted, every operand of
/// `AND`/`OR` parenthesised), remembering where each field landed.
#[derive(Default)]
struct Serialized {
    text: String,
    spans: Vec<(String, (usize, usize))>,
}

impl Serialized {
    fn token(&mut self, token: &Token) {
        self.text.push('"');
        let start = self.text.len();
        self.text
            .push_str(&token.value.replace('\\', "\\\\").replace('"', "\\\""));
        let end = self.text.len();
        self.text.push('"');
        self.spans.push((token.value.clone(), (start, end)));
    }

    fn value(&mut self, token: &Token) {
        self.text.push('"');
        self.text
            .push_str(&token.value.replace('\\', "\\\\").replace('"', "\\\""));
        self.text.push('"');
    }

    fn joined(&mut self, children: &[Filter], separator: &str) {
        for (i, child) in children.iter().enumerate() {
            if i > 0 {
                self.text.push_str(separator);
            }
            self.text.push('(');
            self.filter(child);
            self.text.push(')');
        }
    }

    fn filter(&mut self, filter: &Filter) {
        match filter {
            Filter::And(children) => self.joined(children, " AND "),
            Filter::Or(children) => self.joined(children, " OR "),
            Filter::Not(child) => {
                self.text.push_str("NOT (");
                self.filter(child);
                self.text.push(')');
            }
            Filter::Compare { field, op, value } => {
                self.token(field);
                self.text.push_str(&format!(" {op} "));
                self.value(value);
            }
            Filter::Range { field, from, to } => {
                self.token(field);
                self.text.push(' ');
                self.value(from);
                self.text.push_str(" TO ");
                self.value(to);
            }
            Filter::In { field, values } => {
                self.token(field);
                self.text.push_str(" IN [");
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        self.text.push_str(", ");
                    }
                    self.value(v);
                }
                self.text.push(']');
            }
            Filter::Exists { field } => self.suffixed(field, " EXISTS"),
            Filter::IsNull { field } => self.suffixed(field, " IS NULL"),
            Filter::IsEmpty { field } => self.suffixed(field, " IS EMPTY"),
            Filter::Contains { field, value } => {
                self.token(field);
                self.text.push_str(" CONTAINS ");
                self.value(value);
            }
            Filter::StartsWith { field, value } => {
                self.token(field);
                self.text.push_str(" STARTS WITH ");
                self.value(value);
            }
            Filter::VectorExists { .. }
            | Filter::GeoRadius { .. }
            | Filter::GeoBoundingBox { .. }
            | Filter::GeoPolygon { .. }
            | Filter::Foreign { .. } => {
                self.text.push_str("_geo");
            }
        }
    }

    fn suffixed(&mut self, field: &Token, suffix: &str) {
        self.token(field);
        self.text.push_str(suffix);
    }
}

/// Facet normalisation of a string: trimmed and lowercased. (Meilisearch also applies
/// Unicode compatibility decomposition; the fake does not.)
pub(crate) fn normalize(text: &str) -> String {
    text.trim().to_lowercase()
}

/// A filter value as a finite number, if it is one.
fn as_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// The string a leaf is indexed under, for string comparisons.
fn leaf_string(leaf: &Value) -> Option<String> {
    match leaf {
        Value::String(s) => Some(normalize(s)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn leaf_equals(leaf: &Value, value: &str) -> bool {
    match leaf {
        Value::Number(n) => as_number(value).is_some_and(|v| n.as_f64() == Some(v)),
        other => leaf_string(other).is_some_and(|s| s == normalize(value)),
    }
}

fn leaf_compares(leaf: &Value, op: CompareOp, value: &str) -> bool {
    use std::cmp::Ordering;
    let ordering = match leaf {
        Value::Number(n) => match (n.as_f64(), as_number(value)) {
            (Some(left), Some(right)) => left.partial_cmp(&right),
            _ => None,
        },
        other => leaf_string(other).map(|s| s.as_str().cmp(normalize(value).as_str())),
    };
    match (ordering, op) {
        (None, _) => false,
        (Some(o), CompareOp::GreaterThan) => o == Ordering::Greater,
        (Some(o), CompareOp::GreaterThanOrEqual) => o != Ordering::Less,
        (Some(o), CompareOp::LowerThan) => o == Ordering::Less,
        (Some(o), CompareOp::LowerThanOrEqual) => o != Ordering::Greater,
        (Some(o), CompareOp::Equal) => o == Ordering::Equal,
        (Some(o), CompareOp::NotEqual) => o != Ordering::Equal,
    }
}

fn leaf_between(leaf: &Value, from: &str, to: &str) -> bool {
    match leaf {
        Value::Number(n) => match (n.as_f64(), as_number(from), as_number(to)) {
            (Some(v), Some(low), Some(high)) => low <= v && v <= high,
            _ => false,
        },
        other => leaf_string(other).is_some_and(|s| normalize(from) <= s && s <= normalize(to)),
    }
}

fn any_leaf(doc: &Document, field: &Token, test: impl Fn(&Value) -> bool) -> bool {
    leaves_at(doc, &field.value).into_iter().any(test)
}

/// Whether `doc` satisfies the filter.
pub fn matches(doc: &Document, filter: &CompiledFilter) -> bool {
    eval(doc, &filter.filter)
}

pub(crate) fn eval(doc: &Document, filter: &Filter) -> bool {
    match filter {
        Filter::And(children) => children.iter().all(|c| eval(doc, c)),
        Filter::Or(children) => children.iter().any(|c| eval(doc, c)),
        Filter::Not(child) => !eval(doc, child),
        Filter::Compare {
            field,
            op: CompareOp::Equal,
            value,
        } => any_leaf(doc, field, |l| leaf_equals(l, &value.value)),
        Filter::Compare {
            field,
            op: CompareOp::NotEqual,
            value,
        } => !any_leaf(doc, field, |l| leaf_equals(l, &value.value)),
        Filter::Compare { field, op, value } => {
            any_leaf(doc, field, |l| leaf_compares(l, *op, &value.value))
        }
        Filter::Range { field, from, to } => {
            any_leaf(doc, field, |l| leaf_between(l, &from.value, &to.value))
        }
        Filter::In { field, values } => any_leaf(doc, field, |l| {
            values.iter().any(|v| leaf_equals(l, &v.value))
        }),
        Filter::Exists { field } => !values_at(doc, &field.value).is_empty(),
        Filter::IsNull { field } => values_at(doc, &field.value).iter().any(|v| v.is_null()),
        Filter::IsEmpty { field } => values_at(doc, &field.value).iter().any(|v| match v {
            Value::String(s) => s.is_empty(),
            Value::Array(items) => items.is_empty(),
            Value::Object(object) => object.is_empty(),
            _ => false,
        }),
        Filter::Contains { field, value } => {
            let needle = normalize(&value.value);
            any_leaf(doc, field, |l| {
                leaf_string(l).is_some_and(|s| s.contains(&needle))
            })
        }
        Filter::StartsWith { field, value } => {
            let prefix = normalize(&value.value);
            any_leaf(doc, field, |l| {
                leaf_string(l).is_some_and(|s| s.starts_with(&prefix))
            })
        }
        Filter::VectorExists { embedder, selector } => {
            vector_exists(doc, embedder.as_ref(), selector)
        }
        // Rejected by `compile`: foreign keys are an experimental feature that is off.
        Filter::Foreign { .. } => false,
        Filter::GeoRadius {
            lat, lng, radius, ..
        } => {
            match (
                as_number(&lat.value),
                as_number(&lng.value),
                as_number(&radius.value),
                document_point(doc),
            ) {
                (Some(lat), Some(lng), Some(radius), Some(point)) => {
                    distance_meters([lat, lng], point) <= radius
                }
                _ => false,
            }
        }
        Filter::GeoBoundingBox {
            top_right,
            bottom_left,
        } => {
            let corner = |p: &[Token; 2]| Some([as_number(&p[0].value)?, as_number(&p[1].value)?]);
            match (corner(top_right), corner(bottom_left), document_point(doc)) {
                (Some([top, right]), Some([bottom, left]), Some([lat, lng])) => {
                    let lat_ok = bottom <= lat && lat <= top;
                    let lng_ok = if left <= right {
                        left <= lng && lng <= right
                    } else {
                        lng >= left || lng <= right
                    };
                    lat_ok && lng_ok
                }
                _ => false,
            }
        }
        Filter::GeoPolygon { points } => {
            let polygon: Option<Vec<[f64; 2]>> = points
                .iter()
                .map(|p| Some([as_number(&p[0].value)?, as_number(&p[1].value)?]))
                .collect();
            match (polygon, document_point(doc)) {
                (Some(polygon), Some(point)) => point_in_polygon(point, &polygon),
                _ => false,
            }
        }
    }
}

/// `_vectors EXISTS`: the document carries vectors (for the named embedder). The fake
/// never generates embeddings, so only user-provided vectors can exist and the
/// selectors other than `userProvided` match nothing.
fn vector_exists(doc: &Document, embedder: Option<&Token>, selector: &VectorSelector) -> bool {
    let Some(Value::Object(vectors)) = doc.get("_vectors") else {
        return false;
    };
    let present = |v: &Value| !v.is_null();
    let any = match embedder {
        Some(name) => vectors.get(&name.value).is_some_and(present),
        None => vectors.values().any(present),
    };
    any && matches!(selector, VectorSelector::Any | VectorSelector::UserProvided)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(value: Value) -> Document {
        value
            .as_object()
            .cloned()
            .expect("test documents are objects")
    }

    fn t(text: &str) -> Token {
        Token::bare(text)
    }

    fn cmp(field: &str, op: CompareOp, value: &str) -> Filter {
        Filter::Compare {
            field: t(field),
            op,
            value: t(value),
        }
    }

    fn check(d: &Value, f: &Filter) -> bool {
        eval(&doc(d.clone()), f)
    }

    #[test]
    fn equality_is_numeric_for_numbers_and_normalised_for_strings() {
        assert!(check(
            &json!({"price": 10}),
            &cmp("price", CompareOp::Equal, "10.0")
        ));
        assert!(check(
            &json!({"genre": "Action"}),
            &cmp("genre", CompareOp::Equal, "ACTION ")
        ));
        assert!(check(
            &json!({"code": "10"}),
            &cmp("code", CompareOp::Equal, "10")
        ));
        assert!(!check(
            &json!({"price": 10}),
            &cmp("price", CompareOp::Equal, "ten")
        ));
    }

    #[test]
    fn booleans_compare_as_their_string() {
        assert!(check(
            &json!({"ok": true}),
            &cmp("ok", CompareOp::Equal, "TRUE")
        ));
        assert!(!check(
            &json!({"ok": false}),
            &cmp("ok", CompareOp::Equal, "true")
        ));
    }

    #[test]
    fn arrays_match_when_any_element_matches() {
        assert!(check(
            &json!({"genre": ["Drama", "Action"]}),
            &cmp("genre", CompareOp::Equal, "action")
        ));
        assert!(check(
            &json!({"cast": [{"n": "a"}, {"n": "b"}]}),
            &cmp("cast.n", CompareOp::Equal, "b")
        ));
    }

    #[test]
    fn not_equal_matches_documents_without_the_field() {
        assert!(check(
            &json!({"id": 1}),
            &cmp("genre", CompareOp::NotEqual, "action")
        ));
        assert!(!check(
            &json!({"genre": ["x", "action"]}),
            &cmp("genre", CompareOp::NotEqual, "action")
        ));
    }

    #[test]
    fn comparisons_are_numeric_on_numbers_and_lexicographic_on_strings() {
        assert!(check(
            &json!({"price": 9}),
            &cmp("price", CompareOp::LowerThan, "10")
        ));
        assert!(!check(
            &json!({"price": "9"}),
            &cmp("price", CompareOp::LowerThan, "10")
        ));
        assert!(check(
            &json!({"name": "Bob"}),
            &cmp("name", CompareOp::GreaterThanOrEqual, "alice")
        ));
    }

    #[test]
    fn range_includes_both_bounds() {
        let f = Filter::Range {
            field: t("year"),
            from: t("2000"),
            to: t("2010"),
        };
        assert!(check(&json!({"year": 2000}), &f));
        assert!(check(&json!({"year": 2010}), &f));
        assert!(!check(&json!({"year": 2011}), &f));
    }

    #[test]
    fn in_matches_any_listed_value() {
        let f = Filter::In {
            field: t("id"),
            values: vec![t("1"), t("3")],
        };
        assert!(check(&json!({"id": 3}), &f));
        assert!(!check(&json!({"id": 2}), &f));
    }

    #[test]
    fn exists_null_and_empty_follow_meilisearch() {
        let d = json!({"a": null, "b": [], "c": "", "d": {}, "e": 0});
        assert!(check(&d, &Filter::Exists { field: t("a") }));
        assert!(!check(&d, &Filter::Exists { field: t("z") }));
        assert!(check(&d, &Filter::IsNull { field: t("a") }));
        assert!(!check(&d, &Filter::IsNull { field: t("e") }));
        for field in ["b", "c", "d"] {
            assert!(
                check(&d, &Filter::IsEmpty { field: t(field) }),
                "{field} is empty"
            );
        }
        assert!(!check(&d, &Filter::IsEmpty { field: t("e") }));
    }

    #[test]
    fn contains_and_starts_with_use_normalised_strings() {
        assert!(check(
            &json!({"t": "The Dark Knight"}),
            &Filter::Contains {
                field: t("t"),
                value: t("DARK")
            }
        ));
        assert!(check(
            &json!({"t": "The Dark Knight"}),
            &Filter::StartsWith {
                field: t("t"),
                value: t("the d")
            }
        ));
        assert!(!check(
            &json!({"t": "The Dark Knight"}),
            &Filter::StartsWith {
                field: t("t"),
                value: t("dark")
            }
        ));
    }

    #[test]
    fn and_or_not_combine() {
        let f = Filter::And(vec![
            cmp("a", CompareOp::Equal, "1"),
            Filter::Or(vec![
                cmp("b", CompareOp::Equal, "x"),
                Filter::Not(Box::new(Filter::Exists { field: t("c") })),
            ]),
        ]);
        assert!(check(&json!({"a": 1, "b": "y"}), &f));
        assert!(!check(&json!({"a": 1, "b": "y", "c": 0}), &f));
        assert!(check(&json!({"a": 1, "b": "x", "c": 0}), &f));
    }

    #[test]
    fn geo_radius_keeps_points_within_the_distance() {
        let paris = json!({"_geo": {"lat": 48.8566, "lng": 2.3522}});
        let near = Filter::GeoRadius {
            lat: t("48.85"),
            lng: t("2.35"),
            radius: t("2000"),
            resolution: None,
        };
        let far = Filter::GeoRadius {
            lat: t("45.76"),
            lng: t("4.83"),
            radius: t("2000"),
            resolution: None,
        };
        assert!(check(&paris, &near));
        assert!(!check(&paris, &far));
    }

    #[test]
    fn geo_bounding_box_keeps_points_inside() {
        let f = Filter::GeoBoundingBox {
            top_right: [t("49"), t("3")],
            bottom_left: [t("48"), t("2")],
        };
        assert!(check(&json!({"_geo": {"lat": "48.5", "lng": 2.5}}), &f));
        assert!(!check(&json!({"_geo": {"lat": 47.0, "lng": 2.5}}), &f));
    }

    fn ctx(settings: &serde_json::Map<String, Value>) -> IndexContext<'_> {
        IndexContext {
            uid: "movies",
            primary_key: Some("id"),
            settings,
        }
    }

    #[test]
    fn unfilterable_field_in_documents_context_quotes_the_client_filter() {
        let mut settings = crate::default_settings();
        settings.insert("filterableAttributes".into(), json!(["price", "genre"]));
        let field = Token {
            value: "title".into(),
            quoted: false,
            span: miroir_filters::filter::Span { start: 0, end: 5 },
        };
        let f = Filter::Compare {
            field,
            op: CompareOp::Equal,
            value: t("1"),
        };
        let err = check_filterable(
            &f,
            &json!("title = 1"),
            &ctx(&settings),
            FilterContext::Documents,
        )
        .unwrap_err();
        assert_eq!(err.code, "invalid_document_filter");
        assert_eq!(
            err.message,
            "Attribute `title` is not filterable. Available filterable attribute patterns are: `genre`, `price`.\n1:6 title = 1"
        );
    }

    #[test]
    fn unfilterable_field_in_search_context_quotes_the_reserialised_filter() {
        let mut settings = crate::default_settings();
        settings.insert("filterableAttributes".into(), json!(["genre"]));
        let f = Filter::And(vec![
            cmp("genre", CompareOp::Equal, "a"),
            cmp("title", CompareOp::Equal, "x"),
        ]);
        let err = check_filterable(
            &f,
            &json!("genre = a AND title = x"),
            &ctx(&settings),
            FilterContext::Search,
        )
        .unwrap_err();
        assert_eq!(err.code, "invalid_search_filter");
        assert_eq!(
            err.message,
            "Index `movies`: Attribute `title` is not filterable. Available filterable attribute patterns are: `genre`.\n\
             23:28 (\"genre\" = \"a\") AND (\"title\" = \"x\")"
        );
    }

    #[test]
    fn index_without_filterable_attributes_says_so() {
        let settings = crate::default_settings();
        let err = check_filterable(
            &cmp("a", CompareOp::Equal, "1"),
            &json!("a = 1"),
            &ctx(&settings),
            FilterContext::Search,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Index `movies`: Attribute `a` is not filterable. This index does not have configured filterable attributes.\n2:3 \"a\" = \"1\""
        );
    }

    #[test]
    fn nested_fields_are_filterable_under_a_filterable_parent() {
        let mut settings = crate::default_settings();
        settings.insert(
            "filterableAttributes".into(),
            json!(["info", {"attributePatterns": ["tag*"]}]),
        );
        assert!(filter_features(&ctx(&settings), "info.director").is_some());
        assert_eq!(
            filter_features(&ctx(&settings), "tags"),
            Some(FilterFeatures {
                facet_search: false,
                equality: true,
                comparison: false
            })
        );
        assert!(filter_features(&ctx(&settings), "information").is_none());
    }
}
