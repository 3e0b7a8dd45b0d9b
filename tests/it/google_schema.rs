//! The Google Wallet mapping of every demo template, checked against Google's own API description
//! (the saved walletobjects v1 discovery document) by a strict validator: known fields only,
//! right JSON types, SCREAMING_CASE enums, required fields, id formats and Google's list limits.

use passerelle::google::mapping::{self, GoogleContext, ObjectState, Vertical};
use passerelle::templates::{Identity, Template, TemplateSet};
use serde_json::{Map, Value, json};

use crate::helpers::repo;

const ISSUER: &str = "3388000000022141777";
const CTX: GoogleContext<'static> = GoogleContext { issuer_id: ISSUER, public_url: "https://passes.example.com" };
const ID: Identity<'static> =
    Identity { pass_type_identifier: "pass.com.passerelle.demo", team_identifier: "PASSDEMO42" };

/// Required fields: the discovery document says "Required." only in descriptions.
const REQUIRED: [(&str, &[&str]); 6] = [
    ("OfferClass", &["id", "issuerName", "provider", "title", "redemptionChannel", "reviewStatus"]),
    ("OfferObject", &["id", "classId", "state"]),
    ("LoyaltyClass", &["id", "issuerName", "programName", "programLogo", "reviewStatus"]),
    ("LoyaltyObject", &["id", "classId", "state"]),
    ("GenericClass", &["id"]),
    ("GenericObject", &["id", "classId", "cardTitle", "header"]),
];

/// Arrays Google caps at 10 entries.
const AT_MOST_10: [&str; 2] = ["textModulesData", "merchantLocations"];

/// A validator walking the discovery document's `schemas`.
pub struct Discovery {
    schemas: Map<String, Value>,
}

impl Discovery {
    pub fn load() -> Self {
        let path = repo().join("tests/fixtures/walletobjects-v1-discovery.json");
        let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(doc["revision"], "20260601");
        Self { schemas: doc["schemas"].as_object().unwrap().clone() }
    }

    /// Every problem of `value` as an instance of the schema `name`, each prefixed by its JSON path.
    pub fn validate(&self, name: &str, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check_schema(name, value, name, &mut errors);
        // Classes and objects carry issuer-prefixed ids; a Message's id is the issuer's free choice.
        if let Some(id) = value.get("id").and_then(Value::as_str)
            && name != "Message"
            && !is_resource_id(id)
        {
            errors.push(format!("{name}.id: {id:?} is not <issuer>.[A-Za-z0-9._-]+"));
        }
        if let Some(id) = value.get("classId").and_then(Value::as_str)
            && !is_resource_id(id)
        {
            errors.push(format!("{name}.classId: {id:?} is not <issuer>.[A-Za-z0-9._-]+"));
        }
        errors
    }

    fn check_schema(&self, name: &str, value: &Value, path: &str, errors: &mut Vec<String>) {
        let Some(schema) = self.schemas.get(name) else {
            errors.push(format!("{path}: unknown schema {name}"));
            return;
        };
        self.check(schema, value, path, errors);
        let Some(obj) = value.as_object() else { return };
        if let Some((_, required)) = REQUIRED.iter().find(|(n, _)| *n == name) {
            for field in *required {
                if !obj.contains_key(*field) {
                    errors.push(format!("{path}.{field}: required field missing"));
                }
            }
        }
        match name {
            "TextModuleData" => {
                if let Some(id) = obj.get("id").and_then(Value::as_str)
                    && (id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                {
                    errors.push(format!("{path}.id: {id:?} must match ^[A-Za-z0-9_-]+$"));
                }
            }
            "LoyaltyPointsBalance" if obj.len() != 1 => {
                errors.push(format!("{path}: set exactly one of string, int, double, money"));
            }
            _ => {}
        }
    }

    /// Checks `value` against one property schema (`$ref`, `type`, `format`, `enum`, `items`, `properties`).
    fn check(&self, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
        if let Some(name) = schema.get("$ref").and_then(Value::as_str) {
            return self.check_schema(name, value, path, errors);
        }
        let ty = schema["type"].as_str().unwrap_or("any");
        let format = schema.get("format").and_then(Value::as_str);
        let ok = match (ty, format) {
            ("string", Some("int64")) => value.as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
            ("string", Some("uint64")) => value.as_str().is_some_and(|s| s.parse::<u64>().is_ok()),
            ("string", _) => value.is_string(),
            ("integer", Some("int32")) => value.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
            ("integer", Some("uint32")) => value.as_u64().is_some_and(|i| u32::try_from(i).is_ok()),
            ("integer", _) => value.is_i64() || value.is_u64(),
            ("number", _) => value.is_number(),
            ("boolean", _) => value.is_boolean(),
            ("array", _) => value.is_array(),
            ("object", _) => value.is_object(),
            _ => true,
        };
        if !ok {
            let want = format.map_or(ty.to_owned(), |f| format!("{ty} ({f})"));
            errors.push(format!("{path}: expected {want}, got {value}"));
            return;
        }
        if let (Some(allowed), Some(v)) = (schema.get("enum").and_then(Value::as_array), value.as_str()) {
            let deprecated = schema.get("enumDeprecated").and_then(Value::as_array);
            match allowed.iter().position(|a| a == v) {
                None => errors.push(format!("{path}: {v:?} is not one of the enum values")),
                Some(i) if deprecated.is_some_and(|d| d[i] == true) => {
                    errors.push(format!("{path}: {v:?} is a deprecated enum alias"));
                }
                Some(_) if !is_screaming_case(v) || v.ends_with("_UNSPECIFIED") => {
                    errors.push(format!("{path}: {v:?} is not a SCREAMING_CASE enum value"));
                }
                Some(_) => {}
            }
        }
        if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
            for (i, item) in list.iter().enumerate() {
                self.check(items, item, &format!("{path}[{i}]"), errors);
            }
        }
        if let (Some(props), Some(obj)) = (schema.get("properties").and_then(Value::as_object), value.as_object()) {
            for (key, v) in obj {
                let path = format!("{path}.{key}");
                match props.get(key) {
                    None => errors.push(format!("{path}: unknown field")),
                    Some(p) if p["deprecated"] == true => errors.push(format!("{path}: deprecated field")),
                    Some(p) => {
                        if AT_MOST_10.contains(&key.as_str()) && v.as_array().is_some_and(|a| a.len() > 10) {
                            errors.push(format!("{path}: more than 10 entries"));
                        }
                        self.check(p, v, &path, errors);
                    }
                }
            }
        }
    }
}

fn is_screaming_case(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn is_resource_id(id: &str) -> bool {
    id.strip_prefix(ISSUER).and_then(|rest| rest.strip_prefix('.')).is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    })
}

/// `loyaltyClass` → `LoyaltyClass`.
fn schema_name(resource: &str) -> String {
    resource[..1].to_uppercase() + &resource[1..]
}

fn templates() -> TemplateSet {
    TemplateSet::load(&repo().join("pass-templates"), &ID).expect("the demo templates load")
}

/// The class and the (ACTIVE) object of a template with its example data.
fn mapped(t: &Template) -> (Value, Value) {
    let data = t.validate_data(t.example.as_ref().expect("demo templates have example.json")).unwrap();
    (mapping::class_json(&CTX, t), mapping::object_json(&CTX, t, &data, "serial 0001/é", ObjectState::Active))
}

fn demo(id: &str) -> (Value, Value) {
    mapped(templates().get(id).unwrap())
}

fn module<'a>(object: &'a Value, id: &str) -> &'a Value {
    let modules = object["textModulesData"].as_array().unwrap();
    modules.iter().find(|m| m["id"] == id).unwrap_or_else(|| panic!("no text module {id} in {modules:#?}"))
}

sync_test!(every_demo_template_maps_to_valid_google_json);
fn every_demo_template_maps_to_valid_google_json() {
    let discovery = Discovery::load();
    let set = templates();
    assert_eq!(set.ids(), ["click-and-collect", "loyalty", "offer", "receipt"]);
    for t in set.iter() {
        let vertical = Vertical::of(t.definition.kind);
        let (class, object) = mapped(t);
        let errors = discovery.validate(&schema_name(vertical.class_resource()), &class);
        assert!(errors.is_empty(), "{} class: {errors:#?}\n{class:#}", t.id);
        let errors = discovery.validate(&schema_name(vertical.object_resource()), &object);
        assert!(errors.is_empty(), "{} object: {errors:#?}\n{object:#}", t.id);
        assert_eq!(object["classId"], class["id"]);
        assert_eq!(class["callbackOptions"]["url"], "https://passes.example.com/google/callback");
        assert!(object["textModulesData"].as_array().is_some_and(|m| !m.is_empty() && m.len() <= 10));
        for state in [ObjectState::Inactive, ObjectState::Completed, ObjectState::Expired] {
            let data = t.validate_data(t.example.as_ref().unwrap()).unwrap();
            let object = mapping::object_json(&CTX, t, &data, "s", state);
            assert_eq!(object["state"], state.as_str());
            assert_eq!(discovery.validate(&schema_name(vertical.object_resource()), &object), Vec::<String>::new());
        }
    }
}

sync_test!(the_validator_itself_rejects_bad_json);
fn the_validator_itself_rejects_bad_json() {
    let discovery = Discovery::load();
    let (class, object) = demo("loyalty");
    assert_eq!(discovery.validate("LoyaltyObject", &object), Vec::<String>::new());
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut o = object.clone();
        f(&mut o);
        discovery.validate("LoyaltyObject", &o).join("\n")
    };
    let has = |errors: String, needle: &str| assert!(errors.contains(needle), "expected {needle:?} in:\n{errors}");
    has(broken(&|o| o["colour"] = json!("red")), "LoyaltyObject.colour: unknown field");
    has(broken(&|o| o["barcode"]["format"] = json!("QR")), "LoyaltyObject.barcode.format: unknown field");
    has(broken(&|o| o["locations"] = json!([])), "LoyaltyObject.locations: deprecated field");
    has(broken(&|o| o["accountId"] = json!(42)), "LoyaltyObject.accountId: expected string");
    has(broken(&|o| o["loyaltyPoints"]["balance"]["int"] = json!("320")), "balance.int: expected integer (int32)");
    has(broken(&|o| o["loyaltyPoints"]["balance"]["double"] = json!(1.5)), "set exactly one");
    has(broken(&|o| o["state"] = json!("SOMETIMES")), "\"SOMETIMES\" is not one of the enum values");
    has(broken(&|o| o["state"] = json!("active")), "\"active\" is a deprecated enum alias");
    has(broken(&|o| o["barcode"]["type"] = json!("qrCode")), "deprecated enum alias");
    has(broken(&|o| o["barcode"]["type"] = json!("PDF417")), "deprecated enum alias");
    has(broken(&|o| _ = o.as_object_mut().unwrap().remove("classId")), "LoyaltyObject.classId: required field missing");
    has(broken(&|o| o["id"] = json!("3388000000022141777.a b")), "is not <issuer>.");
    has(broken(&|o| o["classId"] = json!("42.loyalty")), "is not <issuer>.");
    has(broken(&|o| o["textModulesData"][0]["id"] = json!("a.b")), "must match ^[A-Za-z0-9_-]+$");
    has(broken(&|o| o["textModulesData"] = json!(vec![json!({"body": "x"}); 11])), "more than 10 entries");
    has(broken(&|o| o["merchantLocations"] = json!([{"latitude": "45.7"}])), "latitude: expected number");
    let mut generic_class = json!({"id": format!("{ISSUER}.receipt"), "issuerName": "Maison Lumière"});
    has(discovery.validate("GenericClass", &generic_class).join("\n"), "GenericClass.issuerName: unknown field");
    generic_class.as_object_mut().unwrap().remove("issuerName");
    assert_eq!(discovery.validate("GenericClass", &generic_class), Vec::<String>::new());
    let mut class = class;
    class.as_object_mut().unwrap().remove("programLogo");
    class["reviewStatus"] = json!("underReview");
    let errors = discovery.validate("LoyaltyClass", &class).join("\n");
    has(errors.clone(), "LoyaltyClass.programLogo: required field missing");
    has(errors, "\"underReview\" is a deprecated enum alias");
}

sync_test!(loyalty_card_mapping);
fn loyalty_card_mapping() {
    let (class, object) = demo("loyalty");
    assert_eq!(class["id"], format!("{ISSUER}.loyalty"));
    assert_eq!(class["issuerName"], "Maison Lumière");
    assert_eq!(class["programName"], "Maison Lumière");
    assert_eq!(class["reviewStatus"], "UNDER_REVIEW");
    assert_eq!(class["hexBackgroundColor"], "#1b263b");
    assert_eq!(
        class["programLogo"]["sourceUri"]["uri"],
        "https://passes.example.com/assets/templates/loyalty/logo@3x.png"
    );
    assert_eq!(class["programLogo"]["contentDescription"]["defaultValue"]["value"], "Maison Lumière");
    assert_eq!(class["accountIdLabel"], "Card number");
    assert_eq!(
        class["localizedAccountIdLabel"]["translatedValues"],
        json!([{"language": "fr", "value": "Numéro de carte"}])
    );
    assert_eq!(class["accountNameLabel"], "Member");
    assert_eq!(class["rewardsTierLabel"], "Tier");
    assert_eq!(class["multipleDevicesAndHoldersAllowedStatus"], "ONE_USER_ALL_DEVICES");

    assert_eq!(object["id"], format!("{ISSUER}.serial_0001__"));
    assert_eq!(object["state"], "ACTIVE");
    assert_eq!(object["accountId"], "ML-0042-1337");
    assert_eq!(object["accountName"], "Camille Durand");
    assert_eq!(object["loyaltyPoints"]["balance"]["int"], 320);
    assert_eq!(object["loyaltyPoints"]["label"], "Points");
    assert_eq!(object["barcode"], json!({"type": "QR_CODE", "value": "ML-0042-1337", "alternateText": "ML-0042-1337"}));
    assert!(object.get("hexBackgroundColor").is_none(), "LoyaltyObject has no colour: the class's applies");
    // The tier leads; the fields mapped to accountId, accountName and loyaltyPoints are not repeated.
    let ids: Vec<&str> =
        object["textModulesData"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["tier", "offer", "store", "terms"]);
    let tier = module(&object, "tier");
    assert_eq!((&tier["header"], &tier["body"]), (&json!("Tier"), &json!("Premium")));
    assert_eq!(tier["localizedHeader"]["translatedValues"][0], json!({"language": "fr", "value": "Statut"}));
    let terms = module(&object, "terms");
    assert!(terms["localizedBody"]["translatedValues"][0]["value"].as_str().unwrap().starts_with("1 point par euro"));
    assert!(module(&object, "offer").get("localizedBody").is_none(), "data values are not keys: default only");
}

sync_test!(click_and_collect_mapping);
fn click_and_collect_mapping() {
    let (class, object) = demo("click-and-collect");
    assert_eq!(
        class,
        json!({"id": format!("{ISSUER}.click-and-collect"), "callbackOptions": {"url": "https://passes.example.com/google/callback"}})
    );
    assert_eq!(object["genericType"], "GENERIC_RESERVATIONS");
    assert_eq!(object["cardTitle"], json!({"defaultValue": {"language": "en", "value": "Maison Lumière"}}));
    assert_eq!(object["header"]["defaultValue"]["value"], "CC-2026-000123");
    assert_eq!(object["subheader"]["defaultValue"]["value"], "Order");
    assert_eq!(object["subheader"]["translatedValues"][0]["value"], "Commande");
    assert_eq!(object["validTimeInterval"]["start"]["date"], "2026-11-24T10:00:00+01:00");
    assert_eq!(object["validTimeInterval"]["end"]["date"], "2026-11-24T19:00:00+01:00");
    assert_eq!(object["merchantLocations"], json!([{"latitude": 45.7609, "longitude": 4.859}]));
    assert_eq!(object["barcode"]["type"], "QR_CODE");
    assert_eq!(
        object["logo"]["sourceUri"]["uri"],
        "https://passes.example.com/assets/templates/click-and-collect/logo@3x.png"
    );
    assert_eq!(module(&object, "status")["body"], "Preparing");
    assert_eq!(module(&object, "pickup_start")["body"], "Nov 24, 2026, 10:00");
    assert_eq!(module(&object, "pickup_end")["header"], "Until");
    assert!(module(&object, "items")["body"].as_str().unwrap().contains("Scented candle"));
    assert!(object["textModulesData"].as_array().unwrap().iter().all(|m| m["id"] != "order"), "order is the header");
}

sync_test!(receipt_mapping);
fn receipt_mapping() {
    let (class, object) = demo("receipt");
    assert!(class.get("issuerName").is_none() && class.get("reviewStatus").is_none());
    assert_eq!(object["genericType"], "GENERIC_RECEIPT");
    assert_eq!(object["header"]["defaultValue"]["value"], "€52.40");
    assert_eq!(object["subheader"]["defaultValue"]["value"], "Total");
    assert_eq!(object["barcode"]["type"], "CODE_128");
    assert_eq!(object["barcode"]["value"], "R-PAR01-20261122-0042-7K3QXA9B");
    assert_eq!(object["hexBackgroundColor"], "#faf6ee");
    assert!(object.get("validTimeInterval").is_none() && object.get("merchantLocations").is_none());
    assert!(module(&object, "lines")["body"].as_str().unwrap().contains("Linen lampshade"));
    assert_eq!(module(&object, "tax")["body"], "€8.73");
    assert_eq!(module(&object, "issued_at")["body"], "Nov 22, 2026, 15:42");
    assert_eq!(module(&object, "member")["header"], "Loyalty member");
}

sync_test!(empty_values_are_left_out_and_ids_sanitised);
fn empty_values_are_left_out_and_ids_sanitised() {
    let set = templates();
    let t = set.get("receipt").unwrap();
    let mut data = t.example.clone().unwrap();
    data.as_object_mut().unwrap().remove("payment");
    let data = t.validate_data(&data).unwrap();
    let object = mapping::object_json(&CTX, t, &data, "R/1", ObjectState::Completed);
    assert_eq!(object["id"], format!("{ISSUER}.R_1"));
    assert_eq!(object["state"], "COMPLETED");
    assert!(object["textModulesData"].as_array().unwrap().iter().all(|m| m["id"] != "payment"));
    assert_eq!(mapping::class_id(&CTX, "my template"), format!("{ISSUER}.my_template"));
    assert_eq!(Vertical::of(t.definition.kind).class_resource(), "genericClass");
}
