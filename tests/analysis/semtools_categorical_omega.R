# Reference numbers for tests/analysis/test_categorical_omega.py: Green & Yang's (2009)
# categorical omega, semTools 0.5.6 and lavaan 0.6.14 (Debian's r-cran-semtools), on the
# psych bfi items exported in data/bfi_ordinal.csv (see data/README.md).
library(lavaan)
library(semTools)
d <- read.csv("tests/analysis/data/bfi_ordinal.csv")
for (items in list(c("N1", "N2", "N3", "N4"), c("E1b", "E2b", "E3b", "E4b", "E5b"))) {
  model <- paste("f =~", paste(items, collapse = " + "))
  fit <- cfa(model, data = d, ordered = items, estimator = "WLSMV", missing = "pairwise",
             std.lv = TRUE)
  print(items)
  print(format(unclass(compRelSEM(fit, ord.scale = TRUE)), digits = 10))
  print(format(unclass(compRelSEM(fit, ord.scale = FALSE)), digits = 10))
}
