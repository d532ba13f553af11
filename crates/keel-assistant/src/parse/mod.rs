//! Pure parsers for the pieces of an everyday request: words and names, amounts, dates
//! and periods, stages and other select values. No I/O; the engine combines them.

pub mod amount;
pub mod period;
pub mod text;
pub mod vocab;
