//! lint_rules tests.
