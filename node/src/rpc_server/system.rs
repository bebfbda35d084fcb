//! `system_*`: health and version.

use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult};

use super::Api;

#[async_trait]
impl SystemApiServer for Api {
    async fn health(&self) -> RpcResult<Health> {
        Ok(Health {
            height: self.chain.head().height,
            pending: self.chain.pending(),
            chain_id: self.chain.block_exec.params().chain_id.clone(),
        })
    }

    async fn version(&self) -> RpcResult<VersionInfo> {
        Ok(VersionInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            api: "1".into(),
        })
    }
}
