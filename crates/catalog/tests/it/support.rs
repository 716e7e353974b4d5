//! Test builders: a fresh catalogue on either backend and consistent manifests.

use repack_catalog::{Catalog, NewBuild};
use repack_core::{
    Arch, BootFamilyKind, BuildKey, FORMAT_VERSION, FileRole, Manifest, ManifestFile, ManifestPart,
    Sha256Digest, SourceIso,
};
use repack_testkit::database::{TestBackend, TestDatabase};

/// A catalogue on a database of its own; keep it alive for the test's duration.
pub struct TestCatalog {
    pub catalog: Catalog,
    pub db: TestDatabase,
}

/// A freshly created and migrated catalogue on `backend`.
pub async fn fresh(backend: TestBackend) -> TestCatalog {
    let db = TestDatabase::fresh(backend).await;
    let catalog = Catalog::open(db.url())
        .await
        .unwrap_or_else(|error| panic!("open a fresh catalogue on {backend}: {error:?}"));
    TestCatalog { catalog, db }
}

/// Runs `sql` (DDL, sabotage, inspection) on the catalogue's own pool, outside its API.
pub async fn execute(test: &TestCatalog, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(test.catalog.database().pool())
        .await
        .map(drop)
}

fn file(name: &str, role: FileRole, size: u64) -> ManifestFile {
    let sha256 = Sha256Digest::of(name.as_bytes());
    ManifestFile {
        name: name.to_owned(),
        role,
        size,
        sha256: Some(sha256),
        parts: vec![ManifestPart {
            name: name.to_owned(),
            size,
            sha256,
            url: None,
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
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(test.catalog.database().pool())
        .await
        .expect("count rows")
}
