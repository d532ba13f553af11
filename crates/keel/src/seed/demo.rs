//! The fixed part of the demo: a small sales team, and the CRM guide's sample data
//! ("Import Sample Data": Acme Corp, TechStart Inc, Global Industries, John Smith,
//! Sarah Johnson, the Enterprise License and Starter Package deals) with a few activities.
//!
//! The guide's close dates (December 2025) are in the past by now, so the deals close
//! three weeks from `today` instead, five days apart as in the guide.

use keel_domain::value::truncate_to_micros;
use keel_domain::{Record, Value};
use time::{Date, Duration, OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// Team names of the demo users.
pub const DEMO_TEAMS: &[&str] = &["East", "West"];

/// A demo login. The caller sets the password (`password_hash`) when it creates the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub name: &'static str,
    pub email: &'static str,
    /// "admin", "manager" or "rep" (`keel_domain::schema::ROLES`).
    pub role: &'static str,
    /// One of `DEMO_TEAMS`, or None.
    pub team: Option<&'static str>,
    pub time_zone: &'static str,
}

/// An admin, a sales manager and three reps across the teams East and West.
pub fn demo_users() -> Vec<DemoUser> {
    let user = |name, email, role, team, time_zone| DemoUser { name, email, role, team, time_zone };
    vec![
        user("Alex Morgan", "admin@keel.local", "admin", None, "America/New_York"),
        user("Jordan Lee", "jordan.lee@keel.local", "manager", Some("East"), "America/New_York"),
        user("Sam Rivera", "sam.rivera@keel.local", "rep", Some("East"), "America/New_York"),
        user("Priya Patel", "priya.patel@keel.local", "rep", Some("West"), "America/Los_Angeles"),
        user("Chris Taylor", "chris.taylor@keel.local", "rep", Some("West"), "America/Denver"),
    ]
}

fn system(r: &mut Record, created: OffsetDateTime, updated: OffsetDateTime) {
    r.set("id", Value::Uuid(Uuid::now_v7()));
    r.set("created_at", Value::Timestamp(created));
    r.set("updated_at", Value::Timestamp(updated.max(created)));
    r.set("version", Value::Int(1));
    r.set("deleted_at", Value::Null);
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn uuid(u: Option<Uuid>) -> Value {
    u.map_or(Value::Null, Value::Uuid)
}

/// A `teams` record.
pub fn team_record(name: &str, now: OffsetDateTime) -> Record {
    let now = truncate_to_micros(now.to_offset(UtcOffset::UTC));
    let mut r = Record::new();
    system(&mut r, now, now);
    r.set("name", text(name));
    r
}

/// A `users` record for `user`, without `password_hash` (the caller hashes a password).
pub fn user_record(user: &DemoUser, team_id: Option<Uuid>, now: OffsetDateTime) -> Record {
    let now = truncate_to_micros(now.to_offset(UtcOffset::UTC));
    let mut r = Record::new();
    system(&mut r, now, now);
    r.set("email", text(user.email));
    r.set("name", text(user.name));
    r.set("role", text(user.role));
    r.set("team_id", uuid(team_id));
    r.set("is_active", Value::Bool(true));
    r.set("time_zone", text(user.time_zone));
    r
}

/// The guide's sample records, linked to each other.
#[derive(Debug, Clone, Default)]
pub struct GuideSamples {
    pub companies: Vec<Record>,
    pub contacts: Vec<Record>,
    pub deals: Vec<Record>,
    pub activities: Vec<Record>,
}

/// The guide's sample data. Records are owned round-robin by `owner_ids` (pass at least
/// one); `today` and `now` are the clock's, and every date is relative to them.
pub fn guide_samples(owner_ids: &[Uuid], today: Date, now: OffsetDateTime) -> GuideSamples {
    let now = truncate_to_micros(now.to_offset(UtcOffset::UTC));
    let owner = |i: usize| (!owner_ids.is_empty()).then(|| owner_ids[i % owner_ids.len()]);
    let ago = |days: i64, hours: i64| now - Duration::days(days) - Duration::hours(hours);
    // An hour of the day `today + days`, in UTC.
    let on = |days: i64, hour: i64| today.midnight().assume_utc() + Duration::days(days) + Duration::hours(hour);
    let mut out = GuideSamples::default();

    // name, industry, size, domain (the guide's "website" column), owner
    let companies = [
        ("Acme Corp", "Technology", "51-200", "acme.com", owner(0)),
        ("TechStart Inc", "Technology", "11-50", "techstart.io", owner(1)),
        ("Global Industries", "Manufacturing", "1000+", "globalind.com", owner(2)),
    ];
    let mut company_ids = Vec::new();
    for (i, (name, industry, size, domain, owner_id)) in companies.into_iter().enumerate() {
        let mut r = Record::new();
        let created = ago(45 - i as i64, 3);
        system(&mut r, created, ago(10 - i as i64, 1));
        r.set("owner_id", uuid(owner_id));
        r.set("name", text(name));
        r.set("domain", text(domain));
        r.set("industry", text(industry));
        r.set("size", text(size));
        r.set("address", Value::Null);
        r.set("city", Value::Null);
        r.set("state", Value::Null);
        r.set("country", text("US"));
        r.set("phone", Value::Null);
        r.set("website", Value::Text(format!("https://{domain}/")));
        company_ids.push((r.id(), owner_id));
        out.companies.push(r);
    }
    let (acme, acme_owner) = company_ids[0];
    let (techstart, techstart_owner) = company_ids[1];
    let (global, global_owner) = company_ids[2];

    // first, last, email, company, title, department
    let contacts = [
        ("John", "Smith", "john@acme.com", acme, acme_owner, "VP of Sales", "Sales"),
        ("Sarah", "Johnson", "sarah@techstart.io", techstart, techstart_owner, "CEO", "Other"),
    ];
    let mut contact_ids = Vec::new();
    for (i, (first, last, email, company_id, owner_id, title, department)) in contacts.into_iter().enumerate() {
        let mut r = Record::new();
        let created = ago(40 - i as i64, 2);
        system(&mut r, created, ago(8 - i as i64, 4));
        r.set("owner_id", uuid(owner_id));
        r.set("company_id", uuid(company_id));
        r.set("first_name", text(first));
        r.set("last_name", text(last));
        r.set("full_name", Value::Text(format!("{first} {last}")));
        r.set("email", text(email));
        r.set("phone", Value::Null);
        r.set("mobile", Value::Null);
        r.set("title", text(title));
        r.set("department", text(department));
        r.set("is_primary", Value::Bool(true));
        r.set("linkedin_url", Value::Null);
        r.set("notes", Value::Null);
        contact_ids.push(r.id());
        out.contacts.push(r);
    }
    let (john, sarah) = (contact_ids[0], contact_ids[1]);

    // title, company, contact, amount in cents, stage, probability, close in days
    let deals = [
        ("Enterprise License", acme, acme_owner, john, 5_000_000, "Negotiation", 75, 21),
        ("Starter Package", techstart, techstart_owner, sarah, 2_500_000, "Proposal", 50, 26),
    ];
    let mut deal_ids = Vec::new();
    for (i, (title, company_id, owner_id, contact_id, amount, stage, probability, close_in)) in
        deals.into_iter().enumerate()
    {
        let mut r = Record::new();
        let created = ago(30 - i as i64, 5);
        system(&mut r, created, ago(2 - i as i64, 6));
        r.set("owner_id", uuid(owner_id));
        r.set("company_id", uuid(company_id));
        r.set("contact_id", uuid(contact_id));
        r.set("title", text(title));
        r.set("amount", Value::Int(amount));
        r.set("currency", text(keel_domain::rules::DEFAULT_CURRENCY));
        r.set("stage", text(stage));
        r.set("probability", Value::Int(probability));
        let close = today.checked_add(Duration::days(close_in)).unwrap_or(today);
        r.set("expected_close_date", Value::Date(close));
        r.set("actual_close_date", Value::Null);
        r.set("source", Value::Null);
        r.set("priority", Value::Null);
        r.set("notes", Value::Null);
        deal_ids.push(r.id());
        out.deals.push(r);
    }
    let (enterprise, starter) = (deal_ids[0], deal_ids[1]);

    struct Activity<'a> {
        ty: &'a str,
        subject: &'a str,
        description: Option<&'a str>,
        created: OffsetDateTime,
        due: Option<OffsetDateTime>,
        completed_at: Option<OffsetDateTime>,
        company: Option<Uuid>,
        contact: Option<Uuid>,
        deal: Option<Uuid>,
        owner: Option<Uuid>,
    }
    let call_due = (on(-2, 15)).min(now);
    let proposal_sent = ago(1, 2);
    let activities = [
        Activity {
            ty: "Call",
            subject: "Call with John Smith",
            description: Some("Walked through the enterprise pricing; legal review next."),
            created: ago(5, 0),
            due: Some(call_due),
            completed_at: Some((call_due + Duration::minutes(30)).min(now)),
            company: acme,
            contact: john,
            deal: enterprise,
            owner: acme_owner,
        },
        Activity {
            ty: "Email",
            subject: "Proposal sent to Sarah Johnson",
            description: Some("Starter Package proposal with the onboarding plan attached."),
            created: proposal_sent,
            due: None,
            completed_at: Some(proposal_sent),
            company: techstart,
            contact: sarah,
            deal: starter,
            owner: techstart_owner,
        },
        Activity {
            ty: "Meeting",
            subject: "Contract review with Acme Corp",
            description: Some("Go through redlines with John and their counsel."),
            created: ago(1, 5),
            due: Some(on(3, 15)),
            completed_at: None,
            company: acme,
            contact: john,
            deal: enterprise,
            owner: acme_owner,
        },
        Activity {
            ty: "Task",
            subject: "Follow up with Sarah Johnson on the Starter Package",
            description: None,
            created: ago(1, 1),
            due: Some(on(1, 14)),
            completed_at: None,
            company: techstart,
            contact: sarah,
            deal: starter,
            owner: techstart_owner,
        },
        Activity {
            ty: "Note",
            subject: "Met Global Industries at the manufacturing expo",
            description: Some("Interested in a CRM for 40 field sales reps. Send an intro deck."),
            created: ago(12, 3),
            due: None,
            completed_at: None,
            company: global,
            contact: None,
            deal: None,
            owner: global_owner,
        },
    ];
    for a in activities {
        let mut r = Record::new();
        let created = a.created.min(now);
        system(&mut r, created, a.completed_at.unwrap_or(created));
        r.set("owner_id", uuid(a.owner));
        r.set("type", text(a.ty));
        r.set("subject", text(a.subject));
        r.set("description", a.description.map_or(Value::Null, text));
        r.set("due_date", a.due.map_or(Value::Null, Value::Timestamp));
        r.set("completed", Value::Bool(a.completed_at.is_some()));
        r.set("completed_at", a.completed_at.map_or(Value::Null, Value::Timestamp));
        r.set("company_id", uuid(a.company));
        r.set("contact_id", uuid(a.contact));
        r.set("deal_id", uuid(a.deal));
        r.set("created_by", uuid(a.owner));
        r.set("assigned_to", uuid(a.owner));
        out.activities.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use keel_domain::schema::builtin_schema;
    use keel_domain::validate::{normalize_email, normalize_value};
    use time::macros::{date, datetime};

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 24);
    const NOW: OffsetDateTime = datetime!(2026-11-24 15:30:00.123456 UTC);

    fn owners() -> Vec<Uuid> {
        (1..=3u128).map(Uuid::from_u128).collect()
    }

    fn find<'a>(records: &'a [Record], field: &str, value: &str) -> &'a Record {
        records.iter().find(|r| r.text(field) == Some(value)).unwrap_or_else(|| panic!("no {field} = {value}"))
    }

    #[test]
    fn demo_users_are_one_admin_one_manager_and_three_reps_in_the_demo_teams() {
        let users = demo_users();
        let roles: Vec<&str> = users.iter().map(|u| u.role).collect();
        assert_eq!(roles.iter().filter(|r| **r == "admin").count(), 1);
        assert_eq!(roles.iter().filter(|r| **r == "manager").count(), 1);
        assert_eq!(roles.iter().filter(|r| **r == "rep").count(), 3);
        assert!(users.iter().any(|u| u.email == "admin@keel.local" && u.role == "admin"));
        for u in &users {
            assert!(keel_domain::schema::ROLES.contains(&u.role));
            assert_eq!(normalize_email(u.email).as_deref(), Some(u.email));
            assert!(u.team.is_none_or(|t| DEMO_TEAMS.contains(&t)));
        }
        for team in DEMO_TEAMS {
            assert!(users.iter().any(|u| u.team == Some(team) && u.role == "rep"), "{team} has no rep");
        }
        let mut emails: Vec<&str> = users.iter().map(|u| u.email).collect();
        emails.sort_unstable();
        emails.dedup();
        assert_eq!(emails.len(), users.len());
    }

    #[test]
    fn user_and_team_records_are_complete_and_valid() {
        let schema = builtin_schema();
        let team = team_record("East", NOW);
        let user = user_record(&demo_users()[1], team.id(), NOW);
        for (entity, r) in [("teams", &team), ("users", &user)] {
            let def = schema.entity(entity).expect("entity");
            for f in def.fields.iter().filter(|f| !f.hidden) {
                let v = r.fields.get(&f.name).unwrap_or_else(|| panic!("{entity}.{} missing", f.name));
                assert!(!(f.required && v.is_null()), "{entity}.{}", f.name);
                assert_eq!(normalize_value(f, v.clone(), "US").as_ref(), Ok(v), "{entity}.{}", f.name);
            }
            for k in r.fields.keys() {
                assert!(def.field(k).is_some(), "{entity}.{k}");
            }
        }
        assert_eq!(user.get("team_id").as_uuid(), team.id());
    }

    #[test]
    fn guide_samples_are_the_guides_companies_contacts_and_deals() {
        let s = guide_samples(&owners(), TODAY, NOW);
        let acme = find(&s.companies, "name", "Acme Corp");
        assert_eq!(acme.text("industry"), Some("Technology"));
        assert_eq!(acme.text("size"), Some("51-200"));
        assert_eq!(acme.text("domain"), Some("acme.com"));
        let techstart = find(&s.companies, "name", "TechStart Inc");
        assert_eq!(techstart.text("size"), Some("11-50"));
        assert_eq!(techstart.text("domain"), Some("techstart.io"));

        let john = find(&s.contacts, "email", "john@acme.com");
        assert_eq!(john.text("full_name"), Some("John Smith"));
        assert_eq!(john.text("title"), Some("VP of Sales"));
        assert_eq!(john.get("company_id").as_uuid(), acme.id());
        let sarah = find(&s.contacts, "email", "sarah@techstart.io");
        assert_eq!(sarah.text("title"), Some("CEO"));
        assert_eq!(sarah.get("company_id").as_uuid(), techstart.id());

        let enterprise = find(&s.deals, "title", "Enterprise License");
        assert_eq!(enterprise.get("company_id").as_uuid(), acme.id());
        assert_eq!(enterprise.get("amount").as_int(), Some(5_000_000));
        assert_eq!(enterprise.text("currency"), Some("USD"));
        assert_eq!(enterprise.text("stage"), Some("Negotiation"));
        assert_eq!(enterprise.get("probability").as_int(), Some(75));
        let starter = find(&s.deals, "title", "Starter Package");
        assert_eq!(starter.get("company_id").as_uuid(), techstart.id());
        assert_eq!(starter.get("amount").as_int(), Some(2_500_000));
        assert_eq!(starter.text("stage"), Some("Proposal"));
        assert_eq!(starter.get("probability").as_int(), Some(50));

        // Closing about three weeks out, in the guide's order.
        let e = enterprise.get("expected_close_date").as_date().expect("date");
        let st = starter.get("expected_close_date").as_date().expect("date");
        assert!(e > TODAY + Duration::days(14) && e < TODAY + Duration::days(30));
        assert!(st > e);
    }

    #[test]
    fn guide_samples_are_complete_valid_and_linked() {
        let schema = builtin_schema();
        let s = guide_samples(&owners(), TODAY, NOW);
        let ids: Vec<Uuid> = s.companies.iter().chain(&s.contacts).chain(&s.deals).filter_map(Record::id).collect();
        assert!(!s.activities.is_empty());
        for (entity, records) in
            [("companies", &s.companies), ("contacts", &s.contacts), ("deals", &s.deals), ("activities", &s.activities)]
        {
            let def = schema.entity(entity).expect("entity");
            for r in records {
                for k in r.fields.keys() {
                    assert!(def.field(k).is_some(), "{entity}.{k}");
                }
                for f in &def.fields {
                    let v = r.fields.get(&f.name).unwrap_or_else(|| panic!("{entity}.{} missing", f.name));
                    let must = f.required
                        || matches!(f.name.as_str(), "id" | "created_at" | "updated_at" | "version" | "owner_id");
                    assert!(!(must && v.is_null()), "{entity}.{}", f.name);
                    assert_eq!(normalize_value(f, v.clone(), "US").as_ref(), Ok(v), "{entity}.{}", f.name);
                    if f.ty == keel_domain::FieldType::Reference
                        && f.reference.as_deref() != Some("users")
                        && let Some(target) = v.as_uuid()
                    {
                        assert!(ids.contains(&target), "{entity}.{} points nowhere", f.name);
                    }
                }
                let (Value::Timestamp(created), Value::Timestamp(updated)) = (r.get("created_at"), r.get("updated_at"))
                else {
                    panic!("{entity} timestamps")
                };
                assert!(created <= updated && *updated <= NOW, "{entity}");
            }
        }
        for a in &s.activities {
            assert_eq!(a.get("completed").as_bool(), Some(!a.get("completed_at").is_null()));
            if let Value::Timestamp(t) = a.get("completed_at") {
                assert!(*t <= NOW);
            }
        }
    }

    #[test]
    fn guide_samples_are_owned_by_the_given_owners() {
        let owners = owners();
        let s = guide_samples(&owners, TODAY, NOW);
        for r in s.companies.iter().chain(&s.contacts).chain(&s.deals).chain(&s.activities) {
            assert!(owners.contains(&r.owner_id().expect("owner")));
        }
        let one = guide_samples(&owners[..1], TODAY, NOW);
        assert!(one.companies.iter().all(|r| r.owner_id() == Some(owners[0])));
    }
}
