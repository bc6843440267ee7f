"""Answers that did not come through the web questionnaire: paper and offline apps."""
