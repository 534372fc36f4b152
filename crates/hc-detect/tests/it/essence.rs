//! Tests of `essence` beyond the shared R reference cases.
