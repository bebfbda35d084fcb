//! `consent_*`: a party's consents, on a signed request.

use civitas_ledger::state::keys;
use civitas_primitives::clock::now_ms;
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult};

use super::internal;
use super::private::{head_time, PrivateApi};

#[async_trait]
impl ConsentApiServer for PrivateApi {
    async fn list(&self, request: String) -> RpcResult<Vec<ConsentInfo>> {
        let req = self.guard.check(&request, "consent_list", now_ms())?;
        let (head, view) = self.view()?;
        let mut ids = view
            .id_list(&keys::consents_of_grantee(&req.signer))
            .map_err(internal)?;
        if let Some(subject) = view.subject_of(&req.signer).map_err(internal)? {
            ids.extend(
                view.id_list(&keys::consents_of_subject(&subject))
                    .map_err(internal)?,
            );
        }
        ids.sort_unstable();
        ids.dedup();
        let now = head_time(&self.chain)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = view.consent(id).map_err(internal)? {
                let mut info = consent_info(&c, now);
                info.proof = Some(self.proven_value(keys::consent(id), head.height)?);
                out.push(info);
            }
        }
        Ok(out)
    }
}
