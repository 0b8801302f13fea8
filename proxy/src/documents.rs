//! Document payloads: reading JSON, NDJSON and CSV bodies into documents, finding each
//! document's primary key the way Meilisearch does, and grouping documents per node.
//!
//! Pure functions over bytes and JSON; the write handler does the I/O. CSV is converted
//! to JSON documents with Meilisearch's own typing rules (`name:number`,
//! `name:boolean`, `name:string`, empty cells are `null`), so every node receives
//! NDJSON and indexes exactly what one Meilisearch would have indexed from the CSV.

use serde_json::{Map, Value};

use crate::error::ApiError;

/// A document as Miroir handles it.
pub type Document = Map<String, Value>;

/// The content types Meilisearch accepts for documents, in its order.
pub const ACCEPTED_CONTENT_TYPES: &str = "`application/json`, `application/x-ndjson`, `text/csv`";

/// The format of a document payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFormat {
    Json,
    Ndjson,
    Csv { delimiter: u8 },
}

impl PayloadFormat {
    /// The name Meilisearch uses for the format in its messages.
    pub fn name(self) -> &'static str {
        match self {
            PayloadFormat::Json => "json",
            PayloadFormat::Ndjson => "ndjson",
            PayloadFormat::Csv { .. } => "csv",
        }
    }
}

/// Decide the payload format from the `Content-Type` header and the `csvDelimiter`
/// query parameter, with Meilisearch's errors.
pub fn payload_format(
    content_type: Option<&str>,
    csv_delimiter: Option<&str>,
) -> Result<PayloadFormat, ApiError> {
    let Some(content_type) = content_type else {
        return Err(ApiError::new(
            415,
            "missing_content_type",
            crate::error::ErrorType::InvalidRequest,
            format!("A Content-Type header is missing. Accepted values for the Content-Type header are: {ACCEPTED_CONTENT_TYPES}"),
        ));
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match essence.as_str() {
        "application/json" => PayloadFormat::Json,
        "application/x-ndjson" => PayloadFormat::Ndjson,
        "text/csv" => {
            let delimiter = match csv_delimiter {
                None => b',',
                Some(d) if d.len() == 1 && d.is_ascii() => d.as_bytes()[0],
                Some(found) => {
                    return Err(ApiError::invalid(
                        "invalid_document_csv_delimiter",
                        format!(
                            "Invalid value in parameter `csvDelimiter`: expected a string of one character, but found the following string of {} characters: `{found}`",
                            found.chars().count()
                        ),
                    ))
                }
            };
            PayloadFormat::Csv { delimiter }
        }
        _ => {
            return Err(ApiError::new(
                415,
                "invalid_content_type",
                crate::error::ErrorType::InvalidRequest,
                format!("The Content-Type `{content_type}` is invalid. Accepted values for the Content-Type header are: {ACCEPTED_CONTENT_TYPES}"),
            ))
        }
    };
    if csv_delimiter.is_some() && !matches!(format, PayloadFormat::Csv { .. }) {
        // Meilisearch answers this one as an unsupported media type.
        return Err(ApiError::new(
            415,
            "invalid_content_type",
            crate::error::ErrorType::InvalidRequest,
            format!("The Content-Type `{content_type}` does not support the use of a csv delimiter. The csv delimiter can only be used with the Content-Type `text/csv`."),
        ));
    }
    Ok(format)
}

fn malformed(format: PayloadFormat, detail: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(
        "malformed_payload",
        format!("The `{}` payload provided is malformed. `Couldn't serialize document value: {detail}`.", format.name()),
    )
}

/// Shorten a serde message the way Meilisearch does: a message longer than 138 bytes
/// keeps its first 50 and last 85 bytes around `...`.
fn shorten(mut message: String) -> String {
    const PREFIX: usize = 50;
    const SUFFIX: usize = 85;
    const ELLIPSIS: &str = "...";
    if message.len() > PREFIX + SUFFIX + ELLIPSIS.len() {
        let end = message.len() - SUFFIX;
        if message.is_char_boundary(PREFIX) && message.is_char_boundary(end) {
            message.replace_range(PREFIX..end, ELLIPSIS);
        }
    }
    message
}

fn json_error_detail(error: &serde_json::Error) -> String {
    match error.classify() {
        serde_json::error::Category::Data => {
            "data are neither an object nor a list of objects".to_owned()
        }
        _ => shorten(error.to_string()),
    }
}

/// Read a document payload into documents.
pub fn parse_documents(format: PayloadFormat, body: &[u8]) -> Result<Vec<Document>, ApiError> {
    match format {
        PayloadFormat::Json => parse_json(body),
        PayloadFormat::Ndjson => parse_ndjson(body),
        PayloadFormat::Csv { delimiter } => parse_csv(body, delimiter),
    }
}

fn parse_json(body: &[u8]) -> Result<Vec<Document>, ApiError> {
    match serde_json::from_slice::<Vec<Document>>(body) {
        Ok(documents) => Ok(documents),
        Err(error) if error.classify() == serde_json::error::Category::Data => {
            // Not an array of objects: Meilisearch then accepts one single object.
            serde_json::from_slice::<Document>(body)
                .map(|document| vec![document])
                .map_err(|error| malformed(PayloadFormat::Json, json_error_detail(&error)))
        }
        Err(error) => Err(malformed(PayloadFormat::Json, json_error_detail(&error))),
    }
}

fn parse_ndjson(body: &[u8]) -> Result<Vec<Document>, ApiError> {
    let mut documents = Vec::new();
    for document in serde_json::Deserializer::from_slice(body).into_iter::<Document>() {
        documents.push(
            document
                .map_err(|error| malformed(PayloadFormat::Ndjson, json_error_detail(&error)))?,
        );
    }
    Ok(documents)
}

#[derive(Clone, Copy)]
enum CsvType {
    String,
    Boolean,
    Number,
}

/// Split a CSV header into its field name and type; an unknown type suffix is part of
/// the name, as in Meilisearch.
fn csv_header(header: &str) -> (&str, CsvType) {
    match header.rsplit_once(':') {
        Some((name, "string")) => (name, CsvType::String),
        Some((name, "boolean")) => (name, CsvType::Boolean),
        Some((name, "number")) => (name, CsvType::Number),
        _ => (header, CsvType::String),
    }
}

fn parse_csv(body: &[u8], delimiter: u8) -> Result<Vec<Document>, ApiError> {
    let format = PayloadFormat::Csv { delimiter };
    let csv_error = |error: csv::Error| {
        ApiError::invalid(
            "malformed_payload",
            format!(
                "The `{}` payload provided is malformed: `{error}`.",
                format.name()
            ),
        )
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(body);
    let headers = reader.headers().map_err(csv_error)?.clone();
    let fields: Vec<(String, CsvType)> = headers
        .iter()
        .map(csv_header)
        .map(|(name, kind)| (name.to_owned(), kind))
        .collect();
    let mut documents = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut line = 0usize;
    while reader.read_record(&mut record).map_err(csv_error)? {
        line += 1;
        let mut document = Document::new();
        for (i, (name, kind)) in fields.iter().enumerate() {
            let raw = record.get(i).unwrap_or("");
            let trimmed = raw.trim();
            let value = match kind {
                CsvType::Number if trimmed.is_empty() => Value::Null,
                CsvType::Number => match trimmed.parse::<i64>() {
                    Ok(integer) => Value::from(integer),
                    Err(_) => match trimmed.parse::<f64>() {
                        Ok(float) => Value::from(float),
                        Err(error) => {
                            return Err(ApiError::invalid(
                                "malformed_payload",
                                format!("The `csv` payload provided is malformed: `Error parsing number {raw:?} at line {line}: {error}`."),
                            ))
                        }
                    },
                },
                CsvType::Boolean if trimmed.is_empty() => Value::Null,
                CsvType::Boolean => match trimmed.parse::<bool>() {
                    Ok(boolean) => Value::Bool(boolean),
                    Err(error) => {
                        return Err(ApiError::invalid(
                            "malformed_payload",
                            format!("The `csv` payload provided is malformed: `Error parsing boolean {raw:?} at line {line}: {error}`."),
                        ))
                    }
                },
                CsvType::String if raw.is_empty() => Value::Null,
                CsvType::String => Value::String(raw.to_owned()),
            };
            document.insert(name.clone(), value);
        }
        documents.push(document);
    }
    Ok(documents)
}

/// Why no primary key could be inferred from the first document; the task fails with
/// this error, as on Meilisearch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InferenceError {
    NoCandidate,
    MultipleCandidates(Vec<String>),
}

impl InferenceError {
    /// The task error (code and message) Meilisearch reports.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            InferenceError::NoCandidate => ApiError::invalid(
                "index_primary_key_no_candidate_found",
                "The primary key inference failed as the engine did not find any field ending with `id` in its name. Please specify the primary key manually using the `primaryKey` query parameter.",
            ),
            InferenceError::MultipleCandidates(candidates) => ApiError::invalid(
                "index_primary_key_multiple_candidates_found",
                format!(
                    "The primary key inference failed as the engine found {} fields ending with `id` in their names: '{}' and '{}'. Please specify the primary key manually using the `primaryKey` query parameter.",
                    candidates.len(),
                    candidates[0],
                    candidates[1]
                ),
            ),
        }
    }
}

/// Infer the primary key from the first document: the only top-level field whose
/// lower-cased name ends with `id`.
pub fn infer_primary_key(first: Option<&Document>) -> Result<String, InferenceError> {
    let Some(first) = first else {
        return Err(InferenceError::NoCandidate);
    };
    let mut candidates: Vec<&String> = first
        .keys()
        .filter(|name| name.to_lowercase().ends_with("id"))
        .collect();
    candidates.sort_unstable();
    match candidates.as_slice() {
        [] => Err(InferenceError::NoCandidate),
        [one] => Ok((*one).clone()),
        many => Err(InferenceError::MultipleCandidates(
            many.iter().map(|c| (*c).clone()).collect(),
        )),
    }
}

/// Why a document's id could not be read; the task fails with this error.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentIdError {
    /// The document has no value at the primary key.
    Missing,
    /// A nested primary key matched several values.
    TooMany,
    /// The value is not a valid document id.
    Invalid(Value),
}

impl DocumentIdError {
    /// The task error Meilisearch reports for this document.
    pub fn to_api_error(&self, primary_key: &str, document: &Document) -> ApiError {
        let document_json = serde_json::to_string(document).unwrap_or_default();
        match self {
            DocumentIdError::Missing => ApiError::invalid(
                "missing_document_id",
                format!("Document doesn't have a `{primary_key}` attribute: `{document_json}`."),
            ),
            DocumentIdError::TooMany => ApiError::invalid(
                "invalid_document_id",
                format!("Document have too many matching `{primary_key}` attribute: `{document_json}`."),
            ),
            DocumentIdError::Invalid(value) => ApiError::invalid(
                "invalid_document_id",
                format!("Document identifier `{value}` is invalid. A document identifier can be of type integer or string, only composed of alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), and can not be more than 511 bytes."),
            ),
        }
    }
}

/// Whether a string is a valid Meilisearch document id.
pub fn is_valid_document_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() < 512
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The canonical document id of a primary-key value: integers in decimal, strings as
/// given; anything else is invalid.
pub fn canonical_document_id(value: &Value) -> Result<String, DocumentIdError> {
    match value {
        Value::String(s) if is_valid_document_id(s) => Ok(s.clone()),
        Value::Number(n) if !n.is_f64() => Ok(n.to_string()),
        other => Err(DocumentIdError::Invalid(other.clone())),
    }
}

/// Find the value at the primary key; a dotted key (`a.b`) may be written nested
/// (`{"a":{"b":1}}`), flat (`{"a.b":1}`) or mixed, as Meilisearch accepts.
pub fn primary_key_value<'d>(
    document: &'d Document,
    primary_key: &str,
) -> Result<&'d Value, DocumentIdError> {
    if !primary_key.contains('.') {
        return document.get(primary_key).ok_or(DocumentIdError::Missing);
    }
    let mut found: Vec<&Value> = Vec::new();
    collect_at_path(document, primary_key, "", &mut found);
    match found.as_slice() {
        [] => Err(DocumentIdError::Missing),
        [one] => Ok(one),
        _ => Err(DocumentIdError::TooMany),
    }
}

fn collect_at_path<'d>(
    object: &'d Document,
    selector: &str,
    base: &str,
    found: &mut Vec<&'d Value>,
) {
    for (key, value) in object {
        let path = if base.is_empty() {
            key.clone()
        } else {
            format!("{base}.{key}")
        };
        let selected = selector
            .strip_prefix(path.as_str())
            .is_some_and(|tail| tail.is_empty() || tail.starts_with('.'));
        if !selected {
            continue;
        }
        match value {
            Value::Object(inner) if path.len() < selector.len() => {
                collect_at_path(inner, selector, &path, found)
            }
            Value::Object(_) => found.push(value),
            _ if path.len() == selector.len() => found.push(value),
            _ => {}
        }
    }
}

/// The first field of a document that Miroir reserves for itself, if any.
pub fn reserved_field(document: &Document) -> Option<&str> {
    document
        .keys()
        .map(String::as_str)
        .find(|key| key.starts_with("_miroir_"))
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

    #[test]
    fn json_payload_accepts_an_array_or_a_single_object() {
        let many = parse_documents(PayloadFormat::Json, br#"[{"id":1},{"id":"a"}]"#).unwrap();
        assert_eq!(many, vec![doc(json!({"id":1})), doc(json!({"id":"a"}))]);
        let one = parse_documents(PayloadFormat::Json, br#"{"id":1,"title":"x"}"#).unwrap();
        assert_eq!(one, vec![doc(json!({"id":1,"title":"x"}))]);
    }

    #[test]
    fn json_payload_that_is_not_objects_is_malformed() {
        let error = parse_documents(PayloadFormat::Json, b"[1,2]").unwrap_err();
        assert_eq!(error.code, "malformed_payload");
        assert_eq!(
            error.message,
            "The `json` payload provided is malformed. `Couldn't serialize document value: data are neither an object nor a list of objects`."
        );
    }

    #[test]
    fn ndjson_payload_reads_one_document_per_line() {
        let documents =
            parse_documents(PayloadFormat::Ndjson, b"{\"id\":1}\n{\"id\":2}\n").unwrap();
        assert_eq!(documents, vec![doc(json!({"id":1})), doc(json!({"id":2}))]);
    }

    #[test]
    fn csv_payload_is_typed_like_meilisearch() {
        let body = b"id:number,title,price:number,available:boolean,note:unknown\n1,Dune,9.5,true,\n2, Heat ,,false,x\n";
        let documents = parse_documents(PayloadFormat::Csv { delimiter: b',' }, body).unwrap();
        assert_eq!(
            documents,
            vec![
                doc(
                    json!({"id":1,"title":"Dune","price":9.5,"available":true,"note:unknown":null})
                ),
                doc(
                    json!({"id":2,"title":" Heat ","price":null,"available":false,"note:unknown":"x"})
                ),
            ]
        );
    }

    #[test]
    fn csv_payload_honours_the_delimiter() {
        let documents =
            parse_documents(PayloadFormat::Csv { delimiter: b';' }, b"id;title\na;b c\n").unwrap();
        assert_eq!(documents, vec![doc(json!({"id":"a","title":"b c"}))]);
    }

    #[test]
    fn content_type_errors_match_meilisearch() {
        let missing = payload_format(None, None).unwrap_err();
        assert_eq!(missing.code, "missing_content_type");
        assert_eq!(missing.status, 415);
        let invalid = payload_format(Some("text/plain"), None).unwrap_err();
        assert_eq!(invalid.status, 415);
        assert_eq!(
            invalid.message,
            "The Content-Type `text/plain` is invalid. Accepted values for the Content-Type header are: `application/json`, `application/x-ndjson`, `text/csv`"
        );
        assert_eq!(
            payload_format(Some("application/json; charset=utf-8"), None).unwrap(),
            PayloadFormat::Json
        );
        assert_eq!(
            payload_format(Some("text/csv"), Some(";")).unwrap(),
            PayloadFormat::Csv { delimiter: b';' }
        );
        let delimiter = payload_format(Some("application/json"), Some(";")).unwrap_err();
        assert_eq!(
            (delimiter.status, delimiter.code.as_str()),
            (415, "invalid_content_type")
        );
    }

    #[test]
    fn primary_key_inference_follows_meilisearch() {
        assert_eq!(
            infer_primary_key(Some(&doc(json!({"title":"x","movie_id":1})))),
            Ok("movie_id".to_owned())
        );
        assert_eq!(
            infer_primary_key(Some(&doc(json!({"title":"x"})))),
            Err(InferenceError::NoCandidate)
        );
        assert_eq!(
            infer_primary_key(Some(&doc(json!({"uid":1,"id":2,"title":"x"})))),
            Err(InferenceError::MultipleCandidates(vec![
                "id".to_owned(),
                "uid".to_owned()
            ]))
        );
        assert_eq!(infer_primary_key(None), Err(InferenceError::NoCandidate));
        assert_eq!(
            InferenceError::MultipleCandidates(vec!["id".to_owned(), "uid".to_owned()]).to_api_error().message,
            "The primary key inference failed as the engine found 2 fields ending with `id` in their names: 'id' and 'uid'. Please specify the primary key manually using the `primaryKey` query parameter."
        );
    }

    #[test]
    fn document_ids_are_canonical_strings() {
        assert_eq!(canonical_document_id(&json!(1)), Ok("1".to_owned()));
        assert_eq!(canonical_document_id(&json!(-7)), Ok("-7".to_owned()));
        assert_eq!(canonical_document_id(&json!("1")), Ok("1".to_owned()));
        assert_eq!(
            canonical_document_id(&json!(1.5)),
            Err(DocumentIdError::Invalid(json!(1.5)))
        );
        assert_eq!(
            canonical_document_id(&json!("a b")),
            Err(DocumentIdError::Invalid(json!("a b")))
        );
        assert_eq!(
            canonical_document_id(&json!("x".repeat(512))),
            Err(DocumentIdError::Invalid(json!("x".repeat(512))))
        );
        assert!(canonical_document_id(&json!("x".repeat(511))).is_ok());
    }

    #[test]
    fn nested_primary_keys_are_found_nested_or_flat() {
        let nested = doc(json!({"a":{"b":"x1"},"t":1}));
        assert_eq!(primary_key_value(&nested, "a.b"), Ok(&json!("x1")));
        let flat = doc(json!({"a.b":"x2"}));
        assert_eq!(primary_key_value(&flat, "a.b"), Ok(&json!("x2")));
        let both = doc(json!({"a.b":"x2","a":{"b":"x3"}}));
        assert_eq!(
            primary_key_value(&both, "a.b"),
            Err(DocumentIdError::TooMany)
        );
        assert_eq!(
            primary_key_value(&doc(json!({"a":{"c":1}})), "a.b"),
            Err(DocumentIdError::Missing)
        );
    }

    #[test]
    fn missing_document_id_error_matches_meilisearch() {
        let document = doc(json!({"title":"x"}));
        let error = DocumentIdError::Missing.to_api_error("id", &document);
        assert_eq!(error.code, "missing_document_id");
        assert_eq!(
            error.message,
            r#"Document doesn't have a `id` attribute: `{"title":"x"}`."#
        );
    }

    #[test]
    fn reserved_fields_are_detected() {
        assert_eq!(
            reserved_field(&doc(json!({"id":1,"_miroir_shard":3}))),
            Some("_miroir_shard")
        );
        assert_eq!(reserved_field(&doc(json!({"id":1,"_miroirs":3}))), None);
    }
}
