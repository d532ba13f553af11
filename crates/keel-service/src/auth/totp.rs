//! Two-factor authentication: time-based one-time passwords (RFC 6238, SHA-1, 6 digits,
//! 30-second steps — what every authenticator app speaks), computed by `totp-rs`, plus
//! ten one-time recovery codes of which only hashes are kept.
//!
//! A code is accepted one step early or late (clock drift) and only once: the last
//! accepted step is stored, and a code for that step or an earlier one is refused. The
//! secret itself is stored as base32 text, not encrypted at rest (docs/SECURITY.md).

use keel_domain::FieldErrors;
use keel_store::login_security as store;
use rand::RngCore;
use time::OffsetDateTime;
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

use super::lockout::Attempt;
use super::{password, secret_hash};
use crate::{Ctx, Service, ServiceError};

const ISSUER: &str = "Keel";
const DIGITS: usize = 6;
const STEP_SECONDS: u64 = 30;
const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Crockford's base32 alphabet: no i, l, o or u to misread. 32 symbols, so a random byte
/// masked to 5 bits picks one uniformly.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// 16 symbols of 5 bits: 80 random bits per code, too many to guess or to brute-force from
/// a stolen hash.
const RECOVERY_CODE_LENGTH: usize = 16;

/// The second factor sent with a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondFactor {
    Totp(String),
    Recovery(String),
}

impl SecondFactor {
    /// From the request's optional `totp_code` and `recovery_code` (at most one of them).
    pub fn from_parts(totp_code: Option<String>, recovery_code: Option<String>) -> Result<Option<Self>, FieldErrors> {
        let present = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        match (present(totp_code), present(recovery_code)) {
            (Some(_), Some(_)) => Err(FieldErrors::single(
                "recovery_code",
                "conflict",
                "Send either totp_code or recovery_code, not both",
            )),
            (Some(code), None) => Ok(Some(SecondFactor::Totp(code))),
            (None, Some(code)) => Ok(Some(SecondFactor::Recovery(code))),
            (None, None) => Ok(None),
        }
    }

    fn field(&self) -> &'static str {
        match self {
            SecondFactor::Totp(_) => "totp_code",
            SecondFactor::Recovery(_) => "recovery_code",
        }
    }
}

/// A new, not yet enabled secret: show it (or the URI as a QR code) to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_uri: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    /// Set up but not yet confirmed with a code.
    pub pending: bool,
    pub recovery_codes_left: i64,
}

fn internal(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("totp: {e}"))
}

fn totp(secret_base32: &str, account: &str) -> Result<TOTP, ServiceError> {
    let bytes = Secret::Encoded(secret_base32.to_string()).to_bytes().map_err(|e| internal(format!("{e:?}")))?;
    totp_from_bytes(bytes, account)
}

fn totp_from_bytes(bytes: Vec<u8>, account: &str) -> Result<TOTP, ServiceError> {
    // The otpauth label must not contain a colon (it separates issuer and account).
    TOTP::new(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, bytes, Some(ISSUER.to_string()), account.replace(':', "_"))
        .map_err(|e| internal(format!("{e:?}")))
}

/// The time step `code` belongs to at `now`, allowing one step of drift either way.
fn matching_step(totp: &TOTP, code: &str, now: OffsetDateTime) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = u64::try_from(now.unix_timestamp()).ok()? / STEP_SECONDS;
    [current.saturating_sub(1), current, current + 1].into_iter().find(|step| totp.check(&code, step * STEP_SECONDS))
}

fn new_recovery_code() -> String {
    let mut bytes = [0u8; RECOVERY_CODE_LENGTH];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let mut code = String::with_capacity(RECOVERY_CODE_LENGTH + 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(char::from(RECOVERY_ALPHABET[usize::from(b & 31)]));
    }
    code
}

/// Hash of a recovery code as typed: case, dashes and spaces do not matter.
fn recovery_hash(code: &str) -> String {
    let normalized: String = code.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    secret_hash(&format!("recovery:{normalized}"))
}

impl Service {
    pub async fn two_factor_status(&self, ctx: &Ctx) -> Result<TwoFactorStatus, ServiceError> {
        let mut tx = self.db.read().await?;
        let row = store::totp_get(&mut tx, ctx.actor.user_id).await?;
        let enabled = row.as_ref().is_some_and(|r| r.enabled_at.is_some());
        let left = if enabled { store::recovery_codes_left(&mut tx, ctx.actor.user_id).await? } else { 0 };
        Ok(TwoFactorStatus { enabled, pending: row.is_some() && !enabled, recovery_codes_left: left })
    }

    /// Start setting up two-factor authentication: a new secret that takes effect only
    /// once confirmed with a code (`two_factor_enable`).
    pub async fn two_factor_setup(&self, ctx: &Ctx) -> Result<TotpSetup, ServiceError> {
        let user = self.user_record(ctx.actor.user_id).await?;
        let email = user.text("email").unwrap_or_default().to_string();
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let t = totp_from_bytes(bytes, &email)?;
        let secret = t.get_secret_base32();
        let now = self.clock.now();
        let mut tx = self.db.write().await?;
        if store::totp_get(&mut tx, ctx.actor.user_id).await?.is_some_and(|r| r.enabled_at.is_some()) {
            return Err(ServiceError::conflict(
                "two_factor_enabled",
                "two-factor authentication is already on; disable it first to set up a new secret",
            ));
        }
        store::totp_put_pending(&mut tx, ctx.actor.user_id, &secret, now).await?;
        tx.commit().await?;
        Ok(TotpSetup { secret, otpauth_uri: t.get_url() })
    }

    /// Confirm the pending secret with a current code: two-factor authentication is on
    /// from now, and these recovery codes (shown once) each work once.
    pub async fn two_factor_enable(&self, ctx: &Ctx, code: &str) -> Result<Vec<String>, ServiceError> {
        let user_id = ctx.actor.user_id;
        let now = self.clock.now();
        let mut tx = self.db.write().await?;
        let Some(row) = store::totp_get(&mut tx, user_id).await? else {
            return Err(ServiceError::conflict("two_factor_not_set_up", "call POST /api/v1/auth/2fa/setup first"));
        };
        if row.enabled_at.is_some() {
            return Err(ServiceError::conflict("two_factor_enabled", "two-factor authentication is already on"));
        }
        let step = matching_step(&totp(&row.secret, "")?, code, now).ok_or_else(|| {
            FieldErrors::single(
                "code",
                "invalid_code",
                "The code is wrong or expired; use the current one from your app",
            )
        })?;
        let step = i64::try_from(step).map_err(internal)?;
        store::totp_claim_step(&mut tx, user_id, step).await?;
        store::totp_enable(&mut tx, user_id, now).await?;
        let codes: Vec<String> = (0..RECOVERY_CODE_COUNT).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
        store::recovery_codes_replace(&mut tx, user_id, &hashes, now).await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Turn two-factor authentication off: needs the password and a current code or a
    /// recovery code. Wrong answers count towards the sign-in lockout.
    pub async fn two_factor_disable(
        &self,
        ctx: &Ctx,
        password_given: &str,
        factor: &SecondFactor,
    ) -> Result<(), ServiceError> {
        let user_id = ctx.actor.user_id;
        let user = self.user_record(user_id).await?;
        let enabled = {
            let mut tx = self.db.read().await?;
            store::totp_get(&mut tx, user_id).await?.is_some_and(|r| r.enabled_at.is_some())
        };
        if !enabled {
            return Err(ServiceError::conflict("two_factor_not_enabled", "two-factor authentication is not on"));
        }
        let email = user.text("email").unwrap_or_default();
        let attempt = self.begin_login_attempt(email, ctx.origin.ip.as_deref()).await?;
        if !password::verify(password_given, user.text("password_hash").unwrap_or_default()) {
            return Err(FieldErrors::single("password", "wrong_password", "The password is wrong").into());
        }
        if !self.consume_second_factor(user_id, factor).await? {
            return Err(
                FieldErrors::single(factor.field(), "invalid_code", "The code is wrong, expired or used").into()
            );
        }
        let mut tx = self.db.write().await?;
        store::totp_delete(&mut tx, user_id).await?;
        store::recovery_codes_delete(&mut tx, user_id).await?;
        self.login_attempt_succeeded(&mut tx, &attempt).await?;
        tx.commit().await?;
        Ok(())
    }

    /// At sign-in, after the password matched: does this user need a second factor, and
    /// is the one sent right? A missing factor answers `TwoFactorRequired` and takes the
    /// attempt back (the password was right); a wrong one stays counted as a failure.
    pub(crate) async fn second_factor_for_login(
        &self,
        attempt: &Attempt,
        user_id: Uuid,
        factor: Option<&SecondFactor>,
    ) -> Result<(), ServiceError> {
        let enabled = {
            let mut tx = self.db.read().await?;
            store::totp_get(&mut tx, user_id).await?.is_some_and(|r| r.enabled_at.is_some())
        };
        if !enabled {
            return Ok(());
        }
        let Some(factor) = factor else {
            self.login_attempt_undecided(attempt).await?;
            return Err(ServiceError::TwoFactorRequired);
        };
        if self.consume_second_factor(user_id, factor).await? { Ok(()) } else { Err(ServiceError::Unauthenticated) }
    }

    /// Check a code and use it up: a TOTP step cannot be replayed, a recovery code is
    /// marked used. False when wrong, already used, or two-factor is not on.
    async fn consume_second_factor(&self, user_id: Uuid, factor: &SecondFactor) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        let mut tx = self.db.write().await?;
        let Some(row) = store::totp_get(&mut tx, user_id).await?.filter(|r| r.enabled_at.is_some()) else {
            return Ok(false);
        };
        let ok = match factor {
            SecondFactor::Totp(code) => match matching_step(&totp(&row.secret, "")?, code, now) {
                Some(step) => store::totp_claim_step(&mut tx, user_id, i64::try_from(step).map_err(internal)?).await?,
                None => false,
            },
            SecondFactor::Recovery(code) => {
                store::recovery_code_use(&mut tx, user_id, &recovery_hash(code), now).await?
            }
        };
        tx.commit().await?;
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_one_step_of_drift() {
        let t = totp("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "a@example.com").expect("totp");
        let now = OffsetDateTime::from_unix_timestamp(1_767_268_800).expect("time");
        let at = |secs: i64| u64::try_from((now + time::Duration::seconds(secs)).unix_timestamp()).expect("positive");
        let step = at(0) / STEP_SECONDS;
        assert_eq!(matching_step(&t, &t.generate(at(0)), now), Some(step));
        assert_eq!(matching_step(&t, &t.generate(at(-30)), now), Some(step - 1));
        assert_eq!(matching_step(&t, &t.generate(at(30)), now), Some(step + 1));
        assert_eq!(matching_step(&t, &t.generate(at(-90)), now), None);
        assert_eq!(matching_step(&t, "12345", now), None);
        assert_eq!(matching_step(&t, "abcdef", now), None);
    }

    #[test]
    fn the_otpauth_uri_names_issuer_and_account() {
        let t = totp("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "ana@example.com").expect("totp");
        let uri = t.get_url();
        assert!(uri.starts_with("otpauth://totp/Keel:ana%40example.com?"), "{uri}");
        assert!(uri.contains("secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"));
        assert!(uri.contains("issuer=Keel"));
    }

    #[test]
    fn recovery_codes_are_long_random_and_typed_loosely() {
        let a = new_recovery_code();
        let b = new_recovery_code();
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        assert_eq!(recovery_hash(&a), recovery_hash(&a.to_uppercase().replace('-', " ")));
        assert_ne!(recovery_hash(&a), recovery_hash(&b));
    }

    #[test]
    fn at_most_one_second_factor_is_sent() {
        assert_eq!(SecondFactor::from_parts(None, Some(" ".into())), Ok(None));
        assert_eq!(
            SecondFactor::from_parts(Some("123456".into()), None),
            Ok(Some(SecondFactor::Totp("123456".into())))
        );
        assert!(SecondFactor::from_parts(Some("1".into()), Some("2".into())).is_err());
    }
}
