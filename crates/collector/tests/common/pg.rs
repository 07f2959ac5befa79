//! The PostgreSQL server the tests use, and a fresh database on it per test.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The URL of a server where the tests may create databases (as a superuser):
/// `TRICKLE_TEST_POSTGRES`, or a private cluster started for this test process.
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("TRICKLE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ => start_private_cluster(),
    })
}

/// `scripts/pg-cluster.sh start` in a temporary directory, watched: the script
/// stops the cluster and removes the directory once this process has ended.
fn start_private_cluster() -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-cluster.sh");
    let dir = std::env::temp_dir().join(format!("trickle-test-pg-{}", std::process::id()));
    let output = std::process::Command::new("bash")
        .arg(script)
        .arg("start")
        .arg(&dir)
        .arg("--watch")
        .arg(std::process::id().to_string())
        .output()
        .expect("run scripts/pg-cluster.sh");
    assert!(
        output.status.success(),
        "these tests run on PostgreSQL too and could not start a private cluster: {}\n\
         Install Debian's postgresql package (scripts/setup.sh does), or set \
         TRICKLE_TEST_POSTGRES=postgres://USER@HOST:PORT/DB to a server where the tests \
         may create databases.",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let url = String::from_utf8(output.stdout).expect("utf-8 URL");
    url.lines()
        .last()
        .expect("the script prints the URL")
        .trim()
        .to_owned()
}

/// A client on `url`; its connection runs on the caller's runtime.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to the test PostgreSQL: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// The URL of a new, empty database on the test server.
pub async fn fresh_database() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let server = server_url();
    let name = format!(
        "trickle_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let admin = connect(server).await;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("create database {name}: {e}"));
    let mut url = url::Url::parse(server).expect("TRICKLE_TEST_POSTGRES is a URL");
    url.set_path(&name);
    url.to_string()
}

/// A PostgreSQL cluster of a test's own, for tests that stop and start it; stopped
/// and removed when dropped.
pub struct PrivateCluster {
    dir: std::path::PathBuf,
    tls: bool,
    /// `postgres://postgres@127.0.0.1:PORT/postgres` (the same after a restart).
    pub url: String,
}

fn cluster_script(args: &[&std::ffi::OsStr], tls: bool) -> std::process::Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-cluster.sh");
    let output = std::process::Command::new("bash")
        .arg(script)
        .args(args)
        .env("PG_CLUSTER_TLS", if tls { "1" } else { "0" })
        .output()
        .expect("run scripts/pg-cluster.sh");
    assert!(
        output.status.success(),
        "scripts/pg-cluster.sh {args:?}: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    output
}

impl PrivateCluster {
    /// initdb and start, on a free port.
    pub fn start() -> PrivateCluster {
        Self::start_with(false)
    }

    /// The same, also serving TLS with a self-signed certificate.
    pub fn start_with_self_signed_tls() -> PrivateCluster {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> PrivateCluster {
        let dir = tempfile::Builder::new()
            .prefix("trickle-test-pg-own-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let output = cluster_script(&["start".as_ref(), dir.as_os_str()], tls);
        let url = String::from_utf8(output.stdout).expect("utf-8 URL");
        let url = url.lines().last().expect("URL").trim().to_owned();
        PrivateCluster { dir, tls, url }
    }

    /// Fast shutdown: sessions are cut, nothing committed is lost.
    pub fn stop(&self) {
        cluster_script(&["stop".as_ref(), self.dir.as_os_str()], self.tls);
    }

    /// Starts it again on the same port.
    pub fn restart(&self) {
        cluster_script(&["start".as_ref(), self.dir.as_os_str()], self.tls);
    }

    /// The URL of a new, empty database on this cluster.
    pub async fn fresh_database(&self, name: &str) -> String {
        let admin = connect(&self.url).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        let mut url = url::Url::parse(&self.url).expect("URL");
        url.set_path(name);
        url.to_string()
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg-cluster.sh");
        let _ = std::process::Command::new("bash")
            .arg(script)
            .arg("stop")
            .arg(&self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
