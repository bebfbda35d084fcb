//! A record commitment is admitted only once this node holds the record's payload: a
//! `CommitRecord` whose payload never reached `vault_putRecords` is refused at admission with
//! `payload_missing` and commits nothing; once the payload is put, the same transaction passes.
use crate::common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commitment_without_its_payload_is_refused_and_admitted_once_the_payload_is_put() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let (tax, alice) = (key("tax"), dev_subject("alice"));
    let record = tax_record(alice, 1, 50_000);
    let commit = sign(&tax, 0, ADMIN_FUEL, commit_call(&record));
    let commitments =
        || VaultApiClient::get_commitments(&c, to_hex(&alice.0), "tax.annual_income".into());
    let head = c.get_head().await.expect("head");

    let refused = |e| {
        assert_eq!(
            refusal(e),
            (errors::TX_REJECTED, json!({ "code": "payload_missing" }))
        )
    };
    refused(submit(&c, &commit).await.expect_err("no payload"));
    let out = c
        .submit_batch(vec![to_hex(&commit.encode())])
        .await
        .expect("batch");
    assert_eq!(
        (out[0].error_code, out[0].reason.as_deref(), &out[0].tx_hash),
        (Some(errors::TX_REJECTED), Some("payload_missing"), &None)
    );
    // Another record of hers held by the node does not stand in for this one.
    let other = tax_record(alice, 2, 61_000);
    VaultApiClient::put_records(&c, vec![to_hex(&other.encode())])
        .await
        .expect("put another record");
    refused(
        submit(&c, &commit)
            .await
            .expect_err("still not this payload"),
    );

    let health = c.health().await.expect("health");
    assert_eq!((health.pending, health.role.as_str()), (0, "dev"));
    assert!(
        c.peers().await.expect("peers").is_empty(),
        "a dev node has no peers"
    );
    assert_eq!(c.get_head().await.expect("head"), head, "nothing committed");
    assert_eq!(nonce(&c, &tax).await, 0);
    assert_eq!(commitments().await.expect("commitments"), vec![]);

    let put = VaultApiClient::put_records(&c, vec![to_hex(&record.encode())])
        .await
        .expect("put the payload");
    assert_eq!(put, vec![to_hex(&record.hash().0)]);
    let hash = submit(&c, &commit).await.expect("admitted now");
    let r = wait(&c, &hash).await;
    assert_eq!(r.status, "success", "{r:?}");
    let list = commitments().await.expect("commitments");
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].version, &list[0].record_hash),
        (1, &to_hex(&record.hash().0))
    );
    assert_eq!(nonce(&c, &tax).await, 1);
    node.terminate();
}
