//! The trust cases of the compliance suite: the kind's own feed, signed the ways upstreams
//! sign, checked by the same trust step the pipeline runs ([`crate::trust`]) with keys made by
//! GnuPG for the run.
//!
//! Over the checksum list (kinds whose digest comes from a list: Ubuntu's binary
//! `SHA256SUMS.gpg`, Debian's armoured `.sign`, Fedora's clearsigned `CHECKSUM`):
//! - a list signed by the pinned primary key, or by a signing subkey bound to it, holds;
//! - a list whose digest of the candidate was changed after signing is refused
//!   (`signature-bad`), as is a signature by a key that is not pinned
//!   (`signature-unpinned-key`), one by a pinned key that has expired
//!   (`signature-key-expired`), and a missing signature;
//!
//! Over the ISO itself (every kind; Arch's and Manjaro's `.iso.sig`), downloaded through a
//! mirror rewrite with the signature checked from the bytes as they stream in:
//! - a signature by the pinned key or its bound subkey holds;
//! - bytes other than the signed ones are refused once the download ends (`signature-bad`);
//! - an unpinned or expired key is refused before the ISO is requested.
//!
//! Every refusal names the signature's URL, and nothing is requested past the failed check.

use super::{Release, Suite, chain, recipe, x86};
use crate::trust::{IsoProof, TrustFailure, before_download};
use crate::{WatchContext, WatchError, newest};
use repack_core::{Candidate, Checksum, MirrorRewrite, Sha256Digest};
use repack_fetch::{FetchConfig, Fetcher, NoopReporter};
use repack_testkit::feed::Reply;
use repack_testkit::gpg::TestKey;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// The keys of one run: each signs differently; all are in the key directory, but a recipe
/// pins only the one a case names.
struct Keys {
    primary: TestKey,
    subkeyed: TestKey,
    other: TestKey,
    expired: TestKey,
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Keys {
        let keys = Keys {
            primary: TestKey::new("compliance-primary"),
            subkeyed: TestKey::with_signing_subkey("compliance-subkey"),
            other: TestKey::new("compliance-other"),
            expired: TestKey::expired("compliance-expired"),
            dir: tempfile::tempdir().expect("key directory"),
        };
        for (name, key) in [
            ("primary", &keys.primary),
            ("subkeyed", &keys.subkeyed),
            ("other", &keys.other),
            ("expired", &keys.expired),
        ] {
            key.export_to(keys.dir.path(), &format!("{name}-{}", key.fingerprint));
        }
        keys
    }

    fn dirs(&self) -> Vec<PathBuf> {
        vec![self.dir.path().to_owned()]
    }
}

/// How a case signs: which key signs, which key the recipe pins.
struct Signing<'k> {
    signer: &'k TestKey,
    pinned: &'k TestKey,
}

/// What a case expects of the trust step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Holds,
    /// Refused with this failure kind.
    Refused(&'static str),
}

/// A list signature's format.
#[derive(Debug, Clone, Copy)]
enum ListFormat {
    /// `gpg --detach-sign` into `{list}.gpg`.
    Binary,
    /// `gpg --armor --detach-sign` into `{list}.sign`.
    Armoured,
    /// `gpg --clearsign`, served in place of the list (`signature = "{list}"`).
    Clearsigned,
}

impl Suite<'_> {
    /// Runs every trust case the kind's feed shape allows.
    pub(super) async fn trust(&self) {
        let keys = Keys::new();
        let releases = x86(&["24.04.1"]);
        let plain = self
            .check(&releases, "")
            .await
            .unwrap_or_else(|error| panic!("{}: {error}{}", self.name("trust"), chain(&error)));
        if plain.checksum_url.is_some() {
            self.list_cases(&keys, &releases).await;
        }
        self.iso_cases(&keys, &releases).await;
    }

    async fn list_cases(&self, keys: &Keys, releases: &[Release]) {
        let primary = Signing {
            signer: &keys.primary,
            pinned: &keys.primary,
        };
        let subkey = Signing {
            signer: &keys.subkeyed,
            pinned: &keys.subkeyed,
        };
        let unpinned = Signing {
            signer: &keys.other,
            pinned: &keys.primary,
        };
        let expired = Signing {
            signer: &keys.expired,
            pinned: &keys.expired,
        };
        use ListFormat::*;
        use Verdict::*;
        let cases: [(&str, ListFormat, &Signing, bool, Verdict); 7] = [
            (
                "list signed by the pinned key",
                Binary,
                &primary,
                false,
                Holds,
            ),
            (
                "list signed by a bound subkey",
                Armoured,
                &subkey,
                false,
                Holds,
            ),
            ("clearsigned list", Clearsigned, &primary, false, Holds),
            (
                "list changed after signing",
                Armoured,
                &primary,
                true,
                Refused("signature-bad"),
            ),
            (
                "clearsigned list changed after signing",
                Clearsigned,
                &primary,
                true,
                Refused("signature-bad"),
            ),
            (
                "list signed by an unpinned key",
                Binary,
                &unpinned,
                false,
                Refused("signature-unpinned-key"),
            ),
            (
                "list signed by an expired key",
                Armoured,
                &expired,
                false,
                Refused("signature-key-expired"),
            ),
        ];
        for (case, format, signing, tamper, verdict) in cases {
            self.list_case(keys, releases, case, format, signing, tamper, verdict)
                .await;
        }
        self.missing_list_signature(keys, releases).await;
    }

    #[allow(clippy::too_many_arguments)]
    async fn list_case(
        &self,
        keys: &Keys,
        releases: &[Release],
        case: &str,
        format: ListFormat,
        signing: &Signing<'_>,
        tamper: bool,
        verdict: Verdict,
    ) {
        let check = self.name(case);
        let watch = self.fixture.serve(self.server, releases);
        let discovered = self.newest_with(&watch, "").await;
        let list_url = discovered.checksum_url.clone().expect("a list");
        let list = self.body(&list_url).await;
        let genuine = discovered_digest(&discovered);
        // An attacker's ISO digest in place of the genuine one, after the signature was made.
        let forged = Sha256Digest::of(format!("forged {case}").as_bytes());
        let change = |text: &[u8]| -> Vec<u8> {
            let text = String::from_utf8(text.to_vec()).expect("a text list");
            assert!(text.contains(&genuine.to_hex()), "{check}: {text}");
            text.replace(&genuine.to_hex(), &forged.to_hex())
                .into_bytes()
        };
        let template = match format {
            ListFormat::Binary => {
                let signature = signing.signer.detach_sign(&list, false);
                self.put_at(&format!("{list_url}.gpg"), signature);
                "{list}.gpg"
            }
            ListFormat::Armoured => {
                let signature = signing.signer.detach_sign(&list, true);
                self.put_at(&format!("{list_url}.sign"), signature);
                "{list}.sign"
            }
            ListFormat::Clearsigned => {
                let signed = signing.signer.clearsign(&list);
                self.put_at(&list_url, signed);
                "{list}"
            }
        };
        if tamper {
            let served = self.body(&list_url).await;
            self.put_at(&list_url, change(&served));
        }
        let signature_url = format!(
            "{list_url}{}",
            template.strip_prefix("{list}").expect("list template")
        );
        let extra = format!(
            "signature = \"{template}\"\nkeys = [\"{}\"]",
            signing.pinned.fingerprint
        );
        let candidate = self.newest_with(&watch, &extra).await;
        assert_eq!(
            candidate.signature_url.as_deref(),
            Some(signature_url.as_str()),
            "{check}"
        );
        assert_eq!(
            candidate.signing_keys,
            vec![signing.pinned.fingerprint.clone()],
            "{check}"
        );
        if tamper {
            assert_eq!(
                discovered_digest(&candidate),
                forged,
                "{check}: the watcher reads the changed list"
            );
        }
        let expected = discovered_digest(&candidate);
        let result = before_download(self.fetcher, &candidate, expected, &keys.dirs()).await;
        let signer = signing
            .signer
            .subkey
            .as_ref()
            .unwrap_or(&signing.signer.fingerprint);
        self.judge(
            &check,
            &candidate,
            &[&signature_url, signer],
            result.map(|_| ()),
            verdict,
        );
        if verdict == Verdict::Holds {
            assert_eq!(expected, genuine, "{check}");
        }
    }

    /// A recipe that requires a signature the upstream has not put up: refused by the
    /// watcher (a version directory without its signature is not ready) or by the trust step,
    /// never downloaded.
    async fn missing_list_signature(&self, keys: &Keys, releases: &[Release]) {
        let check = self.name("list signature missing");
        let watch = self.fixture.serve(self.server, releases);
        let extra = format!(
            "signature = \"{{list}}.gpg\"\nkeys = [\"{}\"]",
            keys.primary.fingerprint
        );
        let recipe = recipe(self.fixture.kind(), &watch, &extra);
        let start = self.server.requests().len();
        match newest(&WatchContext::new(&recipe, self.fetcher)).await {
            Err(error) => {
                assert!(error.to_string().contains("compliance"), "{check}: {error}");
            }
            Ok(candidate) => {
                let signature_url = candidate.signature_url.clone().expect("a signature URL");
                let result = before_download(
                    self.fetcher,
                    &candidate,
                    discovered_digest(&candidate),
                    &keys.dirs(),
                )
                .await;
                let error = result
                    .err()
                    .unwrap_or_else(|| panic!("{check}: a missing signature was accepted"));
                assert!(
                    error.to_string().contains(&signature_url),
                    "{check}: `{error}` does not name {signature_url}"
                );
                self.nothing_downloaded(&check, &candidate, start);
            }
        }
    }

    async fn iso_cases(&self, keys: &Keys, releases: &[Release]) {
        use Verdict::*;
        let cases: [(&str, &TestKey, &TestKey, bool, Verdict); 5] = [
            (
                "ISO signed by the pinned key",
                &keys.primary,
                &keys.primary,
                false,
                Holds,
            ),
            (
                "ISO signed by a bound subkey",
                &keys.subkeyed,
                &keys.subkeyed,
                false,
                Holds,
            ),
            (
                "ISO other than the signed one",
                &keys.primary,
                &keys.primary,
                true,
                Refused("signature-bad"),
            ),
            (
                "ISO signed by an unpinned key",
                &keys.other,
                &keys.primary,
                false,
                Refused("signature-unpinned-key"),
            ),
            (
                "ISO signed by an expired key",
                &keys.expired,
                &keys.expired,
                false,
                Refused("signature-key-expired"),
            ),
        ];
        for (case, signer, pinned, other_bytes, verdict) in cases {
            self.iso_case(keys, releases, case, signer, pinned, other_bytes, verdict)
                .await;
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn iso_case(
        &self,
        keys: &Keys,
        releases: &[Release],
        case: &str,
        signer: &TestKey,
        pinned: &TestKey,
        other_bytes: bool,
        verdict: Verdict,
    ) {
        let check = self.name(case);
        let watch = self.fixture.serve(self.server, releases);
        let extra = format!(
            "signature = \"{{name}}.sig\"\nkeys = [\"{}\"]",
            pinned.fingerprint
        );
        let candidate = self.newest_with(&watch, &extra).await;
        let signature_url = candidate
            .signature_url
            .clone()
            .unwrap_or_else(|| panic!("{check}: no signature URL"));
        assert!(
            signature_url.starts_with(&candidate.iso_url),
            "{check}: {signature_url} is not beside {}",
            candidate.iso_url
        );
        // The ISO whose digest the feed lists, as the release's bytes.
        let release = releases
            .iter()
            .find(|release| release.version == candidate.version)
            .expect("the chosen release");
        let iso = iso_bytes(release);
        assert_eq!(Sha256Digest::of(&iso), release.sha256);
        let signed = if other_bytes {
            b"another image".to_vec()
        } else {
            iso.clone()
        };
        let cache = tempfile::tempdir().expect("download cache");
        let mirror = Mirror::new(self, &candidate.iso_url, cache.path());
        self.put_at(&mirror.served(&candidate.iso_url), iso);
        self.put_at(
            &mirror.served(&signature_url),
            signer.detach_sign(&signed, false),
        );

        let start = self.server.requests().len();
        let expected = discovered_digest(&candidate);
        let result =
            match before_download(&mirror.fetcher, &candidate, expected, &keys.dirs()).await {
                Err(failure) => Err(failure),
                Ok(IsoProof::None) => panic!("{check}: an ISO signature must be checked"),
                Ok(IsoProof::Signature(tap)) => {
                    let (fetched, tap) = mirror
                        .fetcher
                        .fetch_iso_with_tap(&candidate.iso_url, expected, &NoopReporter, *tap)
                        .await
                        .unwrap_or_else(|error| panic!("{check}: download: {error}"));
                    assert!(tap.saw_whole_download(), "{check}");
                    tap.finish(&fetched.path, true)
                }
            };
        if let Verdict::Refused(_) = verdict
            && !other_bytes
        {
            // Refused from the signature alone: the ISO was never asked for.
            let iso_path = self.path_of(&mirror.served(&candidate.iso_url));
            assert!(
                !self.server.requests()[start..]
                    .iter()
                    .any(|request| request.path == iso_path),
                "{check}: the ISO was requested after its signature failed"
            );
        }
        let signer_key = signer.subkey.as_ref().unwrap_or(&signer.fingerprint);
        self.judge(
            &check,
            &candidate,
            &[&signature_url, signer_key],
            result,
            verdict,
        );
    }

    /// Asserts `result` against `verdict`; a refusal names the signature's URL and the key
    /// that made it (`names`).
    fn judge(
        &self,
        check: &str,
        candidate: &Candidate,
        names: &[&str],
        result: Result<(), TrustFailure>,
        verdict: Verdict,
    ) {
        match (result, verdict) {
            (Ok(()), Verdict::Holds) => {}
            (Ok(()), Verdict::Refused(kind)) => {
                panic!("{check}: accepted, expected a `{kind}` refusal ({candidate:?})")
            }
            (Err(error), Verdict::Holds) => {
                panic!(
                    "{check}: refused: {error}{} ({})",
                    chain(&error),
                    error.kind()
                )
            }
            (Err(error), Verdict::Refused(kind)) => {
                let text = format!("{error}{}", chain(&error));
                assert_eq!(error.kind(), kind, "{check}: {text}");
                for name in names {
                    assert!(
                        text.contains(name),
                        "{check}: `{text}` does not name {name}"
                    );
                }
            }
        }
    }

    /// Asserts that nothing but feed documents and signatures was asked for since `start`.
    fn nothing_downloaded(&self, check: &str, candidate: &Candidate, start: usize) {
        let iso_path = Url::parse(&candidate.iso_url)
            .map(|url| url.path().to_owned())
            .unwrap_or_default();
        assert!(
            !self.server.requests()[start..]
                .iter()
                .any(|request| request.path == iso_path),
            "{check}: the ISO was requested"
        );
    }

    async fn newest_with(&self, watch: &str, extra: &str) -> Candidate {
        let recipe = recipe(self.fixture.kind(), watch, extra);
        newest(&WatchContext::new(&recipe, self.fetcher))
            .await
            .unwrap_or_else(|error: WatchError| {
                panic!("{}: {error}{}", self.name("trust"), chain(&error))
            })
    }

    /// The body the feed server answers at `url` (one of its own).
    async fn body(&self, url: &str) -> Vec<u8> {
        self.fetcher
            .fetch_bytes(url, 4 << 20)
            .await
            .unwrap_or_else(|error| panic!("{}: {url}: {error}", self.name("trust")))
    }

    /// Serves `body` at `url`, which must be on the feed server.
    fn put_at(&self, url: &str, body: Vec<u8>) {
        self.server.put(
            &self.path_of(url),
            Reply::with_type("application/octet-stream", body),
        );
    }

    /// The path of `url` on the feed server, as its request log spells it.
    fn path_of(&self, url: &str) -> String {
        let path = url
            .strip_prefix(self.server.base())
            .unwrap_or_else(|| panic!("{url} is not on the feed server"));
        format!("/{path}")
    }
}

/// The bytes of `release`'s ISO: the fixtures list `sha256("<version> <arch>")` for it.
fn iso_bytes(release: &Release) -> Vec<u8> {
    format!("{} {}", release.version, release.arch).into_bytes()
}

fn discovered_digest(candidate: &Candidate) -> Sha256Digest {
    match candidate.checksum {
        Checksum::Sha256(digest) => digest,
        ref other => panic!("the compliance fixtures list sha256 digests, not {other:?}"),
    }
}

/// The ISO's origin rewritten to the feed server (`<base>mirror/`), as an operator's mirror
/// rewrite would, so the fixtures' upstream URLs (on any host) download from 127.0.0.1.
struct Mirror {
    fetcher: Fetcher,
    rewrite: MirrorRewrite,
}

impl Mirror {
    fn new(suite: &Suite<'_>, iso_url: &str, cache: &Path) -> Mirror {
        let url = Url::parse(iso_url).expect("an absolute ISO URL");
        let origin = format!("{}/", url.origin().ascii_serialization());
        let rewrite = MirrorRewrite {
            from: origin,
            to: format!("{}mirror/", suite.server.base()),
        };
        let mut config = FetchConfig::new(cache);
        config.retries = 0;
        config.read_timeout = Duration::from_secs(5);
        config.rewrites = vec![rewrite.clone()];
        let fetcher = Fetcher::new(config).expect("HTTP client");
        Mirror { fetcher, rewrite }
    }

    /// Where the mirror serves `url` (an upstream URL on the ISO's origin).
    fn served(&self, url: &str) -> String {
        MirrorRewrite::apply_all(std::slice::from_ref(&self.rewrite), url)
    }
}
