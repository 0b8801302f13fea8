//! Index settings: the default object of a fresh index and PATCH validation.
//!
//! Settings are kept as the JSON object `GET /indexes/{uid}/settings` returns, with
//! every key present and in Meilisearch's order. A PATCH body is validated key by key
//! in the order the client wrote them (so the first bad key is the one reported, as in
//! Meilisearch), then merged: `null` resets a key (or a nested key) to its default,
//! nested objects (`typoTolerance`, `faceting`, `pagination`) merge field by field, sets
//! (`sortableAttributes`, `stopWords`, ...) come back sorted and deduplicated.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::wire::{
    as_bool, as_str, as_strings, as_usize, bad_value, body_object, invalid, missing_field,
    only_keys, unknown_value, wrong_type,
};
use crate::MeiliError;

/// Every setting, in the order of Meilisearch's settings object: the keys a PATCH body
/// may contain (the unknown-field message lists the experimental `foreignKeys` and
/// `chat` too) and the order of settings task details.
pub const SETTINGS_KEYS: &[&str] = &[
    "displayedAttributes",
    "searchableAttributes",
    "filterableAttributes",
    "sortableAttributes",
    "foreignKeys",
    "rankingRules",
    "stopWords",
    "nonSeparatorTokens",
    "separatorTokens",
    "dictionary",
    "synonyms",
    "distinctAttribute",
    "proximityPrecision",
    "typoTolerance",
    "faceting",
    "pagination",
    "embedders",
    "searchCutoffMs",
    "localizedAttributes",
    "facetSearch",
    "prefixSearch",
    "chat",
];

/// The embedder sources Meilisearch knows, in its order.
const EMBEDDER_SOURCES: &[&str] = &[
    "openAi",
    "huggingFace",
    "ollama",
    "userProvided",
    "rest",
    "composite",
];

/// Fields of one embedder object, in Meilisearch's order.
const EMBEDDER_KEYS: &[&str] = &[
    "source",
    "model",
    "revision",
    "pooling",
    "apiKey",
    "dimensions",
    "binaryQuantized",
    "documentTemplate",
    "documentTemplateMaxBytes",
    "url",
    "indexingFragments",
    "searchFragments",
    "request",
    "response",
    "headers",
    "searchEmbedder",
    "indexingEmbedder",
    "distribution",
];

/// The default ranking rules of a Meilisearch 1.50 index.
pub const DEFAULT_RANKING_RULES: &[&str] = &[
    "words",
    "typo",
    "proximity",
    "attributeRank",
    "sort",
    "wordPosition",
    "exactness",
];

/// The settings of a fresh index: every key of `GET /indexes/{uid}/settings` with its
/// default value, in Meilisearch's key order.
pub fn default_settings() -> Map<String, Value> {
    let value = json!({
        "displayedAttributes": ["*"],
        "searchableAttributes": ["*"],
        "filterableAttributes": [],
        "sortableAttributes": [],
        "rankingRules": DEFAULT_RANKING_RULES,
        "stopWords": [],
        "nonSeparatorTokens": [],
        "separatorTokens": [],
        "dictionary": [],
        "synonyms": {},
        "distinctAttribute": null,
        "proximityPrecision": "byWord",
        "typoTolerance": default_typo_tolerance(),
        "faceting": default_faceting(),
        "pagination": {"maxTotalHits": 1000},
        "embedders": {},
        "searchCutoffMs": null,
        "localizedAttributes": null,
        "facetSearch": true,
        "prefixSearch": "indexingTime",
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("a json! object literal is an object"),
    }
}

fn default_typo_tolerance() -> Value {
    json!({
        "enabled": true,
        "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
        "disableOnWords": [],
        "disableOnAttributes": [],
        "disableOnNumbers": false,
    })
}

fn default_faceting() -> Value {
    json!({"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}})
}

/// Validate a `PATCH /indexes/{uid}/settings` body and apply it to `current`.
///
/// Returns the new full settings object. Errors are Meilisearch's: `bad_request` for a
/// body that is not an object or has an unknown key, `invalid_settings_<key>` for a bad
/// value, `feature_not_enabled` for the experimental `foreignKeys` and `chat`.
/// Embedders are checked for their shape (`source`, known keys, `dimensions` for
/// `userProvided`) and stored as given; they never embed anything.
pub fn apply_settings_patch(
    current: &Map<String, Value>,
    patch: &Value,
) -> Result<Map<String, Value>, MeiliError> {
    let patch = body_object(patch)?;
    only_keys(patch, "bad_request", "", SETTINGS_KEYS)?;
    let defaults = default_settings();
    let mut next = current.clone();
    for (key, value) in patch {
        let location = format!(".{key}");
        let new_value = if value.is_null() && !matches!(key.as_str(), "foreignKeys" | "chat") {
            defaults.get(key).cloned().unwrap_or(Value::Null)
        } else {
            match key.as_str() {
                "displayedAttributes" => Value::from(as_strings(
                    "invalid_settings_displayed_attributes",
                    &location,
                    value,
                )?),
                "searchableAttributes" => Value::from(as_strings(
                    "invalid_settings_searchable_attributes",
                    &location,
                    value,
                )?),
                "filterableAttributes" => filterable_attributes(&location, value)?,
                "sortableAttributes" => {
                    string_set("invalid_settings_sortable_attributes", &location, value)?
                }
                "rankingRules" => ranking_rules(&location, value)?,
                "stopWords" => string_set("invalid_settings_stop_words", &location, value)?,
                "nonSeparatorTokens" => {
                    string_set("invalid_settings_non_separator_tokens", &location, value)?
                }
                "separatorTokens" => {
                    string_set("invalid_settings_separator_tokens", &location, value)?
                }
                "dictionary" => string_set("invalid_settings_dictionary", &location, value)?,
                "synonyms" => synonyms(&location, value)?,
                "distinctAttribute" => Value::from(as_str(
                    "invalid_settings_distinct_attribute",
                    &location,
                    value,
                )?),
                "proximityPrecision" => one_of(
                    "invalid_settings_proximity_precision",
                    &location,
                    value,
                    &["byWord", "byAttribute"],
                )?,
                "typoTolerance" => {
                    typo_tolerance(&location, current_or_default(current, key), value)?
                }
                "faceting" => faceting(&location, current_or_default(current, key), value)?,
                "pagination" => pagination(&location, current_or_default(current, key), value)?,
                "embedders" => embedders(&location, current_or_default(current, key), value)?,
                "searchCutoffMs" => Value::from(as_u64(
                    "invalid_settings_search_cutoff_ms",
                    &location,
                    value,
                )?),
                "localizedAttributes" => localized_attributes(&location, value)?,
                "facetSearch" => {
                    Value::from(as_bool("invalid_settings_facet_search", &location, value)?)
                }
                "prefixSearch" => one_of(
                    "invalid_settings_prefix_search",
                    &location,
                    value,
                    &["indexingTime", "disabled"],
                )?,
                "foreignKeys" => {
                    return Err(feature_not_enabled("foreignKeys", "foreign_keys", 873))
                }
                "chat" => return Err(feature_not_enabled("chat", "chat completions", 835)),
                other => unreachable!("`{other}` passed the key check but has no validator"),
            }
        };
        next.insert(key.clone(), new_value);
    }
    Ok(next)
}

fn current_or_default(current: &Map<String, Value>, key: &str) -> Value {
    current
        .get(key)
        .cloned()
        .unwrap_or_else(|| default_settings().get(key).cloned().unwrap_or(Value::Null))
}

fn feature_not_enabled(setting: &str, feature: &str, discussion: u32) -> MeiliError {
    invalid(
        "feature_not_enabled",
        format!(
            "setting `{setting}` in the index settings requires enabling the `{feature}` experimental feature. \
             See https://github.com/orgs/meilisearch/discussions/{discussion}"
        ),
    )
}

fn as_u64(code: &str, location: &str, value: &Value) -> Result<u64, MeiliError> {
    value
        .as_u64()
        .ok_or_else(|| wrong_type(code, location, "a positive integer", value))
}

fn one_of(
    code: &str,
    location: &str,
    value: &Value,
    accepted: &[&str],
) -> Result<Value, MeiliError> {
    let text = as_str(code, location, value)?;
    if accepted.contains(&text) {
        Ok(Value::from(text))
    } else {
        Err(unknown_value(code, location, text, accepted))
    }
}

/// A set of strings: sorted and deduplicated, as Meilisearch stores it.
fn string_set(code: &str, location: &str, value: &Value) -> Result<Value, MeiliError> {
    let set: BTreeSet<String> = as_strings(code, location, value)?.into_iter().collect();
    Ok(Value::from(set.into_iter().collect::<Vec<_>>()))
}

fn synonyms(location: &str, value: &Value) -> Result<Value, MeiliError> {
    const CODE: &str = "invalid_settings_synonyms";
    let object = value
        .as_object()
        .ok_or_else(|| wrong_type(CODE, location, "an object", value))?;
    let mut sorted: Vec<(&String, Vec<String>)> = Vec::new();
    for (word, alternatives) in object {
        sorted.push((
            word,
            as_strings(CODE, &format!("{location}.{word}"), alternatives)?,
        ));
    }
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    Ok(Value::Object(
        sorted
            .into_iter()
            .map(|(word, alts)| (word.clone(), Value::from(alts)))
            .collect(),
    ))
}

fn filterable_attributes(location: &str, value: &Value) -> Result<Value, MeiliError> {
    const CODE: &str = "invalid_settings_filterable_attributes";
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(CODE, location, "an array", value))?;
    let mut rules = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let item_location = format!("{location}[{i}]");
        match item {
            Value::String(_) => rules.push(item.clone()),
            Value::Object(rule) => {
                only_keys(
                    rule,
                    CODE,
                    &item_location,
                    &["attributePatterns", "features"],
                )?;
                let patterns = match rule.get("attributePatterns") {
                    Some(patterns) => as_strings(
                        CODE,
                        &format!("{item_location}.attributePatterns"),
                        patterns,
                    )?,
                    None => return Err(missing_field(CODE, &item_location, "attributePatterns")),
                };
                let features = filterable_features(
                    &format!("{item_location}.features"),
                    rule.get("features"),
                )?;
                rules.push(json!({"attributePatterns": patterns, "features": features}));
            }
            other => return Err(wrong_type(CODE, &item_location, "a string", other)),
        }
    }
    Ok(Value::from(rules))
}

fn filterable_features(location: &str, value: Option<&Value>) -> Result<Value, MeiliError> {
    const CODE: &str = "invalid_settings_filterable_attributes";
    let mut facet_search = false;
    let (mut equality, mut comparison) = (true, false);
    if let Some(value) = value.filter(|v| !v.is_null()) {
        let object = value
            .as_object()
            .ok_or_else(|| wrong_type(CODE, location, "an object", value))?;
        only_keys(object, CODE, location, &["facetSearch", "filter"])?;
        if let Some(v) = object.get("facetSearch") {
            facet_search = as_bool(CODE, &format!("{location}.facetSearch"), v)?;
        }
        if let Some(filter) = object.get("filter").filter(|v| !v.is_null()) {
            let filter_location = format!("{location}.filter");
            let filter = filter
                .as_object()
                .ok_or_else(|| wrong_type(CODE, &filter_location, "an object", filter))?;
            only_keys(filter, CODE, &filter_location, &["equality", "comparison"])?;
            if let Some(v) = filter.get("equality") {
                equality = as_bool(CODE, &format!("{filter_location}.equality"), v)?;
            }
            if let Some(v) = filter.get("comparison") {
                comparison = as_bool(CODE, &format!("{filter_location}.comparison"), v)?;
            }
        }
    }
    Ok(
        json!({"facetSearch": facet_search, "filter": {"equality": equality, "comparison": comparison}}),
    )
}

fn ranking_rules(location: &str, value: &Value) -> Result<Value, MeiliError> {
    const CODE: &str = "invalid_settings_ranking_rules";
    let rules = as_strings(CODE, location, value)?;
    for (i, rule) in rules.iter().enumerate() {
        if let Err(detail) = check_ranking_rule(rule) {
            return Err(bad_value(CODE, &format!("{location}[{i}]"), &detail));
        }
    }
    Ok(Value::from(rules))
}

/// Names Meilisearch reserves for its geo features.
pub(crate) fn is_reserved_keyword(name: &str) -> bool {
    matches!(
        name,
        "_geo"
            | "_geojson"
            | "_geoDistance"
            | "_geoPoint"
            | "_geoRadius"
            | "_geoBoundingBox"
            | "_geoPolygon"
    )
}

/// Check one ranking rule; the error is Meilisearch's explanation.
fn check_ranking_rule(rule: &str) -> Result<(), String> {
    const BUILT_IN: &[&str] = &[
        "words",
        "typo",
        "proximity",
        "attribute",
        "attributeRank",
        "wordPosition",
        "sort",
        "exactness",
    ];
    if BUILT_IN.contains(&rule) {
        return Ok(());
    }
    let field = match rule.rsplit_once(':') {
        Some((field, "asc" | "desc")) => field,
        _ => {
            return Err(format!(
                "`{rule}` ranking rule is invalid. Valid ranking rules are words, typo, sort, proximity, \
                 attribute, exactness and custom ranking rules."
            ))
        }
    };
    let reserved = |name: &str| {
        format!("`{name}` is a reserved keyword and thus can't be used as a ranking rule")
    };
    if field.starts_with("_geoPoint(") && field.ends_with(')') {
        return Err(format!(
            "{}. `_geoPoint` can only be used for sorting at search time",
            reserved("_geoPoint")
        ));
    }
    for (prefix, name) in [
        ("_geoRadius", "_geoRadius"),
        ("_geoBoundingBox", "_geoBoundingBox"),
    ] {
        if field.starts_with(&format!("{prefix}(")) || field == prefix {
            return Err(format!(
                "{}. `{name}` can only be used for filtering at search time",
                reserved(name)
            ));
        }
    }
    if field == "_geoPoint" {
        return Err(format!(
            "{}. `_geoPoint` can only be used for sorting at search time",
            reserved("_geoPoint")
        ));
    }
    if is_reserved_keyword(field)
        || field.starts_with("_geo(")
        || field.starts_with("_geoDistance(")
    {
        return Err(reserved(field));
    }
    Ok(())
}

fn merge_into(
    current: Value,
    code: &str,
    location: &str,
    patch: &Value,
    keys: &[&str],
) -> Result<Map<String, Value>, MeiliError> {
    let object = patch
        .as_object()
        .ok_or_else(|| wrong_type(code, location, "an object", patch))?;
    only_keys(object, code, location, keys)?;
    Ok(match current {
        Value::Object(map) => map,
        _ => Map::new(),
    })
}

fn typo_tolerance(location: &str, current: Value, patch: &Value) -> Result<Value, MeiliError> {
    const CODE: &str = "invalid_settings_typo_tolerance";
    const KEYS: &[&str] = &[
        "enabled",
        "minWordSizeForTypos",
        "disableOnWords",
        "disableOnAttributes",
        "disableOnNumbers",
    ];
    let mut next = merge_into(current, CODE, location, patch, KEYS)?;
    let defaults = default_typo_tolerance();
    for (key, value) in patch.as_object().into_iter().flatten() {
        let sub = format!("{location}.{key}");
        let new_value = if value.is_null() {
            defaults[key.as_str()].clone()
        } else {
            match key.as_str() {
                "enabled" | "disableOnNumbers" => Value::from(as_bool(CODE, &sub, value)?),
                "disableOnWords" | "disableOnAttributes" => string_set(CODE, &sub, value)?,
                "minWordSizeForTypos" => {
                    let mut sizes = next
                        .get(key)
                        .cloned()
                        .unwrap_or_else(|| defaults[key.as_str()].clone());
                    let object = value
                        .as_object()
                        .ok_or_else(|| wrong_type(CODE, &sub, "an object", value))?;
                    only_keys(object, CODE, &sub, &["oneTypo", "twoTypos"])?;
                    let mut given = (None, None);
                    for (size_key, size) in object {
                        let size_location = format!("{sub}.{size_key}");
                        let n = if size.is_null() {
                            defaults[key.as_str()][size_key.as_str()]
                                .as_u64()
                                .unwrap_or(0)
                        } else {
                            let n = as_u64(CODE, &size_location, size)?;
                            if n > 255 {
                                return Err(bad_value(
                                    CODE,
                                    &size_location,
                                    &format!("value: `{n}` is too large to be deserialized, maximum value authorized is `255`"),
                                ));
                            }
                            if size_key == "oneTypo" {
                                given.0 = Some(n);
                            } else {
                                given.1 = Some(n);
                            }
                            n
                        };
                        sizes[size_key.as_str()] = Value::from(n);
                    }
                    if let (Some(one), Some(two)) = given {
                        if one > two {
                            return Err(bad_value(
                                CODE,
                                &sub,
                                &format!(
                                    "`minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should be \
                                     between `0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` but \
                                     found `oneTypo: {one}` and twoTypos: {two}`."
                                ),
                            ));
                        }
                    }
                    sizes
                }
                _ => unreachable!("keys were checked against KEYS"),
            }
        };
        next.insert(key.clone(), new_value);
    }
    Ok(Value::Object(next))
}

fn faceting(location: &str, current: Value, patch: &Value) -> Result<Value, MeiliError> {
    const CODE: &str = "invalid_settings_faceting";
    let mut next = merge_into(
        current,
        CODE,
        location,
        patch,
        &["maxValuesPerFacet", "sortFacetValuesBy"],
    )?;
    let defaults = default_faceting();
    for (key, value) in patch.as_object().into_iter().flatten() {
        let sub = format!("{location}.{key}");
        let new_value = if value.is_null() {
            defaults[key.as_str()].clone()
        } else if key == "maxValuesPerFacet" {
            Value::from(as_usize(CODE, &sub, value)?)
        } else {
            let object = value
                .as_object()
                .ok_or_else(|| wrong_type(CODE, &sub, "an object", value))?;
            // Meilisearch always keeps the `*` entry and lists the rest by name.
            let mut by: std::collections::BTreeMap<String, Value> =
                std::collections::BTreeMap::new();
            by.insert("*".to_owned(), Value::from("alpha"));
            for (facet, order) in object {
                by.insert(
                    facet.clone(),
                    one_of(CODE, &format!("{sub}.{facet}"), order, &["alpha", "count"])?,
                );
            }
            Value::Object(by.into_iter().collect())
        };
        next.insert(key.clone(), new_value);
    }
    Ok(Value::Object(next))
}

fn pagination(location: &str, current: Value, patch: &Value) -> Result<Value, MeiliError> {
    const CODE: &str = "invalid_settings_pagination";
    let mut next = merge_into(current, CODE, location, patch, &["maxTotalHits"])?;
    if let Some(value) = patch.get("maxTotalHits") {
        let sub = format!("{location}.maxTotalHits");
        let n = if value.is_null() {
            1000
        } else {
            let n = as_u64(CODE, &sub, value)?;
            if n == 0 {
                return Err(bad_value(
                    CODE,
                    &sub,
                    "a non-zero integer value lower than `18446744073709551615` was expected, but found a zero",
                ));
            }
            n
        };
        next.insert("maxTotalHits".to_owned(), Value::from(n));
    }
    Ok(Value::Object(next))
}

fn embedders(location: &str, current: Value, patch: &Value) -> Result<Value, MeiliError> {
    const CODE: &str = "invalid_settings_embedders";
    let mut next = match current {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let object = patch
        .as_object()
        .ok_or_else(|| wrong_type(CODE, location, "an object", patch))?;
    for (name, embedder) in object {
        let sub = format!("{location}.{name}");
        if embedder.is_null() {
            next.remove(name);
            continue;
        }
        let fields = embedder
            .as_object()
            .ok_or_else(|| wrong_type(CODE, &sub, "an object", embedder))?;
        only_keys(fields, CODE, &sub, EMBEDDER_KEYS)?;
        let source = match fields.get("source") {
            Some(source) => {
                let source = as_str(CODE, &format!("{sub}.source"), source)?;
                if !EMBEDDER_SOURCES.contains(&source) {
                    return Err(unknown_value(
                        CODE,
                        &format!("{sub}.source"),
                        source,
                        EMBEDDER_SOURCES,
                    ));
                }
                source
            }
            None => "openAi",
        };
        if source == "userProvided" && !fields.contains_key("dimensions") {
            return Err(invalid(
                CODE,
                format!("`{sub}`: Missing field `dimensions` (note: this field is mandatory for source `userProvided`)"),
            ));
        }
        if let Some(dimensions) = fields.get("dimensions") {
            as_usize(CODE, &format!("{sub}.dimensions"), dimensions)?;
        }
        next.insert(name.clone(), embedder.clone());
    }
    Ok(Value::Object(next))
}

fn localized_attributes(location: &str, value: &Value) -> Result<Value, MeiliError> {
    const CODE: &str = "invalid_settings_localized_attributes";
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(CODE, location, "an array", value))?;
    let mut rules = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let sub = format!("{location}[{i}]");
        let rule = item
            .as_object()
            .ok_or_else(|| wrong_type(CODE, &sub, "an object", item))?;
        only_keys(rule, CODE, &sub, &["attributePatterns", "locales"])?;
        let patterns = match rule.get("attributePatterns") {
            Some(v) => as_strings(CODE, &format!("{sub}.attributePatterns"), v)?,
            None => return Err(missing_field(CODE, &sub, "attributePatterns")),
        };
        let locales = match rule.get("locales") {
            Some(v) => crate::locales::parse_locales(CODE, &format!("{sub}.locales"), v)?,
            None => return Err(missing_field(CODE, &sub, "locales")),
        };
        rules.push(json!({"attributePatterns": patterns, "locales": locales}));
    }
    Ok(Value::from(rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(body: Value) -> Result<Map<String, Value>, MeiliError> {
        apply_settings_patch(&default_settings(), &body)
    }

    #[test]
    fn default_settings_match_a_fresh_meilisearch_index() {
        assert_eq!(
            Value::Object(default_settings()),
            json!({
                "displayedAttributes": ["*"],
                "searchableAttributes": ["*"],
                "filterableAttributes": [],
                "sortableAttributes": [],
                "rankingRules": ["words", "typo", "proximity", "attributeRank", "sort", "wordPosition", "exactness"],
                "stopWords": [],
                "nonSeparatorTokens": [],
                "separatorTokens": [],
                "dictionary": [],
                "synonyms": {},
                "distinctAttribute": null,
                "proximityPrecision": "byWord",
                "typoTolerance": {
                    "enabled": true,
                    "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
                    "disableOnWords": [],
                    "disableOnAttributes": [],
                    "disableOnNumbers": false
                },
                "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}},
                "pagination": {"maxTotalHits": 1000},
                "embedders": {},
                "searchCutoffMs": null,
                "localizedAttributes": null,
                "facetSearch": true,
                "prefixSearch": "indexingTime"
            })
        );
    }

    #[test]
    fn default_settings_keep_meilisearch_key_order() {
        let keys: Vec<String> = default_settings().keys().cloned().collect();
        assert_eq!(
            keys[..5],
            [
                "displayedAttributes",
                "searchableAttributes",
                "filterableAttributes",
                "sortableAttributes",
                "rankingRules"
            ]
        );
        assert_eq!(keys.last().map(String::as_str), Some("prefixSearch"));
    }

    #[test]
    fn unknown_settings_key_is_a_bad_request_listing_every_key() {
        let err = patch(json!({"foo": 1})).unwrap_err();
        assert_eq!(err.code, "bad_request");
        assert_eq!(
            err.message,
            "Unknown field `foo`: expected one of `displayedAttributes`, `searchableAttributes`, `filterableAttributes`, \
             `sortableAttributes`, `foreignKeys`, `rankingRules`, `stopWords`, `nonSeparatorTokens`, `separatorTokens`, \
             `dictionary`, `synonyms`, `distinctAttribute`, `proximityPrecision`, `typoTolerance`, `faceting`, \
             `pagination`, `embedders`, `searchCutoffMs`, `localizedAttributes`, `facetSearch`, `prefixSearch`, `chat`"
        );
    }

    #[test]
    fn a_body_that_is_not_an_object_is_a_bad_request() {
        let err = patch(json!([1])).unwrap_err();
        assert_eq!(
            err.to_json()["message"],
            "Invalid value type: expected an object, but found an array: `[1]`"
        );
        assert_eq!(err.code, "bad_request");
    }

    #[test]
    fn invalid_ranking_rule_names_the_rule() {
        let err = patch(json!({"rankingRules": ["wrods"]})).unwrap_err();
        assert_eq!(err.code, "invalid_settings_ranking_rules");
        assert_eq!(
            err.message,
            "Invalid value at `.rankingRules[0]`: `wrods` ranking rule is invalid. Valid ranking rules are words, \
             typo, sort, proximity, attribute, exactness and custom ranking rules."
        );
    }

    #[test]
    fn geo_point_ranking_rule_is_reserved_for_sorting() {
        let err = patch(json!({"rankingRules": ["_geoPoint(1,2):asc"]})).unwrap_err();
        assert_eq!(
            err.message,
            "Invalid value at `.rankingRules[0]`: `_geoPoint` is a reserved keyword and thus can't be used as a \
             ranking rule. `_geoPoint` can only be used for sorting at search time"
        );
        let err = patch(json!({"rankingRules": ["_geo:asc"]})).unwrap_err();
        assert_eq!(
            err.message,
            "Invalid value at `.rankingRules[0]`: `_geo` is a reserved keyword and thus can't be used as a ranking rule"
        );
    }

    #[test]
    fn custom_ranking_rules_are_accepted_in_the_given_order() {
        let next = patch(json!({"rankingRules": ["price:desc", "words", "typo"]})).unwrap();
        assert_eq!(next["rankingRules"], json!(["price:desc", "words", "typo"]));
    }

    #[test]
    fn sets_come_back_sorted_and_deduplicated() {
        let next = patch(json!({"sortableAttributes": ["z", "a", "a"], "stopWords": ["the", "a"]}))
            .unwrap();
        assert_eq!(next["sortableAttributes"], json!(["a", "z"]));
        assert_eq!(next["stopWords"], json!(["a", "the"]));
    }

    #[test]
    fn null_resets_a_key_to_its_default() {
        let changed = patch(json!({"displayedAttributes": ["title"]})).unwrap();
        let reset = apply_settings_patch(&changed, &json!({"displayedAttributes": null})).unwrap();
        assert_eq!(reset["displayedAttributes"], json!(["*"]));
    }

    #[test]
    fn nested_objects_merge_field_by_field() {
        let next = patch(json!({"typoTolerance": {"disableOnWords": ["b", "a"]}, "faceting": {"sortFacetValuesBy": {"genre": "count"}}})).unwrap();
        assert_eq!(
            next["typoTolerance"],
            json!({"enabled": true, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}, "disableOnWords": ["a", "b"], "disableOnAttributes": [], "disableOnNumbers": false})
        );
        assert_eq!(
            next["faceting"],
            json!({"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha", "genre": "count"}})
        );
    }

    #[test]
    fn filterable_attribute_objects_get_default_features() {
        let next = patch(json!({"filterableAttributes": ["x", {"attributePatterns": ["y"], "features": {"facetSearch": true}}]})).unwrap();
        assert_eq!(
            next["filterableAttributes"],
            json!(["x", {"attributePatterns": ["y"], "features": {"facetSearch": true, "filter": {"equality": true, "comparison": false}}}])
        );
    }

    #[test]
    fn unknown_nested_key_names_its_location() {
        let err = patch(json!({"filterableAttributes": [{"attributePatterns": ["a"], "features": {"filter": {"x": 1}}}]})).unwrap_err();
        assert_eq!(
            err.message,
            "Unknown field `x` inside `.filterableAttributes[0].features.filter`: expected one of `equality`, `comparison`"
        );
    }

    #[test]
    fn min_word_sizes_must_be_ordered() {
        let err = patch(
            json!({"typoTolerance": {"minWordSizeForTypos": {"oneTypo": 10, "twoTypos": 5}}}),
        )
        .unwrap_err();
        assert_eq!(err.code, "invalid_settings_typo_tolerance");
        assert_eq!(
            err.message,
            "Invalid value at `.typoTolerance.minWordSizeForTypos`: `minWordSizeForTypos` setting is invalid. `oneTypo` \
             and `twoTypos` fields should be between `0` and `255`, and `twoTypos` should be greater or equals to \
             `oneTypo` but found `oneTypo: 10` and twoTypos: 5`."
        );
    }

    #[test]
    fn zero_max_total_hits_is_rejected() {
        let err = patch(json!({"pagination": {"maxTotalHits": 0}})).unwrap_err();
        assert_eq!(
            err.message,
            "Invalid value at `.pagination.maxTotalHits`: a non-zero integer value lower than `18446744073709551615` \
             was expected, but found a zero"
        );
    }

    #[test]
    fn enumerated_values_list_the_accepted_ones() {
        let err = patch(json!({"proximityPrecision": "x"})).unwrap_err();
        assert_eq!(err.code, "invalid_settings_proximity_precision");
        assert_eq!(
            err.message,
            "Unknown value `x` at `.proximityPrecision`: expected one of `byWord`, `byAttribute`"
        );
    }

    #[test]
    fn synonyms_need_arrays_of_alternatives() {
        let err = patch(json!({"synonyms": {"a": "b"}})).unwrap_err();
        assert_eq!(
            err.message,
            "Invalid value type at `.synonyms.a`: expected an array, but found a string: `\"b\"`"
        );
    }

    #[test]
    fn user_provided_embedder_needs_dimensions() {
        let err = patch(json!({"embedders": {"x": {"source": "userProvided"}}})).unwrap_err();
        assert_eq!(err.message, "`.embedders.x`: Missing field `dimensions` (note: this field is mandatory for source `userProvided`)");
        let next = patch(json!({"embedders": {"x": {"source": "userProvided", "dimensions": 3}}}))
            .unwrap();
        assert_eq!(
            next["embedders"],
            json!({"x": {"source": "userProvided", "dimensions": 3}})
        );
    }

    #[test]
    fn experimental_settings_need_their_feature() {
        let err = patch(json!({"chat": {}})).unwrap_err();
        assert_eq!(err.code, "feature_not_enabled");
        assert_eq!(
            err.message,
            "setting `chat` in the index settings requires enabling the `chat completions` experimental feature. See https://github.com/orgs/meilisearch/discussions/835"
        );
    }

    #[test]
    fn localized_attributes_require_patterns() {
        let err = patch(json!({"localizedAttributes": [{"locales": ["fra"]}]})).unwrap_err();
        assert_eq!(
            err.message,
            "Missing field `attributePatterns` inside `.localizedAttributes[0]`"
        );
        let next = patch(
            json!({"localizedAttributes": [{"attributePatterns": ["a"], "locales": ["fra"]}]}),
        )
        .unwrap();
        assert_eq!(
            next["localizedAttributes"],
            json!([{"attributePatterns": ["a"], "locales": ["fra"]}])
        );
    }
}
