//! Contract metadata: entry points with selectors, argument and return types (a scale-info
//! type registry), events and errors. `#[contract]` generates a function that builds it;
//! `civitas contract build` writes it as `NAME.json` beside `NAME.wasm`.
use scale_info::{MetaType, PortableRegistry, Registry, TypeInfo};
use serde::Serialize;

/// Kind of an entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// Runs once, at instantiation.
    Constructor,
    /// May change state.
    Call,
    /// Reads only.
    View,
}

/// One argument.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Arg {
    /// Name.
    pub name: String,
    /// Type id in `types`.
    #[serde(rename = "type")]
    pub ty: u32,
}

/// One entry point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntrySpec {
    /// Kind.
    pub kind: EntryKind,
    /// Method name.
    pub name: String,
    /// Selector as `0x` + 8 hex digits.
    pub selector: String,
    /// Arguments, in order (encoded as a tuple).
    pub args: Vec<Arg>,
    /// Type id of the output, if any.
    pub returns: Option<u32>,
    /// Type id of the error enum whose variant names are the revert messages, if any.
    pub error: Option<u32>,
    /// Doc comment lines.
    pub docs: Vec<String>,
}

/// One event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventSpec {
    /// Topic.
    pub topic: String,
    /// Type id of the data.
    #[serde(rename = "type")]
    pub ty: u32,
}

/// Everything a client needs to talk to a contract.
#[derive(Clone, Debug, Serialize)]
pub struct ContractMetadata {
    /// Metadata format version.
    pub metadata_version: u32,
    /// Crate name.
    pub name: String,
    /// Crate version.
    pub version: String,
    /// Whether the contract accepts re-entrant calls.
    pub reentrant: bool,
    /// Constructors.
    pub constructors: Vec<EntrySpec>,
    /// Calls and views.
    pub messages: Vec<EntrySpec>,
    /// Events.
    pub events: Vec<EventSpec>,
    /// The type registry the ids refer to.
    pub types: PortableRegistry,
}

impl ContractMetadata {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
    /// The entry named `name`, constructor or message.
    pub fn entry(&self, name: &str) -> Option<&EntrySpec> {
        self.constructors
            .iter()
            .chain(&self.messages)
            .find(|e| e.name == name)
    }
}

/// Assembles metadata; used by generated code.
pub struct Builder {
    name: String,
    version: String,
    reentrant: bool,
    registry: Registry,
    constructors: Vec<EntrySpec>,
    messages: Vec<EntrySpec>,
    events: Vec<EventSpec>,
}

impl Builder {
    /// Starts metadata for crate `name` at `version`.
    pub fn new(name: &str, version: &str, reentrant: bool) -> Self {
        Builder {
            name: name.into(),
            version: version.into(),
            reentrant,
            registry: Registry::new(),
            constructors: Vec::new(),
            messages: Vec::new(),
            events: Vec::new(),
        }
    }
    /// Registers `T`, returning its id.
    pub fn ty<T: TypeInfo + 'static>(&mut self) -> u32 {
        self.registry.register_type(&MetaType::new::<T>()).id
    }
    /// Adds an entry point.
    pub fn entry(
        &mut self,
        kind: EntryKind,
        name: &str,
        args: Vec<(&str, u32)>,
        returns: Option<u32>,
        error: Option<u32>,
        docs: &[&str],
    ) {
        let sel = crate::selector(name);
        let spec = EntrySpec {
            kind,
            name: name.into(),
            selector: format!("0x{:02x}{:02x}{:02x}{:02x}", sel[0], sel[1], sel[2], sel[3]),
            args: args
                .into_iter()
                .map(|(n, ty)| Arg { name: n.into(), ty })
                .collect(),
            returns,
            error,
            docs: docs.iter().map(|d| d.to_string()).collect(),
        };
        match kind {
            EntryKind::Constructor => self.constructors.push(spec),
            _ => self.messages.push(spec),
        }
    }
    /// Adds an event type.
    pub fn event<E: crate::Event + TypeInfo + 'static>(&mut self) {
        let ty = self.ty::<E>();
        self.events.push(EventSpec {
            topic: E::TOPIC.into(),
            ty,
        });
    }
    /// The finished metadata.
    pub fn finish(self) -> ContractMetadata {
        let types: PortableRegistry = self.registry.into();
        ContractMetadata {
            metadata_version: 1,
            name: self.name,
            version: self.version,
            reentrant: self.reentrant,
            constructors: self.constructors,
            messages: self.messages,
            events: self.events,
            types,
        }
    }
}
