"""Integrations with other tools. Each lives in its own module and imports its tool
lazily, so resultsdb itself never needs them installed::

    from resultsdb.integrations.optuna import ResultsDBCallback   # pip install resultsdb[optuna]
"""
