//! Wire values an enumeration does not list: kept as sent, and opaque, so that an `Unknown`
//! variant can never hold a value one of the named variants stands for.

use std::fmt;

/// A wire value this version of the spec does not name, kept exactly as sent. Only the
/// generated `From` impls make one, from values no named variant matches.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UnknownValue<T>(T);

impl<T> UnknownValue<T> {
    /// The value as sent on the wire.
    pub fn get(&self) -> &T {
        &self.0
    }

    /// For generated code only: `value` must match none of the enumeration's named values.
    #[doc(hidden)]
    pub fn __new(value: T) -> Self {
        Self(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for UnknownValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: fmt::Display> fmt::Display for UnknownValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
