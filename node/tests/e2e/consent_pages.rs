//! `consent_list` a page at a time: an empty body gives the first page, a `ConsentListQuery`
//! the page after a consent id; the citizen and the institution page through the same
//! consents in id order; a limit of 0 or over the maximum is refused, naming the limit.
use civitas_primitives::vault::{ConsentListQuery, MAX_CONSENT_PAGE};

use crate::common::*;

async fn page(c: &HttpClient, who: &Keypair, body: Vec<u8>) -> Result<Vec<u64>, ClientError> {
    let list =
        ConsentApiClient::list(c, signed_request(who, "consent_list", body, now_ms())).await?;
    Ok(list.into_iter().map(|c| c.id).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consents_are_listed_a_page_at_a_time_after_a_cursor_id() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = DevNode::start(dir.path());
    let c = node.client();
    let alice = dev_subject("alice");
    bind_identity(&c, "alice", alice).await;
    let bank = key("bank-a");
    let mut ids = Vec::new();
    for n in 0..5u32 {
        let r = send(
            &c,
            &bank,
            ADMIN_FUEL,
            Call::RequestConsent {
                request: ConsentRequest {
                    subject: alice,
                    datasets: vec!["tax.annual_income".into()],
                    purpose: format!("loan {n}"),
                    mode: ConsentMode::Disclose,
                    code_hash: None,
                    expires_ms: now_ms() + 86_400_000,
                    max_uses: 1,
                },
            },
        )
        .await;
        assert_eq!(r.status, "success", "{r:?}");
        ids.push(u64::decode(&mut &from_hex(&r.output).expect("hex")[..]).expect("id"));
    }
    for who in [key("alice"), bank.clone()] {
        // An empty body: the first page, here all five.
        assert_eq!(page(&c, &who, Vec::new()).await.expect("list"), ids);
        // Pages of two, each after the last id of the one before.
        let mut seen: Vec<u64> = Vec::new();
        let mut after = None;
        loop {
            let q = ConsentListQuery { after, limit: 2 };
            let got = page(&c, &who, q.encode()).await.expect("page");
            assert!(got.len() <= 2, "{got:?}");
            seen.extend(got.iter().copied());
            assert!(seen.len() <= ids.len(), "a consent listed twice: {seen:?}");
            if got.len() < 2 {
                break;
            }
            after = got.last().copied();
        }
        assert_eq!(seen, ids, "every consent once, in id order");
        for limit in [0, MAX_CONSENT_PAGE + 1] {
            let q = ConsentListQuery { after: None, limit };
            let (code, message, _) =
                rejection(page(&c, &who, q.encode()).await.expect_err("refused"));
            assert_eq!(code, -32602, "{message}");
            assert!(message.contains("limit"), "{message}");
        }
    }
}
