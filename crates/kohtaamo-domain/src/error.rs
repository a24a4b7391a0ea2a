//! Field-level validation errors, collected rather than failing on the first one, so a
//! client (or an import) learns every problem at once.

use std::collections::BTreeMap;

/// Every field that failed validation, with a human-readable reason. Keys are field
/// paths such as `name.fi` or `journeys[0].stages[1].slug`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| reason.into());
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Keeps the value if it parsed, records the reason under `field` if not.
    pub fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }
    /// Merges errors from a nested structure, prefixing their paths.
    pub fn nest(&mut self, prefix: &str, other: FieldErrors) {
        for (k, v) in other.0 {
            self.add(format!("{prefix}.{k}"), v);
        }
    }
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{k}: {v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}
