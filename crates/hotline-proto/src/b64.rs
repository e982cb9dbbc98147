//! Standard base64 (RFC 4648 §4), the encoding every C2SP format uses.

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;

/// Encodes bytes as standard, padded base64.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    BASE64_STANDARD.encode(bytes)
}

/// Decodes standard, padded base64; `None` if it is not exactly that.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    BASE64_STANDARD.decode(text).ok()
}

/// Decodes standard base64 into a fixed-size array; `None` on any mismatch.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    decode(text)?.try_into().ok()
}
