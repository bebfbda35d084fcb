//! Deploy-time validation of contract modules: the chain accepts a module only if it passes
//! every check here. `civitas contract build` and `civitas contract check` run the same code.
//!
//! Two passes: our own structural pass (size caps, import whitelist, float ban, caps on
//! functions, locals, body size, tables, memories and `br_table` fan-out, required exports), then
//! wasmparser's full validation restricted to WebAssembly 1.0 without floats. Every rejection
//! names what offended and where.
use civitas_primitives::abi::{self, AbiType};
use civitas_primitives::{sha3_256, Hash};
use thiserror::Error;
use wasmparser::{
    CompositeInnerType, Encoding, ExternalKind, FuncType, Operator, Parser, Payload, TypeRef,
    ValType, Validator, WasmFeatures,
};

/// Caps that keep every accepted module cheap to compile and instantiate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationLimits {
    /// Module size in bytes.
    pub max_module_bytes: usize,
    /// Functions, imported and defined.
    pub max_functions: u32,
    /// Declared locals of one function (parameters excluded).
    pub max_locals_per_function: u32,
    /// Encoded size of one function body in bytes.
    pub max_function_body_bytes: usize,
    /// Targets of one `br_table`.
    pub max_br_table_targets: u32,
    /// Initial and maximum elements of the table.
    pub max_table_elements: u64,
    /// Initial pages (64 KiB each) of linear memory.
    pub max_initial_memory_pages: u64,
    /// Globals defined by the module.
    pub max_globals: u32,
    /// Types in the type section.
    pub max_types: u32,
    /// Exports.
    pub max_exports: u32,
}

impl Default for ValidationLimits {
    fn default() -> Self {
        ValidationLimits {
            max_module_bytes: 512 * 1024,
            max_functions: 4096,
            max_locals_per_function: 1024,
            max_function_body_bytes: 128 * 1024,
            max_br_table_targets: 1024,
            max_table_elements: 4096,
            max_initial_memory_pages: 128,
            max_globals: 256,
            max_types: 1024,
            max_exports: 256,
        }
    }
}

/// What the chain needs to know about an accepted module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    /// sha3-256 of the module bytes: the code hash.
    pub code_hash: Hash,
    /// Module size in bytes.
    pub size: usize,
    /// Whether the module exports [`abi::REENTRANT_MARKER_EXPORT`] and so accepts re-entrant calls.
    pub reentrant: bool,
    /// Host functions the module imports, in import order.
    pub host_imports: Vec<String>,
    /// Number of functions (imported and defined).
    pub functions: u32,
}

/// Why a module was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The module is over the size cap.
    #[error("module is {size} bytes; the limit is {max} bytes")]
    TooLarge {
        /// Actual size.
        size: usize,
        /// Cap.
        max: usize,
    },
    /// The bytes are not a WebAssembly 1.0 core module.
    #[error("not a valid WebAssembly 1.0 module: {message}")]
    Invalid {
        /// The parser's explanation, with the byte offset.
        message: String,
    },
    /// Bytes that are not WebAssembly at all.
    #[error("not a WebAssembly module: the bytes do not start with the \\0asm header")]
    NotWasm,
    /// A component or other non-module encoding.
    #[error("only core WebAssembly modules are accepted, not components")]
    NotAModule,
    /// A floating-point instruction.
    #[error("function {function} uses {op}: floats are not allowed")]
    FloatInstruction {
        /// Function index (imports counted first).
        function: u32,
        /// The instruction in text format.
        op: String,
    },
    /// A floating-point type in a signature, local or global.
    #[error("{place} has type {ty}: floats are not allowed")]
    FloatType {
        /// Where, e.g. "function 4 local 2".
        place: String,
        /// `f32` or `f64`.
        ty: &'static str,
    },
    /// An import outside the host module or not in the host ABI.
    #[error("import {module}.{name} is not allowed: contracts may import only the host functions of module `civitas`")]
    ImportNotAllowed {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// A host function imported with the wrong signature.
    #[error("import civitas.{name} has signature {found}; the host ABI declares {expected}")]
    ImportSignature {
        /// Import name.
        name: String,
        /// Declared by the ABI.
        expected: String,
        /// Found in the module.
        found: String,
    },
    /// A required export is absent or of the wrong kind or type.
    #[error("missing required export `{name}` ({what})")]
    MissingExport {
        /// Export name.
        name: &'static str,
        /// What was expected.
        what: &'static str,
    },
    /// Too many functions.
    #[error("module has {count} functions; the limit is {max}")]
    TooManyFunctions {
        /// Count.
        count: u64,
        /// Cap.
        max: u32,
    },
    /// A function with too many locals.
    #[error("function {function} declares {count} locals; the limit is {max}")]
    TooManyLocals {
        /// Function index.
        function: u32,
        /// Count.
        count: u64,
        /// Cap.
        max: u32,
    },
    /// A function body over the size cap.
    #[error("function {function} body is {size} bytes; the limit is {max}")]
    FunctionTooLarge {
        /// Function index.
        function: u32,
        /// Size.
        size: usize,
        /// Cap.
        max: usize,
    },
    /// A `br_table` with too many targets.
    #[error("function {function} has a br_table with {targets} targets; the limit is {max}")]
    BrTableTooLarge {
        /// Function index.
        function: u32,
        /// Count.
        targets: u32,
        /// Cap.
        max: u32,
    },
    /// A table over the element cap.
    #[error("table declares {elements} elements; the limit is {max}")]
    TableTooLarge {
        /// Declared size (initial or maximum).
        elements: u64,
        /// Cap.
        max: u64,
    },
    /// Linear memory starting over the page cap.
    #[error("memory starts with {pages} pages; the limit is {max} pages")]
    MemoryTooLarge {
        /// Initial pages.
        pages: u64,
        /// Cap.
        max: u64,
    },
    /// Another per-module count over its cap.
    #[error("module has {count} {what}; the limit is {max}")]
    TooMany {
        /// What is counted.
        what: &'static str,
        /// Count.
        count: u64,
        /// Cap.
        max: u64,
    },
    /// A start function (code that would run at instantiation, outside any entry point).
    #[error("start functions are not allowed: put initialisation in `deploy`")]
    StartFunction,
    /// Imported memories, tables or globals.
    #[error("import {module}.{name} is a {kind}; contracts may import only functions")]
    ImportKind {
        /// Module.
        module: String,
        /// Name.
        name: String,
        /// Kind found.
        kind: &'static str,
    },
}

/// The WebAssembly feature set the chain accepts: 1.0 (MVP + mutable globals), without floats.
pub fn accepted_features() -> WasmFeatures {
    WasmFeatures::WASM1.difference(WasmFeatures::FLOATS)
}

fn invalid(e: wasmparser::BinaryReaderError) -> ValidationError {
    ValidationError::Invalid {
        message: e.to_string(),
    }
}

fn float_name(ty: ValType) -> Option<&'static str> {
    match ty {
        ValType::F32 => Some("f32"),
        ValType::F64 => Some("f64"),
        _ => None,
    }
}

fn abi_type(ty: ValType) -> Option<AbiType> {
    match ty {
        ValType::I32 => Some(AbiType::I32),
        ValType::I64 => Some(AbiType::I64),
        _ => None,
    }
}

fn sig_text(params: &[String], results: &[String]) -> String {
    format!("({}) -> ({})", params.join(", "), results.join(", "))
}

fn abi_sig_text(params: &[AbiType], results: &[AbiType]) -> String {
    let f = |t: &AbiType| match t {
        AbiType::I32 => "i32".to_string(),
        AbiType::I64 => "i64".to_string(),
    };
    sig_text(
        &params.iter().map(f).collect::<Vec<_>>(),
        &results.iter().map(f).collect::<Vec<_>>(),
    )
}

fn functype_text(ty: &FuncType) -> String {
    let f = |t: &ValType| t.to_string();
    sig_text(
        &ty.params().iter().map(f).collect::<Vec<_>>(),
        &ty.results().iter().map(f).collect::<Vec<_>>(),
    )
}

/// The text-format name of an instruction if it touches floats (`F64Add` → `f64.add`,
/// `I32TruncF32S` → `i32.trunc_f32_s`).
fn float_op_name(op: &Operator<'_>) -> Option<String> {
    let debug = format!("{op:?}");
    let variant = debug.split([' ', '{', '(']).next().unwrap_or("");
    if !(variant.contains("F32") || variant.contains("F64")) {
        return None;
    }
    let mut words: Vec<String> = Vec::new();
    for ch in variant.chars() {
        if ch.is_ascii_uppercase() || words.is_empty() {
            words.push(ch.to_ascii_lowercase().to_string());
        } else if let Some(last) = words.last_mut() {
            last.push(ch);
        }
    }
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        match i {
            0 => out.push_str(w),
            1 => {
                out.push('.');
                out.push_str(w);
            }
            _ => {
                out.push('_');
                out.push_str(w);
            }
        }
    }
    Some(out)
}

/// Validates a contract module exactly as the chain does on deploy.
pub fn validate_module(
    bytes: &[u8],
    limits: &ValidationLimits,
) -> Result<ModuleInfo, ValidationError> {
    if bytes.len() > limits.max_module_bytes {
        return Err(ValidationError::TooLarge {
            size: bytes.len(),
            max: limits.max_module_bytes,
        });
    }
    if !bytes.starts_with(b"\0asm") {
        return Err(ValidationError::NotWasm);
    }
    let mut types: Vec<FuncType> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new(); // type index per function, imports first
    let mut imported_funcs: u32 = 0;
    let mut host_imports = Vec::new();
    let mut exports: Vec<(String, ExternalKind, u32)> = Vec::new();
    let mut code_index: u32 = 0;

    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(invalid)? {
            Payload::Version { encoding, .. } if encoding != Encoding::Module => {
                return Err(ValidationError::NotAModule);
            }
            Payload::TypeSection(reader) => {
                if reader.count() > limits.max_types {
                    return Err(ValidationError::TooMany {
                        what: "types",
                        count: reader.count().into(),
                        max: limits.max_types.into(),
                    });
                }
                for (i, group) in reader.into_iter().enumerate() {
                    for sub in group.map_err(invalid)?.into_types() {
                        let CompositeInnerType::Func(ft) = sub.composite_type.inner else {
                            return Err(ValidationError::Invalid {
                                message: format!("type {i} is not a function type"),
                            });
                        };
                        for ty in ft.params().iter().chain(ft.results()) {
                            if let Some(f) = float_name(*ty) {
                                return Err(ValidationError::FloatType {
                                    place: format!("type {i}"),
                                    ty: f,
                                });
                            }
                        }
                        types.push(ft);
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.map_err(invalid)?;
                    let kind = match import.ty {
                        TypeRef::Func(_) | TypeRef::FuncExact(_) => None,
                        TypeRef::Table(_) => Some("table"),
                        TypeRef::Memory(_) => Some("memory"),
                        TypeRef::Global(_) => Some("global"),
                        TypeRef::Tag(_) => Some("tag"),
                    };
                    if let Some(kind) = kind {
                        return Err(ValidationError::ImportKind {
                            module: import.module.into(),
                            name: import.name.into(),
                            kind,
                        });
                    }
                    let (TypeRef::Func(ty) | TypeRef::FuncExact(ty)) = import.ty else {
                        continue;
                    };
                    let host = (import.module == abi::HOST_MODULE)
                        .then(|| abi::host_fn(import.name))
                        .flatten()
                        .ok_or_else(|| ValidationError::ImportNotAllowed {
                            module: import.module.into(),
                            name: import.name.into(),
                        })?;
                    let ft = types
                        .get(ty as usize)
                        .ok_or_else(|| ValidationError::Invalid {
                            message: format!(
                                "import civitas.{} refers to unknown type {ty}",
                                import.name
                            ),
                        })?;
                    let params: Option<Vec<AbiType>> =
                        ft.params().iter().map(|t| abi_type(*t)).collect();
                    let results: Option<Vec<AbiType>> =
                        ft.results().iter().map(|t| abi_type(*t)).collect();
                    if params.as_deref() != Some(host.params)
                        || results.as_deref() != Some(host.results)
                    {
                        return Err(ValidationError::ImportSignature {
                            name: import.name.into(),
                            expected: abi_sig_text(host.params, host.results),
                            found: functype_text(ft),
                        });
                    }
                    func_types.push(ty);
                    imported_funcs += 1;
                    host_imports.push(import.name.to_string());
                }
            }
            Payload::FunctionSection(reader) => {
                let total = u64::from(imported_funcs) + u64::from(reader.count());
                if total > u64::from(limits.max_functions) {
                    return Err(ValidationError::TooManyFunctions {
                        count: total,
                        max: limits.max_functions,
                    });
                }
                for ty in reader {
                    func_types.push(ty.map_err(invalid)?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table.map_err(invalid)?;
                    let elements = table
                        .ty
                        .maximum
                        .unwrap_or(table.ty.initial)
                        .max(table.ty.initial);
                    if elements > limits.max_table_elements {
                        return Err(ValidationError::TableTooLarge {
                            elements,
                            max: limits.max_table_elements,
                        });
                    }
                }
            }
            Payload::MemorySection(reader) => {
                for mem in reader {
                    let mem = mem.map_err(invalid)?;
                    if mem.initial > limits.max_initial_memory_pages {
                        return Err(ValidationError::MemoryTooLarge {
                            pages: mem.initial,
                            max: limits.max_initial_memory_pages,
                        });
                    }
                }
            }
            Payload::GlobalSection(reader) => {
                if reader.count() > limits.max_globals {
                    return Err(ValidationError::TooMany {
                        what: "globals",
                        count: reader.count().into(),
                        max: limits.max_globals.into(),
                    });
                }
                for (i, global) in reader.into_iter().enumerate() {
                    let global = global.map_err(invalid)?;
                    if let Some(f) = float_name(global.ty.content_type) {
                        return Err(ValidationError::FloatType {
                            place: format!("global {i}"),
                            ty: f,
                        });
                    }
                }
            }
            Payload::ExportSection(reader) => {
                if reader.count() > limits.max_exports {
                    return Err(ValidationError::TooMany {
                        what: "exports",
                        count: reader.count().into(),
                        max: limits.max_exports.into(),
                    });
                }
                for export in reader {
                    let export = export.map_err(invalid)?;
                    exports.push((export.name.to_string(), export.kind, export.index));
                }
            }
            Payload::StartSection { .. } => return Err(ValidationError::StartFunction),
            Payload::CodeSectionEntry(body) => {
                let function = imported_funcs + code_index;
                code_index += 1;
                let size = body.range().len();
                if size > limits.max_function_body_bytes {
                    return Err(ValidationError::FunctionTooLarge {
                        function,
                        size,
                        max: limits.max_function_body_bytes,
                    });
                }
                let mut locals: u64 = 0;
                let mut local_index: u64 = 0;
                for local in body.get_locals_reader().map_err(invalid)? {
                    let (count, ty) = local.map_err(invalid)?;
                    locals += u64::from(count);
                    if locals > u64::from(limits.max_locals_per_function) {
                        return Err(ValidationError::TooManyLocals {
                            function,
                            count: locals,
                            max: limits.max_locals_per_function,
                        });
                    }
                    if let Some(f) = float_name(ty) {
                        return Err(ValidationError::FloatType {
                            place: format!("function {function} local {local_index}"),
                            ty: f,
                        });
                    }
                    local_index += u64::from(count);
                }
                let mut ops = body.get_operators_reader().map_err(invalid)?;
                while !ops.eof() {
                    let op = ops.read().map_err(invalid)?;
                    if let Operator::BrTable { targets } = &op {
                        // The default label counts as a target too.
                        let count = targets.len().saturating_add(1);
                        if count > limits.max_br_table_targets {
                            return Err(ValidationError::BrTableTooLarge {
                                function,
                                targets: count,
                                max: limits.max_br_table_targets,
                            });
                        }
                    }
                    if let Some(name) = float_op_name(&op) {
                        return Err(ValidationError::FloatInstruction { function, op: name });
                    }
                }
            }
            _ => {}
        }
    }

    let find_export = |name: &str| exports.iter().find(|(n, _, _)| n == name);
    match find_export("memory") {
        Some((_, ExternalKind::Memory, _)) => {}
        _ => {
            return Err(ValidationError::MissingExport {
                name: "memory",
                what: "a linear memory",
            })
        }
    }
    let unit_fn = |name: &'static str| -> Result<(), ValidationError> {
        let missing = ValidationError::MissingExport {
            name,
            what: "a function taking and returning nothing",
        };
        let Some((_, ExternalKind::Func, index)) = find_export(name) else {
            return Err(missing);
        };
        let ty = func_types
            .get(*index as usize)
            .and_then(|t| types.get(*t as usize));
        match ty {
            Some(ft) if ft.params().is_empty() && ft.results().is_empty() => Ok(()),
            _ => Err(missing),
        }
    };
    for name in abi::REQUIRED_EXPORTS.iter().filter(|n| **n != "memory") {
        unit_fn(name)?;
    }
    let reentrant = match find_export(abi::REENTRANT_MARKER_EXPORT) {
        None => false,
        Some(_) => {
            unit_fn(abi::REENTRANT_MARKER_EXPORT)?;
            true
        }
    };

    Validator::new_with_features(accepted_features())
        .validate_all(bytes)
        .map_err(invalid)?;

    Ok(ModuleInfo {
        code_hash: sha3_256(bytes),
        size: bytes.len(),
        reentrant,
        host_imports,
        functions: u32::try_from(func_types.len()).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_op_names_follow_the_text_format() {
        assert_eq!(float_op_name(&Operator::F64Add).as_deref(), Some("f64.add"));
        assert_eq!(
            float_op_name(&Operator::I32TruncF32S).as_deref(),
            Some("i32.trunc_f32_s")
        );
        assert_eq!(
            float_op_name(&Operator::F32ConvertI64U).as_deref(),
            Some("f32.convert_i64_u")
        );
        assert_eq!(float_op_name(&Operator::I32Add), None);
        assert_eq!(float_op_name(&Operator::I64Extend32S), None);
    }
}
