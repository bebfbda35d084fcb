//! Procedural macros of the Civitas contract SDK: `#[contract]` generates the `deploy`/`call`
//! entry points, selector dispatch and metadata for an impl block; `#[storage]` gives each
//! field of a contract struct its storage key; `Event` and `ContractError` derive the traits
//! that name events and turn errors into revert messages.
//!
//! The macros only generate code; every runtime behaviour lives in `civitas_sdk`.
use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use sha3::{Digest, Sha3_256};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, Attribute, Data, DeriveInput, Fields, FnArg, GenericArgument, ImplItem,
    ItemImpl, ItemStruct, Meta, Pat, PathArguments, ReturnType, Token, Type,
};

/// The selector of a method: the first 4 bytes of sha3-256 of its name.
fn selector(name: &str) -> [u8; 4] {
    let digest = Sha3_256::digest(name.as_bytes());
    [digest[0], digest[1], digest[2], digest[3]]
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Constructor,
    Call,
    View,
}

struct Method {
    kind: Kind,
    name: syn::Ident,
    args: Vec<(syn::Ident, Type)>,
    ret: Option<Type>,
    /// `Some((ok, err))` when the method returns `Result<ok, err>`.
    result: Option<(Type, Type)>,
    docs: Vec<String>,
}

fn docs_of(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn result_parts(ty: &Type) -> Option<(Type, Type)> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    });
    Some((types.next()?, types.next()?))
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(t) if t.elems.is_empty())
}

/// Marks a contract's impl block. Methods tagged `#[constructor]`, `#[call]` or `#[view]`
/// become entry points selected by the first four bytes of sha3-256 of their name; arguments
/// are SCALE-decoded, results SCALE-encoded, and an `Err(e)` reverts with `e`'s reason.
///
/// `#[contract(events(A, B), reentrant)]` lists the events for the metadata and lets the
/// contract accept re-entrant calls. The impl block must sit at the crate root.
#[proc_macro_attribute]
pub fn contract(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut imp = parse_macro_input!(item as ItemImpl);
    match expand_contract(attr.into(), &mut imp) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand_contract(attr: TokenStream2, imp: &mut ItemImpl) -> syn::Result<TokenStream2> {
    let mut events: Vec<syn::Path> = Vec::new();
    let mut reentrant = false;
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?;
    for meta in metas {
        match &meta {
            Meta::Path(p) if p.is_ident("reentrant") => reentrant = true,
            Meta::List(l) if l.path.is_ident("events") => {
                let paths = Punctuated::<syn::Path, Token![,]>::parse_terminated
                    .parse2(l.tokens.clone())?;
                events.extend(paths);
            }
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "expected `events(EventA, EventB)` or `reentrant`",
                ))
            }
        }
    }

    let mut methods = Vec::new();
    for item in &mut imp.items {
        let ImplItem::Fn(f) = item else { continue };
        let mut kind = None;
        f.attrs.retain(|a| {
            let k = if a.path().is_ident("constructor") {
                Some(Kind::Constructor)
            } else if a.path().is_ident("call") {
                Some(Kind::Call)
            } else if a.path().is_ident("view") {
                Some(Kind::View)
            } else {
                None
            };
            if k.is_some() {
                kind = k;
                false
            } else {
                true
            }
        });
        let Some(kind) = kind else { continue };
        if kind == Kind::Constructor {
            // Constructors initialise storage through `&mut self`; `new` is the natural name.
            f.attrs
                .push(syn::parse_quote!(#[allow(clippy::new_ret_no_self)]));
        }
        let mut args = Vec::new();
        let mut receiver_mut = None;
        for input in &f.sig.inputs {
            match input {
                FnArg::Receiver(r) => receiver_mut = Some(r.mutability.is_some()),
                FnArg::Typed(t) => {
                    let Pat::Ident(id) = &*t.pat else {
                        return Err(syn::Error::new(
                            t.pat.span(),
                            "entry point arguments must be plain names",
                        ));
                    };
                    args.push((id.ident.clone(), (*t.ty).clone()));
                }
            }
        }
        match (kind, receiver_mut) {
            (Kind::View, Some(false)) | (Kind::Call | Kind::Constructor, Some(true)) => {}
            (Kind::View, _) => {
                return Err(syn::Error::new(f.sig.span(), "a #[view] takes `&self`"));
            }
            _ => {
                return Err(syn::Error::new(
                    f.sig.span(),
                    "#[call] and #[constructor] take `&mut self`",
                ))
            }
        }
        let ret = match &f.sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, t) if is_unit(t) => None,
            ReturnType::Type(_, t) => Some((**t).clone()),
        };
        let result = ret.as_ref().and_then(result_parts);
        if kind == Kind::Constructor {
            let ok_unit = match (&ret, &result) {
                (None, _) => true,
                (Some(_), Some((ok, _))) => is_unit(ok),
                _ => false,
            };
            if !ok_unit {
                return Err(syn::Error::new(
                    f.sig.output.span(),
                    "a #[constructor] returns nothing or `Result<(), E>`",
                ));
            }
        }
        methods.push(Method {
            kind,
            name: f.sig.ident.clone(),
            args,
            ret,
            result,
            docs: docs_of(&f.attrs),
        });
    }
    if !methods.iter().any(|m| m.kind == Kind::Constructor) {
        return Err(syn::Error::new(
            Span::call_site(),
            "a contract needs at least one #[constructor]",
        ));
    }
    let mut seen = std::collections::BTreeMap::new();
    for m in &methods {
        if let Some(other) = seen.insert(selector(&m.name.to_string()), m.name.to_string()) {
            return Err(syn::Error::new(
                m.name.span(),
                format!("selector of `{}` collides with `{other}`", m.name),
            ));
        }
    }

    let self_ty = &imp.self_ty;
    let arms = |want: &[Kind]| -> Vec<TokenStream2> {
        methods
            .iter()
            .filter(|m| want.contains(&m.kind))
            .map(|m| {
                let name = &m.name;
                let [s0, s1, s2, s3] = selector(&name.to_string());
                let arg_names: Vec<_> = m.args.iter().map(|(n, _)| n).collect();
                let arg_types: Vec<_> = m.args.iter().map(|(_, t)| t).collect();
                let finish = if m.result.is_some() {
                    quote! {
                        match __result {
                            ::core::result::Result::Ok(v) => ::core::result::Result::Ok(::civitas_sdk::codec::Encode::encode(&v)),
                            ::core::result::Result::Err(e) => ::core::result::Result::Err(
                                ::civitas_sdk::ContractError::reason(&e).as_bytes().to_vec()
                            ),
                        }
                    }
                } else {
                    quote! { ::core::result::Result::Ok(::civitas_sdk::codec::Encode::encode(&__result)) }
                };
                quote! {
                    [#s0, #s1, #s2, #s3] => {
                        let (#(#arg_names,)*): (#(#arg_types,)*) = ::civitas_sdk::dispatch::decode_args(__args)?;
                        let mut __contract = <#self_ty as ::core::default::Default>::default();
                        let __result = __contract.#name(#(#arg_names),*);
                        #finish
                    }
                }
            })
            .collect()
    };
    let deploy_arms = arms(&[Kind::Constructor]);
    let call_arms = arms(&[Kind::Call, Kind::View]);

    let meta_entries: Vec<TokenStream2> = methods
        .iter()
        .map(|m| {
            let name = m.name.to_string();
            let kind = match m.kind {
                Kind::Constructor => quote!(::civitas_sdk::metadata::EntryKind::Constructor),
                Kind::Call => quote!(::civitas_sdk::metadata::EntryKind::Call),
                Kind::View => quote!(::civitas_sdk::metadata::EntryKind::View),
            };
            let arg_names: Vec<String> = m.args.iter().map(|(n, _)| n.to_string()).collect();
            let arg_types: Vec<&Type> = m.args.iter().map(|(_, t)| t).collect();
            let (ret, err) = match (&m.ret, &m.result) {
                (_, Some((ok, err))) if is_unit(ok) => {
                    (quote!(None), quote!(Some(__b.ty::<#err>())))
                }
                (_, Some((ok, err))) => (
                    quote!(Some(__b.ty::<#ok>())),
                    quote!(Some(__b.ty::<#err>())),
                ),
                (Some(t), None) => (quote!(Some(__b.ty::<#t>())), quote!(None)),
                (None, None) => (quote!(None), quote!(None)),
            };
            let docs = &m.docs;
            quote! {
                {
                    let __args = ::std::vec![#( (#arg_names, __b.ty::<#arg_types>()) ),*];
                    let __ret = #ret;
                    let __err = #err;
                    __b.entry(#kind, #name, __args, __ret, __err, &[#(#docs),*]);
                }
            }
        })
        .collect();

    let reentrant_marker = if reentrant {
        quote! {
            #[cfg(target_arch = "wasm32")]
            #[no_mangle]
            pub extern "C" fn civitas_reentrant() {}
        }
    } else {
        quote! {}
    };

    Ok(quote! {
        #imp

        impl #self_ty {
            #[doc(hidden)]
            pub fn __civitas_deploy(__input: &[u8]) -> ::core::result::Result<::civitas_sdk::Vec<u8>, ::civitas_sdk::Vec<u8>> {
                let (__selector, __args) = ::civitas_sdk::dispatch::split(__input)?;
                match __selector {
                    #(#deploy_arms)*
                    _ => ::core::result::Result::Err(::civitas_sdk::dispatch::unknown_selector(__selector)),
                }
            }

            #[doc(hidden)]
            pub fn __civitas_call(__input: &[u8]) -> ::core::result::Result<::civitas_sdk::Vec<u8>, ::civitas_sdk::Vec<u8>> {
                let (__selector, __args) = ::civitas_sdk::dispatch::split(__input)?;
                match __selector {
                    #(#call_arms)*
                    _ => ::core::result::Result::Err(::civitas_sdk::dispatch::unknown_selector(__selector)),
                }
            }
        }

        /// The contract's metadata: entry points, argument and return types, events, errors.
        #[cfg(not(target_arch = "wasm32"))]
        #[doc(hidden)]
        pub fn __civitas_contract_metadata() -> ::civitas_sdk::metadata::ContractMetadata {
            let mut __b = ::civitas_sdk::metadata::Builder::new(
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
                #reentrant,
            );
            #(#meta_entries)*
            #( __b.event::<#events>(); )*
            __b.finish()
        }

        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn deploy() {
            ::civitas_sdk::dispatch::run(<#self_ty>::__civitas_deploy)
        }

        #[cfg(target_arch = "wasm32")]
        #[no_mangle]
        pub extern "C" fn call() {
            ::civitas_sdk::dispatch::run(<#self_ty>::__civitas_call)
        }

        #reentrant_marker
    })
}

/// Gives every field of a contract's storage struct a storage key equal to its name, and
/// derives `Default` so the contract can be constructed for each call.
#[proc_macro_attribute]
pub fn storage(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let st = parse_macro_input!(item as ItemStruct);
    let name = &st.ident;
    let Fields::Named(fields) = &st.fields else {
        return syn::Error::new(st.span(), "#[storage] needs a struct with named fields")
            .to_compile_error()
            .into();
    };
    let inits = fields.named.iter().map(|f| {
        let id = f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
        let ident = &f.ident;
        let key = syn::LitByteStr::new(id.as_bytes(), Span::call_site());
        quote! { #ident: ::civitas_sdk::storage::StorageField::with_key(#key) }
    });
    quote! {
        #st
        impl ::core::default::Default for #name {
            fn default() -> Self {
                #name { #(#inits),* }
            }
        }
    }
    .into()
}

/// Derives `civitas_sdk::Event`: the event's topic is its type name.
#[proc_macro_derive(Event)]
pub fn derive_event(item: TokenStream) -> TokenStream {
    let input = parse_macro_input!(item as DeriveInput);
    let name = &input.ident;
    let topic = name.to_string();
    quote! {
        impl ::civitas_sdk::Event for #name {
            const TOPIC: &'static str = #topic;
        }
    }
    .into()
}

/// Derives `civitas_sdk::ContractError` for an enum: the revert message is the variant name.
#[proc_macro_derive(ContractError)]
pub fn derive_contract_error(item: TokenStream) -> TokenStream {
    let input = parse_macro_input!(item as DeriveInput);
    let name = &input.ident;
    let Data::Enum(data) = &input.data else {
        return syn::Error::new(input.span(), "ContractError is derived for enums")
            .to_compile_error()
            .into();
    };
    let arms = data.variants.iter().map(|v| {
        let vname = &v.ident;
        let text = vname.to_string();
        let pat = match &v.fields {
            Fields::Unit => quote!(#name::#vname),
            Fields::Unnamed(_) => quote!(#name::#vname(..)),
            Fields::Named(_) => quote!(#name::#vname { .. }),
        };
        quote! { #pat => #text }
    });
    quote! {
        impl ::civitas_sdk::ContractError for #name {
            fn reason(&self) -> &'static str {
                match self { #(#arms),* }
            }
        }
    }
    .into()
}
