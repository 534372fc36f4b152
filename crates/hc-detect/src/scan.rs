//! Kulldorff's space-time permutation scan statistic (2005).
