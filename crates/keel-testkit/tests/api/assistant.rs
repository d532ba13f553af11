//! The assistant over HTTP on both databases, with no model configured (the built-in
//! engine): a table of everyday phrasings against a seeded CRM (which tool, which
//! arguments, which records cited or which figure), the ones it must decline, what a rep
//! of another team learns (nothing), proposals (nothing written until the asking user
//! confirms; once only; change-logged as that user), smart data entry, email drafts,
//! meeting summaries, conversation history and bad input.

use std::collections::{BTreeMap, BTreeSet};

use keel_domain::clock::Clock;
use keel_domain::policy::Role;
use keel_testkit::{Client, TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The seeded CRM's "today": a Wednesday in the middle of a quarter's middle month, so
/// this week, this month, last quarter and next month are all distinct.
const TODAY: &str = "2099-05-13";

/// Move the service's clock to midday on `TODAY`.
fn set_today(app: &TestApp) {
    let target = time::OffsetDateTime::parse("2099-05-13T12:00:00Z", &time::format_description::well_known::Rfc3339)
        .expect("target");
    let now = app.clock.now();
    assert!(target > now, "the test's today must be in the future");
    app.clock.advance(target - now);
}

struct Seed {
    /// Record name (company name, contact full name, deal title) → id.
    ids: BTreeMap<String, String>,
    admin_id: String,
    rep_a: Client,
    rep_a_id: String,
    rep_b: Client,
}

impl Seed {
    fn id(&self, name: &str) -> &str {
        self.ids.get(name).unwrap_or_else(|| panic!("no seeded record {name}"))
    }
}

async fn rename(app: &TestApp, user: &Value, name: &str) {
    let id = user["id"].as_str().expect("user id");
    let res = app.admin.patch(&format!("/api/v1/users/{id}"), json!({ "name": name })).await;
    assert_eq!(res.status, StatusCode::OK, "rename: {}", res.text);
}

/// Team A (the admin, rep Alex Kim) and team B (rep Morgan Blake). Most records belong to
/// the admin; Umbrella Retail, its contact and deals belong to team B.
async fn seed(app: &TestApp) -> Seed {
    set_today(app);
    let team_a = app.admin_team().await;
    let team_b = app.team("B").await;
    let (a, rep_a) = app.member(Role::Rep, &team_a).await;
    let (b, rep_b) = app.member(Role::Rep, &team_b).await;
    rename(app, &a, "Alex Kim").await;
    rename(app, &b, "Morgan Blake").await;
    let rep_a_id = a["id"].as_str().expect("id").to_string();
    let rep_b_id = b["id"].as_str().expect("id").to_string();
    let admin_id = app.admin.get("/api/v1/auth/me").await.body["id"].as_str().expect("admin id").to_string();
    let mut ids = BTreeMap::new();

    for (name, industry, size, owner) in [
        ("Acme Corp", "Technology", "201-1000", &admin_id),
        ("TechStart Inc", "Technology", "11-50", &admin_id),
        ("Initech", "Technology", "51-200", &admin_id),
        ("Globex Industries", "Manufacturing", "1000+", &admin_id),
        ("MediCare Plus", "Healthcare", "51-200", &admin_id),
        ("Bluebank", "Finance", "1000+", &admin_id),
        ("Umbrella Retail", "Retail", "11-50", &rep_b_id),
    ] {
        let c = app
            .admin
            .create("companies", json!({ "name": name, "industry": industry, "size": size, "owner_id": owner }))
            .await;
        ids.insert(name.to_string(), c["id"].as_str().expect("id").to_string());
    }
    for (first, last, company, title, email, primary, owner) in [
        ("Sarah", "Johnson", "Acme Corp", "VP Engineering", "sarah@acme.example", true, &admin_id),
        ("Tom", "Baker", "Acme Corp", "Buyer", "tom@acme.example", false, &admin_id),
        ("Lena", "Park", "TechStart Inc", "CEO", "lena@techstart.example", true, &admin_id),
        ("Raj", "Patel", "Globex Industries", "Director", "raj@globex.example", true, &admin_id),
        ("Zoe", "Quinn", "Umbrella Retail", "COO", "zoe@umbrella.example", true, &rep_b_id),
    ] {
        let c = app
            .admin
            .create(
                "contacts",
                json!({ "first_name": first, "last_name": last, "company_id": ids[company], "title": title,
                        "email": email, "is_primary": primary, "owner_id": owner }),
            )
            .await;
        ids.insert(format!("{first} {last}"), c["id"].as_str().expect("id").to_string());
    }
    // (title, company, amount in cents, stage, date, owner): the date is the expected close
    // for open deals and the actual close for closed ones.
    for (title, company, amount, stage, date, owner) in [
        ("Acme Expansion", "Acme Corp", 7_500_000, "Negotiation", "2099-05-15", &admin_id),
        ("TechStart Pilot", "TechStart Inc", 2_500_000, "Proposal", "2099-05-16", &admin_id),
        ("Initech Platform", "Initech", 12_000_000, "Proposal", "2099-05-28", &rep_a_id),
        ("Globex Retrofit", "Globex Industries", 30_000_000, "Negotiation", "2099-06-20", &admin_id),
        ("MediCare Rollout", "MediCare Plus", 6_000_000, "Qualification", "2099-07-10", &admin_id),
        ("Acme Support Renewal", "Acme Corp", 4_000_000, "Prospecting", "2099-05-20", &rep_a_id),
        ("Bluebank Core", "Bluebank", 9_000_000, "Closed Won", "2099-02-10", &admin_id),
        ("TechStart Seats", "TechStart Inc", 3_000_000, "Closed Won", "2099-03-30", &admin_id),
        ("Initech Licences", "Initech", 5_000_000, "Closed Won", "2099-04-05", &admin_id),
        ("Globex Pumps", "Globex Industries", 8_000_000, "Closed Lost", "2099-03-01", &admin_id),
        ("Umbrella Big Deal", "Umbrella Retail", 50_000_000, "Negotiation", "2099-05-14", &rep_b_id),
        ("Umbrella Stores", "Umbrella Retail", 20_000_000, "Closed Won", "2099-01-20", &rep_b_id),
    ] {
        let date_field = if stage.starts_with("Closed") { "actual_close_date" } else { "expected_close_date" };
        let mut body = json!({ "title": title, "company_id": ids[company], "amount": amount, "stage": stage,
                               date_field: date, "owner_id": owner });
        if title == "Acme Expansion" {
            body["contact_id"] = json!(ids["Sarah Johnson"]);
        }
        let d = app.admin.create("deals", body).await;
        ids.insert(title.to_string(), d["id"].as_str().expect("id").to_string());
    }
    Seed { ids, admin_id, rep_a, rep_a_id, rep_b }
}

async fn ask(client: &Client, message: &str) -> Value {
    let res = client.post("/api/v1/assistant/chat", json!({ "message": message })).await;
    assert_eq!(res.status, StatusCode::OK, "{message}: {}", res.text);
    res.body
}

/// Whether every key of `expected` is in `actual` with an equal value (objects
/// recursively; other values exactly).
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|x| contains(x, v))),
        _ => actual == expected,
    }
}

fn cited_ids(reply: &Value) -> BTreeSet<String> {
    reply["citations"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["id"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// One row of the table.
struct Case {
    q: &'static str,
    /// The tool the engine must call first (None: it must call none).
    tool: Option<&'static str>,
    /// A subset of that call's arguments.
    args: Value,
    /// Exactly the records cited, by name (None: not checked).
    cites: Option<&'static [&'static str]>,
    /// Text the reply must contain.
    says: &'static [&'static str],
    /// Proposals the reply must carry.
    proposals: usize,
}

fn case(q: &'static str, tool: Option<&'static str>, args: Value) -> Case {
    Case { q, tool, args, cites: None, says: &[], proposals: 0 }
}

impl Case {
    fn cites(mut self, names: &'static [&'static str]) -> Self {
        self.cites = Some(names);
        self
    }
    fn says(mut self, text: &'static [&'static str]) -> Self {
        self.says = text;
        self
    }
    fn proposes(mut self, n: usize) -> Self {
        self.proposals = n;
        self
    }
}

fn declined(q: &'static str) -> Case {
    case(q, None, json!({})).cites(&[]).says(&["I can't"])
}

fn table() -> Vec<Case> {
    const CLOSING_THIS_MONTH: &[&str] =
        &["Acme Expansion", "TechStart Pilot", "Initech Platform", "Acme Support Renewal", "Umbrella Big Deal"];
    const IN_NEGOTIATION: &[&str] = &["Acme Expansion", "Globex Retrofit", "Umbrella Big Deal"];
    let tech = json!({ "industry": "Technology" });
    vec![
        // Deals with tech companies, by amount.
        case("Show me all deals with tech companies over $50K", Some("search_deals"), json!({ "industry": "Technology", "amount": { "gt": 5_000_000 } }))
            .cites(&["Acme Expansion", "Initech Platform"]).says(&["$75,000", "$120,000"]),
        case("Show me all deals with tech companies over $50,000", Some("search_deals"), json!({ "industry": "Technology", "amount": { "gt": 5_000_000 } }))
            .cites(&["Acme Expansion", "Initech Platform"]),
        case("tech deals above $100K", Some("search_deals"), json!({ "industry": "Technology", "amount": { "gt": 10_000_000 } }))
            .cites(&["Initech Platform"]),
        case("deals with technology companies under $30K", Some("search_deals"), json!({ "industry": "Technology", "amount": { "lt": 3_000_000 } }))
            .cites(&["TechStart Pilot"]),
        case("software deals between $20K and $80K", Some("search_deals"), json!({ "industry": "Technology", "amount": { "gte": 2_000_000, "lte": 8_000_000 } }))
            .cites(&["Acme Expansion", "TechStart Pilot", "Acme Support Renewal", "TechStart Seats", "Initech Licences"]),
        // Contacts at a company.
        case("Who is the contact at Acme Corp?", Some("search_contacts"), json!({ "company": "Acme Corp" }))
            .cites(&["Acme Corp", "Sarah Johnson", "Tom Baker"]).says(&["Sarah Johnson", "(primary)"]),
        case("Who's our contact at TechStart Inc?", Some("search_contacts"), json!({ "company": "TechStart Inc" }))
            .cites(&["TechStart Inc", "Lena Park"]).says(&["Lena Park", "lena@techstart.example"]),
        case("Who works at Globex Industries?", Some("search_contacts"), json!({ "company": "Globex Industries" }))
            .cites(&["Globex Industries", "Raj Patel"]),
        case("contacts at Acme Corp", Some("search_contacts"), json!({ "company": "Acme Corp" }))
            .cites(&["Acme Corp", "Sarah Johnson", "Tom Baker"]),
        case("Who is the contact at Nonexistent Ltd?", Some("search_contacts"), json!({ "company": "Nonexistent Ltd" }))
            .cites(&[]).says(&["couldn't find a company"]),
        // Closing windows.
        case("What deals are closing this month?", Some("search_deals"), json!({ "close_from": "2099-05-01", "close_to": "2099-05-31" }))
            .cites(CLOSING_THIS_MONTH).says(&["5 deals"]),
        case("Which deals close this month?", Some("search_deals"), json!({ "close_from": "2099-05-01", "close_to": "2099-05-31" }))
            .cites(CLOSING_THIS_MONTH),
        case("Show me my deals closing this week", Some("search_deals"), json!({ "owner": "me", "close_from": "2099-05-11", "close_to": "2099-05-17" }))
            .cites(&["Acme Expansion", "TechStart Pilot"]).says(&["your open deals"]),
        case("What are my deals closing this week?", Some("search_deals"), json!({ "owner": "me", "close_from": "2099-05-11" }))
            .cites(&["Acme Expansion", "TechStart Pilot"]),
        case("deals closing this week", Some("search_deals"), json!({ "close_from": "2099-05-11", "close_to": "2099-05-17" }))
            .cites(&["Acme Expansion", "TechStart Pilot", "Umbrella Big Deal"]),
        case("deals closing next week", Some("search_deals"), json!({ "close_from": "2099-05-18", "close_to": "2099-05-24" }))
            .cites(&["Acme Support Renewal"]),
        case("deals closing next month", Some("search_deals"), json!({ "close_from": "2099-06-01", "close_to": "2099-06-30" }))
            .cites(&["Globex Retrofit"]),
        case("Any deals closing today?", Some("search_deals"), json!({ "close_from": TODAY, "close_to": TODAY }))
            .cites(&[]).says(&["I found no"]),
        case("deals closing in the next 30 days", Some("search_deals"), json!({ "close_from": TODAY, "close_to": "2099-06-12" }))
            .cites(CLOSING_THIS_MONTH),
        case("deals expected to close in Q3", Some("search_deals"), json!({ "close_from": "2099-07-01", "close_to": "2099-09-30" }))
            .cites(&["MediCare Rollout"]),
        // Totals: the aggregate service, not a page.
        case("How much did we win last quarter?", Some("deal_totals"), json!({ "stages": ["Closed Won"], "date_field": "actual_close_date", "close_from": "2099-01-01", "close_to": "2099-03-31", "measure": "sum" }))
            .cites(&[]).says(&["$320,000", "3 deals"]),
        case("How much have we won this quarter?", Some("deal_totals"), json!({ "stages": ["Closed Won"], "close_from": "2099-04-01", "close_to": "2099-06-30" }))
            .says(&["$50,000", "1 deal"]),
        case("How much revenue did we close this year?", Some("deal_totals"), json!({ "stages": ["Closed Won"], "close_from": "2099-01-01", "close_to": "2099-12-31" }))
            .says(&["$370,000", "4 deals"]),
        case("How many deals are in negotiation?", Some("deal_totals"), json!({ "stages": ["Negotiation"], "measure": "count" }))
            .says(&["There are 3 deals in Negotiation"]),
        case("How many open deals do we have?", Some("deal_totals"), json!({ "measure": "count", "stages": ["Prospecting", "Qualification", "Proposal", "Negotiation"] }))
            .says(&["7 open deals"]),
        case("What's the total value of deals in proposal?", Some("deal_totals"), json!({ "stages": ["Proposal"], "measure": "sum" }))
            .says(&["$145,000", "2 deals"]),
        case("How much did we lose last quarter?", Some("deal_totals"), json!({ "stages": ["Closed Lost"], "close_from": "2099-01-01" }))
            .says(&["$80,000", "1 deal"]),
        case("What's our pipeline worth?", Some("deal_totals"), json!({ "stages": ["Prospecting", "Qualification", "Proposal", "Negotiation"] }))
            .says(&["$1,120,000", "7 deals"]),
        // Stages.
        case("Which deals are in negotiation?", Some("search_deals"), json!({ "stages": ["Negotiation"] })).cites(IN_NEGOTIATION),
        case("What deals are we negotiating?", Some("search_deals"), json!({ "stages": ["Negotiation"] })).cites(IN_NEGOTIATION),
        case("Show me deals in the proposal stage", Some("search_deals"), json!({ "stages": ["Proposal"] }))
            .cites(&["TechStart Pilot", "Initech Platform"]),
        case("List qualified deals", Some("search_deals"), json!({ "stages": ["Qualification"] })).cites(&["MediCare Rollout"]),
        case("show won deals", Some("search_deals"), json!({ "stages": ["Closed Won"] }))
            .cites(&["Bluebank Core", "TechStart Seats", "Initech Licences", "Umbrella Stores"]),
        case("Which deals did we lose?", Some("search_deals"), json!({ "stages": ["Closed Lost"] })).cites(&["Globex Pumps"]),
        case("deals we won last quarter", Some("search_deals"), json!({ "stages": ["Closed Won"], "date_field": "actual_close_date", "close_from": "2099-01-01" }))
            .cites(&["Bluebank Core", "TechStart Seats", "Umbrella Stores"]),
        // Companies named or by industry.
        case("Show me open deals for Acme Corp", Some("search_deals"), json!({ "company": "Acme Corp" }))
            .cites(&["Acme Expansion", "Acme Support Renewal"]),
        case("Acme Corp deals", Some("search_deals"), json!({ "company": "Acme Corp" })).cites(&["Acme Expansion", "Acme Support Renewal"]),
        case("deals with Globex Industries", Some("search_deals"), json!({ "company": "Globex Industries" }))
            .cites(&["Globex Retrofit", "Globex Pumps"]),
        case("Show me healthcare deals", Some("search_deals"), json!({ "industry": "Healthcare" })).cites(&["MediCare Rollout"]),
        case("deals owned by Morgan Blake", Some("search_deals"), json!({ "owner": "Morgan Blake" }))
            .cites(&["Umbrella Big Deal", "Umbrella Stores"]),
        // Deal summaries.
        case("Summarize the Acme Expansion deal", Some("get_deal_summary"), json!({}))
            .cites(&["Acme Expansion", "Acme Corp", "Sarah Johnson"]).says(&["Negotiation", "$75,000", "Sarah Johnson", "2099-05-15"]),
        case("Tell me about the TechStart Pilot deal", Some("get_deal_summary"), json!({})).says(&["Proposal", "$25,000"]),
        case("What's the status of the Globex Retrofit deal?", Some("get_deal_summary"), json!({})).says(&["Globex Retrofit", "Negotiation"]),
        case("Summarize the Initech deal", Some("get_deal_summary"), json!({})).says(&["Initech Platform"]),
        // Companies.
        case("Show me tech companies", Some("search_companies"), tech.clone()).cites(&["Acme Corp", "TechStart Inc", "Initech"]),
        case("List companies in healthcare", Some("search_companies"), json!({ "industry": "Healthcare" })).cites(&["MediCare Plus"]),
        case("Which companies are in finance?", Some("search_companies"), json!({ "industry": "Finance" })).cites(&["Bluebank"]),
        case("Find company Globex", Some("search_companies"), json!({ "query": "Globex" })).cites(&["Globex Industries"]),
        case("large companies", Some("search_companies"), json!({ "size": ["201-1000", "1000+"] }))
            .cites(&["Acme Corp", "Globex Industries", "Bluebank"]),
        // People.
        case("What is Sarah Johnson's email?", Some("search_contacts"), json!({ "query": "Sarah Johnson" }))
            .cites(&["Sarah Johnson"]).says(&["sarah@acme.example"]),
        case("Find Raj Patel", Some("search_contacts"), json!({ "query": "Raj Patel" })).cites(&["Raj Patel"]),
        case("Who is Lena Park?", Some("search_contacts"), json!({ "query": "Lena Park" })).cites(&["Lena Park"]),
        // Writes: proposals only.
        case("Create a new contact at TechStart Inc", Some("create_contact"), json!({ "company": "TechStart Inc" }))
            .cites(&["TechStart Inc"]).says(&["Who is it?"]),
        case("Add John Smith, VP of Sales at Acme Corp, john@acme.com", Some("create_contact"),
            json!({ "first_name": "John", "last_name": "Smith", "title": "VP of Sales", "company": "Acme Corp", "email": "john@acme.com" }))
            .cites(&["Acme Corp"]).says(&["Acme Corp (linked)", "Does this look correct?"]).proposes(1),
        case("Add Sarah Johnson, VP Engineering at Acme Corp, sarah@acme.example", Some("create_contact"), json!({ "email": "sarah@acme.example" }))
            .cites(&["Acme Corp", "Sarah Johnson"]).says(&["already exists"]),
        case("Log a call with Sarah Johnson", Some("log_activity"), json!({ "type": "Call", "with": "Sarah Johnson" }))
            .says(&["Call with Sarah Johnson", "Nothing has been saved yet"]).proposes(1),
        case("Log a meeting with Lena Park about pilot scope", Some("log_activity"), json!({ "type": "Meeting", "with": "Lena Park", "subject": "Pilot scope" }))
            .proposes(1),
        case("Remind me to call Tom Baker tomorrow", Some("log_activity"), json!({ "type": "Task", "with": "Tom Baker", "due_date": "2099-05-14" }))
            .proposes(1),
        case("Move the TechStart Pilot deal to Negotiation", Some("update_deal"), json!({ "deal": "TechStart Pilot", "stage": "Negotiation" }))
            .says(&["Proposal → Negotiation"]).proposes(1),
        case("Mark the Globex Retrofit deal as won", Some("update_deal"), json!({ "deal": "Globex Retrofit", "stage": "Closed Won" })).proposes(1),
        case("Create a deal for Initech worth $20K", Some("create_deal"), json!({ "company": "Initech", "amount": 2_000_000 }))
            .says(&["$20,000"]).proposes(1),
        case("help", None, json!({})).says(&["Try:"]),
        // Declined: nothing made up, nothing done.
        declined("What's the weather like today?"),
        declined("Write me a poem about sales"),
        declined("Delete all deals in prospecting"),
        declined("Send an email to Sarah Johnson"),
        declined("Predict next quarter's revenue"),
        declined("Who is the president of France?"),
        declined("Tell me a joke"),
    ]
}

async fn the_engine_answers_a_table_of_phrasings(app: &TestApp) {
    let seed = seed(app).await;
    let cases = table();
    assert!(cases.len() >= 50, "the table has {} phrasings", cases.len());
    assert!(cases.iter().filter(|c| c.says == ["I can't"]).count() >= 5);
    for c in &cases {
        let reply = ask(&app.admin, c.q).await;
        let calls = reply["tool_calls"].as_array().expect("tool_calls");
        match c.tool {
            None => assert!(calls.is_empty(), "{}: expected no tool call, got {calls:?}", c.q),
            Some(tool) => {
                let first = calls.first().unwrap_or_else(|| panic!("{}: no tool call; reply {}", c.q, reply["reply"]));
                assert_eq!(first["name"], tool, "{}: {calls:?}", c.q);
                assert!(
                    contains(&first["arguments"], &c.args),
                    "{}: arguments {} lack {}",
                    c.q,
                    first["arguments"],
                    c.args
                );
            }
        }
        if let Some(names) = c.cites {
            let expected: BTreeSet<String> = names.iter().map(|n| seed.id(n).to_string()).collect();
            assert_eq!(cited_ids(&reply), expected, "{}: cited {}; reply {}", c.q, reply["citations"], reply["reply"]);
        }
        let text = reply["reply"].as_str().expect("reply text");
        for s in c.says {
            assert!(text.contains(s), "{}: reply lacks {s:?}:\n{text}", c.q);
        }
        let proposals = reply["proposals"].as_array().expect("proposals");
        assert_eq!(proposals.len(), c.proposals, "{}: proposals {proposals:?}", c.q);
        assert_eq!(reply["engine"], "builtin");
        for cit in reply["citations"].as_array().into_iter().flatten() {
            let url = cit["url"].as_str().expect("url");
            assert_eq!(
                url,
                format!("/{}/{}", cit["entity"].as_str().expect("entity"), cit["id"].as_str().expect("id"))
            );
        }
    }
    // Nothing above was written: proposals wait for confirmation.
    let calls = app.admin.get(&format!("/api/v1/contacts?email={}", "john@acme.com")).await;
    assert_eq!(calls.body["data"], json!([]), "the proposed contact is not created");
    let acts = app.admin.get("/api/v1/activities?count=true").await;
    assert_eq!(acts.body["total"], 0, "no activity was logged");
    let pilot = app.admin.get(&format!("/api/v1/deals/{}", seed.id("TechStart Pilot"))).await;
    assert_eq!(pilot.body["stage"], "Proposal", "the stage change waits for confirmation");
}
both_backends!(the_engine_answers_a_table_of_phrasings);

/// Everything a rep of team A can learn about team B's records through the assistant: nothing.
async fn a_rep_learns_nothing_about_another_teams_deals(app: &TestApp) {
    let seed = seed(app).await;
    let hidden: Vec<&str> =
        ["Umbrella Retail", "Zoe Quinn", "Umbrella Big Deal", "Umbrella Stores"].iter().map(|n| seed.id(n)).collect();
    let questions = [
        "Which deals are in negotiation?",
        "What deals are closing this week?",
        "deals with Umbrella Retail",
        "Show me retail deals",
        "show won deals",
        "deals owned by Morgan Blake",
        "Summarize the Umbrella Big Deal deal",
        "Who is the contact at Umbrella Retail?",
        "Find Zoe Quinn",
        "List retail companies",
        "Show me all deals over $100K",
        "How much did we win last quarter?",
        "How many deals are in negotiation?",
        "Log a call with Zoe Quinn",
        "Move the Umbrella Big Deal deal to Closed Won",
    ];
    for q in questions {
        let reply = ask(&seed.rep_a, q).await;
        let text = serde_json::to_string(&reply).expect("json");
        for (name, id) in ["Umbrella Retail", "Zoe Quinn", "Umbrella Big Deal", "Umbrella Stores"].iter().zip(&hidden) {
            assert!(!text.contains(id), "{q}: the reply names {name}'s id: {text}");
        }
        let answer = reply["reply"].as_str().expect("reply");
        // Words the rep typed may be echoed back ("I couldn't find “Umbrella Big”"); nothing else.
        for word in ["Umbrella Big", "Umbrella Stores", "Umbrella Retail", "Zoe", "zoe@", "$500,000", "$200,000"] {
            assert!(q.contains(word) || !answer.contains(word), "{q}: the reply mentions {word}: {answer}");
        }
        assert!(reply["proposals"].as_array().is_some_and(Vec::is_empty), "{q}: nothing to propose on hidden records");
    }
    // Totals count only what the rep may see (the admin's won deals, not team B's), and
    // sum only the rep's own amounts.
    let won = ask(&seed.rep_a, "How much did we win last quarter?").await;
    let text = won["reply"].as_str().expect("reply");
    assert!(text.contains("$0 across 2 deals"), "{text}");
    assert!(text.contains("only adds up amounts on deals you own"), "{text}");
    let negotiation = ask(&seed.rep_a, "Which deals are in negotiation?").await;
    assert_eq!(
        cited_ids(&negotiation),
        [seed.id("Acme Expansion"), seed.id("Globex Retrofit")].map(String::from).into()
    );
    assert!(
        negotiation["reply"].as_str().expect("reply").contains("amount hidden"),
        "a rep reads amounts on own deals only"
    );
    // The same question from team B's rep does see them: the difference is the policy.
    let theirs = ask(&seed.rep_b, "Which deals are in negotiation?").await;
    assert_eq!(cited_ids(&theirs), [seed.id("Umbrella Big Deal")].map(String::from).into());
}
both_backends!(a_rep_learns_nothing_about_another_teams_deals);

/// A deal summary shows the deal's custom fields by their labels (select values by their
/// option labels), and a field the asking role may not read is not in it.
async fn a_deal_summary_shows_custom_fields_the_user_may_read(app: &TestApp) {
    let seed = seed(app).await;
    for def in [
        json!({ "name": "segment", "label": "Segment", "type": "select",
                "options": [{ "value": "ent", "label": "Enterprise" }, { "value": "smb", "label": "Small business" }] }),
        json!({ "name": "margin_note", "label": "Margin note", "type": "text", "read_roles": ["admin"] }),
        json!({ "name": "signed", "label": "Signed", "type": "boolean" }),
        json!({ "name": "rebate", "label": "Rebate", "type": "currency" }),
    ] {
        let res = app.admin.post("/api/v1/fields/deals", def).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    }
    // Initech Platform is the rep's own deal.
    let deal = seed.id("Initech Platform");
    let set = app
        .admin
        .patch(
            &format!("/api/v1/deals/{deal}"),
            json!({ "cf_segment": "ent", "cf_margin_note": "thin, 9%", "cf_signed": true, "cf_rebate": 125_000 }),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text);

    let admin = ask(&app.admin, "Summarize the Initech Platform deal").await;
    let text = admin["reply"].as_str().expect("reply");
    for line in ["- Segment: Enterprise", "- Margin note: thin, 9%", "- Signed: Yes", "- Rebate: $1,250"] {
        assert!(text.contains(line), "the admin's summary lacks `{line}`: {text}");
    }
    let rep = ask(&seed.rep_a, "Summarize the Initech Platform deal").await;
    let text = rep["reply"].as_str().expect("reply");
    assert!(text.contains("- Segment: Enterprise"), "{text}");
    assert!(!text.contains("Margin note") && !text.contains("thin, 9%"), "the rep reads an admin-only field: {text}");
}
both_backends!(a_deal_summary_shows_custom_fields_the_user_may_read);

fn proposal_id(reply: &Value) -> String {
    reply["proposals"][0]["id"].as_str().unwrap_or_else(|| panic!("no proposal in {reply}")).to_string()
}

async fn proposals_run_only_when_the_same_user_confirms_once(app: &TestApp) {
    let seed = seed(app).await;
    let reply = ask(&seed.rep_a, "Log a call with Sarah Johnson").await;
    let id = proposal_id(&reply);
    let p = &reply["proposals"][0];
    assert_eq!(p["status"], "pending");
    assert_eq!(p["kind"], "log_activity");
    assert_eq!(p["steps"][0]["entity"], "activities");
    assert_eq!(p["steps"][0]["input"]["contact_id"], seed.id("Sarah Johnson"));
    assert_eq!(p["steps"][0]["input"]["company_id"], seed.id("Acme Corp"));
    assert!(p["expires_at"].as_str().is_some_and(|t| t.starts_with("2099-05-14")), "{p}");
    let logged = format!("/api/v1/contacts/{}/activities", seed.id("Sarah Johnson"));
    assert_eq!(app.admin.get(&logged).await.body["data"], json!([]), "not applied before confirmation");

    // Another user cannot see, confirm or cancel it.
    let confirm = format!("/api/v1/assistant/proposals/{id}/confirm");
    for other in [&seed.rep_b, &app.admin] {
        assert_eq!(other.post(&confirm, json!({})).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            other.post(&format!("/api/v1/assistant/proposals/{id}/cancel"), json!({})).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(other.get(&format!("/api/v1/assistant/proposals/{id}")).await.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(app.admin.get(&logged).await.body["data"], json!([]));

    let done = seed.rep_a.post(&confirm, json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["status"], "confirmed");
    let activity = done.body["records"][0]["id"].as_str().expect("written id").to_string();
    let written = app.admin.get(&format!("/api/v1/activities/{activity}")).await;
    assert_eq!(written.body["type"], "Call");
    assert_eq!(written.body["subject"], "Call with Sarah Johnson");
    assert_eq!(written.body["owner_id"], seed.rep_a_id);
    assert_eq!(written.body["completed"], true);

    // Once only.
    let again = seed.rep_a.post(&confirm, json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.body["code"], "proposal_decided");
    assert_eq!(app.admin.get(&logged).await.body["data"].as_array().map(Vec::len), Some(1));

    // The change log and the audit trail name the confirming user.
    let changes = app.admin.get("/api/v1/changes?after=0&limit=1000").await;
    let entry = changes.body["data"]
        .as_array()
        .and_then(|d| d.iter().find(|c| c["record_id"] == activity.as_str()))
        .unwrap_or_else(|| panic!("no change for {activity}: {}", changes.text));
    assert_eq!(entry["actor_id"], seed.rep_a_id);
    assert_eq!(entry["op"], "create");

    // Cancelled proposals cannot be confirmed.
    let reply = ask(&seed.rep_a, "Move the Acme Support Renewal deal to Qualification").await;
    let id = proposal_id(&reply);
    let cancelled = seed.rep_a.post(&format!("/api/v1/assistant/proposals/{id}/cancel"), json!({})).await;
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.text);
    let late = seed.rep_a.post(&format!("/api/v1/assistant/proposals/{id}/confirm"), json!({})).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    let deal = app.admin.get(&format!("/api/v1/deals/{}", seed.id("Acme Support Renewal"))).await;
    assert_eq!(deal.body["stage"], "Prospecting");

    // A write the policy refuses fails on confirm, as the user (a rep edits only their own deals).
    let reply = ask(&seed.rep_a, "Move the Acme Expansion deal to Proposal").await;
    let id = proposal_id(&reply);
    let refused = seed.rep_a.post(&format!("/api/v1/assistant/proposals/{id}/confirm"), json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);

    // A stale proposal (the deal changed since) does not overwrite: 412.
    let reply = ask(&seed.rep_a, "Move the Initech Platform deal to Negotiation").await;
    let id = proposal_id(&reply);
    let bump = seed
        .rep_a
        .patch(&format!("/api/v1/deals/{}", seed.id("Initech Platform")), json!({ "priority": "High" }))
        .await;
    assert_eq!(bump.status, StatusCode::OK, "{}", bump.text);
    let stale = seed.rep_a.post(&format!("/api/v1/assistant/proposals/{id}/confirm"), json!({})).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.text);

    // Proposals expire.
    let reply = ask(&seed.rep_a, "Log a meeting with Lena Park").await;
    let id = proposal_id(&reply);
    app.clock.advance(time::Duration::hours(25));
    let expired = seed.rep_a.post(&format!("/api/v1/assistant/proposals/{id}/confirm"), json!({})).await;
    assert_eq!(expired.status, StatusCode::CONFLICT);
    assert_eq!(expired.body["code"], "proposal_expired");
}
both_backends!(proposals_run_only_when_the_same_user_confirms_once);

async fn smart_entry_email_drafts_and_meeting_summaries(app: &TestApp) {
    let seed = seed(app).await;
    // Known company: linked; new company: created first, then the contact at it.
    let res = app
        .admin
        .post(
            "/api/v1/assistant/parse-contact",
            json!({ "text": "Add John Smith, VP of Sales at Acme Corp, john@acme.com" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["parsed"]["first_name"], "John");
    assert_eq!(res.body["company"], json!({ "status": "existing", "id": seed.id("Acme Corp"), "name": "Acme Corp" }));
    assert_eq!(res.body["fields"]["company_id"], seed.id("Acme Corp"));
    assert_eq!(res.body["duplicate"], Value::Null);

    let res = app
        .admin
        .post(
            "/api/v1/assistant/parse-contact",
            json!({ "text": "Priya Shah\nHead of Operations\nNorthwind Traders Ltd\npriya@northwind.example\n+1 415 555 0134" }),
        )
        .await;
    assert_eq!(res.body["company"], json!({ "status": "new", "name": "Northwind Traders Ltd" }), "{}", res.text);
    let steps = res.body["proposal"]["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2);
    let id = res.body["proposal"]["id"].as_str().expect("proposal id");
    let done = app.admin.post(&format!("/api/v1/assistant/proposals/{id}/confirm"), json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let contact_id = done.body["records"][1]["id"].as_str().expect("contact id");
    let contact = app.admin.get(&format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(contact.body["full_name"], "Priya Shah");
    assert_eq!(contact.body["title"], "Head of Operations");
    assert_eq!(contact.body["phone"], "+14155550134");
    assert_eq!(contact.body["company_id"], done.body["records"][0]["id"]);

    let dup = app.admin.post("/api/v1/assistant/parse-contact", json!({ "text": "Sarah J, sarah@acme.example" })).await;
    assert_eq!(dup.body["duplicate"]["id"], seed.id("Sarah Johnson"));
    assert_eq!(dup.body["proposal"], Value::Null);

    // Email drafts from the contact's history.
    let res = app
        .admin
        .post(
            "/api/v1/assistant/email-draft",
            json!({ "contact_id": seed.id("Sarah Johnson"), "purpose": "follow_up_after_demo" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["subject"], "Following up on our demo with Acme Corp");
    let body = res.body["body"].as_str().expect("body");
    assert!(body.starts_with("Hi Sarah,") && body.contains("Acme Expansion"), "{body}");
    assert_eq!(res.body["to"], "sarah@acme.example");
    let hidden = seed
        .rep_a
        .post("/api/v1/assistant/email-draft", json!({ "contact_id": seed.id("Zoe Quinn"), "purpose": "check_in" }))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "another team's contact");

    // Meeting summary → Meeting activity, tasks, stage change, on confirmation.
    let transcript = "Lena: Thanks for the demo, the team was impressed.\n\
        Lena: Budget is approved; we need the pricing proposal before the board meets.\n\
        Me: John will send the proposal by Friday.\n\
        Lena: I'll review it with our CFO next week.";
    let res = app
        .admin
        .post(
            "/api/v1/assistant/meeting-summary",
            json!({ "deal_id": seed.id("TechStart Pilot"), "transcript": transcript }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        res.body["action_items"][0],
        json!({ "text": "Send the proposal", "owner": "John", "due_date": "2099-05-15" })
    );
    assert_eq!(res.body["action_items"][1]["owner"], "Lena");
    assert_eq!(res.body["sentiment"]["label"], "positive");
    assert_eq!(res.body["recommended_stage"], Value::Null, "already in Proposal: no move backwards");
    let id = res.body["proposal"]["id"].as_str().expect("proposal");
    let done = app.admin.post(&format!("/api/v1/assistant/proposals/{id}/confirm"), json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let acts = app.admin.get(&format!("/api/v1/deals/{}/activities?sort=created_at", seed.id("TechStart Pilot"))).await;
    let kinds: Vec<&str> =
        acts.body["data"].as_array().expect("data").iter().filter_map(|a| a["type"].as_str()).collect();
    assert_eq!(kinds, ["Meeting", "Task", "Task"]);
    let res = app
        .admin
        .post(
            "/api/v1/assistant/meeting-summary",
            json!({ "deal_id": seed.id("Globex Retrofit"), "transcript": "Great news: they signed the contract this morning." }),
        )
        .await;
    assert_eq!(res.body["recommended_stage"], "Closed Won");
    let id = res.body["proposal"]["id"].as_str().expect("proposal");
    assert_eq!(
        app.admin.post(&format!("/api/v1/assistant/proposals/{id}/confirm"), json!({})).await.status,
        StatusCode::OK
    );
    let deal = app.admin.get(&format!("/api/v1/deals/{}", seed.id("Globex Retrofit"))).await;
    assert_eq!(deal.body["stage"], "Closed Won");
    let _ = seed.admin_id;
}
both_backends!(smart_entry_email_drafts_and_meeting_summaries);

async fn conversations_are_kept_per_user_and_bad_input_names_the_field(app: &TestApp) {
    let seed = seed(app).await;
    let first = ask(&seed.rep_a, "Which deals are in negotiation?").await;
    let conv = first["conversation_id"].as_str().expect("conversation id").to_string();
    let res = seed.rep_a.post("/api/v1/assistant/chat", json!({ "conversation_id": conv, "message": "help" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["conversation_id"], conv.as_str());
    let got = seed.rep_a.get(&format!("/api/v1/assistant/conversations/{conv}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["title"], "Which deals are in negotiation?");
    let roles: Vec<&str> =
        got.body["messages"].as_array().expect("messages").iter().filter_map(|m| m["role"].as_str()).collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(got.body["messages"][1]["tool_calls"][0]["name"], "search_deals");
    assert!(got.body["messages"][1]["citations"].as_array().is_some_and(|c| c.len() == 2));
    let list = seed.rep_a.get("/api/v1/assistant/conversations").await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1));

    // Someone else's conversation: 404, to read or to continue.
    assert_eq!(seed.rep_b.get(&format!("/api/v1/assistant/conversations/{conv}")).await.status, StatusCode::NOT_FOUND);
    let res = seed.rep_b.post("/api/v1/assistant/chat", json!({ "conversation_id": conv, "message": "help" })).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(seed.rep_b.get("/api/v1/assistant/conversations").await.body["data"], json!([]));

    for (body, field) in [
        (json!({}), "message"),
        (json!({ "message": "   " }), "message"),
        (json!({ "message": 42 }), "message"),
        (json!({ "message": "hi", "conversation_id": "nope" }), "conversation_id"),
        (json!({ "message": "hi", "extra": true }), "extra"),
        (json!({ "message": "x".repeat(5000) }), "message"),
    ] {
        let res = seed.rep_a.post("/api/v1/assistant/chat", body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.text);
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        assert_eq!(res.error_fields(), [field], "{body}");
    }
    for (path, body, field) in [
        ("/api/v1/assistant/parse-contact", json!({}), "text"),
        ("/api/v1/assistant/email-draft", json!({ "purpose": "check_in" }), "contact_id"),
        (
            "/api/v1/assistant/email-draft",
            json!({ "contact_id": seed.id("Sarah Johnson"), "purpose": "spam" }),
            "purpose",
        ),
        (
            "/api/v1/assistant/email-draft",
            json!({ "contact_id": seed.id("Sarah Johnson"), "purpose": "custom" }),
            "notes",
        ),
        ("/api/v1/assistant/meeting-summary", json!({ "transcript": "" }), "transcript"),
        ("/api/v1/assistant/meeting-summary", json!({ "transcript": "x", "deal_id": "42" }), "deal_id"),
    ] {
        let res = seed.rep_a.post(path, body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body}: {}", res.text);
        assert_eq!(res.error_fields(), [field], "{path} {body}");
    }
    let res = seed.rep_a.post("/api/v1/assistant/proposals/not-an-id/confirm", json!({})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.anonymous().post("/api/v1/assistant/chat", json!({ "message": "help" })).await.status,
        StatusCode::UNAUTHORIZED
    );
    let doc = app.anonymous().get("/api/openapi.json").await;
    for path in
        ["/api/v1/assistant/chat", "/api/v1/assistant/proposals/{id}/confirm", "/api/v1/assistant/meeting-summary"]
    {
        assert!(doc.body["paths"][path].is_object(), "{path} is documented");
    }
}
both_backends!(conversations_are_kept_per_user_and_bad_input_names_the_field);
