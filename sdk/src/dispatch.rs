//! Entry-point plumbing used by the code `#[contract]` generates: split the selector off the
//! input, decode arguments, report unknown selectors, and hand the result to the host.
use alloc::vec::Vec;
use parity_scale_codec::DecodeAll;

use crate::Selector;

/// Splits input into selector and argument bytes.
pub fn split(input: &[u8]) -> Result<(Selector, &[u8]), Vec<u8>> {
    if input.len() < 4 {
        return Err(b"input shorter than a 4-byte selector".to_vec());
    }
    let (sel, rest) = input.split_at(4);
    Ok(([sel[0], sel[1], sel[2], sel[3]], rest))
}

/// Decodes the argument tuple; trailing bytes are an error.
pub fn decode_args<T: DecodeAll>(mut args: &[u8]) -> Result<T, Vec<u8>> {
    T::decode_all(&mut args).map_err(|_| b"arguments do not decode".to_vec())
}

/// The revert message for an unknown selector (hex written by hand: no `core::fmt` in contracts).
pub fn unknown_selector(sel: Selector) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = b"unknown selector 0x".to_vec();
    for b in sel {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
    out
}

/// An entry point's result: the output, or the revert message.
pub type EntryResult = Result<Vec<u8>, Vec<u8>>;

/// Runs an entry point: reads the input, returns the output or reverts with the message.
pub fn run(entry: fn(&[u8]) -> EntryResult) {
    let input = crate::env::input();
    match entry(&input) {
        Ok(out) => crate::env::set_return(&out),
        Err(message) => crate::env::revert(&message),
    }
}
