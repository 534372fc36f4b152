//! Tests of `glr` beyond the shared R reference cases.
