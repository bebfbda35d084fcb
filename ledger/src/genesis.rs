//! Genesis: the chain id, the first accounts with their credits and roles, the deploy policy and
//! the governance threshold. Written once as version 0 of the state.
use std::collections::BTreeSet;

use civitas_primitives::committee::SealedCommittee;
use civitas_primitives::tx::{Role, RoleSet};
use civitas_primitives::vault::{valid_dataset_id, Dataset};
use civitas_primitives::AccountId;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::state::{keys, AccountInfo, DeployPolicy, StateView};

/// One genesis account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    /// A label for people (e.g. "tax-department").
    pub name: String,
    /// Account id, 64 hex digits.
    pub account: String,
    /// Initial credits.
    #[serde(default)]
    pub balance: u128,
    /// Roles: validator, custodian, institution, regulator, identity.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The genesis document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Chain id; every transaction names it.
    pub chain_id: String,
    /// Time of the genesis state, milliseconds since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Accounts.
    pub accounts: Vec<GenesisAccount>,
    /// Roles that may upload code.
    pub upload_roles: Vec<String>,
    /// Roles that may instantiate contracts.
    pub instantiate_roles: Vec<String>,
    /// Department approvals a governance proposal needs.
    pub governance_threshold: u32,
    /// Credits a custodian earns per committed record.
    #[serde(default = "default_record_reward")]
    pub record_reward: u128,
    /// The fee price: credits per 10^6 fuel a transaction uses, paid by its signer (default 0:
    /// no fees). Governance changes it with `SetFuelPrice`. Left out of the document when 0,
    /// so a genesis without fees reads and hashes as it did before fees existed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fuel_price: u128,
    /// Datasets registered from the start.
    #[serde(default)]
    pub datasets: Vec<GenesisDataset>,
    /// The chain access key, 64 hex digits: the x25519 public key that private call bodies
    /// are encrypted to (the validators hold its secret). Without it, no private call (identity
    /// binding, record commitment, consent, sealed call, disclosure) can be made.
    #[serde(default)]
    pub access_key: Option<String>,
    /// The sealed-compute committee: the validators that hold record payloads and the chain
    /// sealing key, run sealed calls and attest their output hashes. Absent: the first three
    /// validators in this document's order, with a majority threshold.
    #[serde(default)]
    pub sealed_committee: Option<GenesisCommittee>,
    /// The committee transport key, 64 hex digits: the x25519 public key record payloads are
    /// encrypted to when one node forwards them to the committee's nodes (its secret derives
    /// from the chain sealing key). Without it payloads travel between nodes in clear.
    #[serde(default)]
    pub committee_key: Option<String>,
}

/// The sealed-compute committee named at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisCommittee {
    /// Members: genesis validators, by name or by 64-hex account id.
    pub members: Vec<String>,
    /// Identical attestations that make an output final.
    pub threshold: u32,
}

fn is_zero(price: &u128) -> bool {
    *price == 0
}

fn default_record_reward() -> u128 {
    10
}

/// A dataset registered at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisDataset {
    /// Id such as `tax.annual_income`.
    pub id: String,
    /// Custodian account, 64 hex digits.
    pub custodian: String,
    /// Fields as `name:type` (types u32, u64, u128, i64, bool, text).
    pub fields: Vec<String>,
    /// Credits per sealed read or disclosure.
    pub price: u128,
}

impl GenesisDataset {
    /// The dataset this entry describes.
    pub fn parse(&self) -> Result<Dataset, GenesisError> {
        let bad = |why: String| GenesisError::Dataset {
            id: self.id.clone(),
            why,
        };
        if !valid_dataset_id(&self.id) {
            return Err(bad("not a valid dataset id".into()));
        }
        let custodian = AccountId::from_hex(&self.custodian).ok_or_else(|| {
            bad(format!(
                "custodian `{}` is not 64 hex digits",
                self.custodian
            ))
        })?;
        let fields = self
            .fields
            .iter()
            .map(|f| parse_field(f).map_err(&bad))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Dataset {
            id: self.id.clone(),
            custodian,
            fields,
            price: self.price,
        })
    }
}

pub use civitas_primitives::vault::parse_field;

/// A genesis document that does not make sense.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum GenesisError {
    /// An account id that is not 64 hex digits.
    #[error("genesis account `{name}`: `{account}` is not 64 hex digits")]
    BadAccount {
        /// Label.
        name: String,
        /// Text given.
        account: String,
    },
    /// An unknown role name.
    #[error("unknown role `{0}`: use validator, custodian, institution, regulator or identity")]
    UnknownRole(String),
    /// No validator, or a threshold no set of validators can reach.
    #[error("governance threshold {threshold} with {validators} validators: need 1 ≤ threshold ≤ validators")]
    Threshold {
        /// Threshold.
        threshold: u32,
        /// Validators.
        validators: u32,
    },
    /// A committee key that is not 64 hex digits.
    #[error("committee_key must be 64 hex digits (an x25519 public key)")]
    CommitteeKey,
    /// An access key that is not 64 hex digits.
    #[error("access_key must be 64 hex digits (an x25519 public key)")]
    AccessKey,
    /// A committee that names a non-validator or cannot reach its threshold.
    #[error("sealed_committee: {0}")]
    Committee(String),
    /// The same account twice.
    #[error("account {0} appears twice")]
    Duplicate(String),
    /// An empty or overlong chain id.
    #[error("chain id must be 1 to 64 bytes")]
    ChainId,
    /// A dataset entry that does not make sense.
    #[error("genesis dataset `{id}`: {why}")]
    Dataset {
        /// Dataset id.
        id: String,
        /// Why.
        why: String,
    },
}

/// Parses a role name.
pub fn parse_role(name: &str) -> Result<Role, GenesisError> {
    Role::ALL
        .into_iter()
        .find(|r| r.name() == name)
        .ok_or_else(|| GenesisError::UnknownRole(name.into()))
}

fn role_set(names: &[String]) -> Result<RoleSet, GenesisError> {
    let roles = names
        .iter()
        .map(|n| parse_role(n))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RoleSet::of(&roles))
}

/// A parsed genesis account: id, name, record.
type ParsedAccount = (AccountId, String, AccountInfo);

impl Genesis {
    /// The parsed accounts: (id, name, record).
    pub fn parsed_accounts(&self) -> Result<Vec<(AccountId, String, AccountInfo)>, GenesisError> {
        let mut out: Vec<(AccountId, String, AccountInfo)> =
            Vec::with_capacity(self.accounts.len());
        // Ids seen so far: O(log n) per account, so a genesis of 10^6 accounts parses in
        // seconds (a search of the list so far made it quadratic).
        let mut seen: BTreeSet<AccountId> = BTreeSet::new();
        for a in &self.accounts {
            let id = AccountId::from_hex(&a.account).ok_or_else(|| GenesisError::BadAccount {
                name: a.name.clone(),
                account: a.account.clone(),
            })?;
            if !seen.insert(id) {
                return Err(GenesisError::Duplicate(a.account.clone()));
            }
            out.push((
                id,
                a.name.clone(),
                AccountInfo {
                    nonce: 0,
                    balance: a.balance,
                    roles: role_set(&a.roles)?,
                },
            ));
        }
        Ok(out)
    }

    /// Checks the document.
    pub fn validate(&self) -> Result<(), GenesisError> {
        self.checked().map(|_| ())
    }

    /// Checks the document; returns its parsed accounts and its committee (each parsed once:
    /// a genesis may name a million accounts).
    fn checked(&self) -> Result<(Vec<ParsedAccount>, SealedCommittee), GenesisError> {
        if self.chain_id.is_empty() || self.chain_id.len() > civitas_primitives::tx::MAX_CHAIN_ID {
            return Err(GenesisError::ChainId);
        }
        let accounts = self.parsed_accounts()?;
        role_set(&self.upload_roles)?;
        for d in &self.datasets {
            d.parse()?;
        }
        role_set(&self.instantiate_roles)?;
        self.access_key_bytes()?;
        self.committee_key_bytes()?;
        let committee = self.committee_of(&accounts)?;
        let validators = accounts
            .iter()
            .filter(|(_, _, i)| i.roles.has(Role::Validator))
            .count() as u32;
        if self.governance_threshold == 0 || self.governance_threshold > validators {
            return Err(GenesisError::Threshold {
                threshold: self.governance_threshold,
                validators,
            });
        }
        Ok((accounts, committee))
    }

    /// The sealed-compute committee this genesis names (or its default).
    pub fn committee(&self) -> Result<SealedCommittee, GenesisError> {
        self.committee_of(&self.parsed_accounts()?)
    }

    /// The committee, from the already parsed accounts.
    fn committee_of(&self, accounts: &[ParsedAccount]) -> Result<SealedCommittee, GenesisError> {
        let validators: Vec<AccountId> = accounts
            .iter()
            .filter(|(_, _, i)| i.roles.has(Role::Validator))
            .map(|(id, _, _)| *id)
            .collect();
        let Some(named) = &self.sealed_committee else {
            return Ok(SealedCommittee::default_for(&validators));
        };
        let mut members = Vec::with_capacity(named.members.len());
        for m in &named.members {
            let as_id = AccountId::from_hex(m);
            let id = accounts
                .iter()
                .find(|(id, name, _)| name == m || as_id == Some(*id))
                .map(|(id, _, _)| *id)
                .filter(|id| validators.contains(id))
                .ok_or_else(|| {
                    GenesisError::Committee(format!("member `{m}` is not a genesis validator"))
                })?;
            members.push(id);
        }
        members.sort();
        if members.windows(2).any(|w| w[0] == w[1]) {
            return Err(GenesisError::Committee("a member is named twice".into()));
        }
        let committee = SealedCommittee {
            members,
            threshold: named.threshold,
        };
        match committee.problem() {
            Some(p) => Err(GenesisError::Committee(p.into())),
            None => Ok(committee),
        }
    }

    /// The committee transport key, if the genesis names one.
    pub fn committee_key_bytes(&self) -> Result<Option<[u8; 32]>, GenesisError> {
        self.committee_key
            .as_deref()
            .map(|k| {
                AccountId::from_hex(k)
                    .map(|a| a.0)
                    .ok_or(GenesisError::CommitteeKey)
            })
            .transpose()
    }

    /// The chain access key, if the genesis names one.
    pub fn access_key_bytes(&self) -> Result<Option<[u8; 32]>, GenesisError> {
        self.access_key
            .as_deref()
            .map(|k| {
                AccountId::from_hex(k)
                    .map(|a| a.0)
                    .ok_or(GenesisError::AccessKey)
            })
            .transpose()
    }

    /// Writes the genesis state into `view`.
    pub fn write(&self, view: &StateView) -> Result<(), crate::ExecError> {
        let (accounts, committee) = self
            .checked()
            .map_err(|e| crate::ExecError::Genesis(e.to_string()))?;
        let mut validators = Vec::new();
        for (id, _, info) in accounts {
            view.set_account(&id, &info)?;
            if info.roles.has(Role::Validator) {
                validators.push(id);
            }
        }
        validators.sort();
        view.put_encoded(keys::VALIDATORS.to_vec(), &vec![(0u64, validators)])?;
        let policy = DeployPolicy {
            upload: role_set(&self.upload_roles)
                .map_err(|e| crate::ExecError::Genesis(e.to_string()))?,
            instantiate: role_set(&self.instantiate_roles)
                .map_err(|e| crate::ExecError::Genesis(e.to_string()))?,
        };
        view.put_encoded(keys::DEPLOY_POLICY.to_vec(), &policy)?;
        view.put_encoded(keys::THRESHOLD.to_vec(), &self.governance_threshold)?;
        view.put_encoded(keys::COMMITTEE.to_vec(), &committee)?;
        view.put_encoded(keys::NEXT_PROPOSAL.to_vec(), &1u64)?;
        view.put_encoded(keys::HEIGHT.to_vec(), &0u64)?;
        view.put_encoded(keys::CHAIN_ID.to_vec(), &self.chain_id)?;
        view.put_encoded(keys::RECORD_REWARD.to_vec(), &self.record_reward)?;
        if self.fuel_price > 0 {
            view.put_encoded(keys::FUEL_PRICE.to_vec(), &self.fuel_price)?;
        }
        if let Some(key) = self
            .access_key_bytes()
            .map_err(|e| crate::ExecError::Genesis(e.to_string()))?
        {
            view.put_encoded(keys::ACCESS_KEY.to_vec(), &key)?;
        }
        for d in &self.datasets {
            let dataset = d
                .parse()
                .map_err(|e| crate::ExecError::Genesis(e.to_string()))?;
            view.put_dataset(&dataset)?;
        }
        view.commit_tx()?;
        Ok(())
    }
}
