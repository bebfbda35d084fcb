//! `chain_subscribeNewHeads` over WebSocket on the RPC port: every committed block arrives as a
//! head, in order, equal to what `chain_getBlock` serves for that height; unsubscribing ends
//! the stream and leaves the connection usable.
use crate::common::*;
use jsonrpsee::ws_client::WsClientBuilder;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_subscribers_receive_each_new_head_in_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let ws_url = node.url.replacen("http://", "ws://", 1);
    let ws = WsClientBuilder::default()
        .build(&ws_url)
        .await
        .expect("websocket connection");
    let start = ChainApiClient::get_head(&ws).await.expect("head over ws");
    let mut heads = ChainApiClient::subscribe_new_heads(&ws)
        .await
        .expect("subscribe");

    let bank = key("bank-a");
    let mut received = Vec::new();
    for n in 0..3u64 {
        let hash = submit(
            &c,
            &sign(
                &bank,
                n,
                100_000,
                Call::Transfer {
                    to: key("alice").account(),
                    amount: 1,
                },
            ),
        )
        .await
        .expect("admitted");
        let head = tokio::time::timeout(Duration::from_secs(30), heads.next())
            .await
            .expect("a head within 30 s")
            .expect("the subscription is open")
            .expect("a head");
        let r = wait(&c, &hash).await;
        assert_eq!(r.height, head.height, "the head of the transaction's block");
        received.push(head);
    }
    for (i, head) in received.iter().enumerate() {
        assert_eq!(head.height, start.height + 1 + i as u64, "{received:?}");
        let block = ChainApiClient::get_block(&c, Some(head.height))
            .await
            .expect("block");
        assert_eq!(
            (&head.block_hash, &head.state_root),
            (&block.header.hash, &block.header.state_root),
            "height {}",
            head.height
        );
    }
    assert_eq!(received.last(), Some(&c.get_head().await.expect("head")));

    heads.unsubscribe().await.expect("unsubscribe");
    let after = ChainApiClient::get_head(&ws)
        .await
        .expect("the connection still answers");
    assert_eq!(Some(&after), received.last());
    drop(ws);
    node.terminate();
}
