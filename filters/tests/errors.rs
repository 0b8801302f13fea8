//! Invalid filters get Meilisearch's exact `invalid_search_filter` message: the
//! diagnostic, then the position line. The cases are Meilisearch 1.50's own examples.

use miroir_filters::filter::parse;

const OPERATIONS: &str = "`=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon`";

fn message(input: &str) -> String {
    match parse(input) {
        Ok(filter) => panic!("`{input}` was expected to fail but parsed as {filter:?}"),
        Err(error) => error.message().to_string(),
    }
}

fn expecting_operation_at(fragment: &str, position: &str) -> String {
    format!("Was expecting an operation {OPERATIONS} at `{fragment}`.\n{position}")
}

#[test]
fn meilisearch_examples() {
    let cases: Vec<(&str, String)> = vec![
        ("channel = Ponce = 12", "Found unexpected characters at the end of the filter: `= 12`. You probably forgot an `OR` or an `AND` rule.\n17:21 channel = Ponce = 12".into()),
        ("channel =    ", "Was expecting a value but instead got nothing.\n14:14 channel =    ".into()),
        ("channel = 🐻", "Was expecting a value but instead got `🐻`.\n11:12 channel = 🐻".into()),
        ("channel = 🐻 AND followers < 100", "Was expecting a value but instead got `🐻`.\n11:12 channel = 🐻 AND followers < 100".into()),
        ("'OR'", expecting_operation_at("\\'OR\\'", "1:5 'OR'")),
        ("OR", "Was expecting a value but instead got `OR`, which is a reserved keyword. To use `OR` as a field name or a value, surround it by quotes.\n1:3 OR".into()),
        ("channel Ponce", expecting_operation_at("channel Ponce", "1:14 channel Ponce")),
        ("channel = Ponce OR", format!("Was expecting an operation {OPERATIONS} but instead got nothing.\n19:19 channel = Ponce OR")),
        ("_geoRadius", "The `_geoRadius` filter must be in the form: `_geoRadius(latitude, longitude, radius, optionalResolution)`.\n11:11 _geoRadius".into()),
        ("_geoRadius = 12", "The `_geoRadius` filter must be in the form: `_geoRadius(latitude, longitude, radius, optionalResolution)`.\n11:16 _geoRadius = 12".into()),
        ("_geoBoundingBox", "The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.\n16:16 _geoBoundingBox".into()),
        ("_geoBoundingBox = 12", "The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.\n16:21 _geoBoundingBox = 12".into()),
        ("_geoBoundingBox(1.0, 1.0)", "The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.\n17:26 _geoBoundingBox(1.0, 1.0)".into()),
        ("_geoPolygon([1,2,3])", "The `_geoPolygon` filter expects at least 3 points but only 1 were specified\n18:19 _geoPolygon([1,2,3])".into()),
        ("_geoPolygon(1,2,3)", "The `_geoPolygon` filter doesn't match the expected format: `_geoPolygon([latitude, longitude], [latitude, longitude])`.\n13:19 _geoPolygon(1,2,3)".into()),
        ("_geoPolygon([1,2],[1,2],[1,2,3])", "Was expecting 2 coordinates but instead found 3.\n26:27 _geoPolygon([1,2],[1,2],[1,2,3])".into()),
        ("_geoPolygon([1,2],[1,2,3])", "The `_geoPolygon` filter expects at least 3 points but only 2 were specified\n24:25 _geoPolygon([1,2],[1,2,3])".into()),
        ("_geoPolygon(1)", "The `_geoPolygon` filter doesn't match the expected format: `_geoPolygon([latitude, longitude], [latitude, longitude])`.\n13:15 _geoPolygon(1)".into()),
        ("_geoPolygon([1,2)", "The `_geoPolygon` filter doesn't match the expected format: `_geoPolygon([latitude, longitude], [latitude, longitude])`.\n17:18 _geoPolygon([1,2)".into()),
        ("_geoPoint(12, 13, 14)", "`_geoPoint` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n1:22 _geoPoint(12, 13, 14)".into()),
        ("position <= _geoPoint(12, 13, 14)", "`_geoPoint` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n13:34 position <= _geoPoint(12, 13, 14)".into()),
        ("_geoDistance(12, 13, 14)", "`_geoDistance` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n1:25 _geoDistance(12, 13, 14)".into()),
        ("position <= _geoDistance(12, 13, 14)", "`_geoDistance` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n13:37 position <= _geoDistance(12, 13, 14)".into()),
        ("_geo(12, 13, 14)", "`_geo` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n1:17 _geo(12, 13, 14)".into()),
        ("position <= _geo(12, 13, 14)", "`_geo` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n13:29 position <= _geo(12, 13, 14)".into()),
        ("_geo = Glass", "`_geo` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n1:13 _geo = Glass".into()),
        ("_geoPoint = Glass", "`_geoPoint` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n1:18 _geoPoint = Glass".into()),
        ("position <= _geoRadius(12, 13, 14)", "The `_geoRadius` filter is an operation and can't be used as a value.\n13:35 position <= _geoRadius(12, 13, 14)".into()),
        ("channel = 'ponce", "Expression `\\'ponce` is missing the following closing delimiter: `'`.\n11:17 channel = 'ponce".into()),
        ("channel = \"ponce", "Expression `\\\"ponce` is missing the following closing delimiter: `\"`.\n11:17 channel = \"ponce".into()),
        ("channel = mv OR (followers >= 1000", "Expression `(followers >= 1000` is missing the following closing delimiter: `)`.\n17:35 channel = mv OR (followers >= 1000".into()),
        ("channel = mv OR followers >= 1000)", "Found unexpected characters at the end of the filter: `)`. You probably forgot an `OR` or an `AND` rule.\n34:35 channel = mv OR followers >= 1000)".into()),
        ("colour NOT EXIST", expecting_operation_at("colour NOT EXIST", "1:17 colour NOT EXIST")),
        ("subscribers 100 TO1000", expecting_operation_at("subscribers 100 TO1000", "1:23 subscribers 100 TO1000")),
        ("channel = ponce ORdog != 'bernese mountain'", "Found unexpected characters at the end of the filter: `ORdog != \\'bernese mountain\\'`. You probably forgot an `OR` or an `AND` rule.\n17:44 channel = ponce ORdog != 'bernese mountain'".into()),
        ("title = Glass XOR title = Glass", "Found unexpected characters at the end of the filter: `XOR title = Glass`. You probably forgot an `OR` or an `AND` rule.\n15:32 title = Glass XOR title = Glass".into()),
        ("title & Glass", expecting_operation_at("title & Glass", "1:14 title & Glass")),
        ("name = \"\\x\"", "The filter is incomplete and requires Unknown additional bytes to be parsed.\n1:12 name = \"\\x\"".into()),
        ("colour IN blue, green]", "Expected `[` after `IN` keyword.\n11:23 colour IN blue, green]".into()),
        ("colour IN [blue, green, 'blue' > 2]", "Expected only comma-separated field names inside `IN[..]` but instead found `> 2]`.\n32:36 colour IN [blue, green, 'blue' > 2]".into()),
        ("colour IN [blue, green, AND]", "Expected only comma-separated field names inside `IN[..]` but instead found `AND]`.\n25:29 colour IN [blue, green, AND]".into()),
        ("colour IN [blue, green", "Expected matching `]` after the list of field names given to `IN[`\n23:23 colour IN [blue, green".into()),
        ("colour IN ['blue, green", "Expression `\\'blue, green` is missing the following closing delimiter: `'`.\n12:24 colour IN ['blue, green".into()),
        ("x = EXISTS", "Was expecting a value but instead got `EXISTS`, which is a reserved keyword. To use `EXISTS` as a field name or a value, surround it by quotes.\n5:11 x = EXISTS".into()),
        ("AND = 8", "Was expecting a value but instead got `AND`, which is a reserved keyword. To use `AND` as a field name or a value, surround it by quotes.\n1:4 AND = 8".into()),
        ("NOT OR EXISTS AND EXISTS NOT EXISTS", "Was expecting a value but instead got `OR`, which is a reserved keyword. To use `OR` as a field name or a value, surround it by quotes.\n5:7 NOT OR EXISTS AND EXISTS NOT EXISTS".into()),
        ("value NULL", expecting_operation_at("value NULL", "1:11 value NULL")),
        ("value NOT NULL", expecting_operation_at("value NOT NULL", "1:15 value NOT NULL")),
        ("value EMPTY", expecting_operation_at("value EMPTY", "1:12 value EMPTY")),
        ("value NOT EMPTY", expecting_operation_at("value NOT EMPTY", "1:16 value NOT EMPTY")),
        ("value IS", expecting_operation_at("value IS", "1:9 value IS")),
        ("value IS NOT", expecting_operation_at("value IS NOT", "1:13 value IS NOT")),
        ("value IS EXISTS", expecting_operation_at("value IS EXISTS", "1:16 value IS EXISTS")),
        ("value IS NOT EXISTS", expecting_operation_at("value IS NOT EXISTS", "1:20 value IS NOT EXISTS")),
        ("doggo", expecting_operation_at("doggo", "1:6 doggo")),
        ("cool doggo", expecting_operation_at("cool doggo", "1:11 cool doggo")),
        ("_vectors _vectors EXISTS", "Was expecting an operation like `EXISTS` or `NOT EXISTS` after the vector filter.\n10:25 _vectors _vectors EXISTS".into()),
        ("_vectors. embedderName EXISTS", "Was expecting embedder name but found nothing.\n10:11 _vectors. embedderName EXISTS".into()),
        ("_vectors .embedderName EXISTS", "Was expecting an operation like `EXISTS` or `NOT EXISTS` after the vector filter.\n10:30 _vectors .embedderName EXISTS".into()),
        ("_vectors.embedderName. EXISTS", "Was expecting one of `.fragments`, `.userProvided`, `.documentTemplate`, `.regenerate` or nothing, but instead found a point without a valid value.\n22:23 _vectors.embedderName. EXISTS".into()),
        ("_vectors.\"embedderName EXISTS", "The quotes in one of the values are inconsistent.\n10:30 _vectors.\"embedderName EXISTS".into()),
        ("_vectors.\"embedderNam\"e EXISTS", "The vector filter has leftover tokens.\n23:31 _vectors.\"embedderNam\"e EXISTS".into()),
        ("_vectors.embedderName.documentTemplate. EXISTS", "Was expecting one of `.fragments`, `.userProvided`, `.documentTemplate`, `.regenerate` or nothing, but instead found a point without a valid value.\n39:40 _vectors.embedderName.documentTemplate. EXISTS".into()),
        ("_vectors.embedderName.fragments EXISTS", "The vector filter is missing a fragment name.\n32:39 _vectors.embedderName.fragments EXISTS".into()),
        ("_vectors.embedderName.fragments. EXISTS", "The vector filter's fragment name is invalid.\n33:40 _vectors.embedderName.fragments. EXISTS".into()),
        ("_vectors.embedderName.fragments.test test EXISTS", "Was expecting an operation like `EXISTS` or `NOT EXISTS` after the vector filter.\n38:49 _vectors.embedderName.fragments.test test EXISTS".into()),
        ("_vectors.embedderName.fragments. test EXISTS", "The vector filter's fragment name is invalid.\n33:45 _vectors.embedderName.fragments. test EXISTS".into()),
        ("_vectors.embedderName .fragments. test EXISTS", "Was expecting an operation like `EXISTS` or `NOT EXISTS` after the vector filter.\n23:46 _vectors.embedderName .fragments. test EXISTS".into()),
        ("_vectors.embedderName .fragments.test EXISTS", "Was expecting an operation like `EXISTS` or `NOT EXISTS` after the vector filter.\n23:45 _vectors.embedderName .fragments.test EXISTS".into()),
        ("_vectors.embedderName.fargments.test EXISTS", "Was expecting one of `fragments`, `userProvided`, `documentTemplate`, `regenerate` or nothing, but instead found `fargments`. Did you mean `fragments`?\n23:32 _vectors.embedderName.fargments.test EXISTS".into()),
        ("_vectors.embedderName.\"userProvided\" EXISTS", "Was expecting this part to be unquoted.\n24:36 _vectors.embedderName.\"userProvided\" EXISTS".into()),
        ("_vectors.embedderName.userProvided.fragments.test EXISTS", "Vector filter can only accept one of `fragments`, `userProvided`, `documentTemplate` or `regenerate`, but found both `userProvided` and `fragments`.\n36:45 _vectors.embedderName.userProvided.fragments.test EXISTS".into()),
    ];
    let mut mismatches = Vec::new();
    for (input, expected) in &cases {
        let actual = message(input);
        if &actual != expected {
            mismatches.push(format!(
                "input:    {input}\nexpected: {expected:?}\nactual:   {actual:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n\n{}",
        mismatches.len(),
        mismatches.join("\n\n")
    );
}

#[test]
fn fifty_nested_parentheses_exceed_the_depth_limit() {
    let input = format!("{}x = 1{}", "(".repeat(50), ")".repeat(50));
    assert_eq!(
        message(&input),
        format!("The filter exceeded the maximum depth limit. Try rewriting the filter so that it contains fewer nested conditions.\n38:106 {input}")
    );
}

#[test]
fn thirty_six_nested_parentheses_are_the_most_allowed() {
    let input = format!("{}x = 1{}", "(".repeat(36), ")".repeat(36));
    assert!(parse(&input).is_ok());
}

#[test]
fn a_hundred_and_ninety_nine_nots_exceed_the_depth_limit() {
    let input = format!("{}x = 1", "NOT ".repeat(199));
    assert_eq!(
        message(&input),
        format!("The filter exceeded the maximum depth limit. Try rewriting the filter so that it contains fewer nested conditions.\n597:802 {input}")
    );
}

/// Further cases whose expected messages were recorded from a Meilisearch 1.50 binary
/// (`POST /indexes/{uid}/search` with the filter; code `invalid_search_filter`).
#[test]
fn recorded_from_meilisearch() {
    let cases: [(&str, &str); 64] = [
        ("_geoRadius(1, 2)", "Was expecting 3 or 4 arguments for `_geoRadius`, but instead found 2.\n17:17 _geoRadius(1, 2)"),
        ("_geoRadius(1,2,3,4,5)", "Was expecting 3 or 4 arguments for `_geoRadius`, but instead found 5.\n22:22 _geoRadius(1,2,3,4,5)"),
        ("_geoRadius(1e, 2, 3)", "The `_geoRadius` filter must be in the form: `_geoRadius(latitude, longitude, radius, optionalResolution)`.\n14:21 _geoRadius(1e, 2, 3)"),
        ("_geoRadius(a, 2, 3)", "The `_geoRadius` filter must be in the form: `_geoRadius(latitude, longitude, radius, optionalResolution)`.\n12:20 _geoRadius(a, 2, 3)"),
        ("_geoRadius(1, 2, 3", "The `_geoRadius` filter must be in the form: `_geoRadius(latitude, longitude, radius, optionalResolution)`.\n19:19 _geoRadius(1, 2, 3"),
        ("_geoRadius(.x, 2, 3)", "The `_geoRadius` filter must be in the form: `_geoRadius(latitude, longitude, radius, optionalResolution)`.\n13:21 _geoRadius(.x, 2, 3)"),
        ("x = 'abc\\", "Malformed value: `abc\\\\`.\n6:10 x = 'abc\\"),
        ("x = \"\\xzz\"", "Found an invalid escaped sequence number: `\\\\xzz`.\n6:10 x = \"\\xzz\""),
        ("x = \"\\q\"", "Malformed value: `\\\\q`.\n6:8 x = \"\\q\""),
        ("\"\\xzz\" = 1", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `\\\"\\\\xzz\\\" = 1`.\n1:11 \"\\xzz\" = 1"),
        ("_foreign(a, b =)", "Was expecting a field name and an condition inside `_foreign(..)` filter but instead found ``.\n16:16 _foreign(a, b =)"),
        ("x = 1 AND _foreign(a", "Was expecting a field name and an condition inside `_foreign(..)` filter but instead found ``.\n21:21 _foreign(a"),
        ("_foreign(a, _foreign(b, c))", "Was expecting a field name and an condition inside `_foreign(..)` filter but instead found `c))`.\n25:28 _foreign(b, c))"),
        ("  _foreign(a b)", "Was expecting a field name and an condition inside `_foreign(..)` filter but instead found `b)`.\n14:16   _foreign(a b)"),
        ("x = _geoRadius", "The `_geoRadius` filter is an operation and can't be used as a value.\n5:15 x = _geoRadius"),
        ("x = _geoBoundingBox([1,2],[3,4])", "The `_geoBoundingBox` filter is an operation and can't be used as a value.\n5:33 x = _geoBoundingBox([1,2],[3,4])"),
        ("x = _geoPolygon([1,2],[3,4],[5,6])", "Found unexpected characters at the end of the filter: `([1,2],[3,4],[5,6])`. You probably forgot an `OR` or an `AND` rule.\n16:35 x = _geoPolygon([1,2],[3,4],[5,6])"),
        ("_geoBoundingBox([1,2],[3,4],[5,6])", "The `_geoBoundingBox` filter expects two pairs of arguments: `_geoBoundingBox([latitude, longitude], [latitude, longitude])`.\n35:35 _geoBoundingBox([1,2],[3,4],[5,6])"),
        ("_geoBoundingBox([1,2,3],[3,4])", "Was expecting 2 coordinates but instead found 3.\n18:19 _geoBoundingBox([1,2,3],[3,4])"),
        ("x IN [a b]", "Expected only comma-separated field names inside `IN[..]` but instead found `b]`.\n9:11 x IN [a b]"),
        ("x IN [  ", "Expected only comma-separated field names inside `IN[..]` but instead found `  `.\n7:9 x IN [  "),
        ("x IN [a,", "Expected matching `]` after the list of field names given to `IN[`\n9:9 x IN [a,"),
        ("x NOT IN a", "Expected `[` after `IN` keyword.\n10:11 x NOT IN a"),
        ("x EXISTSfoo", "Found unexpected characters at the end of the filter: `foo`. You probably forgot an `OR` or an `AND` rule.\n9:12 x EXISTSfoo"),
        ("x IS NULLABLE", "Found unexpected characters at the end of the filter: `ABLE`. You probably forgot an `OR` or an `AND` rule.\n10:14 x IS NULLABLE"),
        ("x 1 TO", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `x 1 TO`.\n1:7 x 1 TO"),
        ("x TO 5", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `x TO 5`.\n1:7 x TO 5"),
        ("NOT", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` but instead got nothing.\n4:4 NOT"),
        ("NOT = 5", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `= 5`.\n5:8 NOT = 5"),
        ("(", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` but instead got nothing.\n2:2 ("),
        ("()", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `)`.\n2:3 ()"),
        ("(a = 1", "Expression `(a = 1` is missing the following closing delimiter: `)`.\n1:7 (a = 1"),
        ("a = 1)", "Found unexpected characters at the end of the filter: `)`. You probably forgot an `OR` or an `AND` rule.\n6:7 a = 1)"),
        ("a = 1\nAND b", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `b`.\n5:6 a = 1\nAND b"),
        ("a = 1\nAND b = 2 OR\n  c", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `c`.\n3:4 a = 1\nAND b = 2 OR\n  c"),
        ("a = 1", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `a\\u{a0}= 1`.\n1:6 a = 1"),
        ("a =  ", "Was expecting a value but instead got nothing.\n6:6 a =  "),
        ("_vectors", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `_vectors`.\n1:9 _vectors"),
        ("_vectors.", "The vector filter's embedder name is invalid.\n10:10 _vectors."),
        ("_vectors.e", "The vector filter has leftover tokens.\n11:11 _vectors.e"),
        ("_vectors CONTAINS x", "Was expecting an operation like `EXISTS` or `NOT EXISTS` after the vector filter.\n10:20 _vectors CONTAINS x"),
        ("_vectors.e.userProvidedX EXISTS", "The vector filter has leftover tokens.\n24:32 _vectors.e.userProvidedX EXISTS"),
        ("_vectors.e.regenerate. EXISTS", "Was expecting one of `.fragments`, `.userProvided`, `.documentTemplate`, `.regenerate` or nothing, but instead found a point without a valid value.\n22:23 _vectors.e.regenerate. EXISTS"),
        ("_vectors.'e EXISTS", "The quotes in one of the values are inconsistent.\n10:19 _vectors.'e EXISTS"),
        ("_vectors.e.fragments.'f EXISTS", "The quotes in one of the values are inconsistent.\n22:31 _vectors.e.fragments.'f EXISTS"),
        ("_vectors.\"\\x\" EXISTS", "The vector filter's embedder name is invalid.\n10:21 _vectors.\"\\x\" EXISTS"),
        ("_vectors.e.fragmentsX EXISTS", "The vector filter is missing a fragment name.\n21:29 _vectors.e.fragmentsX EXISTS"),
        ("_vectors.e.documenttemplate EXISTS", "Was expecting one of `fragments`, `userProvided`, `documentTemplate`, `regenerate` or nothing, but instead found `documenttemplate`. Did you mean `documentTemplate`?\n12:28 _vectors.e.documenttemplate EXISTS"),
        ("_vectors.e.xyz EXISTS", "Was expecting one of `fragments`, `userProvided`, `documentTemplate`, `regenerate` or nothing, but instead found `xyz`.\n12:15 _vectors.e.xyz EXISTS"),
        ("_vectors.e.\"regenerate\" EXISTS", "Was expecting this part to be unquoted.\n13:23 _vectors.e.\"regenerate\" EXISTS"),
        ("x = \"\\u{D800}\"", "Malformed value: `\\\\u{D800}`.\n6:14 x = \"\\u{D800}\""),
        ("x = '\\u{zz}'", "Found an invalid escaped sequence number: `\\\\u{zz}`.\n6:12 x = '\\u{zz}'"),
        ("x = 'a\\x'", "The filter is incomplete and requires Unknown additional bytes to be parsed.\n1:10 x = 'a\\x'"),
        ("x = 'a\\u12'", "The filter is incomplete and requires Unknown additional bytes to be parsed.\n1:12 x = 'a\\u12'"),
        ("_geoPoint", "`_geoPoint` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n1:10 _geoPoint"),
        ("_geoPointer = 1", "`_geoPoint` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n1:16 _geoPointer = 1"),
        ("_geoDistancex = 1", "`_geoDistance` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n1:18 _geoDistancex = 1"),
        ("x = _geo", "`_geo` is a reserved keyword and thus can't be used as a filter expression. Use the `_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], [latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n5:9 x = _geo"),
        ("a = 1 OR", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` but instead got nothing.\n9:9 a = 1 OR"),
        ("a = 1 AND NOT", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` but instead got nothing.\n14:14 a = 1 AND NOT"),
        ("NOT (a = 1", "Expression `(a = 1` is missing the following closing delimiter: `)`.\n5:11 NOT (a = 1"),
        ("a IN [1,,2]", "Expected only comma-separated field names inside `IN[..]` but instead found `,2]`.\n9:12 a IN [1,,2]"),
        ("x STARTS  WITH y", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `x STARTS  WITH y`.\n1:17 x STARTS  WITH y"),
        ("xIS NULL", "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, `_geoBoundingBox` or `_geoPolygon` at `xIS NULL`.\n1:9 xIS NULL"),
    ];
    let mut mismatches = Vec::new();
    for (input, expected) in cases {
        let actual = message(input);
        if actual != expected {
            mismatches.push(format!(
                "input:    {input:?}\nexpected: {expected:?}\nactual:   {actual:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n\n{}",
        mismatches.len(),
        mismatches.join("\n\n")
    );
}
