//! The service, the error codes, and the Rust names types and enums become.

use std::collections::{BTreeSet, HashMap};

use marked_yaml::Spanned;

use super::{Validator, is_error_code, line_of};
use crate::names;

impl<'a> Validator<'a> {
    pub(super) fn check_service(&mut self) {
        let service = &self.spec.service;
        if service.endpoints.get("default").is_none() {
            self.hint(
                service.name.span(),
                "service has no `default` endpoint group",
                "add `endpoints: { default: { production: HOST, test: HOST } }`",
            );
        }
        for (_, endpoint) in service.endpoints.iter() {
            for host in [&endpoint.production, &endpoint.test] {
                if host.contains("://") || host.contains('/') || host.is_empty() {
                    self.hint(
                        host.span(),
                        format!("endpoint `{}` is not a host name", &**host),
                        "write the host alone, e.g. `ess.tencentcloudapi.com`",
                    );
                }
            }
        }
    }

    /// Checks the code lists and returns the set of known codes.
    pub(super) fn check_error_codes(&mut self) -> BTreeSet<&'a str> {
        let errors = &self.spec.errors;
        let mut all = BTreeSet::new();
        for list in [&errors.common, &errors.service] {
            let mut seen: HashMap<&str, &Spanned<String>> = HashMap::new();
            for code in list {
                if !is_error_code(code) {
                    self.hint(
                        code.span(),
                        format!("`{}` is not an error code", &**code),
                        "codes are dot-separated PascalCase words, e.g. `ResourceNotFound.Flow`",
                    );
                }
                if let Some(first) = seen.insert(code.as_str(), code) {
                    let line = line_of(first.span());
                    self.hint(
                        code.span(),
                        format!("error code `{}` is listed twice", &**code),
                        format!("remove one; the first is at line {line}"),
                    );
                }
                all.insert(code.as_str());
            }
        }
        self.check_error_variants();
        all
    }

    /// Each code becomes an `ErrorCode` variant: it must be a usable identifier, not the
    /// variant reserved for unlisted codes, and not shared with another code.
    pub(super) fn check_error_variants(&mut self) {
        let errors = &self.spec.errors;
        let mut variants: HashMap<String, &Spanned<String>> = HashMap::new();
        for code in errors.common.iter().chain(&errors.service) {
            if !is_error_code(code) {
                continue;
            }
            let variant = names::error_variant(code);
            if variant == "Unknown" {
                self.hint(
                    code.span(),
                    format!("error code `{}` becomes `ErrorCode::Unknown`, which is reserved", &**code),
                    "`ErrorCode::Unknown` holds the codes the spec does not list; this code cannot be one of them",
                );
            } else if names::is_unescapable_keyword(&variant) {
                self.hint(
                    code.span(),
                    format!(
                        "error code `{}` becomes `ErrorCode::{variant}`, a Rust keyword that `r#` cannot escape",
                        &**code
                    ),
                    "such a code cannot be generated; leave it out of the spec",
                );
            }
            match variants.get(&variant) {
                Some(first) if first.as_str() != code.as_str() => {
                    let line = line_of(first.span());
                    let message = format!(
                        "error codes `{}` and `{}` both become `ErrorCode::{variant}`",
                        &***first, &**code
                    );
                    self.hint(code.span(), message, format!("the first is at line {line}"));
                }
                Some(_) => {}
                None => {
                    self.checked
                        .error_variants
                        .insert(code.to_string(), variant.clone());
                    variants.insert(variant, code);
                }
            }
        }
    }

    /// Type and enum names share the Rust type namespace.
    pub(super) fn check_namespaces(&mut self) {
        let spec = self.spec;
        let mut type_names: HashMap<&str, &Spanned<String>> = HashMap::new();
        for (name, def) in spec.types.iter() {
            self.check_type_name(name, "type");
            // The Rust name is what could collide: `rust_name` fixes a type named `Client`.
            let rust = def.rust_name.as_ref().unwrap_or(name);
            if let Some(why) = names::reserved(rust) {
                let what = if def.rust_name.is_some() {
                    "rust_name"
                } else {
                    "type"
                };
                self.hint(
                    rust.span(),
                    format!("{what} `{}` {why}", &**rust),
                    "give it another Rust name with `rust_name:` (in spec/overlay.yaml)",
                );
            }
            if let Some(rust) = &def.rust_name {
                self.check_type_name(rust, "rust_name");
                if spec.types.get(rust).is_some() || spec.enums.get(rust).is_some() {
                    self.error(
                        rust.span(),
                        format!(
                            "rust_name `{}` is already the name of a type or enum",
                            &**rust
                        ),
                    );
                }
                type_names.insert(rust.as_str(), rust);
            }
            type_names.insert(name.as_str(), name);
        }
        for (name, _) in spec.enums.iter() {
            self.check_type_name(name, "enum");
            if let Some(why) = names::reserved(name) {
                self.hint(
                    name.span(),
                    format!("enum `{}` {why}", &**name),
                    "rename the enum",
                );
            }
            if let Some(ty) = type_names.get(name.as_str()) {
                let line = line_of(ty.span());
                self.hint(
                    name.span(),
                    format!("enum `{}` has the same name as a type", &**name),
                    format!("types and enums share one namespace; the type is at line {line}"),
                );
            }
        }
    }

    pub(super) fn check_type_name(&mut self, name: &Spanned<String>, what: &str) {
        if !names::is_pascal_ident(name) {
            self.hint(
                name.span(),
                format!("{what} name `{}` is not a PascalCase identifier", &**name),
                "use ASCII letters and digits, starting with an uppercase letter",
            );
        } else if names::is_keyword(name) {
            self.hint(
                name.span(),
                format!("{what} name `{}` is a Rust keyword", &**name),
                "rename it in the spec",
            );
        }
    }
}
