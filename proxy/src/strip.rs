//! Hiding Miroir's own fields from single-node responses.
//!
//! Every stored document carries `_miroir_shard`, and every index lists it as a
//! filterable attribute. Clients must see neither. Search hits and merged listings are
//! cleaned by the merger; this module cleans the responses Miroir relays from one node
//! (a document by id, the settings, one settings sub-route).

use serde_json::Value;

/// The field Miroir injects into every stored document.
pub const SHARD_FIELD: &str = "_miroir_shard";

/// Whether a field name belongs to Miroir.
pub fn is_reserved(name: &str) -> bool {
    name.starts_with("_miroir_")
}

/// What kind of single-node body is being relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayed {
    /// `GET /indexes/{uid}/documents/{id}`: one document object.
    Document,
    /// `GET /indexes/{uid}/settings`: the whole settings object.
    Settings,
    /// `GET /indexes/{uid}/settings/filterable-attributes`: the list alone.
    FilterableAttributes,
}

/// Remove Miroir's fields from a relayed body. Bodies that are not JSON, or not of the
/// expected shape (an error object, say), come back unchanged.
pub fn strip_body(kind: Relayed, body: &[u8]) -> Option<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    let changed = match kind {
        Relayed::Document => strip_document(&mut value),
        Relayed::Settings => value
            .get_mut("filterableAttributes")
            .map(strip_filterable_attributes)
            .unwrap_or(false),
        Relayed::FilterableAttributes => strip_filterable_attributes(&mut value),
    };
    if !changed {
        return None;
    }
    serde_json::to_vec(&value).ok()
}

/// Remove every top-level `_miroir_*` member of a document; true if one was removed.
pub fn strip_document(document: &mut Value) -> bool {
    let Some(object) = document.as_object_mut() else {
        return false;
    };
    let before = object.len();
    object.retain(|key, _| !is_reserved(key));
    object.len() != before
}

/// Remove `_miroir_*` entries from a `filterableAttributes` list. Entries are either
/// attribute names or `{"attributePatterns": [...], "features": {...}}` objects; an
/// object whose patterns were all Miroir's disappears.
pub fn strip_filterable_attributes(list: &mut Value) -> bool {
    let Some(entries) = list.as_array_mut() else {
        return false;
    };
    let before = serde_json::to_string(entries).unwrap_or_default();
    entries.retain_mut(|entry| match entry {
        Value::String(name) => !is_reserved(name),
        Value::Object(rule) => match rule
            .get_mut("attributePatterns")
            .and_then(Value::as_array_mut)
        {
            Some(patterns) => {
                patterns.retain(|p| !p.as_str().is_some_and(is_reserved));
                !patterns.is_empty()
            }
            None => true,
        },
        _ => true,
    });
    serde_json::to_string(entries).unwrap_or_default() != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_lose_miroir_fields_only() {
        let body = br#"{"id":1,"_miroir_shard":7,"title":"Dune"}"#;
        let stripped = strip_body(Relayed::Document, body).unwrap();
        assert_eq!(
            String::from_utf8(stripped).unwrap(),
            r#"{"id":1,"title":"Dune"}"#
        );
    }

    #[test]
    fn settings_hide_the_shard_attribute() {
        let body = serde_json::to_vec(&json!({
            "displayedAttributes": ["*"],
            "filterableAttributes": ["genre", "_miroir_shard", {"attributePatterns": ["_miroir_shard"], "features": {}}],
        }))
        .unwrap();
        let stripped: Value =
            serde_json::from_slice(&strip_body(Relayed::Settings, &body).unwrap()).unwrap();
        assert_eq!(
            stripped,
            json!({"displayedAttributes": ["*"], "filterableAttributes": ["genre"]})
        );
    }

    #[test]
    fn filterable_attribute_lists_hide_the_shard_attribute() {
        let stripped = strip_body(
            Relayed::FilterableAttributes,
            br#"["_miroir_shard","year"]"#,
        )
        .unwrap();
        assert_eq!(String::from_utf8(stripped).unwrap(), r#"["year"]"#);
    }

    #[test]
    fn error_bodies_pass_unchanged() {
        let body = br#"{"message":"Document `1` not found.","code":"document_not_found","type":"invalid_request","link":"x"}"#;
        assert_eq!(strip_body(Relayed::Document, body), None);
        assert_eq!(strip_body(Relayed::Settings, b"not json"), None);
    }
}

/// Remove Miroir's attribute from a node's error message. Meilisearch lists the
/// filterable (or facet-searchable) attributes in some errors; the list a node holds
/// includes `_miroir_shard`, which the client never configured. When it was the only
/// entry, the message becomes Meilisearch's wording for an empty list.
pub fn scrub_message(message: &str) -> String {
    let field = SHARD_FIELD;
    let mut out = message.to_owned();
    let only_entry = [
        (
            format!("Available filterable attribute patterns are: `{field}`."),
            "This index does not have configured filterable attributes.",
        ),
        (
            format!("Available filterable attributes patterns are: `{field}`."),
            "This index does not have configured filterable attributes.",
        ),
        (
            format!("Available facet-searchable attributes patterns are: `{field}`."),
            "This index does not have configured facet-searchable attributes.",
        ),
    ];
    for (from, to) in &only_entry {
        out = out.replace(from.as_str(), to);
    }
    for (from, to) in [
        (format!("`{field}`, "), ""),
        (format!(", `{field}`"), ""),
        (format!("{field}, "), ""),
        (format!(", {field}"), ""),
    ] {
        out = out.replace(from.as_str(), to);
    }
    out
}

#[cfg(test)]
mod scrub_tests {
    use super::scrub_message;

    #[test]
    fn shard_field_disappears_from_attribute_lists() {
        assert_eq!(
            scrub_message("Attribute `x` is not filterable. Available filterable attribute patterns are: `_miroir_shard`, `genre`."),
            "Attribute `x` is not filterable. Available filterable attribute patterns are: `genre`."
        );
        assert_eq!(
            scrub_message("Attribute `x` is not filterable. Available filterable attribute patterns are: `_miroir_shard`.\n1:2 x = 1"),
            "Attribute `x` is not filterable. This index does not have configured filterable attributes.\n1:2 x = 1"
        );
        assert_eq!(
            scrub_message("Attribute `genre` is not facet-searchable. Available facet-searchable attributes patterns are: `_miroir_shard, year`. To make it facet-searchable add it to the `filterableAttributes` index settings."),
            "Attribute `genre` is not facet-searchable. Available facet-searchable attributes patterns are: `year`. To make it facet-searchable add it to the `filterableAttributes` index settings."
        );
        assert_eq!(
            scrub_message("Attribute `genre` is not facet-searchable. Available facet-searchable attributes patterns are: `_miroir_shard`. To make it facet-searchable add it to the `filterableAttributes` index settings."),
            "Attribute `genre` is not facet-searchable. This index does not have configured facet-searchable attributes. To make it facet-searchable add it to the `filterableAttributes` index settings."
        );
        assert_eq!(
            scrub_message("Index `movies` not found."),
            "Index `movies` not found."
        );
    }
}
