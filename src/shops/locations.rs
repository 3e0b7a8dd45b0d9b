//! The `locations` of a loyalty pass (Apple pass.json: at most 10 `{latitude, longitude,
//! relevantText}`; the pass shows on the lock screen near one of them).

use std::cmp::Ordering;

use serde_json::{Value, json};

use crate::store::ShopRecord;

/// Wallet ignores a pass's locations past the tenth.
pub const MAX_PASS_LOCATIONS: usize = 10;

/// Mean Earth radius (IUGG), kilometres.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance between two points (haversine formula), in kilometres.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Apple `locations` entries for a loyalty pass: the home store first, then the stores
/// nearest to it; without a (known) home store, the first ten by id.
pub fn pass_locations(stores: &[ShopRecord], home_store_id: Option<&str>) -> Vec<Value> {
    locations_near(stores, home_store_id.and_then(|id| stores.iter().find(|s| s.id == id)))
}

/// Apple `locations` entries among `stores`: `home` first if it is one of them, then the
/// nearest to `home` (which may be outside `stores`: a coupon's stores near the holder's home
/// store); without a home, the first ten by id.
pub fn locations_near(stores: &[ShopRecord], home: Option<&ShopRecord>) -> Vec<Value> {
    let mut chosen: Vec<&ShopRecord> = stores.iter().collect();
    match home {
        Some(home) => {
            let at = (home.latitude, home.longitude);
            let key = |s: &ShopRecord| if s.id == home.id { -1.0 } else { distance_km(at, (s.latitude, s.longitude)) };
            chosen.sort_by(|a, b| key(a).partial_cmp(&key(b)).unwrap_or(Ordering::Equal).then_with(|| a.id.cmp(&b.id)));
        }
        None => chosen.sort_by(|a, b| a.id.cmp(&b.id)),
    }
    chosen
        .into_iter()
        .take(MAX_PASS_LOCATIONS)
        .map(|s| json!({"latitude": s.latitude, "longitude": s.longitude, "relevantText": s.name}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(id: &str, name: &str, latitude: f64, longitude: f64) -> ShopRecord {
        ShopRecord {
            id: id.into(),
            name: name.into(),
            address: None,
            latitude,
            longitude,
            timezone: "Europe/Paris".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn names(locations: &[Value]) -> Vec<&str> {
        locations.iter().map(|l| l["relevantText"].as_str().unwrap()).collect()
    }

    #[test]
    fn distances_are_great_circle() {
        // Paris (Notre-Dame) to Lyon (Bellecour): about 392 km.
        let d = distance_km((48.8530, 2.3499), (45.7578, 4.8320));
        assert!((390.0..395.0).contains(&d), "{d}");
        assert_eq!(distance_km((10.0, 20.0), (10.0, 20.0)), 0.0);
        // Across the antimeridian: Fiji's two sides are close.
        assert!(distance_km((-17.0, 179.9), (-17.0, -179.9)) < 25.0);
    }

    #[test]
    fn home_store_first_then_nearest() {
        let stores = vec![
            store("lille-01", "Lille", 50.6292, 3.0573),
            store("lyon-01", "Lyon", 45.7640, 4.8357),
            store("marseille-01", "Marseille", 43.2965, 5.3698),
            store("paris-01", "Paris Rivoli", 48.8606, 2.3522),
            store("paris-02", "Paris Bastille", 48.8532, 2.3691),
            store("versailles-01", "Versailles", 48.8049, 2.1204),
        ];
        let got = pass_locations(&stores, Some("lyon-01"));
        assert_eq!(names(&got), ["Lyon", "Marseille", "Paris Bastille", "Paris Rivoli", "Versailles", "Lille"]);
        assert_eq!(got[0], json!({"latitude": 45.7640, "longitude": 4.8357, "relevantText": "Lyon"}));
        let got = pass_locations(&stores, Some("paris-01"));
        assert_eq!(names(&got)[..3], ["Paris Rivoli", "Paris Bastille", "Versailles"]);
    }

    #[test]
    fn at_most_ten() {
        // 15 stores along a meridian, 10 km apart; the home store is in the middle.
        let stores: Vec<ShopRecord> =
            (0..15).map(|i| store(&format!("s-{i:02}"), &format!("S{i}"), 45.0 + i as f64 * 0.09, 2.0)).collect();
        let got = pass_locations(&stores, Some("s-03"));
        assert_eq!(got.len(), MAX_PASS_LOCATIONS);
        assert_eq!(names(&got)[0], "S3");
        let mut chosen = names(&got);
        chosen.sort();
        assert_eq!(chosen, ["S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"]);
        let home = (stores[3].latitude, stores[3].longitude);
        let d: Vec<f64> = got
            .iter()
            .map(|l| distance_km(home, (l["latitude"].as_f64().unwrap(), l["longitude"].as_f64().unwrap())))
            .collect();
        assert!(d.windows(2).all(|w| w[0] <= w[1]), "nearest first: {d:?}");
    }

    #[test]
    fn without_home_store_the_first_ten_by_id() {
        let mut stores: Vec<ShopRecord> =
            (0..12).map(|i| store(&format!("s-{i:02}"), &format!("S{i}"), 45.0, 2.0 + i as f64)).collect();
        stores.reverse();
        for home in [None, Some("unknown")] {
            let got = pass_locations(&stores, home);
            assert_eq!(names(&got), ["S0", "S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"]);
        }
        assert!(pass_locations(&[], Some("s-00")).is_empty());
    }
}
