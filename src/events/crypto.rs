//! The cryptography of pushed events: the signature over the raw body, and AES-256-CBC
//! decryption with strict PKCS#7. Comparisons of secrets take constant time.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, InnerIvInit, KeyInit};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type Aes256CbcDec = cbc::Decryptor<aes::Aes256Dec>;

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

/// The AES-256 key of an Encrypt Key (its SHA-256), expanded once into the decryption
/// round keys, so that no push pays for the key schedule. `Debug` shows no key.
#[derive(Clone)]
pub(crate) struct AesKey(aes::Aes256Dec);

impl AesKey {
    pub(crate) fn new(encrypt_key: &str) -> Self {
        let key: [u8; 32] = Sha256::digest(encrypt_key.as_bytes()).into();
        AesKey(aes::Aes256Dec::new(&key.into()))
    }
}

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey(***)")
    }
}

/// The bytes of `encrypt`, the base64 of a 16-byte IV and the ciphertext: standard alphabet,
/// padded, canonical (as the `base64` crate's `STANDARD` engine accepts; a test holds the two
/// to the same answers).
pub(crate) fn decode(encrypt: &[u8]) -> Result<Vec<u8>, DecryptError> {
    base64_simd::STANDARD
        .decode_to_vec(encrypt)
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
pub(crate) fn decrypt(key: &AesKey, mut data: Vec<u8>) -> Result<Decrypted, DecryptError> {
    if data.len() < 2 * IV_LEN {
        return Err(DecryptError::Short);
    }
    let (iv, ciphertext) = data.split_at_mut(IV_LEN);
    let plaintext_len = Aes256CbcDec::inner_iv_init(key.0.clone(), (&*iv).into())
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
    secrets_equal(&expected, signature)
}

/// Whether two secrets are equal, in time that does not depend on where they differ (only on
/// their lengths). The bytes' differences are folded without a branch and judged once:
/// `subtle`'s slice comparison puts an optimisation barrier on every byte instead, which
/// costs more than the rest of the check on a 64-byte signature.
pub(crate) fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    difference.ct_eq(&0).into()
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
    use base64::Engine as _;
    use proptest::prelude::*;

    use super::*;

    fn vectors() -> serde_json::Value {
        serde_json::from_str(include_str!("../../tests/fixtures/events/vectors.json")).unwrap()
    }

    #[test]
    fn the_known_answers_decrypt_and_the_refusals_refuse() {
        let vectors = vectors();
        for vector in vectors["decrypt"].as_array().unwrap() {
            let key = AesKey::new(vector["encrypt_key"].as_str().unwrap());
            let data = decode(vector["encrypt"].as_str().unwrap().as_bytes()).unwrap();
            let plain = decrypt(&key, data).unwrap();
            assert_eq!(plain.as_bytes(), vector["plaintext"].as_str().unwrap().as_bytes());
        }
        for vector in vectors["must_refuse"].as_array().unwrap() {
            let Some(encrypt) = vector["encrypt"].as_str() else {
                continue;
            };
            let key = AesKey::new(vector["encrypt_key"].as_str().unwrap());
            let refused = decode(encrypt.as_bytes()).and_then(|data| decrypt(&key, data));
            assert!(refused.is_err(), "{}", vector["why"]);
        }
        for vector in vectors["signature"].as_array().unwrap() {
            let field = |name: &str| vector[name].as_str().unwrap().as_bytes();
            let signature = field("x_lark_signature");
            assert!(signature_matches(
                field("timestamp"),
                field("nonce"),
                field("encrypt_key"),
                field("body"),
                signature
            ));
        }
    }

    /// Text of base64's alphabet, padding, and a few bytes outside it, mostly of lengths
    /// near whole quanta: what the SIMD and scalar loops and the tail handling all see.
    fn base64_like() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            20 => proptest::sample::select(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".to_vec()
            ),
            2 => Just(b'='),
            1 => proptest::sample::select(b"-_ \n\r\"%\x00\xff".to_vec()),
        ];
        proptest::collection::vec(byte, 0..200)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// The SIMD decoder accepts exactly what the `base64` crate's `STANDARD` engine
        /// accepts (padding required, no stray trailing bits), with the same bytes.
        #[test]
        fn decoding_agrees_with_the_base64_crate(text in base64_like()) {
            let expected = base64::engine::general_purpose::STANDARD.decode(&text).ok();
            prop_assert_eq!(decode(&text).ok(), expected);
        }

        /// Any bytes encoded decode back, whatever their length.
        #[test]
        fn encoded_bytes_decode_back(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
            prop_assert_eq!(decode(text.as_bytes()).ok(), Some(bytes));
        }

        /// Equal only when every byte is, whatever the lengths.
        #[test]
        fn secrets_compare_as_slices_do(
            a in proptest::collection::vec(0u8..4, 0..70),
            b in proptest::collection::vec(0u8..4, 0..70),
        ) {
            prop_assert_eq!(secrets_equal(&a, &b), a == b);
        }
    }

    #[test]
    fn the_platform_s_documented_example_decrypts() {
        let data = decode(b"P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=").unwrap();
        let plain = decrypt(&AesKey::new("test key"), data).unwrap();
        assert_eq!(plain.as_bytes(), b"hello world");
    }

    #[test]
    fn refusals_are_typed() {
        let key = AesKey::new("k");
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
