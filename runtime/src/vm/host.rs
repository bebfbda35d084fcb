//! The host functions behind the `civitas` import module. The linker is generated from the
//! ABI table in `civitas_primitives::abi`, so a function declared there without an
//! implementation here (or with another signature) does not compile.
//!
//! Metering comes from the table too: the generated wrapper of each function charges the call
//! fee and its entry's cost-class base before the function runs, and hands it a [`Meter`]
//! through which every access to the contract's memory goes, charging the copy cost and the
//! class's per-byte cost for the bytes touched. No function charges by hand.
use civitas_primitives::abi::{call_status, sealed_status, CostClass, HOST_MODULE, STORAGE_ABSENT};
use civitas_primitives::vault::{MAX_DATASET_ID, SEALED_OUTPUT_MAX};
use civitas_primitives::AccountId;
use ed25519_dalek::{Signature, VerifyingKey};
use wasmtime::{Caller, Linker, Trap};

use super::{Entry, Event, Frame, HostState, HostTrap, Shared, Vm};
use crate::error::{HostError, VmError};

type Ctx<'a> = Caller<'a, HostState>;
type HostResult<T> = wasmtime::Result<T>;

#[doc(hidden)]
macro_rules! host_ret {
    () => {
        ()
    };
    ($t:tt) => {
        $t
    };
}

macro_rules! link_host_functions {
    ($( $(#[$doc:meta])* fn $name:ident ( $($arg:ident : $ty:tt),* ) $(-> $ret:tt)? [cost = $class:ident]; )*) => {
        /// Registers every host function of the ABI table with the linker, each charged by
        /// its entry's cost class.
        pub(super) fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
            $(
                linker.func_wrap(
                    HOST_MODULE,
                    stringify!($name),
                    |mut caller: Ctx<'_>, $($arg: $ty),*| -> HostResult<host_ret!($($ret)?)> {
                        let meter = Meter::enter(&mut caller, stringify!($name), CostClass::$class)?;
                        $name(&mut caller, &meter, $($arg),*)
                    },
                )?;
            )*
            Ok(())
        }
    };
}
civitas_primitives::for_each_host_fn!(link_host_functions);

fn trap(e: impl Into<HostTrap>) -> wasmtime::Error {
    wasmtime::Error::new(e.into())
}

fn host_err(e: HostError) -> wasmtime::Error {
    trap(HostTrap::Host(e))
}

fn node_err(e: VmError) -> wasmtime::Error {
    trap(HostTrap::Node(e))
}

fn vm(c: &Ctx<'_>) -> Vm {
    c.data().vm.clone()
}

/// Deducts `amount` fuel or traps with `OutOfFuel`.
fn charge(c: &mut Ctx<'_>, amount: u64) -> HostResult<()> {
    let fuel = c.get_fuel()?;
    if fuel < amount {
        c.set_fuel(0)?;
        return Err(wasmtime::Error::new(Trap::OutOfFuel));
    }
    c.set_fuel(fuel - amount)?;
    Ok(())
}

fn shared_ref<'a>(c: &'a Ctx<'_>) -> HostResult<&'a Shared> {
    c.data()
        .shared
        .as_deref()
        .ok_or_else(|| node_err(VmError::Internal("call state missing".into())))
}

fn shared_mut<'a>(c: &'a mut Ctx<'_>) -> HostResult<&'a mut Shared> {
    c.data_mut()
        .shared
        .as_deref_mut()
        .ok_or_else(|| node_err(VmError::Internal("call state missing".into())))
}

fn span(
    function: &'static str,
    ptr: i32,
    len: i32,
    mem_len: usize,
) -> HostResult<std::ops::Range<usize>> {
    let (p, l) = (ptr as u32, len as u32);
    let start = p as usize;
    let end = start.checked_add(l as usize).filter(|e| *e <= mem_len);
    match end {
        Some(end) => Ok(start..end),
        None => Err(host_err(HostError::MemoryAccess {
            function,
            ptr: p,
            len: l,
        })),
    }
}

/// How one host call is charged: created by the generated wrapper, which has already charged
/// the call fee and the class base; every memory access of the call goes through it.
struct Meter {
    /// The ABI function, as errors name it.
    function: &'static str,
    /// Per byte copied either way.
    copy_per_byte: u64,
    /// Per byte read from the contract's memory, from the function's cost class.
    read_per_byte: u64,
}

impl Meter {
    /// Charges `host_call` and the class's base.
    fn enter(c: &mut Ctx<'_>, function: &'static str, class: CostClass) -> HostResult<Meter> {
        let (base, meter) = {
            let costs = &c.data().vm.inner.config.costs;
            let class = costs.class(class);
            (
                costs.host_call.saturating_add(class.base),
                Meter {
                    function,
                    copy_per_byte: costs.per_byte,
                    read_per_byte: class.per_byte,
                },
            )
        };
        charge(c, base)?;
        Ok(meter)
    }

    /// Copies `len` bytes out of the contract's memory, charging the copy and the class's
    /// per-byte cost.
    fn read(&self, c: &mut Ctx<'_>, ptr: i32, len: i32) -> HostResult<Vec<u8>> {
        let rate = self.copy_per_byte.saturating_add(self.read_per_byte);
        charge(c, rate.saturating_mul(u64::from(len as u32)))?;
        let memory = c
            .data()
            .memory
            .ok_or_else(|| node_err(VmError::Internal("memory not bound".into())))?;
        let data = memory.data(&*c);
        let range = span(self.function, ptr, len, data.len())?;
        Ok(data[range].to_vec())
    }

    fn read32(&self, c: &mut Ctx<'_>, ptr: i32) -> HostResult<[u8; 32]> {
        let v = self.read(c, ptr, 32)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&v);
        Ok(out)
    }

    /// Copies `bytes` into the contract's memory at `ptr`, charging the copy.
    fn write(&self, c: &mut Ctx<'_>, ptr: i32, bytes: &[u8]) -> HostResult<()> {
        self.produced(c, bytes.len())?;
        let memory = c
            .data()
            .memory
            .ok_or_else(|| node_err(VmError::Internal("memory not bound".into())))?;
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        let data = memory.data_mut(&mut *c);
        let range = span(self.function, ptr, len, data.len())?;
        data[range].copy_from_slice(bytes);
        Ok(())
    }

    /// Charges the copy of `len` bytes the host hands to the contract other than through its
    /// memory (into the result buffer).
    fn produced(&self, c: &mut Ctx<'_>, len: usize) -> HostResult<()> {
        charge(c, self.copy_per_byte.saturating_mul(len as u64))
    }
}

fn check_size(what: &'static str, len: i32, max: usize) -> HostResult<()> {
    let size = len as u32 as usize;
    if size > max {
        return Err(host_err(HostError::TooLarge { what, size, max }));
    }
    Ok(())
}

fn deny_read_only(c: &Ctx<'_>, function: &'static str) -> HostResult<()> {
    deny_after_sealed_read(c, function)?;
    if c.data().frame.read_only {
        return Err(host_err(HostError::ReadOnly { function }));
    }
    Ok(())
}

/// Traps once sealed data has been read in this call tree.
fn deny_after_sealed_read(c: &Ctx<'_>, function: &'static str) -> HostResult<()> {
    if shared_ref(c)?.sealed_reads > 0 {
        return Err(host_err(HostError::SealedSideEffect { function }));
    }
    Ok(())
}

fn input_len(c: &mut Ctx<'_>, _m: &Meter) -> HostResult<i32> {
    Ok(c.data().frame.input.len() as i32)
}

fn input_read(c: &mut Ctx<'_>, m: &Meter, dst: i32) -> HostResult<()> {
    let input = std::mem::take(&mut c.data_mut().frame.input);
    let r = m.write(c, dst, &input);
    c.data_mut().frame.input = input;
    r
}

fn set_return(c: &mut Ctx<'_>, m: &Meter, ptr: i32, len: i32) -> HostResult<()> {
    check_size("return value", len, vm(c).inner.config.limits.max_output)?;
    let size = len as u32 as usize;
    if shared_ref(c)?.sealed.is_some() && size > SEALED_OUTPUT_MAX {
        return Err(host_err(HostError::SealedOutputTooLarge {
            size,
            max: SEALED_OUTPUT_MAX,
        }));
    }
    let out = m.read(c, ptr, len)?;
    c.data_mut().frame.output = out;
    Ok(())
}

fn revert(c: &mut Ctx<'_>, m: &Meter, ptr: i32, len: i32) -> HostResult<()> {
    check_size("revert message", len, vm(c).inner.config.limits.max_output)?;
    let message = m.read(c, ptr, len)?;
    Err(trap(HostTrap::Revert(message)))
}

fn storage_lookup(c: &Ctx<'_>, key: &[u8]) -> HostResult<Option<Vec<u8>>> {
    let contract = c.data().frame.contract;
    let shared = shared_ref(c)?;
    if let Some(v) = shared.overlay.get(&contract, key) {
        return Ok(v.map(<[u8]>::to_vec));
    }
    shared
        .backend
        .storage_get(&contract, key)
        .map_err(|e| node_err(VmError::State(e)))
}

fn storage_read(
    c: &mut Ctx<'_>,
    m: &Meter,
    key_ptr: i32,
    key_len: i32,
    dst: i32,
    cap: i32,
) -> HostResult<i32> {
    check_size("storage key", key_len, vm(c).inner.config.limits.max_key)?;
    let key = m.read(c, key_ptr, key_len)?;
    match storage_lookup(c, &key)? {
        None => Ok(STORAGE_ABSENT),
        Some(value) => {
            let n = value.len().min(cap.max(0) as usize);
            m.write(c, dst, &value[..n])?;
            Ok(value.len() as i32)
        }
    }
}

fn storage_write(
    c: &mut Ctx<'_>,
    m: &Meter,
    key_ptr: i32,
    key_len: i32,
    val_ptr: i32,
    val_len: i32,
) -> HostResult<()> {
    let v = vm(c);
    deny_read_only(c, m.function)?;
    check_size("storage key", key_len, v.inner.config.limits.max_key)?;
    check_size("storage value", val_len, v.inner.config.limits.max_value)?;
    let key = m.read(c, key_ptr, key_len)?;
    let value = m.read(c, val_ptr, val_len)?;
    let contract = c.data().frame.contract;
    shared_mut(c)?.overlay.put(contract, key, Some(value));
    Ok(())
}

fn storage_remove(c: &mut Ctx<'_>, m: &Meter, key_ptr: i32, key_len: i32) -> HostResult<()> {
    deny_read_only(c, m.function)?;
    check_size("storage key", key_len, vm(c).inner.config.limits.max_key)?;
    let key = m.read(c, key_ptr, key_len)?;
    let contract = c.data().frame.contract;
    shared_mut(c)?.overlay.put(contract, key, None);
    Ok(())
}

fn caller(c: &mut Ctx<'_>, m: &Meter, dst: i32) -> HostResult<()> {
    let who = c.data().frame.caller;
    m.write(c, dst, &who.0)
}

fn self_address(c: &mut Ctx<'_>, m: &Meter, dst: i32) -> HostResult<()> {
    let me = c.data().frame.contract;
    m.write(c, dst, &me.0)
}

fn block_height(c: &mut Ctx<'_>, _m: &Meter) -> HostResult<i64> {
    Ok(shared_ref(c)?.block.height as i64)
}

fn block_time(c: &mut Ctx<'_>, _m: &Meter) -> HostResult<i64> {
    Ok(shared_ref(c)?.block.time_ms as i64)
}

fn emit_event(
    c: &mut Ctx<'_>,
    m: &Meter,
    topic_ptr: i32,
    topic_len: i32,
    data_ptr: i32,
    data_len: i32,
) -> HostResult<()> {
    let v = vm(c);
    let limits = &v.inner.config.limits;
    deny_read_only(c, m.function)?;
    check_size("event topic", topic_len, limits.max_topic)?;
    check_size("event data", data_len, limits.max_event_data)?;
    if shared_ref(c)?.events.len() >= limits.max_events {
        return Err(host_err(HostError::TooManyEvents {
            max: limits.max_events,
        }));
    }
    let topic = m.read(c, topic_ptr, topic_len)?;
    let data = m.read(c, data_ptr, data_len)?;
    let contract = c.data().frame.contract;
    shared_mut(c)?.events.push(Event {
        contract,
        topic,
        data,
    });
    Ok(())
}

fn call_contract(
    c: &mut Ctx<'_>,
    m: &Meter,
    addr_ptr: i32,
    input_ptr: i32,
    input_len: i32,
) -> HostResult<i32> {
    let v = vm(c);
    deny_after_sealed_read(c, m.function)?;
    check_size("call input", input_len, v.inner.config.limits.max_input)?;
    let callee = AccountId(m.read32(c, addr_ptr)?);
    let input = m.read(c, input_ptr, input_len)?;
    let code_hash = {
        let shared = shared_ref(c)?;
        if shared.stack.len() >= v.inner.config.limits.max_call_depth {
            return Err(host_err(HostError::CallDepth {
                max: v.inner.config.limits.max_call_depth,
            }));
        }
        let code_hash = shared
            .backend
            .contract_code_hash(&callee)
            .map_err(|e| node_err(VmError::State(e)))?
            .ok_or_else(|| host_err(HostError::ContractNotFound(callee)))?;
        if shared.stack.contains(&callee) {
            let compiled = v
                .compiled(&code_hash, shared.backend.as_ref())
                .map_err(node_err)?;
            if !compiled.info.reentrant {
                return Err(host_err(HostError::Reentrancy { contract: callee }));
            }
        }
        code_hash
    };
    let frame = Frame {
        contract: callee,
        code_hash,
        caller: c.data().frame.contract,
        input,
        output: Vec::new(),
        result_buf: Vec::new(),
        read_only: c.data().frame.read_only,
    };
    let fuel = c.get_fuel()?;
    let shared = c
        .data_mut()
        .shared
        .take()
        .ok_or_else(|| node_err(VmError::Internal("call state missing".into())))?;
    let run = v.run_frame(shared, frame, code_hash, Entry::Call, fuel);
    c.data_mut().shared = Some(run.shared);
    c.set_fuel(run.fuel_left)?;
    match run.result {
        Ok(output) => {
            c.data_mut().frame.result_buf = output;
            Ok(call_status::OK)
        }
        Err(VmError::Reverted { message }) => {
            c.data_mut().frame.result_buf = message;
            Ok(call_status::REVERTED)
        }
        Err(VmError::OutOfFuel) => Err(wasmtime::Error::new(Trap::OutOfFuel)),
        Err(e) if e.is_node_failure() => Err(node_err(e)),
        Err(_) => {
            // As the ABI says: the result buffer is empty. The trap's text comes from wasmtime
            // and may differ between node versions; it must never reach consensus.
            c.data_mut().frame.result_buf = Vec::new();
            Ok(call_status::TRAPPED)
        }
    }
}

fn result_len(c: &mut Ctx<'_>, _m: &Meter) -> HostResult<i32> {
    Ok(c.data().frame.result_buf.len() as i32)
}

fn result_read(c: &mut Ctx<'_>, m: &Meter, dst: i32) -> HostResult<()> {
    let buf = std::mem::take(&mut c.data_mut().frame.result_buf);
    let r = m.write(c, dst, &buf);
    c.data_mut().frame.result_buf = buf;
    r
}

fn sha3_256(c: &mut Ctx<'_>, m: &Meter, ptr: i32, len: i32, dst: i32) -> HostResult<()> {
    let data = m.read(c, ptr, len)?;
    let digest = civitas_primitives::sha3_256(&data);
    m.write(c, dst, &digest.0)
}

fn ed25519_verify(
    c: &mut Ctx<'_>,
    m: &Meter,
    pk_ptr: i32,
    msg_ptr: i32,
    msg_len: i32,
    sig_ptr: i32,
) -> HostResult<i32> {
    check_size(
        "signed message",
        msg_len,
        vm(c).inner.config.limits.max_input,
    )?;
    let pk = m.read32(c, pk_ptr)?;
    let msg = m.read(c, msg_ptr, msg_len)?;
    let sig = m.read(c, sig_ptr, 64)?;
    let Ok(key) = VerifyingKey::from_bytes(&pk) else {
        return Ok(0);
    };
    let Ok(sig) = Signature::from_slice(&sig) else {
        return Ok(0);
    };
    Ok(i32::from(key.verify_strict(&msg, &sig).is_ok()))
}

fn debug_log(c: &mut Ctx<'_>, m: &Meter, ptr: i32, len: i32) -> HostResult<()> {
    check_size("debug log message", len, vm(c).inner.config.limits.max_log)?;
    if shared_ref(c)?.sealed.is_some() {
        // A sealed call's messages could carry record content into the node's log.
        return Ok(());
    }
    let bytes = m.read(c, ptr, len)?;
    let text = String::from_utf8(bytes).map_err(|_| host_err(HostError::NotUtf8))?;
    let contract = c.data().frame.contract;
    tracing::debug!(target: "civitas::contract", %contract, "{text}");
    shared_mut(c)?.logs.push(text);
    Ok(())
}

fn sealed_read(
    c: &mut Ctx<'_>,
    m: &Meter,
    subject_ptr: i32,
    dataset_ptr: i32,
    dataset_len: i32,
) -> HostResult<i32> {
    let (source, top_level) = {
        let shared = shared_ref(c)?;
        (shared.sealed.clone(), shared.stack.len() == 1)
    };
    let source = source.ok_or_else(|| host_err(HostError::SealedReadUnavailable))?;
    if !top_level {
        return Err(host_err(HostError::SealedReadNested));
    }
    check_size("dataset id", dataset_len, MAX_DATASET_ID)?;
    let subject = civitas_primitives::Hash(m.read32(c, subject_ptr)?);
    let dataset = m.read(c, dataset_ptr, dataset_len)?;
    let dataset = String::from_utf8(dataset).map_err(|_| host_err(HostError::NotUtf8))?;
    let request = crate::state::SealedReadRequest {
        contract: c.data().frame.contract,
        code_hash: c.data().frame.code_hash,
        subject,
        dataset,
    };
    match source
        .sealed_read(&request)
        .map_err(|e| node_err(VmError::State(e)))?
    {
        crate::state::SealedRead::Granted(payload) => {
            m.produced(c, payload.len())?;
            shared_mut(c)?.sealed_reads += 1;
            c.data_mut().frame.result_buf = payload;
            Ok(sealed_status::OK)
        }
        crate::state::SealedRead::Refused => {
            c.data_mut().frame.result_buf = Vec::new();
            Ok(sealed_status::REFUSED)
        }
    }
}
