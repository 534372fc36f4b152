# Extra reference cases for glrnb / glrpois (R 4.2.2, surveillance 1.20.3, MASS 7.3-58.2).
# Run in this directory: Rscript make_glr.R. Inputs: the weekly series copied from
# ../surveillance (campyDE, salmNewport_DE, salmonella_agona) and a seeded synthetic daily series
# (daily3y.input.csv, written here). Each case writes <data>__<tag>.expected.csv with
# expected = r@control$mu0 (the in-control mean R fitted) and a line of manifest.tsv.
suppressMessages(library(surveillance))
manifest <- "manifest.tsv"
cat("name\tmethod\tparams\tfrom\tto\n", file = manifest)
fmt <- function(x) ifelse(is.na(x), "", sprintf("%.12g", x))

read_input <- function(name, freq) {
  df <- read.csv(paste0(name, ".input.csv"), stringsAsFactors = FALSE)
  d <- as.Date(unique(df$date))
  obs <- sapply(unique(df$series), function(s) df$count[df$series == s])
  obs <- matrix(obs, ncol = length(unique(df$series)), dimnames = list(NULL, unique(df$series)))
  sts(observed = obs, epoch = as.numeric(d), epochAsDate = TRUE, frequency = freq)
}

# A daily series: yearly seasonality, slight trend, overdispersion and an outbreak.
set.seed(20240501)
n <- 3 * 365
t <- 1:n
mu <- exp(1.2 + 0.0002 * t + 0.5 * cos(2 * pi * t / 365) + 0.2 * sin(2 * pi * t / 365))
mu[900:915] <- mu[900:915] * 3
y <- rnbinom(n, mu = mu, size = 4)
write.csv(data.frame(series = "daily3y", date = format(as.Date("2021-01-01") + t - 1), count = y),
          "daily3y.input.csv", row.names = FALSE, quote = FALSE)

add_case <- function(data, tag, method, params, ctrl, range, freq = 52) {
  s <- read_input(data, freq)
  ctrl$range <- range
  fun <- if (method == "glrnb") glrnb else glrpois
  r <- suppressMessages(fun(s, control = ctrl))
  mu0 <- r@control$mu0
  obs <- observed(r); d <- epoch(r)
  df <- data.frame(series = colnames(obs)[1], date = format(d), count = obs[, 1],
                   expected = fmt(mu0), upperbound = fmt(upperbound(r)[, 1]),
                   alarm = as.integer(alarms(r)[, 1]))
  name <- paste0(data, "__", tag)
  write.csv(df, paste0(name, ".expected.csv"), row.names = FALSE, quote = FALSE)
  de <- epoch(s)
  cat(sprintf("%s\t%s\t%s\t%s\t%s\n", name, method, params, format(de[min(range)]), format(de[max(range)])),
      file = manifest, append = TRUE)
  cat(name, "alarms:", sum(alarms(r)), "alpha:", if (is.null(r@control$alpha)) "" else r@control$alpha, "\n")
}

campy <- 266:522
salm <- 266:528
agona <- 261:312
daily <- 366:1095

# the defaults, with mu0 checked
add_case("campyDE", "nb_default", "glrnb", "", list(), campy)
add_case("campyDE", "pois_default", "glrpois", "", list(), campy)
add_case("salmonella_agona", "nb_default", "glrnb", "", list(), agona)
# ret = cases
add_case("campyDE", "pois_cases", "glrpois", "ret=cases", list(ret = "cases"), campy)
add_case("salmNewport_DE", "pois_cases", "glrpois", "ret=cases", list(ret = "cases"), salm)
add_case("salmonella_agona", "nb_cases", "glrnb", "ret=cases", list(ret = "cases"), agona)
add_case("salmonella_agona", "pois_cases_dec", "glrpois", "ret=cases;dir=dec", list(ret = "cases", dir = "dec"), agona)
# trend and two harmonics
add_case("campyDE", "nb_trend", "glrnb", "mu0_trend=true", list(mu0 = list(S = 1, trend = TRUE)), campy)
add_case("campyDE", "pois_trend", "glrpois", "mu0_trend=true", list(mu0 = list(S = 1, trend = TRUE)), campy)
add_case("salmNewport_DE", "nb_s2", "glrnb", "mu0_harmonics=2", list(mu0 = list(S = 2, trend = FALSE)), salm)
add_case("salmNewport_DE", "pois_s2_trend", "glrpois", "mu0_harmonics=2;mu0_trend=true", list(mu0 = list(S = 2, trend = TRUE)), salm)
# decreases
add_case("campyDE", "nb_dec", "glrnb", "dir=dec", list(dir = "dec"), campy)
add_case("campyDE", "pois_dec", "glrpois", "dir=dec", list(dir = "dec"), campy)
# fixed overdispersion
add_case("campyDE", "nb_alpha", "glrnb", "alpha=0.05", list(alpha = 0.05), campy)
add_case("salmNewport_DE", "nb_alpha0", "glrnb", "alpha=0", list(alpha = 0), salm)
# windows
add_case("campyDE", "nb_window", "glrnb", "m=10;mtilde=2", list(M = 10, Mtilde = 2), campy)
add_case("campyDE", "pois_window", "glrpois", "m=10;mtilde=2", list(M = 10, Mtilde = 2), campy)
add_case("salmNewport_DE", "pois_window_cases", "glrpois", "m=8;ret=cases", list(M = 8, ret = "cases"), salm)
# known change size (likelihood-ratio CUSUM)
add_case("campyDE", "nb_theta", "glrnb", "theta=0.4", list(theta = 0.4), campy)
add_case("campyDE", "pois_theta", "glrpois", "theta=0.4;ret=cases", list(theta = 0.4, ret = "cases"), campy)
add_case("salmNewport_DE", "nb_theta_cases", "glrnb", "theta=0.5;ret=cases;c_arl=3", list(theta = 0.5, ret = "cases", c.ARL = 3), salm)
# epidemic chart
add_case("salmNewport_DE", "pois_epi", "glrpois", "change=epi", list(change = "epi"), salm)
add_case("salmNewport_DE", "nb_epi", "glrnb", "change=epi", list(change = "epi"), salm)
# daily data
add_case("daily3y", "nb_default", "glrnb", "m=60", list(M = 60), daily, freq = 365)
add_case("daily3y", "pois_trend", "glrpois", "mu0_trend=true;c_arl=8", list(mu0 = list(S = 1, trend = TRUE), c.ARL = 8), daily, freq = 365)
add_case("daily3y", "nb_cases", "glrnb", "ret=cases;m=30;alpha=0.2", list(ret = "cases", M = 30, alpha = 0.2), 850:960, freq = 365)
# decreases with cases
add_case("campyDE", "pois_cases_dec", "glrpois", "ret=cases;dir=dec", list(ret = "cases", dir = "dec"), campy)
add_case("salmonella_agona", "nb_cases_dec", "glrnb", "ret=cases;dir=dec;c_arl=2", list(ret = "cases", dir = "dec", c.ARL = 2), agona)
