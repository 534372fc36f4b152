# Times R's surveillance methods on the CSV the engine reads, for bench/detect.sh.
# Usage: Rscript detect_bench.R METHOD INPUT.csv FROM TO PARAMS
# Prints one line: "<periods> <seconds>" (seconds of the method call alone, package load excluded).
suppressMessages(library(surveillance))
a <- commandArgs(TRUE)
method <- a[1]; input <- a[2]; from <- as.Date(a[3]); to <- as.Date(a[4]); params <- a[5]
df <- read.csv(input, stringsAsFactors = FALSE)
df$date <- as.Date(df$date)
names_ <- unique(df$series)
dates <- sort(unique(df$date))
obs <- sapply(names_, function(s) { x <- df[df$series == s, ]; x$count[match(dates, x$date)] })
freq <- if (as.numeric(dates[2] - dates[1]) == 7) 52 else 365
s <- sts(observed = obs, epoch = as.numeric(dates), epochAsDate = TRUE, frequency = freq)
rng <- which(dates >= from & dates <= to)
kv <- strsplit(strsplit(params, ";")[[1]], "=")
p <- setNames(lapply(kv, `[`, 2), sapply(kv, `[`, 1))
num <- function(k, d) if (is.null(p[[k]])) d else as.numeric(p[[k]])
t <- system.time({
  if (method == "farrington-flexible") {
    farringtonFlexible(s, list(range = rng, b = num("b", 5), w = num("w", 3), noPeriods = num("no_periods", 1),
      weightsThreshold = num("weights_threshold", 1), pastWeeksNotIncluded = num("past_weeks_not_included", 3),
      pThresholdTrend = num("p_threshold_trend", 0.05),
      thresholdMethod = switch(if (is.null(p$threshold_method)) "delta" else p$threshold_method, nbplugin = "nbPlugin", muan = "muan", delta = "delta")))
  } else if (method == "ears") {
    earsC(s, list(range = rng, method = if (is.null(p$variant)) "C1" else p$variant, alpha = num("alpha", 0.001)))
  } else if (method == "cusum") {
    cusum(s, list(range = rng))
  } else stop("no R timing for ", method)
})
cat(length(rng) * ncol(obs), t[["elapsed"]], "\n")
