"""Cleaned index datasets for analysts, their codebook and disclosure-controlled tables.

- :mod:`~surveyapp.exports.dataset`: what a download holds: its scope and variables;
- :mod:`~surveyapp.exports.rows`: its rows, built in chunks so that a large download never
  holds every response in memory;
- :mod:`~surveyapp.exports.formats`: CSV (streamed), Parquet, SPSS ``.sav`` and Stata ``.dta``
  writers, wide and long, and the ZIP bundle with the codebook;
- :mod:`~surveyapp.exports.codebook`: the Frictionless ``datapackage.json`` and the HTML
  codebook;
- :mod:`~surveyapp.exports.aggregates`: index by wave x area x group with primary and
  complementary suppression of small cells;
- :mod:`~surveyapp.exports.initiative_csv`: an initiative's responses as the one CSV that
  ``surveyapp data export`` writes for ``python -m analysis report``;
- :mod:`~surveyapp.exports.web`: the download responses shared by the console and the API
  (role checks and audit).
"""
