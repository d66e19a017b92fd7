//! The delivery worker on a shared database: several instances claim disjoint messages (none lost,
//! none sent twice in the normal case), and a worker that dies mid-run loses nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use keel::delivery::{LEASE, Mailer, Worker};
use keel_domain::outbox::{Email, Message, RetryPolicy};
use keel_persistence::repo::outbox::{self, Lanes};
use keel_tests::{Backend, SmtpSink, TestDatabase, both_backends};

const MESSAGES: usize = 500;

both_backends! {
    fn the_queue_survives_a_restart(backend: Backend);
    fn one_engagement_in_order(backend: Backend);
    fn webhook_deliveries_are_shared(backend: Backend);
}

fn enqueue(db: &TestDatabase, count: usize) {
    let database = db.open();
    let mut conn = database.conn().unwrap();
    for n in 0..count {
        outbox::enqueue(&mut conn, &mail(n, None)).unwrap();
    }
}

/// A worker as one Keel instance runs it: its own connection pool on the shared database.
fn worker(db: &TestDatabase, smtp_url: String, lease: Duration) -> Worker {
    let mut config = keel_tests::test_config(db.url());
    config.smtp_url = smtp_url;
    config.data_dir = std::env::temp_dir().display().to_string();
    Worker {
        db: db.open(),
        mailer: Mailer::from_config(&config).unwrap(),
        webhooks: keel::webhooks::WebhookSender::from_config(&config),
        retry: RetryPolicy { base: Duration::from_millis(50), ..Default::default() },
        poll: Duration::from_millis(20),
        lease,
    }
}

/// How many times each subject arrived.
fn received(smtp: &SmtpSink) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for mail in smtp.messages() {
        if let Some(subject) = mail.lines().find_map(|l| l.strip_prefix("Subject: ")) {
            *counts.entry(subject.trim().to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

async fn two_instances_share_the_queue(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else { return };
    keel::migrate(&db.open()).unwrap();
    enqueue(&db, MESSAGES);
    let smtp = SmtpSink::start();
    let first = actix_web::rt::spawn(worker(&db, smtp.url(), LEASE).run());
    let second = actix_web::rt::spawn(worker(&db, smtp.url(), LEASE).run());
    db.wait_until_sent(Duration::from_secs(120)).await;
    first.abort();
    second.abort();

    let counts = received(&smtp);
    assert_eq!(counts.len(), MESSAGES, "every message arrives");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    let stats = outbox::stats(&mut db.open().conn().unwrap()).unwrap();
    assert_eq!(stats[0].delivered, MESSAGES as i64);
    assert_eq!(stats[0].attempts, MESSAGES as i64, "one attempt each");
}

async fn a_killed_instance_loses_nothing(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else { return };
    keel::migrate(&db.open()).unwrap();
    enqueue(&db, MESSAGES);
    let smtp = SmtpSink::start();
    // Short leases, so the survivor takes over what the dead instance had claimed.
    let lease = Duration::from_secs(2);
    let doomed = actix_web::rt::spawn(worker(&db, smtp.url(), lease).run());
    let survivor = actix_web::rt::spawn(worker(&db, smtp.url(), lease).run());
    // Kill one instance mid-run, while it holds claimed messages.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while smtp.messages().len() < 50 {
        assert!(std::time::Instant::now() < deadline, "delivery started");
        actix_web::rt::time::sleep(Duration::from_millis(5)).await;
    }
    doomed.abort();
    db.wait_until_sent(Duration::from_secs(120)).await;
    survivor.abort();
    let counts = received(&smtp);
    assert_eq!(counts.len(), MESSAGES, "none lost");
}

/// A worker stopped with undelivered mail (its SMTP server down) leaves it queued; the next one to
/// start delivers it.
async fn the_queue_survives_a_restart(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else { return };
    keel::migrate(&db.open()).unwrap();
    enqueue(&db, 3);
    let down = SmtpSink::start();
    let address = down.url();
    drop(down);
    let before = actix_web::rt::spawn(worker(&db, address, Duration::from_secs(1)).run());
    db.wait_for_attempts(3, Duration::from_secs(10)).await;
    before.abort();
    let stats = outbox::stats(&mut db.open().conn().unwrap()).unwrap();
    assert_eq!(stats[0].pending, 3, "still queued");
    assert!(stats[0].attempts >= 3, "attempted while the server was down: {stats:?}");

    let smtp = SmtpSink::start();
    let after = actix_web::rt::spawn(worker(&db, smtp.url(), Duration::from_secs(1)).run());
    db.wait_until_sent(Duration::from_secs(30)).await;
    after.abort();
    assert_eq!(received(&smtp).len(), 3);
}

#[actix_web::test]
async fn two_instances_share_the_queue_on_postgres() {
    two_instances_share_the_queue(Backend::Postgres).await;
}

#[actix_web::test]
async fn a_killed_instance_loses_nothing_on_postgres() {
    a_killed_instance_loses_nothing(Backend::Postgres).await;
}

fn mail(n: usize, engagement: Option<keel_domain::EngagementId>) -> Message {
    let email = Email {
        to: format!("person{n}@example.com"),
        subject: format!("Message {n:04}"),
        text: format!("Body {n}"),
        html: None,
        secrets: Vec::new(),
        attachments: Vec::new(),
    };
    Message::Email { organization_id: None, engagement_id: engagement, email }
}

fn subjects(claimed: &[outbox::Claimed]) -> Vec<String> {
    claimed
        .iter()
        .map(|c| match &c.message {
            Message::Email { email, .. } => email.subject.clone(),
            other => panic!("only mail was queued, not {other:?}"),
        })
        .collect()
}

/// One engagement's messages are claimed one at a time, in order, even while the first is being
/// retried; other engagements and unordered messages are not held up.
async fn one_engagement_in_order(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else { return };
    let database = db.open();
    keel::migrate(&database).unwrap();
    let mut conn = database.conn().unwrap();
    let (e, f) = (keel_domain::EngagementId::generate(), keel_domain::EngagementId::generate());
    for (n, engagement) in [(1, Some(e)), (2, Some(e)), (3, Some(f)), (4, None), (5, Some(e))] {
        outbox::enqueue(&mut conn, &mail(n, engagement)).unwrap();
    }
    let lease = Duration::from_secs(60);
    let first = outbox::claim(&mut conn, lease, 10, Lanes::Mail).unwrap();
    assert_eq!(subjects(&first), ["Message 0001", "Message 0003", "Message 0004"]);
    assert_eq!(first[0].message, mail(1, Some(e)), "the engagement survives the round trip");
    assert!(outbox::claim(&mut conn, lease, 10, Lanes::Mail).unwrap().is_empty(), "the rest wait");

    // The first fails and is retried later: the engagement's next message still waits.
    outbox::mark_failed(&mut conn, &first[0].id, "4xx", Some(keel_domain::time::now())).unwrap();
    let retried = outbox::claim(&mut conn, lease, 10, Lanes::Mail).unwrap();
    assert_eq!(subjects(&retried), ["Message 0001"]);
    outbox::mark_delivered(&mut conn, &retried[0]).unwrap();
    let next = outbox::claim(&mut conn, lease, 10, Lanes::Mail).unwrap();
    assert_eq!(subjects(&next), ["Message 0002"]);
    // A message given up does not block the ones after it.
    outbox::mark_failed(&mut conn, &next[0].id, "550 no such user", None).unwrap();
    assert_eq!(subjects(&outbox::claim(&mut conn, lease, 10, Lanes::Mail).unwrap()), ["Message 0005"]);
}

/// Two workers on one engagement's 60 messages: they arrive in the order they were queued.
async fn two_instances_keep_engagement_order(backend: Backend) {
    let Some(db) = TestDatabase::create(backend) else { return };
    let database = db.open();
    keel::migrate(&database).unwrap();
    let engagement = Some(keel_domain::EngagementId::generate());
    for n in 0..60 {
        outbox::enqueue(&mut database.conn().unwrap(), &mail(n, engagement)).unwrap();
    }
    let smtp = SmtpSink::start();
    let first = actix_web::rt::spawn(worker(&db, smtp.url(), LEASE).run());
    let second = actix_web::rt::spawn(worker(&db, smtp.url(), LEASE).run());
    db.wait_until_sent(Duration::from_secs(60)).await;
    first.abort();
    second.abort();
    let arrived: Vec<String> = smtp
        .messages()
        .iter()
        .filter_map(|m| m.lines().find_map(|l| l.strip_prefix("Subject: ")).map(|s| s.trim().to_owned()))
        .collect();
    let expected: Vec<String> = (0..60).map(|n| format!("Message {n:04}")).collect();
    assert_eq!(arrived, expected);
}

#[actix_web::test]
async fn two_instances_keep_engagement_order_on_postgres() {
    two_instances_keep_engagement_order(Backend::Postgres).await;
}

/// `instances` workers on one database (two on PostgreSQL) deliver 500 webhook events (25 engagements × 20, fanned out by
/// `events::append` as a change does): each arrives once, each engagement's in order, and every
/// delivery is logged with its one attempt.
async fn webhook_deliveries_shared(backend: Backend, instances: usize) {
    use keel_domain::webhook::{NewWebhook, Webhook};
    use keel_persistence::repo::{events, organizations, webhooks};
    let Some(db) = TestDatabase::create(backend) else { return };
    let database = db.open();
    keel::migrate(&database).unwrap();
    let receiver = keel_tests::WebhookReceiver::start(0);
    let mut conn = database.conn().unwrap();
    let org = keel_domain::organization::Organization::create(keel_domain::organization::NewOrganization {
        name: "Acme".into(),
        ..Default::default()
    })
    .unwrap();
    organizations::insert(&mut conn, &org).unwrap();
    let input = NewWebhook { url: receiver.url(), event_types: vec!["session.completed".into()], ..Default::default() };
    let secret = keel_http::webhook_signature::Secret::generate().encoded();
    let hook = Webhook::create(org.id, input, secret.clone(), true).unwrap();
    webhooks::insert(&mut conn, &hook).unwrap();
    let engagements: Vec<keel_domain::EngagementId> = (0..25).map(|_| keel_domain::EngagementId::generate()).collect();
    for n in 0..MESSAGES {
        let engagement = engagements[n % engagements.len()];
        let event = keel_domain::event::DomainEvent {
            event_type: "session.completed",
            organization_id: org.id,
            engagement_id: Some(engagement),
            payload: serde_json::json!({ "engagement_id": engagement, "n": n }),
            occurred_at: keel_domain::time::now(),
        };
        keel_persistence::connection::write_transaction(&mut conn, |conn| events::append(conn, &event)).unwrap();
    }
    drop(conn);
    let workers: Vec<_> =
        (0..instances).map(|_| actix_web::rt::spawn(worker(&db, String::new(), LEASE).run())).collect();
    db.wait_until_sent(Duration::from_secs(120)).await;
    workers.iter().for_each(|w| w.abort());

    let received = receiver.received();
    let mut ids = BTreeMap::new();
    let mut order: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for request in &received {
        keel_tests::verify_webhook(&secret, request, 300).unwrap();
        *ids.entry(request.header("webhook-id").to_owned()).or_insert(0) += 1;
        let body = request.json();
        let engagement = body["data"]["engagement_id"].as_str().unwrap().to_owned();
        order.entry(engagement).or_default().push(body["data"]["n"].as_u64().unwrap());
    }
    assert_eq!(ids.len(), MESSAGES, "every event arrives");
    assert!(ids.values().all(|n| *n == 1), "none twice");
    for (engagement, ns) in &order {
        assert!(ns.windows(2).all(|w| w[0] < w[1]), "engagement {engagement} out of order: {ns:?}");
    }
    let mut conn = database.conn().unwrap();
    let filter = webhooks::DeliveryFilter {
        status: Some(keel_domain::webhook::DeliveryStatus::Delivered),
        ..Default::default()
    };
    let page = keel_domain::page::PageRequest::new(Some(200), None).unwrap();
    let mut delivered = 0;
    let mut next = Some(page);
    while let Some(page) = next.take() {
        let result = webhooks::deliveries(&mut conn, hook.id, &filter, page).unwrap();
        assert!(
            result.items.iter().all(|(_, attempts)| attempts.len() == 1 && attempts[0].response_status == Some(200))
        );
        delivered += result.items.len();
        if result.has_more {
            let last = result.items.last().unwrap().0.id.parse().unwrap();
            next = Some(keel_domain::page::PageRequest::new(Some(200), Some(last)).unwrap());
        }
    }
    assert_eq!(delivered, MESSAGES);
}

/// Two instances share the webhook deliveries on PostgreSQL; one delivers them on SQLite.
async fn webhook_deliveries_are_shared(backend: Backend) {
    let instances = if backend == Backend::Postgres { 2 } else { 1 };
    webhook_deliveries_shared(backend, instances).await;
}
