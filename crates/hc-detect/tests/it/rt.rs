//! Tests of `rt` beyond the shared R reference cases.
