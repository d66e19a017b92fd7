//! Webhook receivers on loopback, and a Standard Webhooks verifier written from the specification.

use std::time::Duration;

use actix_web::dev::ServerHandle;
use serde_json::Value;

/// A request a [`WebhookReceiver`] got, and the status it answered.
#[derive(Clone, Debug)]
pub struct ReceivedHook {
    /// Header names in lower case.
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub answered: u16,
}

impl ReceivedHook {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

#[derive(Default)]
struct ReceiverState {
    requests: std::sync::Mutex<Vec<ReceivedHook>>,
    failures_left: std::sync::atomic::AtomicUsize,
}

/// A webhook receiver on loopback: a real HTTP server that records every request and answers 500
/// to the first `fail_first` ones, 200 after.
pub struct WebhookReceiver {
    pub address: std::net::SocketAddr,
    state: std::sync::Arc<ReceiverState>,
    handle: ServerHandle,
}

impl WebhookReceiver {
    pub fn start(fail_first: usize) -> WebhookReceiver {
        Self::start_on("127.0.0.1:0", fail_first)
    }

    /// Listens on `address` (e.g. a port reserved earlier with [`free_port`]).
    pub fn start_on(address: &str, fail_first: usize) -> WebhookReceiver {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        let state = std::sync::Arc::new(ReceiverState::default());
        state.failures_left.store(fail_first, std::sync::atomic::Ordering::SeqCst);
        let data = web::Data::from(state.clone());
        async fn receive(state: web::Data<ReceiverState>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
            let fail = state
                .failures_left
                .fetch_update(std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst, |n| {
                    n.checked_sub(1)
                })
                .is_ok();
            let answered = if fail { 500 } else { 200 };
            let headers = request
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
                .collect();
            state.requests.lock().unwrap().push(ReceivedHook { headers, body: body.to_vec(), answered });
            if fail { HttpResponse::InternalServerError().body("not now") } else { HttpResponse::Ok().finish() }
        }
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(receive)))
            .workers(1)
            .disable_signals()
            .bind(address)
            .expect("bind the webhook receiver");
        let address = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        WebhookReceiver { address, state, handle }
    }

    /// The URL to subscribe.
    pub fn url(&self) -> String {
        format!("http://{}/keel/events", self.address)
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<ReceivedHook> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Waits up to `timeout` until `count` requests were answered 200; returns every request.
    pub async fn wait_for_accepted(&self, count: usize, timeout: Duration) -> Vec<ReceivedHook> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.iter().filter(|r| r.answered == 200).count() >= count || std::time::Instant::now() > deadline {
                return received;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Verifies a delivery the way a receiver does, written from the Standard Webhooks specification
/// (not with Keel's code): the signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the
/// key is the base64 after `whsec_`; `webhook-signature` holds space-separated `v1,<base64
/// HMAC-SHA256>` entries, one of which must match; the timestamp must be within `tolerance_secs`
/// of now.
pub fn verify_webhook(secret: &str, hook: &ReceivedHook, tolerance_secs: i64) -> Result<(), String> {
    use base64::Engine;
    use hmac::Mac;
    let engine = base64::engine::general_purpose::STANDARD;
    let id = hook.header("webhook-id");
    let timestamp = hook.header("webhook-timestamp");
    if id.is_empty() {
        return Err("no webhook-id".into());
    }
    let sent_at: i64 = timestamp.parse().map_err(|_| format!("bad webhook-timestamp {timestamp:?}"))?;
    let now = chrono::Utc::now().timestamp();
    if (now - sent_at).abs() > tolerance_secs {
        return Err(format!("timestamp {sent_at} is too far from now ({now})"));
    }
    let key = engine
        .decode(secret.strip_prefix("whsec_").ok_or("the secret lacks the whsec_ prefix")?)
        .map_err(|e| format!("secret: {e}"))?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&hook.body);
    for entry in hook.header("webhook-signature").split(' ') {
        if let Some(("v1", signature)) = entry.split_once(',')
            && let Ok(signature) = engine.decode(signature)
            && mac.clone().verify_slice(&signature).is_ok()
        {
            return Ok(());
        }
    }
    Err(format!("no signature matches: {:?}", hook.header("webhook-signature")))
}
