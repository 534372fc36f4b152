//! Tests of `basic` beyond the shared R reference cases.
