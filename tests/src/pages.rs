//! A browser without JavaScript for the pages' black-box tests: it keeps cookies, follows nothing
//! by itself, sends forms with the form token the page carries, and reads links out of mails.
//! (The real-browser tests drive Chromium; these check every status, header and refusal.)

use std::collections::BTreeMap;

use actix_web::http::Method;

use crate::{Response, TestApp};

/// One browser: its cookies, kept across requests.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Browser<'a> {
        Browser { app, cookies: BTreeMap::new() }
    }

    /// The value of a cookie this browser holds.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Forgets every cookie (another browser, or a cleared one).
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// Opens `path` (or a full `http://…` address of the app).
    pub async fn get(&mut self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    /// Sends a form to `path` with `fields` (urlencoded), as a browser does.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = serde_urlencoded::to_string(fields).expect("form");
        self.send(Method::POST, path, Some(body)).await
    }

    /// Sends the form on `page` whose `action` is `action`, with its hidden form token, plus
    /// `fields`.
    pub async fn submit(&mut self, page: &Response, action: &str, fields: &[(&str, &str)]) -> Response {
        let html = page.text();
        assert!(html.contains(&format!("action=\"{action}\"")), "no form with action {action} on the page:\n{html}");
        let csrf = form_token(&html).expect("a form token on the page");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<String>) -> Response {
        let path = path.strip_prefix(&self.app.base_url).unwrap_or(path);
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let mut headers = Vec::new();
        if !cookie.is_empty() {
            headers.push(("cookie", cookie.as_str()));
        }
        let content_type = form.as_ref().map(|_| "application/x-www-form-urlencoded");
        let response = self.app.send_raw(method, path, &headers, content_type, form.map(String::into_bytes)).await;
        for value in response.headers.get_all("set-cookie") {
            let text = value.to_str().expect("a cookie");
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || attributes.to_ascii_lowercase().contains("max-age=0") {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        response
    }
}

/// The value of the first hidden `csrf` field of a page.
pub fn form_token(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[start..].split('"').next()?.to_owned())
}

/// The first address in `mail` that starts with `prefix` (e.g. the app's base URL + `/l/`).
pub fn link_in(mail: &str, prefix: &str) -> Option<String> {
    let start = mail.find(prefix)?;
    let link: String = mail[start..].chars().take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<').collect();
    Some(link)
}
