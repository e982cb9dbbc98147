//! Standard base64 (RFC 4648 §4), the encoding every C2SP format uses.

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;

/// Encodes bytes as standard, padded base64.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    BASE64_STANDARD.encode(bytes)
}

/// Appends the standard, padded base64 of `bytes` to `out`, with no
/// string in between (a sealed body's ciphertext is hundreds of KB).
pub fn encode_into(bytes: &[u8], out: &mut Vec<u8>) {
    let at = out.len();
    let len = base64::encoded_len(bytes.len(), true).expect("fits in memory, so in usize");
    out.resize(at + len, 0);
    let written = BASE64_STANDARD
        .encode_slice(bytes, &mut out[at..])
        .expect("room for exactly the encoded length");
    debug_assert_eq!(written, len);
}

/// Decodes standard, padded base64; `None` if it is not exactly that.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    BASE64_STANDARD.decode(text).ok()
}

/// Decodes standard base64 into a fixed-size array; `None` on any mismatch.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode(text)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn encode_into_appends_what_encode_returns() {
        for len in 0..8 {
            let bytes: Vec<u8> = (0..len).map(|i| i * 37).collect();
            let mut out = b"prefix".to_vec();
            super::encode_into(&bytes, &mut out);
            assert_eq!(
                out,
                [b"prefix".as_slice(), super::encode(&bytes).as_bytes()].concat()
            );
        }
    }
}
