//! Download progress: a bar on a terminal, periodic log lines otherwise. Log lines written
//! while a bar is shown go through [`LogWriter`], which lifts the bar, writes the line and
//! redraws it, so bars and logs never garble each other.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use repack_fetch::Reporter;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

/// Every bar this process draws; log lines suspend them while they are written.
static BARS: LazyLock<MultiProgress> = LazyLock::new(MultiProgress::new);

/// Standard error for human-readable logs, coordinated with the progress bars.
#[derive(Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        BARS.suspend(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// Chooses the reporter for this process.
pub fn for_terminal() -> Box<dyn Reporter> {
    if std::io::stderr().is_terminal() {
        Box::new(BarReporter::default())
    } else {
        Box::new(LogReporter::default())
    }
}

#[derive(Default)]
struct BarReporter {
    bar: Mutex<Option<ProgressBar>>,
}

impl Reporter for BarReporter {
    fn started(&self, url: &str, total: Option<u64>, resumed_from: u64) {
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("valid template"),
        );
        bar.set_message(url.rsplit('/').next().unwrap_or(url).to_owned());
        bar.set_position(resumed_from);
        let bar = BARS.add(bar);
        *self.bar.lock().expect("bar lock") = Some(bar);
    }

    fn advanced(&self, bytes: u64) {
        if let Some(bar) = self.bar.lock().expect("bar lock").as_ref() {
            bar.inc(bytes);
        }
    }

    fn finished(&self) {
        if let Some(bar) = self.bar.lock().expect("bar lock").take() {
            bar.finish_and_clear();
            BARS.remove(&bar);
        }
    }
}

/// Logs progress every 10 % (or every 256 MiB when the size is unknown).
#[derive(Default)]
pub struct LogReporter {
    total: AtomicU64,
    done: AtomicU64,
    next_report: AtomicU64,
}

impl LogReporter {
    fn step(&self) -> u64 {
        match self.total.load(Ordering::Relaxed) {
            0 => 256 << 20,
            total => (total / 10).max(1),
        }
    }
}

impl Reporter for LogReporter {
    fn started(&self, url: &str, total: Option<u64>, resumed_from: u64) {
        self.total.store(total.unwrap_or(0), Ordering::Relaxed);
        self.done.store(resumed_from, Ordering::Relaxed);
        self.next_report
            .store(resumed_from + self.step(), Ordering::Relaxed);
        tracing::info!(url, total, resumed_from, "download started");
    }

    fn advanced(&self, bytes: u64) {
        let done = self.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let next = self.next_report.load(Ordering::Relaxed);
        if done >= next
            && self
                .next_report
                .compare_exchange(
                    next,
                    done + self.step(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            tracing::info!(
                bytes = done,
                total = self.total.load(Ordering::Relaxed),
                "downloading"
            );
        }
    }

    fn finished(&self) {
        tracing::info!(
            bytes = self.done.load(Ordering::Relaxed),
            "download finished"
        );
    }
}
