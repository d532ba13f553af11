//! The assistant with a model provider configured, on both databases: a local
//! OpenAI-compatible mock (`keel_testkit::mock_model`) scripted per test drives the real
//! server. The tool loop runs the real tools as the asking user (a rep never learns
//! another team's deals through the model either), writes come back as proposals, and
//! provider failures (429, 5xx, timeout, malformed tool calls) fall back to the built-in
//! engine with a reason.

use keel_domain::policy::Role;
use keel_testkit::mock_model::{MockModel, Scripted};
use keel_testkit::{Client, TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Seed {
    rep_a: Client,
    rep_b: Client,
    acme_deal: String,
    umbrella_deal: String,
    umbrella_company: String,
}

/// Team A (the admin, rep A) owns Acme Corp and its deal (rep A's); team B's rep owns Umbrella
/// Retail and its bigger deal. Both companies are in Technology, so a model asking for
/// tech deals would see both if the tools did not run as the user.
async fn seed(app: &TestApp) -> Seed {
    let team_a = app.admin_team().await;
    let team_b = app.team("B").await;
    let (a, rep_a) = app.member(Role::Rep, &team_a).await;
    let rep_a_id = a["id"].as_str().expect("id").to_string();
    let (b, rep_b) = app.member(Role::Rep, &team_b).await;
    let rep_b_id = b["id"].as_str().expect("id").to_string();
    let acme = app.admin.create("companies", json!({ "name": "Acme Corp", "industry": "Technology" })).await;
    let umbrella = app
        .admin
        .create("companies", json!({ "name": "Umbrella Retail", "industry": "Technology", "owner_id": rep_b_id }))
        .await;
    let acme_deal = app
        .admin
        .create(
            "deals",
            json!({ "title": "Acme Expansion", "company_id": acme["id"], "amount": 7_500_000, "stage": "Negotiation",
                    "owner_id": rep_a_id }),
        )
        .await;
    let umbrella_deal = app
        .admin
        .create(
            "deals",
            json!({ "title": "Umbrella Big Deal", "company_id": umbrella["id"], "amount": 50_000_000,
                    "stage": "Negotiation", "owner_id": rep_b_id }),
        )
        .await;
    Seed {
        rep_a,
        rep_b,
        acme_deal: acme_deal["id"].as_str().expect("id").to_string(),
        umbrella_deal: umbrella_deal["id"].as_str().expect("id").to_string(),
        umbrella_company: umbrella["id"].as_str().expect("id").to_string(),
    }
}

async fn ask(client: &Client, body: Value) -> Value {
    let res = client.post("/api/v1/assistant/chat", body.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{body}: {}", res.text);
    res.body
}

fn cited(reply: &Value) -> Vec<String> {
    reply["citations"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str().map(String::from)).collect()
}

/// The `role: tool` messages of a request to the model.
fn tool_results(request: &Value) -> Vec<String> {
    request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "tool")
        .filter_map(|m| m["content"].as_str().map(String::from))
        .collect()
}

async fn the_model_drives_the_tools_as_the_asking_user(app: &TestApp, model: &MockModel) {
    let seed = seed(app).await;
    let question = "Show me all deals with tech companies over $50K";
    let script = || {
        [
            Scripted::tool_call("search_deals", r#"{"industry":"Technology","amount":{"gt":5000000}}"#),
            Scripted::answer("Here are the tech deals over $50K you can see."),
        ]
    };
    model.script(script());
    let reply = ask(&seed.rep_a, json!({ "message": question })).await;
    assert_eq!(reply["engine"], "model", "{reply}");
    assert!(reply.get("fallback_reason").is_none(), "{reply}");
    assert_eq!(reply["reply"], "Here are the tech deals over $50K you can see.");
    assert_eq!(reply["tool_calls"][0]["name"], "search_deals");
    assert_eq!(reply["tool_calls"][0]["arguments"]["industry"], "Technology");
    assert_eq!(cited(&reply), vec![seed.acme_deal.clone()], "only the deal rep A may see");
    let text = reply.to_string();
    assert!(!text.contains(&seed.umbrella_deal) && !text.contains("Umbrella"), "{text}");

    // What the model was sent: the configured model and settings, the system prompt, the
    // tools as schemas, and — after its call — the tool's result as the rep sees it.
    let requests = model.take_requests();
    assert_eq!(requests.len(), 2, "one tool round, then the answer");
    let first = &requests[0];
    assert_eq!(first["model"], "mock-model");
    assert_eq!(first["max_tokens"], 500);
    assert!(first["temperature"].as_f64().is_some_and(|t| (t - 0.2).abs() < 1e-6), "{first}");
    assert_eq!(first["messages"][0]["role"], "system");
    assert!(first["messages"][0]["content"].as_str().is_some_and(|s| s.contains("confirm")));
    assert_eq!(
        first["messages"].as_array().and_then(|m| m.last()).map(|m| m["content"].clone()),
        Some(json!(question))
    );
    let tools: Vec<&str> =
        first["tools"].as_array().into_iter().flatten().filter_map(|t| t["function"]["name"].as_str()).collect();
    for name in ["search_companies", "search_contacts", "search_deals", "get_deal_summary", "update_deal"] {
        assert!(tools.contains(&name), "{name} offered to the model: {tools:?}");
    }
    let results = tool_results(&requests[1]);
    assert_eq!(results.len(), 1);
    assert!(results[0].contains("Acme Expansion"), "{}", results[0]);
    assert!(!results[0].contains("Umbrella") && !results[0].contains("500,000"), "{}", results[0]);
    assert_eq!(requests[1]["messages"][2]["tool_calls"][0]["function"]["name"], "search_deals");

    // The stored history is sent with the next question of the same conversation.
    model.script([Scripted::answer("Nothing else.")]);
    let next =
        ask(&seed.rep_a, json!({ "conversation_id": reply["conversation_id"], "message": "Anything else?" })).await;
    assert_eq!(next["reply"], "Nothing else.");
    let sent = model.take_requests();
    let messages = sent[0]["messages"].as_array().cloned().unwrap_or_default();
    let roles: Vec<&str> = messages.iter().filter_map(|m| m["role"].as_str()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"], "{messages:?}");
    assert_eq!(messages[1]["content"], question);
    assert_eq!(messages[2]["content"], "Here are the tech deals over $50K you can see.");

    // The conversation records the engine and the tool calls.
    let conv = seed
        .rep_a
        .get(&format!("/api/v1/assistant/conversations/{}", reply["conversation_id"].as_str().unwrap_or_default()))
        .await;
    assert_eq!(conv.status, StatusCode::OK, "{}", conv.text);
    assert_eq!(conv.body["messages"][1]["engine"], "model");
    assert_eq!(conv.body["messages"][1]["tool_calls"][0]["name"], "search_deals");

    // Team B's rep asking the same sees their deal and not team A's: the difference is the policy.
    model.script(script());
    let theirs = ask(&seed.rep_b, json!({ "message": question })).await;
    assert_eq!(cited(&theirs), vec![seed.umbrella_deal.clone()]);
    let results = tool_results(&model.take_requests()[1]);
    assert!(results[0].contains("Umbrella Big Deal") && !results[0].contains("Acme"), "{}", results[0]);
}
both_backends!(
    the_model_drives_the_tools_as_the_asking_user,
    the_model_drives_the_tools_as_the_asking_user,
    with_model
);

async fn writes_from_the_model_are_only_proposals(app: &TestApp, model: &MockModel) {
    let seed = seed(app).await;
    model.script([
        Scripted::tool_call("update_deal", r#"{"deal":"Acme Expansion","stage":"Closed Won"}"#),
        Scripted::answer("I've prepared moving Acme Expansion to Closed Won; confirm it to save."),
    ]);
    let reply = ask(&app.admin, json!({ "message": "Mark the Acme deal as won" })).await;
    assert_eq!(reply["engine"], "model", "{reply}");
    let p = &reply["proposals"][0];
    assert_eq!(p["kind"], "update_deal", "{reply}");
    assert_eq!(p["status"], "pending");
    assert_eq!(p["steps"][0]["id"], seed.acme_deal);
    let deal = format!("/api/v1/deals/{}", seed.acme_deal);
    assert_eq!(app.admin.get(&deal).await.body["stage"], "Negotiation", "nothing written before confirmation");
    let results = tool_results(&model.take_requests()[1]);
    assert!(results[0].contains("Nothing has been saved yet"), "{}", results[0]);
    let id = p["id"].as_str().expect("proposal id");
    let done = app.admin.post(&format!("/api/v1/assistant/proposals/{id}/confirm"), json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(app.admin.get(&deal).await.body["stage"], "Closed Won");

    // A rep's model asking to change another team's deal gets nothing to confirm and
    // learns nothing about it.
    model.script([
        Scripted::tool_call("update_deal", r#"{"deal":"Umbrella Big Deal","stage":"Closed Won"}"#),
        Scripted::answer("I could not find that deal."),
    ]);
    let reply = ask(&seed.rep_a, json!({ "message": "Mark the Umbrella Big Deal as won" })).await;
    assert_eq!(reply["proposals"], json!([]), "{reply}");
    let text = reply.to_string();
    assert!(!text.contains(&seed.umbrella_deal) && !text.contains(&seed.umbrella_company), "{text}");
    let results = tool_results(&model.take_requests()[1]);
    assert!(!results[0].contains(&seed.umbrella_deal) && !results[0].contains("500,000"), "{}", results[0]);
    let theirs = app.admin.get(&format!("/api/v1/deals/{}", seed.umbrella_deal)).await;
    assert_eq!(theirs.body["stage"], "Negotiation");
}
both_backends!(writes_from_the_model_are_only_proposals, writes_from_the_model_are_only_proposals, with_model);

async fn provider_failures_fall_back_to_the_builtin_engine(app: &TestApp, model: &MockModel) {
    let seed = seed(app).await;
    let question = "Which deals are in negotiation?";
    let cases = [
        (vec![Scripted::Status(429)], "HTTP 429"),
        (vec![Scripted::Status(503)], "HTTP 503"),
        (vec![Scripted::Status(401)], "refused the request (HTTP 401)"),
        (vec![Scripted::Delay(std::time::Duration::from_secs(3), json!({}))], "did not answer within 1 s"),
        (vec![Scripted::tool_call("drop_all_deals", "{}")], "tool that does not exist: `drop_all_deals`"),
        (
            vec![Scripted::tool_call("search_deals", r#"{"stages": ["Negotiation""#)],
            "`search_deals` with invalid arguments",
        ),
        (vec![Scripted::tool_call("search_deals", r#"{"amount": "lots"}"#)], "`search_deals` with invalid arguments"),
        (vec![Scripted::Body(json!({ "choices": [] }))], "could not be read"),
    ];
    for (script, reason) in cases {
        model.script(script);
        let reply = ask(&seed.rep_a, json!({ "message": question })).await;
        assert_eq!(reply["engine"], "builtin", "{reason}: {reply}");
        let why = reply["fallback_reason"].as_str().unwrap_or_default();
        assert!(why.contains(reason), "expected “{reason}” in {why}");
        let text = reply["reply"].as_str().unwrap_or_default();
        assert!(text.starts_with("The AI model could not answer"), "{text}");
        assert_eq!(cited(&reply), vec![seed.acme_deal.clone()], "{reason}: the built-in answer, as the rep");
        assert_eq!(reply["tool_calls"][0]["name"], "search_deals", "{reason}: the built-in engine's call only");
        assert_eq!(reply["tool_calls"].as_array().map(Vec::len), Some(1), "{reason}: {reply}");
        assert!(!reply.to_string().contains(&seed.umbrella_deal));
        model.take_requests();
    }

    // A malformed round runs none of its calls, writes included.
    model.script([Scripted::tool_calls(&[
        ("update_deal", r#"{"deal":"Acme Expansion","stage":"Closed Won"}"#),
        ("nope", "{}"),
    ])]);
    let reply = ask(&app.admin, json!({ "message": "Which deals are in negotiation?" })).await;
    assert_eq!(reply["proposals"], json!([]), "{reply}");
    assert_eq!(reply["engine"], "builtin");

    // The fallback is stored with the turn, and a question the built-in engine cannot
    // answer still gets the honest reply.
    model.script([Scripted::Status(500)]);
    let reply = ask(&seed.rep_a, json!({ "message": "Write me a poem about pipelines" })).await;
    assert_eq!(reply["engine"], "builtin");
    assert!(reply["fallback_reason"].as_str().is_some_and(|r| r.contains("HTTP 500")), "{reply}");
    assert!(reply["reply"].as_str().is_some_and(|r| r.contains("can't answer that yet")), "{reply}");
    let id = reply["conversation_id"].as_str().unwrap_or_default();
    let conv = seed.rep_a.get(&format!("/api/v1/assistant/conversations/{id}")).await;
    assert_eq!(conv.body["messages"][1]["engine"], "builtin", "{}", conv.text);
    assert!(conv.body["messages"][1]["fallback_reason"].as_str().is_some_and(|r| r.contains("HTTP 500")));
}
both_backends!(
    provider_failures_fall_back_to_the_builtin_engine,
    provider_failures_fall_back_to_the_builtin_engine,
    with_model
);

/// `(event, data)` pairs of a server-sent event stream.
fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = Some(e.trim().to_string());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            Some((event?, serde_json::from_str(&data).unwrap_or(Value::Null)))
        })
        .collect()
}

async fn chat_streams_deltas_then_the_whole_answer(app: &TestApp, model: &MockModel) {
    let seed = seed(app).await;
    let answer = "Acme Expansion is the one tech deal over $50K you can see.";
    model.script([
        Scripted::tool_call("search_deals", r#"{"industry":"Technology","amount":{"gt":5000000}}"#),
        Scripted::answer(answer),
    ]);
    let question = json!({ "message": "Show me all deals with tech companies over $50K" });
    let res = seed.rep_a.post("/api/v1/assistant/chat/stream", question.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.header("content-type").is_some_and(|c| c.starts_with("text/event-stream")), "{:?}", res.headers);
    let events = sse_events(&res.text);
    let (last, deltas) = events.split_last().expect("events");
    assert!(deltas.len() > 1, "the text arrives in pieces: {events:?}");
    assert!(deltas.iter().all(|(e, _)| e == "delta"), "{events:?}");
    let streamed: String = deltas.iter().filter_map(|(_, d)| d["text"].as_str()).collect();
    assert_eq!(streamed, answer);
    assert_eq!(last.0, "done");
    let done = &last.1;
    assert_eq!(done["reply"], answer);
    assert_eq!(done["engine"], "model");
    assert_eq!(cited(done), vec![seed.acme_deal.clone()]);
    assert_eq!(done["tool_calls"][0]["arguments"]["industry"], "Technology", "arguments joined from pieces");
    assert!(!res.text.contains(&seed.umbrella_deal) && !res.text.contains("Umbrella"), "{}", res.text);
    let requests = model.take_requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r["stream"] == true), "{requests:?}");
    assert!(tool_results(&requests[1])[0].contains("Acme Expansion"));

    // A failing provider: the built-in answer as one piece, and the reason.
    model.script([Scripted::Status(429)]);
    let res =
        seed.rep_a.post("/api/v1/assistant/chat/stream", json!({ "message": "Which deals are in negotiation?" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let events = sse_events(&res.text);
    assert_eq!(events.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(), ["delta", "done"], "{events:?}");
    let done = &events[1].1;
    assert_eq!(done["engine"], "builtin");
    assert!(done["fallback_reason"].as_str().is_some_and(|r| r.contains("HTTP 429")), "{done}");
    assert_eq!(events[0].1["text"], done["reply"]);
    assert_eq!(cited(done), vec![seed.acme_deal.clone()]);

    // Bad input is refused before the stream starts; another user's conversation is an error event.
    let bad = seed.rep_a.post("/api/v1/assistant/chat/stream", json!({ "message": "  " })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    model.script([Scripted::answer("never sent")]);
    let theirs = json!({ "conversation_id": done["conversation_id"], "message": "hello" });
    let res = seed.rep_b.post("/api/v1/assistant/chat/stream", theirs).await;
    let events = sse_events(&res.text);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, "error");
    assert_eq!(events[0].1["status"], 404, "{events:?}");
}
both_backends!(chat_streams_deltas_then_the_whole_answer, chat_streams_deltas_then_the_whole_answer, with_model);

/// A contact at Acme Corp with the seeded deal and a logged call, for drafts and summaries.
async fn contact_with_history(app: &TestApp, seed: &Seed) -> String {
    let acme = app.admin.get(&format!("/api/v1/deals/{}", seed.acme_deal)).await;
    let company_id = acme.body["company_id"].as_str().expect("company").to_string();
    let contact = app
        .admin
        .create(
            "contacts",
            json!({ "first_name": "Sarah", "last_name": "Johnson", "email": "sarah@acme.example", "company_id": company_id }),
        )
        .await;
    let contact_id = contact["id"].as_str().expect("id").to_string();
    let res = app.admin.patch(&format!("/api/v1/deals/{}", seed.acme_deal), json!({ "contact_id": contact_id })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    app.admin
        .create("activities", json!({ "type": "Call", "subject": "Pricing questions", "contact_id": contact_id }))
        .await;
    contact_id
}

async fn drafts_are_written_by_the_model_or_fall_back(app: &TestApp, model: &MockModel) {
    let seed = seed(app).await;
    let contact_id = contact_with_history(app, &seed).await;
    let ask = |purpose: &str| {
        app.admin.post("/api/v1/assistant/email-draft", json!({ "contact_id": contact_id, "purpose": purpose }))
    };
    model.script([Scripted::answer(
        "```json\n{\"subject\": \"Next steps on Acme Expansion\", \"body\": \"Hi Sarah,\\n\\nThanks again.\\n\\nBest\"}\n```",
    )]);
    let res = ask("follow_up_after_demo").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["engine"], "model", "{}", res.text);
    assert_eq!(res.body["subject"], "Next steps on Acme Expansion");
    assert!(res.body["body"].as_str().unwrap_or_default().starts_with("Hi Sarah,"));
    assert!(res.body.get("fallback_reason").is_none(), "{}", res.text);
    // The prompt carried the contact's history, and asked for JSON.
    let requests = model.take_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["response_format"]["type"], "json_object");
    let prompt = requests[0]["messages"][1]["content"].as_str().unwrap_or_default().to_string();
    assert!(
        prompt.contains("Acme Expansion") && prompt.contains("Pricing questions") && prompt.contains("Acme Corp"),
        "{prompt}"
    );

    // Each failure: the template answers, with the reason.
    let cases = [
        (Scripted::Status(429), "HTTP 429"),
        (Scripted::Status(502), "HTTP 502"),
        (Scripted::answer("Sure! Here is a lovely email."), "could not be read"),
        (Scripted::answer("{\"subject\": \"\", \"body\": \"x\"}"), "no subject"),
        (Scripted::Delay(std::time::Duration::from_millis(1500), json!({})), "within 1 s"),
    ];
    for (scripted, reason) in cases {
        model.script([scripted]);
        let res = ask("check_in").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.body["engine"], "template", "{reason}: {}", res.text);
        assert_eq!(res.body["subject"], "Checking in – Acme Corp", "{}", res.text);
        let why = res.body["fallback_reason"].as_str().unwrap_or_default();
        assert!(why.contains(reason), "{reason}: {why}");
        assert!(!why.contains("test-key"));
    }
}

both_backends!(model_written_drafts, drafts_are_written_by_the_model_or_fall_back, with_model);

async fn summaries_are_written_by_the_model_or_fall_back(app: &TestApp, model: &MockModel) {
    let seed = seed(app).await;
    let transcript = "Sarah: The demo went well. Budget is approved.\nMe: I'll send the proposal by Friday.";
    let ask = || {
        app.admin
            .post("/api/v1/assistant/meeting-summary", json!({ "deal_id": seed.acme_deal, "transcript": transcript }))
    };
    let analysis = json!({
        "summary": "Sarah confirmed budget; we owe a proposal.",
        "key_points": ["Budget approved"],
        "action_items": [{ "text": "Send the proposal", "owner": "me", "due_date": "2099-01-15" }],
        "next_steps": ["Proposal review"],
        "sentiment": { "label": "positive", "score": 70 },
        "recommended_stage": "Closed Won",
        "stage_reason": "verbal yes",
    });
    model.script([Scripted::answer(&analysis.to_string())]);
    let res = ask().await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["engine"], "model", "{}", res.text);
    assert_eq!(res.body["summary"], "Sarah confirmed budget; we owe a proposal.");
    assert_eq!(res.body["action_items"][0]["due_date"], "2099-01-15");
    let steps = res.body["proposal"]["steps"].as_array().cloned().unwrap_or_default();
    assert_eq!(steps.len(), 3, "meeting, task, stage change: {}", res.text);
    assert_eq!(steps[1]["input"]["due_date"], "2099-01-15T09:00:00Z");
    assert_eq!(steps[2]["input"]["stage"], "Closed Won");
    let prompt = model.take_requests()[0]["messages"][1]["content"].as_str().unwrap_or_default().to_string();
    assert!(
        prompt.contains("Acme Expansion") && prompt.contains("Negotiation") && prompt.contains("Budget is approved")
    );

    // A stage the deal may not move to (backwards), an invalid date, an outage: extractive.
    let mut backwards = analysis.clone();
    backwards["recommended_stage"] = json!("Prospecting");
    let mut bad_date = analysis.clone();
    bad_date["action_items"][0]["due_date"] = json!("Friday");
    let cases = [
        (Scripted::answer(&backwards.to_string()), "not a stage this deal can move to"),
        (Scripted::answer(&bad_date.to_string()), "not YYYY-MM-DD"),
        (Scripted::Status(503), "HTTP 503"),
        (Scripted::Status(429), "HTTP 429"),
    ];
    for (scripted, reason) in cases {
        model.script([scripted]);
        let res = ask().await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.body["engine"], "extractive", "{reason}: {}", res.text);
        assert!(res.body["fallback_reason"].as_str().unwrap_or_default().contains(reason), "{reason}: {}", res.text);
        assert!(!res.body["summary"].as_str().unwrap_or_default().is_empty());
    }
}

both_backends!(model_written_summaries, summaries_are_written_by_the_model_or_fall_back, with_model);
