//! Holdout groups, on SQLite and PostgreSQL: the holders drawn into a campaign's holdout get
//! no change, no push and no Google message; the groups are listed; the draw is the documented
//! hash, so anyone can recompute it.

use std::collections::BTreeSet;

use passerelle::campaigns::holdout::held_out;
use passerelle::store::JobKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::campaigns::{
    ISSUER, create_campaign, get, google_setup, member, no_quiet_hours, ok_json, on_iphone, saved_on_google, store_of,
    wait_sent,
};
use crate::helpers::{ADMIN, Backend, spawn_app_on, wait_until_drained};
use crate::push::{eventually, mock, push_config, token};

const HOLDERS: usize = 40;

/// Every member id of one group, through the paginated recipients list (pages of 7).
async fn group(app: &crate::helpers::TestApp, id: &str, group: &str) -> BTreeSet<String> {
    let mut members = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/campaigns/{id}/recipients?group={group}&limit=7");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = ok_json(get(app, ADMIN, &path).await, StatusCode::OK).await;
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["group"], group, "{item}");
            assert!(item["card_number"].is_string(), "{item}");
            members.insert(item["member_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return members,
        }
    }
}

async fn a_holdout_group_gets_nothing(backend: Backend) {
    let apns = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = no_quiet_hours(push_config(&apns));
    let google = google_setup(&mut config, dir.path()).await;
    let app = spawn_app_on(backend, config).await;
    let store = store_of(&app).await;
    let mut holders = Vec::new();
    for n in 0..HOLDERS {
        let (id, serial) = member(&app, None, 400, true, "en", json!({})).await;
        on_iphone(&app, store.as_ref(), &serial, &format!("device-{n}"), &token(n)).await;
        if n % 2 == 0 {
            saved_on_google(store.as_ref(), &serial).await;
        }
        holders.push((id, serial));
    }
    let (status, preview) = {
        let body = json!({"segment": "points >= 0", "holdout_percent": 30});
        let resp = app.api(reqwest::Method::POST, "/api/v1/segments/preview").json(&body).send().await.unwrap();
        (resp.status(), resp.json::<Value>().await.unwrap())
    };
    assert_eq!((status, preview["holdout"].as_i64()), (StatusCode::OK, Some(12)), "30% of 40: {preview}");
    let resp = app
        .api(reqwest::Method::POST, "/api/v1/segments/preview")
        .json(&json!({"segment": "points >= 0", "holdout_percent": 51}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Every holder of the class is targeted: without a holdout this would be one class message.
    let pushes_before = apns.received_count();
    let body = json!({"name": "Weekend", "segment": "points >= 0", "message": {"en": "20% off this weekend"},
                      "holdout_percent": 30, "conversion_days": 14});
    let created = ok_json(create_campaign(&app, ADMIN, body).await, StatusCode::CREATED).await;
    assert_eq!((created["holdout_percent"].as_i64(), created["conversion_days"].as_i64()), (Some(30), Some(14)));
    assert_eq!((created["holders"].as_i64(), created["holdout"].as_i64()), (Some(40), Some(12)), "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let stats = wait_sent(&app, &id).await;

    // The draw is the documented hash of (campaign id, member id).
    let expected: BTreeSet<String> = holders.iter().map(|(m, _)| m.clone()).filter(|m| held_out(&id, m, 30)).collect();
    assert!(!expected.is_empty() && expected.len() < HOLDERS, "{expected:?}");
    let treated_count = (HOLDERS - expected.len()) as i64;
    assert_eq!(
        (stats["targeted"].as_i64(), stats["holdout"].as_i64(), stats["sent"].as_i64()),
        (Some(HOLDERS as i64), Some(expected.len() as i64), Some(treated_count)),
        "{stats}"
    );
    assert_eq!(group(&app, &id, "holdout").await, expected);
    let treated = group(&app, &id, "treated").await;
    assert_eq!(treated.len() as i64, treated_count);
    assert!(treated.is_disjoint(&expected));
    let shown = ok_json(get(&app, ADMIN, &format!("/api/v1/campaigns/{id}")).await, StatusCode::OK).await;
    assert_eq!(shown["holdout"].as_i64(), Some(expected.len() as i64), "the campaign shows its holdout: {shown}");
    let bad = get(&app, ADMIN, &format!("/api/v1/campaigns/{id}/recipients?group=control")).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Apple: the treated holders' iPhones only; the holdout's passes are untouched.
    eventually("the treated iPhones are pushed", async || {
        apns.received_count() >= pushes_before + treated_count as usize
    })
    .await;
    wait_until_drained(&app, JobKind::Push).await;
    wait_until_drained(&app, JobKind::Google).await;
    let pushed: BTreeSet<String> = apns.received()[pushes_before..].iter().map(|r| r.token.clone()).collect();
    let treated_tokens: BTreeSet<String> =
        holders.iter().enumerate().filter(|(_, (m, _))| !expected.contains(m)).map(|(n, _)| token(n)).collect();
    assert_eq!(pushed, treated_tokens);
    for (n, (m, serial)) in holders.iter().enumerate() {
        let pass = store.pass(serial).await.unwrap().unwrap();
        let object = google.object("loyaltyObject", &format!("{ISSUER}.{serial}")).unwrap_or(Value::Null);
        let messages = object["messages"]
            .as_array()
            .map_or(0, |a| a.iter().filter(|x| x["id"] == format!("campaign-{id}")).count());
        if expected.contains(m) {
            assert!(pass.data.get("offer").is_none(), "holdout holder {n} untouched: {}", pass.data);
            assert_eq!(messages, 0, "no Google message for holdout holder {n}");
        } else {
            assert_eq!(pass.data["offer"], "20% off this weekend", "treated holder {n}");
            assert_eq!(messages, usize::from(n % 2 == 0), "a Google message for treated holder {n} if saved");
        }
    }
    // Never a class message: it would reach the holdout too.
    let class_adds = google
        .requests()
        .iter()
        .filter(|(m, p)| m == "POST" && p.contains("/loyaltyClass/") && p.ends_with("/addMessage"))
        .count();
    assert_eq!(class_adds, 0);
    assert!(crate::campaigns::stats(&app, &id).await["google"]["class_message"].is_null());
}

on_both_backends!(a_holdout_group_gets_nothing);
