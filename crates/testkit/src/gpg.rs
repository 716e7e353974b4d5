//! Throwaway OpenPGP signing keys made by GnuPG, as an upstream's release tooling makes its
//! signatures: detached binary (`gpg --detach-sign`, Arch's `.iso.sig`), detached armoured
//! (`--armor --detach-sign`, Ubuntu's `SHA256SUMS.gpg`, Debian's `.sign`) and clearsigned
//! (`--clearsign`, Fedora's `CHECKSUM`).
//!
//! Besides a plain ed25519 primary key, [`TestKey::with_signing_subkey`] adds a signing
//! subkey bound to the primary (signatures by it must count for the pinned primary) and
//! [`TestKey::expired`] makes a key that was valid for a day in 2025 and has been expired
//! since (made and used with GnuPG's `--faked-system-time`).

use std::path::Path;
use std::process::Command;

/// When [`TestKey::expired`]'s key is made and signs: 2025-01-01 12:00 UTC.
const EXPIRED_KEY_TIME: &str = "20250101T120000!";

/// A throwaway OpenPGP signing key (ed25519, no passphrase) in its own GnuPG home; its agent
/// is stopped when it is dropped.
pub struct TestKey {
    home: tempfile::TempDir,
    /// The primary key's fingerprint, 40 uppercase hex digits.
    pub fingerprint: String,
    /// The signing subkey's fingerprint, when the key has one; signatures are made with it.
    pub subkey: Option<String>,
    /// Signs at this faked time (GnuPG refuses to sign with a key expired *now*).
    faked_time: Option<&'static str>,
}

impl TestKey {
    /// A new key whose user id names `who`, signing with its primary key.
    pub fn new(who: &str) -> TestKey {
        TestKey::make(who, "never", None)
    }

    /// A key whose primary only certifies and whose signatures are made by a signing subkey
    /// bound to it (with its back-signature), as long-lived release keys often are.
    pub fn with_signing_subkey(who: &str) -> TestKey {
        let mut key = TestKey::make(who, "never", None);
        let added = key
            .command()
            .args(["--passphrase", "", "--quick-add-key", &key.fingerprint])
            .args(["ed25519", "sign", "never"])
            .output()
            .expect("gpg adds a subkey");
        assert!(added.status.success(), "{added:?}");
        let subkeys = key.fingerprints();
        assert_eq!(subkeys.len(), 2, "a primary and one subkey: {subkeys:?}");
        key.subkey = Some(subkeys[1].clone());
        key
    }

    /// A key that expired a day after it was made, on 2025-01-02; its signatures are made at
    /// the time it was still valid.
    pub fn expired(who: &str) -> TestKey {
        TestKey::make(who, "1d", Some(EXPIRED_KEY_TIME))
    }

    fn make(who: &str, expiry: &str, faked_time: Option<&'static str>) -> TestKey {
        let home = tempfile::tempdir().expect("temp dir");
        let mut key = TestKey {
            home,
            fingerprint: String::new(),
            subkey: None,
            faked_time,
        };
        let made = key
            .command()
            .args(["--passphrase", "", "--quick-gen-key"])
            .arg(format!("repack test {who} <{who}@test.invalid>"))
            .args(["ed25519", "sign", expiry])
            .output()
            .expect("gpg is installed");
        assert!(made.status.success(), "{made:?}");
        key.fingerprint = key
            .fingerprints()
            .into_iter()
            .next()
            .expect("the new key has a fingerprint");
        assert_eq!(key.fingerprint.len(), 40, "{}", key.fingerprint);
        key
    }

    /// The fingerprints of the key and its subkeys, primary first.
    fn fingerprints(&self) -> Vec<String> {
        let listed = self
            .command()
            .args(["--with-colons", "--list-keys"])
            .output()
            .expect("gpg lists keys");
        String::from_utf8(listed.stdout)
            .expect("gpg prints UTF-8")
            .lines()
            .filter_map(|line| line.strip_prefix("fpr:"))
            .map(|rest| rest.trim_matches(':').to_owned())
            .collect()
    }

    /// The armoured public key (primary and subkeys with their bindings).
    pub fn public_key(&self) -> Vec<u8> {
        self.gpg_output(&["--armor", "--export", &self.fingerprint], None)
    }

    /// Writes the public key into `dir` as `<name>.asc` (the key directories' layout).
    pub fn export_to(&self, dir: &Path, name: &str) {
        std::fs::create_dir_all(dir).expect("key directory");
        std::fs::write(dir.join(format!("{name}.asc")), self.public_key()).expect("key written");
    }

    /// A detached signature over `data`: binary (`gpg --detach-sign`, Arch's `.iso.sig`) or
    /// armoured (`--armor --detach-sign`, Ubuntu's `SHA256SUMS.gpg`).
    pub fn detach_sign(&self, data: &[u8], armour: bool) -> Vec<u8> {
        let mut args = vec!["--detach-sign"];
        if armour {
            args.insert(0, "--armor");
        }
        self.gpg_output(&args, Some(data))
    }

    /// `data` clearsigned (`gpg --clearsign`, Fedora's CHECKSUM).
    pub fn clearsign(&self, data: &[u8]) -> Vec<u8> {
        self.gpg_output(&["--clearsign"], Some(data))
    }

    fn command(&self) -> Command {
        let mut command = Command::new("gpg");
        command.arg("--homedir").arg(self.home.path()).args([
            "--batch",
            "--quiet",
            "--pinentry-mode",
            "loopback",
        ]);
        if let Some(time) = self.faked_time {
            command.args(["--faked-system-time", time, "--ignore-time-conflict"]);
        }
        command
    }

    /// Runs gpg in this key's home with `args`, `input` (if any) as a file argument, and
    /// returns what it wrote.
    fn gpg_output(&self, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
        let output = self.home.path().join("output");
        let _ = std::fs::remove_file(&output);
        let mut command = self.command();
        // The `!` makes GnuPG use exactly that (sub)key instead of picking one.
        let signer = match &self.subkey {
            Some(subkey) => format!("{subkey}!"),
            None => self.fingerprint.clone(),
        };
        command.arg("--local-user").arg(signer);
        command.arg("--output").arg(&output).args(args);
        if let Some(data) = input {
            let file = self.home.path().join("input");
            std::fs::write(&file, data).expect("input written");
            command.arg(&file);
        }
        let ran = command.output().expect("gpg runs");
        assert!(ran.status.success(), "{ran:?}");
        std::fs::read(&output).expect("gpg wrote its output")
    }
}

impl Drop for TestKey {
    fn drop(&mut self) {
        // The agent gpg started for this home only.
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--kill", "all"])
            .output();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify(key: &TestKey, data: &[u8], signature: &[u8]) -> std::process::Output {
        let home = tempfile::tempdir().unwrap();
        let import = |args: &[&str]| {
            let mut command = Command::new("gpg");
            command
                .arg("--homedir")
                .arg(home.path())
                .args(["--batch", "--quiet"])
                .args(args);
            command
        };
        std::fs::write(home.path().join("key.asc"), key.public_key()).unwrap();
        std::fs::write(home.path().join("data"), data).unwrap();
        std::fs::write(home.path().join("data.sig"), signature).unwrap();
        let imported = import(&["--import"])
            .arg(home.path().join("key.asc"))
            .output()
            .unwrap();
        assert!(imported.status.success(), "{imported:?}");
        let verified = import(&["--status-fd", "1", "--verify"])
            .arg(home.path().join("data.sig"))
            .arg(home.path().join("data"))
            .output()
            .unwrap();
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(home.path())
            .args(["--kill", "all"])
            .output();
        verified
    }

    #[test]
    fn a_subkey_signs_for_its_primary() {
        let key = TestKey::with_signing_subkey("subkey");
        let subkey = key.subkey.clone().unwrap();
        assert_ne!(subkey, key.fingerprint);
        let signature = key.detach_sign(b"list", false);
        let verified = verify(&key, b"list", &signature);
        let status = String::from_utf8_lossy(&verified.stdout);
        // VALIDSIG <signing key fpr> ... <primary key fpr>
        let valid = status
            .lines()
            .find(|line| line.contains("VALIDSIG"))
            .unwrap_or_else(|| panic!("no VALIDSIG: {status}"));
        assert!(valid.contains(&subkey), "{valid}");
        assert!(valid.ends_with(&key.fingerprint), "{valid}");
    }

    #[test]
    fn an_expired_key_signed_while_it_was_valid() {
        let key = TestKey::expired("expired");
        let signature = key.detach_sign(b"list", true);
        let verified = verify(&key, b"list", &signature);
        let status = String::from_utf8_lossy(&verified.stdout);
        assert!(
            status.contains("EXPKEYSIG") || status.contains("KEYEXPIRED"),
            "{status}"
        );
    }
}
