//! `/console/stores` (head office: `Area::Shops`): every store with its members, a form to add
//! one and a page to change one (`/console/stores/{id}`), checked by the same domain functions
//! as the API (`shops::create`, `shops::change`), errors beside their field.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::forms::{self, FieldErrors};
use super::members::refused;
use super::pages::{self, when};
use super::session::{Form, Signed};
use crate::access::Area;
use crate::error::Error;
use crate::http::AppState;
use crate::shops;
use crate::store::{NewShop, ShopChange, ShopRecord};

/// The store form's fields, as typed (shown again when refused).
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct StoreForm {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    latitude: String,
    #[serde(default)]
    longitude: String,
    #[serde(default)]
    timezone: String,
}

impl StoreForm {
    fn of(s: &ShopRecord) -> Self {
        Self {
            id: s.id.clone(),
            name: s.name.clone(),
            address: s.address.clone().unwrap_or_default(),
            latitude: s.latitude.to_string(),
            longitude: s.longitude.to_string(),
            timezone: s.timezone.clone(),
        }
    }

    /// The coordinates, or the message beside the first that is not a number.
    fn coordinates(&self, lang: &str) -> Result<(f64, f64), FieldErrors> {
        let number = |text: &str, field: &str| {
            text.trim()
                .replace(',', ".")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| forms::one(field, super::i18n::text(lang, &format!("stores_err_{field}"))))
        };
        Ok((number(&self.latitude, "latitude")?, number(&self.longitude, "longitude")?))
    }

    fn address(&self) -> Option<String> {
        Some(self.address.clone()).filter(|a| !a.trim().is_empty())
    }
}

fn view(s: &ShopRecord, members: &HashMap<String, i64>) -> Value {
    json!({"id": s.id, "name": s.name, "address": s.address, "timezone": s.timezone,
           "latitude": s.latitude, "longitude": s.longitude, "members": members.get(&s.id).copied().unwrap_or(0),
           "updated": when(s.updated_at)})
}

/// The list, with the add form (its values and errors when it was refused).
async fn list_page(
    state: &AppState,
    signed: &Signed,
    form: &StoreForm,
    errors: Option<FieldErrors>,
    done: &Done,
) -> Response {
    if let Err(e) = signed.actor.require(Area::Shops) {
        return refused(signed, e);
    }
    let gathered = async { anyhow::Ok((state.store.all_shops().await?, state.store.members_per_shop().await?)) };
    let (all, members) = match gathered.await {
        Ok(found) => found,
        Err(e) => return Error::Internal(e).into_response(),
    };
    let members: HashMap<String, i64> = members.into_iter().collect();
    let stores: Vec<Value> = all.iter().map(|s| view(s, &members)).collect();
    let refused_form = errors.is_some();
    let resp = pages::render(
        signed,
        "stores.html",
        "stores",
        json!({"stores": stores, "form": form, "errors": errors.unwrap_or_default(), "open": refused_form,
               "added": done.added, "changed": done.changed}),
    );
    if refused_form { forms::unprocessable(resp) } else { resp }
}

/// What the list says after a redirect: the store just added or changed.
#[derive(Deserialize, Default)]
pub struct Done {
    added: Option<String>,
    changed: Option<String>,
}

pub async fn list(State(state): State<Arc<AppState>>, signed: Signed, Query(done): Query<Done>) -> Response {
    list_page(&state, &signed, &StoreForm::default(), None, &done).await
}

pub async fn create(State(state): State<Arc<AppState>>, form: Form<StoreForm>) -> Response {
    let Form { signed, fields } = form;
    if let Err(e) = signed.actor.require(Area::Shops) {
        return refused(&signed, e);
    }
    let (latitude, longitude) = match fields.coordinates(signed.lang) {
        Ok(c) => c,
        Err(errors) => return list_page(&state, &signed, &fields, Some(errors), &Done::default()).await,
    };
    let new = NewShop {
        id: fields.id.trim().to_owned(),
        name: fields.name.clone(),
        address: fields.address(),
        latitude,
        longitude,
        timezone: fields.timezone.trim().to_owned(),
    };
    match shops::create(state.store.as_ref(), new).await {
        Ok(s) => Redirect::to(&format!("/console/stores?added={}", s.id)).into_response(),
        Err(e) => match forms::beside_field(signed.lang, "stores_err", &e) {
            Some(errors) => list_page(&state, &signed, &fields, Some(errors), &Done::default()).await,
            None => refused(&signed, e),
        },
    }
}

/// One store's page: its facts and the change form.
async fn store_page(
    state: &AppState,
    signed: &Signed,
    id: &str,
    form: Option<&StoreForm>,
    errors: Option<FieldErrors>,
) -> Response {
    if let Err(e) = signed.actor.require(Area::Shops) {
        return refused(signed, e);
    }
    let found = if shops::valid_id(id) { state.store.shop(id).await } else { Ok(None) };
    let s = match found {
        Ok(Some(s)) => s,
        Ok(None) => return pages::error(signed.lang, StatusCode::NOT_FOUND, "not_found"),
        Err(e) => return Error::Internal(e).into_response(),
    };
    let members = match state.store.members_per_shop().await {
        Ok(m) => m.into_iter().collect(),
        Err(e) => return Error::Internal(e).into_response(),
    };
    let shown = form.map_or_else(|| StoreForm::of(&s), |f| StoreForm { id: s.id.clone(), ..f.clone() });
    let refused_form = errors.is_some();
    let resp = pages::render(
        signed,
        "store.html",
        "stores",
        json!({"s": view(&s, &members), "form": shown, "errors": errors.unwrap_or_default()}),
    );
    if refused_form { forms::unprocessable(resp) } else { resp }
}

pub async fn show(State(state): State<Arc<AppState>>, signed: Signed, Path(id): Path<String>) -> Response {
    store_page(&state, &signed, &id, None, None).await
}

pub async fn change(State(state): State<Arc<AppState>>, Path(id): Path<String>, form: Form<StoreForm>) -> Response {
    let Form { signed, fields } = form;
    if let Err(e) = signed.actor.require(Area::Shops) {
        return refused(&signed, e);
    }
    let (latitude, longitude) = match fields.coordinates(signed.lang) {
        Ok(c) => c,
        Err(errors) => return store_page(&state, &signed, &id, Some(&fields), Some(errors)).await,
    };
    let change = ShopChange {
        name: Some(fields.name.clone()),
        address: Some(fields.address()),
        latitude: Some(latitude),
        longitude: Some(longitude),
        timezone: Some(fields.timezone.trim().to_owned()),
    };
    match shops::change(state.store.as_ref(), &id, change).await {
        Ok(s) => Redirect::to(&format!("/console/stores?changed={}", s.id)).into_response(),
        Err(e) => match forms::beside_field(signed.lang, "stores_err", &e) {
            Some(errors) => store_page(&state, &signed, &id, Some(&fields), Some(errors)).await,
            None => refused(&signed, e),
        },
    }
}
