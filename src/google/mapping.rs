//! Template → Google Wallet class and object JSON, derived from the rendered Apple pass.json so a
//! template is written once (the mapping table is in `pass-templates/README.md`).

mod apple;
mod text;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::templates::{Kind, Template};

use apple::{ApplePass, Field};
use text::{Strings, Text};

/// Google allows at most 10 text modules (and 10 merchant locations) per object.
const MAX_TEXT_MODULES: usize = 10;

/// The Google Wallet pass type a template becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vertical {
    Loyalty,
    Generic,
    /// An offer instance: an `offerObject` of its offer's own `offerClass`.
    Offer,
}

impl Vertical {
    /// A loyalty template is a loyalty card, an offer template an offer; reservations and
    /// receipts are generic passes.
    pub fn of(kind: Kind) -> Self {
        match kind {
            Kind::Loyalty => Self::Loyalty,
            Kind::Offer => Self::Offer,
            Kind::Reservation | Kind::Receipt => Self::Generic,
        }
    }

    /// The REST resource of the class (`/walletobjects/v1/<resource>`).
    pub fn class_resource(self) -> &'static str {
        match self {
            Self::Loyalty => "loyaltyClass",
            Self::Generic => "genericClass",
            Self::Offer => "offerClass",
        }
    }

    pub fn object_resource(self) -> &'static str {
        match self {
            Self::Loyalty => "loyaltyObject",
            Self::Generic => "genericObject",
            Self::Offer => "offerObject",
        }
    }
}

/// An object's `state`, in Google's SCREAMING_CASE (the lower-case aliases are deprecated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ObjectState {
    Active,
    Inactive,
    Completed,
    Expired,
}

impl ObjectState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Completed => "COMPLETED",
            Self::Expired => "EXPIRED",
        }
    }
}

/// What the mapping needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct GoogleContext<'a> {
    /// The numeric issuer ID of the Google Pay & Wallet Console.
    pub issuer_id: &'a str,
    /// The server's public base URL, without a trailing slash (images and callbacks live there).
    pub public_url: &'a str,
}

/// `<issuer>.<template id>`, the class shared by every pass of a template.
pub fn class_id(ctx: &GoogleContext<'_>, template_id: &str) -> String {
    format!("{}.{}", ctx.issuer_id, sanitise(template_id, true))
}

/// `<issuer>.offer-<offer id>`, the class of one offer (shared by its instances).
pub fn offer_class_id(ctx: &GoogleContext<'_>, offer_id: &str) -> String {
    format!("{}.offer-{}", ctx.issuer_id, sanitise(offer_id, false))
}

/// An offer's `OfferClass`, from its instance's rendered coupon: the title, the organisation
/// as issuer and provider, redeemed in store, the details and the terms.
pub fn offer_class_json(
    ctx: &GoogleContext<'_>,
    template: &Template,
    data: &Map<String, Value>,
    class_id: &str,
) -> Value {
    let pass = ApplePass::render(template, data);
    let strings = Strings::of(template);
    let organization = strings.text(&organization_name(&pass, template));
    let text = |key: &str| data.get(key).and_then(Value::as_str).filter(|t| !t.trim().is_empty());
    let mut class = Map::new();
    put(&mut class, "id", class_id);
    put(&mut class, "issuerName", organization.en.as_str());
    put_opt(&mut class, "localizedIssuerName", organization.translated());
    put(&mut class, "provider", organization.en.as_str());
    put(&mut class, "title", text("title").unwrap_or(organization.en.as_str()));
    put_opt(&mut class, "details", text("description"));
    put_opt(&mut class, "finePrint", text("terms"));
    put(&mut class, "redemptionChannel", "INSTORE");
    put(&mut class, "reviewStatus", "UNDER_REVIEW");
    put_opt(&mut class, "hexBackgroundColor", pass.hex_background());
    put(&mut class, "callbackOptions", callback_options(ctx));
    Value::Object(class)
}

/// `<issuer>.<serial number>`, one pass.
pub fn object_id(ctx: &GoogleContext<'_>, serial: &str) -> String {
    format!("{}.{}", ctx.issuer_id, sanitise(serial, true))
}

/// Keeps `[A-Za-z0-9_-]` (and `.` if `dots`), replacing anything else with `_`, as Google's samples do.
fn sanitise(s: &str, dots: bool) -> String {
    let out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' || (dots && c == '.') { c } else { '_' })
        .collect();
    if out.is_empty() { "_".to_owned() } else { out }
}

/// The class of a template: `LoyaltyClass` or `GenericClass` JSON.
pub fn class_json(ctx: &GoogleContext<'_>, template: &Template) -> Value {
    let pass = ApplePass::design(template);
    let strings = Strings::of(template);
    let mut class = Map::new();
    put(&mut class, "id", class_id(ctx, &template.id));
    if Vertical::of(template.definition.kind) == Vertical::Offer {
        // Each offer has its own class (`offer_class_json`); this one shows the template's design.
        return offer_class_json(ctx, template, &Map::new(), &class_id(ctx, &template.id));
    }
    if Vertical::of(template.definition.kind) == Vertical::Generic {
        // GenericClass has no issuerName, reviewStatus or display fields: the object carries them.
        put(&mut class, "callbackOptions", callback_options(ctx));
        return Value::Object(class);
    }
    let organization = strings.text(&organization_name(&pass, template));
    let program = match google_str(template, "program_name") {
        Some(name) => strings.text(name),
        None => organization.clone(),
    };
    put(&mut class, "issuerName", organization.en.as_str());
    put_opt(&mut class, "localizedIssuerName", organization.translated());
    put(&mut class, "programName", program.en.as_str());
    put_opt(&mut class, "localizedProgramName", program.translated());
    if let Some((logo, wide)) = logo(ctx, template, &organization) {
        if wide {
            put(&mut class, "wideProgramLogo", logo.clone());
        }
        put(&mut class, "programLogo", logo);
    }
    let roles = &template.definition.roles;
    for (role, name) in [
        (&roles.card_number, "accountIdLabel"),
        (&roles.member_name, "accountNameLabel"),
        (&roles.tier, "rewardsTierLabel"),
    ] {
        if let Some(label) = pass.field_showing(role.as_deref()).and_then(class_label).map(|l| strings.text(&l)) {
            put(&mut class, name, label.en.as_str());
            let localized = format!("localized{}{}", name[..1].to_uppercase(), &name[1..]);
            put_opt(&mut class, &localized, label.translated());
        }
    }
    put_opt(&mut class, "hexBackgroundColor", pass.hex_background());
    // Clients may only send DRAFT or UNDER_REVIEW, and must keep sending UNDER_REVIEW once approved.
    put(&mut class, "reviewStatus", "UNDER_REVIEW");
    put(&mut class, "multipleDevicesAndHoldersAllowedStatus", "ONE_USER_ALL_DEVICES");
    put(&mut class, "callbackOptions", callback_options(ctx));
    Value::Object(class)
}

/// One pass as a `LoyaltyObject` or `GenericObject`; `data` is validated and complete.
pub fn object_json(
    ctx: &GoogleContext<'_>,
    template: &Template,
    data: &Map<String, Value>,
    serial: &str,
    state: ObjectState,
) -> Value {
    let pass = ApplePass::render(template, data);
    let strings = Strings::of(template);
    let roles = &template.definition.roles;
    let fields = pass.fields();
    let mut obj = Map::new();
    put(&mut obj, "id", object_id(ctx, serial));
    put(&mut obj, "classId", class_id(ctx, &template.id));
    put(&mut obj, "state", state.as_str());
    // Apple fields shown by a dedicated Google field; the rest become text modules.
    let mut mapped: Vec<&str> = Vec::new();
    let mut first_modules: Vec<Field<'_>> = Vec::new();
    match Vertical::of(template.definition.kind) {
        Vertical::Loyalty => {
            let showing = |role: &Option<String>| fields.iter().find(|f| role.is_some() && f.shows == role.as_deref());
            let role_value = |role: &Option<String>| text::data_value(role.as_ref().and_then(|r| data.get(r)));
            put_opt(&mut obj, "accountId", role_value(&roles.card_number));
            put_opt(&mut obj, "accountName", role_value(&roles.member_name));
            if let Some(balance) = roles.points.as_ref().and_then(|p| balance(data.get(p)?)) {
                let mut points = Map::new();
                if let Some(label) = showing(&roles.points).and_then(|f| f.label().map(|l| strings.text(l))) {
                    put(&mut points, "label", label.en.as_str());
                    put_opt(&mut points, "localizedLabel", label.translated());
                }
                put(&mut points, "balance", balance);
                put(&mut obj, "loyaltyPoints", Value::Object(points));
            }
            for role in [&roles.card_number, &roles.member_name, &roles.points] {
                mapped.extend(showing(role).map(|f| f.key));
            }
            // The tier has no object field (rewardsTier is class-wide): it leads the text modules.
            first_modules.extend(showing(&roles.tier).copied());
        }
        Vertical::Generic => {
            let genre =
                if template.definition.kind == Kind::Receipt { "GENERIC_RECEIPT" } else { "GENERIC_RESERVATIONS" };
            put(&mut obj, "genericType", genre);
            let organization = strings.text(&organization_name(&pass, template));
            put(&mut obj, "cardTitle", organization.localized());
            // The main Apple field (order number, total) is the title row; its label sits above it.
            let main = fields.iter().find(|f| f.group == "primaryFields").or(fields.first());
            let header = main.map(|f| text::field_value(f.dict, &strings)).filter(|t| !t.en.is_empty());
            if let Some(main) = main.filter(|_| header.is_some()) {
                put_opt(&mut obj, "subheader", main.label().map(|l| strings.text(l).localized()));
                mapped.push(main.key);
            }
            let description = pass.text("description").unwrap_or_else(|| template.definition.name.clone());
            put(&mut obj, "header", header.unwrap_or_else(|| strings.text(&description)).localized());
            if let Some((logo, wide)) = logo(ctx, template, &organization) {
                if wide {
                    put(&mut obj, "wideLogo", logo.clone());
                }
                put(&mut obj, "logo", logo);
            }
            // LoyaltyObject has no colour of its own (the class's applies); GenericClass has none.
            put_opt(&mut obj, "hexBackgroundColor", pass.hex_background());
        }
        // The offer's class carries its title, details and terms; the object its code and dates.
        Vertical::Offer => mapped.extend(["title", "reward", "description", "terms", "valid_from", "valid_until"]),
    }
    put_opt(&mut obj, "barcode", pass.barcode());
    put_opt(&mut obj, "validTimeInterval", valid_time_interval(template, data));
    let locations = pass.merchant_locations();
    if !locations.is_empty() {
        put(&mut obj, "merchantLocations", locations);
    }
    let rest = fields.iter().filter(|f| !mapped.contains(&f.key) && !first_modules.iter().any(|m| m.key == f.key));
    let modules = text_modules(first_modules.iter().chain(rest), &strings);
    if !modules.is_empty() {
        put(&mut obj, "textModulesData", modules);
    }
    Value::Object(obj)
}

/// Text modules for Apple fields, in order, skipping empty values; ids unique and dot-free.
fn text_modules<'a>(fields: impl Iterator<Item = &'a Field<'a>>, strings: &Strings) -> Vec<Value> {
    let mut ids: Vec<String> = Vec::new();
    let mut modules = Vec::new();
    for field in fields {
        let body = text::field_value(field.dict, strings);
        if body.en.trim().is_empty() {
            continue;
        }
        let base = sanitise(field.key, false);
        let id = (1..).map(|n| if n == 1 { base.clone() } else { format!("{base}_{n}") }).find(|i| !ids.contains(i));
        let id = id.expect("an unused id always exists");
        ids.push(id.clone());
        let mut module = Map::new();
        put(&mut module, "id", id);
        let label = field.label().map(|l| strings.text(l));
        put_opt(&mut module, "header", label.as_ref().map(|l| l.en.clone()));
        put(&mut module, "body", body.en.as_str());
        put_opt(&mut module, "localizedHeader", label.as_ref().and_then(Text::translated));
        put_opt(&mut module, "localizedBody", body.translated());
        modules.push(Value::Object(module));
        if modules.len() == MAX_TEXT_MODULES {
            break;
        }
    }
    modules
}

/// A points balance: `int` when it fits Google's int32, else `double` or `string`.
fn balance(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => json!({ "int": i }),
            Some(_) => json!({ "string": n.to_string() }),
            None => json!({ "double": n.as_f64()? }),
        },
        Value::String(s) => json!({ "string": s }),
        _ => return None,
    })
}

/// `validTimeInterval` from the datetime fields named by `[google] valid_from` / `valid_until`.
fn valid_time_interval(template: &Template, data: &Map<String, Value>) -> Option<Value> {
    let mut interval = Map::new();
    for (key, side) in [("valid_from", "start"), ("valid_until", "end")] {
        if let Some(date) = google_str(template, key).and_then(|f| data.get(f)?.as_str()).filter(|d| !d.is_empty()) {
            put(&mut interval, side, json!({ "date": date }));
        }
    }
    (!interval.is_empty()).then_some(Value::Object(interval))
}

/// The logo `Image` served from the template's public assets, and whether it is the wide Apple logo.
fn logo(ctx: &GoogleContext<'_>, template: &Template, organization: &Text) -> Option<(Value, bool)> {
    let (file, wide) = apple::logo_file(template)?;
    let uri = format!("{}/assets/templates/{}/{file}", ctx.public_url, template.id);
    Some((json!({ "sourceUri": { "uri": uri }, "contentDescription": organization.localized() }), wide))
}

fn callback_options(ctx: &GoogleContext<'_>) -> Value {
    json!({ "url": format!("{}/google/callback", ctx.public_url) })
}

/// A field label for the class: shared by every pass, so without placeholders.
fn class_label(field: Field<'_>) -> Option<String> {
    field.label().and_then(apple::without_placeholders)
}

fn organization_name(pass: &ApplePass, template: &Template) -> String {
    pass.text("organizationName").unwrap_or_else(|| template.definition.name.clone())
}

/// A string from the template's `[google]` table.
fn google_str<'a>(template: &'a Template, key: &str) -> Option<&'a str> {
    template.definition.google.get(key)?.as_str().filter(|s| !s.is_empty())
}

fn put(map: &mut Map<String, Value>, key: &str, value: impl Into<Value>) {
    map.insert(key.to_owned(), value.into());
}

fn put_opt(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        put(map, key, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sanitised() {
        let ctx = GoogleContext { issuer_id: "338", public_url: "https://x" };
        assert_eq!(class_id(&ctx, "click-and-collect"), "338.click-and-collect");
        assert_eq!(object_id(&ctx, "a b/c.d_é"), "338.a_b_c.d__");
        assert_eq!(object_id(&ctx, ""), "338._");
        assert_eq!(sanitise("a.b", false), "a_b");
    }

    #[test]
    fn balances_fit_google_types() {
        assert_eq!(balance(&json!(320)).unwrap(), json!({ "int": 320 }));
        assert_eq!(balance(&json!(5_000_000_000_i64)).unwrap(), json!({ "string": "5000000000" }));
        assert_eq!(balance(&json!(2.5)).unwrap(), json!({ "double": 2.5 }));
        assert!(balance(&json!(true)).is_none());
        assert_eq!(Vertical::of(Kind::Receipt).object_resource(), "genericObject");
        assert_eq!(serde_json::to_value(ObjectState::Completed).unwrap(), "COMPLETED");
    }
}
