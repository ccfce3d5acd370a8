//! Integration tests, built as one binary so that Burn links once.

mod backends;
mod cli;
mod contract;
mod loader;
mod regression;
mod rotation;
mod sources;
mod testutil;
