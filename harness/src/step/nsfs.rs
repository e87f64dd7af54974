//! Carrying out the steps of plan::nsfs.

use nix::errno::Errno;

use super::{Extra, StepEnv};
use crate::plan::nsfs::NsfsStep;

pub fn perform(step: &NsfsStep, _env: &StepEnv) -> Result<Extra, Errno> {
    match *step {}
}
