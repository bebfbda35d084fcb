//! `credits_*`: credit balances.

use civitas_primitives::AccountId;
use civitas_rpc::errors::invalid_param;
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult};

use super::internal;
use super::private::PrivateApi;

#[async_trait]
impl CreditsApiServer for PrivateApi {
    async fn get_balance(&self, account: String) -> RpcResult<CreditsInfo> {
        let id = AccountId(hex32(&account).map_err(|e| invalid_param("account", e))?);
        let (_, view) = self.view()?;
        Ok(CreditsInfo {
            account: to_hex(&id.0),
            balance: view.account(&id).map_err(internal)?.balance.to_string(),
        })
    }
}
