//! `tx_*`: submission (single and batch), status and receipts.

use civitas_primitives::block::Receipt;
use civitas_primitives::tx::SignedTransaction;
use civitas_rpc::errors::{self, error, invalid_param};
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult};

use super::{internal, Api};
use crate::mempool::PoolError;

#[async_trait]
impl TxApiServer for Api {
    async fn submit(&self, tx: String) -> RpcResult<String> {
        let bytes = from_hex(&tx).map_err(|e| invalid_param("tx", e))?;
        let stx = SignedTransaction::decode_checked(&bytes).map_err(|e| {
            error(
                errors::TX_REJECTED,
                format!("transaction refused: {e}"),
                Some("malformed"),
            )
        })?;
        let result = self.submitter.submit(stx).await;
        if let (Ok(_), Some(relay)) = (&result, self.chain.relay()) {
            relay.transactions(vec![tx]);
        }
        result.map(|hash| to_hex(&hash.0)).map_err(|e| {
            let (code, reason) = pool_error_code(&e);
            error(code, format!("transaction refused: {e}"), Some(reason))
        })
    }

    async fn submit_batch(&self, txs: Vec<String>) -> RpcResult<Vec<SubmitOutcome>> {
        if txs.len() > MAX_SUBMIT_BATCH {
            return Err(invalid_param(
                "txs",
                format!(
                    "{} transactions; the limit is {MAX_SUBMIT_BATCH}",
                    txs.len()
                ),
            ));
        }
        // Undecodable entries are refused in place (`Some`); the rest (`None`) go to the pool
        // as one batch, in order.
        let mut slots: Vec<Option<SubmitOutcome>> = Vec::with_capacity(txs.len());
        let mut valid: Vec<SignedTransaction> = Vec::with_capacity(txs.len());
        for (i, t) in txs.iter().enumerate() {
            let decoded = from_hex(t)
                .map_err(|e| format!("entry {i}: {e}"))
                .and_then(|b| {
                    SignedTransaction::decode_checked(&b).map_err(|e| format!("entry {i}: {e}"))
                });
            match decoded {
                Ok(stx) => {
                    valid.push(stx);
                    slots.push(None);
                }
                Err(message) => {
                    slots.push(Some(refused(errors::TX_REJECTED, "malformed", message)))
                }
            }
        }
        let chain = self.chain.clone();
        let results = tokio::task::spawn_blocking(move || chain.submit_batch(valid))
            .await
            .map_err(internal)?;
        if let Some(relay) = self.chain.relay() {
            let mut outcomes = results.iter();
            let admitted = slots
                .iter()
                .zip(&txs)
                .filter(|(slot, _)| slot.is_none() && matches!(outcomes.next(), Some(Ok(_))))
                .map(|(_, hex)| hex.clone())
                .collect();
            relay.transactions(admitted);
        }
        let mut results = results.into_iter();
        Ok(slots
            .into_iter()
            .map(|slot| match slot {
                Some(outcome) => outcome,
                None => match results.next() {
                    Some(Ok(hash)) => SubmitOutcome {
                        tx_hash: Some(to_hex(&hash.0)),
                        error_code: None,
                        reason: None,
                        message: None,
                    },
                    Some(Err(e)) => {
                        let (code, reason) = pool_error_code(&e);
                        refused(code, reason, format!("transaction refused: {e}"))
                    }
                    None => refused(errors::INTERNAL, "internal", "missing result".into()),
                },
            })
            .collect())
    }

    async fn status(&self, tx_hash: String) -> RpcResult<TxStatus> {
        let hash = parse_hash("tx_hash", &tx_hash)?;
        if let Some(status) = self.committed_status(&hash)? {
            return Ok(status);
        }
        if self.chain.is_pending(&hash) {
            return Ok(TxStatus::Pending);
        }
        // A block may have committed between the two reads: the pool drops its transactions
        // right after the store has them, so look again before saying unknown.
        Ok(self.committed_status(&hash)?.unwrap_or(TxStatus::Unknown))
    }

    async fn get_receipt(&self, tx_hash: String) -> RpcResult<ReceiptInfo> {
        let hash = parse_hash("tx_hash", &tx_hash)?;
        self.receipt(hash)
    }

    async fn get_receipts(&self, tx_hashes: Vec<String>) -> RpcResult<Vec<Option<ReceiptInfo>>> {
        if tx_hashes.len() > MAX_SUBMIT_BATCH {
            return Err(invalid_param(
                "tx_hashes",
                format!("at most {MAX_SUBMIT_BATCH} per call"),
            ));
        }
        let hashes = tx_hashes
            .iter()
            .enumerate()
            .map(|(i, h)| parse_hash(&format!("tx_hashes[{i}]"), h))
            .collect::<RpcResult<Vec<_>>>()?;
        let store = self.chain.query_exec.store();
        // One block's receipts held at a time: consecutive hashes of one block (a bulk upload's
        // chunk) read it once, and memory stays one block's whatever the hashes.
        let mut block: Option<(u64, Vec<Receipt>)> = None;
        let mut out = Vec::with_capacity(hashes.len());
        for hash in hashes {
            let Some(loc) = store.tx_location(&hash).map_err(internal)? else {
                out.push(None);
                continue;
            };
            if block.as_ref().map(|(h, _)| *h) != Some(loc.height) {
                block = Some((loc.height, self.block_receipts(loc.height)?));
            }
            let receipts = block
                .as_ref()
                .map(|(_, r)| r.as_slice())
                .unwrap_or_default();
            out.push(Some(self.receipt_info(&hash, loc, receipts)?));
        }
        Ok(out)
    }
}
fn refused(code: i32, reason: &str, message: String) -> SubmitOutcome {
    SubmitOutcome {
        tx_hash: None,
        error_code: Some(code),
        reason: Some(reason.into()),
        message: Some(message),
    }
}
fn pool_error_code(e: &PoolError) -> (i32, &'static str) {
    match e {
        PoolError::Invalid(e) => (errors::TX_REJECTED, e.code()),
        PoolError::Duplicate(_) => (errors::DUPLICATE, "duplicate"),
        PoolError::Full(_) => (errors::POOL_FULL, "pool_full"),
        PoolError::AccountFull(_) => (errors::POOL_FULL, "account_pool_full"),
        PoolError::Node(_) => (errors::INTERNAL, "node_failure"),
    }
}
