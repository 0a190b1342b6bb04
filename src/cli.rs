//! Placeholder: command-line parsing is being written.
