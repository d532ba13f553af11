//! The built-in engine: no model, no API key. Parse the request (`intent`), call the
//! tool it maps to, and format the result (`answer`). Deterministic: the same request on
//! the same data and date gives the same answer.

use super::intent::{Intent, parse};
use super::{BoxFuture, ChatEngine, Reply, Turn, answer};
use crate::error::AssistantError;
use crate::tools::{Resolved, Tools};

#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinEngine;

async fn run(tools: &mut Tools, turn: &Turn<'_>) -> Result<Reply, AssistantError> {
    let intent = parse(turn.message, tools.today());
    let reply = match intent {
        Intent::Help => answer::help(),
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
