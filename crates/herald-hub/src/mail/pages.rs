//! The small pages a link in mail opens on the hub: unsubscribe, and the answer page of a
//! confirm-type notification. Each GET only shows a page with a button (link scanners and
//! mail security gateways follow every link in a mail); only the button's POST changes
//! anything. Every field is untrusted text and escaped; the pages carry no script.

use herald_proto::Notification;

use super::compose::escape;

/// A finished page: its title and body, framed by [`page`].
pub struct Page {
    pub title: String,
    pub body: String,
}

impl Page {
    fn new(title: impl Into<String>, body: String) -> Self {
        Self { title: title.into(), body }
    }

    /// The whole document.
    pub fn html(&self) -> String {
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"robots\" content=\"noindex\"><title>{title} · Herald</title><style>{STYLE}</style></head>\
             <body><main><h1>{title}</h1>{body}</main></body></html>",
            title = escape(&self.title),
            body = self.body,
        )
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#111827;background:#f3f4f6;margin:0}\
    main{max-width:520px;margin:48px auto;padding:24px 28px;background:#fff;border-radius:10px;\
    box-shadow:0 1px 3px rgba(0,0,0,.12)}h1{font-size:20px;margin:0 0 16px}\
    p{line-height:1.5}.muted{color:#4b5563}.quote{white-space:pre-wrap;border-left:3px solid #d1d5db;padding-left:12px}\
    button{font:inherit;padding:8px 18px;margin:0 8px 8px 0;border:0;border-radius:6px;background:#1d4ed8;color:#fff;cursor:pointer}\
    button:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}";

/// The Content-Security-Policy of these pages: no script at all, styles only inline, forms
/// only back to the hub, never framed.
pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn list(titles: &[String]) -> String {
    let items: String = titles.iter().map(|t| format!("<li>{}</li>", escape(t))).collect();
    format!("<ul>{items}</ul>")
}

/// GET of an unsubscribe link: what it would stop, and the button that does.
pub fn unsubscribe_form(user: &str, titles: &[String]) -> Page {
    Page::new(
        "Unsubscribe from these emails?",
        format!(
            "<p>Herald will stop sending <strong>{user}</strong> email about:</p>{}\
             <form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
             <button type=\"submit\">Unsubscribe</button></form>\
             <p class=\"muted\">They stay in the Herald inbox. Email can be turned on again in Herald's settings.</p>",
            list(titles),
            user = escape(user),
        ),
    )
}

/// After the POST: what was turned off, and what could not be.
pub fn unsubscribed(stopped: &[String], required: &[String], inbox: &str) -> Page {
    let stopped =
        if stopped.is_empty() { String::new() } else { format!("<p>No more email about:</p>{}", list(stopped)) };
    let required = if required.is_empty() {
        String::new()
    } else {
        format!("<p>Your organisation requires email about these, so they stay on:</p>{}", list(required))
    };
    Page::new(
        "Unsubscribed",
        format!(
            "{stopped}{required}<p class=\"muted\">Turn email on again in <a href=\"{}\">Herald's settings</a>.</p>",
            escape(inbox)
        ),
    )
}

fn quote(n: &Notification) -> String {
    let body = if n.body.trim().is_empty() {
        String::new()
    } else {
        format!("<p class=\"quote\">{}</p>", escape(n.body.trim()))
    };
    let sender = n.sender.as_deref().map(|s| format!("<p class=\"muted\">From {}</p>", escape(s))).unwrap_or_default();
    format!("<p><strong>{}</strong></p>{body}{sender}", escape(n.subject.trim()))
}

/// GET of an answer link: the notification and the choice, asked once more. A value that is
/// none of its buttons (or none at all) offers every button.
pub fn answer_form(n: &Notification, value: Option<&str>) -> Page {
    let chosen: Vec<_> = match n.buttons.iter().find(|b| Some(b.value.as_str()) == value) {
        Some(button) => vec![button],
        None => n.buttons.iter().collect(),
    };
    let buttons: String = chosen
        .iter()
        .map(|b| {
            format!(
                "<button type=\"submit\" name=\"value\" value=\"{}\">{}</button>",
                escape(&b.value),
                escape(&b.label)
            )
        })
        .collect();
    let question = match chosen.as_slice() {
        [only] => format!("<p>Answer <strong>{}</strong>?</p>", escape(&only.label)),
        _ => "<p>Choose your answer:</p>".to_owned(),
    };
    Page::new("Your answer", format!("{}{question}<form method=\"post\">{buttons}</form>", quote(n)))
}

/// The answer recorded: now (`fresh`), or earlier (a second use of the link).
pub fn answered(n: &Notification, fresh: bool, inbox: &str) -> Page {
    let said = n.answer.as_ref().map_or_else(String::new, |answer| {
        let label = answer
            .value
            .as_deref()
            .and_then(|v| n.buttons.iter().find(|b| b.value == v).map(|b| b.label.as_str()))
            .or(answer.value.as_deref())
            .or(answer.text.as_deref())
            .unwrap_or("");
        format!("<strong>{}</strong> ({})", escape(label), escape(&answer.at))
    });
    let (title, line) = if fresh {
        ("Answer recorded", format!("<p>Your answer {said} is recorded.</p>"))
    } else {
        ("Already answered", format!("<p>This was already answered: {said}. It cannot be changed here.</p>"))
    };
    Page::new(title, format!("{}{line}<p class=\"muted\"><a href=\"{}\">Open Herald</a></p>", quote(n), escape(inbox)))
}

/// A token this hub did not sign, or one changed since.
pub fn invalid_link() -> Page {
    Page::new(
        "This link is not valid",
        "<p>It was changed, cut short, or comes from another Herald. Open the link from the email again, \
         or use Herald's settings.</p>"
            .to_owned(),
    )
}

/// The notification or user the link is about is no longer there.
pub fn gone(what: &str) -> Page {
    Page::new("Nothing to do here", format!("<p>{}</p>", escape(what)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confirm() -> Notification {
        let mut n = Notification::plain(5, "<b>PO-42</b> approve?", "2026-12-04T08:00:00.000Z");
        n.body = "<script>alert(1)</script>".into();
        n.buttons = vec![
            herald_proto::Button { value: "Y\"><x".into(), label: "<i>Yes</i>".into(), style: Default::default() },
            herald_proto::Button { value: "N".into(), label: "No".into(), style: Default::default() },
        ];
        n
    }

    #[test]
    fn the_answer_page_asks_for_the_chosen_button_and_escapes_everything() {
        let html = answer_form(&confirm(), Some("Y\"><x")).html();
        assert!(!html.contains("<script>") && !html.contains("<b>") && !html.contains("<i>"), "{html}");
        assert!(html.contains("value=\"Y&quot;&gt;&lt;x\""), "{html}");
        assert!(!html.contains(">No</button>"), "only the chosen one is asked: {html}");
        let all = answer_form(&confirm(), Some("maybe")).html();
        assert!(all.contains(">No</button>") && all.contains("&lt;i&gt;Yes&lt;/i&gt;</button>"), "{all}");
    }

    #[test]
    fn an_answered_page_names_the_recorded_choice() {
        let mut n = confirm();
        n.answer =
            Some(herald_proto::Answer { value: Some("N".into()), text: None, at: "2026-12-04T09:00:00Z".into() });
        let html = answered(&n, false, "https://hub/").html();
        assert!(html.contains("Already answered") && html.contains("<strong>No</strong>"), "{html}");
    }
}
