//! `consent_*`: a party's consents, on a signed request.

use civitas_ledger::state::keys;
use civitas_primitives::clock::now_ms;
use civitas_primitives::vault::{ConsentListQuery, MAX_CONSENT_PAGE};
use civitas_rpc::errors::invalid_param;
use civitas_rpc::*;
use jsonrpsee::core::{async_trait, RpcResult};

use super::internal;
use super::private::{head_time, PrivateApi};

#[async_trait]
impl ConsentApiServer for PrivateApi {
    async fn list(&self, request: String) -> RpcResult<Vec<ConsentInfo>> {
        let req = self.guard.check(&request, "consent_list", now_ms())?;
        // An empty body asks for the first page; a `ConsentListQuery` for the page after a
        // consent id.
        let query = if req.body.is_empty() {
            ConsentListQuery {
                after: None,
                limit: MAX_CONSENT_PAGE,
            }
        } else {
            Self::body::<ConsentListQuery>(&req)?
        };
        if query.limit == 0 || query.limit > MAX_CONSENT_PAGE {
            return Err(invalid_param(
                "limit",
                format!("between 1 and {MAX_CONSENT_PAGE} consents a page"),
            ));
        }
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
        ids.retain(|id| query.after.is_none_or(|after| *id > after));
        ids.truncate(query.limit as usize);
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
