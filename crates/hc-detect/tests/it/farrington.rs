//! Tests of `farrington` beyond the shared R reference cases.
