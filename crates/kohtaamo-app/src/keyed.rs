//! Keyed hashes (HMAC-SHA256 with an installation secret or a webhook's secret): the
//! one place that makes them — pseudonyms of identifiers, the deletion ledger's keys,
//! link tokens, form signatures, webhook signatures.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The lowercase hex of HMAC-SHA256 with `key` over `parts`, one after another
/// (64 hex digits; a link token takes the first 32, 128 bits).
pub fn hmac_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    for p in parts {
        m.update(p);
    }
    hex::encode(m.finalize().into_bytes())
}

/// The first 128 bits of [`hmac_hex`] (32 hex digits): the unguessable part of a link.
pub fn token_hex(key: &[u8], parts: &[&[u8]]) -> String {
    let mut h = hmac_hex(key, parts);
    h.truncate(32);
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_rfc_4231_test_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            hmac_hex(b"Jefe", &[b"what do ya want ", b"for nothing?"]),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            token_hex(b"Jefe", &[b"what do ya want for nothing?"]),
            "5bdcc146bf60754e6a042426089575c7"
        );
    }
}
