# Non-parametric serial interval cases for Rt: EpiEstim 2.2-4's estimate_R(method =
# "non_parametric_si") on its bundled Flu2009 incidence with the serial-interval distribution
# bundled beside it, and on SARS2003 with its bundled distribution.
# Run: Rscript make_rt_np.R   (writes rt_np_<name>.{input,si,expected}.csv here)
suppressMessages(library(EpiEstim))
for (nm in c("Flu2009", "SARS2003")) {
  data(list = nm); x <- get(nm)
  inc <- x$incidence; if (is.data.frame(inc)) inc <- inc$I
  si <- x$si_distr
  r <- estimate_R(inc, method = "non_parametric_si", config = make_config(list(si_distr = si)))
  write.csv(data.frame(t = seq_along(inc), incidence = inc), sprintf("rt_np_%s.input.csv", nm), row.names = FALSE, quote = FALSE)
  write.csv(data.frame(k = seq_along(si) - 1, si = sprintf("%.17g", si)), sprintf("rt_np_%s.si.csv", nm), row.names = FALSE, quote = FALSE)
  R <- r$R
  f <- function(v) ifelse(is.na(v), "", sprintf("%.12g", v))
  write.csv(data.frame(t_start = R$t_start, t_end = R$t_end, mean = f(R[["Mean(R)"]]), std = f(R[["Std(R)"]]),
                       q025 = f(R[["Quantile.0.025(R)"]]), median = f(R[["Median(R)"]]), q975 = f(R[["Quantile.0.975(R)"]])),
            sprintf("rt_np_%s.expected.csv", nm), row.names = FALSE, quote = FALSE)
}
