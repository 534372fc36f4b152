# Reference cases for `farrington` (R's algo.farrington) and for farringtonFlexible on daily data
# and with a population offset, from R 4.2.2 with surveillance 1.20.3.
# Run from this directory: Rscript make_farrington.R
# Outputs:
#   <data>.input.csv                series,date,count (weekly sets copied from ../surveillance)
#   <data>__<tag>.expected.csv      series,date,count,expected,upperbound,alarm,trend
#   manifest.tsv                    name, method, params, from, to (read by check_manifest)
#   population.input.csv            series,date,count,population
#   population__<tag>.expected.csv  as above, listed in population.tsv
# An alarm R leaves NA is written 0; an empty cell is R's NA.
suppressMessages(library(surveillance))
src <- "../surveillance"
manifest <- "manifest.tsv"
cat("name\tmethod\tparams\tfrom\tto\n", file = manifest)
pop_manifest <- "population.tsv"
cat("name\tmethod\tparams\tfrom\tto\n", file = pop_manifest)

fmt <- function(x) ifelse(is.na(x), "", sprintf("%.12g", x))
flag <- function(x) ifelse(is.na(x), 0L, as.integer(x))

read_sts <- function(file, freq) {
  d <- read.csv(file, stringsAsFactors = FALSE)
  series <- unique(d$series)
  obs <- sapply(series, function(s) d$count[d$series == s])
  obs <- matrix(obs, ncol = length(series), dimnames = list(NULL, series))
  dates <- as.Date(d$date[d$series == series[1]])
  pop <- if (!is.null(d$population)) {
    matrix(sapply(series, function(s) d$population[d$series == s]), ncol = length(series))
  } else NULL
  if (is.null(pop)) {
    sts(observed = obs, epoch = as.numeric(dates), epochAsDate = TRUE, frequency = freq)
  } else {
    sts(observed = obs, epoch = as.numeric(dates), epochAsDate = TRUE, frequency = freq,
        population = pop)
  }
}

write_rows <- function(rows, name) {
  write.csv(do.call(rbind, rows), paste0(name, ".expected.csv"), row.names = FALSE, quote = FALSE)
}

add_line <- function(file, name, method, params, dates, rng) {
  cat(sprintf("%s\t%s\t%s\t%s\t%s\n", name, method, params, format(dates[min(rng)]),
              format(dates[max(rng)])), file = file, append = TRUE)
}

# algo.farrington on each series of a dated sts (as surveillance::farrington does), keeping
# control$pd[, 2], which is the fitted mean mu0 back-transformed.
classic_case <- function(s, data, tag, params, ctrl, freq = 52) {
  name <- paste0(data, "__", tag)
  n <- nrow(observed(s))
  rng <- (freq * ctrl$b - ctrl$w):n
  dates <- as.Date(epoch(s), origin = "1970-01-01")
  rows <- lapply(seq_len(ncol(s)), function(j) {
    dp <- surveillance:::sts2disProg(s[, j])
    r <- algo.farrington(dp, control = c(ctrl, list(range = rng)))
    data.frame(series = colnames(observed(s))[j], date = format(dates[rng]),
               count = observed(s)[rng, j], expected = fmt(r$control$pd[, 2]),
               upperbound = fmt(r$upperbound), alarm = flag(r$alarm), trend = flag(r$trend))
  })
  write_rows(rows, name)
  add_line(manifest, name, "farrington", params, dates, rng)
}

flexible_case <- function(s, data, tag, params, ctrl, rng, file = manifest) {
  name <- paste0(data, "__", tag)
  dates <- as.Date(epoch(s), origin = "1970-01-01")
  r <- farringtonFlexible(s, c(ctrl, list(range = rng)))
  rows <- lapply(seq_len(ncol(s)), function(j)
    data.frame(series = colnames(observed(s))[j], date = format(dates[rng]),
               count = observed(s)[rng, j], expected = fmt(r@control$expected[, j]),
               upperbound = fmt(upperbound(r)[, j]), alarm = flag(alarms(r)[, j]),
               trend = flag(r@control$trend[, j])))
  write_rows(rows, name)
  add_line(file, name, "farrington-flexible", params, dates, rng)
}

# Weekly: the four data sets of ../surveillance.
for (data in c("salmNewport_states", "salmNewport_DE", "salmonella_agona", "campyDE")) {
  file.copy(file.path(src, paste0(data, ".input.csv")), paste0(data, ".input.csv"), overwrite = TRUE)
  s <- read_sts(paste0(data, ".input.csv"), 52)
  classic_case(s, data, "classic", "b=5;w=3", list(b = 5, w = 3))
  classic_case(s, data, "classic_b3w2", "b=3;w=2;reweight=false;trend=false;powertrans=none",
               list(b = 3, w = 2, reweight = FALSE, trend = FALSE, powertrans = "none"))
  classic_case(s, data, "classic_half", "b=4;w=2;alpha=0.01;powertrans=1/2;limit54=0,4",
               list(b = 4, w = 2, alpha = 0.01, powertrans = "1/2", limit54 = c(0, 4)))
}

# Daily: two seeded synthetic series over 2014-2020 (two 29 Februaries).
set.seed(20240229)
dates <- seq(as.Date("2014-01-01"), as.Date("2020-12-31"), by = "day")
t <- seq_along(dates)
season <- 1 + 0.6 * sin(2 * pi * t / 365.25) + 0.2 * (format(dates, "%u") %in% c("1", "2"))
busy <- rpois(length(t), 8 * season * exp(0.0002 * t))
sparse <- rpois(length(t), 0.4 * season)
outbreak <- which(dates %in% (as.Date("2020-03-02") + 0:6))
busy[outbreak] <- busy[outbreak] + c(5, 12, 20, 25, 15, 8, 4)
sparse[dates %in% (as.Date("2020-07-10") + 0:3)] <- c(3, 5, 4, 2)
daily_df <- rbind(data.frame(series = "daily_busy", date = format(dates), count = busy),
                  data.frame(series = "daily_sparse", date = format(dates), count = sparse))
write.csv(daily_df, "daily.input.csv", row.names = FALSE, quote = FALSE)
sd <- read_sts("daily.input.csv", 365)
last_year <- which(dates >= as.Date("2019-12-01"))
flexible_case(sd, "daily", "ff_delta", "b=3;w=3", list(b = 3, w = 3), last_year)
flexible_case(sd, "daily", "ff_noufaily",
  "b=3;w=7;no_periods=4;weights_threshold=2.58;past_weeks_not_included=26;p_threshold_trend=1;threshold_method=nbplugin",
  list(b = 3, w = 7, noPeriods = 4, weightsThreshold = 2.58, pastWeeksNotIncluded = 26,
       pThresholdTrend = 1, thresholdMethod = "nbPlugin"),
  last_year)
classic_case(sd, "daily", "classic", "b=3;w=3", list(b = 3, w = 3), freq = 365)

# Population offset: S. Agona with a growing, uneven population.
agona <- read.csv("salmonella_agona.input.csv", stringsAsFactors = FALSE)
n <- nrow(agona)
agona$series <- "agona_pop"
agona$population <- round(1e6 * (1 + 0.004 * seq_len(n)) * (1 + 0.05 * sin(seq_len(n) / 7)))
write.csv(agona, "population.input.csv", row.names = FALSE, quote = FALSE)
sp <- read_sts("population.input.csv", 52)
rng <- (52 * 5 + 3 + 1):n
flexible_case(sp, "population", "ff_delta", "b=5;w=3;population_offset=true",
              list(b = 5, w = 3, populationOffset = TRUE), rng, pop_manifest)
flexible_case(sp, "population", "ff_noufaily",
  "b=5;w=3;no_periods=10;past_weeks_not_included=26;threshold_method=nbplugin;population_offset=true",
  list(b = 5, w = 3, noPeriods = 10, pastWeeksNotIncluded = 26, thresholdMethod = "nbPlugin",
       populationOffset = TRUE),
  rng, pop_manifest)
