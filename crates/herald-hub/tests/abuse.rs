//! A hostile user, app or stranger against a real hub (issue 17): each finding's reproduction,
//! bounded in time and count. docs/reliability.md ("Abuse") has the figures.

mod common;

use common::*;

#[tokio::test]
async fn a_search_of_thousands_of_words_or_a_control_character_is_refused_clearly() {
    let hub = start().await;
    hub.send_to("bob", "zebra crossing").await;
    let search = |q: String| {
        let request = hub.client.get(format!("{}/v1/notifications", hub.base)).query(&[("q", q)]).bearer_auth(&hub.bob);
        async move {
            let res = request.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    // The 30 KB URL that took 60 s on a 200,000-row hub.
    let (status, body) = search("zebra ".repeat(5_000)).await;
    assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "{body}");
    assert!(body["message"].as_str().unwrap().contains("256 characters"), "{body}");
    let (status, body) = search("a b c d e f g h i j k l m n o p q".into()).await;
    assert_eq!(status, 400, "17 words: {body}");
    assert!(body["message"].as_str().unwrap().contains("16 words"), "{body}");
    // q=%00 answered 500 (`unterminated string`).
    let (status, body) = search("\0".into()).await;
    assert_eq!((status, code(&body)), (400, ErrorCode::InvalidRequest), "{body}");
    let (status, body) = search("zebra zebra zebra".into()).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"][0]["subject"], "zebra crossing", "a repeated word still finds");
    let (_, body) = search("\" OR *".into()).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 0, "FTS syntax is only text");
}

#[tokio::test]
async fn an_app_reusing_another_apps_tag_replaces_only_its_own() {
    let hub = start().await;
    hub.store.grant_role("bob", "staff").await.unwrap();
    let erp = hub.store.add_app_token("erp", None).await.unwrap();
    let evil = hub.store.add_app_token("evil", None).await.unwrap();
    let approval = json!({
        "to": {"role": "staff"}, "subject": "Approve PO 2", "tag": "po-2",
        "buttons": [{"value": "Y", "label": "Approve"}]
    });
    let (status, _) = hub.post(&erp, "/v1/notifications", approval.to_string()).await;
    assert_eq!(status, 200);
    let expires = herald_hub::store::rfc3339_in(2);
    let takeover = json!({"to": {"everyone": true}, "subject": "nothing", "tag": "po-2", "expires_at": expires});
    let (status, _) = hub.post(&evil, "/v1/notifications", takeover.to_string()).await;
    assert_eq!(status, 200);
    let (_, page) = hub.get(&hub.bob, "/v1/notifications?tag=po-2").await;
    let subjects: Vec<&str> =
        page["items"].as_array().unwrap().iter().map(|n| n["subject"].as_str().unwrap()).collect();
    assert_eq!(subjects, ["nothing", "Approve PO 2"], "erp's approval is still waiting");
    // erp's own resend still replaces its own.
    let (status, _) = hub.post(&erp, "/v1/notifications", approval.to_string()).await;
    assert_eq!(status, 200);
    let (_, page) = hub.get(&hub.bob, "/v1/notifications?tag=po-2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "one of erp's, one of evil's");
}
