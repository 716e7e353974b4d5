use crate::support::{self, fresh};
use repack_catalog::{Catalog, CatalogError};

#[tokio::test]
async fn creates_the_file_and_uses_wal() {
    let test = fresh().await;
    assert!(test.path.exists());
    let mut conn = support::raw(&test).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

/// The schema itself keeps `current_builds` honest: no pointer to a missing build, and no
/// pointer from one (recipe, arch) to a build of another.
#[tokio::test]
async fn the_schema_refuses_dangling_or_mismatched_current_pointers() {
    let test = fresh().await;
    let arm = support::build("debian-live", repack_core::Arch::Arm64, "12.8.0", "arm");
    test.catalog.publish_build(&arm).await.unwrap();
    let mut conn = support::raw(&test).await;
    let insert = |recipe: &str, arch: &str, id: &str| {
        format!(
            "INSERT INTO current_builds (recipe, arch, build_id, updated_at) \
             VALUES ('{recipe}', '{arch}', '{id}', '2026-01-01T00:00:00.000000Z')"
        )
    };
    let dangling = insert("ghost", "x86_64", &"0".repeat(64));
    let result = sqlx::query(sqlx::AssertSqlSafe(dangling))
        .execute(&mut conn)
        .await;
    assert!(result.is_err(), "dangling current pointer accepted");
    let mismatched = insert("debian-live", "x86_64", &arm.id().to_hex());
    let result = sqlx::query(sqlx::AssertSqlSafe(mismatched))
        .execute(&mut conn)
        .await;
    assert!(result.is_err(), "x86_64 pointer to an arm64 build accepted");
}

#[tokio::test]
async fn reopening_keeps_data_and_a_missing_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let absolute = format!("sqlite://{}", dir.path().join("a.db").display());
    assert!(absolute.starts_with("sqlite:///"));
    let catalog = Catalog::open(&absolute).await.unwrap();
    catalog
        .publish_build(&support::build(
            "debian-live",
            repack_core::Arch::X86_64,
            "12.8.0",
            "a",
        ))
        .await
        .unwrap();
    catalog.close().await;
    // Reopening runs the (already applied) migrations again and keeps the data.
    let reopened = Catalog::open(&absolute).await.unwrap();
    assert_eq!(reopened.current_builds().await.unwrap().len(), 1);

    // (Relative URLs are covered by the backend's unit tests, without changing the working
    // directory of the test process.) A missing directory is not created:
    let error = Catalog::open("sqlite://does-not-exist-dir/x.db")
        .await
        .unwrap_err();
    assert!(matches!(error, CatalogError::Open { .. }), "{error:?}");
    assert_eq!(error.kind(), "catalog-open");
}

#[tokio::test]
async fn postgres_and_unknown_schemes_are_refused_clearly() {
    let error = Catalog::open("postgres://user:secret@db/repack")
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("PostgreSQL is not supported yet"),
        "{message}"
    );
    assert!(!message.contains("secret"), "password leaked: {message}");
    let error = Catalog::open("mysql://db/repack").await.unwrap_err();
    assert!(matches!(error, CatalogError::InvalidUrl { .. }));
    let error = Catalog::open("catalog.db").await.unwrap_err();
    assert_eq!(error.kind(), "catalog-invalid-url");
}
