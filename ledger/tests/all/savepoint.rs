//! Savepoints of a block's state view: a rollback restores the block layer exactly, whatever
//! was committed since, and drops the open transaction's writes.
use civitas_ledger::state::StateView;
use civitas_ledger::Store;

fn view(dir: &std::path::Path) -> StateView {
    StateView::new(Store::open(dir).expect("store"), 0)
}

fn kv(k: &str, v: Option<&str>) -> (Vec<u8>, Option<Vec<u8>>) {
    (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec()))
}

#[test]
fn rollback_restores_overwritten_deleted_and_absent_keys_and_drops_the_open_tx() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = view(dir.path());
    for (k, val) in [kv("a", Some("1")), kv("b", Some("2")), kv("gone", None)] {
        v.put(k, val).expect("put");
    }
    v.commit_tx().expect("commit");
    let before = v.block_writes().expect("writes");

    v.savepoint().expect("savepoint");
    // Overwritten twice in two commits, deleted, resurrected, and new.
    for (k, val) in [kv("a", Some("10")), kv("b", None), kv("gone", Some("x"))] {
        v.put(k, val).expect("put");
    }
    v.commit_tx().expect("commit");
    for (k, val) in [kv("a", Some("11")), kv("new", Some("n"))] {
        v.put(k, val).expect("put");
    }
    v.commit_tx().expect("commit");
    let (k, val) = kv("uncommitted", Some("u"));
    v.put(k, val).expect("put");
    v.rollback_to_savepoint().expect("rollback");

    assert_eq!(v.block_writes().expect("writes"), before);
    assert_eq!(v.get(b"uncommitted").expect("read"), None);
    assert_eq!(v.get(b"a").expect("read"), Some(b"1".to_vec()));
}

#[test]
fn after_release_commits_are_kept_and_a_rollback_only_drops_the_open_tx() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = view(dir.path());
    v.savepoint().expect("savepoint");
    let (k, val) = kv("kept", Some("1"));
    v.put(k, val).expect("put");
    v.commit_tx().expect("commit");
    v.release_savepoint().expect("release");

    // No savepoint is open: this commit is final for the block.
    let (k, val) = kv("kept", Some("2"));
    v.put(k, val).expect("put");
    v.commit_tx().expect("commit");
    let kept = v.block_writes().expect("writes");
    let (k, val) = kv("open", Some("o"));
    v.put(k, val).expect("put");
    v.rollback_to_savepoint().expect("rollback");
    assert_eq!(v.block_writes().expect("writes"), kept);
    assert_eq!(v.get(b"kept").expect("read"), Some(b"2".to_vec()));
    assert_eq!(v.get(b"open").expect("read"), None);
}
