//! Callbacks: each event's name (a MsgType, which becomes a variant of `CallbackEvent`) and
//! the type of its data.

use marked_yaml::Spanned;

use super::Validator;
use crate::names;
use crate::spec::diagnostic::suggest;
use crate::spec::model::{CallbackDef, Usage};

/// The variant `CallbackEvent` keeps for MsgTypes the spec does not list.
const UNKNOWN_VARIANT: &str = "Unknown";

impl Validator<'_> {
    pub(super) fn check_callback(&mut self, name: &Spanned<String>, def: &CallbackDef) {
        if !names::is_pascal_ident(name) {
            self.hint(
                name.span(),
                format!("callback MsgType `{}` is not a PascalCase identifier", &**name),
                "use ASCII letters and digits, starting with an uppercase letter, spelled as ESS sends it",
            );
        } else if name.as_str() == UNKNOWN_VARIANT {
            self.hint(
                name.span(),
                format!("callback MsgType `{UNKNOWN_VARIANT}` is reserved"),
                "`CallbackEvent::Unknown` keeps the MsgTypes the spec does not list",
            );
        }
        let Some(data) = &def.data else {
            return;
        };
        match self.types.get(data.as_str()) {
            None => {
                let names = self.spec.types.iter().map(|(k, _)| k.as_str());
                let hint = suggest(
                    data,
                    names,
                    "define it under `types:` with `usage: callback`",
                );
                self.hint(
                    data.span(),
                    format!(
                        "callback `{}` names unknown data type `{}`",
                        &**name, &**data
                    ),
                    hint,
                );
            }
            Some(&index) => {
                let (type_name, def) = &self.spec.types.0[index];
                if def.usage != Some(Usage::Callback) {
                    self.hint(
                        data.span(),
                        format!(
                            "callback `{}` names `{}`, which is not a callback type",
                            &**name, &**type_name
                        ),
                        "callback data types are their own (`usage: callback`): ESS's callbacks and its API answers evolve apart",
                    );
                }
            }
        }
    }
}
