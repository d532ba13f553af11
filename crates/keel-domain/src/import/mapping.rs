//! Header → field mapping. Headers are compared in a normal form (lowercase letters and
//! digits only, so "E-mail Address", "email_address" and "EmailAddress" are one header)
//! against, in order: the field's name, its label, then common synonyms from other CRMs'
//! and spreadsheets' exports. Each field takes the first column that matches it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::FieldErrors;
use crate::schema::{EntityDef, FieldDef};

/// How a column found its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    Name,
    Label,
    Synonym,
    /// The caller's mapping said so.
    Explicit,
}

/// One column of the file and the field it feeds (None: ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnMapping {
    /// 0-based column index.
    pub column: usize,
    pub header: String,
    pub field: Option<String>,
    pub matched_by: Option<MatchedBy>,
}

/// `"E-mail Address"` → `"emailaddress"`.
pub fn normalize_header(h: &str) -> String {
    h.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Synonyms (in normal form) per entity and field. The field's name and label are tried
/// before these, so they need not be repeated.
fn synonyms(entity: &str, field: &str) -> &'static [&'static str] {
    match (entity, field) {
        (_, "id") => &["recordid", "keelid", "uuid"],
        (_, "owner_id") => &[
            "owner",
            "owneremail",
            "recordowner",
            "accountowner",
            "contactowner",
            "dealowner",
            "salesrep",
            "assignedto",
        ],
        ("companies", "name") => &[
            "companyname",
            "accountname",
            "company",
            "account",
            "organization",
            "organisation",
            "organizationname",
            "organisationname",
        ],
        ("companies", "domain") => &["companydomain", "companydomainname", "domainname", "websitedomain"],
        ("companies", "website") => &["url", "web", "homepage", "websiteurl", "companywebsite", "webaddress"],
        ("companies", "industry") => &["sector", "vertical"],
        ("companies", "size") => &["companysize", "employees", "numberofemployees", "headcount", "employeecount"],
        ("companies", "address") => &["street", "streetaddress", "address1", "addressline1", "billingstreet"],
        ("companies", "city") => &["town", "billingcity"],
        ("companies", "state") => &["region", "province", "stateprovince", "stateregion", "billingstate"],
        ("companies", "country") => &["countryregion", "nation", "billingcountry"],
        ("companies", "phone") => &["phonenumber", "telephone", "tel", "mainphone", "companyphone"],
        ("contacts", "first_name") => &["first", "givenname", "forename", "fname"],
        ("contacts", "last_name") => &["last", "surname", "familyname", "lname"],
        ("contacts", "email") => {
            &["emailaddress", "mail", "workemail", "businessemail", "primaryemail", "emailaddress1"]
        }
        ("contacts", "phone") => {
            &["phonenumber", "workphone", "businessphone", "officephone", "telephone", "tel", "directphone"]
        }
        ("contacts", "mobile") => &["mobilephone", "mobilenumber", "cellphone", "cell", "cellular", "handy"],
        ("contacts", "title") => &["title", "jobtitle", "position"],
        ("contacts", "department") => &["dept"],
        ("contacts", "is_primary") => &["primary", "primarycontact", "isprimarycontact"],
        ("contacts", "linkedin_url") => &["linkedin", "linkedinprofile", "linkedinurl"],
        ("contacts", "notes") => &["note", "comments", "comment", "description"],
        ("contacts", "company_id") => {
            &["companyname", "accountname", "account", "organization", "organisation", "companydomain", "employer"]
        }
        ("deals", "title") => &["dealname", "deal", "name", "opportunityname", "opportunity", "dealtitle"],
        ("deals", "amount") => &["value", "dealvalue", "dealamount", "price", "total"],
        ("deals", "currency") => &["currencycode", "dealcurrency"],
        ("deals", "stage") => &["dealstage", "pipelinestage", "salesstage", "status"],
        ("deals", "probability") => &["winprobability", "probabilitypercent", "chance"],
        ("deals", "expected_close_date") => {
            &["closedate", "expectedclosedate", "closingdate", "targetclosedate", "estimatedclosedate"]
        }
        ("deals", "actual_close_date") => &["actualclosedate", "closedon", "dateclosed"],
        ("deals", "source") => &["leadsource", "dealsource", "origin", "channel"],
        ("deals", "notes") => &["note", "comments", "comment", "description"],
        ("deals", "company_id") => &[
            "companyname",
            "accountname",
            "account",
            "organization",
            "organisation",
            "companydomain",
            "customer",
            "client",
        ],
        ("deals", "contact_id") => &["contact", "contactemail", "primarycontact"],
        _ => &[],
    }
}

/// Fields a column may feed: what users write, plus `id` (a key for updates).
pub fn mappable_fields(entity: &EntityDef) -> impl Iterator<Item = &FieldDef> {
    entity.fields.iter().filter(|f| !f.hidden && (f.is_writable() || f.name == "id"))
}

/// The field a header names, and how, if any.
fn match_header<'a>(entity: &'a EntityDef, header: &str) -> Option<(&'a FieldDef, MatchedBy)> {
    let h = normalize_header(header);
    if h.is_empty() {
        return None;
    }
    let fields: Vec<&FieldDef> = mappable_fields(entity).collect();
    let by = |pred: &dyn Fn(&FieldDef) -> bool, kind| fields.iter().find(|f| pred(f)).map(|f| (*f, kind));
    by(&|f| normalize_header(&f.name) == h, MatchedBy::Name)
        .or_else(|| by(&|f| normalize_header(&f.label) == h, MatchedBy::Label))
        .or_else(|| by(&|f| synonyms(&entity.name, &f.name).contains(&h.as_str()), MatchedBy::Synonym))
}

/// Propose a field for every header; a field already taken by an earlier column is not
/// proposed again (the later column is ignored).
pub fn auto_map(entity: &EntityDef, headers: &[String]) -> Vec<ColumnMapping> {
    let mut taken: Vec<String> = Vec::new();
    headers
        .iter()
        .enumerate()
        .map(|(column, header)| {
            let found = match_header(entity, header).filter(|(f, _)| !taken.contains(&f.name));
            if let Some((f, _)) = found {
                taken.push(f.name.clone());
            }
            ColumnMapping {
                column,
                header: header.clone(),
                field: found.map(|(f, _)| f.name.clone()),
                matched_by: found.map(|(_, by)| by),
            }
        })
        .collect()
}

/// Apply the caller's edits (`header → field`, or `None` to ignore the column) on top
/// of the automatic mapping. Every header named must exist, every field must be
/// mappable, and no field may be fed by two columns.
pub fn apply_overrides(
    entity: &EntityDef,
    mut columns: Vec<ColumnMapping>,
    overrides: &BTreeMap<String, Option<String>>,
) -> Result<Vec<ColumnMapping>, FieldErrors> {
    let mut errors = FieldErrors::new();
    for (header, field) in overrides {
        let param = format!("mapping.{header}");
        let Some(col) = columns.iter().position(|c| c.header == *header) else {
            errors.push(param, "unknown_column", format!("the file has no column `{header}`"));
            continue;
        };
        let field = field.as_deref().map(str::trim).filter(|f| !f.is_empty());
        if let Some(name) = field
            && !mappable_fields(entity).any(|f| f.name == name)
        {
            errors.push(param, "unknown_field", format!("{} has no importable field `{name}`", entity.label));
            continue;
        }
        columns[col].field = field.map(str::to_string);
        columns[col].matched_by = field.map(|_| MatchedBy::Explicit);
    }
    // An explicit choice wins over an automatic one for the same field.
    let explicit: Vec<String> =
        columns.iter().filter(|c| c.matched_by == Some(MatchedBy::Explicit)).filter_map(|c| c.field.clone()).collect();
    for c in columns.iter_mut() {
        if c.matched_by != Some(MatchedBy::Explicit) && c.field.as_ref().is_some_and(|f| explicit.contains(f)) {
            c.field = None;
            c.matched_by = None;
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for c in &columns {
        if let Some(f) = c.field.as_deref() {
            if seen.contains(&f) {
                errors.push(
                    format!("mapping.{}", c.header),
                    "mapped_twice",
                    format!("field `{f}` is already fed by another column"),
                );
            }
            seen.push(f);
        }
    }
    errors.into_result()?;
    Ok(columns)
}

/// Required fields no column feeds (rules may still fill some in, e.g. a deal's stage).
pub fn unmapped_required(entity: &EntityDef, columns: &[ColumnMapping]) -> Vec<String> {
    entity
        .fields
        .iter()
        .filter(|f| f.required && f.is_writable() && !crate::rules::has_default(entity, &f.name))
        .filter(|f| !columns.iter().any(|c| c.field.as_deref() == Some(f.name.as_str())))
        .map(|f| f.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::builtin_schema;

    fn fields(entity: &str, headers: &[&str]) -> Vec<Option<String>> {
        let schema = builtin_schema();
        let e = schema.entity(entity).expect("entity");
        let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        auto_map(e, &headers).into_iter().map(|c| c.field).collect()
    }

    fn some(names: &[&str]) -> Vec<Option<String>> {
        names.iter().map(|n| if n.is_empty() { None } else { Some(n.to_string()) }).collect()
    }

    #[test]
    fn the_guides_headers_map_by_name_and_label() {
        assert_eq!(
            fields("companies", &["name", "industry", "size", "website"]),
            some(&["name", "industry", "size", "website"])
        );
        assert_eq!(
            fields("contacts", &["first_name", "last_name", "email", "company", "title"]),
            some(&["first_name", "last_name", "email", "company_id", "title"])
        );
        assert_eq!(
            fields("deals", &["title", "company", "amount", "stage", "expected_close_date"]),
            some(&["title", "company_id", "amount", "stage", "expected_close_date"])
        );
    }

    #[test]
    fn other_crms_headers_map_by_synonym() {
        assert_eq!(
            fields(
                "contacts",
                &[
                    "First Name",
                    "Surname",
                    "E-mail Address",
                    "Account Name",
                    "Job Title",
                    "Mobile Phone",
                    "Owner Email"
                ]
            ),
            some(&["first_name", "last_name", "email", "company_id", "title", "mobile", "owner_id"])
        );
        assert_eq!(
            fields("companies", &["Company Name", "URL", "Company Domain Name", "Phone Number"]),
            some(&["name", "website", "domain", "phone"])
        );
        assert_eq!(
            fields("deals", &["Deal Name", "Account Name", "Value", "Close Date", "Deal Stage", "Owner"]),
            some(&["title", "company_id", "amount", "expected_close_date", "stage", "owner_id"])
        );
    }

    #[test]
    fn unknown_and_repeated_headers_are_ignored() {
        assert_eq!(fields("contacts", &["Email", "Favourite colour", "email"]), some(&["email", "", ""]));
        assert_eq!(fields("contacts", &["full_name", "created_at"]), some(&["", ""]));
    }

    #[test]
    fn overrides_remap_ignore_and_refuse_bad_names() {
        let schema = builtin_schema();
        let e = schema.entity("contacts").expect("contacts");
        let headers = vec!["Mail".to_string(), "Work".to_string(), "Phone".to_string()];
        let auto = auto_map(e, &headers);
        let mut edits = BTreeMap::new();
        edits.insert("Work".to_string(), Some("phone".to_string()));
        edits.insert("Mail".to_string(), None);
        let mapped = apply_overrides(e, auto.clone(), &edits).expect("valid");
        let got: Vec<Option<String>> = mapped.into_iter().map(|c| c.field).collect();
        assert_eq!(got, some(&["", "phone", ""]));

        let mut bad = BTreeMap::new();
        bad.insert("Nope".to_string(), Some("email".to_string()));
        bad.insert("Work".to_string(), Some("full_name".to_string()));
        let err = apply_overrides(e, auto, &bad).expect_err("refused");
        let codes: Vec<&str> = err.0.iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["unknown_column", "unknown_field"]);
    }
}
