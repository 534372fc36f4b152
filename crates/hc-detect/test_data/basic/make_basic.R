# Reference cases for EARS, CUSUM, Bayes, RKI and CDC parameter sets beyond the shared ones,
# from R surveillance 1.20.3 (run from this directory: Rscript make_basic.R).
# Inputs: three weekly data sets copied from ../surveillance/*.input.csv and a seeded synthetic
# daily data set (daily.input.csv, made here). Output files and manifest.tsv as in ../surveillance.
suppressMessages(library(surveillance))
manifest <- "manifest.tsv"
cat("name\tmethod\tparams\tfrom\tto\n", file = manifest)

read_sts <- function(file, freq) {
  d <- read.csv(file, stringsAsFactors = FALSE)
  names <- unique(d$series)
  dates <- as.Date(unique(d$date))
  obs <- sapply(names, function(n) d$count[d$series == n])
  obs <- matrix(obs, ncol = length(names), dimnames = list(NULL, names))
  sts(observed = obs, epoch = as.numeric(dates), epochAsDate = TRUE, frequency = freq)
}

fmt <- function(x) ifelse(is.na(x), "", sprintf("%.12g", x))

write_rows <- function(name, s, rng, ub, al) {
  obs <- observed(s); d <- format(epoch(s))
  df <- do.call(rbind, lapply(seq_len(ncol(obs)), function(j)
    data.frame(series = colnames(obs)[j], date = d[rng], count = obs[rng, j], expected = "",
               upperbound = fmt(ub[, j]), alarm = as.integer(al[, j]))))
  write.csv(df, paste0(name, ".expected.csv"), row.names = FALSE, quote = FALSE)
}

add <- function(data, tag, method, params, s, rng) {
  name <- paste0(data, "__", tag)
  cat(sprintf("%s\t%s\t%s\t%s\t%s\n", name, method, params, format(epoch(s)[min(rng)]),
              format(epoch(s)[max(rng)])), file = manifest, append = TRUE)
  name
}

add_sts <- function(data, tag, method, params, s, fun, ctrl) {
  name <- add(data, tag, method, params, s, ctrl$range)
  r <- fun(s, ctrl)
  write_rows(name, s, ctrl$range, upperbound(r), alarms(r))
}

add_cdc <- function(data, tag, params, s, ctrl) {
  name <- add(data, tag, "cdc", params, s, ctrl$range)
  ub <- al <- matrix(NA, length(ctrl$range), ncol(s))
  for (j in seq_len(ncol(s))) {
    r <- algo.cdc(sts2disProg(s[, j]), ctrl)
    ub[, j] <- r$upperbound; al[, j] <- r$alarm
  }
  write_rows(name, s, ctrl$range, ub, al)
}

# Daily synthetic data: three years, weekly pattern, two outbreaks, a few missing days.
set.seed(20240501)
n <- 3 * 365
dates <- as.Date("2021-01-04") + 0:(n - 1)
dow <- c(1.3, 1.1, 1, 1, 0.9, 0.6, 0.5)[(0:(n - 1)) %% 7 + 1]
mu <- 8 * dow * (1 + 0.3 * cos(2 * pi * (1:n) / 365))
a <- rpois(n, mu); a[400:410] <- a[400:410] + rpois(11, 12)
b <- rpois(n, 1.5 * dow); b[800:806] <- b[800:806] + 6; b[c(100, 500, 501, 900)] <- NA
write.csv(data.frame(series = rep(c("ili_a", "gi_b"), each = n), date = format(rep(dates, 2)),
                     count = c(a, b)), "daily.input.csv", row.names = FALSE, quote = FALSE, na = "")

weekly <- c("salmNewport_DE", "salmonella_agona", "campyDE")
for (data in weekly) file.copy(file.path("../surveillance", paste0(data, ".input.csv")), ".", overwrite = TRUE)

for (data in c(weekly, "daily")) {
  freq <- if (data == "daily") 365 else 52
  s <- read_sts(paste0(data, ".input.csv"), freq)
  N <- nrow(s)
  all_from <- function(first) first:N
  # EARS: R's defaults and other alpha/baseline/min_sigma; C3 as R computes it.
  add_sts(data, "ears_c1_default", "ears", "variant=C1", s, earsC,
          list(range = all_from(8), method = "C1"))
  add_sts(data, "ears_c1_b10", "ears", "variant=C1;alpha=0.01;baseline=10", s, earsC,
          list(range = all_from(11), method = "C1", alpha = 0.01, baseline = 10))
  add_sts(data, "ears_c2_b5", "ears", "variant=C2;alpha=0.02;baseline=5;min_sigma=0.5", s, earsC,
          list(range = all_from(8), method = "C2", alpha = 0.02, baseline = 5, minSigma = 0.5))
  add_sts(data, "ears_c3_default", "ears", "variant=C3;compat=surveillance", s, earsC,
          list(range = all_from(12), method = "C3"))
  add_sts(data, "ears_c3_sigma", "ears", "variant=C3;alpha=0.001;min_sigma=1;baseline=4;compat=surveillance",
          s, earsC, list(range = all_from(9), method = "C3", alpha = 0.001, minSigma = 1, baseline = 4))
  if (data == "daily") next
  b5 <- (52 * 2 + 1):N
  # CUSUM: in-control mean from a GLM, other transformations.
  for (tr in c("standard", "rossi", "anscombe", "anscombe2nd", "pearsonNegBin", "none")) {
    add_sts(data, paste0("cusum_mean_", tr), "cusum", sprintf("trans=%s", tr), s, cusum,
            list(range = b5, trans = tr))
  }
  for (tr in c("standard", "rossi", "anscombe")) {
    add_sts(data, paste0("cusum_glm_", tr), "cusum", sprintf("m=glm;trans=%s", tr), s, cusum,
            list(range = b5, m = "glm", trans = tr))
  }
  add_sts(data, "cusum_nb", "cusum", "k=0.5;h=4;trans=pearsonNegBin;alpha=0.3", s, cusum,
          list(range = b5, k = 0.5, h = 4, trans = "pearsonNegBin", alpha = 0.3))
  # Bayes and RKI with other windows.
  add_sts(data, "bayes_default", "bayes", "", s, bayes, list(range = all_from(7)))
  add_sts(data, "bayes_b1w3", "bayes", "b=1;w=3;act_y=true;alpha=0.01", s, bayes,
          list(range = all_from(52 + 4), b = 1, w = 3, actY = TRUE, alpha = 0.01))
  add_sts(data, "bayes_b2w2", "bayes", "b=2;w=2;act_y=false", s, bayes,
          list(range = all_from(104 + 3), b = 2, w = 2, actY = FALSE))
  add_sts(data, "rki_default", "rki", "", s, rki, list(range = all_from(104 + 5)))
  add_sts(data, "rki_b1w2", "rki", "b=1;w=2;act_y=true", s, rki,
          list(range = all_from(52 + 3), b = 1, w = 2, actY = TRUE))
  add_sts(data, "rki_b3w3", "rki", "b=3;w=3;act_y=false", s, rki,
          list(range = all_from(156 + 4), b = 3, w = 3, actY = FALSE))
  # CDC historical limits (the first period R can evaluate without indexing outside the data).
  add_cdc(data, "cdc_default", "", s, list(range = all_from(52 * 5 + 4 + 4), b = 5, m = 1, alpha = 0.025))
  add_cdc(data, "cdc_b3m2", "b=3;m=2;alpha=0.05", s, list(range = all_from(52 * 3 + 8 + 4), b = 3, m = 2, alpha = 0.05))
  add_cdc(data, "cdc_b4m0", "b=4;m=0;alpha=0.1", s, list(range = all_from(52 * 4 + 0 + 4), b = 4, m = 0, alpha = 0.1))
}
