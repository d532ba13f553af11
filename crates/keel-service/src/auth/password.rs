//! Password hashing (argon2id, the `argon2` crate's defaults) and the password rules.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::collections::HashSet;
use std::sync::OnceLock;

use keel_domain::{EntityDef, FieldErrors};
use serde_json::{Map, Value as Json};

use crate::ServiceError;

pub const MIN_LENGTH: usize = 12;

pub fn hash(password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))
}

pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

pub fn check_rules(password: &str) -> Result<(), FieldErrors> {
    check_new_password("password", password, None, None)
}

/// Every rule for a new password, reported on `field`: 12 to 1024 characters, not one of
/// the most common passwords (nor one of them with digits or symbols tacked on), and not
/// containing the user's email, the part before the `@`, or their name.
pub fn check_new_password(
    field: &str,
    password: &str,
    email: Option<&str>,
    name: Option<&str>,
) -> Result<(), FieldErrors> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(FieldErrors::single(
            field,
            "too_short",
            format!("Password must be at least {MIN_LENGTH} characters"),
        ));
    }
    if n > 1024 {
        return Err(FieldErrors::single(field, "too_long", "Password must be at most 1024 characters"));
    }
    if is_common(password) {
        return Err(FieldErrors::single(
            field,
            "too_common",
            "This password is one of the most commonly used ones; choose another",
        ));
    }
    let lower = password.to_lowercase();
    if personal_parts(email, name).iter().any(|part| lower.contains(part.as_str())) {
        return Err(FieldErrors::single(
            field,
            "contains_personal_info",
            "The password must not contain your email address or name",
        ));
    }
    Ok(())
}

/// The embedded list of common passwords (a few hundred, lowercased).
fn common_passwords() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

fn is_common(password: &str) -> bool {
    let lower = password.to_lowercase();
    let list = common_passwords();
    if list.contains(lower.as_str()) {
        return true;
    }
    // "password2024!" is "password" with a suffix every cracker tries first.
    let base = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ');
    if !base.is_empty() && base.len() < lower.len() && list.contains(base) {
        return true;
    }
    // One character repeated ("aaaaaaaaaaaa", "111111111111").
    let mut chars = lower.chars();
    chars.next().is_some_and(|first| chars.all(|c| c == first))
}

/// Lowercased pieces of the user's identity a password must not contain: the email,
/// its local part and the name (whole, without spaces), plus their words of 4 or more
/// characters. Shorter pieces ("Bo", "ana") would refuse too many good passwords.
fn personal_parts(email: Option<&str>, name: Option<&str>) -> Vec<String> {
    const MIN_PART: usize = 4;
    let mut parts = Vec::new();
    let push_words = |text: &str, parts: &mut Vec<String>| {
        let whole: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        parts.push(whole);
        parts.extend(text.split(|c: char| !c.is_alphanumeric()).map(str::to_string));
    };
    if let Some(email) = email.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()) {
        let local = email.split('@').next().unwrap_or_default().to_string();
        parts.push(email.clone());
        push_words(&local, &mut parts);
    }
    if let Some(name) = name.map(|n| n.trim().to_lowercase()) {
        push_words(&name, &mut parts);
    }
    parts.retain(|p| p.chars().count() >= MIN_PART);
    parts.sort();
    parts.dedup();
    parts
}

/// Users carry a write-only `password` in their input; take it out before the generic
/// validation sees the body and return its hash.
pub fn take_from_input(
    entity: &EntityDef,
    input: &mut Map<String, Json>,
    creating: bool,
) -> Result<Option<String>, ServiceError> {
    if entity.name != "users" {
        return Ok(None);
    }
    match input.remove("password") {
        Some(Json::String(p)) => {
            let text = |field: &str| input.get(field).and_then(Json::as_str);
            check_new_password("password", &p, text("email"), text("name"))?;
            Ok(Some(hash(&p)?))
        }
        Some(Json::Null) | None if creating => Err(FieldErrors::single(
            "password",
            "required",
            format!("Password is required (at least {MIN_LENGTH} characters)"),
        )
        .into()),
        Some(Json::Null) | None => Ok(None),
        Some(_) => Err(FieldErrors::single("password", "wrong_type", "Password must be a string").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<(), FieldErrors>) -> Option<String> {
        r.err().and_then(|e| e.0.first().map(|e| e.code.to_string()))
    }

    #[test]
    fn common_passwords_are_refused_with_or_without_a_suffix() {
        assert_eq!(code(check_rules("password1234")), Some("too_common".into()));
        assert_eq!(code(check_rules("Password2024!")), Some("too_common".into()));
        assert_eq!(code(check_rules("QWERTYUIOP12")), Some("too_common".into()));
        assert_eq!(code(check_rules("zzzzzzzzzzzz")), Some("too_common".into()));
        assert_eq!(code(check_rules("short")), Some("too_short".into()));
        assert_eq!(check_rules("correct horse battery staple"), Ok(()));
        assert!(common_passwords().len() > 300);
    }

    #[test]
    fn passwords_must_not_contain_the_email_or_name() {
        let check = |p| code(check_new_password("password", p, Some("Ana.Lopez@example.com"), Some("Ana Lopez")));
        assert_eq!(check("ana.lopez@example.com!"), Some("contains_personal_info".into()));
        assert_eq!(check("my name is lopez, ok?"), Some("contains_personal_info".into()));
        assert_eq!(check("AnaLopez rules the world"), Some("contains_personal_info".into()));
        assert_eq!(check("ana likes long passphrases"), None, "three-letter names are too short to match");
        assert_eq!(check("a very secret passphrase"), None);
    }
}
