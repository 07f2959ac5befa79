//! The browser behind small types.
