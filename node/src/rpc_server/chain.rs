//! `chain_*`: heads, blocks, accounts, events, and subscriptions to new heads and events.

use civitas_ledger::state::StateView;
use civitas_ledger::Executor;
use civitas_primitives::block::validators_hash;
use civitas_primitives::tx::Role;
use civitas_rpc::errors::{self, error};
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult, SubscriptionResult};
use jsonrpsee::{PendingSubscriptionSink, SubscriptionMessage};

use civitas_ledger::store::{EventFilter, EventPosition, IndexedEvent};

use super::{account_param, internal, invalid_param, Api};
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

    async fn get_events(&self, query: EventQuery) -> RpcResult<EventPage> {
        let head = self.chain.head().height;
        let filter = event_filter(&query, head)?;
        let cursor = query
            .cursor
            .as_deref()
            .map(|c| {
                from_hex(c)
                    .ok()
                    .and_then(|b| EventPosition::from_bytes(&b))
                    .ok_or_else(|| {
                        invalid_param("cursor", "not a cursor this method returned".to_string())
                    })
            })
            .transpose()?;
        let limit = match query.limit {
            None => MAX_EVENT_PAGE,
            Some(0) => return Err(invalid_param("limit", "must be at least 1".to_string())),
            Some(n) if n > MAX_EVENT_PAGE => {
                return Err(invalid_param(
                    "limit",
                    format!("at most {MAX_EVENT_PAGE} events a page"),
                ))
            }
            Some(n) => n,
        };
        let (events, next) = self
            .chain
            .query_exec
            .store()
            .events(&filter, cursor, limit as usize)
            .map_err(internal)?;
        Ok(EventPage {
            events: events.iter().map(event_info).collect(),
            next_cursor: next.map(|p| to_hex(&p.to_bytes())),
            head,
        })
    }

    async fn subscribe_events(
        &self,
        pending: PendingSubscriptionSink,
        query: EventQuery,
    ) -> SubscriptionResult {
        let mut filter = match event_filter(&query, 0) {
            Ok(f) => f,
            Err(e) => {
                pending.reject(e).await;
                return Ok(());
            }
        };
        let mut heads = self.chain.subscribe_heads();
        let sink = pending.accept().await?;
        let store = self.chain.query_exec.store().clone();
        let mut next_height = self.chain.head().height + 1;
        loop {
            let head = match heads.recv().await {
                Ok(head) => head.height,
                // Missed heads are read from the index below, so none of their events is lost.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    self.chain.head().height
                }
                Err(_) => return Ok(()),
            };
            if head < next_height {
                continue;
            }
            filter.from_height = next_height;
            filter.to_height = head;
            let mut cursor = None;
            loop {
                let (events, next) = store
                    .events(&filter, cursor, MAX_EVENT_PAGE as usize)
                    .map_err(internal)?;
                for e in &events {
                    let msg = SubscriptionMessage::from(jsonrpsee::core::to_json_raw_value(
                        &event_info(e),
                    )?);
                    if sink.send(msg).await.is_err() {
                        return Ok(());
                    }
                }
                match next {
                    Some(n) => cursor = Some(n),
                    None => break,
                }
            }
            next_height = head + 1;
        }
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

/// The store's filter for `query`; `head` is the default last height.
fn event_filter(query: &EventQuery, head: u64) -> RpcResult<EventFilter> {
    let contract = query
        .contract
        .as_deref()
        .map(|c| account_param("contract", c))
        .transpose()?;
    let from_height = query.from_height.unwrap_or(1);
    let to_height = query.to_height.unwrap_or(head);
    if query.to_height.is_some() && to_height < from_height {
        return Err(invalid_param(
            "to_height",
            format!("{to_height} is below from_height {from_height}"),
        ));
    }
    Ok(EventFilter {
        contract,
        topic: query.topic.as_deref().map(topic_from_text),
        from_height,
        to_height,
    })
}

fn event_info(e: &IndexedEvent) -> IndexedEventInfo {
    IndexedEventInfo {
        height: e.position.height,
        tx_index: e.position.tx_index,
        event_index: e.position.event_index,
        tx_hash: to_hex(&e.tx_hash.0),
        contract: to_hex(&e.event.contract.0),
        topic: topic_text(&e.event.topic),
        data: to_hex(&e.event.data),
    }
}
