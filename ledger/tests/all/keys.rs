//! State keys of different families never collide: a dataset named like another key family's
//! constant registers as any other, and the chain goes on committing.
use civitas_primitives::block::ReceiptStatus;
use civitas_primitives::tx::Call;
use civitas_primitives::vault::{Field, FieldType};

use crate::common::*;

#[test]
fn a_dataset_called_index_registers_and_the_chain_goes_on() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut node = Node::open(dir.path());
    let register = |nonce, id: &str| {
        tx(
            "tax",
            nonce,
            Call::RegisterDataset {
                id: id.into(),
                fields: vec![Field {
                    name: "a".into(),
                    ty: FieldType::U32,
                }],
                price: 3,
            },
        )
    };
    let rejected = node.produce(vec![register(0, "index")]);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(node.receipts(1)[0].status, ReceiptStatus::Success);
    // The index still decodes and lists every dataset; the new one reads back.
    let (_, view) = node.exec.head_view().expect("view");
    assert_eq!(
        view.dataset_ids().expect("index decodes"),
        vec!["ds.a".to_string(), "ds.b".into(), "index".into()]
    );
    assert_eq!(
        view.dataset("index")
            .expect("read")
            .expect("registered")
            .price,
        3
    );
    // Later blocks, including another registration that reads the index, still commit.
    let rejected = node.produce(vec![register(1, "other"), transfer("alice", 0, "bob", 5)]);
    assert!(rejected.is_empty(), "{rejected:?}");
    assert_eq!(node.head.height, 2);
    assert!(node
        .receipts(2)
        .iter()
        .all(|r| r.status == ReceiptStatus::Success));
    assert_eq!(node.balance("bob"), 1_005);
}
