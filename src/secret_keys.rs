//! One server secret (`PASSERELLE_SECRET_KEY`), a key per purpose derived from it with
//! HKDF-SHA256 (RFC 5869): a key leaked or broken for one use opens no other.

use anyhow::Result;
use openssl::md::Md;
use openssl::pkey::Id;
use openssl::pkey_ctx::PkeyCtx;

use crate::secret::Secret;

/// What a derived key is for; the label is the HKDF `info`, so it never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Signs the sign-up forms' tokens (`/join`).
    FormToken,
    /// Keys the lookup HMACs of receipts waiting for their owner's contact.
    ReceiptContact,
    /// Signs receipt barcodes.
    ReceiptBarcode,
    /// Signs the ticket between a console password and its second factor.
    SignInTicket,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::FormToken => b"passerelle/form-token/v1",
            Self::ReceiptContact => b"passerelle/receipt-contact/v1",
            Self::ReceiptBarcode => b"passerelle/receipt-barcode/v1",
            Self::SignInTicket => b"passerelle/sign-in-ticket/v1",
        }
    }
}

/// The process's secret, from which every purpose's key is derived.
pub struct SecretKeys {
    master: Vec<u8>,
    /// Whether the secret was configured (false: drawn at random for this process).
    configured: bool,
}

impl SecretKeys {
    /// From `PASSERELLE_SECRET_KEY`; unset (allowed only with an http public URL, see
    /// `Config::validate`) a random secret of this process, with a warning.
    pub fn from_config(secret: Option<&Secret>) -> Result<Self> {
        match secret.map(Secret::expose).filter(|s| !s.is_empty()) {
            Some(s) => {
                if s.len() < 32 {
                    tracing::warn!("PASSERELLE_SECRET_KEY is shorter than 32 characters: use a long random value");
                }
                Ok(Self { master: s.as_bytes().to_vec(), configured: true })
            }
            None => {
                tracing::warn!(
                    "PASSERELLE_SECRET_KEY is unset: a random secret was drawn for this process, so sign-up forms \
                     opened before a restart or served by another process are refused, and receipts waiting for \
                     their owner stop linking after a restart; set it, the same on every process, in production"
                );
                let mut master = vec![0u8; 32];
                openssl::rand::rand_bytes(&mut master)?;
                Ok(Self { master, configured: false })
            }
        }
    }

    /// The 32-byte key of one purpose.
    pub fn derive(&self, purpose: Purpose) -> [u8; 32] {
        let derive = || -> Result<[u8; 32], openssl::error::ErrorStack> {
            let mut ctx = PkeyCtx::new_id(Id::HKDF)?;
            ctx.derive_init()?;
            ctx.set_hkdf_md(Md::sha256())?;
            ctx.set_hkdf_key(&self.master)?;
            ctx.add_hkdf_info(purpose.label())?;
            let mut out = [0u8; 32];
            ctx.derive(Some(&mut out))?;
            Ok(out)
        };
        derive().expect("HKDF-SHA256 with OpenSSL")
    }

    /// The configured secret itself, for data keyed with it before keys were derived
    /// (receipts waiting since an older version); `None` when it was drawn at random.
    pub fn legacy(&self) -> Option<&[u8]> {
        self.configured.then_some(self.master.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_per_purpose_stable_per_secret() {
        let secret = Secret::new("s".repeat(40));
        let keys = SecretKeys::from_config(Some(&secret)).unwrap();
        let all = [Purpose::FormToken, Purpose::ReceiptContact, Purpose::ReceiptBarcode, Purpose::SignInTicket]
            .map(|p| keys.derive(p));
        assert_ne!(all[0], all[1]);
        assert_ne!(all[1], all[2]);
        assert_ne!(all[0], all[2]);
        assert!(all.iter().all(|k| k.as_slice() != secret.expose().as_bytes()), "never the secret itself");
        let again = SecretKeys::from_config(Some(&secret)).unwrap();
        assert_eq!(again.derive(Purpose::FormToken), all[0], "the same secret, the same keys");
        let other = SecretKeys::from_config(Some(&Secret::new("t".repeat(40)))).unwrap();
        assert_ne!(other.derive(Purpose::FormToken), all[0]);
        assert_eq!(keys.legacy(), Some(secret.expose().as_bytes()));
        let random = SecretKeys::from_config(None).unwrap();
        assert!(random.legacy().is_none());
        assert_ne!(random.derive(Purpose::FormToken), all[0]);
    }
}
