//! Test builders: a fresh catalogue and consistent manifests.

use repack_catalog::{Catalog, NewBuild};
use repack_core::{
    Arch, BootFamilyKind, BuildKey, FORMAT_VERSION, FileRole, Manifest, ManifestFile, ManifestPart,
    Sha256Digest, SourceIso,
};
use tempfile::TempDir;

/// A catalogue on a new file; keep the `TempDir` alive for the test's duration.
pub struct TestCatalog {
    pub catalog: Catalog,
    pub url: String,
    pub path: std::path::PathBuf,
    _dir: TempDir,
}

pub async fn fresh() -> TestCatalog {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("catalog.db");
    let url = format!("sqlite://{}", path.display());
    let catalog = Catalog::open(&url).await.expect("open a fresh catalogue");
    TestCatalog {
        catalog,
        url,
        path,
        _dir: dir,
    }
}

/// A raw connection to the same file, for inspecting or sabotaging the database.
pub async fn raw(test: &TestCatalog) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    sqlx::SqliteConnection::connect(&test.url)
        .await
        .expect("raw connection")
}

fn file(name: &str, role: FileRole, size: u64) -> ManifestFile {
    let sha256 = Sha256Digest::of(name.as_bytes());
    ManifestFile {
        name: name.to_owned(),
        role,
        size,
        sha256,
        parts: vec![ManifestPart {
            name: name.to_owned(),
            size,
            sha256,
        }],
    }
}

/// A self-consistent manifest of `recipe` `version` on `arch`; `iso` seeds the ISO digest,
/// so equal arguments give the same build key.
pub fn manifest(recipe: &str, arch: Arch, version: &str, iso: &str) -> Manifest {
    let iso_sha256 = Sha256Digest::of(iso.as_bytes());
    let recipe_hash = Sha256Digest::of(format!("recipe {recipe}").as_bytes());
    let key = BuildKey::new(iso_sha256, recipe_hash);
    Manifest {
        format_version: FORMAT_VERSION,
        recipe: recipe.to_owned(),
        name: "Test Live".to_owned(),
        os: "debian".to_owned(),
        recipe_hash,
        build_key: key.id(),
        version: version.to_owned(),
        arch,
        tag: key.tag(version),
        boot_family: BootFamilyKind::LiveBoot,
        cmdline: "boot=live fetch={base}/filesystem.squashfs".to_owned(),
        ram_mib: 2048,
        source: SourceIso {
            url: format!("https://cdimage.example/{recipe}-{version}.iso"),
            sha256: iso_sha256,
            size: 1 << 30,
        },
        files: vec![
            file("vmlinuz", FileRole::Kernel, 8 << 20),
            file("initrd", FileRole::Initrd, 40 << 20),
            file("filesystem.squashfs", FileRole::Rootfs, 900 << 20),
        ],
        repack_version: "0.1.0".to_owned(),
    }
}

/// A [`NewBuild`] published under `/srv/repack/<recipe>/<tag>`.
pub fn build(recipe: &str, arch: Arch, version: &str, iso: &str) -> NewBuild {
    let manifest = manifest(recipe, arch, version, iso);
    let location = format!("/srv/repack/{recipe}/{}", manifest.tag);
    NewBuild::new(manifest, location)
}

/// Number of rows in `table`.
pub async fn count(test: &TestCatalog, table: &str) -> i64 {
    let mut conn = raw(test).await;
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&mut conn)
        .await
        .expect("count rows")
}
