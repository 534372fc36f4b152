//! Tests of `scan` beyond the shared R reference cases.
