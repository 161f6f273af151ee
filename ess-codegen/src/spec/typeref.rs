//! Member types as written in the spec: `string`, `int64`, `uint64`, `float`, `bool`, a type
//! name, or `list<T>`.

use std::fmt;

/// A wire scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scalar {
    /// UTF-8 text.
    String,
    /// Signed 64-bit integer.
    Int64,
    /// Unsigned 64-bit integer.
    Uint64,
    /// Floating point number.
    Float,
    /// `true` or `false`.
    Bool,
}

impl Scalar {
    /// The spelling used in the spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Scalar::String => "string",
            Scalar::Int64 => "int64",
            Scalar::Uint64 => "uint64",
            Scalar::Float => "float",
            Scalar::Bool => "bool",
        }
    }

    /// All scalars, in spec spelling order.
    pub const ALL: [Scalar; 5] = [
        Scalar::String,
        Scalar::Int64,
        Scalar::Uint64,
        Scalar::Float,
        Scalar::Bool,
    ];

    fn from_name(name: &str) -> Option<Scalar> {
        Scalar::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether values are numbers.
    pub fn is_numeric(self) -> bool {
        matches!(self, Scalar::Int64 | Scalar::Uint64 | Scalar::Float)
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A member's type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeRef {
    /// A wire scalar.
    Scalar(Scalar),
    /// A structure defined under `types:`.
    Named(String),
    /// A list of items.
    List(Box<TypeRef>),
}

impl TypeRef {
    /// Parses the spec spelling of a type.
    pub fn parse(text: &str) -> Result<TypeRef, String> {
        let text = text.trim();
        if let Some(inner) = text.strip_prefix("list<") {
            let Some(inner) = inner.strip_suffix('>') else {
                return Err(format!("`{text}` opens `list<` without closing `>`"));
            };
            if inner.trim().is_empty() {
                return Err("`list<>` needs an item type".to_owned());
            }
            return Ok(TypeRef::List(Box::new(TypeRef::parse(inner)?)));
        }
        if let Some(scalar) = Scalar::from_name(text) {
            return Ok(TypeRef::Scalar(scalar));
        }
        if crate::names::is_pascal_ident(text) {
            return Ok(TypeRef::Named(text.to_owned()));
        }
        Err(format!("`{text}` is not a type"))
    }

    /// The innermost item type (the type itself when it is not a list).
    pub fn item(&self) -> &TypeRef {
        match self {
            TypeRef::List(inner) => inner.item(),
            other => other,
        }
    }

    /// Whether this is a list.
    pub fn is_list(&self) -> bool {
        matches!(self, TypeRef::List(_))
    }

    /// The scalar of the item type, if it is one.
    pub fn item_scalar(&self) -> Option<Scalar> {
        match self.item() {
            TypeRef::Scalar(s) => Some(*s),
            _ => None,
        }
    }
}

impl fmt::Display for TypeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Scalar(s) => f.write_str(s.as_str()),
            TypeRef::Named(n) => f.write_str(n),
            TypeRef::List(inner) => write!(f, "list<{inner}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(TypeRef::parse("int64"), Ok(TypeRef::Scalar(Scalar::Int64)));
        assert_eq!(
            TypeRef::parse("UserInfo"),
            Ok(TypeRef::Named("UserInfo".into()))
        );
        assert_eq!(
            TypeRef::parse("list<list<uint64>>"),
            Ok(TypeRef::List(Box::new(TypeRef::List(Box::new(
                TypeRef::Scalar(Scalar::Uint64)
            )))))
        );
        assert_eq!(
            TypeRef::parse("list<Agent>").unwrap().to_string(),
            "list<Agent>"
        );
    }

    #[test]
    fn rejects_malformed() {
        assert!(
            TypeRef::parse("list<")
                .unwrap_err()
                .contains("without closing")
        );
        assert!(TypeRef::parse("list<>").unwrap_err().contains("item type"));
        assert!(TypeRef::parse("int 64").unwrap_err().contains("not a type"));
        assert!(TypeRef::parse("lowercase").is_err());
    }
}
