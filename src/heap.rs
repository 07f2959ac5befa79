//! The wasm's global allocator: power-of-two size classes with one free list each.
//!
//! Why not the standard library's dlmalloc: it is about 7 KB of code (about 3 KB
//! brotli) for coalescing and splitting that a widget with a small, short-lived heap
//! does not need. Here a block's size is its request rounded up to a power of two
//! (at least 8 bytes); a freed block goes on its class's list and is handed out again
//! for the next request of that class; new blocks come from the end of linear memory,
//! which grows a page (64 KiB) at a time. Blocks are never merged or split, so the
//! heap never holds more than twice what is live at its peak per class.
//!
//! Single-threaded: the wasm has no threads, so plain `Cell`s are enough.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32::memory_grow;
use core::cell::Cell;
use core::ptr::null_mut;

const PAGE: usize = 65536;
/// Blocks are aligned to their size up to this; larger alignments are bump-allocated.
const MAX_ALIGN: usize = 16;
/// Classes 2^0 .. 2^31; requests above 1 GiB fail.
const CLASSES: usize = 32;

/// The allocator (see the module doc).
pub struct Heap {
    /// The first free block of each class (0 for none); a free block holds the next.
    free: [Cell<usize>; CLASSES],
    /// Where unused memory starts, and where it ends.
    next: Cell<usize>,
    end: Cell<usize>,
}

// Safety: wasm32-unknown-unknown without threads has one thread.
unsafe impl Sync for Heap {}

#[global_allocator]
static HEAP: Heap = Heap {
    free: [const { Cell::new(0) }; CLASSES],
    next: Cell::new(0),
    end: Cell::new(0),
};

/// The class (log2 of the block size) of a request, or `None` above 1 GiB.
fn class(layout: &Layout) -> Option<usize> {
    let size = layout.size().max(layout.align()).max(8);
    (size <= 1 << 30).then(|| size.next_power_of_two().trailing_zeros() as usize)
}

impl Heap {
    /// `size` bytes aligned to `align` from the end of memory, growing it if needed.
    fn bump(&self, size: usize, align: usize) -> *mut u8 {
        loop {
            let start = (self.next.get() + align - 1) & !(align - 1);
            let Some(stop) = start.checked_add(size) else {
                return null_mut();
            };
            if stop <= self.end.get() {
                self.next.set(stop);
                return start as *mut u8;
            }
            // Enough pages for the block even when they do not follow `end`.
            let pages = (size + align).div_ceil(PAGE);
            let previous = memory_grow(0, pages);
            if previous == usize::MAX {
                return null_mut();
            }
            let base = previous * PAGE;
            if base != self.end.get() {
                // The first growth (or memory grown by someone else): start afresh there.
                self.next.set(base);
            }
            self.end.set(base + pages * PAGE);
        }
    }
}

unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > MAX_ALIGN {
            return self.bump(layout.size(), layout.align());
        }
        let Some(class) = class(&layout) else {
            return null_mut();
        };
        let head = &self.free[class];
        let block = head.get();
        if block != 0 {
            // Safety: a free block's first word holds the next free block.
            head.set(unsafe { *(block as *const usize) });
            return block as *mut u8;
        }
        let size = 1 << class;
        self.bump(size, size.min(MAX_ALIGN))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Over-aligned blocks are rare (none in this crate) and not reused.
        if layout.align() > MAX_ALIGN {
            return;
        }
        if let Some(class) = class(&layout) {
            let head = &self.free[class];
            // Safety: the block is at least 8 bytes and aligned to at least 8.
            unsafe { *(ptr as *mut usize) = head.get() };
            head.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Safety: the caller passes a valid alignment and a size that does not overflow.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if layout.align() <= MAX_ALIGN && class(&layout) == class(&new_layout) {
            return ptr;
        }
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[wasm_bindgen_test]
    fn blocks_are_aligned_disjoint_and_reused_by_class() {
        let heap = &HEAP;
        let sizes = [1, 7, 8, 9, 16, 24, 100, 4096, 70_000, 200_000];
        let mut live = Vec::new();
        for (i, &size) in sizes.iter().enumerate() {
            let align = [1, 2, 4, 8, 16][i % 5];
            let l = layout(size, align);
            let p = unsafe { heap.alloc(l) };
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0);
            unsafe { p.write_bytes(i as u8, size) };
            live.push((p, l, i as u8));
        }
        for &(p, l, fill) in &live {
            let bytes = unsafe { core::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == fill), "block of {} overwritten", l.size());
        }
        // A freed block is handed out again for a request of its class.
        let (p, l, _) = live[6];
        unsafe { heap.dealloc(p, l) };
        assert_eq!(unsafe { heap.alloc(layout(120, 4)) }, p);
        unsafe { p.write_bytes(6, 120) };
        // Growing within the class keeps the block; beyond it copies the bytes.
        let q = unsafe { heap.realloc(p, layout(120, 4), 128) };
        assert_eq!(q, p);
        let r = unsafe { heap.realloc(q, layout(128, 4), 129) };
        assert_ne!(r, q);
        assert!(unsafe { core::slice::from_raw_parts(r, 100) }.iter().all(|&b| b == 6));
        unsafe { heap.dealloc(r, layout(129, 4)) };
        // Over-aligned requests are served too.
        let big = unsafe { heap.alloc(layout(10, 64)) };
        assert_eq!(big as usize % 64, 0);
        // Above 1 GiB fails instead of wrapping.
        assert!(unsafe { heap.alloc(layout((1 << 30) + 1, 8)) }.is_null());
    }
}
