//! `system_*`: health (with the node's role, peers and sync state), peers and version.

use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult};

use super::Api;

#[async_trait]
impl SystemApiServer for Api {
    async fn health(&self) -> RpcResult<Health> {
        let network = self.chain.network.view();
        let height = self.chain.head().height;
        Ok(Health {
            height,
            pending: self.chain.pending(),
            chain_id: self.chain.block_exec.params().chain_id.clone(),
            role: network.role.into(),
            peers: network.peers.len(),
            in_sync: network.in_sync(height),
        })
    }

    async fn peers(&self) -> RpcResult<Vec<PeerInfo>> {
        Ok(self
            .chain
            .network
            .view()
            .peers
            .into_iter()
            .map(|(id, address)| PeerInfo { id, address })
            .collect())
    }

    async fn version(&self) -> RpcResult<VersionInfo> {
        Ok(VersionInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            api: "1".into(),
        })
    }
}
