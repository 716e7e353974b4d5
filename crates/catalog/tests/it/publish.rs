use crate::support::{self, build, fresh};
use repack_catalog::CatalogError;
use repack_core::Arch;
use repack_testkit::database::TestBackend;

repack_testkit::test_on_both_backends!(
    publish_then_current,
    publishing_the_same_key_twice_is_a_no_op,
    a_newer_build_replaces_current_and_the_old_one_stays_in_history,
    current_builds_are_one_per_recipe_and_arch_in_order,
    a_manifest_that_contradicts_its_key_is_refused,
    a_key_recorded_for_another_arch_is_a_conflict,
    a_corrupted_row_is_reported_not_misread,
);

async fn publish_then_current(backend: TestBackend) {
    let test = fresh(backend).await;
    let catalog = &test.catalog;
    let new = build("debian-live", Arch::X86_64, "12.8.0", "iso-12.8.0");
    assert!(catalog.find_build(&new.key()).await.unwrap().is_none());
    assert!(
        catalog
            .current("debian-live", Arch::X86_64)
            .await
            .unwrap()
            .is_none()
    );

    catalog.publish_build(&new).await.unwrap();

    let found = catalog
        .find_build(&new.key())
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(found.id, new.id());
    assert_eq!(found.key, new.key());
    assert_eq!(found.recipe, "debian-live");
    assert_eq!(found.arch, Arch::X86_64);
    assert_eq!(found.version, "12.8.0");
    assert_eq!(found.tag, new.manifest.tag);
    assert_eq!(found.location, new.location);
    assert_eq!(
        found.manifest, new.manifest,
        "manifest stored whole and parsed back"
    );
    assert_eq!(found.created_at, new.created_at);

    let current = catalog.current("debian-live", Arch::X86_64).await.unwrap();
    assert_eq!(current.as_ref(), Some(&found));
    assert!(
        catalog
            .current("debian-live", Arch::Arm64)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(catalog.current_builds().await.unwrap(), vec![found]);
}

async fn publishing_the_same_key_twice_is_a_no_op(backend: TestBackend) {
    let test = fresh(backend).await;
    let first = build("debian-live", Arch::X86_64, "12.8.0", "iso");
    test.catalog.publish_build(&first).await.unwrap();
    let before = test
        .catalog
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap();

    // A re-run after a crash: same key, possibly another location and time.
    let mut again = first.clone();
    again.location = "/elsewhere".into();
    again.created_at += time::Duration::hours(1);
    test.catalog.publish_build(&again).await.unwrap();

    assert_eq!(support::count(&test, "builds").await, 1);
    assert_eq!(support::count(&test, "current_builds").await, 1);
    let after = test
        .catalog
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap();
    assert_eq!(before, after, "the first record is kept");
}

async fn a_newer_build_replaces_current_and_the_old_one_stays_in_history(backend: TestBackend) {
    let test = fresh(backend).await;
    let catalog = &test.catalog;
    let old = build("debian-live", Arch::X86_64, "12.8.0", "iso-old");
    let mut new = build("debian-live", Arch::X86_64, "12.9.0", "iso-new");
    new.created_at = old.created_at + time::Duration::seconds(5);
    // The new release dropped a file: the current entry must not keep it (replace, not merge).
    new.manifest
        .files
        .retain(|f| f.name != "filesystem.squashfs");
    catalog.publish_build(&old).await.unwrap();
    catalog.publish_build(&new).await.unwrap();

    let current = catalog
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.id, new.id());
    assert_eq!(current.manifest.files.len(), 2);
    assert_eq!(support::count(&test, "current_builds").await, 1);

    let history = catalog.builds("debian-live").await.unwrap();
    let versions: Vec<&str> = history.iter().map(|b| b.version.as_str()).collect();
    assert_eq!(versions, ["12.9.0", "12.8.0"], "newest first");
    assert!(catalog.find_build(&old.key()).await.unwrap().is_some());

    // Publishing the old key again is a rollback: it becomes current, nothing is duplicated.
    catalog.publish_build(&old).await.unwrap();
    let current = catalog
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.id, old.id());
    assert_eq!(support::count(&test, "builds").await, 2);
}

async fn current_builds_are_one_per_recipe_and_arch_in_order(backend: TestBackend) {
    let test = fresh(backend).await;
    let catalog = &test.catalog;
    for new in [
        build("ubuntu-live", Arch::X86_64, "24.04.1", "u1"),
        build("debian-live", Arch::Arm64, "12.8.0", "d-arm"),
        build("debian-live", Arch::X86_64, "12.8.0", "d-x86"),
        build("debian-live", Arch::X86_64, "12.9.0", "d-x86-new"),
    ] {
        catalog.publish_build(&new).await.unwrap();
    }
    let current: Vec<(String, Arch, String)> = catalog
        .current_builds()
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.recipe, b.arch, b.version))
        .collect();
    assert_eq!(
        current,
        [
            ("debian-live".into(), Arch::Arm64, "12.8.0".into()),
            ("debian-live".into(), Arch::X86_64, "12.9.0".into()),
            ("ubuntu-live".into(), Arch::X86_64, "24.04.1".into()),
        ]
    );
    assert!(catalog.builds("nothing").await.unwrap().is_empty());
}

async fn a_manifest_that_contradicts_its_key_is_refused(backend: TestBackend) {
    let test = fresh(backend).await;
    let mut bad = build("debian-live", Arch::X86_64, "12.8.0", "iso");
    bad.manifest.source.sha256 = repack_core::Sha256Digest::of(b"another iso");
    let error = test.catalog.publish_build(&bad).await.unwrap_err();
    assert!(
        matches!(error, CatalogError::InconsistentBuild { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("nothing was recorded"),
        "{error}"
    );

    let mut empty = build("debian-live", Arch::X86_64, "12.8.0", "iso");
    empty.location = " ".into();
    assert!(test.catalog.publish_build(&empty).await.is_err());
    assert_eq!(support::count(&test, "builds").await, 0);
}

async fn a_key_recorded_for_another_arch_is_a_conflict(backend: TestBackend) {
    let test = fresh(backend).await;
    let x86 = build("debian-live", Arch::X86_64, "12.8.0", "iso");
    test.catalog.publish_build(&x86).await.unwrap();
    // Same ISO and recipe hash, but claiming another arch: cannot be the same release.
    let mut arm = x86.clone();
    arm.manifest.arch = Arch::Arm64;
    let error = test.catalog.publish_build(&arm).await.unwrap_err();
    assert!(
        matches!(error, CatalogError::KeyConflict { .. }),
        "{error:?}"
    );
    assert!(
        test.catalog
            .current("debian-live", Arch::Arm64)
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_corrupted_row_is_reported_not_misread(backend: TestBackend) {
    let test = fresh(backend).await;
    let new = build("debian-live", Arch::X86_64, "12.8.0", "iso");
    test.catalog.publish_build(&new).await.unwrap();
    support::execute(
        &test,
        r#"UPDATE builds SET manifest = '{"not": "a manifest"}'"#,
    )
    .await
    .unwrap();
    let error = test.catalog.current_builds().await.unwrap_err();
    assert!(
        matches!(
            error,
            CatalogError::CorruptRow {
                table: "builds",
                ..
            }
        ),
        "{error:?}"
    );
}
