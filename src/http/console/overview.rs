//! `/console`: the overview, head office's figures or a store manager's own store's: the
//! headline figures, charts (served as SVG images from `/console/charts/…`, each with its key
//! numbers beside it and its figures in a table), recent campaigns and approvals waiting.
//!
//! The charts are `<img>`s rather than inline SVG: the page stays light, the images sit outside
//! the page's strict style policy, and each chart is one URL a marketer may open or save.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::charts::{self, Size};
use super::figures::{self, Day, Period, number, short_date};
use super::i18n::text;
use super::pages::{self, when};
use super::session::Signed;
use crate::access::{Area, Reach};
use crate::http::AppState;
use crate::store::{DailyFigures, FlyerSignups, now_ms};

const WEEK_MS: i64 = 7 * 86_400_000;
const RECENT_CAMPAIGNS: i64 = 5;

/// `?size=narrow`: a chart drawn for a phone's width (`?lang=` is read with the session).
#[derive(Deserialize)]
pub struct ChartQuery {
    size: Option<String>,
}

fn internal(e: anyhow::Error) -> Response {
    crate::error::Error::Internal(e).into_response()
}

/// A chart's words: its title, what it counts, and its key numbers.
struct Words {
    title: String,
    counts: String,
    key: String,
}

fn fill(template: String, values: &[(&str, String)]) -> String {
    values.iter().fold(template, |s, (name, value)| s.replace(&format!("{{{name}}}"), value))
}

fn members_words(state: &AppState, before: &DailyFigures, days: &[Day], lang: &str) -> Words {
    let last = days.last().map_or(before, |d| &d.figures);
    let new: i64 = days.iter().map(|d| d.figures.signups).sum();
    let tz = state.config.campaigns.default_timezone.clone();
    Words {
        title: text(lang, "chart_members_title"),
        counts: fill(text(lang, "chart_members_counts"), &[("tz", tz)]),
        key: fill(
            text(lang, "chart_members_key"),
            &[("total", number(last.members, lang)), ("new", number(new, lang)), ("days", days.len().to_string())],
        ),
    }
}

/// A change over the period: `+3`, `-1`, `+0`.
fn change(n: i64, lang: &str) -> String {
    if n < 0 { number(n, lang) } else { format!("+{}", number(n, lang)) }
}

fn cards_words(state: &AppState, before: &DailyFigures, days: &[Day], lang: &str) -> Words {
    let last = days.last().map_or(before, |d| &d.figures);
    let tz = state.config.campaigns.default_timezone.clone();
    Words {
        title: text(lang, "chart_cards_title"),
        counts: fill(text(lang, "chart_cards_counts"), &[("tz", tz)]),
        key: fill(
            text(lang, "chart_cards_key"),
            &[
                ("apple", number(last.apple_cards, lang)),
                ("apple_new", change(last.apple_cards - before.apple_cards, lang)),
                ("google", number(last.google_cards, lang)),
                ("google_new", change(last.google_cards - before.google_cards, lang)),
                ("days", days.len().to_string()),
            ],
        ),
    }
}

fn flyers_words(flyers: &[FlyerSignups], days: usize, lang: &str) -> Words {
    let total: i64 = flyers.iter().map(|f| f.signups).sum();
    let period = [("days", days.to_string()), ("top", number(figures::TOP_FLYERS, lang))];
    let key = match flyers.first() {
        Some(most) => fill(
            text(lang, "chart_flyers_key"),
            &[("total", number(total, lang)), ("code", most.code.clone()), ("most", number(most.signups, lang))],
        ),
        None => fill(text(lang, "chart_flyers_none"), &period),
    };
    Words { title: text(lang, "chart_flyers_title"), counts: fill(text(lang, "chart_flyers_counts"), &period), key }
}

/// The `<desc>` of a day chart: each day's figures, as the table shows them.
fn days_desc(words: &Words, days: &[Day], row: impl Fn(&DailyFigures) -> String) -> String {
    let lines: Vec<String> = days.iter().map(|d| format!("{}: {}", d.date, row(&d.figures))).collect();
    format!("{} {}. {}", words.counts, words.key, lines.join("; "))
}

pub async fn show(State(state): State<Arc<AppState>>, signed: Signed) -> Response {
    let lang = signed.lang;
    let store_id = signed.actor.own_store().map(str::to_owned);
    let store = store_id.as_deref();
    let counts = match state.store.overview_counts(store, now_ms() - WEEK_MS).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let figures = vec![
        json!({"key": "members_total", "value": number(counts.members, lang)}),
        json!({"key": "signups_7d", "value": number(counts.new_members, lang)}),
        json!({"key": "apple_cards", "value": number(counts.apple_cards, lang)}),
        json!({"key": "google_cards", "value": number(counts.google_cards, lang)}),
        json!({"key": "waiting_approval", "value": number(counts.pending_approvals, lang)}),
    ];
    let period = match Period::of(&state) {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let (before, days) = match figures::days(&state, store, &period).await {
        Ok(d) => d,
        Err(e) => return internal(e),
    };
    let flyers = match figures::flyers(&state, store, &period).await {
        Ok(f) => f,
        Err(e) => return internal(e),
    };
    let day_rows = |of: fn(&DailyFigures) -> [i64; 2]| -> Vec<Value> {
        let row = |d: &Day| {
            let values = of(&d.figures).map(|n| number(n, lang));
            json!({"date": d.date.to_string(), "label": short_date(d.date, lang), "values": values})
        };
        days.iter().rev().map(row).collect()
    };
    let chart = |id: &str, words: Words, columns: &[&str], rows: &[Value]| {
        json!({"id": id, "title": words.title, "counts": words.counts, "key": words.key,
               "columns": columns.iter().map(|c| text(lang, c)).collect::<Vec<_>>(), "rows": rows})
    };
    let flyer_rows: Vec<Value> = flyers
        .iter()
        .map(|f| json!({"label": f.code, "note": f.label, "values": [f.store_id.clone(), number(f.signups, lang)]}))
        .collect();
    let mut charts = vec![
        chart(
            "members",
            members_words(&state, &before, &days, lang),
            &["members_total", "signups"],
            &day_rows(|f| [f.members, f.signups]),
        ),
        chart(
            "cards",
            cards_words(&state, &before, &days, lang),
            &["apple_cards", "google_cards"],
            &day_rows(|f| [f.apple_cards, f.google_cards]),
        ),
    ];
    let flyer_chart = chart("flyers", flyers_words(&flyers, days.len(), lang), &["store", "signups"], &flyer_rows);
    if !flyers.is_empty() {
        charts.push(flyer_chart.clone());
    }
    let campaigns = match recent_campaigns(&state, &signed).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let approvals = (signed.actor.reach(Area::Approvals) != Reach::None).then(|| {
        let n = counts.pending_approvals;
        if n == 0 {
            text(lang, "approvals_none")
        } else {
            fill(text(lang, "approvals_waiting_line"), &[("n", number(n, lang))])
        }
    });
    let scope = match store {
        Some(store) => text(lang, "scope_store").replace("{store}", store),
        None => text(lang, "scope_all"),
    };
    let ctx = json!({"figures": figures, "scope": scope, "charts": charts, "no_flyers": flyers.is_empty(),
                     "flyer_chart": flyer_chart, "campaigns": campaigns, "approvals": approvals,
                     "waiting": counts.pending_approvals});
    // The language switch's cookie is set for every console page (`console::router`).
    pages::render(&signed, "overview.html", "overview", ctx)
}

/// The last campaigns this user may see, with their reach so far.
async fn recent_campaigns(state: &AppState, signed: &Signed) -> anyhow::Result<Vec<Value>> {
    if signed.actor.reach(Area::Campaigns) == Reach::None {
        return Ok(Vec::new());
    }
    let listed = state.campaigns.list(&signed.actor, None, None, RECENT_CAMPAIGNS).await?;
    let mut rows = Vec::with_capacity(listed.len());
    for c in listed {
        let (_, stats) = state.campaigns.stats(&signed.actor, &c.id).await?;
        rows.push(json!({"id": c.id, "name": c.name, "status": c.status, "created": when(c.created_at),
                         "targeted": number(stats.targeted, signed.lang), "sent": number(stats.sent, signed.lang)}));
    }
    Ok(rows)
}

/// `/console/charts/{members|cards|flyers}.svg`: one chart, as the overview shows it, for the
/// signed-in user's scope (`?size=narrow` for a phone, `?lang=` as the page).
pub async fn chart(
    State(state): State<Arc<AppState>>,
    signed: Signed,
    Path(name): Path<String>,
    Query(q): Query<ChartQuery>,
) -> Response {
    let lang = signed.lang;
    let size = if q.size.as_deref() == Some("narrow") { Size::Narrow } else { Size::Wide };
    let store = signed.actor.own_store().map(str::to_owned);
    let store = store.as_deref();
    let period = match Period::of(&state) {
        Ok(p) => p,
        Err(e) => return internal(e),
    };
    let drawn = match name.as_str() {
        "members.svg" | "cards.svg" => match figures::days(&state, store, &period).await {
            Ok((before, days)) if name == "members.svg" => {
                let words = members_words(&state, &before, &days, lang);
                let desc = days_desc(&words, &days, |f| format!("{} / +{}", f.members, f.signups));
                charts::members(&days, lang, size, &words.title, &desc)
            }
            Ok((before, days)) => {
                let words = cards_words(&state, &before, &days, lang);
                let desc = days_desc(&words, &days, |f| format!("{} / {}", f.apple_cards, f.google_cards));
                charts::cards(&days, lang, size, &words.title, &desc)
            }
            Err(e) => Err(e),
        },
        "flyers.svg" => match figures::flyers(&state, store, &period).await {
            Ok(flyers) => {
                let words = flyers_words(&flyers, period.days.len(), lang);
                let lines: Vec<String> = flyers.iter().map(|f| format!("{}: {}", f.code, f.signups)).collect();
                let desc = format!("{} {}. {}", words.counts, words.key, lines.join("; "));
                charts::flyers(&flyers, lang, size, &words.title, &desc)
            }
            Err(e) => Err(e),
        },
        _ => return pages::error(lang, StatusCode::NOT_FOUND, "not_found").into_response(),
    };
    match drawn {
        Ok(svg) => {
            let mut resp = svg.into_response();
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
            // One user's figures: kept by no cache, shared or not.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => internal(e),
    }
}
