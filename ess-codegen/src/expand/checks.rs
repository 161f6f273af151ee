//! `Validate` impls: each field's constraints and enum membership, nested structures, and
//! the per-action requirements on a request.

use proc_macro2::TokenStream;
use quote::quote;

use super::{ident, literal, opt_lit, opt_usize};
use crate::ir::{ActionIr, FieldIr, FieldTy, Ir, RequirementIr, StructIr};
use crate::spec::Scalar;

pub(super) fn validate_impl(ir: &Ir, s: &StructIr) -> TokenStream {
    let name = ident(&s.name);
    let needs = |n: &str| ir.structs.iter().any(|x| x.name == n && x.needs_validation);
    let checks = s.fields.iter().map(|f| field_checks(f, &needs));
    let requirements = s
        .request_of
        .as_ref()
        .and_then(|action| ir.actions.iter().find(|a| &a.wire == action))
        .map(|a| {
            a.requirements
                .iter()
                .map(|r| requirement_checks(a, r))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let uses_path = s.needs_validation || !requirements.is_empty();
    let (path, out) = if uses_path {
        (quote!(path), quote!(out))
    } else {
        (quote!(_path), quote!(_out))
    };
    quote! {
        impl Validate for #name {
            fn validate_into(&self, #path: &Path<'_>, #out: &mut Vec<Violation>) {
                #(#checks)*
                #(#requirements)*
            }
        }
    }
}

/// Checks of one field: its own constraints and nested structures. An enum's value the spec
/// does not list is no violation: only `From` makes one, on purpose, and it is sent as given,
/// so a value upstream adds can be used before the crate lists it.
pub(super) fn field_checks(f: &FieldIr, needs: &dyn Fn(&str) -> bool) -> TokenStream {
    let id = ident(&f.ident);
    let wire = &f.wire;
    let mut body = Vec::new();
    if let Some((min, max)) = f.length {
        let min = opt_usize(min);
        let max = opt_usize(max);
        let (len, unit) = match &f.ty {
            FieldTy::List(_) => (quote!(value.len()), "items"),
            _ => (quote!(value.chars().count()), "characters"),
        };
        body.push(quote!(check::length(out, &path.member(#wire), #len, #min, #max, #unit);));
    }
    if let Some((min, max)) = &f.range {
        let min = opt_lit(min.as_ref());
        let max = opt_lit(max.as_ref());
        body.push(quote!(check::range(out, &path.member(#wire), *value, #min, #max);));
    }
    if f.ty.inner_struct().is_some_and(needs) {
        body.push(quote!(Validate::validate_into(value, &path.member(#wire), out);));
    }
    if body.is_empty() {
        return TokenStream::new();
    }
    if f.optional {
        quote! { if let Some(value) = &self.#id { #(#body)* } }
    } else {
        quote! { { let value = &self.#id; #(#body)* } }
    }
}

/// Code checking one per-action requirement (`FlowApproverInfos[]` needs `ApproverName`, ...).
pub(super) fn requirement_checks(action: &ActionIr, req: &RequirementIr) -> TokenStream {
    let action_name = &action.wire;
    // Innermost: the checks on `target` at path `here`.
    // A required non-string member is always present (its type says so): nothing to check.
    let members = req
        .members
        .iter()
        .filter_map(|(id, wire, optional, is_string)| {
            let present = presence(id, *optional, *is_string)?;
            Some(quote!(check::required(out, &here.member(#wire), #present, #action_name);))
        });
    let any_of = (!req.any_of.is_empty()).then(|| {
        // A group is satisfied when each of its members is; a group with a member that is
        // always present (a required non-string) is satisfied by its other members alone.
        let groups = req.any_of.iter().map(|group| {
            let tests: Vec<TokenStream> = group
                .iter()
                .filter_map(|(id, _, optional, is_string)| presence(id, *optional, *is_string))
                .collect();
            if tests.is_empty() {
                quote!(true)
            } else {
                quote!(#(#tests)&&*)
            }
        });
        let names: Vec<String> = req
            .any_of
            .iter()
            .map(|group| {
                let wires: Vec<&str> = group.iter().map(|(_, wire, _, _)| wire.as_str()).collect();
                wires.join(" and ")
            })
            .collect();
        quote!(check::required_any(out, &here, #(#groups)||*, &[#(#names),*], #action_name);)
    });
    let mut inner = quote! { #(#members)* #any_of };
    if let Some((id, optional, scalar, values, is_enum)) = &req.when {
        let id = ident(id);
        let values = values.iter().map(literal);
        let get = match (is_enum, scalar) {
            (true, Scalar::String) => quote!(v.as_str()),
            (true, _) => quote!(v.value()),
            (false, Scalar::String) => quote!(v.as_str()),
            (false, _) => quote!(*v),
        };
        let test = quote!([#(#values),*].contains(&#get));
        let cond = if *optional {
            quote!(target.#id.as_ref().is_some_and(|v| #test))
        } else {
            quote!({ let v = &target.#id; #test })
        };
        inner = quote! { if #cond { #inner } };
    }
    if req.steps.is_empty() {
        // A requirement on the request's own members.
        return quote! { { let target = self; let here = path; #inner } };
    }
    // Wrap from the innermost step outwards.
    let mut code = inner;
    for (depth, step) in req.steps.iter().enumerate().rev() {
        let id = ident(&step.ident);
        let wire = &step.wire;
        let parent = if depth == 0 {
            quote!(self)
        } else {
            quote!(parent)
        };
        let parent_path = if depth == 0 {
            quote!(path)
        } else {
            quote!(parent_here)
        };
        let body = if step.list {
            quote! {
                let list = #parent_path.member(#wire);
                for (index, target) in items.iter().enumerate() {
                    let here = list.index(index);
                    #code
                }
            }
        } else {
            quote! {
                let target = items;
                let here = #parent_path.member(#wire);
                #code
            }
        };
        code = if step.optional {
            quote! { if let Some(items) = &#parent.#id { #body } }
        } else {
            quote! { { let items = &#parent.#id; #body } }
        };
        if depth > 0 {
            code = quote! { { let parent = target; let parent_here = here; #code } };
        }
    }
    code
}

/// Code testing that a member is present (and, for text, non-empty); `None` for a required
/// non-string member, which its type makes always present.
fn presence(id: &str, optional: bool, is_string: bool) -> Option<TokenStream> {
    let id = ident(id);
    Some(match (optional, is_string) {
        (true, true) => quote!(target.#id.as_ref().is_some_and(|v| !v.is_empty())),
        (true, false) => quote!(target.#id.is_some()),
        (false, true) => quote!(!target.#id.is_empty()),
        (false, false) => return None,
    })
}
