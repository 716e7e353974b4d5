use repack_e2e::Env;
use repack_testkit::fixtures::{debian_live, sha256_file};
use repack_testkit::upstream::{LoggedRequest, Served};

const CUT: u64 = 48 << 20;
/// A resume may repeat what the client had received but not yet written (one write batch).
const REPEAT_ALLOWANCE: u64 = 2 << 20;

/// Bytes the client really received per request: the server cuts each body after `CUT`.
fn received(requests: &[LoggedRequest]) -> u64 {
    requests
        .iter()
        .map(|request| request.planned_bytes.min(CUT))
        .sum()
}

#[tokio::test]
async fn interrupted_download_resumes_with_range_within_one_run() {
    let fixture = debian_live();
    let size = std::fs::metadata(&fixture.iso).unwrap().len();
    let env = Env::new(8).await;
    env.serve_release(
        "12.10.0",
        Served::file(&fixture.iso),
        &sha256_file(&fixture.iso),
    );
    env.upstream.cut_responses_after(Some(CUT));
    env.repack(&["run", "debian-live"]).await.assert_success();

    let requests = env.upstream.requests_for(&Env::iso_path("12.10.0"));
    assert!(requests.len() >= 4, "{requests:?}");
    assert_eq!(requests[0].range, None);
    // Every retry continues where the previous transfer broke, give or take one write batch.
    let mut broke_at = 0;
    for pair in requests.windows(2) {
        let previous_start = pair[0].range_start().unwrap_or(0);
        broke_at = previous_start + pair[0].planned_bytes.min(CUT);
        let start = pair[1].range_start().expect("a retry asks for a range");
        assert!(
            start <= broke_at && start + REPEAT_ALLOWANCE >= broke_at,
            "resumed at {start}, the transfer broke at {broke_at}: {requests:?}"
        );
        assert_eq!(pair[1].status, 206);
    }
    assert!(broke_at > 0);
    let interruptions = requests.len() as u64 - 1;
    assert!(received(&requests) <= size + interruptions * REPEAT_ALLOWANCE);
}

#[tokio::test]
async fn download_cut_in_one_run_resumes_in_the_next() {
    let fixture = debian_live();
    let env = Env::new(0).await;
    let digest = sha256_file(&fixture.iso);
    env.serve_release("12.10.0", Served::file(&fixture.iso), &digest);
    env.upstream.cut_responses_after(Some(CUT));
    env.repack(&["run", "debian-live"])
        .await
        .assert_failure_mentions(&[
            "nothing was published",
            "debian-live-12.10.0-amd64-standard.iso",
        ]);
    env.assert_nothing_published().await;
    // The root image streamed into its parts instead of the partial ISO (issue 8: each byte
    // written once); the resume below fills the ISO's holes back from them.
    let stream_dir = env
        .data_dir()
        .join(format!("cache/iso/{digest}.iso.stream"));
    assert!(
        stream_dir.join("filesystem.squashfs").is_file(),
        "the first run did not stream the root image"
    );

    env.upstream.cut_responses_after(None);
    env.repack(&["run", "debian-live"]).await.assert_success();
    assert!(!stream_dir.exists(), "the stream directory was left behind");
    let requests = env.upstream.requests_for(&Env::iso_path("12.10.0"));
    assert_eq!(requests.len(), 2, "{requests:?}");
    let start = requests[1]
        .range_start()
        .expect("the second run resumes with a range");
    assert!(
        start <= CUT && start + REPEAT_ALLOWANCE >= CUT,
        "{requests:?}"
    );
    let cached = env.data_dir().join(format!("cache/iso/{digest}.iso"));
    assert!(
        !cached.exists(),
        "a published ISO leaves the download cache"
    );
}
