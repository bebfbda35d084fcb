//! Shared fixtures: a genesis with named dev keys, a node on a temp dir, block helpers.
use std::path::Path;

use civitas_ledger::{
    BlockProposal, ChainParams, ExecutedBlock, Executor, Genesis, GenesisAccount, Head, Store,
};
use civitas_primitives::block::{vote_message, CommitCertificate};
use civitas_primitives::crypto::Keypair;
use civitas_primitives::tx::{Call, SignedTransaction, Transaction};
use civitas_runtime::{Vm, VmConfig};

pub const CHAIN: &str = "civitas-test";

pub fn key(name: &str) -> Keypair {
    Keypair::dev(name)
}

pub fn genesis() -> Genesis {
    let acct = |name: &str, balance: u128, roles: &[&str]| GenesisAccount {
        name: name.into(),
        account: key(name).account().to_hex(),
        balance,
        roles: roles.iter().map(|r| r.to_string()).collect(),
    };
    Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 1_700_000_000_000,
        accounts: vec![
            acct("tax", 1_000_000, &["validator", "custodian"]),
            acct("civil", 1_000_000, &["validator", "custodian", "identity"]),
            acct("land", 1_000_000, &["validator", "custodian"]),
            acct("bank", 500_000, &["institution"]),
            acct("alice", 1_000, &[]),
            acct("bank2", 500_000, &["institution"]),
            acct("reg", 0, &["regulator"]),
            acct("bob", 1_000, &[]),
        ],
        upload_roles: vec!["institution".into()],
        instantiate_roles: vec!["institution".into()],
        governance_threshold: 2,
        sealed_committee: None,
        committee_key: None,
        record_reward: 10,
        fuel_price: 0,
        datasets: ["ds.a", "ds.b"]
            .iter()
            .map(|id| civitas_ledger::genesis::GenesisDataset {
                id: (*id).into(),
                custodian: key("tax").account().to_hex(),
                fields: vec!["value:u32".into()],
                price: 7,
            })
            .collect(),
        access_key: Some(hex::encode(access_key())),
    }
}

/// The test chain's access key (public): private call bodies are encrypted to it.
pub fn access_key() -> [u8; 32] {
    civitas_primitives::crypto::x25519_public(&civitas_primitives::dev::dev_access_key(CHAIN))
}

/// Signs `tx`, encrypting a private kind's body to the test chain's access key.
pub fn sign(k: &Keypair, tx: Transaction) -> SignedTransaction {
    k.sign_tx_for_chain(tx, &access_key()).expect("encrypts")
}

pub struct Node {
    pub exec: Executor,
    pub head: Head,
    pub time_ms: u64,
}

impl Node {
    pub fn open(dir: &Path) -> Node {
        Self::open_with(dir, ChainParams::new(CHAIN))
    }

    /// A node with other chain parameters (to build blocks the default rules refuse).
    pub fn open_with(dir: &Path, params: ChainParams) -> Node {
        Self::open_store(dir, params, civitas_ledger::StoreConfig::default())
    }

    /// A node whose store keeps the history `config` says.
    pub fn open_store(
        dir: &Path,
        params: ChainParams,
        config: civitas_ledger::StoreConfig,
    ) -> Node {
        let store = Store::open_with(dir, config).expect("open store");
        let exec = Executor::new(
            store.clone(),
            Vm::new(VmConfig::default()).expect("vm"),
            params,
        )
        .with_vault(civitas_ledger::vault::Vault::new(store, [42; 32]))
        .with_sealing_key([7; 32])
        .with_access_key(civitas_primitives::dev::dev_access_key(CHAIN));
        let head = exec.init_genesis(&genesis()).expect("genesis");
        // A reopened store goes on from its head block's time.
        let time_ms = exec
            .parent_time(&head)
            .expect("head time")
            .max(1_700_000_000_000);
        Node {
            exec,
            head,
            time_ms,
        }
    }

    /// Proposes a block from `txs` on the head, one second after the previous block.
    pub fn propose(&mut self, txs: Vec<SignedTransaction>) -> BlockProposal {
        self.time_ms += 1_000;
        self.exec
            .propose(&self.head, self.time_ms, key("tax").account(), txs)
            .expect("propose")
    }

    /// Commits an executed block with the proposer's signature.
    pub fn commit(&mut self, executed: ExecutedBlock) {
        let proposer = key("tax");
        let hash = executed.block.header.hash();
        let height = executed.block.header.height;
        let cert = CommitCertificate {
            height,
            round: 0,
            block_hash: hash,
            signatures: vec![(
                proposer.account(),
                proposer.sign_hash(&vote_message(CHAIN, height, 0, &hash)),
            )],
        };
        self.head = self.exec.commit(executed, cert).expect("commit");
    }

    /// Proposes a block from `txs`, commits it with the proposer's signature, returns rejections.
    pub fn produce(&mut self, txs: Vec<SignedTransaction>) -> Vec<civitas_ledger::TxError> {
        let BlockProposal {
            executed,
            rejected,
            excluded,
        } = self.propose(txs);
        assert!(excluded.is_empty(), "excluded: {excluded:?}");
        self.commit(executed);
        rejected.into_iter().map(|(_, e)| e).collect()
    }

    /// The sealed-compute committee's work on committed sealed call `tx_hash` (the test
    /// genesis's default committee is tax, civil and land with threshold 2): tax runs it and
    /// keeps its result, empty blocks pass until its attestations are due, then tax and civil
    /// attest. Returns the attested output hash and the stored result.
    pub fn settle_sealed(
        &mut self,
        tx_hash: civitas_primitives::Hash,
    ) -> (
        civitas_primitives::Hash,
        civitas_ledger::vault::StoredSealedOutput,
    ) {
        use civitas_primitives::committee::{SealedAttestation, ATTESTATION_DELAY};
        let height = self
            .exec
            .store()
            .tx_location(&tx_hash)
            .expect("read")
            .expect("committed")
            .height;
        let (output_hash, stored) = self
            .exec
            .run_sealed_job(&tx_hash, height)
            .expect("runs")
            .expect("a sealed call");
        self.exec
            .vault()
            .expect("vault")
            .put_sealed_output(&tx_hash, &stored)
            .expect("kept");
        while self.head.height + 1 < height + ATTESTATION_DELAY {
            assert!(self.produce(Vec::new()).is_empty());
        }
        let attest = |name: &str, nonce: u64| {
            tx(
                name,
                nonce,
                Call::AttestSealedOutputs {
                    attestations: vec![SealedAttestation {
                        call: tx_hash,
                        output_hash,
                    }],
                },
            )
        };
        let txs = vec![
            attest("tax", self.nonce("tax")),
            attest("civil", self.nonce("civil")),
        ];
        let rejected = self.produce(txs);
        assert!(rejected.is_empty(), "attestations refused: {rejected:?}");
        let (_, view) = self.exec.head_view().expect("view");
        let outcome = Executor::sealed_outcome(&view, &tx_hash)
            .expect("read")
            .expect("outcome");
        assert_eq!(outcome.output_hash, Some(output_hash), "attested");
        (output_hash, stored)
    }

    pub fn nonce(&self, name: &str) -> u64 {
        let (_, view) = self.exec.head_view().expect("view");
        view.account(&key(name).account()).expect("account").nonce
    }

    pub fn balance(&self, name: &str) -> u128 {
        let (_, view) = self.exec.head_view().expect("view");
        view.account(&key(name).account()).expect("account").balance
    }

    pub fn receipts(&self, height: u64) -> Vec<civitas_primitives::block::Receipt> {
        self.exec
            .store()
            .receipts(height)
            .expect("read")
            .expect("receipts stored")
    }
}

pub fn tx(signer: &str, nonce: u64, call: Call) -> SignedTransaction {
    let k = key(signer);
    sign(
        &k,
        Transaction {
            chain_id: CHAIN.into(),
            signer: k.account(),
            nonce,
            fuel_limit: 10_000_000,
            call,
        },
    )
}

pub fn transfer(signer: &str, nonce: u64, to: &str, amount: u128) -> SignedTransaction {
    tx(
        signer,
        nonce,
        Call::Transfer {
            to: key(to).account(),
            amount,
        },
    )
}
