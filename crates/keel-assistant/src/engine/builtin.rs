//! The built-in engine: no model, no API key. Parse the request (`intent`), call the
//! tool it maps to, and format the result (`answer`). Deterministic: the same request on
//! the same data and date gives the same answer. A short follow-up ("only the ones over
//! $50K", "what about next month?") refines the conversation's previous deal question,
//! read from the tool calls stored with that answer.

use keel_service::assistant::Message;

use super::intent::{Decline, Earlier, Intent, follow_up, parse};
use super::{BoxFuture, ChatEngine, Reply, Turn, answer};
use crate::error::AssistantError;
use crate::tools::{DealFilters, Measure, Resolved, SearchRecords, Tools};

#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinEngine;

/// The deal question of the conversation's last answer that used tools, for follow-ups
/// ("only the ones over $50K"). None when that answer was about something else.
fn earlier_question(history: &[Message]) -> Option<Earlier> {
    let calls = history
        .iter()
        .rev()
        .filter(|m| m.role == "assistant")
        .find_map(|m| m.data["tool_calls"].as_array().filter(|a| !a.is_empty()))?;
    let last = calls.last()?;
    let args = &last["arguments"];
    match last["name"].as_str()? {
        "search_deals" => serde_json::from_value::<DealFilters>(args.clone()).ok().map(Earlier::Search),
        "deal_totals" => {
            let filters = serde_json::from_value::<DealFilters>(args.clone()).ok()?;
            let measure = serde_json::from_value::<Measure>(args["measure"].clone()).unwrap_or_default();
            Some(Earlier::Totals(filters, measure))
        }
        _ => None,
    }
}

async fn run(tools: &mut Tools, turn: &Turn<'_>) -> Result<Reply, AssistantError> {
    let today = tools.today();
    let intent = earlier_question(turn.history)
        .and_then(|e| follow_up(turn.message, today, &e))
        .unwrap_or_else(|| parse(turn.message, today));
    let reply = match intent {
        Intent::Help => answer::help(),
        Intent::Decline(Decline::Unknown) => {
            // Not a question the parser knows: look for records about it (full text, and
            // by meaning when embeddings are configured) before giving up.
            let hits = tools.search_records(&SearchRecords { query: turn.message.to_string() }).await?;
            if hits.hits.is_empty() {
                tools.take_calls();
                answer::decline(&Decline::Unknown)
            } else {
                answer::records(&hits)
            }
        }
        Intent::Decline(why) => answer::decline(&why),
        Intent::SearchDeals { filters, period } => {
            let hits = tools.search_deals(&filters).await?;
            answer::deals(&hits, &filters, period.as_deref())
        }
        Intent::DealTotals { filters, measure, period } => {
            let totals = tools.deal_totals(&filters, measure).await?;
            answer::totals(&totals, &filters, measure, period.as_deref())
        }
        Intent::SearchCompanies(args) => {
            let hits = tools.search_companies(&args).await?;
            answer::companies(&hits)
        }
        Intent::SearchContacts(args) => {
            let hits = tools.search_contacts(&args).await?;
            answer::contacts(&hits, args.company.as_deref(), args.query.as_deref())
        }
        Intent::DealSummary { deal } => match tools.deal_by_name(&deal).await? {
            Resolved::One(d) => {
                let s = tools.get_deal_summary(d.id).await?;
                answer::summary(&s)
            }
            Resolved::Many(rows) => answer::which_deal(&deal, &rows),
            Resolved::None => answer::which_deal(&deal, &[]),
        },
        Intent::CreateContact(parsed) => answer::contact_draft(tools.create_contact(&parsed).await?),
        Intent::CreateDeal(Some(input)) => answer::write(tools.create_deal(&input).await?),
        Intent::CreateDeal(None) => Reply {
            text: "Which company is the deal for? For example: “Create a deal for Acme Corp worth $20K closing next month”.".into(),
            ..Reply::default()
        },
        Intent::LogActivity(input) => answer::write(tools.log_activity(&input).await?),
        Intent::UpdateDeal(input) => answer::write(tools.update_deal(&input).await?),
    };
    Ok(Reply { tool_calls: tools.take_calls(), ..reply })
}

impl ChatEngine for BuiltinEngine {
    fn name(&self) -> &'static str {
        "builtin"
    }

    fn reply<'a>(&'a self, tools: &'a mut Tools, turn: &'a Turn<'a>) -> BoxFuture<'a, Result<Reply, AssistantError>> {
        Box::pin(run(tools, turn))
    }
}
