# A daily input for bench/detect.sh: SERIES Poisson series of 3 years with weekday effects.
# Usage: Rscript make_daily.R SERIES OUT.csv
a <- commandArgs(TRUE); n <- as.integer(a[1]); set.seed(20261123)
dates <- seq(as.Date("2023-01-02"), by = 1, length.out = 3 * 365)
dow <- as.integer(format(dates, "%u"))
rows <- lapply(seq_len(n), function(i) {
  level <- exp(runif(1, log(0.5), log(200)))
  mu <- level * ifelse(dow >= 6, 0.6, 1.1) * (1 + 0.3 * cos(2 * pi * seq_along(dates) / 365.25))
  data.frame(series = sprintf("s%04d", i), date = format(dates), count = rpois(length(dates), mu))
})
write.csv(do.call(rbind, rows), a[2], row.names = FALSE, quote = FALSE)
