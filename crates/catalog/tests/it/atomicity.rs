use crate::support::{self, build, fresh};
use repack_catalog::CatalogError;
use repack_core::Arch;
use repack_testkit::database::TestBackend;
use std::sync::Arc;

repack_testkit::test_on_both_backends!(
    a_failure_inside_the_transaction_leaves_the_previous_current_untouched,
    concurrent_publishers_leave_one_current_row_per_recipe_and_arch,
);

/// The publish transaction fails after the build row was inserted (a trigger aborts the
/// current-pointer update): the previous current build stays and the new row is rolled back.
async fn a_failure_inside_the_transaction_leaves_the_previous_current_untouched(
    backend: TestBackend,
) {
    let test = fresh(backend).await;
    let old = build("debian-live", Arch::X86_64, "12.8.0", "iso-old");
    test.catalog.publish_build(&old).await.unwrap();

    let doomed = build("debian-live", Arch::X86_64, "12.9.0", "iso-doomed");
    let id = doomed.id();
    let trigger = match backend {
        TestBackend::Sqlite => format!(
            "CREATE TRIGGER sabotage BEFORE UPDATE ON current_builds \
             WHEN NEW.build_id = '{id}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        ),
        TestBackend::Postgres => format!(
            "CREATE FUNCTION sabotage() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.build_id = '{id}' THEN RAISE EXCEPTION 'injected failure'; END IF; \
             RETURN NEW; END $$; \
             CREATE TRIGGER sabotage BEFORE UPDATE ON current_builds \
             FOR EACH ROW EXECUTE FUNCTION sabotage();"
        ),
    };
    support::execute(&test, &trigger).await.unwrap();

    let error = test.catalog.publish_build(&doomed).await.unwrap_err();
    assert!(matches!(error, CatalogError::Database { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("previous current build stays"),
        "{message}"
    );
    let chain = format!("{:?}", std::error::Error::source(&error));
    assert!(chain.contains("injected failure"), "{chain}");

    let current = test
        .catalog
        .current("debian-live", Arch::X86_64)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.id, old.id());
    assert!(
        test.catalog
            .find_build(&doomed.key())
            .await
            .unwrap()
            .is_none(),
        "the insert of the failed publish was rolled back"
    );
    assert_eq!(support::count(&test, "builds").await, 1);
}

/// Eight publishers race on one (recipe, arch) and two on another: every build is recorded,
/// and each (recipe, arch) ends with exactly one current row pointing at one of its builds.
async fn concurrent_publishers_leave_one_current_row_per_recipe_and_arch(backend: TestBackend) {
    let test = fresh(backend).await;
    let catalog = Arc::new(test.catalog.clone());
    let mut builds = Vec::new();
    for i in 0..8 {
        builds.push(build(
            "debian-live",
            Arch::X86_64,
            &format!("12.{i}.0"),
            &format!("x{i}"),
        ));
    }
    builds.push(build("debian-live", Arch::Arm64, "12.0.0", "arm-a"));
    builds.push(build("debian-live", Arch::Arm64, "12.1.0", "arm-b"));
    // The same key twice in the race too.
    builds.push(builds[0].clone());

    let barrier = Arc::new(tokio::sync::Barrier::new(builds.len()));
    let tasks: Vec<_> = builds
        .iter()
        .cloned()
        .map(|new| {
            let catalog = catalog.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                catalog.publish_build(&new).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every publisher succeeds");
    }

    assert_eq!(support::count(&test, "builds").await, 10);
    assert_eq!(support::count(&test, "current_builds").await, 2);
    let current = catalog.current_builds().await.unwrap();
    assert_eq!(current.len(), 2);
    for record in current {
        assert!(
            builds
                .iter()
                .any(|b| b.id() == record.id && b.arch() == record.arch),
            "current points at a build of its own arch"
        );
    }
}
