"""``python -m surveyapp.cli``: the ``surveyapp`` command."""

from surveyapp.cli.main import main

if __name__ == "__main__":  # pragma: no cover
    main()
