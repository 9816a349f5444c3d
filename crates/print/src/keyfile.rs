//! The secret half of a cheque-signing key, kept in a file that only its owner can read.
//!
//! The database holds public keys only: a stolen database backup cannot sign cheques. A server
//! that prints creates its key on first start; rotation writes a new key and keeps the old
//! file aside (renamed) so that an operator can audit it, while its public key keeps
//! verifying the cheques it signed.

use std::io::Write;
use std::path::{Path, PathBuf};

use passnum_core::handout::HouseholdKey;
use passnum_core::signature::{KeyId, SigningKey, generate_key};

const HEADER: &str = "passnum-signing-key-v1";
/// The instance's secret for household hashes (see passnum_core::handout::HouseholdKey).
const HOUSEHOLD_HEADER: &str = "passnum-household-key-v1";

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("fichier de clé {path} : {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("fichier de clé {0} : illisible (ce n'est pas une clé passnum de ce type)")]
    Malformed(PathBuf),
    #[error(
        "Le fichier de clé {0} est lisible par d'autres comptes que le sien (droits {1:o}) : une clé secrète ne doit l'être que par son propriétaire. Corrigez-le avec « chmod 600 {0} », puis relancez passnum."
    )]
    TooOpen(PathBuf, u32),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub fn load(path: &Path) -> Result<SigningKey, KeyFileError> {
    Ok(SigningKey::from_bytes(&load_secret(path, HEADER)?))
}

fn load_secret(path: &Path, header: &str) -> Result<[u8; 32], KeyFileError> {
    refuse_open_permissions(path)?;
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    text.trim()
        .strip_prefix(header)
        .map(str::trim)
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| KeyFileError::Malformed(path.to_path_buf()))
}

/// A secret readable by the group or by everyone may already be copied: refuse to use it
/// rather than sign with a key that is no longer secret.
fn refuse_open_permissions(path: &Path) -> Result<(), KeyFileError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode()
            & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::TooOpen(path.to_path_buf(), mode));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Writes a new key to `path`, which must not exist yet, readable by its owner only. The key
/// is written to a temporary file first and linked into place, so a process that finds the
/// file never reads it half-written.
fn create(path: &Path) -> Result<SigningKey, KeyFileError> {
    let key = generate_key(&mut rand::rng());
    create_secret(path, HEADER, &key.to_bytes())?;
    Ok(key)
}

fn create_secret(path: &Path, header: &str, secret: &[u8; 32]) -> Result<(), KeyFileError> {
    let tmp = PathBuf::from(format!(
        "{}.tmp-{}-{}",
        path.display(),
        std::process::id(),
        rand::random::<u32>()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| {
        let mut file = options.open(&tmp)?;
        writeln!(file, "{header} {}", hex::encode(secret))?;
        file.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    written.map_err(io(path))
}

/// The key in `path`, created on first use. Two processes starting together cannot both
/// create it: the second finds the complete file and reads it.
pub fn load_or_create(path: &Path) -> Result<(SigningKey, bool), KeyFileError> {
    match create(path) {
        Ok(key) => Ok((key, true)),
        Err(KeyFileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            Ok((load(path)?, false))
        }
        Err(e) => Err(e),
    }
}

/// The household secret in `path`, created on first use like the signing key. Every server
/// sharing a database needs the same file (the store checks its fingerprint).
pub fn household_key_load_or_create(path: &Path) -> Result<(HouseholdKey, bool), KeyFileError> {
    let fresh = HouseholdKey::generate();
    match create_secret(path, HOUSEHOLD_HEADER, fresh.as_bytes()) {
        Ok(()) => Ok((fresh, true)),
        Err(KeyFileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::AlreadyExists =>
        {
            Ok((
                HouseholdKey::from_bytes(load_secret(path, HOUSEHOLD_HEADER)?),
                false,
            ))
        }
        Err(e) => Err(e),
    }
}

/// Replaces the key in `path` with a new one; the old file is kept as `<path>.<kid>.retired`.
/// Returns the old key's id and the new key.
pub fn rotate(path: &Path) -> Result<(Option<KeyId>, SigningKey), KeyFileError> {
    let old = match load(path) {
        Ok(k) => {
            let kid = KeyId::of(&k.verifying_key());
            let aside = PathBuf::from(format!("{}.{}.retired", path.display(), kid.as_str()));
            std::fs::rename(path, &aside).map_err(io(path))?;
            Some(kid)
        }
        Err(KeyFileError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            None
        }
        Err(e) => return Err(e),
    };
    Ok((old, create(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_household_key_is_created_once_and_is_not_a_signing_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("household.key");
        let (k1, created) = household_key_load_or_create(&path).unwrap();
        assert!(created);
        let (k2, created) = household_key_load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(k1.fingerprint(), k2.fingerprint());
        assert!(matches!(load(&path), Err(KeyFileError::Malformed(_))));
    }

    #[test]
    fn created_once_private_and_rotated_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        let (k1, created) = load_or_create(&path).unwrap();
        assert!(created);
        let (again, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again.to_bytes(), k1.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only: {mode:o}");
        }
        let (old, k2) = rotate(&path).unwrap();
        assert_eq!(old, Some(KeyId::of(&k1.verifying_key())));
        assert_ne!(k2.to_bytes(), k1.to_bytes());
        assert_eq!(load(&path).unwrap().to_bytes(), k2.to_bytes());
        let kid = KeyId::of(&k1.verifying_key());
        let aside = dir
            .path()
            .join(format!("signing.key.{}.retired", kid.as_str()));
        assert_eq!(load(&aside).unwrap().to_bytes(), k1.to_bytes());
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(load(&path), Err(KeyFileError::Malformed(_))));
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_or_create(&path).unwrap_err();
        assert!(matches!(e, KeyFileError::TooOpen(_, 0o644)), "{e}");
        assert!(e.to_string().contains("chmod 600"), "{e}");
        let household = dir.path().join("household.key");
        household_key_load_or_create(&household).unwrap();
        std::fs::set_permissions(&household, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(
            household_key_load_or_create(&household),
            Err(KeyFileError::TooOpen(..))
        ));
    }
}
