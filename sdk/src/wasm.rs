//! The wasm32 side of the SDK: host imports generated from the ABI table, a bump allocator and
//! a panic handler that reverts with the panic message.
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;

macro_rules! declare_imports {
    ($( $(#[$doc:meta])* fn $name:ident ( $($arg:ident : $ty:tt),* ) $(-> $ret:tt)? [cost = $class:ident]; )*) => {
        /// Raw host functions, exactly as the ABI table declares them.
        #[allow(dead_code)]
        pub(crate) mod sys {
            #[link(wasm_import_module = "civitas")]
            extern "C" {
                $( $(#[$doc])* pub fn $name($($arg: $ty),*) $(-> $ret)?; )*
            }
        }
    };
}
civitas_primitives::for_each_host_fn!(declare_imports);

const PAGE: usize = 65_536;

/// Never frees: a call's lifetime is short and its memory is dropped with the instance.
struct BumpAllocator {
    state: UnsafeCell<(usize, usize)>, // (next free byte, end of memory)
}

// SAFETY: contracts run single-threaded.
unsafe impl Sync for BumpAllocator {}

extern "C" {
    static __heap_base: u8;
}

unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let state = &mut *self.state.get();
        if state.0 == 0 {
            state.0 = core::ptr::addr_of!(__heap_base) as usize;
            state.1 = core::arch::wasm32::memory_size(0) * PAGE;
        }
        let align = layout.align();
        let start = match state.0.checked_add(align - 1) {
            Some(v) => v & !(align - 1),
            None => return core::ptr::null_mut(),
        };
        let end = match start.checked_add(layout.size()) {
            Some(v) => v,
            None => return core::ptr::null_mut(),
        };
        if end > state.1 {
            let pages = (end - state.1).div_ceil(PAGE);
            if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                return core::ptr::null_mut();
            }
            state.1 += pages * PAGE;
        }
        state.0 = end;
        start as *mut u8
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Reclaim only the most recent allocation; everything else lives until the call ends.
        let state = &mut *self.state.get();
        if ptr as usize + layout.size() == state.0 {
            state.0 = ptr as usize;
        }
    }
}

#[global_allocator]
static ALLOCATOR: BumpAllocator = BumpAllocator {
    state: UnsafeCell::new((0, 0)),
};

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let message = info.message().as_str().unwrap_or("contract panicked");
    crate::env::revert(message.as_bytes())
}
