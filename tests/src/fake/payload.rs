//! Document payloads of `POST`/`PUT /indexes/{uid}/documents`: content-type negotiation
//! and parsing of JSON (an array of objects or one object), NDJSON and CSV (with
//! Meilisearch's typed headers `name:number`, `name:boolean`, `name:string`), with the
//! error messages Meilisearch 1.50 gives for each malformed case.

use miroir_fake_engine::Document;
use serde_json::{Map, Value};

use super::error::{self, ApiError, ApiResult};

/// Content types accepted for documents.
pub const ACCEPTED: &[&str] = &["application/json", "application/x-ndjson", "text/csv"];

/// Format of a document payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// `application/x-ndjson`.
    Ndjson,
    /// `text/csv` with its delimiter.
    Csv(u8),
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv(_) => "csv",
        }
    }
}

/// The essence (`type/subtype`, lowercase) of a Content-Type header value.
pub fn mime_essence(content_type: &str) -> Option<String> {
    let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, sub) = essence.split_once('/')?;
    if kind.is_empty() || sub.is_empty() || sub.contains('/') {
        return None;
    }
    Some(essence)
}

/// Choose the payload format from the Content-Type header and the `csvDelimiter` parameter.
pub fn negotiate(content_type: Option<&str>, csv_delimiter: Option<u8>) -> ApiResult<Format> {
    let Some(raw) = content_type else {
        return Err(error::missing_content_type(ACCEPTED));
    };
    let Some(essence) = mime_essence(raw) else {
        return Err(error::invalid_content_type(raw, ACCEPTED));
    };
    let wrong_delimiter = |ty: &str| error::invalid_content_type_for_delimiter(ty);
    match (essence.as_str(), csv_delimiter) {
        ("application/json", None) => Ok(Format::Json),
        ("application/x-ndjson", None) => Ok(Format::Ndjson),
        ("text/csv", None) => Ok(Format::Csv(b',')),
        ("text/csv", Some(d)) => Ok(Format::Csv(d)),
        ("application/json", Some(_)) => Err(wrong_delimiter("application/json")),
        ("application/x-ndjson", Some(_)) => Err(wrong_delimiter("application/x-ndjson")),
        (other, _) => Err(error::invalid_content_type(other, ACCEPTED)),
    }
}

/// Parse a `csvDelimiter` query value: exactly one ASCII character.
pub fn parse_csv_delimiter(value: &str) -> ApiResult<u8> {
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii() => Ok(c as u8),
        (Some(c), None) => Err(error::bad(
            "invalid_document_csv_delimiter",
            format!("Invalid value in parameter `csvDelimiter`: csv delimiter must be an ascii character. Found: `{c}`"),
        )),
        _ => Err(error::bad(
            "invalid_document_csv_delimiter",
            format!("Invalid value in parameter `csvDelimiter`: expected a string of one character, but found the following string of {} characters: `{value}`", value.chars().count()),
        )),
    }
}

fn malformed(format: Format, detail: String) -> ApiError {
    error::bad(
        "malformed_payload",
        format!(
            "The `{}` payload provided is malformed. `Couldn't serialize document value: {}`.",
            format.name(),
            detail
        ),
    )
}

fn malformed_plain(format: Format, detail: String) -> ApiError {
    error::bad(
        "malformed_payload",
        format!(
            "The `{}` payload provided is malformed: `{}`.",
            format.name(),
            detail
        ),
    )
}

/// Meilisearch truncates very long serde messages around an ellipsis.
fn json_detail(e: &serde_json::Error) -> String {
    let mut message = match e.classify() {
        serde_json::error::Category::Data => {
            "data are neither an object nor a list of objects".to_owned()
        }
        _ => e.to_string(),
    };
    let (prefix, suffix, ellipsis) = (50, 85, "...");
    if message.len() > prefix + suffix + ellipsis.len()
        && message.is_char_boundary(prefix)
        && message.is_char_boundary(message.len() - suffix)
    {
        let end = message.len() - suffix;
        message.replace_range(prefix..end, ellipsis);
    }
    message
}

/// Parse a payload into documents.
pub fn parse(body: &[u8], format: Format) -> ApiResult<Vec<Document>> {
    if body.is_empty() {
        return Err(error::bad(
            "missing_payload",
            format!("A {} payload is missing.", format.name()),
        ));
    }
    match format {
        Format::Json => parse_json(body),
        Format::Ndjson => parse_ndjson(body),
        Format::Csv(delimiter) => parse_csv(body, delimiter),
    }
}

fn parse_json(body: &[u8]) -> ApiResult<Vec<Document>> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| malformed(Format::Json, json_detail(&e)))?;
    let data_error = || {
        malformed(
            Format::Json,
            "data are neither an object nor a list of objects".to_owned(),
        )
    };
    match value {
        Value::Object(doc) => Ok(vec![doc]),
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(doc) => Ok(doc),
                _ => Err(data_error()),
            })
            .collect(),
        _ => Err(data_error()),
    }
}

fn parse_ndjson(body: &[u8]) -> ApiResult<Vec<Document>> {
    let stream = serde_json::Deserializer::from_slice(body).into_iter::<Map<String, Value>>();
    stream
        .map(|item| item.map_err(|e| malformed(Format::Ndjson, json_detail(&e))))
        .collect()
}

#[derive(Clone, Copy)]
enum CsvType {
    String,
    Number,
    Boolean,
}

fn csv_header(header: &str) -> (&str, CsvType) {
    match header.rsplit_once(':') {
        Some((name, "string")) => (name, CsvType::String),
        Some((name, "number")) => (name, CsvType::Number),
        Some((name, "boolean")) => (name, CsvType::Boolean),
        _ => (header, CsvType::String),
    }
}

fn parse_csv(body: &[u8], delimiter: u8) -> ApiResult<Vec<Document>> {
    let format = Format::Csv(delimiter);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(body);
    let headers = reader
        .headers()
        .map_err(|e| malformed_plain(format, e.to_string()))?
        .clone();
    let fields: Vec<(String, CsvType)> = headers
        .iter()
        .map(|h| {
            let (name, ty) = csv_header(h);
            (name.to_owned(), ty)
        })
        .collect();
    let mut docs = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 1;
        let record = record.map_err(|e| malformed_plain(format, e.to_string()))?;
        let mut doc: Document = fields
            .iter()
            .map(|(n, _)| (n.clone(), Value::Null))
            .collect();
        for (i, (name, ty)) in fields.iter().enumerate() {
            let raw = record.get(i).unwrap_or_default();
            let trimmed = raw.trim();
            let value = match ty {
                CsvType::Number if trimmed.is_empty() => Value::Null,
                CsvType::Number => match trimmed.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => match trimmed.parse::<f64>() {
                        Ok(f) => Value::from(f),
                        Err(e) => {
                            return Err(malformed_plain(
                                format,
                                format!("Error parsing number {raw:?} at line {line}: {e}"),
                            ))
                        }
                    },
                },
                CsvType::Boolean if trimmed.is_empty() => Value::Null,
                CsvType::Boolean => match trimmed.parse::<bool>() {
                    Ok(b) => Value::Bool(b),
                    Err(e) => {
                        return Err(malformed_plain(
                            format,
                            format!("Error parsing boolean {raw:?} at line {line}: {e}"),
                        ))
                    }
                },
                CsvType::String if raw.is_empty() => Value::Null,
                CsvType::String => Value::String(raw.to_owned()),
            };
            doc.insert(name.clone(), value);
        }
        docs.push(doc);
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_headers_type_their_columns() {
        let docs = parse(
            b"id,title,price:number,ok:boolean\n1,hello,3.5,true\n2,,4,",
            Format::Csv(b','),
        )
        .expect("valid csv");
        assert_eq!(
            Value::Array(docs.into_iter().map(Value::Object).collect()),
            json!([
                {"id": "1", "title": "hello", "price": 3.5, "ok": true},
                {"id": "2", "title": null, "price": 4, "ok": null}
            ])
        );
    }

    #[test]
    fn a_single_json_object_is_one_document() {
        let docs = parse(br#"{"id":1}"#, Format::Json).expect("valid json");
        assert_eq!(docs.len(), 1);
    }

    #[test]
    fn truncated_json_reports_meilisearch_message() {
        let err = parse(br#"{"a":"#, Format::Json).expect_err("malformed");
        assert_eq!(err.0.message, "The `json` payload provided is malformed. `Couldn't serialize document value: EOF while parsing a value at line 1 column 5`.");
        assert_eq!(err.0.code, "malformed_payload");
    }

    #[test]
    fn a_json_list_of_non_objects_is_rejected() {
        let err = parse(b"[1,2]", Format::Json).expect_err("not objects");
        assert_eq!(err.0.message, "The `json` payload provided is malformed. `Couldn't serialize document value: data are neither an object nor a list of objects`.");
    }

    #[test]
    fn ndjson_reads_one_object_per_line() {
        let docs = parse(b"{\"id\":1}\n{\"id\":2}\n", Format::Ndjson).expect("valid ndjson");
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn an_empty_body_is_a_missing_payload() {
        let err = parse(b"", Format::Json).expect_err("empty");
        assert_eq!(
            (err.0.code.as_str(), err.0.message.as_str()),
            ("missing_payload", "A json payload is missing.")
        );
    }

    #[test]
    fn content_type_parameters_are_ignored() {
        assert_eq!(
            negotiate(Some("application/json; charset=utf-8"), None).expect("json"),
            Format::Json
        );
    }

    #[test]
    fn unknown_content_types_list_the_accepted_ones() {
        let err = negotiate(Some("text/plain"), None).expect_err("invalid");
        assert_eq!(err.0.status, 415);
        assert_eq!(err.0.message, "The Content-Type `text/plain` is invalid. Accepted values for the Content-Type header are: `application/json`, `application/x-ndjson`, `text/csv`");
    }
}
