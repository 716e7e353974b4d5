//! [`boot`]: one boot from start to verdict, and the [`BootReport`] it returns.

use crate::console::{self, Classifier, FailReason, Verdict};
use crate::error::BootGateError;
use crate::qemu::{self, Plan};
use crate::script;
use crate::serve::{ServedRequest, Server};
use crate::spec::{BootSpec, Firmware};
use crate::tools::Tools;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// A console line longer than this is judged (and logged) in pieces: a guest printing
/// without line breaks must not grow the buffer without bound.
const MAX_LINE: usize = 16 * 1024;
/// How much of QEMU's stderr is kept for error messages.
const MAX_STDERR: usize = 8 * 1024;

/// How the boot ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootOutcome {
    /// The marker appeared; `marker_line` is the console line that carried it.
    Passed { marker_line: String },
    /// A failure line, a guest that stopped, or the timeout. `line` is the console line
    /// that decided it, or for a stop or timeout the last non-empty line seen.
    Failed {
        reason: FailReason,
        line: Option<String>,
    },
}

/// What one boot did.
#[derive(Debug, Clone)]
pub struct BootReport {
    pub firmware: Firmware,
    pub outcome: BootOutcome,
    /// From QEMU's start to the verdict.
    pub duration: Duration,
    /// Every HTTP request the guest made, in order.
    pub requests: Vec<ServedRequest>,
    /// The port of 127.0.0.1 the guest's server listened on (it is stopped now).
    pub server_port: u16,
    /// The full serial console.
    pub console_log: PathBuf,
    /// A VGA screenshot (PPM) taken on failure, when QEMU could still take one.
    pub screendump: Option<PathBuf>,
}

impl BootReport {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, BootOutcome::Passed { .. })
    }

    /// One line for logs: `uefi: passed in 81.3 s (REPACK-LIVE-OK x86_64 …)`.
    pub fn summary(&self) -> String {
        let seconds = self.duration.as_secs_f64();
        match &self.outcome {
            BootOutcome::Passed { marker_line } => {
                format!(
                    "{}: passed in {seconds:.1} s ({marker_line})",
                    self.firmware
                )
            }
            BootOutcome::Failed { reason, line } => format!(
                "{}: FAILED after {seconds:.1} s: {reason} (line: {}); console: {}",
                self.firmware,
                line.as_deref().unwrap_or("none"),
                self.console_log.display()
            ),
        }
    }

    /// Whether the guest requested `path` (ignoring any query), whatever the answer.
    pub fn requested(&self, path: &str) -> bool {
        self.requests
            .iter()
            .any(|request| request.uri.split('?').next() == Some(path))
    }
}

/// Boots `spec.output_dir` in QEMU through iPXE and the published `menu.ipxe`, and reports
/// the verdict the serial console gives. Returns an error only when the boot could not be
/// run or watched (a missing tool, QEMU itself failing); a guest that fails is an `Ok`
/// report with [`BootOutcome::Failed`]. QEMU is always gone when this returns, and also
/// when the future is dropped half-way.
pub async fn boot(spec: &BootSpec) -> Result<BootReport, BootGateError> {
    spec.validate()?;
    if !spec.output_dir.join("menu.ipxe").is_file() {
        return Err(BootGateError::NotAnOutputDir {
            dir: spec.output_dir.clone(),
        });
    }
    let tools = Tools::find(spec.firmware)?;
    let scratch = tempfile::Builder::new()
        .prefix("repack-bootgate-")
        .tempdir()
        .map_err(|source| BootGateError::Scratch {
            action: "create a scratch directory in",
            path: std::env::temp_dir(),
            source,
        })?;
    let uefi_vars = match &tools.ovmf {
        Some((_, template)) => {
            let copy = scratch.path().join("OVMF_VARS.fd");
            tokio::fs::copy(template, &copy)
                .await
                .map_err(|source| BootGateError::Scratch {
                    action: "copy the UEFI variable store to",
                    path: copy.clone(),
                    source,
                })?;
            Some(copy)
        }
        None => None,
    };
    let mut log = tokio::fs::File::create(&spec.console_log)
        .await
        .map_err(|source| scratch_error("create the console log", &spec.console_log, source))?;

    let server = Server::start(&spec.output_dir, script::boot_file(spec)).await?;
    let plan = Plan {
        tools: &tools,
        spec,
        port: server.port(),
        uefi_vars,
        qmp_socket: scratch.path().join("qmp.sock"),
    };
    tracing::info!(
        firmware = %spec.firmware,
        target = %spec.target,
        port = server.port(),
        console_log = %spec.console_log.display(),
        "booting in QEMU"
    );
    let started = Instant::now();
    let mut child = qemu::spawn(&plan)?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let stderr_task = tokio::spawn(read_bounded(stderr, MAX_STDERR));

    let watched = tokio::time::timeout(
        spec.timeout,
        watch(&mut stdout, &mut log, &Classifier::new(&spec.marker)),
    )
    .await;
    let duration = started.elapsed();
    let mut watched = watched;
    if let Ok(Ok(Watched::Verdict(Verdict::Fail(_), _))) = &watched
        && !spec.after_failure.is_zero()
    {
        // Log what follows the failure; QEMU exiting (-no-reboot after a panic) ends it early.
        let rest = tokio::time::timeout(spec.after_failure, tokio::io::copy(&mut stdout, &mut log));
        if let Ok(Err(error)) = rest.await {
            watched = Ok(Err(BootGateError::Console(error)));
        }
    }
    let (outcome, still_running) = match watched {
        Ok(Ok(Watched::Verdict(Verdict::Pass, line))) => {
            (BootOutcome::Passed { marker_line: line }, true)
        }
        Ok(Ok(Watched::Verdict(Verdict::Fail(reason), line))) => (
            BootOutcome::Failed {
                reason,
                line: Some(line),
            },
            true,
        ),
        Ok(Ok(Watched::Eof { last_line })) => {
            let status = child.wait().await.map_err(BootGateError::Console)?;
            if !status.success() {
                let stderr = stderr_task.await.unwrap_or_default();
                return Err(BootGateError::Qemu {
                    status: describe(status),
                    stderr: stderr.trim().to_owned(),
                });
            }
            (
                BootOutcome::Failed {
                    reason: FailReason::GuestStopped,
                    line: last_line,
                },
                false,
            )
        }
        Ok(Err(error)) => return Err(error),
        Err(_elapsed) => {
            let _ = log.flush().await;
            (
                BootOutcome::Failed {
                    reason: FailReason::Timeout,
                    line: last_line_of(&spec.console_log).await,
                },
                true,
            )
        }
    };

    let mut screendump = None;
    if still_running && matches!(outcome, BootOutcome::Failed { .. }) {
        let file = spec.console_log.with_extension("ppm");
        match qemu::screendump(&plan.qmp_socket, &file).await {
            Ok(()) if file.is_file() => screendump = Some(file),
            Ok(()) => {}
            Err(error) => tracing::debug!(%error, "no screenshot"),
        }
    }
    if still_running {
        // The live system would power off by itself after the marker, but nothing is
        // gained by waiting, and a failed guest waits at a rescue shell forever.
        let _ = child.kill().await;
    }
    let _ = log.flush().await;
    let report = BootReport {
        firmware: spec.firmware,
        outcome,
        duration,
        requests: server.requests(),
        server_port: server.port(),
        console_log: spec.console_log.clone(),
        screendump,
    };
    tracing::info!(summary = %report.summary(), "boot finished");
    Ok(report)
}

/// How watching the console ended.
enum Watched {
    /// A line decided the boot.
    Verdict(Verdict, String),
    /// QEMU closed the console (it exited).
    Eof { last_line: Option<String> },
}

/// Copies the console to `log` and judges it line by line, and the unterminated tail after
/// each read (prompts have no line break).
async fn watch(
    mut console: impl AsyncRead + Unpin,
    log: &mut tokio::fs::File,
    classifier: &Classifier,
) -> Result<Watched, BootGateError> {
    let mut buffer = vec![0u8; 8192];
    let mut pending: Vec<u8> = Vec::new();
    let mut last_line = None;
    loop {
        let read = console
            .read(&mut buffer)
            .await
            .map_err(BootGateError::Console)?;
        if read == 0 {
            let tail = console::clean(&pending);
            if !tail.trim().is_empty() {
                last_line = Some(tail.trim().to_owned());
            }
            return Ok(Watched::Eof { last_line });
        }
        let chunk = &buffer[..read];
        log.write_all(chunk).await.map_err(BootGateError::Console)?;
        pending.extend_from_slice(chunk);
        while let Some(end) = pending
            .iter()
            .position(|&b| b == b'\n')
            .or((pending.len() > MAX_LINE).then_some(MAX_LINE))
        {
            let raw: Vec<u8> = pending.drain(..=end).collect();
            let line = console::clean(&raw);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(verdict) = classifier.line(line) {
                let _ = log.flush().await;
                return Ok(Watched::Verdict(verdict, line.to_owned()));
            }
            last_line = Some(line.to_owned());
        }
        if !pending.is_empty() {
            let tail = console::clean(&pending);
            if let Some(verdict) = classifier.partial(&tail) {
                let _ = log.flush().await;
                return Ok(Watched::Verdict(verdict, tail.trim().to_owned()));
            }
        }
    }
}

/// Reads `stream` to its end, keeping the first `limit` bytes.
async fn read_bounded(mut stream: impl AsyncRead + Unpin, limit: usize) -> String {
    let mut kept = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(read) = stream.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..read.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// The last non-empty line of the console log, cleaned.
async fn last_line_of(path: &Path) -> Option<String> {
    let raw = tokio::fs::read(path).await.ok()?;
    raw.split(|&b| b == b'\n')
        .map(console::clean)
        .map(|line| line.trim().to_owned())
        .rfind(|line| !line.is_empty())
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}

fn scratch_error(action: &'static str, path: &Path, source: std::io::Error) -> BootGateError {
    BootGateError::Scratch {
        action,
        path: path.to_owned(),
        source,
    }
}
