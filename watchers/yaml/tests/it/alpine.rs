//! Alpine's document as it is published, and documents to refuse.

use crate::{ALPINE, fixture, run};

#[tokio::test]
async fn alpine_extended_is_selected_from_all_flavors() {
    let found = run(ALPINE, &fixture("alpine-latest-releases.yaml"))
        .await
        .unwrap();
    let summary: Vec<String> = found
        .iter()
        .map(|c| {
            format!(
                "{} | {} | {} | {:?} | arch {:?} | size {:?} | published {:?}",
                c.version,
                c.iso_name,
                c.iso_url,
                c.checksum,
                c.upstream_arch,
                c.size,
                c.published_at
            )
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"));
}

#[tokio::test]
async fn filter_by_flavor_selects_the_same_release() {
    let watch = "url = \"{BASE}alpine/latest-stable/releases/x86_64/latest-releases.yaml\"\n\
        fields = { url = \"iso\", sha256 = \"sha256\" }\nfilter = { flavor = \"alpine-virt\" }";
    let found = run(watch, &fixture("alpine-latest-releases.yaml"))
        .await
        .unwrap();
    let names: Vec<_> = found.iter().map(|c| c.iso_name.as_str()).collect();
    assert_eq!(names, ["alpine-virt-3.22.1-x86_64.iso"]);
    assert_eq!(found[0].version, "3.22.1");
}

#[tokio::test]
async fn documents_to_refuse() {
    let kind = |body: &'static str| async move { run(ALPINE, body).await.unwrap_err().kind() };
    assert_eq!(kind("---\n- title: [unclosed\n").await, "feed-malformed");
    assert_eq!(
        kind("<html><body>503</body></html>").await,
        "feed-html-page"
    );
    assert_eq!(kind("---\n[]\n").await, "feed-empty");
    assert_eq!(kind("").await, "feed-empty");
    // A mapping is a list of one entry, without the fields: nothing selected.
    assert!(run(ALPINE, "title: not a list\n").await.unwrap().is_empty());
}

#[tokio::test]
async fn an_alias_bomb_is_refused_not_expanded() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..12u8 {
        let previous = (b'a' + level - 1) as char;
        let name = (b'a' + level) as char;
        let refs = vec![format!("*{previous}"); 10].join(", ");
        bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    let error = run(ALPINE, &bomb).await.unwrap_err();
    assert_eq!(error.kind(), "feed-malformed");
    assert!(error.to_string().contains("alias"), "{error}");
}

#[test]
fn scalars_stay_the_text_the_upstream_wrote() {
    let value = repack_watch_yaml::parse(
        "- sha256: 2222222222222222222222222222222222222222222222222222222222222222\n  \
         version: 3.20\n  time: 08:33:57\n  size: 0x10\n  iso: ~\n  ok: true\n",
    )
    .unwrap();
    assert_eq!(value[0]["sha256"], "2".repeat(64));
    assert_eq!(value[0]["version"], "3.20");
    assert_eq!(value[0]["time"], "08:33:57");
    assert_eq!(value[0]["size"], "0x10");
    assert_eq!(value[0]["iso"], serde_json::Value::Null);
    assert_eq!(value[0]["ok"], "true");
}
