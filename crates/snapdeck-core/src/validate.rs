//! Checks of what people type, with messages they understand.
//!
//! The API documents only one limit (commit message ≤ 1000 characters). The others are
//! snapdeck's own, chosen to keep lists readable and filters unambiguous:
//!
//! | input | rule |
//! | --- | --- |
//! | devbox / snapshot name | optional; trimmed; ≤ [`MAX_NAME_CHARS`] characters; no control characters |
//! | metadata key | required; ≤ [`MAX_KEY_CHARS`]; letters, digits and `. _ - / :` only (no spaces, no `[ ] = & ,`, which would break `metadata[key]` filters) |
//! | metadata value | ≤ [`MAX_VALUE_CHARS`]; no control characters; may be empty |
//! | commit message | optional; trimmed; ≤ [`MAX_COMMIT_MESSAGE_CHARS`]; line breaks and tabs allowed, other control characters not |
//!
//! Lengths count characters (Unicode scalar values), as a person would.

use snapdeck_api::Metadata;

/// Longest name accepted.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest metadata key accepted.
pub const MAX_KEY_CHARS: usize = 256;
/// Longest metadata value accepted.
pub const MAX_VALUE_CHARS: usize = 1024;
/// Longest commit message the API accepts.
pub const MAX_COMMIT_MESSAGE_CHARS: usize = 1000;

/// Why an input was refused. `Display` is the message to show next to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationError {
    TooLong {
        field: &'static str,
        max: usize,
        actual: usize,
    },
    ControlCharacter {
        field: &'static str,
    },
    EmptyKey,
    KeyCharacter {
        key: String,
        ch: char,
    },
    DuplicateKey {
        key: String,
    },
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLong { field, max, actual } => write!(
                f,
                "The {field} is {actual} characters long; the limit is {max}."
            ),
            Self::ControlCharacter { field } => write!(
                f,
                "The {field} contains an invisible control character; please retype it."
            ),
            Self::EmptyKey => f.write_str("A metadata key cannot be empty."),
            Self::KeyCharacter { key, ch } => {
                let shown = if ch.is_whitespace() {
                    "a space".to_owned()
                } else {
                    format!("“{ch}”")
                };
                write!(
                    f,
                    "The metadata key “{key}” contains {shown}; use letters, digits and . _ - / : only."
                )
            }
            Self::DuplicateKey { key } => {
                write!(f, "The metadata key “{key}” appears more than once.")
            }
        }
    }
}

impl std::error::Error for ValidationError {}

fn check_len(field: &'static str, s: &str, max: usize) -> Result<(), ValidationError> {
    let actual = s.chars().count();
    if actual > max {
        return Err(ValidationError::TooLong { field, max, actual });
    }
    Ok(())
}

/// A devbox or snapshot name: blank means "no name" (`Ok(None)`), otherwise the
/// trimmed name.
pub fn name(input: &str) -> Result<Option<String>, ValidationError> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().any(char::is_control) {
        return Err(ValidationError::ControlCharacter { field: "name" });
    }
    check_len("name", s, MAX_NAME_CHARS)?;
    Ok(Some(s.to_owned()))
}

/// A metadata key, trimmed.
pub fn metadata_key(input: &str) -> Result<String, ValidationError> {
    let key = input.trim();
    if key.is_empty() {
        return Err(ValidationError::EmptyKey);
    }
    if let Some(ch) = key
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':')))
    {
        return Err(ValidationError::KeyCharacter {
            key: key.to_owned(),
            ch,
        });
    }
    check_len("metadata key", key, MAX_KEY_CHARS)?;
    Ok(key.to_owned())
}

/// A metadata value. Not trimmed: spaces may be meaningful in a value.
pub fn metadata_value(input: &str) -> Result<String, ValidationError> {
    if input.chars().any(char::is_control) {
        return Err(ValidationError::ControlCharacter {
            field: "metadata value",
        });
    }
    check_len("metadata value", input, MAX_VALUE_CHARS)?;
    Ok(input.to_owned())
}

/// Rows of a key/value editor into a metadata map; every row is checked and keys must
/// be unique (after trimming). Rows with a blank key *and* value are ignored (the
/// editor's empty last row).
pub fn metadata_rows<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Metadata, ValidationError> {
    let mut out = Metadata::new();
    for (k, v) in rows {
        if k.trim().is_empty() && v.trim().is_empty() {
            continue;
        }
        let key = metadata_key(k)?;
        let value = metadata_value(v)?;
        if out.insert(key.clone(), value).is_some() {
            return Err(ValidationError::DuplicateKey { key });
        }
    }
    Ok(out)
}

/// A commit message: blank means none; line breaks and tabs are fine.
pub fn commit_message(input: &str) -> Result<Option<String>, ValidationError> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ValidationError::ControlCharacter {
            field: "commit message",
        });
    }
    check_len("commit message", s, MAX_COMMIT_MESSAGE_CHARS)?;
    Ok(Some(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_blank_means_none() {
        assert_eq!(name("  nightly  "), Ok(Some("nightly".into())));
        assert_eq!(name("   "), Ok(None));
        assert_eq!(name(&"é".repeat(256)), Ok(Some("é".repeat(256))));
    }

    #[test]
    fn long_names_and_control_characters_are_refused_with_a_clear_message() {
        let err = name(&"a".repeat(257)).expect_err("too long");
        assert_eq!(
            err.to_string(),
            "The name is 257 characters long; the limit is 256."
        );
        let err = name("a\u{0007}b").expect_err("bell");
        assert!(err.to_string().contains("control character"));
    }

    #[test]
    fn metadata_keys_allow_dots_but_not_spaces_or_brackets() {
        assert_eq!(
            metadata_key(" snapdeck.pinned "),
            Ok("snapdeck.pinned".into())
        );
        assert_eq!(
            metadata_key("team/owner:x-y_z"),
            Ok("team/owner:x-y_z".into())
        );
        assert_eq!(metadata_key(""), Err(ValidationError::EmptyKey));
        let err = metadata_key("my key").expect_err("space");
        assert_eq!(
            err.to_string(),
            "The metadata key “my key” contains a space; use letters, digits and . _ - / : only."
        );
        assert!(metadata_key("a[b]").is_err());
        assert!(metadata_key(&"k".repeat(257)).is_err());
    }

    #[test]
    fn metadata_values_may_be_empty_but_not_huge() {
        assert_eq!(metadata_value(""), Ok(String::new()));
        assert_eq!(metadata_value(" a b "), Ok(" a b ".into()));
        assert!(metadata_value(&"v".repeat(1025)).is_err());
        assert!(metadata_value("line\nbreak").is_err());
    }

    #[test]
    fn metadata_rows_skip_the_empty_row_and_reject_duplicates() {
        let m = metadata_rows([("env", "staging"), ("", ""), ("team", "core")]).expect("ok");
        assert_eq!(m.len(), 2);
        let err = metadata_rows([("env", "a"), (" env", "b")]).expect_err("dup");
        assert_eq!(err, ValidationError::DuplicateKey { key: "env".into() });
        assert_eq!(
            metadata_rows([("", "orphan value")]),
            Err(ValidationError::EmptyKey)
        );
    }

    #[test]
    fn commit_messages_allow_newlines_up_to_the_api_limit() {
        assert_eq!(
            commit_message("fix: thing\n\nlonger text"),
            Ok(Some("fix: thing\n\nlonger text".into()))
        );
        assert_eq!(commit_message(" \n "), Ok(None));
        assert!(commit_message(&"m".repeat(1000)).is_ok());
        let err = commit_message(&"m".repeat(1001)).expect_err("too long");
        assert_eq!(
            err.to_string(),
            "The commit message is 1001 characters long; the limit is 1000."
        );
    }
}
