//! PostgreSQL for tests, without containers: a throwaway cluster per test process, and a fresh
//! database per test ([`PostgresDatabase::create`]).
//!
//! The cluster is made once, on first use, from Debian's `postgresql` package: `initdb` into
//! a temporary directory, then the `postgres` server as a child of this process, listening on
//! a Unix socket in that directory only (no TCP port, so parallel test processes never
//! collide). PostgreSQL refuses to run as root; when the tests run as root, `initdb` and the
//! server run as the `postgres` user (the package creates it) on a directory it owns. The
//! privilege drop happens in the child (`Command::uid`/`gid`) rather than through `runuser`,
//! so the server is this process's direct child and its parent-death signal reaches it: the
//! server stops when the test process ends, even when it is killed. A normal exit also stops
//! it and removes the directory (an `atexit` hook); the directory of a killed test process is
//! removed by a later test process when it starts its own cluster.
//!
//! With `REPACK_TEST_POSTGRES_URL` set (`postgres://user:password@host:port/database` of a
//! role that may create databases), no cluster is started and the test databases are made on
//! that server instead.
//!
//! A server that cannot be started is a test failure with the reason and the server's log,
//! never a skipped test.

use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Environment variable naming an existing server to use instead of a throwaway cluster.
pub const POSTGRES_URL_VAR: &str = "REPACK_TEST_POSTGRES_URL";

/// Name prefix of a cluster's temporary directory.
const PREFIX: &str = "repack-postgres-";

/// A cluster directory this old whose server does not answer was abandoned.
const ABANDONED_AFTER: Duration = Duration::from_secs(600);

/// How long the server may take to accept connections after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The port in the socket's file name (`.s.PGSQL.5432`); nothing listens on TCP.
const PORT: u16 = 5432;

/// A database of its own for one test, on the test server. Dropped (with its connections)
/// when this value is dropped.
#[derive(Debug)]
pub struct PostgresDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl PostgresDatabase {
    /// Creates an empty database named `test_<random>`. Panics, with the reason and what to
    /// do, when no server can be had.
    pub async fn create() -> PostgresDatabase {
        use sqlx::Connection;
        let admin_url = server_url();
        let name = format!("test_{:016x}", fastrand::u64(..));
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "cannot connect to the test PostgreSQL server ({}): {error}",
                    without_password(&admin_url)
                )
            });
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("CREATE DATABASE {name} failed: {error}"));
        let _ = admin.close().await;
        let url = with_database(&admin_url, &name);
        PostgresDatabase {
            name,
            url,
            admin_url,
        }
    }

    /// The database's URL (`postgres://…`), for the code under test.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // Drop may run inside the test's runtime, which must not be blocked on itself: a
        // thread of its own with a small runtime. Failures only leave a database behind.
        let admin_url = self.admin_url.clone();
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let worker = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                        .execute(&mut admin)
                        .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = worker.join();
    }
}

/// The URL of a database on the test server that may create others: `$REPACK_TEST_POSTGRES_URL`,
/// or the throwaway cluster's `postgres` database (started on first call). Panics with the
/// reason when no server can be had.
pub fn server_url() -> String {
    if let Ok(url) = std::env::var(POSTGRES_URL_VAR)
        && !url.is_empty()
    {
        return url;
    }
    match CLUSTER.get_or_init(Cluster::start) {
        Ok(cluster) => cluster.url.clone(),
        Err(reason) => panic!(
            "PostgreSQL tests need a server, and none could be started: {reason}\n\
             hint: install Debian's `postgresql` package (scripts/install-deps.sh does), or set \
             {POSTGRES_URL_VAR}=postgres://user:password@host:port/database to use a running server"
        ),
    }
}

/// `url` with any password replaced by `***`, for messages.
fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(an unparsable URL)".to_owned(),
    }
}

/// `url` with its database (path) replaced by `name`; the query (`?host=…`) is kept.
fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("the test server's URL parses");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// The throwaway cluster of this test process.
struct Cluster {
    /// Temporary directory holding `data/`, `socket/` and the logs; removed at exit.
    root: PathBuf,
    /// The server's process id.
    pid: u32,
    /// Set by the thread that waits for the server once it has exited.
    exited: &'static AtomicBool,
    url: String,
}

impl Cluster {
    fn start() -> Result<Cluster, String> {
        let bin = find_binaries()?;
        let runner = Runner::current()?;
        sweep_abandoned(&std::env::temp_dir());
        let root = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir()
            .map_err(|error| format!("cannot create a temporary directory: {error}"))?
            .keep();
        let started = Cluster::start_in(&root, &bin, &runner);
        if started.is_err() {
            let _ = fs::remove_dir_all(&root);
        }
        started
    }

    fn start_in(root: &Path, bin: &Path, runner: &Runner) -> Result<Cluster, String> {
        let data = root.join("data");
        let socket = root.join("socket");
        fs::create_dir(&socket)
            .map_err(|error| format!("cannot create {}: {error}", socket.display()))?;
        runner.give(root)?;
        runner.give(&socket)?;

        let initdb_log = root.join("initdb.log");
        let status = runner
            .command(&bin.join("initdb"), root, &initdb_log)?
            .arg("--pgdata")
            .arg(&data)
            .args([
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .status()
            .map_err(|error| {
                format!(
                    "cannot run {}/initdb{} in {}: {error}",
                    bin.display(),
                    runner.as_whom(),
                    root.display()
                )
            })?;
        if !status.success() {
            return Err(format!(
                "{}/initdb failed ({status}):\n{}",
                bin.display(),
                tail(&initdb_log)
            ));
        }

        let server_log = root.join("postgres.log");
        let mut server = runner.command(&bin.join("postgres"), root, &server_log)?;
        server
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&socket)
            .args(["-p", &PORT.to_string()])
            // A throwaway cluster: no TCP, no durability, room for every test's pool.
            .args(["-c", "listen_addresses="])
            .args(["-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .args(["-c", "max_connections=300"]);
        let parent = std::process::id();
        // SAFETY: prctl and getppid are async-signal-safe; nothing else runs between fork and
        // exec. The parent-death signal is set after the privilege drop (which would clear it).
        unsafe {
            server.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    // The test process died before the signal was armed.
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let (pid, exited) = spawn_and_wait(server, bin)?;
        let cluster = Cluster {
            root: root.to_owned(),
            pid,
            exited,
            url: format!(
                "postgres://postgres@localhost:{PORT}/postgres?host={}",
                socket.display()
            ),
        };
        if let Err(error) = cluster.wait_until_ready(&data, &server_log) {
            cluster.stop();
            return Err(error);
        }
        // SAFETY: registering a plain `extern "C" fn` without arguments.
        unsafe {
            libc::atexit(stop_cluster_at_exit);
        }
        Ok(cluster)
    }

    /// Waits for `postmaster.pid` to report `ready` (its eighth line, PostgreSQL 10+).
    fn wait_until_ready(&self, data: &Path, log: &Path) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.exited.load(Ordering::SeqCst) {
                return Err(format!("the server exited at start:\n{}", tail(log)));
            }
            let status = fs::read_to_string(data.join("postmaster.pid")).unwrap_or_default();
            if status
                .lines()
                .nth(7)
                .is_some_and(|line| line.trim() == "ready")
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the server did not become ready within {START_TIMEOUT:?}:\n{}",
                    tail(log)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Immediate shutdown (SIGQUIT), then the directory goes.
    fn stop(&self) {
        // SAFETY: sending a signal to the server this process started.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGQUIT);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.exited.load(Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// Removes the clusters of test processes that were killed (no exit hook ran; their servers
/// stopped with them): directories of ours, older than [`ABANDONED_AFTER`], whose socket
/// nobody answers. A cluster still being made has no socket yet but is younger than that.
fn sweep_abandoned(temp: &Path) {
    let Ok(entries) = fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(PREFIX));
        let old = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .is_ok_and(|modified| modified.elapsed().unwrap_or_default() > ABANDONED_AFTER);
        let socket = path.join("socket").join(format!(".s.PGSQL.{PORT}"));
        let answers = std::os::unix::net::UnixStream::connect(&socket).is_ok();
        if ours && old && !answers {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

extern "C" fn stop_cluster_at_exit() {
    if let Some(Ok(cluster)) = CLUSTER.get() {
        cluster.stop();
    }
}

/// Starts `server` from a thread that lives as long as the server (a parent-death signal
/// fires when the spawning *thread* ends) and reaps it. Returns its pid and the flag the
/// thread sets when it has exited.
fn spawn_and_wait(mut server: Command, bin: &Path) -> Result<(u32, &'static AtomicBool), String> {
    let exited: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("test-postgres".into())
        .spawn(move || match server.spawn() {
            Ok(mut child) => {
                let _ = sender.send(Ok(child.id()));
                let _ = child.wait();
                exited.store(true, Ordering::SeqCst);
            }
            Err(error) => {
                let _ = sender.send(Err(error));
                exited.store(true, Ordering::SeqCst);
            }
        })
        .map_err(|error| format!("cannot start a thread for the server: {error}"))?;
    match receiver.recv() {
        Ok(Ok(pid)) => Ok((pid, exited)),
        Ok(Err(error)) => Err(format!("cannot run {}/postgres: {error}", bin.display())),
        Err(_) => Err("the server thread ended before starting the server".into()),
    }
}

/// Who runs the server: this process's user, or `postgres` when this process is root.
enum Runner {
    Current,
    Postgres { uid: u32, gid: u32 },
}

impl Runner {
    fn current() -> Result<Runner, String> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(Runner::Current);
        }
        let id = |flag: &str| -> Result<u32, String> {
            let output = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .map_err(|error| format!("cannot run `id {flag} postgres`: {error}"))?;
            if !output.status.success() {
                return Err(
                    "running as root, and there is no `postgres` user to run the server as \
                     (PostgreSQL refuses to run as root; Debian's package creates the user)"
                        .into(),
                );
            }
            String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse()
                .map_err(|error| format!("`id {flag} postgres` printed no number: {error}"))
        };
        Ok(Runner::Postgres {
            uid: id("-u")?,
            gid: id("-g")?,
        })
    }

    /// ` as user postgres` when privileges are dropped, for messages.
    fn as_whom(&self) -> &'static str {
        match self {
            Runner::Current => "",
            Runner::Postgres { .. } => " as user `postgres`",
        }
    }

    /// Hands `path` to the server's user.
    fn give(&self, path: &Path) -> Result<(), String> {
        match self {
            Runner::Current => Ok(()),
            Runner::Postgres { uid, gid } => std::os::unix::fs::chown(path, Some(*uid), Some(*gid))
                .map_err(|error| format!("cannot hand {} to `postgres`: {error}", path.display())),
        }
    }

    /// `program` to run as the server's user in `dir`, output appended to `log`.
    fn command(&self, program: &Path, dir: &Path, log: &Path) -> Result<Command, String> {
        let open = || {
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|error| format!("cannot create {}: {error}", log.display()))
        };
        let mut command = Command::new(program);
        command
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(open()?)
            .stderr(open()?)
            .env_remove("PGDATA")
            .env("LC_ALL", "C");
        if let Runner::Postgres { uid, gid } = self {
            command.uid(*uid).gid(*gid);
        }
        Ok(command)
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb` and `postgres`, or the
/// directory of `initdb` on `PATH`.
fn find_binaries() -> Result<PathBuf, String> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file())
                .then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
        .ok_or_else(|| {
            "no PostgreSQL server binaries (initdb, postgres) under /usr/lib/postgresql/*/bin \
             or on PATH"
                .to_owned()
        })
}

/// The last lines of a log, for error messages.
fn tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(30);
    format!("(end of {})\n{}", path.display(), lines[start..].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            super::without_password("postgres://u:secret@db:5433/admin"),
            "postgres://u:***@db:5433/admin"
        );
        assert_eq!(
            super::without_password("postgres://u@db/admin?host=/s"),
            "postgres://u@db/admin?host=/s"
        );
    }

    #[test]
    fn the_database_is_swapped_and_the_socket_kept() {
        assert_eq!(
            with_database(
                "postgres://postgres@localhost:5432/postgres?host=/tmp/s",
                "test_1"
            ),
            "postgres://postgres@localhost:5432/test_1?host=/tmp/s"
        );
        assert_eq!(
            with_database("postgres://u:p@db:5433/admin", "test_2"),
            "postgres://u:p@db:5433/test_2"
        );
    }
}
