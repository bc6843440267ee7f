# The import.R of the demo SPSS bundle (analyst file, k = 5), as run with Debian bookworm
# r-base-core 4.2.2, r-cran-survey 4.1-1 and r-cran-haven 2.5.1 in the unzipped bundle to
# record R_MEANS in tests/exports/test_protection.py (12-area demo: re-run on the analyst
# file's CSV with read.csv in place of read_sav; same figures to 1e-12).
# Demo City: Neighbourhood hosts
# Reads the data file of this bundle and sets up the survey design as the dashboards weigh:
# raking weights, areas as clusters, responses with a quality flag left out.
# Needs the R packages haven and survey: install.packages(c("haven", "survey"))
library(survey)
d <- haven::zap_labels(haven::read_sav("data-wide.sav", user_na = FALSE))
kept <- subset(d, flag_exclude == 0)
design <- svydesign(ids = ~area, weights = ~weight, data = kept)
indices <- c("idx_trust", "idx_participation", "idx_belonging", "idx_perceived_safety")
means <- do.call(rbind, lapply(indices, function(v) {
  est <- svyby(as.formula(paste0("~", v)), ~wave_order, design, svymean, na.rm = TRUE)
  data.frame(index = v, wave_order = est$wave_order, mean = est[[v]], se = SE(est))
}))
print(means, row.names = FALSE)
write.csv(means, "index_means.csv", row.names = FALSE)
