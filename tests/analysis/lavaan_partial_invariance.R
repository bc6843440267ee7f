# Reference numbers for tests/analysis/test_comparability.py (lavaan 0.6.14, Debian's
# r-cran-lavaan). Partial scalar invariance: intercepts equal except x3 and x7.
library(lavaan)
HS.model <- ' visual  =~ x1 + x2 + x3
              textual =~ x4 + x5 + x6
              speed   =~ x7 + x8 + x9 '
fit <- cfa(HS.model, data = HolzingerSwineford1939, group = "school",
           group.equal = c("loadings", "intercepts"), group.partial = c("x3~1", "x7~1"))
print(round(unclass(fitMeasures(fit, c("chisq", "df", "cfi", "rmsea"))), 6))
# One construct alone (the gate tests each index on its own items).
one <- ' speed =~ x7 + x8 + x9 '
for (eq in list("loadings", c("loadings", "intercepts"))) {
  f <- cfa(one, data = HolzingerSwineford1939, group = "school", group.equal = eq)
  print(round(unclass(fitMeasures(f, c("chisq", "df", "cfi", "rmsea"))), 6))
}
f <- cfa(one, data = HolzingerSwineford1939, group = "school",
         group.equal = c("loadings", "intercepts"), group.partial = "x7~1")
print(round(unclass(fitMeasures(f, c("chisq", "df", "cfi", "rmsea"))), 6))
