//! Webhook notifications: which endpoint wants which signal, how a payload is signed and
//! verified, and when a failed delivery is tried again.
//!
//! A payload is signed with HMAC-SHA256 under the endpoint's secret over `"{t}.{body}"`, `t`
//! being the unix second of sending, and sent in the header
//! `X-HealthCity-Signature: t=<t>,v1=<hex>`. The receiver recomputes the MAC, compares in
//! constant time, and refuses a `t` too far from its clock (replays).
//!
//! ```
//! use hc_surveillance::notify::{sign, verify};
//! let header = sign(b"s3cret", 1_700_000_000, br#"{"kind":"signal"}"#);
//! assert!(verify(b"s3cret", &header, br#"{"kind":"signal"}"#, 1_700_000_010, 300).is_ok());
//! ```

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Alert;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-HealthCity-Signature";

/// Delivery attempts after which a notification is given up (left undelivered, with its last
/// error, for an operator to see).
pub const MAX_ATTEMPTS: i64 = 12;

/// The first retry waits this long; each further one twice as long as the one before.
pub const FIRST_RETRY_SECONDS: i64 = 30;

/// No retry waits longer than this.
pub const MAX_RETRY_SECONDS: i64 = 6 * 3600;

/// The signature header value for `body` sent at unix second `t`.
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(mac(secret, t, body)))
}

fn mac(secret: &[u8], t: i64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; the error cannot occur.
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret) else {
        return Vec::new();
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

/// Why a signature is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<int>,v1=<hex>`.
    #[error("malformed signature header")]
    Malformed,
    /// `t` is further from now than the tolerance.
    #[error("signature timestamp outside the tolerance")]
    Stale,
    /// The MAC does not match.
    #[error("signature mismatch")]
    Mismatch,
}

/// Checks `header` against `body` and `secret`, with `t` at most `tolerance` seconds from
/// `now`. Any `v1=` entry that matches is enough (a sender rotating secrets may send two).
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut macs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => macs.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if macs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > tolerance {
        return Err(SignatureError::Stale);
    }
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret) else {
        return Err(SignatureError::Mismatch);
    };
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    if macs
        .iter()
        .any(|given| m.clone().verify_slice(given).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Seconds to wait before attempt `attempts + 1`, after `attempts` failed ones (≥ 1):
/// 30 s, 1 min, 2 min, … doubling up to 6 h.
pub fn backoff(attempts: i64) -> i64 {
    let n = (attempts.max(1) - 1).min(20) as u32;
    FIRST_RETRY_SECONDS
        .saturating_mul(1_i64 << n)
        .min(MAX_RETRY_SECONDS)
}

/// Whether an endpoint for alerts of at least `min_alert` in the subtree `area_prefix` (empty:
/// the whole city) wants a signal or event of `alert` in `area`.
pub fn wants(min_alert: Alert, area_prefix: &str, alert: Alert, area: &str) -> bool {
    alert >= min_alert && area.starts_with(area_prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let body = br#"{"kind":"signal","id":7,"alert":"orange","area_code":"440305001001"}"#;
        let h = sign(b"k", 1000, body);
        assert!(h.starts_with("t=1000,v1="), "{h}");
        assert_eq!(h.len(), "t=1000,v1=".len() + 64);
        assert_eq!(verify(b"k", &h, body, 1100, 300), Ok(()));
        assert_eq!(
            verify(b"other", &h, body, 1100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"k", &h, b"{}", 1100, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"k", &h, body, 2000, 300),
            Err(SignatureError::Stale)
        );
        // Moving the timestamp invalidates the MAC: t is signed.
        let moved = h.replacen("t=1000", "t=1900", 1);
        assert_eq!(
            verify(b"k", &moved, body, 2000, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"k", "v1=zz", body, 1000, 300),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"k", "t=1000", body, 1000, 300),
            Err(SignatureError::Malformed)
        );
        // Two MACs during a key rotation: one matching is enough.
        let old = sign(b"old", 1000, body);
        let both = format!("{old},v1={}", h.split("v1=").nth(1).unwrap());
        assert_eq!(verify(b"k", &both, body, 1000, 300), Ok(()));
    }

    #[test]
    fn a_known_vector() {
        // python3 -c "import hmac, hashlib; print(hmac.new(b'secret', b'1700000000.hello', hashlib.sha256).hexdigest())"
        assert_eq!(
            sign(b"secret", 1_700_000_000, b"hello"),
            "t=1700000000,v1=47b1df0ab12338b2685470b0d2b37033add7c3b2bc8172f313e77413f1bb78c8"
        );
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let waits: Vec<i64> = (1..=6).map(backoff).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960]);
        assert_eq!(backoff(11), MAX_RETRY_SECONDS);
        assert_eq!(backoff(100), MAX_RETRY_SECONDS);
        assert_eq!(backoff(0), 30);
    }

    #[test]
    fn endpoints_take_their_area_and_colours() {
        assert!(wants(Alert::Yellow, "", Alert::Red, "440305001001"));
        assert!(wants(Alert::Yellow, "440305", Alert::Yellow, "440305001"));
        assert!(!wants(Alert::Orange, "440305", Alert::Yellow, "440305001"));
        assert!(!wants(Alert::Blue, "440306", Alert::Red, "440305001"));
    }
}
