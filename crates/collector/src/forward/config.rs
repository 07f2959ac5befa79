//! `forward.json` (contract section 6): which sinks there are, with their
//! secrets resolved. Unknown keys are an error, and every error names the path of
//! the bad value (`webhooks[0].secret: ...`).

use base64::Engine as _;
use serde::Deserialize;

use super::sinks::{Auth0, Sink, SinkKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    #[serde(default)]
    webhooks: Vec<WebhookFile>,
    auth0: Option<Auth0File>,
    segment: Option<SegmentFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WebhookFile {
    url: String,
    secret: String,
    #[serde(default)]
    marketing: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Auth0File {
    domain: String,
    client_id: String,
    client_secret: String,
    #[serde(default)]
    marketing: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SegmentFile {
    write_key: String,
    url: Option<String>,
    #[serde(default)]
    marketing: bool,
}

/// Segment's identify endpoint, unless `segment.url` says otherwise.
pub const SEGMENT_URL: &str = "https://api.segment.io/v1/identify";

/// Parses `forward.json`'s text into sinks, in order: webhooks, Auth0, Segment.
pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Vec<Sink>, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let file: File = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })?;
    let mut sinks = Vec::new();
    for (i, hook) in file.webhooks.into_iter().enumerate() {
        let at = |field: &str| format!("webhooks[{i}].{field}");
        let url = checked_url(&hook.url).map_err(|e| format!("{}: {e}", at("url")))?;
        let secret = resolve(&hook.secret, &env).map_err(|e| format!("{}: {e}", at("secret")))?;
        let key = webhook_key(&secret).map_err(|e| format!("{}: {e}", at("secret")))?;
        let sink_key = format!("webhook:{url}");
        if sinks.iter().any(|s: &Sink| s.key == sink_key) {
            return Err(format!("{}: {url} is configured twice", at("url")));
        }
        sinks.push(Sink {
            key: sink_key,
            marketing: hook.marketing,
            kind: SinkKind::Webhook { url, key },
        });
    }
    if let Some(a) = file.auth0 {
        let base = auth0_base(&a.domain).map_err(|e| format!("auth0.domain: {e}"))?;
        let client_id = resolve(&a.client_id, &env).map_err(|e| format!("auth0.clientId: {e}"))?;
        let client_secret =
            resolve(&a.client_secret, &env).map_err(|e| format!("auth0.clientSecret: {e}"))?;
        sinks.push(Sink {
            key: format!("auth0:{base}"),
            marketing: a.marketing,
            kind: SinkKind::Auth0(Auth0::new(base, client_id, client_secret)),
        });
    }
    if let Some(s) = file.segment {
        let write_key =
            resolve(&s.write_key, &env).map_err(|e| format!("segment.writeKey: {e}"))?;
        let url = match &s.url {
            Some(url) => checked_url(url).map_err(|e| format!("segment.url: {e}"))?,
            None => SEGMENT_URL.to_owned(),
        };
        sinks.push(Sink {
            key: "segment".into(),
            marketing: s.marketing,
            kind: SinkKind::Segment { url, write_key },
        });
    }
    Ok(sinks)
}

/// A secret as written, or the environment variable it names as `"env:NAME"`.
fn resolve(value: &str, env: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let value = match value.strip_prefix("env:") {
        Some(name) => env(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("environment variable {name} is not set"))?,
        None => value.to_owned(),
    };
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    Ok(value)
}

/// The signing key of a Standard Webhooks secret: the base64 after `whsec_`.
fn webhook_key(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret
        .strip_prefix("whsec_")
        .ok_or("must start with whsec_ (a Standard Webhooks secret)")?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| format!("the part after whsec_ is not base64: {e}"))?;
    if key.len() < 16 {
        return Err("the key must be at least 16 bytes (24 base64 characters)".into());
    }
    Ok(key)
}

fn is_loopback(url: &url::Url) -> bool {
    matches!(
        url.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    )
}

/// An https URL, or http on this machine (tests, a local receiver).
fn checked_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err("http:// only for localhost or 127.0.0.1; use https://".into()),
        other => return Err(format!("scheme {other:?} is not https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold a user name or password".into());
    }
    Ok(url.to_string())
}

/// `acme.eu.auth0.com` becomes `https://acme.eu.auth0.com`; a full
/// `https://...` (or `http://127.0.0.1:PORT` for tests) is kept, without a path.
fn auth0_base(domain: &str) -> Result<String, String> {
    let raw = if domain.contains("://") {
        domain.to_owned()
    } else {
        format!("https://{domain}")
    };
    let url = url::Url::parse(&raw).map_err(|e| format!("{domain:?} is not a domain: {e}"))?;
    checked_url(&raw)?;
    if url.path() != "/" || url.query().is_some() {
        return Err(format!("{domain:?}: a domain only, no path"));
    }
    let host = url.host_str().ok_or("no host")?;
    Ok(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "SET").then(|| "from-env".to_owned())
    }

    const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn a_full_file_parses_in_order() {
        let text = format!(
            r#"{{ "webhooks": [{{ "url": "https://crm.example.com/h", "secret": "{KEY}", "marketing": true }}],
                 "auth0": {{ "domain": "acme.eu.auth0.com", "clientId": "id", "clientSecret": "env:SET" }},
                 "segment": {{ "writeKey": "env:SET", "marketing": true }} }}"#
        );
        let sinks = parse(&text, env).unwrap();
        let keys: Vec<_> = sinks.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "webhook:https://crm.example.com/h",
                "auth0:https://acme.eu.auth0.com",
                "segment"
            ]
        );
        assert!(sinks[0].marketing && !sinks[1].marketing && sinks[2].marketing);
    }

    #[test]
    fn errors_name_the_path() {
        let bad = |text: &str| parse(text, env).err().unwrap();
        assert!(bad(r#"{ "webhook": [] }"#).contains("unknown field `webhook`"));
        assert!(
            bad(r#"{ "webhooks": [{ "url": "https://x.example", "secret": 3 }] }"#)
                .starts_with("webhooks[0].secret: ")
        );
        let missing = bad(r#"{ "segment": { "writeKey": "env:NOT_SET_ANYWHERE" } }"#);
        assert_eq!(
            missing,
            "segment.writeKey: environment variable NOT_SET_ANYWHERE is not set"
        );
        assert!(
            bad(r#"{ "webhooks": [{ "url": "http://crm.example.com", "secret": "x" }] }"#)
                .starts_with("webhooks[0].url: http:// only for localhost")
        );
        assert!(
            bad(r#"{ "webhooks": [{ "url": "https://a.example", "secret": "nope" }] }"#)
                .starts_with("webhooks[0].secret: must start with whsec_")
        );
        assert!(bad(
            r#"{ "auth0": { "domain": "a.example/x", "clientId": "i", "clientSecret": "s" } }"#
        )
        .starts_with("auth0.domain: "));
        assert!(bad("{").contains("EOF"));
    }

    #[test]
    fn auth0_domains() {
        assert_eq!(
            auth0_base("acme.auth0.com").unwrap(),
            "https://acme.auth0.com"
        );
        assert_eq!(
            auth0_base("http://127.0.0.1:9000").unwrap(),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            auth0_base("https://acme.auth0.com/").unwrap(),
            "https://acme.auth0.com"
        );
    }
}
