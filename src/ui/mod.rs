//! The shadow-root host and the Yew popup.
