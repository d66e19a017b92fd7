//! The shape of every mail: a greeting, paragraphs, at most one action (a button in the HTML
//! part, the address on its own line in the text part) and small print. Both parts are rendered
//! from this one description, so they always say the same.

use askama::Template;
use keel_domain::outbox::Email;

/// The one thing a mail asks its reader to do.
#[derive(Clone, Debug)]
pub struct Action {
    pub label: String,
    pub url: String,
}

/// A mail's content, before it is rendered.
#[derive(Clone, Debug, Default)]
pub struct Body {
    pub greeting: String,
    pub paragraphs: Vec<String>,
    pub action: Option<Action>,
    pub footer: Vec<String>,
}

#[derive(Template)]
#[template(path = "mail/layout.html")]
struct Html<'a> {
    subject: &'a str,
    greeting: &'a str,
    paragraphs: &'a [String],
    action: &'a Option<Action>,
    footer: &'a [String],
}

impl Body {
    pub fn new(greeting: impl Into<String>) -> Body {
        Body { greeting: greeting.into(), ..Body::default() }
    }

    pub fn paragraph(mut self, text: impl Into<String>) -> Body {
        self.paragraphs.push(text.into());
        self
    }

    pub fn action(mut self, label: impl Into<String>, url: impl Into<String>) -> Body {
        self.action = Some(Action { label: label.into(), url: url.into() });
        self
    }

    pub fn footer(mut self, text: impl Into<String>) -> Body {
        self.footer.push(text.into());
        self
    }

    /// The plain-text part.
    pub fn text(&self) -> String {
        let mut out = format!("{}\n\n", self.greeting);
        for p in &self.paragraphs {
            out.push_str(p);
            out.push_str("\n\n");
        }
        if let Some(action) = &self.action {
            out.push_str(&format!("{}:\n\n    {}\n\n", action.label, action.url));
        }
        for line in &self.footer {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// The HTML part (every value escaped by the template).
    pub fn html(&self, subject: &str) -> String {
        Html {
            subject,
            greeting: &self.greeting,
            paragraphs: &self.paragraphs,
            action: &self.action,
            footer: &self.footer,
        }
        .render()
        .expect("the mail template renders")
    }

    /// The mail to `to`; `secrets` are the parts (tokens) kept out of the stored copy once sent.
    pub fn email(&self, to: &str, subject: impl Into<String>, secrets: Vec<String>) -> Email {
        let subject = subject.into();
        Email {
            to: to.to_owned(),
            html: Some(self.html(&subject)),
            text: self.text(),
            subject,
            secrets,
            attachments: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_carry_the_action_and_the_html_is_escaped() {
        let body = Body::new("Hello <Ann>,")
            .paragraph("Version 2 is ready & waiting.")
            .action("Review the design", "https://keel.example/l/abc")
            .footer("It works once.");
        let email = body.email("ann@example.com", "Design v2", vec!["abc".to_owned()]);
        assert!(email.text.contains("Review the design:\n\n    https://keel.example/l/abc\n"));
        let html = email.html.unwrap();
        assert!(html.contains("href=\"https://keel.example/l/abc\""), "{html}");
        assert!(html.contains("Hello &#60;Ann&#62;,") || html.contains("Hello &lt;Ann&gt;,"), "{html}");
        assert!(html.contains("ready &#38; waiting") || html.contains("ready &amp; waiting"), "{html}");
    }
}
