"""A small instrument definition for the XLSForm and page-save tests."""

from __future__ import annotations

from typing import Any

# A small instrument with the types and conditions the core questionnaire does not use.
EXTRA_DEFINITION: dict[str, Any] = {
    "id": "xlsform-demo",
    "version": "0.2.0",
    "title": "XLSForm demo",
    "source_language": "en",
    "licence": {"spdx": "CC-BY-SA-4.0", "url": "https://example.org", "attribution": "Demo."},
    "sources": {"demo": {"citation": "Demo.", "licence": "CC BY-SA 4.0"}},
    "missing_options": {"dont_know": {"code": -1, "label": "Don't know"}},
    "modules": [
        {"id": "core", "label": "Core", "description": "Always.", "optional": False},
        {"id": "extra", "label": "Extra", "description": "Optional.", "optional": True},
    ],
    "sections": [
        {
            "id": "s1",
            "title": "First",
            "module": "core",
            "items": [
                {
                    "id": "places",
                    "type": "multiple_choice",
                    "text": "Which places do you visit?",
                    "options": [{"code": 1, "label": "Park"}, {"code": 2, "label": "Library"}],
                    "missing": ["dont_know"],
                    "source": "demo",
                },
                {
                    "id": "park_visits",
                    "type": "number",
                    "text": "How many times a month?",
                    "min": 0,
                    "show_if": {"item": "places", "in": [1]},
                    "source": "demo",
                },
                {
                    "id": "many",
                    "type": "short_text",
                    "text": "Why so often?",
                    "required": False,
                    "show_if": {"item": "park_visits", "in": [20, 30]},
                    "source": "demo",
                },
            ],
        },
        {
            "id": "s2",
            "title": "Second",
            "module": "extra",
            "items": [
                {
                    "id": "other",
                    "type": "short_text",
                    "text": "Anything else?",
                    "source": "demo",
                },
            ],
        },
    ],
}
