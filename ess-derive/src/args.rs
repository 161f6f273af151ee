//! The macro's arguments: a spec path, then `name = value` options.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitBool, LitStr, Token};

/// Parsed arguments.
pub(crate) struct Args {
    /// The spec path literal.
    pub(crate) path: LitStr,
    /// `actions = [..]`.
    pub(crate) actions: Option<Vec<LitStr>>,
    /// `cargo_features = true`.
    pub(crate) cargo_features: bool,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error("expected the spec path, e.g. `generate!(\"spec/ess.yaml\")`"));
        }
        let path: LitStr = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), "expected the spec path as a string literal"))?;
        let mut args = Args {
            path,
            actions: None,
            cargo_features: false,
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let name: syn::Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match name.to_string().as_str() {
                "actions" => {
                    let content;
                    syn::bracketed!(content in input);
                    let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                    if list.is_empty() {
                        return Err(syn::Error::new(name.span(), "`actions` lists no action"));
                    }
                    args.actions = Some(list.into_iter().collect());
                }
                "cargo_features" => args.cargo_features = input.parse::<LitBool>()?.value,
                other => {
                    return Err(syn::Error::new(
                        name.span(),
                        format!("unknown option `{other}`; expected `actions` or `cargo_features`"),
                    ));
                }
            }
        }
        Ok(args)
    }
}
