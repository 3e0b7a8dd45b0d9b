//! Reading and writing cookies (the few this server sets: sign-up nonces, console sessions).

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The value of cookie `name` in the request, if any.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: `HttpOnly` always, `Secure` when the public URL is https; `max_age`
/// `None` is a browser-session cookie, `Some(0)` deletes it.
pub fn set(name: &str, value: &str, path: &str, max_age: Option<u64>, same_site: &str, secure: bool) -> String {
    let max_age = max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}{max_age}; HttpOnly; SameSite={same_site}{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others_and_written_with_its_flags() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; passerelle_session=abc; b=2".parse().unwrap());
        assert_eq!(get(&headers, "passerelle_session"), Some("abc"));
        assert_eq!(get(&headers, "passerelle"), None);
        assert_eq!(set("s", "v", "/console", None, "Lax", true), "s=v; Path=/console; HttpOnly; SameSite=Lax; Secure");
        assert_eq!(set("s", "", "/", Some(0), "Strict", false), "s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    }
}
