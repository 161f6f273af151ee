//! Cross-crate test suites of ess live in `tests/tests/`; this library is empty.
