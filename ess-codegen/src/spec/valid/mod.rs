//! Validation of a parsed spec. Every check runs and every problem is collected, so one run
//! of the loader shows all of them, each with its position and, where possible, a fix. On the
//! way it records what it parsed ([`Checked`]). The checks live by subject: `naming` (the
//! service, error codes, and the Rust names of types and enums), `types` (enums, structures
//! and members) and `actions`.

mod actions;
mod callbacks;
mod naming;
mod paging;
mod types;

use std::collections::HashMap;

use marked_yaml::{Span, Spanned};

use super::checked::Checked;
use super::diagnostic::Diagnostic;
use super::model::Spec;
use crate::names;

/// The only schema version this crate reads.
pub const SPEC_VERSION: u32 = 1;

/// Checks `spec` (loaded from `file`) and returns every problem found, in file order.
pub fn validate(spec: &Spec, file: &str) -> Vec<Diagnostic> {
    check(spec, file).err().unwrap_or_default()
}

/// Checks `spec` and returns what it established (types, bounds and paths, parsed), or every
/// problem found, in file order.
pub(crate) fn check(spec: &Spec, file: &str) -> Result<Checked, Vec<Diagnostic>> {
    let mut v = Validator {
        file,
        spec,
        types: spec
            .types
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (name.as_str(), i))
            .collect(),
        checked: Checked::default(),
        diags: Vec::new(),
    };
    v.run();
    if v.diags.is_empty() {
        Ok(v.checked)
    } else {
        v.diags.sort_by_key(|d| (d.line, d.column));
        Err(v.diags)
    }
}

struct Validator<'a> {
    file: &'a str,
    spec: &'a Spec,
    /// Type name -> index in `spec.types`.
    types: HashMap<&'a str, usize>,
    checked: Checked,
    diags: Vec<Diagnostic>,
}

impl<'a> Validator<'a> {
    fn error(&mut self, span: &Span, message: impl Into<String>) -> &mut Diagnostic {
        self.diags.push(Diagnostic::at(self.file, span, message));
        self.diags.last_mut().expect("just pushed")
    }

    fn hint(&mut self, span: &Span, message: impl Into<String>, hint: impl Into<String>) {
        self.error(span, message).hint = Some(hint.into());
    }

    fn run(&mut self) {
        let spec = self.spec;
        if *spec.spec_version != SPEC_VERSION {
            self.hint(
                spec.spec_version.span(),
                format!("unsupported spec_version {}", *spec.spec_version),
                format!("this generator reads spec_version {SPEC_VERSION}"),
            );
        }
        self.check_service();
        let codes = self.check_error_codes();
        self.check_namespaces();
        for (name, def) in spec.enums.iter() {
            let facts = self.check_enum(name, def);
            self.checked.enums.push(facts);
        }
        for (name, def) in spec.types.iter() {
            let facts = self.check_type(name, def);
            self.checked.members.push(facts);
        }
        // A member the generator makes plain because answers always carry it cannot be on a
        // type callers build, where it may be left out.
        let inputs = spec.input_types();
        for (name, def) in spec.types.iter() {
            if !inputs.contains(name.as_str()) {
                continue;
            }
            for member in def.members.iter().filter(|m| m.always_present) {
                self.hint(
                    member.name.span(),
                    format!(
                        "`{}.{}` is `always_present`, but requests reach `{}`",
                        &**name, &*member.name, &**name
                    ),
                    "only members of types that only answers carry can be always present",
                );
            }
        }
        self.check_recursion();
        let mut methods: HashMap<String, &Spanned<String>> = HashMap::new();
        for (name, action) in spec.actions.iter() {
            let facts = self.check_action(name, action, &codes);
            self.checked.actions.push(facts);
            let method = names::snake(name);
            // Paginated actions also get `<method>_pages`, waiters `wait_for_<name>`.
            let mut owned = vec![(method.clone(), name)];
            if action.pagination.is_some() {
                owned.push((format!("{method}_pages"), name));
            }
            if let Some(waiter) = &action.waiter {
                owned.push((format!("wait_for_{}", &*waiter.name), &waiter.name));
            }
            for (method, at) in owned {
                if let Some(first) = methods.get(&method) {
                    let line = line_of(first.span());
                    self.hint(
                        at.span(),
                        format!("two methods of the client would be called `{method}`"),
                        format!("rename one of them; the first is at line {line}"),
                    );
                } else {
                    methods.insert(method, at);
                }
            }
        }
        for (name, def) in spec.callbacks.iter() {
            self.check_callback(name, def);
        }
    }
}

fn line_of(span: &Span) -> usize {
    span.start().map_or(0, |m| m.line())
}

/// Whether `code` looks like `Word` or `Word.Word...` (letters and digits, each word capitalised).
pub fn is_error_code(code: &str) -> bool {
    !code.is_empty()
        && code.split('.').all(|word| {
            let mut chars = word.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}
