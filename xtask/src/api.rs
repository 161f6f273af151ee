//! The upstream sources as Tencent publishes them: the CLI's api.json and the SDK's
//! errorcodes.py. Only facts are taken from them; their prose stays upstream.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// api.json of one service version.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiJson {
    pub(crate) actions: BTreeMap<String, UpAction>,
    pub(crate) objects: BTreeMap<String, UpObject>,
    pub(crate) metadata: UpMetadata,
}

/// Service metadata.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpMetadata {
    pub(crate) api_version: String,
    #[serde(rename = "serviceNameCN")]
    pub(crate) service_name_cn: String,
    pub(crate) service_short_name: String,
}

/// One action.
#[derive(Debug, Deserialize)]
pub(crate) struct UpAction {
    pub(crate) document: String,
    pub(crate) input: String,
    pub(crate) name: String,
    pub(crate) output: String,
    pub(crate) status: String,
}

/// One structure.
#[derive(Debug, Deserialize)]
pub(crate) struct UpObject {
    pub(crate) document: String,
    pub(crate) members: Vec<UpMember>,
    #[serde(default)]
    pub(crate) usage: Option<String>,
}

/// One member of a structure.
#[derive(Debug, Deserialize)]
pub(crate) struct UpMember {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) ty: String,
    pub(crate) member: String,
    pub(crate) document: String,
    #[serde(default)]
    pub(crate) required: Option<bool>,
    #[serde(default)]
    pub(crate) output_required: Option<bool>,
    #[serde(default)]
    pub(crate) value_allowed_null: Option<bool>,
    #[serde(default)]
    pub(crate) disabled: Option<bool>,
    #[serde(default)]
    pub(crate) example: Option<String>,
}

impl UpMember {
    /// The member's type in spec spelling (`string`, `int64`, `list<Agent>`, ...).
    pub(crate) fn spec_type(&self, owner: &str) -> Result<String> {
        let scalar = |name: &str| -> Option<&'static str> {
            Some(match name {
                "string" => "string",
                "int64" => "int64",
                "uint64" => "uint64",
                "float" => "float",
                "bool" => "bool",
                _ => return None,
            })
        };
        Ok(match self.ty.as_str() {
            "string" | "int" | "float" | "bool" => scalar(&self.member)
                .with_context(|| {
                    format!(
                        "{owner}.{}: type `{}` with member `{}`",
                        self.name, self.ty, self.member
                    )
                })?
                .to_owned(),
            "object" => self.member.clone(),
            "list" => format!("list<{}>", scalar(&self.member).unwrap_or(&self.member)),
            other => bail!("{owner}.{}: unknown upstream type `{other}`", self.name),
        })
    }
}

/// Parses api.json.
pub(crate) fn parse_api(text: &str) -> Result<ApiJson> {
    serde_json::from_str(text).context("parsing api.json")
}

/// The error codes defined in errorcodes.py (`NAME = 'Code'` lines), in file order.
pub(crate) fn parse_error_codes(text: &str) -> Result<Vec<String>> {
    let mut codes = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            bail!("errorcodes.py:{}: expected `NAME = 'Code'`", n + 1);
        };
        let value = value.trim();
        let code = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
            .with_context(|| {
                format!(
                    "errorcodes.py:{}: `{}` is not a quoted code",
                    n + 1,
                    name.trim()
                )
            })?;
        codes.push(code.to_owned());
    }
    if codes.is_empty() {
        bail!("errorcodes.py defines no codes");
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_read_in_order() {
        let text = "# comment\n\n# 操作失败。\nFAILEDOPERATION = 'FailedOperation'\nRESOURCENOTFOUND_FLOW = \"ResourceNotFound.Flow\"\n";
        assert_eq!(
            parse_error_codes(text).unwrap(),
            ["FailedOperation", "ResourceNotFound.Flow"]
        );
    }

    #[test]
    fn malformed_error_code_lines_are_errors() {
        assert!(
            parse_error_codes("X = Code\n")
                .unwrap_err()
                .to_string()
                .contains(":1:")
        );
        assert!(parse_error_codes("# nothing\n").is_err());
    }

    #[test]
    fn member_types_map_to_spec_spelling() {
        let m = |ty: &str, member: &str| UpMember {
            name: "M".into(),
            ty: ty.into(),
            member: member.into(),
            document: String::new(),
            required: None,
            output_required: None,
            value_allowed_null: None,
            disabled: None,
            example: None,
        };
        assert_eq!(m("int", "uint64").spec_type("T").unwrap(), "uint64");
        assert_eq!(
            m("list", "FlowCreateApprover").spec_type("T").unwrap(),
            "list<FlowCreateApprover>"
        );
        assert_eq!(m("list", "int64").spec_type("T").unwrap(), "list<int64>");
        assert_eq!(m("object", "Agent").spec_type("T").unwrap(), "Agent");
        assert!(m("int", "Agent").spec_type("T").is_err());
        assert!(m("map", "string").spec_type("T").is_err());
    }
}
