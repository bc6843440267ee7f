"""Ready-to-run import scripts in a dataset bundle: R, Stata and SPSS.

Each script reads the bundle's data file with its missing codes as missing, keeps the
responses without a quality flag and sets up the survey design as the dashboards weigh:
raking weights, areas as clusters. Its first estimate, the weighted mean of every index by
wave, is the figure of the dashboards and of ``aggregates.csv`` (the wave rows); in an
analyst's file, disclosure control has averaged the weights over the released age bands,
which moves these means by a few hundredths of a point (codebook, disclosure section).
"""

from __future__ import annotations

from surveyapp.exports.dataset import DatasetPlan

#: Bundle member names of the scripts.
NAMES = {"r": "import.R", "stata": "import.do", "spss": "import.sps"}


def _indices(plan: DatasetPlan) -> list[str]:
    return [v.name for v in plan.variables if v.kind == "index"]


def _coded(plan: DatasetPlan) -> list[str]:
    """Variables with missing-value codes (negative numbers in CSV)."""
    return [v.name for v in plan.variables if v.missing_codes]


def r_script(plan: DatasetPlan, fmt: str, shape: str) -> str:
    """R: haven (or read.csv) and the survey package's design with weights and clusters."""
    indices = ", ".join(f'"{name}"' for name in _indices(plan))
    if fmt == "sav":
        read = f'd <- haven::zap_labels(haven::read_sav("data-{shape}.sav", user_na = FALSE))'
    elif fmt == "dta":
        read = f'd <- haven::zap_labels(haven::read_dta("data-{shape}.dta"))'
    else:
        coded = ", ".join(f'"{name}"' for name in _coded(plan))
        read = (
            f'd <- read.csv("data-{shape}.csv", stringsAsFactors = FALSE)\n'
            f"coded <- intersect(c({coded}), names(d))\n"
            "d[coded] <- lapply(d[coded], function(x) ifelse(x < 0, NA, x))"
        )
    if shape == "long":
        return (
            f"# {plan.title}: long shape, one row per response and variable.\n"
            "# Missing-value codes are negative in `value`; weight and flags are on every row.\n"
            f"{read}\n"
        )
    return f"""# {plan.title}
# Reads the data file of this bundle and sets up the survey design as the dashboards weigh:
# raking weights, areas as clusters, responses with a quality flag left out.
# Needs the R packages haven and survey: install.packages(c("haven", "survey"))
library(survey)
{read}
kept <- subset(d, flag_exclude == 0)
design <- svydesign(ids = ~area, weights = ~weight, data = kept)
indices <- c({indices})
means <- do.call(rbind, lapply(indices, function(v) {{
  est <- svyby(as.formula(paste0("~", v)), ~wave_order, design, svymean, na.rm = TRUE)
  data.frame(index = v, wave_order = est$wave_order, mean = est[[v]], se = SE(est))
}}))
print(means, row.names = FALSE)
write.csv(means, "index_means.csv", row.names = FALSE)
"""


def stata_script(plan: DatasetPlan, fmt: str, shape: str) -> str:
    """Stata: the data with missing codes as .a/.b/.c, then ``svyset`` and the means."""
    indices = " ".join(_indices(plan))
    if fmt == "dta":
        read = f'use "data-{shape}.dta", clear'
    else:
        coded = " ".join(_coded(plan)) if shape == "wide" else "value"
        read = (
            f'import delimited "data-{shape}.csv", clear varnames(1) encoding(utf-8)\n'
            f"mvdecode {coded}, mv(-1=.a \\ -2=.b \\ -3=.c)"
        )
    if shape == "long":
        return f"* {plan.title}: long shape.\n{read}\nsvyset area [pweight=weight]\n"
    return f"""* {plan.title}
* Survey design as the dashboards weigh: raking weights, areas as clusters.
{read}
svyset area [pweight=weight]
svy, subpop(if flag_exclude == 0): mean {indices}, over(wave_order)
"""


def spss_script(plan: DatasetPlan, fmt: str, shape: str) -> str:
    """SPSS syntax: open the file, leave flagged responses out, weight, means by wave."""
    indices = " ".join(_indices(plan))
    if fmt == "sav":
        read = f"GET FILE='data-{shape}.sav'."
    else:
        read = (
            f"* Open data-{shape}.csv with File > Import Data > CSV Data, or the .sav bundle.\n"
            f"GET DATA /TYPE=TXT /FILE='data-{shape}.csv' /DELIMITERS=',' /QUALIFIER='\"'\n"
            "  /ARRANGEMENT=DELIMITED /FIRSTCASE=2 /AUTODETECT."
        )
    if shape == "long":
        return f"* {plan.title}: long shape.\n{read}\nWEIGHT BY weight.\n"
    return f"""* {plan.title}
* Weighted means by wave as the dashboards compute them (responses without a quality flag).
* For standard errors with areas as clusters use Complex Samples (CSPLAN, CSDESCRIPTIVES).
{read}
SELECT IF flag_exclude = 0.
WEIGHT BY weight.
MEANS TABLES={indices} BY wave_order /CELLS=MEAN COUNT.
"""


def scripts(plan: DatasetPlan, fmt: str, shape: str) -> list[tuple[str, str]]:
    """(bundle member name, text) of every import script."""
    return [
        (NAMES["r"], r_script(plan, fmt, shape)),
        (NAMES["stata"], stata_script(plan, fmt, shape)),
        (NAMES["spss"], spss_script(plan, fmt, shape)),
    ]
