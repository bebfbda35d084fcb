//! `chain_*`: heads, blocks, accounts and new-head subscriptions.

use civitas_ledger::state::StateView;
use civitas_ledger::Executor;
use civitas_primitives::block::validators_hash;
use civitas_primitives::tx::Role;
use civitas_rpc::errors::{self, error};
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult, SubscriptionResult};
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage};

use super::{account_param, internal, Api};
use crate::service::head_info;

#[async_trait]
impl ChainApiServer for Api {
    async fn get_head(&self) -> RpcResult<HeadInfo> {
        Ok(head_info(&self.chain.head()))
    }

    async fn get_access_key(&self) -> RpcResult<String> {
        let (_, view) = self.chain.query_exec.head_view().map_err(internal)?;
        let key: Option<[u8; 32]> = view
            .get_decoded(civitas_ledger::state::keys::ACCESS_KEY)
            .map_err(internal)?;
        key.map(|k| to_hex(&k)).ok_or_else(|| {
            error(
                errors::NOT_FOUND,
                "this chain has no access key: its genesis names none, so no private call can be made",
                Some("no_access_key"),
            )
        })
    }

    async fn get_block(&self, height: Option<u64>) -> RpcResult<BlockInfo> {
        let height = height.unwrap_or_else(|| self.chain.head().height);
        let store = self.chain.query_exec.store();
        let block = store.block(height).map_err(internal)?.ok_or_else(|| {
            error(
                errors::NOT_FOUND,
                format!("no block at height {height}"),
                Some("unknown_block"),
            )
        })?;
        let cert = store.certificate(height).map_err(internal)?;
        let signers = cert
            .as_ref()
            .map(|c| c.signatures.iter().map(|(v, _)| to_hex(&v.0)).collect())
            .unwrap_or_default();
        let mut info = BlockInfo::new(&block, signers);
        info.certificate = cert.map(|c| to_hex(&parity_scale_codec::Encode::encode(&c)));
        Ok(info)
    }

    async fn get_validators(&self, height: Option<u64>) -> RpcResult<ValidatorsInfo> {
        let head = self.chain.head();
        let height = height.unwrap_or(head.height + 1);
        // The set of `height` is fixed by the state before it: the state after `height - 1`,
        // or the head's for the two heights a committed change cannot reach yet.
        if height == 0 || height > head.height + 2 {
            return Err(error(
                errors::NOT_FOUND,
                format!(
                    "no validator set for height {height}: heights 1 to {} are known",
                    head.height + 2
                ),
                Some("unknown_height"),
            ));
        }
        let version = (height - 1).min(head.height);
        let view = StateView::new(self.chain.query_exec.store().clone(), version);
        let (since, set) = Executor::validator_set_since(&view, height).map_err(internal)?;
        Ok(ValidatorsInfo {
            height,
            since,
            validators: set.iter().map(|v| to_hex(&v.0)).collect(),
            hash: to_hex(&validators_hash(&set).0),
        })
    }

    async fn get_account(&self, account: String) -> RpcResult<AccountInfoJson> {
        let id = account_param("account", &account)?;
        let (_, view) = self.chain.query_exec.head_view().map_err(internal)?;
        let info = view.account(&id).map_err(internal)?;
        Ok(AccountInfoJson {
            account: to_hex(&id.0),
            nonce: info.nonce,
            balance: info.balance.to_string(),
            roles: Role::ALL
                .iter()
                .filter(|r| info.roles.has(**r))
                .map(|r| r.name().to_string())
                .collect(),
        })
    }

    async fn subscribe_new_heads(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        let mut heads = self.chain.subscribe_heads();
        let sink = pending.accept().await?;
        loop {
            match heads.recv().await {
                Ok(head) => {
                    let msg = SubscriptionMessage::from(jsonrpsee::core::to_json_raw_value(&head)?);
                    if sink.send(msg).await.is_err() {
                        return Ok(());
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return Ok(()),
            }
        }
    }
}
