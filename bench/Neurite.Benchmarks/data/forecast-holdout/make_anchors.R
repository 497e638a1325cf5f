# Forecasting holdout set: public series from R's datasets and forecast packages that are NOT in the
# development set (forecast-dev), used to check that the forecaster's defaults generalise. Same rule and
# anchors as forecast-dev/make_anchors.R: last round(0.2 n) points are the test part; one-step-ahead MAE
# of persistence, seasonal naive (true frequency), ETS and ARIMA (forecast package, fitted on the
# training part, then run with fixed parameters over the whole series so each test forecast uses only
# the past).
suppressMessages({ library(forecast); library(tseries) })
out <- commandArgs(trailingOnly = TRUE)[1]
dir.create(file.path(out, "series"), showWarnings = FALSE, recursive = TRUE)
set.seed(20261203); random_walk <- ts(100 + cumsum(rnorm(500)))
set.seed(20261204); white_noise <- ts(10 + rnorm(300))
S <- list(BJsales = BJsales, co2 = co2, austres = austres, WWWusage = WWWusage,
          AirPassengers = AirPassengers, nottem = nottem, USAccDeaths = USAccDeaths, Nile = Nile,
          LakeHuron = LakeHuron, lynx = lynx, UKgas = UKgas, ldeaths = ldeaths,
          presidents = presidents, treering = treering, airmiles = airmiles,
          JohnsonJohnson = JohnsonJohnson, DAX = ts(as.numeric(EuStockMarkets[, "DAX"])),
          FTSE = ts(as.numeric(EuStockMarkets[, "FTSE"])), sunspots = sunspots,
          Seatbelts_drivers = Seatbelts[, "drivers"], uspop = uspop,
          random_walk = random_walk, white_noise = white_noise)
rows <- list()
for (nm in names(S)) {
  s <- S[[nm]]; f <- frequency(s); y <- as.numeric(s)
  if (anyNA(y)) y <- as.numeric(na.interp(s))   # presidents has 6 missing quarters: filled by forecast::na.interp
  n <- length(y); split <- n - round(n * 0.2); test <- (split + 1):n
  write.csv(data.frame(t = seq_len(n), value = y), file.path(out, "series", paste0(nm, ".csv")), row.names = FALSE)
  mae <- function(p) mean(abs(y[test] - p))
  snaive <- if (f > 1) mae(y[test - f]) else NA
  tr <- ts(y[1:split], frequency = f); full <- ts(y, frequency = f)
  ets_mae <- tryCatch({ fit <- ets(tr); mae(fitted(ets(full, model = fit, use.initial.values = TRUE))[test]) }, error = function(e) NA)
  arima_mae <- tryCatch({ fit <- auto.arima(tr); mae(fitted(Arima(full, model = fit))[test]) }, error = function(e) NA)
  rows[[nm]] <- data.frame(series = nm, n = n, frequency = f, test = length(test), persistence = mae(y[test - 1]),
                           seasonal_naive = snaive, ets = ets_mae, arima = arima_mae)
  cat(nm, "done\n")
}
res <- do.call(rbind, rows)
write.csv(res, file.path(out, "anchors.csv"), row.names = FALSE)
print(res, digits = 4)
