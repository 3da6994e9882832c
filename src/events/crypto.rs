//! The cryptography of pushed events: the signature over the raw body, and AES-256-CBC
//! decryption with strict PKCS#7. Comparisons of secrets take constant time.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// Why an encrypted body could not be decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecryptError {
    #[error("the encrypted body is not base64")]
    Base64,
    #[error("the encrypted body is shorter than one IV and one block")]
    Short,
    #[error("the ciphertext is not a whole number of blocks, or its padding is wrong")]
    Padding,
}

/// The AES-256 key of an Encrypt Key: its SHA-256.
pub(crate) fn aes_key(encrypt_key: &str) -> [u8; 32] {
    Sha256::digest(encrypt_key.as_bytes()).into()
}

/// The bytes of `encrypt`, the base64 of a 16-byte IV and the ciphertext.
pub(crate) fn decode(encrypt: &[u8]) -> Result<Vec<u8>, DecryptError> {
    base64::engine::general_purpose::STANDARD
        .decode(encrypt)
        .map_err(|_| DecryptError::Base64)
}

/// A decrypted body: the decoded buffer, IV included, and where the plaintext ends in it.
/// The plaintext stays where it was decrypted: moving it 16 bytes down would copy it all.
pub(crate) struct Decrypted {
    data: Vec<u8>,
    end: usize,
}

impl Decrypted {
    /// The plaintext.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.data[IV_LEN..self.end]
    }
}

const IV_LEN: usize = 16;

/// Decrypts `data` (a 16-byte IV and the ciphertext, as [`decode`] gives them) under `key`,
/// in place.
pub(crate) fn decrypt(key: &[u8; 32], mut data: Vec<u8>) -> Result<Decrypted, DecryptError> {
    if data.len() < 2 * IV_LEN {
        return Err(DecryptError::Short);
    }
    let (iv, ciphertext) = data.split_at_mut(IV_LEN);
    let plaintext_len = Aes256CbcDec::new(key.into(), (&*iv).into())
        .decrypt_padded_mut::<Pkcs7>(ciphertext)
        .map_err(|_| DecryptError::Padding)?
        .len();
    Ok(Decrypted {
        end: IV_LEN + plaintext_len,
        data,
    })
}

/// Whether `signature` is the lowercase hex SHA-256 of `timestamp + nonce + encrypt_key +
/// body`, compared in constant time.
pub(crate) fn signature_matches(
    timestamp: &[u8],
    nonce: &[u8],
    encrypt_key: &[u8],
    body: &[u8],
    signature: &[u8],
) -> bool {
    let digest = Sha256::new()
        .chain_update(timestamp)
        .chain_update(nonce)
        .chain_update(encrypt_key)
        .chain_update(body)
        .finalize();
    let mut expected = [0u8; 64];
    hex_lower(&digest, &mut expected);
    expected.ct_eq(signature).into()
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
pub(crate) fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

fn hex_lower(bytes: &[u8], out: &mut [u8; 64]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_s_documented_example_decrypts() {
        let data = decode(b"P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=").unwrap();
        let plain = decrypt(&aes_key("test key"), data).unwrap();
        assert_eq!(plain.as_bytes(), b"hello world");
    }

    #[test]
    fn refusals_are_typed() {
        let key = aes_key("k");
        assert_eq!(decode(b"%%%").err(), Some(DecryptError::Base64));
        assert_eq!(decrypt(&key, b"short".to_vec()).err(), Some(DecryptError::Short));
        // 16 bytes of IV and 17 of ciphertext: not whole blocks.
        assert_eq!(decrypt(&key, vec![0u8; 33]).err(), Some(DecryptError::Padding));
    }

    #[test]
    fn signatures_compare_whole() {
        let sig = {
            let mut out = [0u8; 64];
            hex_lower(&Sha256::digest(b"tnkbody"), &mut out);
            out
        };
        assert!(signature_matches(b"t", b"n", b"k", b"body", &sig));
        assert!(!signature_matches(b"t", b"n", b"k", b"body", &sig[..63]));
        assert!(!signature_matches(b"t", b"n", b"k", b"bodx", &sig));
        assert!(secrets_equal(b"v-1", b"v-1") && !secrets_equal(b"v-1", b"v-2"));
    }
}
