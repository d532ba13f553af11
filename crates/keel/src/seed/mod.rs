//! Demo data for `keel seed --demo`: pure generation, no I/O. The caller (the CLI and
//! the bulk loader) decides how many records to make and writes them in batches.
//!
//! - [`demo_users`], [`team_record`], [`user_record`]: the demo team (an admin, a sales
//!   manager and three reps in the teams of [`DEMO_TEAMS`]); passwords are the caller's.
//! - [`guide_samples`]: the CRM guide's sample companies, contacts and deals, plus a few
//!   activities, as records.
//! - [`Generator`]: any number of random, reproducible (by seed) companies, contacts,
//!   deals and activities. Make a company, turn it into a [`CompanyRef`] with
//!   [`CompanyRef::from_record`], and pass that to `contact` and `deal`; likewise
//!   [`ContactRef`] / [`DealRef`] inside [`ActivityLinks`] for `activity`.
//!
//! Every record is complete (each field of its entity present, `Value::Null` where
//! empty) and already in the form validation would produce, with `id` (UUIDv7),
//! `created_at`, `updated_at`, `version` = 1 and `deleted_at` = null set, because the bulk
//! loader writes it without going through validation.

mod demo;
mod generate;
mod names;

// The binary uses what it needs of these; the rest stays available without warnings.
#[allow(unused_imports)]
pub use demo::{DEMO_TEAMS, DemoUser, GuideSamples, demo_users, guide_samples, team_record, user_record};
#[allow(unused_imports)]
pub use generate::{ActivityLinks, CompanyRef, ContactRef, DEMO_TLD, DealRef, Generator};
