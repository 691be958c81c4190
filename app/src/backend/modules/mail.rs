//! `send-mail` and `send-log-mail` (spec §5.2): one mail per recipient, Jinja subject and body,
//! through the SMTP server of the settings (`SMTP.host` / `.port` / `.tls` / `.username` /
//! `.password`, from `MISP.email`).
use async_trait::async_trait;
use engine::{
    Module, ModuleConfig, ModuleContext, ModuleError, ParamDescriptor, ParamType, RoamingData,
};
use lettre::message::{header::ContentType, Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{json, Value};

use super::{picked, RunContext};
use crate::backend::entities::{role, user};
use crate::backend::services::settings::setting;
use crate::backend::AppState;
use crate::error::AppError;

const ALL_ACCOUNTS: &str = "All accounts";
const ALL_ADMINS: &str = "All admins";
const ORG_ADMINS: &str = "Org admins";

/// Seconds to wait for the SMTP server.
const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct SendMail {
    config: ModuleConfig,
    /// `send-log-mail`: adds "Org admins" (the admins of the organisation of `Log.user_id`).
    log_mail: bool,
}

impl SendMail {
    fn with(id: &str, name: &str, description: &str, log_mail: bool) -> Self {
        let mut c = ModuleConfig::new(id, name, engine::ModuleKind::Action);
        c.description = description.into();
        c.icon = "envelope".into();
        let mut recipients = vec![ALL_ACCOUNTS, ALL_ADMINS];
        if log_mail {
            recipients.push(ORG_ADMINS);
        }
        c.params = vec![
            ParamDescriptor::new("recipients", "Recipients", ParamType::Picker)
                .multiple()
                .default(json!([ALL_ADMINS]))
                .options(json!(recipients))
                .placeholder("Pick recipients (or type e-mail addresses of users)"),
            ParamDescriptor::new(
                "mail_template_subject",
                "Mail template subject",
                ParamType::Textarea,
            )
            .placeholder("The **subject** of the mail")
            .jinja(),
            ParamDescriptor::new(
                "mail_template_body",
                "Mail template body",
                ParamType::Textarea,
            )
            .placeholder("The template **body** of the mail")
            .jinja(),
        ];
        Self {
            config: c,
            log_mail,
        }
    }

    pub fn mail() -> Self {
        Self::with(
            "send-mail",
            "Send Mail",
            "Allow to send a Mail to a list or recipients",
            false,
        )
    }

    pub fn log_mail() -> Self {
        Self::with(
            "send-log-mail",
            "Send Log Mail",
            "Allow to send a Mail to a list or recipients, based on a Log trigger. Requires functional misp-modules to be functional.",
            true,
        )
    }
}

/// The enabled users the picked recipients name, by address, each once.
async fn recipients(
    state: &AppState,
    picked: &[String],
    log_user: Option<i32>,
) -> Result<Vec<String>, AppError> {
    let users = user::Entity::find()
        .filter(user::Column::Disabled.eq(false))
        .all(&state.db)
        .await?;
    let roles: std::collections::HashMap<i32, role::Model> = role::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let log_org = match log_user {
        Some(id) => users.iter().find(|u| u.id == id).map(|u| u.org_id),
        None => None,
    };
    let mut out: Vec<String> = Vec::new();
    for u in &users {
        let role = roles.get(&u.role_id);
        let wanted = picked.iter().any(|p| match p.as_str() {
            ALL_ACCOUNTS => true,
            ALL_ADMINS => role.is_some_and(|r| r.perm_site_admin),
            ORG_ADMINS => {
                log_org == Some(u.org_id) && role.is_some_and(|r| r.perm_admin || r.perm_site_admin)
            }
            email => email.eq_ignore_ascii_case(&u.email),
        });
        if wanted && !out.contains(&u.email) {
            out.push(u.email.clone());
        }
    }
    Ok(out)
}

/// The SMTP transport of the settings.
async fn transport(state: &AppState) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let read = |name: &'static str| async move {
        setting(state, name)
            .await
            .map_err(|e| e.to_string())
            .map(|v| v.unwrap_or(Value::Null))
    };
    let host = read("SMTP.host")
        .await?
        .as_str()
        .unwrap_or("127.0.0.1")
        .to_owned();
    let port = u16::try_from(read("SMTP.port").await?.as_i64().unwrap_or(25)).unwrap_or(25);
    let tls = read("SMTP.tls")
        .await?
        .as_str()
        .unwrap_or("none")
        .to_owned();
    let username = read("SMTP.username")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let password = read("SMTP.password")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let builder = match tls.as_str() {
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&host).map_err(|e| e.to_string())?,
        "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
            .map_err(|e| e.to_string())?,
        _ => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host),
    };
    let mut builder = builder.port(port).timeout(Some(SMTP_TIMEOUT));
    if !username.is_empty() {
        builder = builder.credentials(Credentials::new(username, password));
    }
    Ok(builder.build())
}

#[async_trait]
impl Module for SendMail {
    fn config(&self) -> &ModuleConfig {
        &self.config
    }

    async fn run(
        &self,
        ctx: &ModuleContext<'_>,
        data: &mut RoamingData,
        errors: &mut Vec<String>,
    ) -> Result<bool, ModuleError> {
        let run = RunContext::of(ctx)?;
        let view = ctx.view(data)?.into_owned();
        let picked = picked(&ctx.param_raw("recipients"));
        if picked.is_empty() {
            errors.push("No recipient set.".into());
            return Ok(false);
        }
        let subject = ctx.param_str("mail_template_subject", &view)?;
        let body = ctx.param_str("mail_template_body", &view)?;
        if body.trim().is_empty() {
            errors.push("The mail template is empty.".into());
            return Ok(false);
        }
        let log_user = if self.log_mail {
            view.pointer("/Log/user_id").and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    .and_then(|n| i32::try_from(n).ok())
            })
        } else {
            None
        };
        let to = recipients(&run.state, &picked, log_user)
            .await
            .map_err(|e| ModuleError::Failed(e.to_string()))?;
        if to.is_empty() {
            errors.push("No enabled user matches the recipients.".into());
            return Ok(false);
        }
        let from: Mailbox = match setting(&run.state, "MISP.email")
            .await
            .map_err(|e| ModuleError::Failed(e.to_string()))?
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
            .parse()
        {
            Ok(m) => m,
            Err(e) => {
                errors.push(format!("MISP.email is not a usable sender address: {e}."));
                return Ok(false);
            }
        };
        let mailer = match transport(&run.state).await {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("The SMTP settings are not usable: {e}."));
                return Ok(false);
            }
        };
        // Inside a background job each mail's Message-ID comes from the delivery's idempotency
        // key (the same on every attempt), so a mail system can recognise a repeat.
        let key = super::outward::node_delivery_key(ctx);
        let mut sent = 0usize;
        for (n, address) in to.iter().enumerate() {
            let message_id = key.as_ref().map(|k| {
                let local: String = k
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' {
                            c
                        } else {
                            '.'
                        }
                    })
                    .collect();
                format!("<{local}.{n}@flowgate.workflow>")
            });
            let message = address
                .parse::<Mailbox>()
                .map_err(|e| e.to_string())
                .and_then(|rcpt| {
                    Message::builder()
                        .message_id(message_id.clone())
                        .from(from.clone())
                        .to(rcpt)
                        .subject(subject.trim())
                        .header(ContentType::TEXT_PLAIN)
                        .body(body.clone())
                        .map_err(|e| e.to_string())
                });
            let outcome = match message {
                Ok(m) => mailer.send(m).await.map(|_| ()).map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => sent += 1,
                Err(e) => errors.push(format!("Mail to {address} not sent: {e}")),
            }
        }
        Ok(sent == to.len())
    }
}
