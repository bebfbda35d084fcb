//! A node whose data directory cannot be written, on a real filesystem that runs out of room
//! or is read-only: a small tmpfs mounted for the test (the tests run as root; a test that
//! cannot mount fails, it does not skip). A disk filled while the node runs (below its
//! `--min-free-disk-mb` floor) makes it stop before writing the next block, with a message
//! naming the directory and a non-zero exit, and after room is made it restarts at the head it
//! reported and commits again; a read-only data directory makes it refuse to start
//! with a message, and once writable it starts at the same head.
use crate::common::*;

/// A tmpfs of `size` mounted on a temporary directory, unmounted when dropped.
struct Tmpfs {
    _dir: tempfile::TempDir,
    mnt: PathBuf,
}

fn mount(args: &[&str]) {
    let out = Command::new("mount")
        .args(args)
        .output()
        .expect("run mount");
    assert!(
        out.status.success(),
        "mount {args:?} failed (these tests need root): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Tmpfs {
    fn new(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("tmp");
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).expect("mount point");
        let m = mnt.to_str().expect("utf-8");
        mount(&["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", m]);
        Tmpfs { _dir: dir, mnt }
    }

    fn remount(&self, mode: &str) {
        let m = self.mnt.to_str().expect("utf-8");
        mount(&["-o", &format!("remount,{mode}"), m]);
    }

    /// Writes a file until the filesystem refuses more.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.mnt.join("junk");
        let mut f = std::fs::File::create(&path).expect("junk file");
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mnt).status();
    }
}

/// Waits for `child` to exit (a bound against hanging, not a timing expectation).
fn exit_of(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(
            start.elapsed() < POLL_TIMEOUT,
            "the node still runs after {POLL_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn transfer_committed(c: &HttpClient) -> ReceiptInfo {
    let r = send(
        c,
        &key("bank-a"),
        100_000,
        Call::Transfer {
            to: key("alice").account(),
            amount: 1,
        },
    )
    .await;
    assert_eq!(r.status, "success", "{r:?}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_the_node_with_a_message_and_it_restarts_at_the_head_it_reported() {
    let fs = Tmpfs::new("32m");
    let data = fs.mnt.join("d");
    let logs = tempfile::tempdir().expect("tmp");
    let log_path = logs.path().join("node.log");
    let mut node = DevNode::spawn_with(
        &[
            "node",
            "--dev",
            "--rpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--block-interval-ms",
            "20",
            "--min-free-disk-mb",
            "4",
            "--data-dir",
            data.to_str().expect("utf-8"),
        ],
        "warn",
        std::fs::File::create(&log_path).expect("log").into(),
    );
    let c = node.client();
    let before = transfer_committed(&c).await;
    let block_before = c.get_block(Some(before.height)).await.expect("block");

    let junk = fs.fill();
    // Whatever the node writes next fails; a transfer makes sure it has something to write.
    // (The node may already have stopped: then the submission fails, which is fine.)
    let _ = submit(
        &c,
        &sign(
            &key("alice"),
            0,
            100_000,
            Call::Transfer {
                to: key("bob").account(),
                amount: 1,
            },
        ),
    )
    .await;
    let status = exit_of(&mut node.child);
    assert!(!status.success(), "the node exits non-zero: {status}");
    let log = std::fs::read_to_string(&log_path).expect("log");
    let message = log
        .lines()
        .find(|l| l.starts_with("error: the data directory"))
        .unwrap_or_else(|| panic!("no stop message in the log:\n{log}"));
    assert!(
        message.contains(data.to_str().expect("utf-8"))
            && message.contains("cannot be written")
            && message.contains("No space left on device"),
        "{message}"
    );
    let reported: u64 = message
        .split("stopped at height ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("no height in {message}"));
    assert!(reported >= before.height, "{message}");

    std::fs::remove_file(junk).expect("free the space");
    // With the default floor of 64 MiB this 32 MiB filesystem could never hold a block.
    let node = DevNode::spawn(&[
        "node",
        "--dev",
        "--rpc-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
        "--min-free-disk-mb",
        "4",
        "--data-dir",
        data.to_str().expect("utf-8"),
    ]);
    let c = node.client();
    let head = c.get_head().await.expect("head");
    assert_eq!(head.height, reported, "restarted at the head it reported");
    assert_eq!(
        c.get_block(Some(before.height)).await.expect("block").raw,
        block_before.raw,
        "the committed block is intact"
    );
    let after = transfer_committed(&c).await;
    assert!(after.height > reported);
    node.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_data_directory_makes_the_node_refuse_to_start_with_a_message() {
    let fs = Tmpfs::new("512m");
    let data = fs.mnt.join("d");
    let node = DevNode::start(&data);
    let c = node.client();
    let before = transfer_committed(&c).await;
    let head = c.get_head().await.expect("head");
    node.terminate();

    fs.remount("ro");
    let mut child = Command::new(env!("CARGO_BIN_EXE_civitas"))
        .args([
            "node",
            "--dev",
            "--rpc-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().expect("utf-8"),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let status = exit_of(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read stderr");
    assert!(!status.success(), "the node exits non-zero: {status}");
    assert!(
        stderr.contains(data.to_str().expect("utf-8")) && stderr.contains("Read-only file system"),
        "{stderr}"
    );

    fs.remount("rw");
    let node = DevNode::start(&data);
    let c = node.client();
    assert_eq!(c.get_head().await.expect("head"), head, "the same head");
    let after = transfer_committed(&c).await;
    assert!(after.height > before.height);
    node.terminate();
}
