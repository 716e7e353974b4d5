//! append tests.
