//! Property tests of Keel's own parsers, with the committed corpora in `crates/http/fuzz-corpus/`
//! run first: cursors, request bodies, bearer tokens, webhook URLs, `If-Match` and
//! `Idempotency-Key`. Besides "never panics", each checks that the parser and the OpenAPI
//! document agree: what the document's pattern allows the server takes, and what the server takes
//! the pattern allows. (cargo fuzz needs a nightly toolchain; these run in `cargo test`, 256
//! cases per property unless `PROPTEST_CASES` says otherwise.)

use proptest::prelude::*;
use regex::Regex;

use crate::contract::{
    CURSOR_PATTERN, LINE_PATTERN, NO_CONTROLS_PATTERN, TEXT_PATTERN, TEXT_REQUIRED_PATTERN, URL_PATTERN,
};
use keel_domain::error::ValidationErrors;
use keel_domain::validate;

fn corpus(name: &str) -> Vec<String> {
    let path = format!("{}/fuzz-corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")).lines().map(str::to_owned).collect()
}

/// Strings the pattern generates (proptest takes the pattern without its anchors).
fn matching(pattern: &str, max_chars: usize) -> impl Strategy<Value = String> {
    let bare = pattern.trim_start_matches('^').trim_end_matches('$').to_owned();
    proptest::string::string_regex(&bare)
        .expect("the pattern is a regular expression proptest reads")
        .prop_filter("within maxLength", move |s| s.chars().count() <= max_chars)
}

/// Mostly text with the characters that matter here: controls, spaces, line breaks, quotes.
fn tricky_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                Just('\n'),
                Just('\r'),
                Just('\t'),
                Just(' '),
                Just('\u{a0}'),
                Just('\u{85}'),
                Just('\u{0}'),
                Just('"'),
                Just(','),
                Just('*'),
                Just('W'),
                Just('/'),
                proptest::char::range('0', '9'),
                proptest::char::range('a', 'z'),
            ],
            0..24
        )
        .prop_map(|chars| chars.into_iter().collect()),
    ]
}

fn full_match(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the pattern compiles")
}

fn line(value: &str) -> bool {
    validate::text(&mut ValidationErrors::new(), "f", value, 1, 200).is_some()
}

fn free_text(value: &str) -> bool {
    validate::text_multiline(&mut ValidationErrors::new(), "f", value, 2000).is_some()
}

proptest! {
    #[test]
    fn single_line_text_and_its_pattern_agree(value in matching(LINE_PATTERN, 200), other in tricky_text()) {
        prop_assert!(line(&value), "the document allows {value:?}");
        let pattern = full_match(LINE_PATTERN);
        if other.chars().count() <= 200 {
            prop_assert_eq!(line(&other), pattern.is_match(&other), "{:?}", other);
        }
    }

    #[test]
    fn free_text_and_its_patterns_agree(value in matching(TEXT_PATTERN, 2000), required in matching(TEXT_REQUIRED_PATTERN, 2000), other in tricky_text()) {
        prop_assert!(free_text(&value), "the document allows {value:?}");
        prop_assert!(free_text(&required) && !required.trim().is_empty(), "{required:?}");
        prop_assert_eq!(free_text(&other), full_match(TEXT_PATTERN).is_match(&other), "{:?}", other);
        // An optional single line (pre-trimmed by the domain) takes what has no control at all.
        if full_match(NO_CONTROLS_PATTERN).is_match(&other) {
            prop_assert!(other.trim().is_empty() || line(other.trim()), "{:?}", other);
        }
    }

    #[test]
    fn if_match_parses_what_its_pattern_allows(value in tricky_text(), versions in proptest::collection::vec(0i64..1_000_000, 1..4)) {
        let pattern = full_match(crate::openapi::IF_MATCH_PATTERN);
        let read = crate::extract::read_if_match(&value);
        prop_assert_eq!(read.is_ok(), pattern.is_match(&value), "{:?}", value);
        let list = versions.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ");
        prop_assert_eq!(crate::extract::parse_if_match(&list), Some(keel_domain::Precondition::OneOf(versions)));
    }

    #[test]
    fn idempotency_keys_and_their_pattern_agree(value in tricky_text(), key in matching("^[!-~]+$", 255)) {
        prop_assert!(crate::idempotency::valid_key(&key));
        let documented = full_match("^[!-~]+$").is_match(&value) && value.chars().count() <= 255;
        prop_assert_eq!(crate::idempotency::valid_key(&value), documented, "{:?}", value);
    }

    #[test]
    fn cursors_never_panic_and_issued_ones_fit_the_document(value in tricky_text(), forged in matching(CURSOR_PATTERN, 54), after in any::<u128>()) {
        let codec = crate::cursor::CursorCodec::new(b"property-test-key");
        let _ = codec.decode("users", &value);
        prop_assert!(codec.decode("users", &forged).is_err(), "a forged cursor is refused");
        let issued = codec.encode("users", uuid::Uuid::from_u128(after));
        prop_assert!(full_match(CURSOR_PATTERN).is_match(&issued), "{}", issued);
        prop_assert_eq!(codec.decode("users", &issued).ok(), Some(uuid::Uuid::from_u128(after)));
        prop_assert!(codec.decode("users?role=coach", &issued).is_err(), "another list's cursor");
    }

    #[test]
    fn webhook_urls_the_document_allows_are_taken(url in matching(URL_PATTERN, 2048), other in tricky_text()) {
        prop_assert!(keel_domain::webhook::validate_target(&url, true).is_ok(), "{}", url);
        let _ = keel_domain::webhook::validate_target(&other, false);
    }

    #[test]
    fn bearer_tokens_never_panic(value in tricky_text()) {
        let service = crate::auth::TokenService::new(&crate::auth::KeyFile::generate(), Default::default(), None);
        prop_assert!(service.verify(&value).is_err());
    }

    #[test]
    fn json_bodies_normalize_once_and_never_panic(value in json()) {
        let mut once = value.clone();
        crate::extract::integral_numbers_as_integers(&mut once);
        let mut twice = once.clone();
        crate::extract::integral_numbers_as_integers(&mut twice);
        prop_assert_eq!(&once, &twice);
        let _ = serde_json::from_value::<crate::api::users::CreateUserRequest>(once.clone());
        let _ = serde_json::from_value::<crate::api::sessions::CompleteSessionRequest>(once.clone());
        let _ = serde_json::from_value::<crate::api::templates::CreateTemplateRequest>(once);
    }
}

fn json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        (-1_000_000i64..1_000_000).prop_map(|n| Value::from(n as f64)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("name".to_owned()),
                    Just("email".to_owned()),
                    Just("duration_minutes".to_owned()),
                    any::<String>()
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn the_corpora_hold() {
    let line_pattern = full_match(LINE_PATTERN);
    let if_match = full_match(crate::openapi::IF_MATCH_PATTERN);
    for value in corpus("if-match.txt") {
        assert_eq!(crate::extract::read_if_match(&value).is_ok(), if_match.is_match(&value), "{value:?}");
    }
    let codec = crate::cursor::CursorCodec::new(b"corpus-key");
    for value in corpus("cursors.txt") {
        assert!(codec.decode("users", &value).is_err(), "{value:?}");
    }
    let url_pattern = full_match(URL_PATTERN);
    for value in corpus("webhook-urls.txt") {
        if url_pattern.is_match(&value) {
            assert!(keel_domain::webhook::validate_target(&value, true).is_ok(), "{value:?}");
        }
        let _ = keel_domain::webhook::validate_target(&value, false);
    }
    let service = crate::auth::TokenService::new(&crate::auth::KeyFile::generate(), Default::default(), None);
    for value in corpus("bearer-tokens.txt") {
        assert!(service.verify(&value).is_err(), "{value:?}");
    }
    for value in corpus("idempotency-keys.txt") {
        let documented = full_match("^[!-~]+$").is_match(&value) && value.chars().count() <= 255;
        assert_eq!(crate::idempotency::valid_key(&value), documented, "{value:?}");
    }
    for value in corpus("json-bodies.txt") {
        let mut body: serde_json::Value = serde_json::from_str(&value).expect(&value);
        crate::extract::integral_numbers_as_integers(&mut body);
        let _ = serde_json::from_value::<crate::api::users::CreateUserRequest>(body);
    }
    assert!(line_pattern.is_match("Ann Lee") && !line_pattern.is_match(" \t"));
}
