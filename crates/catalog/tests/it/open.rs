use crate::support::{self, fresh};
use repack_catalog::{Backend, Catalog, CatalogError};
use repack_core::Arch;
use repack_testkit::database::{TestBackend, TestDatabase};

repack_testkit::test_on_both_backends!(
    the_url_chooses_the_backend_and_the_schema_is_migrated,
    reopening_keeps_data,
    the_schema_refuses_dangling_or_mismatched_current_pointers,
);

#[tokio::test]
async fn creates_the_sqlite_file_and_uses_wal() {
    let test = fresh(TestBackend::Sqlite).await;
    assert!(test.db.sqlite_path().unwrap().exists());
    // Every pooled connection gets the settings (Any cannot carry them in its options).
    let pool = test.catalog.database().pool();
    let mut connections = Vec::new();
    for _ in 0..3 {
        connections.push(pool.acquire().await.unwrap());
    }
    for connection in &mut connections {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **connection)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut **connection)
            .await
            .unwrap();
        assert_eq!(timeout, 30_000);
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut **connection)
            .await
            .unwrap();
        assert_eq!(foreign_keys, 1);
    }
}

async fn the_url_chooses_the_backend_and_the_schema_is_migrated(backend: TestBackend) {
    let test = fresh(backend).await;
    let expected = match backend {
        TestBackend::Sqlite => Backend::Sqlite,
        TestBackend::Postgres => Backend::Postgres,
    };
    assert_eq!(test.catalog.database().backend(), expected);
    // The catalogue's and the job queue's tables, from one migrator.
    for table in [
        "builds",
        "current_builds",
        "checks",
        "feed_state",
        "releases_seen",
        "jobs",
        "cron_cursors",
    ] {
        assert_eq!(support::count(&test, table).await, 0, "{table}");
    }
}

/// The schema itself keeps `current_builds` honest: no pointer to a missing build, and no
/// pointer from one (recipe, arch) to a build of another.
async fn the_schema_refuses_dangling_or_mismatched_current_pointers(backend: TestBackend) {
    let test = fresh(backend).await;
    let arm = support::build("debian-live", Arch::Arm64, "12.8.0", "arm");
    test.catalog.publish_build(&arm).await.unwrap();
    let insert = |recipe: &str, arch: &str, id: &str| {
        format!(
            "INSERT INTO current_builds (recipe, arch, build_id, updated_at) \
             VALUES ('{recipe}', '{arch}', '{id}', '2026-01-01T00:00:00.000000Z')"
        )
    };
    let dangling = insert("ghost", "x86_64", &"0".repeat(64));
    assert!(
        support::execute(&test, &dangling).await.is_err(),
        "dangling current pointer accepted"
    );
    let mismatched = insert("debian-live", "x86_64", &arm.id().to_hex());
    assert!(
        support::execute(&test, &mismatched).await.is_err(),
        "x86_64 pointer to an arm64 build accepted"
    );
    assert_eq!(support::count(&test, "current_builds").await, 1);
}

async fn reopening_keeps_data(backend: TestBackend) {
    let db = TestDatabase::fresh(backend).await;
    let catalog = Catalog::open(db.url()).await.unwrap();
    catalog
        .publish_build(&support::build("debian-live", Arch::X86_64, "12.8.0", "a"))
        .await
        .unwrap();
    catalog.close().await;
    // Reopening runs the (already applied) migrations again and keeps the data.
    let reopened = Catalog::open(db.url()).await.unwrap();
    assert_eq!(reopened.current_builds().await.unwrap().len(), 1);
    reopened.close().await;
}

#[tokio::test]
async fn a_missing_sqlite_directory_is_an_error() {
    // (Relative URLs are covered by the backend's unit tests, without changing the working
    // directory of the test process.) A missing directory is not created:
    let error = Catalog::open("sqlite://does-not-exist-dir/x.db")
        .await
        .unwrap_err();
    assert!(matches!(error, CatalogError::Open { .. }), "{error:?}");
    assert_eq!(error.kind(), "catalog-open");
}

/// A server that is not there fails at once with the cause (not after the pool's retries),
/// and the password is in no part of the error.
#[tokio::test]
async fn an_unreachable_postgres_server_is_reported_without_its_password() {
    // Port 1 on loopback: nothing listens there, the connection is refused.
    let url = "postgres://repack:secret@127.0.0.1:1/repack";
    let started = std::time::Instant::now();
    let error = Catalog::open(url).await.unwrap_err();
    assert!(matches!(error, CatalogError::Open { .. }), "{error:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the refused connection was retried instead of reported"
    );
    let chain = format!("{error} / {error:?}");
    assert!(
        chain.contains("postgres://***@127.0.0.1:1/repack"),
        "{chain}"
    );
    assert!(!chain.contains("secret"), "password leaked: {chain}");
}

/// A database that does not exist on a running server: the server's refusal is the cause.
#[tokio::test]
async fn a_missing_postgres_database_is_reported_with_the_servers_reason() {
    let db = TestDatabase::fresh(TestBackend::Postgres).await;
    let mut url = url::Url::parse(db.url()).unwrap();
    url.set_path("/no_such_database");
    url.set_password(Some("secret")).unwrap();
    let error = Catalog::open(url.as_str()).await.unwrap_err();
    assert_eq!(error.kind(), "catalog-open");
    let chain = format!("{error} / {:?}", std::error::Error::source(&error));
    assert!(chain.contains("no_such_database"), "{chain}");
    assert!(!chain.contains("secret"), "password leaked: {chain}");
}

#[tokio::test]
async fn unknown_schemes_are_refused_clearly() {
    let error = Catalog::open("mysql://user:secret@db/repack")
        .await
        .unwrap_err();
    assert!(matches!(error, CatalogError::InvalidUrl { .. }));
    let message = error.to_string();
    assert!(
        message.contains("unknown database scheme `mysql`"),
        "{message}"
    );
    assert!(!message.contains("secret"), "password leaked: {message}");
    let error = Catalog::open("catalog.db").await.unwrap_err();
    assert_eq!(error.kind(), "catalog-invalid-url");
}
