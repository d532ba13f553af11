//! The built-in entities of the CRM guide, as metadata.

use std::collections::BTreeMap;

use super::{EntityDef, FieldDef, FieldType as T, OnDelete, Schema, SelectOption};

fn opt(value: &str) -> SelectOption {
    SelectOption {
        value: value.to_string(),
        label: value.to_string(),
        probability: None,
        closed: None,
        color: None,
        retired: false,
    }
}

fn opts(values: &[&str]) -> Vec<SelectOption> {
    values.iter().map(|v| opt(v)).collect()
}

fn colored(values: &[(&str, &'static str)]) -> Vec<SelectOption> {
    values.iter().map(|(v, c)| SelectOption { color: Some(c.to_string()), ..opt(v) }).collect()
}

fn stage(value: &str, probability: i64, closed: Option<&'static str>) -> SelectOption {
    SelectOption { probability: Some(probability), closed: closed.map(str::to_string), ..opt(value) }
}

pub const INDUSTRIES: &[&str] = &["Technology", "Healthcare", "Finance", "Retail", "Manufacturing", "Other"];
pub const COMPANY_SIZES: &[&str] = &["1-10", "11-50", "51-200", "201-1000", "1000+"];
pub const DEPARTMENTS: &[&str] = &["Sales", "Marketing", "Engineering", "HR", "Other"];
pub const DEAL_SOURCES: &[&str] = &["Website", "Referral", "Cold Call", "Event", "Other"];
pub const PRIORITIES: &[&str] = &["Low", "Medium", "High"];
pub const ACTIVITY_TYPES: &[&str] = &["Call", "Email", "Meeting", "Note", "Task"];
pub const ROLES: &[&str] = &["admin", "manager", "rep"];

/// Fields every CRM record carries, in the order the API lists them.
fn system_fields(owned: bool) -> Vec<FieldDef> {
    let mut f = vec![
        FieldDef::new("id", "ID", T::Id).system().sortable(),
        FieldDef::new("created_at", "Created", T::Timestamp).system().sortable(),
        FieldDef::new("updated_at", "Updated", T::Timestamp).system().sortable(),
        FieldDef::new("version", "Version", T::Integer).system(),
        FieldDef::new("deleted_at", "Deleted", T::Timestamp).system(),
    ];
    if owned {
        f.push(
            FieldDef::new("owner_id", "Owner", T::Reference)
                .references("users", OnDelete::Restrict)
                .sortable()
                .help("Defaults to the user who creates the record."),
        );
    }
    f
}

fn entity(name: &str, singular: &str, label: &str, owned: bool, mut fields: Vec<FieldDef>) -> EntityDef {
    let mut all = system_fields(owned);
    all.append(&mut fields);
    EntityDef {
        name: name.to_string(),
        singular: singular.to_string(),
        label: label.to_string(),
        owned,
        soft_delete: true,
        default_sort: "-updated_at".to_string(),
        fields: all,
    }
}

fn companies() -> EntityDef {
    entity(
        "companies",
        "company",
        "Companies",
        true,
        vec![
            FieldDef::new("name", "Name", T::Text).required().max_length(200).unique().sortable().searchable(),
            FieldDef::new("domain", "Domain", T::Text)
                .unique()
                .sortable()
                .searchable()
                .help("Lowercase, without scheme: acme.com"),
            FieldDef::new("industry", "Industry", T::Select).sortable().options(colored(&[
                ("Technology", "blue"),
                ("Healthcare", "green"),
                ("Finance", "purple"),
                ("Retail", "orange"),
                ("Manufacturing", "gray"),
                ("Other", "slate"),
            ])),
            FieldDef::new("size", "Size", T::Select).sortable().options(opts(COMPANY_SIZES)),
            FieldDef::new("address", "Address", T::Text),
            FieldDef::new("city", "City", T::Text).max_length(100),
            FieldDef::new("state", "State", T::Text).max_length(100),
            FieldDef::new("country", "Country", T::Text)
                .max_length(100)
                .help("A two-letter code (US, DE) also sets the region for phone numbers."),
            FieldDef::new("phone", "Phone", T::Phone).help("Stored in E.164: +14155550100"),
            FieldDef::new("website", "Website", T::Url),
        ],
    )
}

fn contacts() -> EntityDef {
    entity(
        "contacts",
        "contact",
        "Contacts",
        true,
        vec![
            FieldDef::new("company_id", "Company", T::Reference).references("companies", OnDelete::SetNull).sortable(),
            FieldDef::new("first_name", "First name", T::Text).max_length(100).searchable(),
            FieldDef::new("last_name", "Last name", T::Text).max_length(100).sortable().searchable(),
            FieldDef::new("full_name", "Full name", T::Text).derived().max_length(201).sortable(),
            FieldDef::new("email", "Email", T::Email).unique().sortable().searchable(),
            FieldDef::new("phone", "Phone", T::Phone),
            FieldDef::new("mobile", "Mobile", T::Phone),
            FieldDef::new("title", "Job title", T::Text).max_length(150),
            FieldDef::new("department", "Department", T::Select).options(opts(DEPARTMENTS)),
            FieldDef::new("is_primary", "Primary contact", T::Boolean),
            FieldDef::new("linkedin_url", "LinkedIn", T::Url),
            FieldDef::new("notes", "Notes", T::LongText),
        ],
    )
}

fn deals() -> EntityDef {
    entity(
        "deals",
        "deal",
        "Deals",
        true,
        vec![
            FieldDef::new("company_id", "Company", T::Reference)
                .required()
                .references("companies", OnDelete::Cascade)
                .sortable(),
            FieldDef::new("contact_id", "Contact", T::Reference).references("contacts", OnDelete::SetNull).sortable(),
            FieldDef::new("title", "Title", T::Text).required().max_length(200).sortable().searchable(),
            FieldDef::new("amount", "Amount", T::Money)
                .sortable()
                .help("Integer minor units of `currency` (cents for USD)."),
            FieldDef::new("currency", "Currency", T::Currency).help("ISO 4217 code; defaults to USD."),
            FieldDef::new("stage", "Stage", T::Select).required().sortable().options(vec![
                stage("Prospecting", 10, None),
                stage("Qualification", 25, None),
                stage("Proposal", 50, None),
                stage("Negotiation", 75, None),
                stage("Closed Won", 100, Some("won")),
                stage("Closed Lost", 0, Some("lost")),
            ]),
            FieldDef::new("probability", "Probability", T::Percent)
                .sortable()
                .help("Follows the stage unless set explicitly."),
            FieldDef::new("expected_close_date", "Expected close", T::Date).sortable(),
            FieldDef::new("actual_close_date", "Closed on", T::Date).sortable(),
            FieldDef::new("source", "Source", T::Select).options(opts(DEAL_SOURCES)),
            FieldDef::new("priority", "Priority", T::Select).options(colored(&[
                ("Low", "gray"),
                ("Medium", "yellow"),
                ("High", "red"),
            ])),
            FieldDef::new("notes", "Notes", T::LongText),
        ],
    )
}

fn activities() -> EntityDef {
    let mut e = entity(
        "activities",
        "activity",
        "Activities",
        true,
        vec![
            FieldDef::new("type", "Type", T::Select).required().sortable().options(opts(ACTIVITY_TYPES)),
            FieldDef::new("subject", "Subject", T::Text).required().max_length(255).searchable(),
            FieldDef::new("description", "Description", T::LongText),
            FieldDef::new("due_date", "Due", T::Timestamp).sortable(),
            FieldDef::new("completed", "Completed", T::Boolean),
            FieldDef::new("completed_at", "Completed at", T::Timestamp).derived(),
            FieldDef::new("company_id", "Company", T::Reference).references("companies", OnDelete::SetNull).sortable(),
            FieldDef::new("contact_id", "Contact", T::Reference).references("contacts", OnDelete::SetNull).sortable(),
            FieldDef::new("deal_id", "Deal", T::Reference).references("deals", OnDelete::SetNull).sortable(),
            FieldDef::new("created_by", "Created by", T::Reference).references("users", OnDelete::Restrict).system(),
            FieldDef::new("assigned_to", "Assigned to", T::Reference)
                .references("users", OnDelete::Restrict)
                .sortable(),
        ],
    );
    e.default_sort = "-created_at".to_string();
    e
}

fn users() -> EntityDef {
    let mut e = entity(
        "users",
        "user",
        "Users",
        false,
        vec![
            FieldDef::new("email", "Email", T::Email).required().unique().sortable().searchable(),
            FieldDef::new("name", "Name", T::Text).required().max_length(200).sortable().searchable(),
            FieldDef::new("role", "Role", T::Text)
                .required()
                .max_length(40)
                .help("admin, manager, rep, or the name of a custom role (GET /api/v1/roles)"),
            FieldDef::new("team_id", "Team", T::Reference).references("teams", OnDelete::SetNull).sortable(),
            FieldDef::new("is_active", "Active", T::Boolean),
            FieldDef::new("time_zone", "Time zone", T::Text).max_length(64),
            FieldDef::new("password_hash", "Password hash", T::Text).system().hidden(),
        ],
    );
    e.default_sort = "name".to_string();
    e
}

fn teams() -> EntityDef {
    let mut e = entity(
        "teams",
        "team",
        "Teams",
        false,
        vec![FieldDef::new("name", "Name", T::Text).required().max_length(200).unique().sortable().searchable()],
    );
    e.default_sort = "name".to_string();
    e
}

pub fn builtin_schema() -> Schema {
    let entities: BTreeMap<String, EntityDef> = [companies(), contacts(), deals(), activities(), users(), teams()]
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect();
    Schema { entities }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::FieldType;

    #[test]
    fn every_reference_points_at_a_known_entity() {
        let s = builtin_schema();
        for e in s.entities.values() {
            for f in &e.fields {
                if f.ty == FieldType::Reference {
                    let target = f.reference.as_deref().expect("reference target");
                    assert!(s.entity(target).is_some(), "{}.{} -> {target}", e.name, f.name);
                }
            }
        }
    }

    #[test]
    fn deal_stages_carry_the_guides_probabilities() {
        let s = builtin_schema();
        let stage = s.entity("deals").and_then(|d| d.field("stage")).expect("stage");
        let probs: Vec<(String, Option<i64>)> =
            stage.options.iter().map(|o| (o.value.clone(), o.probability)).collect();
        assert_eq!(probs[0], ("Prospecting".into(), Some(10)));
        assert_eq!(probs[3], ("Negotiation".into(), Some(75)));
        assert_eq!(probs[4], ("Closed Won".into(), Some(100)));
        assert_eq!(probs[5], ("Closed Lost".into(), Some(0)));
    }

    #[test]
    fn company_related_lists_are_contacts_deals_and_activities() {
        let s = builtin_schema();
        let mut names: Vec<&str> = s.referencing("companies").iter().map(|(e, _)| e.name.as_str()).collect();
        names.sort();
        assert_eq!(names, vec!["activities", "contacts", "deals"]);
    }
}
