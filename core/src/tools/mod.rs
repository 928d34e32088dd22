//! Tools over packs: semantic diff, threshold statistics, pack test cases.

pub(crate) mod cases;
pub(crate) mod diff;
pub(crate) mod schemas;
pub(crate) mod stats;
