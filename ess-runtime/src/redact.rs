//! Redaction: sensitive members print as `<redacted>` in `Debug`, whatever their value, and
//! file content as its length.

use std::fmt;

/// Wraps a sensitive value so `Debug` never shows it (only whether an optional one is set).
pub struct Redacted<'a, T: ?Sized>(pub &'a T);

impl<T> fmt::Debug for Redacted<'_, Option<T>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(_) => f.write_str("Some(<redacted>)"),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for Redacted<'_, String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> fmt::Debug for Redacted<'_, Vec<T>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[<redacted>; {}]", self.0.len())
    }
}

/// Wraps file content so `Debug` shows its length instead (a contract is megabytes).
pub struct Elided<'a, T: ?Sized>(pub &'a T);

impl fmt::Debug for Elided<'_, String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

impl fmt::Debug for Elided<'_, Option<String>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(text) => write!(f, "Some({:?})", Elided(text)),
            None => f.write_str("None"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_show() {
        let phone = Some("13800000000".to_owned());
        assert_eq!(format!("{:?}", Redacted(&phone)), "Some(<redacted>)");
        assert_eq!(format!("{:?}", Redacted(&None::<String>)), "None");
        assert_eq!(
            format!("{:?}", Redacted(&"secret".to_owned())),
            "<redacted>"
        );
        assert_eq!(
            format!("{:?}", Redacted(&vec!["a".to_owned(), "b".to_owned()])),
            "[<redacted>; 2]"
        );
    }
}
