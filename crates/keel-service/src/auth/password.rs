//! Password hashing (argon2id, the `argon2` crate's defaults) and the password rules.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
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
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err(FieldErrors::single(
            "password",
            "too_short",
            format!("Password must be at least {MIN_LENGTH} characters"),
        ));
    }
    if n > 1024 {
        return Err(FieldErrors::single("password", "too_long", "Password must be at most 1024 characters"));
    }
    Ok(())
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
            check_rules(&p)?;
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
