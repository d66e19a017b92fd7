//! What the OpenAPI document states beyond what each handler declares, added once for every
//! operation: how optional query parameters, cursors and free text are read, and the links from
//! a created (or listed) resource to the operations that take its id. The schema fuzzer in CI
//! (`tests/contract`) holds the server to all of it.

use std::collections::BTreeMap;

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Components, OpenApi, RefOr, Required};

/// A pagination cursor as Keel issues it: 40 bytes (the position, the list it belongs to and an
/// HMAC), base64url without padding. A value of this shape that Keel did not issue for this list
/// and these filters is a 400 `invalid_cursor`.
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]{53}[AQgw]$";

/// A webhook URL of the plain form Keel takes: http(s), a host name of labels and a top-level
/// domain of letters, an optional port,
/// path and query; no credentials, no fragment (the server also refuses internal addresses unless
/// the operator allows them).
pub const URL_PATTERN: &str = r"^https?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$";

/// A query parameter's text: no control character.
pub const NO_CONTROLS_PATTERN: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";

/// Single-line text as `keel_domain::validate::text` takes it: no control character, and one
/// character that is not a space (the value is stored trimmed).
pub const LINE_PATTERN: &str =
    r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";

/// Free text as `keel_domain::validate::text_multiline` takes it: line breaks (`\n` or `\r\n`)
/// and tabs, no other control character.
pub const TEXT_PATTERN: &str = r"^(?:[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]|\r\n)*$";

/// Free text that must hold something besides spaces.
pub const TEXT_REQUIRED_PATTERN: &str = r"^(?:[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]|\r\n)*[^\s\u0000-\u001f\u007f-\u009f](?:[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]|\r\n)*$";

/// The markers a request field's `#[schema(pattern = "…")]` leaves for [`text_rules`], by the
/// domain's rule for the field: none is single-line text that is required (names, titles);
/// `multiline` free text that may be empty, `multiline-required` free text that may not, and
/// `line-optional` a single line where a blank value means none (a reason, a choice).
const MARKERS: &[(&str, &str)] = &[
    ("multiline", TEXT_PATTERN),
    ("multiline-required", TEXT_REQUIRED_PATTERN),
    ("line-optional", NO_CONTROLS_PATTERN),
];

pub fn apply(doc: &mut OpenApi) {
    query_parameters(doc);
    if let Some(components) = doc.components.as_mut() {
        text_rules(components);
        let scopes: Vec<&str> = keel_domain::policy::Scope::ALL.iter().map(|s| s.as_str()).collect();
        name_enum(components, "Scope", "What an API client may do", &scopes);
        name_enum(
            components,
            "EventType",
            "A kind of event a webhook subscription receives",
            keel_domain::webhook::EVENT_TYPES,
        );
        for (schema, property, values) in [
            ("CreateApiClientRequest", "scopes", "Scope"),
            ("CreateWebhookRequest", "event_types", "EventType"),
            ("UpdateWebhookRequest", "event_types", "EventType"),
        ] {
            enumerate_items(components, schema, property, values);
        }
    }
    if let Some(components) = doc.components.as_mut() {
        kind_ranges(components);
        program_years(components);
        template_steps(components);
        group_kinds(components);
    }
    links(doc);
}

/// The object schema of the component `name`; the document is generated from our own types, so
/// a missing one is a bug here.
fn object_mut<'a>(components: &'a mut Components, name: &str) -> &'a mut utoipa::openapi::schema::Object {
    match components.schemas.get_mut(name) {
        Some(RefOr::T(Schema::Object(object))) => object,
        _ => panic!("{name} is an object component"),
    }
}

/// A team is created with its leader; a cohort has none (`keel_domain::group::Group::create`).
fn group_kinds(components: &mut Components) {
    let group = object_mut(components, "CreateGroupRequest");
    let extensions = group.extensions.get_or_insert_with(Default::default);
    extensions.insert(
        "if".to_owned(),
        serde_json::json!({ "properties": { "kind": { "const": "team" } }, "required": ["kind"] }),
    );
    extensions.insert(
        "then".to_owned(),
        serde_json::json!({
            "properties": { "team_leader_id": { "type": "string", "format": "uuid" } },
            "required": ["team_leader_id"],
        }),
    );
    extensions.insert("else".to_owned(), serde_json::json!({ "properties": { "team_leader_id": { "type": "null" } } }));
}

/// A template's step is one of the eight steps, not any phase (`on_hold`, `completed`,
/// `cancelled` are not steps). That the steps come in program order, include context, coaching
/// and end review, and carry guards of their own step are rules over the whole list, said in the
/// descriptions.
fn template_steps(components: &mut Components) {
    use keel_domain::engagement::Phase;
    let step = object_mut(components, "TemplateStep");
    let steps: Vec<&str> = Phase::ALL.iter().filter(|p| p.is_active_step()).map(|p| p.as_str()).collect();
    step.properties.insert(
        "phase".to_owned(),
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("One of the eight steps, in program order."))
            .enum_values(Some(steps))
            .into(),
    );
}

/// A program's (and a contract's) dates lie in the years `keel_domain::engagement::YEARS` (2000 to 2100); that the
/// end is at most 36 months after the start is a rule between two dates (one of them stored, for a
/// change), which a schema cannot state, and is said in the fields' descriptions.
fn program_years(components: &mut Components) {
    let (first, last) = keel_domain::engagement::YEARS;
    assert_eq!((first, last), (2000, 2100), "the pattern below spells these years");
    let pattern = "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::Object(object)) = schema else { continue };
        for (name, property) in object.properties.iter_mut() {
            if !matches!(name.as_str(), "start_date" | "planned_end_date" | "new_planned_end_date" | "end_date") {
                continue;
            }
            if let RefOr::T(Schema::Object(date)) = property
                && is_string(date)
            {
                date.pattern = Some(pattern.to_owned());
            }
        }
    }
}

/// How long a session lasts depends on its kind (`keel_domain::coaching::check_duration`): micro
/// 5 to 30 minutes, regular 15 to 480. Where a request names the kind, the schema says so with
/// `if`/`then`; where the kind is the stored session's (a change or a completion), the property
/// holds the range of both kinds, and the session decides. A program's length in months is at
/// most 36 (`keel_domain::engagement::MAX_DURATION_MONTHS`), in weeks 156.
fn kind_ranges(components: &mut Components) {
    // if micro: at most 30; else if regular: at least 15.
    let by_kind = |field: &str| {
        let bound = |key: &str, value: u32| {
            let mut properties = serde_json::Map::new();
            properties.insert(field.to_owned(), serde_json::json!({ key: value }));
            serde_json::json!({ "properties": properties })
        };
        [
            ("if", serde_json::json!({ "properties": { "kind": { "const": "micro" } }, "required": ["kind"] })),
            ("then", bound("maximum", 30)),
            (
                "else",
                serde_json::json!({
                    "if": { "properties": { "kind": { "const": "regular" } }, "required": ["kind"] },
                    "then": bound("minimum", 15),
                }),
            ),
        ]
    };
    for name in ["ScheduleSessionRequest", "NextSessionRequest", "PlannedSession", "SessionDefaults"] {
        let object = object_mut(components, name);
        // `if`/`then`/`else` beside the generated keywords (generated clients read them as
        // annotations; under an `allOf` openapi-generator would compose the type instead).
        let extensions = object.extensions.get_or_insert_with(Default::default);
        for (keyword, schema) in by_kind("duration_minutes") {
            extensions.insert(keyword.to_owned(), schema);
        }
    }
    for (name, field) in
        [("UpdateSessionRequest", "duration_minutes"), ("CompleteSessionRequest", "actual_duration_minutes")]
    {
        let object = object_mut(components, name);
        let Some(RefOr::T(Schema::Object(minutes))) = object.properties.get_mut(field) else {
            panic!("{name}.{field} is a number");
        };
        minutes.minimum = Some(5.into());
        minutes.maximum = Some(480.into());
    }
    let length = object_mut(components, "ProgramLength");
    let months = keel_domain::engagement::MAX_DURATION_MONTHS;
    let extensions = length.extensions.get_or_insert_with(Default::default);
    extensions.insert(
        "if".to_owned(),
        serde_json::json!({ "properties": { "unit": { "const": "months" } }, "required": ["unit"] }),
    );
    extensions.insert(
        "then".to_owned(),
        serde_json::json!({ "properties": { "min": { "maximum": months }, "default": { "maximum": months }, "max": { "maximum": months } } }),
    );
}

fn operations_mut(doc: &mut OpenApi) -> impl Iterator<Item = (&String, &'static str, &mut Operation)> {
    doc.paths
        .paths
        .iter_mut()
        .flat_map(|(path, item)| crate::openapi::operations(item).map(move |(method, op)| (path, method, op)))
}

/// An optional query parameter sent empty means the same as one left out (`allowEmptyValue`);
/// a cursor has the shape Keel issues.
fn query_parameters(doc: &mut OpenApi) {
    for (_, _, op) in operations_mut(doc) {
        for parameter in op.parameters.iter_mut().flatten() {
            let RefOr::T(parameter) = parameter else { continue };
            if parameter.parameter_in != ParameterIn::Query || parameter.required == Required::True {
                continue;
            }
            parameter.extensions.get_or_insert_with(Default::default).insert("allowEmptyValue".to_owned(), true.into());
            if let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut()
                && is_string(object)
                && object.pattern.is_none()
                && object.format.is_none()
                && object.enum_values.is_none()
            {
                // `ApiQuery` refuses control characters in any parameter.
                object.pattern = Some(NO_CONTROLS_PATTERN.to_owned());
            }
            if parameter.name == "cursor" {
                parameter.schema = Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(CURSOR_PATTERN))
                        .description(Some("The `next_cursor` of the previous page, unchanged, with the same filters"))
                        .into(),
                );
            }
        }
    }
}

/// Every string property of a component that has a `maxLength` and no format or enum is free
/// text read by the domain's text rules: single-line unless marked multi-line.
fn text_rules(components: &mut Components) {
    for schema in components.schemas.values_mut() {
        visit_strings(schema, &mut |object| {
            if object.pattern.as_deref() == Some("url") {
                object.pattern = Some(URL_PATTERN.to_owned());
                return;
            }
            if object.max_length.is_none() || object.format.is_some() || object.enum_values.is_some() {
                return;
            }
            let rule = match object.pattern.as_deref() {
                None => LINE_PATTERN,
                Some(marker) => match MARKERS.iter().find(|(name, _)| *name == marker) {
                    Some((_, pattern)) => pattern,
                    None => return,
                },
            };
            object.pattern = Some(rule.to_owned());
        });
    }
}

/// A named string enum among the components, for generated clients to name.
fn name_enum(components: &mut Components, name: &str, description: &str, values: &[&str]) {
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values.iter().copied()))
        .into();
    components.schemas.insert(name.to_owned(), schema);
}

/// An array of names (scopes, event types): at least one, each the named enum `items`.
fn enumerate_items(components: &mut Components, schema: &str, property: &str, items: &str) {
    let object = object_mut(components, schema);
    let Some(RefOr::T(field)) = object.properties.get_mut(property) else { panic!("{schema}.{property}") };
    let array = match field {
        Schema::Array(array) => array,
        Schema::OneOf(one) => match one.items.iter_mut().find_map(|s| match s {
            RefOr::T(Schema::Array(array)) => Some(array),
            _ => None,
        }) {
            Some(array) => array,
            None => panic!("{schema}.{property} is an array"),
        },
        _ => panic!("{schema}.{property} is an array"),
    };
    array.min_items = Some(1);
    array.items = utoipa::openapi::schema::ArrayItems::RefOrSchema(Box::new(RefOr::Ref(
        utoipa::openapi::Ref::from_schema_name(items),
    )));
}

fn is_string(object: &utoipa::openapi::schema::Object) -> bool {
    use utoipa::openapi::schema::SchemaType;
    match &object.schema_type {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(types) => types.contains(&Type::String),
        _ => false,
    }
}

fn visit_strings(schema: &mut RefOr<Schema>, f: &mut dyn FnMut(&mut utoipa::openapi::schema::Object)) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(object) => {
            if is_string(object) {
                f(object);
            }
            for property in object.properties.values_mut() {
                visit_strings(property, f);
            }
        }
        Schema::Array(array) => {
            if let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &mut array.items {
                visit_strings(items, f);
            }
        }
        Schema::OneOf(one) => one.items.iter_mut().for_each(|s| visit_strings(s, f)),
        Schema::AnyOf(any) => any.items.iter_mut().for_each(|s| visit_strings(s, f)),
        Schema::AllOf(all) => all.items.iter_mut().for_each(|s| visit_strings(s, f)),
        _ => {}
    }
}

/// The component a response's JSON body refers to.
fn body_schema<'a>(op: &Operation, status: &str, components: &'a Components) -> Option<&'a Schema> {
    let RefOr::T(response) = op.responses.responses.get(status)? else { return None };
    let RefOr::T(content) = response.content.get("application/json")? else { return None };
    let RefOr::Ref(reference) = content.schema.as_ref()? else { return None };
    let name = reference.ref_location.rsplit('/').next()?;
    match components.schemas.get(name)? {
        RefOr::T(schema) => Some(schema),
        RefOr::Ref(_) => None,
    }
}

fn properties(schema: &Schema) -> Option<&BTreeMap<String, RefOr<Schema>>> {
    match schema {
        Schema::Object(object) => Some(&object.properties),
        _ => None,
    }
}

/// The properties of a created resource (a `POST`'s body) or of a page's first item (a list's
/// `items`), with the JSON pointer prefix that reaches them.
fn resource_properties<'a>(
    schema: &'a Schema,
    components: &'a Components,
    list: bool,
) -> Option<(&'a BTreeMap<String, RefOr<Schema>>, &'static str)> {
    let props = properties(schema)?;
    if !list {
        return Some((props, ""));
    }
    let RefOr::T(Schema::Array(array)) = props.get("items")? else { return None };
    let utoipa::openapi::schema::ArrayItems::RefOrSchema(items) = &array.items else { return None };
    let item = match items.as_ref() {
        RefOr::Ref(reference) => match components.schemas.get(reference.ref_location.rsplit('/').next()?)? {
            RefOr::T(schema) => schema,
            RefOr::Ref(_) => return None,
        },
        RefOr::T(schema) => schema,
    };
    Some((properties(item)?, "/items/0"))
}

fn params_of(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
}

/// The part of `path` up to its last parameter (`/v1/groups/{group_id}` of
/// `/v1/groups/{group_id}/members`), or the path itself when it has none.
fn scope_of(path: &str) -> &str {
    match path.rfind('}') {
        Some(end) => &path[..=end],
        None => path,
    }
}

/// Links from each `POST` that creates a resource (201) and each list (`GET`, 200 with `items`)
/// to the operations that take what the response holds: for an operation under the source's
/// scope, each path parameter comes from the source's own path, or from the response (the new
/// resource's, or the first item's, `id` for the segment right after the collection, else the
/// property of the parameter's name: a design's `version`, a member's `user_id`).
fn links(doc: &mut OpenApi) {
    let Some(components) = doc.components.clone() else { return };
    let targets: Vec<(String, String)> =
        operations_mut(doc).filter_map(|(path, _, op)| op.operation_id.clone().map(|id| (path.clone(), id))).collect();
    for (path, method, op) in operations_mut(doc) {
        let (status, list) = match method {
            "POST" => ("201", false),
            "GET" => ("200", true),
            _ => continue,
        };
        let Some(schema) = body_schema(op, status, &components) else { continue };
        let Some((props, prefix)) = resource_properties(schema, &components, list) else { continue };
        let source_params = params_of(path);
        let own = format!("{path}/{{");
        let mut links = BTreeMap::new();
        for (target_path, target_id) in &targets {
            if target_path == path || !target_path.starts_with(scope_of(path)) {
                continue;
            }
            // The parameter right after the source's own path is the new (or listed) resource.
            let own_param = target_path.strip_prefix(&own).and_then(|r| r.split_once('}')).map(|(p, _)| p);
            let mut from_response = Vec::new();
            let mut usable = true;
            for param in params_of(target_path) {
                if source_params.contains(&param) {
                    continue;
                }
                let name = if props.contains_key(param) {
                    param
                } else if own_param == Some(param) && props.contains_key("id") {
                    "id"
                } else {
                    usable = false;
                    break;
                };
                from_response.push((param, format!("$response.body#{prefix}/{name}")));
            }
            if !usable || from_response.is_empty() {
                continue;
            }
            let what = if list { "the first item's" } else { "the new resource's" };
            let mut link = LinkBuilder::new().operation_id(target_id.clone()).description(format!(
                "{} from {what} fields in this response",
                from_response.iter().map(|(p, _)| format!("`{p}`")).collect::<Vec<_>>().join(", ")
            ));
            for (param, value) in from_response {
                link = link.parameter(param, value);
            }
            for p in &source_params {
                link = link.parameter(*p, format!("$request.path.{p}"));
            }
            links.insert(target_id.clone(), RefOr::T(link.build()));
        }
        if links.is_empty() {
            continue;
        }
        if let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) {
            response.links.extend(links);
        }
    }
}
