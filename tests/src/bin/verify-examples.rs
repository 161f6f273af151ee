//! Round-trips official request/response examples through the generated types; run by
//! `cargo xtask verify-examples [FILE...]`, which supplies the pinned upstream examples.json
//! when no FILE is given. It lives here, not in xtask, so xtask builds even when generated
//! code does not.
//!
//! FILE is in the official CLI's examples.json format: per action, a list of
//! `{title, input, output}` where `input` is the raw HTTP request text and `output` the JSON
//! response (a top-level `actions` object, as in the wheel, is accepted too).

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Deserialize;
use serde_json::Value;

type Result<T, E = String> = std::result::Result<T, E>;

#[derive(Debug, Deserialize)]
struct Example {
    title: String,
    input: String,
    output: Value,
}

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: verify-examples FILE... (or `cargo xtask verify-examples`)");
        return ExitCode::FAILURE;
    }
    match run(&files) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Error codes by which the service refuses a request's form.
const MALFORMED: &[&str] = &["MissingParameter", "InvalidParameter", "UnknownParameter"];

/// Official example requests whose values are broken on their face, which validation rightly
/// refuses: (action, index of the example in the action's list, the refused path, why).
/// Each must still be refused; one that no longer is (upstream fixed it) is a failure, so the
/// list never hides anything else.
const BROKEN: &[(&str, usize, &str, &str)] = &[
    (
        "ModifyApplicationCallbackInfo",
        1,
        "CallbackInfo.CallbackKey",
        "a masked key, 20 characters where AES-256 takes 32",
    ),
    (
        "CreateFlow",
        0,
        "Approvers[0].ApproverMobile",
        "a 12-digit mobile number",
    ),
    (
        "CreatePrepareFlow",
        2,
        "Approvers[0].RecipientId",
        "a masked id, 26 characters",
    ),
    (
        "CreatePrepareFlow",
        2,
        "Approvers[1].RecipientId",
        "a masked id, 31 characters",
    ),
    (
        "CreatePrepareFlow",
        3,
        "Approvers[0].RecipientId",
        "a masked id, 26 characters",
    ),
    (
        "CreatePrepareFlow",
        3,
        "Approvers[1].RecipientId",
        "a masked id, 31 characters",
    ),
];

/// Runs the check and prints failures and the closing `N passed, M failed` line.
fn run(files: &[String]) -> Result<ExitCode> {
    let mut report = Report::default();
    // Per entry of BROKEN: whether its example was checked, and whether it was refused.
    let mut present = vec![false; BROKEN.len()];
    let mut expected = vec![false; BROKEN.len()];
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| format!("reading {file}: {e}"))?;
        let examples = parse(&text).map_err(|e| format!("parsing {file}: {e}"))?;
        for (action, list) in &examples {
            for (index, example) in list.iter().enumerate() {
                for (k, (a, i, ..)) in BROKEN.iter().enumerate() {
                    present[k] |= a == action && *i == index;
                }
                let result = verify(action, example).or_else(|problems| {
                    let left: Vec<String> = problems
                        .into_iter()
                        .filter(|p| {
                            let known = BROKEN.iter().position(|(a, i, path, _)| {
                                a == action
                                    && *i == index
                                    && p.starts_with(&format!(
                                        "request: refused by validation: {path}:"
                                    ))
                            });
                            if let Some(k) = known {
                                expected[k] = true;
                            }
                            known.is_none()
                        })
                        .collect();
                    if left.is_empty() { Ok(()) } else { Err(left) }
                });
                report.record(action, &example.title, result);
            }
        }
    }
    for (((action, index, path, why), seen), present) in BROKEN.iter().zip(expected).zip(present) {
        if seen {
            println!("REFUSED {action} example {index}: {path} is {why}");
        } else if present {
            report.failures.push(format!(
                "STALE {action} example {index}: {path} ({why}) is no longer refused; remove it from BROKEN"
            ));
        }
    }
    for failure in &report.failures {
        println!("{failure}");
    }
    println!("{} passed, {} failed", report.passed, report.failures.len());
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Default)]
struct Report {
    passed: usize,
    failures: Vec<String>,
}

impl Report {
    fn record(&mut self, action: &str, title: &str, result: Result<(), Vec<String>>) {
        match result {
            Ok(()) => self.passed += 1,
            Err(problems) => {
                for p in problems {
                    self.failures
                        .push(format!("FAIL {action} \"{title}\": {p}"));
                }
            }
        }
    }
}

fn parse(text: &str) -> Result<BTreeMap<String, Vec<Example>>, serde_json::Error> {
    let mut value: Value = serde_json::from_str(text)?;
    if let Some(actions) = value.get_mut("actions") {
        value = actions.take();
    }
    serde_json::from_value(value)
}

/// Checks one example; every problem found, each naming the JSON path.
fn verify(action: &str, example: &Example) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let output = match &example.output {
        Value::String(s) => serde_json::from_str(s).map_err(|e| format!("response: not JSON: {e}")),
        other => Ok(other.clone()),
    };
    // An example whose answer is the service refusing the request's form (a value over a
    // documented maximum, say) may be refused by validation too: the service did the same.
    let refused_by_service = output
        .as_ref()
        .ok()
        .and_then(|o| o.pointer("/Response/Error/Code")?.as_str())
        .filter(|code| MALFORMED.iter().any(|class| code.starts_with(class)))
        .map(str::to_owned);
    match request_body(&example.input) {
        Err(e) => problems.push(format!("request: {e}")),
        Ok(body) => {
            let mut request = Vec::new();
            compare("request", action, false, body, &mut request);
            for problem in request {
                match (
                    &refused_by_service,
                    problem.strip_prefix("request: refused by validation: "),
                ) {
                    (Some(code), Some(violation)) => {
                        println!(
                            "REFUSED {action} \"{}\": {violation}, as the service did ({code})",
                            example.title
                        );
                    }
                    _ => problems.push(problem),
                }
            }
        }
    }
    match output {
        Err(e) => problems.push(e),
        Ok(mut output) => match output.get_mut("Response").map(Value::take) {
            None => problems.push("response: no `Response` object".to_owned()),
            Some(response) => {
                if let Some(error) = response.get("Error") {
                    let code = error
                        .get("Code")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if !ess_generated::ErrorCode::from(code).is_known() {
                        problems.push(format!(
                            "response: unknown error code `{code}` at $.Error.Code"
                        ));
                    }
                } else {
                    compare("response", action, true, response, &mut problems);
                }
            }
        },
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The JSON body of a raw HTTP request (after the first blank line).
fn request_body(raw: &str) -> Result<Value> {
    let raw = raw.replace("\r\n", "\n");
    let Some((_, body)) = raw.split_once("\n\n") else {
        return Err("no blank line between headers and body".to_owned());
    };
    serde_json::from_str(body.trim()).map_err(|e| format!("the body is not JSON: {e}"))
}

fn compare(what: &str, action: &str, response: bool, original: Value, problems: &mut Vec<String>) {
    match ess_generated::__roundtrip(action, response, original.clone()) {
        None => problems.push(format!("{what}: unknown action")),
        Some(Err(e)) => problems.push(format!("{what}: does not deserialize {e}")),
        Some(Ok((back, refused))) => {
            let mut diffs = Vec::new();
            diff("$", &original, &back, &mut diffs);
            problems.extend(diffs.into_iter().map(|d| format!("{what}: {d}")));
            // Tencent shows the example as valid: validation must accept it.
            problems.extend(
                refused
                    .into_iter()
                    .map(|v| format!("{what}: refused by validation: {v}")),
            );
        }
    }
}

/// Differences between the original JSON and the round-tripped one. A member that is null
/// in the original may be absent after the round trip (the types omit `None`), and numbers
/// compare by value (`1` equals `1.0`).
fn diff(path: &str, original: &Value, back: &Value, out: &mut Vec<String>) {
    match (original, back) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let here = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => diff(&here, value, other, out),
                    None if value.is_null() => {}
                    None => out.push(format!("{here} is lost in the round trip")),
                }
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{key} appears after the round trip"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}[{i}]"), x, y, out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: {a} became {b}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_come_after_the_blank_line() {
        let raw =
            "POST / HTTP/1.1\nHost: ess.tencentcloudapi.com\n<公共请求参数>\n\n{\"FlowId\": \"x\"}";
        assert_eq!(
            request_body(raw).unwrap(),
            serde_json::json!({"FlowId": "x"})
        );
        assert!(request_body("POST / HTTP/1.1").is_err());
    }

    #[test]
    fn diff_names_paths_and_tolerates_null_and_number_forms() {
        let mut out = Vec::new();
        diff(
            "$",
            &serde_json::json!({"A": null, "B": 1, "C": [{"D": "x"}], "E": 2}),
            &serde_json::json!({"B": 1.0, "C": [{"D": "y"}], "F": 3}),
            &mut out,
        );
        assert_eq!(
            out,
            [
                "$.C[0].D: \"x\" became \"y\"",
                "$.E is lost in the round trip",
                "$.F appears after the round trip"
            ]
        );
    }

    #[test]
    fn a_flagship_example_round_trips_and_a_broken_one_fails() {
        let example = Example {
            title: "t".into(),
            input: "POST / HTTP/1.1\n\n{\"FlowId\": \"yDwFmUUckpstqfvzUE1h3jo1f3cqjkGm\", \"FlowApproverInfos\": [{\"ApproverType\": 1, \"ApproverMobile\": \"13200000000\", \"ApproverName\": \"n\"}]}".into(),
            output: serde_json::json!({"Response": {"FlowApproverUrlInfos": [{"SignUrl": "https://x", "ApproverType": 1}], "RequestId": "r"}}),
        };
        assert_eq!(verify("CreateFlowSignUrl", &example), Ok(()));
        let broken = Example {
            input: "POST / HTTP/1.1\n\n{\"FlowId\": 5}".into(),
            ..example
        };
        let problems = verify("CreateFlowSignUrl", &broken).unwrap_err();
        assert!(
            problems[0].starts_with("request: does not deserialize at $.FlowId"),
            "{problems:?}"
        );
        let error = Example {
            title: "e".into(),
            input: "POST / HTTP/1.1\n\n{\"FlowId\": \"x\"}".into(),
            output: serde_json::json!({"Response": {"Error": {"Code": "NoSuch.Code", "Message": "m"}, "RequestId": "r"}}),
        };
        // The request is refused by validation too (a FlowId has 32 characters): Tencent's
        // examples must pass the client's validation.
        assert_eq!(
            verify("CreateFlowSignUrl", &error).unwrap_err(),
            [
                "request: refused by validation: FlowId: must be exactly 32 characters long (is 1)",
                "response: unknown error code `NoSuch.Code` at $.Error.Code"
            ]
        );
    }
}
