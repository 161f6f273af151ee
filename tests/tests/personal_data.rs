//! Personal data never shows in `Debug` output: requests and responses are filled, from the
//! spec, with personal data in every member marked sensitive (and plain values elsewhere),
//! decoded into the generated types, and printed.

use std::path::Path;

use ess_codegen::spec::{Spec, TypeDef};
use ess_generated::*;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

fn spec() -> Spec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/ess.yaml");
    ess_codegen::load_file(&path)
        .unwrap_or_else(|d| panic!("spec/ess.yaml does not load:\n{d}"))
        .into_spec()
}

/// A value of `type_name` in wire form: personal data (remembered in `personal`) in every
/// sensitive member, plain values in the others, nested types filled the same way.
fn fill(spec: &Spec, type_name: &str, personal: &mut Vec<String>, depth: usize) -> Value {
    let def: &TypeDef = spec
        .types
        .get(type_name)
        .unwrap_or_else(|| panic!("no type {type_name}"));
    let mut object = Map::new();
    for m in &def.members {
        let ty = m.ty.as_str();
        let (item, list) = match ty.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
            Some(item) => (item, true),
            None => (ty, false),
        };
        let value = match item {
            "string" if m.is_sensitive() => {
                let n = personal.len();
                let value = format!("张三{n:03}-13800{n:06}-11010119900307{n:04}");
                personal.push(value.clone());
                json!(value)
            }
            "string" => json!("plain"),
            "int64" | "uint64" => json!(1),
            "float" => json!(1.5),
            "bool" => json!(true),
            // Bounded: some types nest themselves.
            _ if depth >= 6 => continue,
            named => fill(spec, named, personal, depth + 1),
        };
        object.insert(
            m.name.to_string(),
            if list { json!([value]) } else { value },
        );
    }
    Value::Object(object)
}

/// Fills `T` (spec type `type_name`), checks the typed value holds every piece of personal
/// data, and that its `Debug` output shows none of it.
fn assert_debug_hides_personal_data<T>(spec: &Spec, type_name: &str, at_least: usize)
where
    T: DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let mut personal = Vec::new();
    let wire = fill(spec, type_name, &mut personal, 0);
    assert!(
        personal.len() >= at_least,
        "{type_name}: only {} sensitive members were found",
        personal.len()
    );
    let typed: T =
        serde_json::from_value(wire).unwrap_or_else(|e| panic!("{type_name} does not decode: {e}"));
    let sent = serde_json::to_string(&typed).unwrap();
    let shown = format!("{typed:?} {typed:#?}");
    for value in &personal {
        assert!(sent.contains(value.as_str()), "{type_name} dropped {value}");
        assert!(
            !shown.contains(value.as_str()),
            "{type_name} Debug shows {value}:\n{shown}"
        );
    }
    assert!(shown.contains("<redacted>"), "{shown}");
    // Plain members still show, so the output stays useful.
    assert!(shown.contains("plain"), "{type_name}: {shown}");
}

#[test]
fn create_flow_request_hides_every_signers_personal_data() {
    // Signers' names, mobiles, ID and email; the CC'd parties' mobiles; the operator's IP.
    assert_debug_hides_personal_data::<CreateFlowRequest>(&spec(), "CreateFlowRequest", 10);
}

#[test]
fn describe_flow_info_response_hides_every_signers_personal_data() {
    assert_debug_hides_personal_data::<DescribeFlowInfoResponse>(
        &spec(),
        "DescribeFlowInfoResponse",
        3,
    );
}

#[test]
fn links_and_identity_numbers_of_other_actions_are_hidden_too() {
    let spec = spec();
    assert_debug_hides_personal_data::<CreateBatchSignUrlRequest>(
        &spec,
        "CreateBatchSignUrlRequest",
        4,
    );
    assert_debug_hides_personal_data::<CreateBatchSignUrlResponse>(
        &spec,
        "CreateBatchSignUrlResponse",
        1,
    );
    assert_debug_hides_personal_data::<CreateFlowByFilesRequest>(
        &spec,
        "CreateFlowByFilesRequest",
        8,
    );
    assert_debug_hides_personal_data::<CreateOrganizationAuthUrlRequest>(
        &spec,
        "CreateOrganizationAuthUrlRequest",
        6,
    );
    assert_debug_hides_personal_data::<CreateSchemeUrlResponse>(
        &spec,
        "CreateSchemeUrlResponse",
        2,
    );
    assert_debug_hides_personal_data::<DescribeFileUrlsResponse>(
        &spec,
        "DescribeFileUrlsResponse",
        1,
    );
}

/// Every position of `value` (members of objects, the first item of lists), as JSON
/// pointers: the places a value can be swapped for one no repair reads.
fn positions(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                let here = format!("{at}/{name}");
                out.push(here.clone());
                positions(member, here, out);
            }
        }
        Value::Array(items) => {
            if let Some(first) = items.first() {
                let here = format!("{at}/0");
                out.push(here.clone());
                positions(first, here, out);
            }
        }
        _ => {}
    }
}

#[test]
fn no_answer_of_any_action_shows_personal_data_in_debug_or_in_a_decode_error() {
    // Personal data no drift repair can read as the documented type: text for a number, a
    // flag, an object or a list; an object for text.
    const NAME: &str = "欧阳明月";
    const MOBILE: &str = "13712345678";
    let unreadable_text = json!(format!("{NAME} {MOBILE}"));
    let unreadable_object = json!({ "Holder": format!("{NAME} {MOBILE}") });
    let spec = spec();
    let (mut answers, mut errors) = (0, 0);
    for (action, def) in spec.actions.iter() {
        let action = action.as_str();
        let mut personal = Vec::new();
        let data = fill(&spec, def.output.as_str(), &mut personal, 0);
        let body = json!({ "Response": data });
        let shown = ess_generated::__decode_answer(action, body.to_string().as_bytes())
            .unwrap_or_else(|| panic!("{action} is not generated"))
            .unwrap_or_else(|e| panic!("{action}'s filled answer does not decode: {e}"));
        for value in &personal {
            assert!(
                !shown.contains(value.as_str()),
                "{action}'s answer shows {value}:\n{shown}"
            );
        }
        answers += 1;
        let mut at = Vec::new();
        positions(&body["Response"], "/Response".to_owned(), &mut at);
        for pointer in at {
            let mut broken = body.clone();
            let slot = broken.pointer_mut(&pointer).unwrap();
            *slot = if slot.is_string() {
                unreadable_object.clone()
            } else {
                unreadable_text.clone()
            };
            let outcome =
                ess_generated::__decode_answer(action, broken.to_string().as_bytes()).unwrap();
            let Err(error) = outcome else {
                panic!("{action}: an unreadable value at {pointer} decoded");
            };
            assert!(
                !error.contains(MOBILE) && !error.contains(NAME),
                "{action}: the error for {pointer} repeats the value:\n{error}"
            );
            errors += 1;
        }
    }
    // Every action's answer, and over a thousand members in them.
    assert_eq!(answers, spec.actions.len());
    assert!(errors > 1000, "only {errors} members were tried");
}
