//! Fedora, Arch and Pop!_OS documents as they are published.

use crate::{fixture, run, summary};

#[tokio::test]
async fn fedora_workstation_by_filter_with_the_respin_from_the_name() {
    let watch = "url = \"{BASE}releases.json\"\n\
        fields = { url = \"link\", sha256 = \"sha256\", size = \"size\", arch = \"arch\" }\n\
        filter = { variant = \"Workstation\", subvariant = \"Workstation\" }\n\
        pattern = '^Fedora-Workstation-Live-(?P<version>[0-9]+(?:_Beta)?-[0-9.]+)\\.[a-z0-9_]+\\.iso$'";
    let found = run(watch, "/releases.json", &fixture("fedora-releases.json"))
        .await
        .unwrap();
    insta::assert_snapshot!(summary(&found));
}

#[tokio::test]
async fn arch_releases_relative_to_a_mirror_with_dates() {
    let watch = "url = \"{BASE}releng/releases/json/\"\nlist = \"/releases\"\n\
        base_url = \"https://geo.mirror.pkgbuild.com/\"\n\
        fields = { url = \"iso_url\", sha256 = \"sha256_sum\", date = \"release_date\" }\n\
        filter = { available = true }";
    let found = run(
        watch,
        "/releng/releases/json/",
        &fixture("arch-releases.json"),
    )
    .await
    .unwrap();
    insta::assert_snapshot!(summary(&found));
}

#[tokio::test]
async fn popos_build_api_answers_one_object() {
    let watch = "url = \"{BASE}builds/24.04/generic?arch=amd64\"\n\
        fields = { sha256 = \"sha_sum\", size = \"size\" }";
    let found = run(watch, "/builds/24.04/generic", &fixture("popos-build.json"))
        .await
        .unwrap();
    insta::assert_snapshot!(summary(&found));
}
