//! `send_email` over SMTP (lettre, rustls). The Message-ID is derived from the job and
//! the action, so a retry after a crash between sending and recording is recognisably the
//! same message to anything that deduplicates by Message-ID.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value as Json, json};

use super::{ActionError, Runtime};
use crate::config::{SmtpConfig, SmtpTls};
use crate::definition::{Action, Recipients};

fn addresses(rt: &Runtime, r: &Recipients, ctx: &Json) -> Result<Vec<String>, ActionError> {
    let mut out = Vec::new();
    for t in r.templates() {
        for a in rt.text(t, ctx)?.split(',') {
            let a = a.trim();
            if !a.is_empty() {
                out.push(a.to_string());
            }
        }
    }
    Ok(out)
}

pub(super) fn render(rt: &Runtime, action: &Action, ctx: &Json, key: &str) -> Result<Json, ActionError> {
    let Action::SendEmail { to, cc, subject, text, html } = action else {
        return Err(ActionError::Permanent("not an email action".into()));
    };
    let to = addresses(rt, to, ctx)?;
    if to.is_empty() {
        return Err(ActionError::Permanent("the email has no recipient (the `to` template rendered empty)".into()));
    }
    let cc = match cc {
        Some(cc) => addresses(rt, cc, ctx)?,
        None => Vec::new(),
    };
    Ok(json!({
        "to": to,
        "cc": cc,
        "subject": rt.text(subject, ctx)?.replace(['\r', '\n'], " "),
        "text": text.as_deref().map(|t| rt.text(t, ctx)).transpose()?,
        "html": html.as_deref().map(|h| rt.html(h, ctx)).transpose()?,
        "message_id": format!("<{key}@keel>"),
    }))
}

fn mailbox(s: &str) -> Result<Mailbox, ActionError> {
    s.parse::<Mailbox>().map_err(|e| ActionError::Permanent(format!("`{s}` is not an email address: {e}")))
}

fn transport(c: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>, ActionError> {
    let builder = match c.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host)
            .map_err(|e| ActionError::Permanent(format!("SMTP TLS set-up: {e}")))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host)
            .map_err(|e| ActionError::Permanent(format!("SMTP TLS set-up: {e}")))?,
    };
    let mut builder = builder.port(c.port).timeout(Some(c.timeout));
    if let (Some(user), Some(pass)) = (&c.username, &c.password) {
        builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
    }
    Ok(builder.build())
}

pub(crate) async fn send(rt: &Runtime, input: &Json) -> Result<Json, ActionError> {
    let Some(smtp) = &rt.config.smtp else {
        return Err(ActionError::Permanent("email is not configured: set KEEL_SMTP_HOST".into()));
    };
    let strs = |k: &str| -> Vec<String> {
        input[k]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let mut builder = Message::builder()
        .from(mailbox(&smtp.from)?)
        .subject(input["subject"].as_str().unwrap_or_default())
        .message_id(input["message_id"].as_str().map(str::to_string));
    for a in strs("to") {
        builder = builder.to(mailbox(&a)?);
    }
    for a in strs("cc") {
        builder = builder.cc(mailbox(&a)?);
    }
    let built = match (input["text"].as_str(), input["html"].as_str()) {
        (Some(text), Some(html)) => {
            builder.multipart(MultiPart::alternative_plain_html(text.to_string(), html.to_string()))
        }
        (None, Some(html)) => builder.header(ContentType::TEXT_HTML).body(html.to_string()),
        (text, None) => builder.header(ContentType::TEXT_PLAIN).body(text.unwrap_or_default().to_string()),
    };
    let message = built.map_err(|e| ActionError::Permanent(format!("cannot build the email: {e}")))?;
    let response = transport(smtp)?.send(message).await.map_err(|e| {
        let msg = format!("SMTP {}:{}: {e}", smtp.host, smtp.port);
        if e.is_permanent() { ActionError::Permanent(msg) } else { ActionError::Transient(msg) }
    })?;
    Ok(json!({ "smtp_code": response.code().to_string(), "smtp_message": response.message().collect::<Vec<_>>() }))
}
