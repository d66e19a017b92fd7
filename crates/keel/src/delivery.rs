//! The delivery worker: claims due outbox messages and delivers them, retrying failures with
//! exponential back-off and jitter. Email goes over SMTP (lettre), or, with no SMTP server
//! configured, to `.eml` files in `<data_dir>/mail` (logged): a message is never silently dropped.
//! Webhook deliveries are signed HTTP POSTs (see [`crate::webhooks`]), each attempt logged.
//!
//! Messages wait in lanes (all mail in one, each webhook subscription in its own) and each lane
//! has its share of the worker: mail never waits for webhooks, and a receiver that never answers
//! holds at most a few slots (its organization's subscriptions together a few more), so other
//! receivers and other tenants' mail go out meanwhile.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use keel_commands::delivery::{self, WebhookAttempt};
use keel_domain::outbox::{Email, Message, RetryPolicy};
use keel_domain::time;
use keel_persistence::Database;
use keel_persistence::repo::outbox::{self, Claimed, Lanes};
use keel_persistence::repo::webhooks::{self, Next};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::Notify;

use crate::StartError;
use crate::config::Config;
use crate::webhooks::WebhookSender;

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

/// Why a delivery failed: worth retrying, or never going to work.
#[derive(Debug)]
pub enum DeliveryError {
    Transient(String),
    Permanent(String),
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Mailer, StartError> {
        let from: Mailbox = config
            .mail_from
            .parse()
            .map_err(|e| StartError::Invalid(format!("mail_from {:?}: {e}", config.mail_from)))?;
        let transport = if config.smtp_url.is_empty() {
            let dir = PathBuf::from(&config.data_dir).join("mail");
            std::fs::create_dir_all(&dir)
                .map_err(|e| StartError::Invalid(format!("cannot create {}: {e}", dir.display())))?;
            tracing::warn!(dir = %dir.display(), "no smtp_url configured: mail is written to files instead of being sent");
            Transport::Files(AsyncFileTransport::new(&dir), dir)
        } else {
            let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.smtp_url)
                .map_err(|e| StartError::Invalid(format!("smtp_url: {e}")))?
                .timeout(Some(Duration::from_secs(20)))
                .build();
            Transport::Smtp(transport)
        };
        Ok(Mailer { transport, from })
    }

    pub async fn send(&self, email: &Email) -> Result<(), DeliveryError> {
        let to: Mailbox =
            email.to.parse().map_err(|e| DeliveryError::Permanent(format!("recipient {:?}: {e}", email.to)))?;
        let builder = lettre::Message::builder().from(self.from.clone()).to(to).subject(&email.subject);
        // The text, with its HTML alternative when there is one; attachments beside them.
        let content =
            email.html.as_ref().map(|html| MultiPart::alternative_plain_html(email.text.clone(), html.clone()));
        let message = if email.attachments.is_empty() {
            match content {
                Some(alternative) => builder.multipart(alternative),
                None => builder.header(ContentType::TEXT_PLAIN).body(email.text.clone()),
            }
        } else {
            let mut parts = match content {
                Some(alternative) => MultiPart::mixed().multipart(alternative),
                None => MultiPart::mixed().singlepart(SinglePart::plain(email.text.clone())),
            };
            for attachment in &email.attachments {
                let content_type = ContentType::parse(&attachment.content_type).map_err(|e| {
                    DeliveryError::Permanent(format!("attachment type {:?}: {e}", attachment.content_type))
                })?;
                parts = parts.singlepart(
                    lettre::message::Attachment::new(attachment.filename.clone())
                        .body(attachment.content.clone(), content_type),
                );
            }
            builder.multipart(parts)
        }
        .map_err(|e| DeliveryError::Permanent(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(DeliveryError::Permanent(e.to_string())),
                Err(e) => Err(DeliveryError::Transient(e.to_string())),
            },
            Transport::Files(files, dir) => {
                let id = files.send(message).await.map_err(|e| DeliveryError::Transient(e.to_string()))?;
                tracing::info!(file = %dir.join(format!("{id}.eml")).display(), to = %email.to, "mail written to file");
                Ok(())
            }
        }
    }
}

pub struct Worker {
    pub db: Database,
    pub mailer: Mailer,
    pub webhooks: WebhookSender,
    pub retry: RetryPolicy,
    pub poll: Duration,
    /// How long a claimed message is reserved for this worker: if the instance dies mid-delivery,
    /// another one takes the message up once the lease has run out.
    pub lease: Duration,
}

/// The default lease: far longer than a delivery takes.
pub const LEASE: Duration = Duration::from_secs(120);
/// Most messages claimed at once.
const BATCH: i64 = 20;
/// Mails in flight at once (the mail lane's share of the worker).
const MAIL_IN_FLIGHT: usize = 8;
/// Webhook deliveries in flight at once, in all.
const WEBHOOKS_IN_FLIGHT: usize = 256;
/// Webhook deliveries in flight at once to one subscription: a receiver that never answers
/// holds no more than this many of the worker's slots.
const PER_SUBSCRIPTION_IN_FLIGHT: usize = 4;
/// Webhook deliveries in flight at once for one organization's subscriptions together.
const PER_ORGANIZATION_IN_FLIGHT: usize = 32;

/// What this worker is delivering now, by lane and organization: a claim takes only messages of
/// lanes with room, so mail and each receiver go out without waiting on one another.
#[derive(Default)]
struct InFlight {
    mail: usize,
    webhooks: usize,
    lanes: HashMap<String, usize>,
    organizations: HashMap<String, usize>,
}

/// Where a message in flight counts.
enum Slot {
    Mail,
    Webhook { lane: String, organization: String },
}

impl Slot {
    fn of(claimed: &Claimed) -> Slot {
        match &claimed.message {
            Message::Email { .. } => Slot::Mail,
            Message::Webhook { organization_id, .. } => {
                Slot::Webhook { lane: claimed.lane.clone(), organization: organization_id.to_string() }
            }
        }
    }
}

/// What the next claim may take.
struct ClaimPlan {
    mail: i64,
    webhooks: i64,
    skip_lanes: Vec<String>,
    skip_organizations: Vec<String>,
}

impl InFlight {
    fn start(&mut self, slot: &Slot) {
        match slot {
            Slot::Mail => self.mail += 1,
            Slot::Webhook { lane, organization } => {
                self.webhooks += 1;
                *self.lanes.entry(lane.clone()).or_default() += 1;
                *self.organizations.entry(organization.clone()).or_default() += 1;
            }
        }
    }

    fn finish(&mut self, slot: &Slot) {
        fn release(counts: &mut HashMap<String, usize>, key: &str) {
            if let Some(n) = counts.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(key);
                }
            }
        }
        match slot {
            Slot::Mail => self.mail -= 1,
            Slot::Webhook { lane, organization } => {
                self.webhooks -= 1;
                release(&mut self.lanes, lane);
                release(&mut self.organizations, organization);
            }
        }
    }

    fn plan(&self) -> ClaimPlan {
        let full = |counts: &HashMap<String, usize>, limit: usize| -> Vec<String> {
            counts.iter().filter(|(_, n)| **n >= limit).map(|(key, _)| key.clone()).collect()
        };
        ClaimPlan {
            mail: (MAIL_IN_FLIGHT.saturating_sub(self.mail) as i64).min(BATCH),
            webhooks: (WEBHOOKS_IN_FLIGHT.saturating_sub(self.webhooks) as i64).min(BATCH),
            skip_lanes: full(&self.lanes, PER_SUBSCRIPTION_IN_FLIGHT),
            skip_organizations: full(&self.organizations, PER_ORGANIZATION_IN_FLIGHT),
        }
    }
}

impl Worker {
    /// Runs until the process ends: claims what has room to go out, delivers each message as a
    /// task of its own, and claims again as soon as one finishes (or after `poll`).
    pub async fn run(self) {
        let worker = Rc::new(self);
        let in_flight = Rc::new(RefCell::new(InFlight::default()));
        let finished = Rc::new(Notify::new());
        loop {
            let plan = in_flight.borrow().plan();
            let claimed = match worker.claim(plan).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "outbox: cannot claim messages");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    () = actix_web::rt::time::sleep(worker.poll) => {}
                    () = finished.notified() => {}
                }
                continue;
            }
            for message in claimed {
                let slot = Slot::of(&message);
                in_flight.borrow_mut().start(&slot);
                let (worker, in_flight, finished) = (worker.clone(), in_flight.clone(), finished.clone());
                actix_web::rt::spawn(async move {
                    worker.deliver(message).await;
                    in_flight.borrow_mut().finish(&slot);
                    finished.notify_one();
                });
            }
        }
    }

    /// Claims due messages of the lanes with room: mail up to its share, webhooks up to theirs,
    /// leaving out subscriptions and organizations that have their share in flight.
    async fn claim(&self, plan: ClaimPlan) -> Result<Vec<Claimed>, String> {
        let (db, lease) = (self.db.clone(), self.lease);
        blocking(move || {
            let mut conn = db.conn()?;
            let mut claimed = outbox::claim(&mut conn, lease, plan.mail, Lanes::Mail)?;
            let lanes = Lanes::Webhooks { skip_lanes: &plan.skip_lanes, skip_organizations: &plan.skip_organizations };
            claimed.extend(outbox::claim(&mut conn, lease, plan.webhooks, lanes)?);
            Ok(claimed)
        })
        .await
    }

    /// When a failed message is tried again (`None`: give up), with jitter so that many
    /// failures do not retry in step.
    fn retry_at(&self, attempts: u32) -> Option<time::Timestamp> {
        let jitter = (uuid::Uuid::now_v7().as_u128() % 1000) as f64 / 1000.0;
        self.retry
            .next_delay(attempts, jitter)
            .map(|delay| time::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1)))
    }

    async fn deliver(&self, claimed: Claimed) {
        let result = match &claimed.message {
            Message::Email { email, .. } => self.mailer.send(email).await,
            &Message::Webhook { webhook_id, delivery_id, .. } => {
                return self.deliver_webhook(claimed, webhook_id, delivery_id).await;
            }
        };
        let db = self.db.clone();
        let id = claimed.id.clone();
        let attempts = claimed.attempts;
        let retry_at = self.retry_at(attempts);
        let recorded = blocking(move || {
            let mut conn = db.conn()?;
            match result {
                Ok(()) => {
                    tracing::info!(message = %claimed.id, attempts, "outbox: delivered");
                    outbox::mark_delivered(&mut conn, &claimed)
                }
                Err(DeliveryError::Permanent(error)) => {
                    tracing::error!(message = %claimed.id, %error, "outbox: delivery failed permanently");
                    outbox::mark_failed(&mut conn, &claimed.id, &error, None)
                }
                Err(DeliveryError::Transient(error)) => {
                    match retry_at {
                        Some(at) => tracing::warn!(message = %claimed.id, attempts, %error, retry_at = %at, "outbox: delivery failed; will retry"),
                        None => tracing::error!(message = %claimed.id, attempts, %error, "outbox: delivery failed; giving up"),
                    }
                    outbox::mark_failed(&mut conn, &claimed.id, &error, retry_at)
                }
            }
        })
        .await;
        if let Err(error) = recorded {
            // The lease expires and the message is delivered again: at least once, never lost.
            tracing::error!(message = %id, %error, "outbox: cannot record the outcome");
        }
    }
}

impl Worker {
    /// One attempt of a webhook delivery, recorded with its consequences in one transaction.
    async fn deliver_webhook(
        &self,
        claimed: Claimed,
        webhook_id: keel_domain::WebhookId,
        delivery_id: keel_domain::DeliveryId,
    ) {
        let db = self.db.clone();
        let found = blocking(move || webhooks::for_delivery(&mut *db.conn()?, delivery_id)).await;
        let db = self.db.clone();
        let outcome = match found {
            Err(error) => Err(error),
            Ok(None) => {
                tracing::info!(delivery = %delivery_id, "webhook: the subscription was deleted; delivery dropped");
                blocking(move || {
                    outbox::mark_failed(&mut *db.conn()?, &claimed.id, "the subscription was deleted", None)
                })
                .await
            }
            Ok(Some((hook, _))) if !hook.enabled => {
                tracing::info!(delivery = %delivery_id, webhook = %hook.id, "webhook: the subscription is disabled; delivery failed");
                blocking(move || {
                    webhooks::abandon(&mut *db.conn()?, &claimed, delivery_id, "the subscription is disabled")
                })
                .await
            }
            Ok(Some((hook, delivery))) => {
                let sent = self.webhooks.send(&hook, &delivery).await;
                let next = if sent.result.error.is_none() {
                    Next::Delivered
                } else if sent.permanent {
                    Next::GiveUp
                } else {
                    self.retry_at(claimed.attempts).map_or(Next::GiveUp, Next::RetryAt)
                };
                match (&next, &sent.result.error) {
                    (Next::Delivered, _) => {
                        tracing::info!(delivery = %delivery_id, webhook = %hook.id, attempts = claimed.attempts, "webhook: delivered")
                    }
                    (Next::RetryAt(at), Some(error)) => {
                        tracing::warn!(delivery = %delivery_id, webhook = %hook.id, %error, retry_at = %at, "webhook: attempt failed; will retry")
                    }
                    (_, error) => {
                        tracing::error!(delivery = %delivery_id, webhook = %hook.id, error = error.as_deref().unwrap_or(""), "webhook: delivery failed; giving up")
                    }
                }
                let disable_after = self.webhooks.disable_after;
                blocking(move || {
                    let attempt = WebhookAttempt {
                        claimed: &claimed,
                        webhook_id,
                        delivery_id,
                        result: &sent.result,
                        next,
                        disable_after,
                    };
                    let disabled = delivery::record_webhook_attempt(&mut *db.conn()?, &attempt)?;
                    if let Some(hook) = disabled {
                        tracing::warn!(webhook = %hook.id, organization = %hook.organization_id, "webhook: subscription disabled after failing for too long; hr_partners emailed");
                    }
                    Ok(())
                })
                .await
            }
        };
        if let Err(error) = outcome {
            // The lease expires and the delivery is attempted again: at least once, never lost.
            tracing::error!(delivery = %delivery_id, %error, "webhook: cannot record the outcome");
        }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, keel_persistence::StoreError> + Send + 'static,
) -> Result<T, String> {
    actix_web::rt::task::spawn_blocking(work).await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())
}
