//! Whether official example answers carry a member: the evidence that confirms upstream's
//! `output_required` before the generator reads a member as a plain value.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::api::ApiJson;

/// For each `(type, member)` an example answer reaches: how many times the type appeared,
/// and how many of those carried the member (not null).
#[derive(Debug, Default)]
pub(crate) struct Presence {
    seen: BTreeMap<(String, String), (usize, usize)>,
    /// Whether there were examples to count at all.
    examples: bool,
}

impl Presence {
    /// Counts every answer of upstream's examples.json (`None`: no examples).
    pub(crate) fn count(api: &ApiJson, examples: Option<&str>) -> Result<Self> {
        let mut presence = Self::default();
        let Some(text) = examples else {
            return Ok(presence);
        };
        presence.examples = true;
        let root: Value = serde_json::from_str(text).context("parsing examples.json")?;
        let Some(actions) = root.get("actions").and_then(Value::as_object) else {
            return Ok(presence);
        };
        for (action, list) in actions {
            let Some(output) = api.actions.get(action).map(|a| a.output.as_str()) else {
                continue;
            };
            for example in list.as_array().into_iter().flatten() {
                let answer = example
                    .get("output")
                    .and_then(Value::as_str)
                    .and_then(|o| serde_json::from_str::<Value>(o).ok());
                if let Some(response) = answer.as_ref().and_then(|a| a.get("Response")) {
                    // An error answer carries no members of the success type.
                    if response.get("Error").is_none() {
                        presence.walk(api, output, response, 0);
                    }
                }
            }
        }
        Ok(presence)
    }

    fn walk(&mut self, api: &ApiJson, ty: &str, value: &Value, depth: usize) {
        let (Some(object), Some(fields)) = (api.objects.get(ty), value.as_object()) else {
            return;
        };
        if depth > 32 {
            return;
        }
        for m in &object.members {
            let entry = self
                .seen
                .entry((ty.to_owned(), m.name.clone()))
                .or_default();
            entry.0 += 1;
            let Some(v) = fields.get(&m.name).filter(|v| !v.is_null()) else {
                continue;
            };
            entry.1 += 1;
            if api.objects.contains_key(&m.member) {
                match v {
                    Value::Array(items) => {
                        for item in items {
                            self.walk(api, &m.member, item, depth + 1);
                        }
                    }
                    other => self.walk(api, &m.member, other, depth + 1),
                }
            }
        }
    }

    /// Whether `ty.member` may be read as always present: upstream marks it
    /// `output_required`, some example answer shows it, and none leaves it out.
    pub(crate) fn confirm(
        &self,
        ty: &str,
        member: &str,
        output_required: Option<bool>,
    ) -> Result<(), String> {
        if output_required != Some(true) {
            return Err("upstream does not mark it output_required".to_owned());
        }
        if !self.examples {
            return Err("there are no official examples to confirm it against".to_owned());
        }
        match self.seen.get(&(ty.to_owned(), member.to_owned())) {
            None => Err("no official example answer reaches its type".to_owned()),
            Some((seen, present)) if present < seen => Err(format!(
                "{} of {seen} official example answers leave it out",
                seen - present
            )),
            Some(_) => Ok(()),
        }
    }
}
