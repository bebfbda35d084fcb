//! Contract code: uploads, instantiation, calls and upgrades.
use civitas_primitives::{contract_address, AccountId, Hash};
use civitas_runtime::{CallRequest, Entry};

use super::apply::{CallResult, TxCtx};
use super::{fuel, ExecError, Executor};
use crate::state::{keys, CodeInfo, ContractInfo};

impl Executor {
    /// Validates and stores code (once per code hash); the output is the code hash.
    pub(super) fn upload_code(&self, t: TxCtx<'_>, code: &[u8]) -> Result<CallResult, ExecError> {
        let cost = fuel::UPLOAD_PER_BYTE.saturating_mul(code.len() as u64);
        if let Some(r) = t.over_limit(cost) {
            return Ok(r);
        }
        let info = match self.vm.validate(code) {
            Ok(info) => info,
            Err(e) => return Ok(CallResult::fail(cost, "invalid_code", e.to_string())),
        };
        let key = keys::code(&info.code_hash);
        if t.view.get(&key)?.is_none() {
            t.view.put_encoded(
                key,
                &CodeInfo {
                    code: code.to_vec(),
                    uploader: t.signer(),
                    refcount: 0,
                },
            )?;
        }
        Ok(CallResult {
            output: info.code_hash.0.to_vec(),
            ..CallResult::ok(cost)
        })
    }

    /// Runs stored code's constructor at a fresh address; the output is the address.
    pub(super) fn instantiate(
        &self,
        t: TxCtx<'_>,
        code_hash: &Hash,
        salt: &[u8],
        input: &[u8],
    ) -> Result<CallResult, ExecError> {
        if let Some(r) = t.over_limit(fuel::INSTANTIATE) {
            return Ok(r);
        }
        let view = t.view;
        let signer = t.signer();
        let Some(mut code) = view.get_decoded::<CodeInfo>(&keys::code(code_hash))? else {
            return Ok(CallResult::fail(
                fuel::INSTANTIATE,
                "code_not_found",
                format!("no code stored under {code_hash}"),
            ));
        };
        let address = contract_address(&signer, code_hash, salt);
        if view.get(&keys::contract(&address))?.is_some() {
            return Ok(CallResult::fail(
                fuel::INSTANTIATE,
                "contract_exists",
                format!("a contract already exists at {address}: use another salt"),
            ));
        }
        let mut result = self.vm_call(
            view,
            t.block,
            CallRequest {
                code_hash: *code_hash,
                contract: address,
                caller: signer,
                input: input.to_vec(),
                fuel_limit: t.tx().fuel_limit - fuel::INSTANTIATE,
                entry: Entry::Deploy,
                read_only: false,
            },
            fuel::INSTANTIATE,
        )?;
        if result.error.is_none() {
            code.refcount += 1;
            view.put_encoded(keys::code(code_hash), &code)?;
            view.put_encoded(
                keys::contract(&address),
                &ContractInfo {
                    code_hash: *code_hash,
                    admin: signer,
                },
            )?;
            result.output = address.0.to_vec();
        }
        Ok(result)
    }

    /// Calls a contract.
    pub(super) fn call_contract(
        &self,
        t: TxCtx<'_>,
        contract: &AccountId,
        input: &[u8],
    ) -> Result<CallResult, ExecError> {
        let Some(info) = t
            .view
            .get_decoded::<ContractInfo>(&keys::contract(contract))?
        else {
            return Ok(CallResult::fail(
                0,
                "contract_not_found",
                format!("no contract at {contract}"),
            ));
        };
        self.vm_call(
            t.view,
            t.block,
            CallRequest {
                code_hash: info.code_hash,
                contract: *contract,
                caller: t.signer(),
                input: input.to_vec(),
                fuel_limit: t.tx().fuel_limit,
                entry: Entry::Call,
                read_only: false,
            },
            0,
        )
    }
}

/// Points a contract at other stored code (its admin only), moving the code references.
pub(super) fn upgrade(
    t: TxCtx<'_>,
    contract: &AccountId,
    code_hash: &Hash,
) -> Result<CallResult, ExecError> {
    if let Some(r) = t.over_limit(fuel::UPGRADE) {
        return Ok(r);
    }
    let view = t.view;
    let Some(mut info) = view.get_decoded::<ContractInfo>(&keys::contract(contract))? else {
        return Ok(CallResult::fail(
            fuel::UPGRADE,
            "contract_not_found",
            format!("no contract at {contract}"),
        ));
    };
    if info.admin != t.signer() {
        return Ok(CallResult::fail(
            fuel::UPGRADE,
            "not_admin",
            "only the contract's admin may upgrade it",
        ));
    }
    let Some(mut new_code) = view.get_decoded::<CodeInfo>(&keys::code(code_hash))? else {
        return Ok(CallResult::fail(
            fuel::UPGRADE,
            "code_not_found",
            format!("no code stored under {code_hash}"),
        ));
    };
    if let Some(mut old) = view.get_decoded::<CodeInfo>(&keys::code(&info.code_hash))? {
        old.refcount = old.refcount.saturating_sub(1);
        view.put_encoded(keys::code(&info.code_hash), &old)?;
    }
    new_code.refcount += 1;
    view.put_encoded(keys::code(code_hash), &new_code)?;
    info.code_hash = *code_hash;
    view.put_encoded(keys::contract(contract), &info)?;
    Ok(CallResult::ok(fuel::UPGRADE))
}
