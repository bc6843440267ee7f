# Reference numbers for tests/analysis/test_panel.py (R 4.x, base stats only).
# Rscript tests/analysis/panel_pairs.R
d <- read.csv("tests/analysis/data/panel_pairs.csv", na.strings = "")
d <- d[!is.na(d$panel_id), ]
b <- d[d$wave == "baseline", ]
f <- d[d$wave == "follow-up", ]
m <- merge(b, f, by = "panel_id", suffixes = c(".b", ".f"))
paired <- t.test(m$score.f, m$score.b, paired = TRUE)
welch <- t.test(m$score.f, m$score.b)
cat(sprintf("n_pairs %d\n", nrow(m)))
cat(sprintf("change %.10f\n", unname(paired$estimate)))
cat(sprintf("se_paired %.10f\n", paired$stderr))
cat(sprintf("ci %.10f %.10f\n", paired$conf.int[1], paired$conf.int[2]))
cat(sprintf("pvalue %.10g\n", paired$p.value))
cat(sprintf("se_welch %.10f\n", welch$stderr))
cat(sprintf("correlation %.10f\n", cor(m$score.b, m$score.f)))
retained <- table(b$area, b$panel_id %in% f$panel_id)
print(retained)
