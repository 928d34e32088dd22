//! HL7 v2 in (placeholder until the parser lands).
use std::io::{self, BufRead};

use crate::input::InputError;
use crate::interop::Mapped;
use crate::pack::Pack;

pub(crate) fn read<R: BufRead>(
    _input: R,
    _pack: &Pack,
    _each: &mut dyn FnMut(Mapped) -> io::Result<()>,
) -> Result<(), InputError> {
    Err(InputError::Document("HL7 v2 input is not read yet".into()))
}
