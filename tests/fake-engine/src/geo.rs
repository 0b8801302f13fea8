//! Geography for `_geo` documents: great-circle distance and polygon containment.

use serde_json::Value;

use crate::Document;

/// Mean Earth radius in meters used for the haversine formula (the value behind
/// Meilisearch's `_geoRadius` and `_geoDistance`).
const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// Haversine distance between two `[lat, lng]` points in degrees, rounded to the
/// millimetre like Meilisearch's.
pub(crate) fn distance_meters(a: [f64; 2], b: [f64; 2]) -> f64 {
    let hav = |theta: f64| (1.0 - theta.cos()) / 2.0;
    let (phi1, phi2) = (a[0].to_radians(), b[0].to_radians());
    let (lambda1, lambda2) = (a[1].to_radians(), b[1].to_radians());
    let total = hav(phi2 - phi1) + phi1.cos() * phi2.cos() * hav(lambda2 - lambda1);
    (2.0 * EARTH_RADIUS_M * total.sqrt().asin() * 1000.0).round() / 1000.0
}

/// The document's `_geo` point as `[lat, lng]`; coordinates may be numbers or numeric
/// strings, as Meilisearch accepts both.
pub(crate) fn document_point(doc: &Document) -> Option<[f64; 2]> {
    let geo = doc.get("_geo")?.as_object()?;
    let coordinate = |key: &str| match geo.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    Some([coordinate("lat")?, coordinate("lng")?])
}

/// Even-odd ray casting in the (lat, lng) plane; good enough for polygons that do not
/// cross the antimeridian.
pub(crate) fn point_in_polygon(point: [f64; 2], polygon: &[[f64; 2]]) -> bool {
    let mut inside = false;
    let mut j = polygon.len().wrapping_sub(1);
    for i in 0..polygon.len() {
        let (a, b) = (polygon[i], polygon[j]);
        if (a[1] > point[1]) != (b[1] > point[1])
            && point[0] < (b[0] - a[0]) * (point[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paris_to_lyon_is_about_392_km() {
        let d = distance_meters([48.8566, 2.3522], [45.764, 4.8357]);
        assert!((391_000.0..393_000.0).contains(&d), "{d}");
    }

    #[test]
    fn polygon_contains_its_centre_and_not_outside_points() {
        let square = [[0.0, 0.0], [0.0, 10.0], [10.0, 10.0], [10.0, 0.0]];
        assert!(point_in_polygon([5.0, 5.0], &square));
        assert!(!point_in_polygon([15.0, 5.0], &square));
    }
}
